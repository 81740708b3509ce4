"""Compiled SQL that outlives the process (engine/sql_cache.py): kept in `<store>.sqlcache/` as a
template of the as-of instant, keyed by the code, the config, the query shape and the store's
tables and columns. A second process (here: an engine with an empty process cache) answers
without compiling; anything the SQL is built from that changed compiles afresh."""
from __future__ import annotations

import datetime as dt
import os

import duckdb
import pytest

from servicekpi.catalog import catalog
from servicekpi.core.config import Config
from servicekpi.engine import query as Q
from servicekpi.engine import sql_cache
from servicekpi.engine.query import Engine, Query, SqlCache
from servicekpi.ingest import load
from servicekpi.sample.generate import generate
from servicekpi.store import db as store

ASOF = dt.datetime(2026, 11, 1)
LATER = dt.datetime(2026, 10, 20, 12, 34, 56)  # another instant: the templates are filled with it
TICKETS = ("ticket_id,created_at,channel,first_response_at\n"
           "T1,2026-10-05T10:00:00Z,email,2026-10-05T11:00:00Z\n"
           "T2,2026-10-15T10:00:00Z,chat,2026-10-15T10:30:00Z\n"
           "T3,2026-10-25T10:00:00Z,chat,\n")
FRT = dict(kpis=["first_response_time", "ticket_volume"], by="month", start=dt.date(2026, 10, 1),
           end=dt.date(2026, 10, 31))


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    path = tmp_path / "store.duckdb"
    con = store.connect(path)
    load.run(con, tmp_path / "data")
    con.close()
    return path


class Compiles:
    """Counts compile_group calls: a statement from the cache compiles nothing."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = Q.compile_group

        def counted(ctx, group):
            self.n += 1
            return real(ctx, group)
        monkeypatch.setattr(Q, "compile_group", counted)


def answer(path, cfg=None, asof=ASOF, read_only=True, **q):
    """A new engine with an empty process cache: what a second `servicekpi kpi` process does."""
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        eng = Engine(con, cfg or Config(), sql_cache=SqlCache())
        rows = eng.evaluate(Query(**{**FRT, **q}, asof=asof))
        return [(r["kpi"], r["period_start"], r["value"]) for r in rows], eng
    finally:
        con.close()


def test_a_second_process_reuses_the_compiled_sql(tiny, monkeypatch):
    compiles = Compiles(monkeypatch)
    first, eng = answer(tiny)
    # two groups (frt reads the hours option, volume none), each compiled at the as-of and the sentinel
    assert compiles.n == 4
    assert eng._disk().writes == 2 and len(os.listdir(f"{tiny}.sqlcache")) == 2
    again, eng = answer(tiny)
    assert compiles.n == 4 and eng._disk().hits == 2  # nothing compiled: the store's cache answered
    assert again == first
    # frt: T1 60 min, T2 30 min, T3 unanswered -> mean (60 + 30) / 2 = 45 min; volume 3
    assert first == [("first_response_time", "2026-10-01", 45.0), ("ticket_volume", "2026-10-01", 3)]


def test_a_template_filled_with_another_instant_is_what_that_instant_compiles(tiny, monkeypatch):
    answer(tiny)  # kept as of 1 November
    compiles = Compiles(monkeypatch)
    cached, eng = answer(tiny, asof=LATER)
    assert compiles.n == 0
    fresh = Engine(duckdb.connect(str(tiny), read_only=True), Config(), sql_cache=SqlCache())
    fresh._disk_cache = None  # compiles
    rows = fresh.evaluate(Query(**FRT, asof=LATER))
    assert eng.sql == fresh.sql  # the same statement, character for character
    assert cached == [(r["kpi"], r["period_start"], r["value"]) for r in rows]
    # as of 20 October 12:34:56 only T1 and T2 exist: (60 + 30) / 2 = 45 min, volume 2
    assert cached == [("first_response_time", "2026-10-01", 45.0), ("ticket_volume", "2026-10-01", 2)]


def test_a_changed_option_config_code_or_schema_never_reuses_the_sql(tiny, monkeypatch):
    answer(tiny)
    compiles = Compiles(monkeypatch)
    answer(tiny, options={"stat": "median"})  # an option: frt's group only
    assert compiles.n == 2
    answer(tiny, Config(timezone="Asia/Bangkok"))  # a config: both groups
    assert compiles.n == 6
    monkeypatch.setitem(sql_cache._CODE, "v", "another build")  # the code (catalog, engine, Ibis)
    answer(tiny)
    assert compiles.n == 10
    monkeypatch.undo()
    compiles = Compiles(monkeypatch)
    answer(tiny)  # back to the first build: its entry is still there
    assert compiles.n == 0
    con = duckdb.connect(str(tiny))
    con.execute("ALTER TABLE tickets ADD COLUMN region VARCHAR")  # the schema: a new stored column
    con.close()
    rows, _ = answer(tiny)
    assert compiles.n == 4
    assert rows == [("first_response_time", "2026-10-01", 45.0), ("ticket_volume", "2026-10-01", 3)]


def test_a_place_that_cannot_be_written_keeps_nothing_and_answers(tiny):
    cache = f"{tiny}.sqlcache"
    with open(cache, "w") as f:  # a file where the directory would be: nothing can be written there
        f.write("not a directory")
    rows, eng = answer(tiny)
    assert eng._disk().writes == 0
    assert rows[1] == ("ticket_volume", "2026-10-01", 3)


def test_a_damaged_or_foreign_entry_is_a_miss(tiny, monkeypatch):
    answer(tiny)
    entry = sorted(os.listdir(f"{tiny}.sqlcache"))[0]
    path = os.path.join(f"{tiny}.sqlcache", entry)
    with open(path, "w") as f:
        f.write('{"format": 1, "key": "another key", "sql": "SELECT 1", "inputs": []}')  # a hash collision
    compiles = Compiles(monkeypatch)
    rows, eng = answer(tiny)
    assert compiles.n == 2 and eng._disk().misses == 1  # that group only, at the as-of and the sentinel
    with open(path, "w") as f:
        f.write("{half a file")
    rows, eng = answer(tiny)
    assert compiles.n == 4 and eng._disk().misses == 1
    rows, eng = answer(tiny)
    assert compiles.n == 4 and eng._disk().hits == 2  # the misses rewrote it whole
    assert rows[1] == ("ticket_volume", "2026-10-01", 3)


def test_switched_off_by_the_environment(tiny, monkeypatch):
    monkeypatch.setenv("SERVICEKPI_SQL_CACHE", "off")
    _, eng = answer(tiny)
    assert eng._disk() is None and not os.path.exists(f"{tiny}.sqlcache")


def test_an_in_memory_store_has_no_directory():
    assert sql_cache.DiskSqlCache.beside(duckdb.connect()) is None


def test_the_as_of_literal_is_written_as_ibis_writes_it():
    import ibis
    for v in (ASOF, LATER, sql_cache.SENTINEL, dt.datetime(2026, 1, 2, 3, 4, 5, 600)):
        assert sql_cache.timestamp_sql(v) in ibis.to_sql(ibis.literal(v).name("x"), dialect="duckdb")


def test_a_value_derived_from_the_instant_is_not_a_template():
    # a statement holding the as-of date besides the instant: filling it for another instant
    # would keep the first date, so it is kept for its own instant only
    asof = dt.datetime(2026, 11, 1, 9, 30)
    sql = f"SELECT {sql_cache.timestamp_sql(asof)}, MAKE_DATE(2026, 11, 1)"
    sentinel = f"SELECT {sql_cache.timestamp_sql(sql_cache.SENTINEL)}, MAKE_DATE(1987, 7, 19)"
    assert sql_cache.as_template(sql, asof, sentinel) is None
    plain = f"SELECT {sql_cache.timestamp_sql(sql_cache.SENTINEL)}"
    assert sql_cache.fill(sql_cache.as_template(plain.replace("1987, 7, 19, 13, 41, 27.000531", "2026, 11, 1, 9, 30, 0.0"),
                                                asof, plain), LATER) == f"SELECT {sql_cache.timestamp_sql(LATER)}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("templates")
    generate(root / "data", tickets=300, seed=5, months=3, end=dt.date(2026, 11, 1))
    con = store.connect(root / "store.duckdb")
    load.run(con, root / "data")
    con.close()
    return root / "store.duckdb"


def test_every_kpi_is_kept_as_a_template(sample, monkeypatch):
    """Every KPI of the catalog is kept as a template of the instant (else a new process would
    compile it again). The statements are compiled, not run (run answers no rows here)."""
    cfg = Config()
    cfg.criterion_weights = {"accuracy": 2.0}
    shared = SqlCache()
    eng = Engine(duckdb.connect(str(sample), read_only=True), cfg, sql_cache=shared)
    eng._disk_cache = None
    monkeypatch.setattr(eng.backend, "run", lambda sql: [])
    eng.evaluate(Query(kpis=sorted(catalog().kpis), by="month", start=dt.date(2026, 8, 1),
                       end=dt.date(2026, 10, 31), asof=ASOF))
    assert len(shared) >= 20
    assert [shape for shape, (template, _) in shared._entries.items() if template is None] == []


# the KPIs whose SQL holds the instant besides the tables' as-of views: SLA targets due by it,
# sessions still open at it (occupancy), backlog ages, and a state KPI
AS_OF_KPIS = ["sla_first_response_met", "sla_at_risk", "occupancy", "backlog_overdue", "backlog", "fcr_rate"]


def test_a_filled_template_is_the_compile_of_that_instant(sample):
    # after the data's last message, like ASOF: whether messages follow the instant is in the key
    later = dt.datetime(2026, 12, 3, 14, 15, 16)
    con = duckdb.connect(str(sample), read_only=True)
    shared = SqlCache()
    q = dict(kpis=AS_OF_KPIS, by="month", start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 31))
    Engine(con.cursor(), Config(), sql_cache=shared).evaluate(Query(**q, asof=ASOF))
    cached = Engine(con.cursor(), Config(), sql_cache=shared)
    rows = cached.evaluate(Query(**q, asof=later))
    assert shared.hits >= len(cached.sql) == 6
    fresh = Engine(con.cursor(), Config(), sql_cache=SqlCache())
    fresh._disk_cache = None
    assert rows == fresh.evaluate(Query(**q, asof=later))
    assert cached.sql == fresh.sql  # character for character


def test_registered_inputs_are_replayed_from_the_store_cache(sample):
    """Business hours, weights and the periods table are registered by a run from the store's
    cache too (a fresh connection has none of them)."""
    cfg = Config()
    cfg.criterion_weights = {"accuracy": 2.0}
    q = Query(kpis=["first_response_time", "iqs", "backlog"], by="month", start=dt.date(2026, 9, 1),
              end=dt.date(2026, 10, 31), asof=ASOF, options={"hours": "business"})
    first = Engine(duckdb.connect(str(sample), read_only=True), cfg, sql_cache=SqlCache()).evaluate(q)
    second = Engine(duckdb.connect(str(sample), read_only=True), cfg, sql_cache=SqlCache())
    assert second.evaluate(q) == first and second._disk().hits >= 1
    assert any(r["value"] is not None for r in first if r["kpi"] == "iqs")


def test_the_proof_on_expressions_refuses_a_value_derived_from_the_instant():
    import ibis
    asof = dt.datetime(2026, 11, 1, 9, 30)
    t = ibis.table({"at": "timestamp", "day": "date"}, name="t")

    def query(instant, derived):
        q = t.filter(t.at < ibis.literal(instant))
        return q.filter(q.day < ibis.literal(instant.date())) if derived else q

    # only the instant's literal: a template, and filled for the instant it is that instant's compile
    template = sql_cache.template_of(query(asof, False), query(sql_cache.SENTINEL, False), asof, "duckdb")
    assert template is not None and sql_cache.ASOF in template
    assert sql_cache.fill(template, LATER) == ibis.to_sql(query(LATER, False), dialect="duckdb", pretty=False)
    # the instant's date as well: 2026-11-01 against 1987-07-19, so the expressions differ
    assert sql_cache.template_of(query(asof, True), query(sql_cache.SENTINEL, True), asof, "duckdb") is None


def test_one_directory_for_every_store(tiny, tmp_path, monkeypatch):
    """SERVICEKPI_SQL_CACHE_DIR: a second store with the same tables and columns reads the SQL
    the first one kept there, and nothing is written beside either store."""
    shared = tmp_path / "shared-sql"
    monkeypatch.setenv("SERVICEKPI_SQL_CACHE_DIR", str(shared))
    first, eng = answer(tiny)
    assert eng._disk().dir == shared and len(os.listdir(shared)) == 2
    other = tmp_path / "other" / "store.duckdb"
    other.parent.mkdir()
    con = store.connect(other)
    (tmp_path / "other" / "tickets.csv").write_text(TICKETS.splitlines()[0] + "\n" + TICKETS.splitlines()[1] + "\n",
                                                   encoding="utf-8")
    load.run(con, tmp_path / "other" / "tickets.csv")
    con.close()
    compiles = Compiles(monkeypatch)
    rows, eng = answer(other)
    assert compiles.n == 0 and eng._disk().hits == 2
    # the other store's own data: T1 only, answered 60 min; volume 1
    assert rows == [("first_response_time", "2026-10-01", 60.0), ("ticket_volume", "2026-10-01", 1)]
    assert not os.path.exists(f"{tiny}.sqlcache") and not os.path.exists(f"{other}.sqlcache")
    # a store with another stored column is another key: compiled afresh, both groups
    con = duckdb.connect(str(other))
    con.execute("ALTER TABLE tickets ADD COLUMN region VARCHAR")
    con.close()
    answer(other)
    assert compiles.n == 4 and len(os.listdir(shared)) == 4
