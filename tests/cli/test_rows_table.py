"""`servicekpi rows` as a table shows the few columns that explain the number; json and csv show all
(issue 13 item 3)."""
from __future__ import annotations

import json

from conftest import ASOF


def test_the_records_table_picks_the_columns_that_matter(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "channel": "email", "team": "red",
                          "agent_id": "a1", "customer_id": "C1", "category": "billing",
                          "customer_tier": "gold", "first_response_at": "2026-10-01T09:30:00Z",
                          "resolved_at": "2026-10-01T11:00:00Z", "agent_replies": 1}])
    ws.load()
    args = ("rows", "sla_first_response_met", "--from", "2026-10-01", "--to", "2026-10-31", "--as-of", ASOF)
    everything = json.loads(ws.cli(*args, "--format", "json").stdout)[0]
    assert len(everything) > 8
    table = ws.cli(*args)
    assert table.exit_code == 0
    header = table.stdout.splitlines()[1]
    # the key, the period, the attribution time, whether it counts in the numerator, the SLA outcome it
    # computed, then context; at most 8
    shown = [c.strip() for c in header.strip("┃ ").split("┃")]
    # under readable labels (catalog texts.toml [column.*]); json and csv keep the ids
    assert shown[:6] == ["Ticket", "Period", "Created", "In numerator", "SLA rule", "SLA outcome"]
    assert list(everything)[:2] == ["ticket_id", "created_at"] and "in_numerator" in everything
    csv_head = ws.cli(*args, "--format", "csv").stdout.splitlines()[0]
    assert csv_head.split(",") == list(everything)
    assert len(shown) == 8
    assert f"{len(everything) - 8} more column(s) not shown: --format json or csv lists them all" in table.stderr
    assert "ticke…" not in table.stdout
