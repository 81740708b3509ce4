"""Engines without a cache of their own share the process's compiled SQL (engine.query.PROCESS_SQL),
keyed by the query shape and the config's fingerprint: another store of the same schema reuses a
statement, another config never does."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from servicekpi.core.config import Config
from servicekpi.engine import query as Q
from servicekpi.engine.query import Engine, Query, SqlCache
from servicekpi.ingest import load
from servicekpi.store import db as store

ASOF = dt.datetime(2026, 11, 1)
# 22:30 UTC on 31 October: still October in UTC, already 1 November in Bucharest (UTC+2 since 25 October)
TICKETS = "ticket_id,created_at\nT1,2026-10-31T22:30:00Z\nT2,2026-10-15T10:00:00Z\n"
OCT_NOV = dict(kpis=["ticket_volume"], by="month", start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 30), asof=ASOF)


@pytest.fixture
def fresh(monkeypatch):
    """An empty process cache, so the counts below are this test's own."""
    cache = SqlCache()
    monkeypatch.setattr(Q, "PROCESS_SQL", cache)
    return cache


def a_store(root):
    (root / "data").mkdir(parents=True)
    (root / "data" / "tickets.csv").write_text(TICKETS, encoding="utf-8")
    con = store.connect(root / "store.duckdb")
    load.run(con, root / "data")
    return con


def volumes(con, cfg):
    return [(r["period_start"], r["value"]) for r in Engine(con, cfg).evaluate(Query(**OCT_NOV, tz=cfg.timezone))]


def test_another_store_with_the_same_config_reuses_the_statement(tmp_path, fresh):
    a, b = a_store(tmp_path / "a"), a_store(tmp_path / "b")
    first = volumes(a, Config())
    assert fresh.misses == 1 and fresh.hits == 0
    assert volumes(b, Config()) == first  # the second store's engine: answered from the first's SQL
    assert fresh.hits == 1 and len(fresh) == 1
    # UTC: T2 and T1 in October (2); November is after the last ticket: no data (issue 13 item 2)
    assert first == [("2026-10-01", 2), ("2026-11-01", None)]


def test_another_config_compiles_its_own(tmp_path, fresh):
    con = a_store(tmp_path)
    assert volumes(con, Config()) == [("2026-10-01", 2), ("2026-11-01", None)]  # November after the data
    # Bucharest: T1 is 00:30 on 1 November -> October 1, November 1
    assert volumes(con, Config(timezone="Europe/Bucharest")) == [("2026-10-01", 1), ("2026-11-01", 1)]
    assert fresh.hits == 0 and len(fresh) == 2
    weighted = Config()
    weighted.criterion_weights = {"accuracy": 2.0}
    volumes(con, weighted)  # weights are part of the fingerprint, though volume does not read them
    assert fresh.hits == 0 and len(fresh) == 3


def test_fingerprint_follows_every_field_the_sql_is_built_from():
    from servicekpi.core.calendars import Calendars, default_calendar
    from servicekpi.core.config import COMPILED_FROM, NOT_COMPILED
    from servicekpi.core.sla_rules import parse as parse_sla
    # every field is in one list or the other: a new field needs a decision
    assert set(COMPILED_FROM) | set(NOT_COMPILED) == {f.name for f in dataclasses.fields(Config)}
    assert not set(COMPILED_FROM) & set(NOT_COMPILED)
    base = Config()
    assert base.fingerprint() == Config().fingerprint()
    changed = {"timezone": Config(timezone="Asia/Bangkok"), "csat_scale": Config(csat_scale=(1, 10)),
               "criterion_weights": Config(criterion_weights={"accuracy": 2.0}),
               "activity_weights": Config(activity_weights={"call": 3.0}),
               "calendars": Config(calendars=Calendars(default_calendar("Europe/Bucharest"))),
               "sla": Config(sla=parse_sla({"sla": [{"first_response": "4h"}]}, "t.toml")),
               "queue_teams": Config(queue_teams={"sales": "team a"})}
    assert set(changed) == set(COMPILED_FROM)
    for name, c in changed.items():
        assert c.fingerprint() != base.fingerprint(), name
    # the rest leaves it: the same config from another file, a label, a target, a server setting
    same = {"source": Config(source="/elsewhere/servicekpi.toml"), "raw": Config(raw={"server": {"port": 9}}),
            "targets": Config(targets={"csat": object()}),
            "instants": Config(instants=(dt.datetime(2000, 1, 1), dt.datetime(2050, 1, 1))),
            "agents": Config(agents=object()), "spike_size": Config(spike_size=object()),
            "currency": Config(currency="EUR"), "labels": Config(labels={"channel": {"email": "E-mail"}})}
    assert set(same) == set(NOT_COMPILED)
    for name, c in same.items():
        assert c.fingerprint() == base.fingerprint(), name
