"""The pool's compiled-SQL cache: keyed by the query and what its SQL is built from, not by the data.

A write empties the result cache but keeps the compiled SQL, and the answers after a write are
those of an engine that compiles everything afresh. A write that changes what the SQL is built
from (a new column, messages after the as-of instant) compiles again."""
from __future__ import annotations

from api_support import ASOF, bearer, fresh  # noqa: F401 - fixture

from servicekpi.engine.query import Engine, Query, SqlCache
from servicekpi.server import query as qry

Q = {"by": "month", "dim": "channel", "from": "2026-10-01", "to": "2026-11-30", "as_of": ASOF}
KPIS = "ticket_volume,first_response_time,interactions_per_ticket,resolution_rate"


def get(s, params=Q, kpis=KPIS):
    r = s.client.get(f"/api/kpis/{kpis}", params=params, headers=bearer(s.tokens["viewer"]))
    assert r.status_code == 200, r.text
    return r.json()


def push(s, table, rows):
    r = s.client.post(f"/api/ingest/{table}", headers=bearer(s.tokens["ingest"]), json=rows)
    assert r.status_code == 200 and not r.json()["rejected"], r.text
    return r.json()


def uncached(s, params=Q, kpis=KPIS):
    """The same query on an engine of its own, with an empty compiled-SQL cache."""
    state = s.app.state.sk
    q = qry.build(kpis.split(","), params.get("by"), [params["dim"]] if "dim" in params else [],
                  params.get("from"), params.get("to"), [], [], None, params.get("as_of"), state.cfg.timezone)
    eng = Engine(state.cursor(), state.cfg, sql_cache=SqlCache())
    try:
        return eng.evaluate(q)
    finally:
        eng.con.close()


def test_a_write_keeps_the_compiled_sql_and_answers_right(fresh):
    sql, results = fresh.app.state.sk.sql, fresh.app.state.sk.results
    get(fresh)
    compiled, misses = len(sql), sql.misses
    assert compiled >= 1

    push(fresh, "tickets", [{"ticket_id": "N1", "created_at": "2026-11-20T10:00:00Z", "channel": "chat",
                             "first_response_at": "2026-11-20T10:30:00Z"}])
    assert len(results) == 0  # the answers are dropped ...
    after = get(fresh)
    assert sql.misses == misses and len(sql) == compiled  # ... the compiled SQL is not
    assert after == uncached(fresh)
    chat = [r for r in after if r["kpi"] == "ticket_volume" and r["channel"] == "chat"
            and r["period_start"] == "2026-11-01"]
    assert chat[0]["value"] == 1  # the new ticket is counted


def test_a_new_column_compiles_again(fresh):
    sql = fresh.app.state.sk.sql
    get(fresh)
    misses = sql.misses
    push(fresh, "tickets", [{"ticket_id": "N2", "created_at": "2026-11-21T10:00:00Z", "channel": "email",
                             "region": "north"}])  # an extra column: the table gains it
    after = get(fresh)
    assert sql.misses > misses
    assert after == uncached(fresh)
    # and the new column slices at once
    by_region = get(fresh, {**Q, "dim": "region"}, "ticket_volume")
    assert by_region == uncached(fresh, {**Q, "dim": "region"}, "ticket_volume")
    assert sum(r["value"] or 0 for r in by_region if r["region"] == "north") == 1


def test_messages_after_the_as_of_instant_compile_the_recount(fresh):
    """Reply counts are recounted as of the instant only when messages exist after it: that
    decides the SQL, so it is part of the key (and is read again when messages are written)."""
    past = {**Q, "as_of": "2026-10-10T00:00:00Z", "to": "2026-10-31"}
    kpis = "interactions_per_ticket,single_agent_resolution_rate,ticket_volume"
    push(fresh, "tickets", [{"ticket_id": "N3", "created_at": "2026-10-03T10:00:00Z", "channel": "chat",
                             "agent_id": "a2", "resolved_at": "2026-10-03T12:00:00Z"}])
    push(fresh, "messages", [
        {"message_id": "M1", "ticket_id": "N3", "sent_at": "2026-10-03T10:00:00Z", "author": "customer"},
        {"message_id": "M2", "ticket_id": "N3", "sent_at": "2026-10-03T10:30:00Z", "author": "agent",
         "agent_id": "a2"}])
    before = get(fresh, past, kpis)
    assert before == uncached(fresh, past, kpis)
    sql = fresh.app.state.sk.sql
    misses = sql.misses
    # the customer writes again after the as-of instant and another agent answers
    push(fresh, "messages", [
        {"message_id": "M3", "ticket_id": "N3", "sent_at": "2026-10-20T09:00:00Z", "author": "customer"},
        {"message_id": "M4", "ticket_id": "N3", "sent_at": "2026-10-20T10:00:00Z", "author": "agent",
         "agent_id": "a3"}])
    after = get(fresh, past, kpis)
    assert after == uncached(fresh, past, kpis)
    assert after == before  # as of 10 October nothing changed
    assert sql.misses > misses


def test_the_sql_cache_is_bounded_lru():
    cache = SqlCache(max_entries=2)
    for k in ("a", "b"):
        cache.put((k,), k)
    assert cache.get(("a",)) == "a"  # "b" is now the least recent
    cache.put(("c",), "c")
    assert cache.get(("b",)) is None and cache.get(("a",)) == "a" and cache.get(("c",)) == "c"
    assert (cache.hits, cache.misses) == (3, 1)


def test_engines_share_one_cache_per_server(fresh):
    state = fresh.app.state.sk
    with state.engine() as one:
        assert one._compiled is state.sql
    q = Query(kpis=["ticket_volume"], by="month", tz="UTC")
    with state.engine() as eng:
        eng.evaluate(q)
    assert len(state.sql) >= 1

