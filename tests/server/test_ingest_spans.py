"""API ingest keeps the data's span (store/spans.py) in its transaction: the pooled engines' next
query follows the new range without scanning the data for it, and a batch that only adds rows
widens the span by its own rows without scanning the table either."""
from __future__ import annotations

import datetime as dt

from api_support import ASOF, bearer, fresh  # noqa: F401 - fixture
from test_ingest import post

from servicekpi.store import spans


def months(s) -> list[str]:
    rows = s.client.get("/api/kpis/ticket_volume", params={"as_of": ASOF, "by": "month"},
                        headers=bearer(s.tokens["admin"])).json()
    return [r["period_start"] for r in rows if r["value"] is not None]


def test_a_late_ingest_moves_the_range_of_the_next_query_without_a_scan(fresh, monkeypatch):
    assert months(fresh) == ["2026-10-01", "2026-11-01"]  # the store's tickets: 2026-10-01 .. 11-10
    scanned: list[str] = []
    real = spans.scan
    monkeypatch.setattr(spans, "scan", lambda con, name, asof=None: scanned.append((name, asof)) or real(con, name, asof))
    late = [{"ticket_id": "L1", "created_at": "2026-08-14T22:30:00Z", "channel": "email"}]
    assert post(fresh, "tickets", late).status_code == 200
    assert scanned == []  # the write only added a row: the kept span widened by it, no table scan
    # L1 at 22:30 UTC is 2026-08-15 01:30 in Bucharest (UTC+3): August is the first month, September empty
    assert months(fresh) == ["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"]
    assert scanned == []  # the pooled engine read the kept span
    kept = fresh.app.state.sk.write(lambda cur: spans.kept(cur, ["tickets"], dt.datetime(2027, 1, 1)))
    # first: L1's creation; last: T5's creation 2026-11-10 07:30 (no resolution after it)
    assert kept == {"tickets": (dt.datetime(2026, 8, 14, 22, 30), dt.datetime(2026, 11, 10, 7, 30))}


def test_an_ingest_that_replaces_the_last_record_rescans(fresh):
    # T5 (created 2026-11-10 07:30, the last instant) moved back to 2026-10-03: the last instant is
    # now T4's resolution, 2026-11-03 17:00 (T4 created 16:00, resolved 17:00)
    moved = [{"ticket_id": "T5", "created_at": "2026-10-03T07:30:00Z", "channel": "email", "agent_id": "a1",
              "customer_id": "C2", "customer_tier": "enterprise", "category": "shipping", "team": "red"}]
    r = post(fresh, "tickets", moved)
    assert r.status_code == 200 and r.json()["replaced"] == 1, r.text
    kept = fresh.app.state.sk.write(lambda cur: spans.kept(cur, ["tickets"], dt.datetime(2027, 1, 1)))
    assert kept == {"tickets": (dt.datetime(2026, 10, 1, 9), dt.datetime(2026, 11, 3, 17))}
