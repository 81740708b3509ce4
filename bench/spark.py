"""The catalog on a Spark standalone cluster (two 1-core workers on loopback) against DuckDB on the
same generated store, printed as a table. Usage: python bench/spark.py [TICKETS ...] (default 1000000).
Each size: generate, import, export once; then the whole catalog by month x channel, cold and warm."""
from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.spark.standalone import Cluster  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from servicekpi.catalog import catalog  # noqa: E402
from servicekpi.cli.app import app  # noqa: E402
from servicekpi.engine.backends import spark as sp  # noqa: E402
from servicekpi.engine.query import Engine, Query  # noqa: E402
from servicekpi.store import dataset  # noqa: E402
from servicekpi.store import db as store  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(sizes: list[int]) -> None:
    runner = CliRunner()
    cluster = Cluster(workers=2).start()
    rows = []
    try:
        for n in sizes:
            root = Path(tempfile.mkdtemp(prefix=f"sk-spark-{n}-"))
            assert runner.invoke(app, ["generate", str(root / "data"), "--tickets", str(n), "--months", "6",
                                       "--end", "2026-07-01"]).exit_code == 0
            assert runner.invoke(app, ["import", str(root / "data"), "--db", str(root / "s.duckdb")]).exit_code == 0
            con = store.connect(root / "s.duckdb", read_only=True)
            dataset.export(con, str(root / "ds"), "month")
            q = Query(kpis=list(catalog().kpis), by="month", dims=["channel"], start=dt.date(2026, 1, 1),
                      end=dt.date(2026, 6, 30), asof=dt.datetime(2026, 7, 1))
            duck = Engine(con)
            d_cold, d_warm = timed(lambda: duck.evaluate(q)), timed(lambda: duck.evaluate(q))
            backend = sp.SparkBackend(sp.session(cluster.url, cluster.conf()), str(root / "ds"))
            spark = Engine(None, backend=backend)
            s_cold, s_warm = timed(lambda: spark.evaluate(q)), timed(lambda: spark.evaluate(q))
            backend.spark.stop()
            rows.append((n, d_cold, d_warm, s_cold, s_warm))
    finally:
        cluster.stop()
    print(f"{'tickets':>10} {'duckdb cold s':>14} {'duckdb warm s':>14} {'spark cold s':>13} "
          f"{'spark warm s':>13} {'spark/duckdb warm':>18}")
    for n, dc, dw, sc, sw in rows:
        print(f"{n:>10} {dc:>14.2f} {dw:>14.2f} {sc:>13.2f} {sw:>13.2f} {sw / dw:>18.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000])
