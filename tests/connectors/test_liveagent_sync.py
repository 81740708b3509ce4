"""`servicekpi sync liveagent` against a local stub of LiveAgent API v3 (127.0.0.1 only).

The stub serves tests/connectors/data/liveagent through GET /agents, GET /tickets (_filters
[["date_changed","D>=",...]], _sortField, _sortDir, _page, _perPage) and GET /tickets/{id}/messages,
checks the apikey header, and answers the first /tickets request with a 429 and Retry-After: 3.
GET /calls (_filters [["dateCreated",">=",...]], _perPage, _cursor; the reference's default order,
dateFinished ascending, calls not finished last) pages by an opaque cursor sent in the
next_page_cursor response header, left out on the last page (keboola/component-liveagent src/liveagent/client.py reads that header; the vendor's
generated client names _cursor and returns a bare list[CallListItem], so the cursor is not in the
body). Pages hold 2 records (liveagent_sync.PAGE patched), so _page and _cursor are followed.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
import pytest
from vendor_stub import Reply, Stub

from conftest import run, said
from servicekpi.connectors import liveagent_sync, vendor_http

DATA = Path(__file__).parent / "data" / "liveagent"
KEY = "la-key-0a1b2c3d-SECRET"
ENV = "LIVEAGENT_SYNC_TEST_KEY"
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")


class LiveAgent:
    def __init__(self):
        self.tickets = [t for p in json.loads((DATA / "tickets.json").read_text()) for t in p]
        self.groups = json.loads((DATA / "messages.json").read_text())
        self.agents = json.loads((DATA / "agents.json").read_text())
        self.calls = json.loads((DATA / "calls.json").read_text())
        self.stub = Stub(self.route, "apikey", KEY)

    @staticmethod
    def page(items: list, q: dict) -> list:
        size, page = int(q["_perPage"]), int(q["_page"])
        return items[(page - 1) * size:page * size]

    def calls_page(self, q: dict) -> Reply:
        [[column, op, low]] = json.loads(q["_filters"])
        assert (column, op) == ("dateCreated", ">=") and "_sortField" not in q
        found = sorted((c for c in self.calls if c["dateCreated"] >= low),
                       key=lambda c: (c["dateFinished"] is None, c["dateFinished"] or "", c["id"]))
        start = int(base64.b64decode(q["_cursor"])) if "_cursor" in q else 0
        size = int(q["_perPage"])
        more = start + size < len(found)
        return Reply(found[start:start + size],
                     {"next_page_cursor": base64.b64encode(str(start + size).encode()).decode()} if more else {})

    def route(self, method, path, q, body):
        if path == "/agents":
            return self.page(self.agents, q)
        if path == "/tickets":
            [[column, op, low]] = json.loads(q["_filters"])
            assert (column, op, q["_sortField"], q["_sortDir"]) == ("date_changed", "D>=", "date_changed", "ASC")
            found = sorted((t for t in self.tickets if t["date_changed"] >= low), key=lambda t: t["date_changed"])
            return self.page(found, q)
        if path == "/calls":
            return self.calls_page(q)
        parts = path.strip("/").split("/")
        if parts[0] == "tickets" and parts[-1] == "messages":
            return self.page(self.groups.get(parts[1], []), q)
        return None


@pytest.fixture
def la(monkeypatch):
    api = LiveAgent()
    waits: list[float] = []
    monkeypatch.setattr(vendor_http, "sleep", waits.append)
    monkeypatch.setattr(liveagent_sync, "PAGE", 2)
    monkeypatch.setenv(ENV, KEY)
    api.waits = waits
    yield api
    api.stub.close()


def sync(ws, api, *extra):
    return run(ws, "sync", "liveagent", "--domain", "acme", "--token-env", ENV, "--base-url", api.stub.url, *extra)


def stored(ws, sql: str):
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_first_sync(ws, la):
    la.stub.faults["/tickets"] = [(429, {"Retry-After": "3"})]
    r = sync(ws, la)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    assert la.waits == [3.0]
    pages = [q["_page"] for m, p, q, _ in la.stub.log if p == "/tickets"]
    # the 429, then 6 tickets in pages of 2; page 3 is full, so page 4 is asked (empty: the end)
    assert pages == ["1", "1", "2", "3", "4"]
    # the same figures as the file import (test_liveagent): FRT (40 + 2 + 1) / 3, resolved 2 of 3
    assert ws.value("first_response_time", *MARCH) == pytest.approx(43 / 3)
    assert ws.value("resolution_rate", *MARCH) == pytest.approx(200 / 3)
    assert KEY not in r.stdout + r.stderr
    state = dict(stored(ws, "SELECT stream, cursor FROM sync_state WHERE source = 'liveagent' AND account = 'acme'"))
    assert state["tickets"] == "2026-03-04 10:00:00"  # the largest date_changed (b5)


def calls_asked(api, since: int = 0) -> list:
    return [(json.loads(q["_filters"])[0][2], q.get("_cursor")) for m, p, q, _ in api.stub.log[since:]
            if p == "/calls"]


def test_calls_follow_the_next_page_cursor_header(ws, la):
    r = sync(ws, la)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    # 5 calls sorted by dateCreated, pages of 2: no _cursor, then the header's "2" and "4" (base64)
    assert calls_asked(la) == [("1970-01-01 00:00:00", None), ("1970-01-01 00:00:00", "Mg=="),
                               ("1970-01-01 00:00:00", "NA==")]
    # the same figures as the file import (test_liveagent.test_calls): call1 and call4 answered of
    # call1, call2, call4 (call3 outgoing left out, call5 quarantined); talk (300 + 240) / 2
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(200 / 3)
    assert ws.value("aht", *MARCH) == pytest.approx(270.0)
    bad = [(x["line"], x["column"]) for x in ws.quarantine() if "/calls" in x["source"]]
    assert bad == [(1, "entered_at")]  # call5 ('yesterday'), item 1 of page 3
    state = dict(stored(ws, "SELECT stream, cursor FROM sync_state WHERE source = 'liveagent' AND account = 'acme'"))
    assert state["calls"] == "2026-03-05 10:00:00"  # the largest well-formed dateCreated (call4)
    assert said(r.stdout, "3 call page(s), 5 call(s)")  # call3 (outgoing) and call5 counted as received


def test_calls_not_finished_come_again(ws, la):
    assert sync(ws, la).exit_code == 0
    base = {"ticketId": None, "type": "I", "fromNumber": "+40700000002", "fromName": None, "toNumber": "+40310000000",
            "toName": "Support", "viaNumber": "+40310000000", "callDuration": None}
    la.calls += [{**base, "id": "call6", "dateCreated": "2026-03-05 11:00:00", "dateAnswered": "2026-03-05 11:00:20",
                  "dateFinished": None},
                 {**base, "id": "call7", "dateCreated": "2026-03-05 12:00:00", "dateAnswered": "2026-03-05 12:00:05",
                  "dateFinished": "2026-03-05 12:02:05"}]
    n = len(la.stub.log)
    r = sync(ws, la)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert calls_asked(la, n)[0] == ("2026-03-05 10:00:00", None)  # from the stored calls cursor
    assert said(r.stderr, "1 call(s) not finished yet")
    state = dict(stored(ws, "SELECT stream, cursor FROM sync_state WHERE source = 'liveagent' AND account = 'acme'"))
    assert state["calls"] == "2026-03-05 11:00:00"  # held at call6, not call7's 12:00
    # call6 not stored yet: answered call1, call4, call7 of call1, call2, call4, call7 = 3/4; AHT (300 + 240 + 120) / 3
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(75.0)
    assert ws.value("aht", *MARCH) == pytest.approx(220.0)
    la.calls[5]["dateFinished"] = "2026-03-05 11:05:20"  # call6 ends: 300 s of talk
    n = len(la.stub.log)
    r = sync(ws, la)
    assert r.exit_code == 0 and calls_asked(la, n)[0] == ("2026-03-05 11:00:00", None)
    # 4 of 5 answered; AHT (300 + 240 + 300 + 120) / 4 = 240
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(80.0)
    assert ws.value("aht", *MARCH) == pytest.approx(240.0)
    state = dict(stored(ws, "SELECT stream, cursor FROM sync_state WHERE source = 'liveagent' AND account = 'acme'"))
    assert state["calls"] == "2026-03-05 12:00:00"


def test_a_run_cut_short_keeps_its_pages_and_asks_again_from_the_old_cursor(ws, la):
    # page 1 of /calls is answered, page 2 fails 6 times (5 retries): the sync stops with exit 1
    la.stub.faults["/calls"] = [None] + [(500, {})] * 6
    r = sync(ws, la)
    assert r.exit_code == 1 and said(r.stderr, "GET /calls: HTTP 500; gave up after 6 attempts")
    # page 1 (call1 answered, call2 abandoned) is stored; the cursor has not moved past calls not read
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(50.0)
    state = dict(stored(ws, "SELECT stream, cursor FROM sync_state WHERE source = 'liveagent' AND account = 'acme'"))
    assert state["calls"] == "1970-01-01 00:00:00"
    n = len(la.stub.log)
    r = sync(ws, la)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert calls_asked(la, n)[0] == ("1970-01-01 00:00:00", None)
    # all of them now, as in test_calls_follow_the_next_page_cursor_header: 2 of 3 answered
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(200 / 3)
    state = dict(stored(ws, "SELECT stream, cursor FROM sync_state WHERE source = 'liveagent' AND account = 'acme'"))
    assert state["calls"] == "2026-03-05 10:00:00"


def test_a_repeated_call_cursor_stops_the_sync(ws, la):
    la.calls_page = lambda q: Reply(la.calls[:2], {"next_page_cursor": "same"})
    r = sync(ws, la)
    assert r.exit_code == 1 and said(r.stderr, "next_page_cursor header repeats the cursor")
    # the first two pages were stored before the stop (call1 answered, call2 abandoned)
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(50.0)


def test_incremental_sync(ws, la):
    assert sync(ws, la).exit_code == 0
    n = len(la.stub.log)
    k2 = next(t for t in la.tickets if t["id"] == "k2")
    k2.update(status="R", date_resolved="2026-03-06 09:00:00", date_changed="2026-03-06 09:00:00")
    r = sync(ws, la)
    assert r.exit_code == 0, r.stdout + r.stderr
    asked = [(json.loads(q["_filters"])[0][2], q["_page"]) for m, p, q, _ in la.stub.log[n:] if p == "/tickets"]
    # from the stored cursor: b5 and k2 fill page 1, page 2 is empty
    assert asked == [("2026-03-04 10:00:00", "1"), ("2026-03-04 10:00:00", "2")]
    # resolved: fp80688h 3 h, p3 1/6 h, k2 03-03 10:00 -> 03-06 09:00 = 71 h -> (3 + 1/6 + 71) / 3
    assert ws.value("avg_resolution_time", *MARCH) == pytest.approx((3 + 1 / 6 + 71) / 3)
    assert ws.value("resolution_rate", *MARCH) == pytest.approx(100.0)
    assert said(r.stdout, "imported 0, replaced 1,")  # k2; its messages unchanged, b5 quarantined again


def test_resync_is_idempotent(ws, la):
    assert sync(ws, la).exit_code == 0
    count = ("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages), (SELECT count(*) FROM calls), "
             "(SELECT count(*) FROM quarantine)")
    before = stored(ws, count)
    r = sync(ws, la, "--since", "2026-01-01")
    assert r.exit_code == 0 and said(r.stdout, "imported 0, replaced 0")
    assert stored(ws, count) == before


def test_refused_key(ws, la, monkeypatch):
    monkeypatch.setenv(ENV, "wrong-SECRET9")
    r = sync(ws, la)
    assert r.exit_code == 1 and said(r.stderr, "LiveAgent refused the credential")
    assert "SECRET9" not in r.stdout + r.stderr


def test_agent_aliases_apply_to_the_synced_rows(ws, la):
    # the workspace's [agents] (issue 15 item 3) in the sync as in the file import: a1 -> alice
    (ws.root / "servicekpi.toml").write_text('[agents]\n[agents.aliases]\n"a1" = "alice"\n')
    assert sync(ws, la).exit_code == 0
    ids = stored(ws, "SELECT DISTINCT agent_id FROM messages WHERE agent_id IS NOT NULL ORDER BY 1")
    assert ids == [("a2",), ("alice",)]
