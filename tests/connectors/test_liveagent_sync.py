"""`servicekpi sync liveagent` against a local stub of LiveAgent API v3 (127.0.0.1 only).

The stub serves tests/connectors/data/liveagent through GET /agents, GET /tickets (_filters
[["date_changed","D>=",...]], _sortField, _sortDir, _page, _perPage) and GET /tickets/{id}/messages,
checks the apikey header, and answers the first /tickets request with a 429 and Retry-After: 3.
Pages hold 2 records (liveagent_sync.PAGE patched), so _page is followed.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from vendor_stub import Stub

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
        self.stub = Stub(self.route, "apikey", KEY)

    @staticmethod
    def page(items: list, q: dict) -> list:
        size, page = int(q["_perPage"]), int(q["_page"])
        return items[(page - 1) * size:page * size]

    def route(self, method, path, q, body):
        if path == "/agents":
            return self.page(self.agents, q)
        if path == "/tickets":
            [[column, op, low]] = json.loads(q["_filters"])
            assert (column, op, q["_sortField"], q["_sortDir"]) == ("date_changed", "D>=", "date_changed", "ASC")
            found = sorted((t for t in self.tickets if t["date_changed"] >= low), key=lambda t: t["date_changed"])
            return self.page(found, q)
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
    count = "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages), (SELECT count(*) FROM quarantine)"
    before = stored(ws, count)
    r = sync(ws, la, "--since", "2026-01-01")
    assert r.exit_code == 0 and said(r.stdout, "imported 0, replaced 0")
    assert stored(ws, count) == before


def test_refused_key(ws, la, monkeypatch):
    monkeypatch.setenv(ENV, "wrong-SECRET9")
    r = sync(ws, la)
    assert r.exit_code == 1 and said(r.stderr, "LiveAgent refused the credential")
    assert "SECRET9" not in r.stdout + r.stderr
