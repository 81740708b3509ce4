"""The catalog on a Spark standalone cluster (two 1-core workers on loopback) against DuckDB on the
same store, printed as a table.

    .venv/bin/python bench/spark.py [TICKETS ...]      (default 100000 1000000)

Each size reuses bench/out/data_N and store_N.duckdb when bench/scale.py made them (else generates
and imports them with bench/steps.py), exports the Parquet dataset once, then times the catalog of
bench/scale.py (ticket, call and survey KPIs by month x channel) cold and warm on both engines.
It also reads the summed task run time and executor CPU time of the warm Spark run from Spark's
REST API: with two sizes, their growth per row is the per-row cost a cluster estimate needs. Growth is
printed as ratios to the first size; the load average is recorded with every size. Not a test.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from tests.spark.standalone import Cluster  # noqa: E402

from scale import OUT, run  # noqa: E402
from servicekpi.engine.backends import spark as sp  # noqa: E402
from servicekpi.engine.query import Engine, Query  # noqa: E402
from servicekpi.store import dataset  # noqa: E402
from servicekpi.store import db as store  # noqa: E402
from steps import ASOF, END, START, catalog_ids  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def task_totals(spark) -> tuple[float, float, float]:
    """Summed task run time (s), executor CPU time (s) and input (MB) of every stage so far. CPU
    time is the per-row cost a cluster estimate needs: run time also counts waiting for a core."""
    sc = spark.sparkContext
    url = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/stages"
    with urllib.request.urlopen(url, timeout=30) as r:
        stages = json.load(r)
    return (sum(s["executorRunTime"] for s in stages) / 1000, sum(s["executorCpuTime"] for s in stages) / 1e9,
            sum(s["inputBytes"] for s in stages) / 2**20)


def prepared(n: int) -> tuple[Path, Path, dict]:
    folder, db = OUT / f"data_{n}", OUT / f"store_{n}.duckdb"
    if not (folder / "surveys.parquet").exists():
        run("steps.py", "generate", str(folder), str(n))
    if not db.exists():
        run("steps.py", "import", str(folder), str(db))
    con = store.connect(db, read_only=True)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("tickets", "messages")}
    ds = OUT / f"dataset_{n}"
    if not (ds / dataset.MANIFEST).exists():
        t = time.perf_counter()
        dataset.export(con, str(ds), "month")
        counts["export_s"] = time.perf_counter() - t
    con.close()
    return db, ds, counts


def main(sizes: list[int]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so `finally` stops the cluster's JVMs
    OUT.mkdir(exist_ok=True)
    ids = catalog_ids("catalog")
    q = Query(kpis=ids, by="month", dims=["channel"], start=START, end=END, asof=ASOF)
    rows = []
    cluster = Cluster(workers=2, log_dir=OUT).start()
    try:
        for n in sizes:
            db, ds, counts = prepared(n)
            load = os.getloadavg()[0]
            duck = Engine(store.connect(db, read_only=True))
            d_cold, d_warm = timed(lambda: duck.evaluate(q)), timed(lambda: duck.evaluate(q))
            d_rows = duck.evaluate(q)
            backend = sp.SparkBackend(sp.session(cluster.url, cluster.conf()), str(ds))
            spark = Engine(None, backend=backend)
            s_cold = timed(lambda: spark.evaluate(q))
            run0, cpu0, in0 = task_totals(backend.spark)
            s_rows: list[dict] = []
            s_warm = timed(lambda: s_rows.extend(spark.evaluate(q)))
            run1, cpu1, in1 = task_totals(backend.spark)
            backend.spark.stop()
            same = len(s_rows) == len(d_rows) and all(
                (a["value"] is None) == (b["value"] is None) and (a["value"] is None or abs(a["value"] - b["value"])
                                                                  <= 1e-9 * max(1, abs(a["value"])))
                for a, b in zip(d_rows, s_rows))
            row = dict(tickets=n, messages=counts["messages"], kpis=len(ids), duck_cold=d_cold, duck_warm=d_warm,
                       spark_cold=s_cold, spark_warm=s_warm, task_s=run1 - run0, task_cpu=cpu1 - cpu0, input_mb=in1 - in0,
                       same=same, load=load, load_after=os.getloadavg()[0], export_s=counts.get("export_s"))
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        cluster.stop()
    print(f"\n| tickets | catalog ({rows[0]['kpis']} KPIs) DuckDB cold / warm | Spark 2x1-core cold / warm "
          "| Spark tasks (warm): run / CPU time | Spark input read | equal | load avg |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['tickets'] / 1e6:g}M | {r['duck_cold']:.2f} s / {r['duck_warm']:.2f} s | "
              f"{r['spark_cold']:.1f} s / {r['spark_warm']:.1f} s | {r['task_s']:.1f} s / {r['task_cpu']:.1f} s | {r['input_mb']:.0f} MB | "
              f"{r['same']} | {r['load']:.1f}-{r['load_after']:.1f} |")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        extra = b["messages"] - a["messages"]
        print(f"\nper 1B extra messages ({a['tickets']:,} -> {b['tickets']:,} tickets): executor CPU "
              f"{(b['task_cpu'] - a['task_cpu']) / extra * 1e9:,.0f} s, task run time "
              f"{(b['task_s'] - a['task_s']) / extra * 1e9:,.0f} s, input {(b['input_mb'] - a['input_mb']) / extra * 1e9 / 1024:,.0f} GB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
