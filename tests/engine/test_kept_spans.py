"""The data's span (first and last record per table, which ranges follow) is kept in the store by
every write, so a query reads it without scanning the data (issue 17: a rollup-answered query at
10M tickets spent 131 of its 149 ms scanning for it). Exact: each write below must refresh it."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import Workspace, from_template
from servicekpi.engine.query import Engine
from servicekpi.store import db as store
from servicekpi.store import spans

NOW = dt.datetime(2026, 12, 1)  # after every record: the kept spans hold
T = dt.datetime

TICKETS = [
    {"ticket_id": "T1", "created_at": "2021-03-05T10:00:00Z", "channel": "email",
     "resolved_at": "2021-03-06T09:00:00Z", "customer_id": "C1"},
    # the last instant of tickets is this resolution, after the last creation (T3, 05-10)
    {"ticket_id": "T2", "created_at": "2021-03-20T10:00:00Z", "channel": "email",
     "resolved_at": "2021-06-01T12:00:00Z", "customer_id": "C2"},
    {"ticket_id": "T3", "created_at": "2021-05-10T10:00:00Z", "channel": "chat", "customer_id": "C1"},
]
CUSTOMERS = [{"customer_id": "C1", "acquired_at": "2020-01-01T00:00:00Z"},
             {"customer_id": "C2", "acquired_at": "2020-02-01T00:00:00Z", "churned_at": "2021-07-01T00:00:00Z"}]


def _build(ws: Workspace) -> None:
    ws.write("tickets", TICKETS)
    ws.write("customers", CUSTOMERS)
    ws.load()


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return from_template(tmp_path, "kept-spans-2021", _build)


@pytest.fixture
def scans(monkeypatch) -> list[str]:
    """The tables a query scanned for their span (none when the kept ones hold)."""
    seen: list[str] = []
    real = spans.scan

    def counted(con, name, asof=None):
        seen.append(name)
        return real(con, name, asof)
    monkeypatch.setattr(spans, "scan", counted)
    return seen


def read(ws: Workspace, tables=("tickets", "customers"), asof=NOW) -> dict:
    con = store.connect(ws.db, read_only=True)
    try:
        return Engine(con).spans(tables, asof)
    finally:
        con.close()


def test_an_import_keeps_the_spans_and_a_query_reads_them_without_a_scan(ws, scans):
    got = read(ws)
    # tickets: first creation T1 03-05 10:00; last of created/resolved: T2's resolution 06-01 12:00
    # customers: first acquisition 2020-01-01; last of acquisitions and churns: C2's churn 2021-07-01
    assert got == {"tickets": (T(2021, 3, 5, 10), T(2021, 6, 1, 12)),
                   "customers": (T(2020, 1, 1), T(2021, 7, 1))}
    assert scans == []


def test_an_as_of_before_the_last_record_scans_up_to_it(ws, scans):
    # as of 2021-05-01: tickets created T1, T2 (03-05, 03-20), resolved T1 03-06 -> last is 03-20 10:00
    got = read(ws, ("tickets",), T(2021, 5, 1))
    assert got == {"tickets": (T(2021, 3, 5, 10), T(2021, 3, 20, 10))}
    assert scans == ["tickets"]


def test_a_late_import_into_an_old_day_moves_the_first_record(ws, scans):
    ws.write("tickets", [{"ticket_id": "T0", "created_at": "2021-01-02T08:00:00Z", "channel": "email"}])
    ws.load()
    scans.clear()
    # T0 is now the first ticket; the last stays T2's resolution
    assert read(ws, ("tickets",)) == {"tickets": (T(2021, 1, 2, 8), T(2021, 6, 1, 12))}
    assert scans == []
    # and the query's range follows: January 2021 is the first month
    assert ws.kpi("ticket_volume", "--by", "month", asof="2026-12-01T00:00:00Z")[0]["period_start"] == "2021-01-01"


def test_one_import_that_adds_then_replaces_rescans(ws, scans):
    """Two batches in one transaction: the first only adds (the span widens), the second replaces
    T2, whose resolution was the last instant: the widened span must not be kept as current."""
    import pyarrow as pa

    from servicekpi.ingest import load
    con = store.connect(ws.db)
    add = load.Batch("tickets", "a", pa.table({"ticket_id": ["T9"], "created_at": ["2021-04-01T00:00:00Z"],
                                               "channel": ["email"]}), [1])
    replace = load.Batch("tickets", "b", pa.table({"ticket_id": ["T2"], "created_at": ["2021-03-20T10:00:00Z"],
                                                   "channel": ["email"], "customer_id": ["C2"]}), [1])
    result = load.run_batches(con, [add, replace])
    assert result.committed and result.total("replaced") == 1
    con.close()
    scans.clear()
    # T2 no longer resolved: last of creations (T3 05-10 10:00) and resolutions (T1 03-06 09:00)
    assert read(ws, ("tickets",)) == {"tickets": (T(2021, 3, 5, 10), T(2021, 5, 10, 10))}
    assert scans == []


def test_a_reimport_that_pulls_the_last_record_back_shrinks_the_span(ws, scans):
    # T2 resolved on 04-01 instead of 06-01: the last instant is T3's creation, 05-10 10:00
    ws.write("tickets", [dict(TICKETS[1], resolved_at="2021-04-01T00:00:00Z")])
    ws.load()
    scans.clear()
    assert read(ws, ("tickets",)) == {"tickets": (T(2021, 3, 5, 10), T(2021, 5, 10, 10))}
    assert scans == []


def test_an_erase_refreshes_the_spans(ws, scans):
    r = ws.cli("erase", "--customer", "C2")
    assert r.exit_code == 0, r.stdout + r.stderr
    scans.clear()
    # without T2 (C2's ticket): T1 03-05 10:00 .. T3 05-10 10:00; without C2: C1 2020-01-01 only
    assert read(ws) == {"tickets": (T(2021, 3, 5, 10), T(2021, 5, 10, 10)),
                        "customers": (T(2020, 1, 1), T(2020, 1, 1))}
    assert scans == []
    rows = ws.kpi("ticket_volume", "--by", "month", asof="2026-12-01T00:00:00Z")
    assert [r["period_start"] for r in rows] == ["2021-03-01", "2021-04-01", "2021-05-01"]


def test_a_new_table_imported_gets_its_span(ws, scans):
    ws.write("calls", [{"call_id": "K1", "entered_at": "2021-04-01T09:00:00Z", "answered_at": "2021-04-01T09:01:00Z",
                        "ended_at": "2021-04-01T09:10:00Z"}])
    ws.load()
    scans.clear()
    # one call: entered 09:00, last of entered/answered/ended is the end, 09:10
    assert read(ws, ("calls",)) == {"calls": (T(2021, 4, 1, 9), T(2021, 4, 1, 9, 10))}
    assert scans == []


def test_a_span_stamped_before_a_later_import_is_not_trusted(ws, scans):
    """A write by a version that kept no spans: its import stamp differs from the kept one's."""
    con = store.connect(ws.db)
    con.execute("INSERT INTO tickets (ticket_id, created_at, channel) VALUES ('X', '2019-01-01', 'email')")
    con.execute("UPDATE imported SET imported_at = imported_at + INTERVAL 1 SECOND WHERE table_name = 'tickets'")
    con.close()
    assert read(ws, ("tickets",)) == {"tickets": (T(2019, 1, 1), T(2021, 6, 1, 12))}
    assert scans == ["tickets"]


def test_enabling_a_rollup_keeps_the_spans_of_a_store_that_has_none(ws, scans, monkeypatch):
    from servicekpi.engine import rollups
    monkeypatch.setattr(rollups, "refresh", lambda engine: {})  # the rollup's days are not the point here
    con = store.connect(ws.db)
    con.execute("DROP TABLE sk_spans")  # a store written before spans were kept
    rollups.enable(Engine(con), ["channel"])
    con.close()
    scans.clear()
    assert read(ws) == {"tickets": (T(2021, 3, 5, 10), T(2021, 6, 1, 12)),
                        "customers": (T(2020, 1, 1), T(2021, 7, 1))}
    assert scans == []


def test_texts_classified_and_erased_keep_the_sentiment_span(ws, scans):
    ws.write("feedback", [
        {"feedback_id": "F1", "received_at": "2021-04-01T10:00:00Z", "text": "Great help, thanks", "customer_id": "C1"},
        {"feedback_id": "F2", "received_at": "2021-08-01T10:00:00Z", "text": "Slow and rude", "customer_id": "C2"}])
    ws.load()
    scans.clear()
    # text_sentiment is placed at each text's received_at: F1 04-01 10:00 .. F2 08-01 10:00
    assert read(ws, ("text_sentiment",)) == {"text_sentiment": (T(2021, 4, 1, 10), T(2021, 8, 1, 10))}
    r = ws.cli("erase", "--customer", "C2")
    assert r.exit_code == 0, r.stdout + r.stderr
    scans.clear()
    # F2 and its verdict are gone: F1 alone
    assert read(ws, ("text_sentiment",)) == {"text_sentiment": (T(2021, 4, 1, 10), T(2021, 4, 1, 10))}
    assert scans == []


def test_a_query_reads_the_rollups_state_once_not_per_group(ws, monkeypatch):
    """The rollup-answered query's fixed cost: the enabled rollups and the journal are read once a
    query (they were read for every batch group, a few ms each)."""
    from servicekpi.engine import rollups
    con = store.connect(ws.db)
    monkeypatch.setattr(rollups, "refresh", lambda engine: {})
    rollups.enable(Engine(con), ["channel"])
    reads: list[int] = []
    real = rollups.enabled
    monkeypatch.setattr(rollups, "enabled", lambda c: reads.append(1) or real(c))
    from servicekpi.engine.query import Query
    e = Engine(con)
    e.evaluate(Query(kpis=["ticket_volume", "avg_resolution_time"], by="month", asof=NOW))
    assert len(e.sql) == 2 and len(reads) == 1  # two batch groups (by creation, by resolution), one read
    e.evaluate(Query(kpis=["ticket_volume"], by="month", asof=NOW))
    assert len(reads) == 2  # the next query reads it again (rollups may be enabled or refreshed meanwhile)
    con.close()


def test_erasing_a_ticket_with_messages_and_replies(ws, scans):
    # the erase removes rows of replies too (derived: no span of their own)
    ws.write("messages", [
        {"message_id": "M1", "ticket_id": "T1", "sent_at": "2021-03-05T10:30:00Z", "author": "customer"},
        {"message_id": "M2", "ticket_id": "T1", "sent_at": "2021-03-05T11:00:00Z", "author": "agent", "agent_id": "a1"},
        {"message_id": "M3", "ticket_id": "T3", "sent_at": "2021-05-10T12:00:00Z", "author": "agent", "agent_id": "a1"}])
    ws.load()
    r = ws.cli("erase", "--ticket", "T1")
    assert r.exit_code == 0, r.stdout + r.stderr
    scans.clear()
    # left: T2 (03-20 10:00, resolved 06-01 12:00), T3 (05-10 10:00); M3 alone (05-10 12:00)
    assert read(ws, ("tickets", "messages")) == {"tickets": (T(2021, 3, 20, 10), T(2021, 6, 1, 12)),
                                                 "messages": (T(2021, 5, 10, 12), T(2021, 5, 10, 12))}
    assert scans == []
