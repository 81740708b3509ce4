"""A store's first tickets are inserted once, with their facts from the messages (ingest/load.py defers
them; derive.refresh_new), instead of inserted and then updated. The store must be exactly what the
general path (insert, then derive.refresh) makes: every table compared, rejected rows included."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from servicekpi.core.config import Config
from servicekpi.ingest import load
from servicekpi.sample.generate import generate
from servicekpi.store import business
from servicekpi.store import db as store

# timestamps of bookkeeping (when a row was written), not of the data
WHEN = {"imported": ("imported_at",), "sk_spans": ("imported_at",), "quarantine": ("quarantined_at",), "schema_version": ("applied_at",),
        "business_stamp": ("computed_at", "origin")}


def everything(con) -> dict[str, list[tuple]]:
    out = {}
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall():
        cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                          "ORDER BY column_index", [table]).fetchall()
                if c not in WHEN.get(table, ())]
        out[table] = (cols, con.execute(f"SELECT {', '.join(store.quote(c) for c in cols)} FROM {table} "
                                        "ORDER BY ALL").fetchall())
    return out


def append(path, rows: list[dict]) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=header)
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("first") / "data"
    generate(folder, tickets=300, seed=5, fmt="csv", months=2, end=dt.date(2026, 11, 1))
    # extra columns: queue (copied onto replies and waits) and one of the user's own
    with (folder / "tickets.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with (folder / "tickets.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "queue", "Region"])
        w.writeheader()
        w.writerows(dict(r, queue=f"q{i % 3}", Region="north" if i % 2 else "") for i, r in enumerate(rows))
    # rejected rows: a ticket without created_at, a ticket id repeated, a message whose ticket is missing,
    # a message sent before its ticket was created
    with (folder / "tickets.csv").open(newline="", encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    append(folder / "tickets.csv", [{"ticket_id": "TBAD", "channel": "email"}, dict(first)])
    append(folder / "messages.csv", [
        {"message_id": "MX1", "ticket_id": "NOPE", "sent_at": "2026-10-01T10:00:00Z", "author": "customer"},
        {"message_id": "MX2", "ticket_id": first["ticket_id"], "sent_at": "2020-01-01T00:00:00Z",
         "author": "agent", "agent_id": "A1"}])
    return folder


def imported(tmp_path, data, defer: bool, monkeypatch) -> dict:
    monkeypatch.setattr(load, "DEFER_FIRST_TICKETS", defer)
    seen = []
    real = load.derive.refresh_new
    monkeypatch.setattr(load.derive, "refresh_new", lambda *a: (seen.append(1), real(*a)))
    con = store.connect(tmp_path / f"{defer}.duckdb")
    result = load.run(con, data)
    assert result.committed and bool(seen) == defer  # the path under test was taken (or not)
    business.refresh(con, Config().business())  # as `servicekpi import` does next
    got = everything(con), result.summary(), [(f.source, f.imported, f.rejected, f.reasons) for f in result.files]
    con.close()
    return got


def test_a_first_import_stores_what_the_general_path_stores(tmp_path, data, monkeypatch):
    fast = imported(tmp_path, data, True, monkeypatch)
    general = imported(tmp_path, data, False, monkeypatch)
    assert fast == general
    tables, summary, files = fast
    assert "rejected 4 rows" in summary  # TBAD, the repeated ticket, MX1, MX2
    cols, tickets = tables["tickets"]
    facts = [dict(zip(cols, r)) for r in tickets]
    assert len(facts) == 300 and sum(f["has_messages"] for f in facts) > 250  # most generated tickets have messages
    assert tables["replies"][1] and tables["waits"][1]
    assert "queue" in tables["replies"][0] and "Region" in cols


def test_a_first_import_of_tickets_without_messages_matches_too(tmp_path, data, monkeypatch):
    only = tmp_path / "only"
    only.mkdir()
    (only / "tickets.csv").write_bytes((data / "tickets.csv").read_bytes())
    fast = imported(tmp_path, only, True, monkeypatch)
    assert fast == imported(tmp_path, only, False, monkeypatch)
    cols, tickets = fast[0]["tickets"]
    assert not any(dict(zip(cols, r))["has_messages"] for r in tickets)
