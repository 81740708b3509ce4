"""The whole catalog on a real Spark standalone cluster (a master and two 1-core workers on
loopback) equals DuckDB: a generated operation, every table, a non-UTC zone across the March DST
change. Generated, imported and exported once; one cluster for the module."""
from __future__ import annotations

import datetime as dt
import math

import pytest
from tests.spark.standalone import TEST_JVM, Cluster

from servicekpi.catalog import catalog
from servicekpi.engine.backends import spark as sp
from servicekpi.engine.query import Engine, Query
from servicekpi.store import dataset
from servicekpi.store import db as store

TICKETS = 50_000  # about 212k messages, 10k calls, 10k survey answers and every other table (~100 CPU s in all)
ZONE = "Europe/Bucharest"  # clocks move on 2026-03-29


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    from tests.conftest import Workspace
    ws = Workspace(tmp_path_factory.mktemp("spark-cluster"))
    (ws.root / "servicekpi.toml").write_text(f'timezone = "{ZONE}"\n')
    cluster = Cluster(workers=2, log_dir=ws.root, java_opts=TEST_JVM).launch()  # the JVMs come up while the data is made
    try:
        r = ws.runner.invoke(__import__("servicekpi.cli.app", fromlist=["app"]).app,
                             ["generate", str(ws.data), "--tickets", str(TICKETS), "--months", "3",
                              "--end", "2026-04-01"])
        assert r.exit_code == 0, r.stdout
        ws.load()
        dataset.export(store.connect(ws.db, read_only=True), str(ws.root / "ds"), "month")
        cluster.ready()
        backend = sp.SparkBackend(sp.session(cluster.url, cluster.conf()), str(ws.root / "ds"))
        assert backend.spark.sparkContext.master == cluster.url
        yield ws, backend
        backend.spark.stop()
    finally:
        cluster.stop()


def same(a, b, unit) -> bool:
    if a is None or b is None:
        return a is None and b is None  # the same nulls
    if unit == "count":
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_whole_catalog_equals_duckdb(sides):
    ws, backend = sides
    from servicekpi.catalog.targets import load_workspace
    from servicekpi.core.config import find
    cfg = load_workspace(find(None, ws.db))
    assert cfg.timezone == ZONE
    q = Query(kpis=list(catalog().kpis), by="month", start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31),
              tz=ZONE, asof=dt.datetime(2026, 4, 1))
    duck = Engine(store.connect(ws.db, read_only=True), cfg).evaluate(q)
    spark = Engine(None, cfg, backend=backend).evaluate(q)
    assert len(spark) == len(duck) and len(duck) >= 3 * len(catalog().kpis)
    keys = lambda r: tuple((k, str(v)) for k, v in r.items() if k not in ("value", "numerator", "denominator"))  # noqa: E731
    for d, s in zip(duck, spark):
        assert keys(d) == keys(s)
        for field in ("value", "numerator", "denominator"):
            assert same(d[field], s[field], "count" if field != "value" else d["unit"]), (d, s)
    assert any(r["value"] is None for r in duck)  # nulls are compared, not only numbers
    # every KPI of the catalog has a value in each of the three months, so all were compared with
    # data; the one exception is null by definition: the default SLA policy sets first-response
    # and resolution targets only, no next-response one
    months = {k: sum(r["kpi"] == k and r["value"] is not None for r in duck) for k in catalog().kpis}
    assert {k for k, n in months.items() if n < 3} == {"sla_next_response_met"}
