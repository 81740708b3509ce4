"""The server's result cache: every write invalidates it, and an agent's answer never serves another token."""
from __future__ import annotations

import threading

from api_support import ASOF, bearer, fresh  # noqa: F401 - fixture

from servicekpi.server.cache import ResultCache

Q = {"by": "month", "dim": "channel", "from": "2026-11-01", "to": "2026-11-30", "as_of": ASOF}


def get(s, role, params=Q, path="/api/kpis/ticket_volume"):
    r = s.client.get(path, params=params, headers=bearer(s.tokens[role]))
    assert r.status_code == 200, r.text
    return r.json()


def by_channel(rows) -> dict:
    return {r["channel"]: r["value"] for r in rows if r["value"]}


def test_a_cached_answer_is_served_until_a_write(fresh):
    cache = fresh.app.state.sk.results
    # November: T4 phone, T5 email
    assert by_channel(get(fresh, "viewer")) == {"phone": 1, "email": 1}
    hits = cache.hits
    assert by_channel(get(fresh, "viewer")) == {"phone": 1, "email": 1}
    assert cache.hits == hits + 1  # the second answer came from the cache

    r = fresh.client.post("/api/ingest/tickets", headers=bearer(fresh.tokens["ingest"]),
                          json=[{"ticket_id": "N1", "created_at": "2026-11-20T10:00:00Z", "channel": "chat"}])
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    assert len(cache) == 0
    # the same query shows the new ticket at once
    assert by_channel(get(fresh, "viewer")) == {"phone": 1, "email": 1, "chat": 1}
    assert cache.hits == hits + 1


def test_a_write_of_rejected_rows_also_invalidates(fresh):
    get(fresh, "viewer")
    assert len(fresh.app.state.sk.results) == 1
    r = fresh.client.post("/api/ingest/tickets", headers=bearer(fresh.tokens["ingest"]),
                          json=[{"ticket_id": "N9", "created_at": "not a time"}])
    assert r.status_code == 200 and r.json()["rejected"] == 1, r.text
    assert len(fresh.app.state.sk.results) == 0


def test_an_agent_answer_never_serves_another_token(fresh):
    # agent a1 owns T5 (email) in November, agent a2 owns T4 (phone)
    assert by_channel(get(fresh, "agent")) == {"email": 1}
    assert by_channel(get(fresh, "agent_a2")) == {"phone": 1}
    # asking again, and asking for the other agent's rows, still gives each its own
    assert by_channel(get(fresh, "agent")) == {"email": 1}
    assert by_channel(get(fresh, "agent", {**Q, "where": "agent_id=a2"})) == {}
    assert by_channel(get(fresh, "agent_a2")) == {"phone": 1}
    # and a manager's cached answer (everyone's) is not an agent's
    assert by_channel(get(fresh, "manager")) == {"phone": 1, "email": 1}
    assert by_channel(get(fresh, "agent")) == {"email": 1}
    rows = get(fresh, "agent", {"as_of": ASOF, "limit": 10}, "/api/kpis/ticket_volume/rows")["rows"]
    assert {r["ticket_id"] for r in rows} == {"T1", "T3", "T5"}
    rows = get(fresh, "agent_a2", {"as_of": ASOF, "limit": 10}, "/api/kpis/ticket_volume/rows")["rows"]
    assert {r["ticket_id"] for r in rows} == {"T2", "T4"}


def test_a_cached_answer_is_the_uncached_one(fresh):
    first = fresh.client.get("/api/kpis/ticket_volume", params=Q, headers=bearer(fresh.tokens["viewer"]))
    again = fresh.client.get("/api/kpis/ticket_volume", params=Q, headers=bearer(fresh.tokens["viewer"]))
    assert first.content == again.content and again.headers["content-type"] == "application/json"


def test_the_cache_is_bounded_lru():
    cache = ResultCache(max_entries=2)
    gen = lambda: 0  # noqa: E731
    for k in ("a", "b", "a", "c"):  # "a" used again, so "b" is the least recent when "c" comes
        cache.get((0, k), lambda k=k: k.encode(), gen)
    assert set(cache._entries) == {(0, "a"), (0, "c")}


def test_an_answer_computed_across_a_write_is_not_kept():
    cache = ResultCache()
    generation = [0]

    def compute():
        generation[0] += 1  # a write commits while the answer is computed
        return b"old"
    assert cache.get((0, "q"), compute, lambda: generation[0]) == b"old"
    assert len(cache) == 0


def test_concurrent_misses_compute_once():
    cache = ResultCache()
    started, release, calls = threading.Event(), threading.Event(), []

    def compute():
        calls.append(1)
        started.set()
        release.wait(5)
        return b"v"
    out = []
    lead = threading.Thread(target=lambda: out.append(cache.get((0, "q"), compute, lambda: 0)))
    lead.start()
    started.wait(5)
    others = [threading.Thread(target=lambda: out.append(cache.get((0, "q"), compute, lambda: 0)))
              for _ in range(5)]
    for t in others:
        t.start()
    release.set()
    for t in [lead, *others]:
        t.join(5)
    assert out == [b"v"] * 6 and len(calls) == 1


def test_the_scorecard_is_cached_until_a_write(fresh):
    """GET /api/scorecard is kept like KPI answers: the second call is served from the cache, and
    a write drops it, so the next call counts the new ticket (resolution rate's denominator)."""
    cache = fresh.app.state.sk.results
    params = {"month": "2026-11", "as_of": ASOF}

    def volume():
        rows = get(fresh, "viewer", params, "/api/scorecard")["rows"]
        return next(r["denominator"] for r in rows if r["kpi"] == "resolution_rate")
    before = volume()
    hits = cache.hits
    assert volume() == before and cache.hits == hits + 1
    r = fresh.client.post("/api/ingest/tickets", headers=bearer(fresh.tokens["ingest"]),
                          json=[{"ticket_id": "N9", "created_at": "2026-11-21T10:00:00Z", "channel": "chat"}])
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    assert volume() == before + 1 and cache.hits == hits + 1  # computed afresh after the write
    assert before == 2  # November: T4 (resolved) and T5
