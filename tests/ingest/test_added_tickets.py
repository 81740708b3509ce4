"""An import into a store that holds messages holds the tickets it adds back and inserts them once
with their facts, derived from its own messages (ingest/load.py, derive.refresh_added); only the
stored tickets it touches are read back from the store (issue 17: the incremental import read every
stored message). The store must be exactly what the general path (insert, then recompute every
touched ticket from the stored messages) makes: every table compared, business seconds included."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from tests.ingest.test_first_import import append, everything

from servicekpi.core.config import Config
from servicekpi.ingest import load
from servicekpi.sample.months import generate_month
from servicekpi.store import business, derive
from servicekpi.store import db as store

END = dt.date(2026, 11, 1)  # months 2026-09 and 2026-10
N = 300


def rows(path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def rewrite(path, data: list[dict], extra: dict | None = None) -> None:
    fields = [*data[0], *(extra or {})]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(dict(r, **{k: v(i) for k, v in (extra or {}).items()}) for i, r in enumerate(data))


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    """Three imports: September (tickets with a queue column), October (without it), and a late
    one into September: a changed ticket, a new one, and messages for old tickets."""
    root = tmp_path_factory.mktemp("added")
    for k in (0, 1):
        generate_month(root / f"m{k}", k, tickets=N, seed=5, fmt="csv", months=2, end=END)
    sept = rows(root / "m0" / "tickets.csv")
    rewrite(root / "m0" / "tickets.csv", sept, {"queue": lambda i: f"q{i % 3}"})
    oct_messages = rows(root / "m1" / "messages.csv")
    # rejected rows in October: a message whose ticket is missing, one sent before its ticket
    append(root / "m1" / "messages.csv", [
        {"message_id": "MX1", "ticket_id": "NOPE", "sent_at": "2026-10-05T10:00:00Z", "author": "customer"},
        {"message_id": "MX2", "ticket_id": sept[0]["ticket_id"], "sent_at": "2020-01-01T00:00:00Z",
         "author": "agent", "agent_id": "A1"}])
    late = root / "late"
    late.mkdir()
    messages = rows(root / "m0" / "messages.csv")
    old = messages[0]["ticket_id"]                  # a September ticket with messages
    moved = next(m for m in messages if m["ticket_id"] not in (old, sept[1]["ticket_id"]))
    changed = dict(sept[1], channel="social")       # a stored ticket replaced
    fresh = dict(sept[2], ticket_id="TLATE", created_at="2026-09-20T08:00:00+00:00", first_response_at="",
                 resolved_at="2026-09-21T08:00:00+00:00", escalated_at="")
    rewrite(late / "tickets.csv", [changed, fresh])
    rewrite(late / "messages.csv", [
        # a late customer message and an agent's reply into an old ticket (a new wait and reply)
        dict(messages[0], message_id="ML1", author="customer", agent_id="", sent_at="2026-10-30T09:00:00+00:00"),
        dict(messages[0], message_id="ML2", author="agent", agent_id="A9", sent_at="2026-10-30T09:30:00+00:00"),
        # a stored message moved to the new ticket (its old ticket loses it)
        dict(moved, ticket_id="TLATE", sent_at="2026-09-20T08:05:00+00:00"),
        # the new ticket's own message, and a message for an October ticket
        dict(messages[0], message_id="ML3", ticket_id="TLATE", author="agent", agent_id="A2",
             sent_at="2026-09-20T08:10:00+00:00"),
        dict(oct_messages[0], message_id="ML4", author="customer", agent_id="",
             sent_at="2026-10-31T23:00:00+00:00")])
    return root, [root / "m0", root / "m1", late], old, moved


def imported(tmp_path, chunks, added: bool, monkeypatch) -> tuple:
    """The three imports with the path on or off: (every table, per import (summary, files,
    stored tickets recomputed))."""
    root, folders, _, _ = chunks
    monkeypatch.setattr(load, "DEFER_NEW_TICKETS", added)
    seen = []
    real = load.derive.refresh_added
    monkeypatch.setattr(load.derive, "refresh_added", lambda *a: (seen.append(1), real(*a))[1])
    con = store.connect(tmp_path / f"{added}.duckdb")
    results = []
    for folder in folders:
        result = load.run(con, folder)
        assert result.committed
        business.refresh(con, Config().business())  # as `servicekpi import` does next
        results.append((result.summary(), [(f.source, f.imported, f.replaced, f.rejected) for f in result.files],
                        result.recomputed))
    assert len(seen) == (2 if added else 0)  # the path under test was taken (or not) after the first import
    got = everything(con)
    # every derived fact recomputed from the stored messages (business seconds aside: refilled later)
    facts = {t: ", ".join(store.quote(c) for c in got[t][0] if not c.startswith("__b_"))
             for t in ("replies", "waits", "tickets")}
    kept = {t: con.execute(f"SELECT {c} FROM {t} ORDER BY ALL").fetchall() for t, c in facts.items()}
    con.execute("BEGIN")
    derive.refresh(con, derive.ALL)
    assert kept == {t: con.execute(f"SELECT {c} FROM {t} ORDER BY ALL").fetchall() for t, c in facts.items()}
    con.execute("ROLLBACK")
    con.close()
    return got, results


@pytest.fixture(scope="module")
def both(tmp_path_factory, chunks):
    with pytest.MonkeyPatch.context() as mp:
        fast = imported(tmp_path_factory.mktemp("fast"), chunks, True, mp)
    with pytest.MonkeyPatch.context() as mp:
        general = imported(tmp_path_factory.mktemp("general"), chunks, False, mp)
    return fast, general


def test_imports_into_a_store_with_messages_store_what_the_general_path_stores(chunks, both):
    (fast, fast_results), (general, general_results) = both
    assert fast == general
    assert [r[:2] for r in fast_results] == [r[:2] for r in general_results]
    _, _, old, moved = chunks
    cols, tickets = fast["tickets"]
    by_id = {r[cols.index("ticket_id")]: dict(zip(cols, r)) for r in tickets}
    # the scenario moved things: TLATE has the moved message and ML3 (an agent's, after the first): 1 reply
    assert (by_id["TLATE"]["msg_all"], by_id["TLATE"]["msg_agent_replies"]) == (2, 1)
    assert by_id["TLATE"]["queue"] is None and by_id[old]["queue"] is not None  # the late file has no queue
    # ML1 (customer) then ML2 (agent) on the old ticket: a wait ending at ML2's reply
    waits = [dict(zip(fast["waits"][0], r)) for r in fast["waits"][1]]
    assert any(w["ticket_id"] == old and w["start_at"] == dt.datetime(2026, 10, 30, 9)
               and w["replied_at"] == dt.datetime(2026, 10, 30, 9, 30) for w in waits)
    assert "rejected 2 rows" in fast_results[1][0]  # MX1, MX2
    # TLATE and ML1-ML4 added; the changed ticket and the moved message replaced
    assert "imported 5, replaced 2" in fast_results[2][0]
    # business seconds were stored for every ticket (none left NULL)
    assert all(t["__b_created_at"] is not None for t in by_id.values())


def test_an_import_of_new_tickets_recomputes_no_stored_ticket(both):
    """What the derived facts read back from the store: the general path recomputes every ticket
    it touched from the stored messages, new ones included; this one only the stored tickets."""
    (_, fast), (_, general) = both
    october = general[1][1]
    new_tickets = next(f[1] for f in october if f[0].endswith("tickets.csv"))
    assert new_tickets > 100  # October's tickets, all new
    # October: no stored ticket touched (MX2, its one message for a September ticket, is rejected)
    assert fast[1][2] == 0
    assert general[1][2] == new_tickets  # every ticket it inserted, read back after the insert
    # the late import: the changed ticket, the old ticket of ML1-ML2, the ticket the moved message
    # left, and the October ticket of ML4 -- 4 stored tickets; TLATE is added, not recomputed
    assert fast[2][2] == 4
    assert general[2][2] == 5
