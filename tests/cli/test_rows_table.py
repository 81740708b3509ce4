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


def test_the_records_table_names_categories_and_channels_as_the_reports_do(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "channel": "email",
                          "category": "technical", "team": "tier_two"}])
    (ws.root / "servicekpi.toml").write_text('[labels.team]\ntier_two = "Second line"\n', encoding="utf-8")
    ws.load()
    args = ("rows", "ticket_volume", "--from", "2026-10-01", "--to", "2026-10-31", "--as-of", ASOF)
    table = ws.cli(*args)
    assert table.exit_code == 0, table.stderr
    # the table shows labels (core/display.label: the known category name, the config's team name)
    assert "Technical issue" in table.stdout and "Email" in table.stdout and "Second line" in table.stdout
    assert "technical" not in table.stdout and "tier_two" not in table.stdout
    # json keeps the ids (a contract)
    record = json.loads(ws.cli(*args, "--format", "json").stdout)[0]
    assert (record["category"], record["channel"], record["team"]) == ("technical", "email", "tier_two")
