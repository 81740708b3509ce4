"""Spark Connect (sc://): a Connect server started with spark-submit on loopback answers a few
KPIs of a generated operation exactly as DuckDB does, in Europe/Bucharest across the March DST
change: counts equal, means within 1e-9 relative, the same nulls. One server for the module."""
from __future__ import annotations

import datetime as dt
import math

import pytest
from tests.spark.standalone import TEST_JVM, ConnectServer

from servicekpi.engine.backends import spark as sp
from servicekpi.engine.query import Engine, Query
from servicekpi.store import dataset
from servicekpi.store import db as store

pytestmark = [pytest.mark.spark, pytest.mark.serial,
              pytest.mark.filterwarnings("error::UserWarning")]  # e.g. a setting Connect does not support
ZONE = "Europe/Bucharest"  # clocks move on 2026-03-29
# a count, rates, mean durations, a survey score and call KPIs (the whole catalog: the cluster test)
KPIS = ["ticket_volume", "resolution_rate", "first_response_time", "avg_resolution_time", "csat",
        "abandonment_rate", "avg_wait_time"]


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    from tests.conftest import Workspace
    ws = Workspace(tmp_path_factory.mktemp("spark-connect"))
    r = ws.cli("generate", str(ws.data), "--tickets", "2000", "--months", "2", "--end", "2026-04-01")
    assert r.exit_code == 0, r.stdout
    ws.load()
    dataset.export(store.connect(ws.db, read_only=True), str(ws.root / "ds"), "month")
    server = ConnectServer(log_dir=ws.root, java_opts=TEST_JVM).start()
    try:
        backend = sp.SparkBackend(sp.session(server.url), str(ws.root / "ds"))
        yield ws, backend
        backend.spark.stop()
    finally:
        server.stop()


def same(a, b, count: bool) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b if count else math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_a_few_kpis_over_spark_connect_equal_duckdb(sides):
    ws, backend = sides
    from pyspark.sql.connect.session import SparkSession as ConnectSession
    assert isinstance(backend.spark, ConnectSession)  # a Connect client, not a local JVM session
    q = Query(kpis=KPIS, by="week", dims=["channel"], start=dt.date(2026, 2, 2), end=dt.date(2026, 3, 31), tz=ZONE,
              asof=dt.datetime(2026, 4, 1))
    duck = Engine(store.connect(ws.db, read_only=True)).evaluate(q)
    spark = Engine(None, backend=backend).evaluate(q)
    assert len(spark) == len(duck) > 0
    assert {r["kpi"] for r in duck} == set(KPIS)
    key = lambda r: tuple((k, str(v)) for k, v in r.items() if k not in ("value", "numerator", "denominator"))  # noqa: E731
    for d, s in zip(duck, spark):
        assert key(d) == key(s)
        assert same(d["value"], s["value"], d["unit"] == "count"), (d, s)
        assert same(d["numerator"], s["numerator"], True) and same(d["denominator"], s["denominator"], True), (d, s)
    # weeks by channel leave some cells without data: their ratios are null on both sides
    assert any(r["value"] is None for r in duck)
