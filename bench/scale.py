"""Scale benchmark on DuckDB: 1M, 10M, 30M, 100M tickets (about 4 messages each, calls and surveys
a fifth of the tickets each), printed as a table.

    .venv/bin/python bench/scale.py [--sizes 1000000 10000000] [--repeat 3]

Columns: import rows/s; the catalog of ticket, call and survey KPIs by month x channel, cold (first
query of a fresh process) and warm (best of --repeat); building the daily rollup by channel; the
latency of a rollup-answered query (5 KPIs by month x channel, warm); peak RSS of every step.
Each step runs in its own process (bench/steps.py, or a step below). Not a test: no assertions
on time. Growth is printed as ratios to the smallest size measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROLLED = ["ticket_volume", "resolution_rate", "csat", "abandonment_rate", "avg_resolution_time"]


def run(script: str, *args: str) -> dict:
    r = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"step {args[0]} failed")
    return json.loads(r.stdout.strip().splitlines()[-1])


def cold(db: str) -> None:
    """The whole catalog once in a fresh process (no compiled SQL, no warm DuckDB buffers of it)."""
    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    from steps import ASOF, END, START, catalog_ids, report
    e = Engine(store.connect(db, read_only=True))
    ids = catalog_ids("catalog")
    t = time.perf_counter()
    e.evaluate(Query(kpis=ids, by="month", dims=["channel"], start=START, end=END, asof=ASOF))
    report(seconds=time.perf_counter() - t, kpis=len(ids))


def rollup(db: str, repeat: str) -> None:
    """Enable the daily rollup by channel (timed), then a query it answers (warm, best of repeat)."""
    from servicekpi.engine import rollups
    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    from steps import END, START, best, report
    con = store.connect(db)
    rollups.disable(con)
    t = time.perf_counter()
    rollups.enable(Engine(con), ["channel"])
    build = time.perf_counter() - t
    t = time.perf_counter()
    again = rollups.refresh(Engine(con))  # nothing changed: signatures only
    noop = time.perf_counter() - t
    e = Engine(con)
    q = Query(kpis=ROLLED, by="month", dims=["channel"], start=START, end=END)
    seconds, _ = best(lambda: e.evaluate(q), int(repeat))
    used = sum(1 for _, sql in e.sql if "daily rollup" in sql)
    con.execute("ALTER TABLE sk_rollups RENAME TO sk_rollups_off")
    raw_s, _ = best(lambda: Engine(con).evaluate(q), int(repeat))
    con.execute("ALTER TABLE sk_rollups_off RENAME TO sk_rollups")
    report(build=build, noop_refresh=noop, recomputed=sum(again.values()), seconds=seconds, raw=raw_s,
           groups=len(e.sql), from_rollup=used)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    rows = []
    for n in a.sizes:
        folder = OUT / f"data_{n}"
        if not (folder / "surveys.parquet").exists():
            run("steps.py", "generate", str(folder), str(n))
        db = OUT / f"store_{n}.duckdb"
        load = os.getloadavg()[0]
        imp = run("steps.py", "import", str(folder), str(db))
        c = run("scale.py", "cold", str(db))
        w = run("steps.py", "engine", str(db), str(a.repeat), "catalog")
        r = run("scale.py", "rollup", str(db), str(a.repeat))
        row = dict(tickets=n, rows=imp["rows"], import_rps=imp["rows"] / imp["seconds"], import_rss=imp["rss_mb"],
                   cold=c["seconds"], warm=w["seconds"], query_rss=max(c["rss_mb"], w["rss_mb"]),
                   build=r["build"], noop=r["noop_refresh"], rollup_ms=r["seconds"] * 1000, raw_ms=r["raw"] * 1000,
                   rollup_rss=r["rss_mb"], answered=f"{r['from_rollup']}/{r['groups']}", load=load,
                   load_after=os.getloadavg()[0], kpis=w["kpis"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    print(f"\n| tickets | rows | import rows/s | catalog ({base['kpis']} KPIs) cold / warm | rollup build / no-op refresh "
          "| rollup-answered query (raw) | peak RSS import / query / rollup | load avg | warm / rows vs first |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        growth = (r["warm"] / base["warm"]) / (r["rows"] / base["rows"])
        print(f"| {r['tickets'] / 1e6:g}M | {r['rows'] / 1e6:.1f}M | {r['import_rps'] / 1e3:,.0f}k | "
              f"{r['cold']:.2f} s / {r['warm']:.2f} s | {r['build']:.1f} s / {r['noop']:.2f} s | "
              f"{r['rollup_ms']:.0f} ms ({r['raw_ms']:.0f} ms), {r['answered']} groups | "
              f"{r['import_rss'] / 1024:.1f} / {r['query_rss'] / 1024:.1f} / {r['rollup_rss'] / 1024:.1f} GB | "
              f"{r['load']:.1f}-{r['load_after']:.1f} | {growth:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("cold", "rollup"):
        sys.path.insert(0, str(HERE))
        {"cold": cold, "rollup": rollup}[sys.argv[1]](*sys.argv[2:])
    else:
        main()
