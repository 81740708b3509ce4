"""Scale benchmark on DuckDB: 1M, 10M, 30M, 100M tickets (about 4 messages each, calls and surveys
a fifth of the tickets each), printed as a table.

    .venv/bin/python bench/scale.py [--sizes 1000000 10000000] [--repeat 3]

Columns: import rows/s; the catalog of ticket, call and survey KPIs by month x channel, cold (first
query of a fresh process) and warm (best of --repeat); building the daily rollup by channel; the
latency of a rollup-answered query (5 KPIs by month x channel, warm); a refresh with nothing new and
one after 100 tickets imported late into an old day; peak RSS of every step; the
CPU seconds of each timed part (all threads), less noisy than wall time on a shared machine, and
the load average around each step (printed to stderr as each step ends).
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
    load = os.getloadavg()[0]
    r = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"step {args[0]} failed")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["load"] = [round(load, 1), round(os.getloadavg()[0], 1)]  # 1-minute load average before and after
    print(json.dumps({"step": args[0], **out}), file=sys.stderr, flush=True)
    return out


def cold(db: str) -> None:
    """The whole catalog once in a fresh process (no compiled SQL, no warm DuckDB buffers of it)."""
    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    from steps import ASOF, END, START, catalog_ids, report
    e = Engine(store.connect(db, read_only=True))
    ids = catalog_ids("catalog")
    t, c = time.perf_counter(), time.process_time()
    e.evaluate(Query(kpis=ids, by="month", dims=["channel"], start=START, end=END, asof=ASOF))
    report(seconds=time.perf_counter() - t, cpu=time.process_time() - c, kpis=len(ids))


def rollup(db: str, repeat: str) -> None:
    """Enable the daily rollup by channel (timed), then a query it answers (warm, best of repeat)."""
    from servicekpi.engine import rollups
    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    from steps import END, START, best, best_cpu, report
    con = store.connect(db)
    rollups.disable(con)
    t, c = time.perf_counter(), time.process_time()
    rollups.enable(Engine(con), ["channel"])
    build, build_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    again = rollups.refresh(Engine(con))  # nothing changed: nothing journaled, no row read
    noop = time.perf_counter() - t
    late_s, late_refresh, late_days = late_import(con)
    e = Engine(con)
    q = Query(kpis=ROLLED, by="month", dims=["channel"], start=START, end=END)
    seconds, cpu, _ = best_cpu(lambda: e.evaluate(q), int(repeat))
    used = sum(1 for _, sql in e.sql if "daily rollup" in sql)
    con.execute("ALTER TABLE sk_rollups RENAME TO sk_rollups_off")
    raw_s, _ = best(lambda: Engine(con).evaluate(q), int(repeat))
    con.execute("ALTER TABLE sk_rollups_off RENAME TO sk_rollups")
    report(build=build, build_cpu=build_cpu, cpu=cpu, noop_refresh=noop, recomputed=sum(again.values()), seconds=seconds, raw=raw_s,
           groups=len(e.sql), from_rollup=used, late_import=late_s, late_refresh=late_refresh, late_days=late_days)


def late_import(con) -> tuple[float, float, int]:
    """100 tickets imported late into an old day (2026-06-15) and the refresh after it, in a
    transaction rolled back after (as the API's ingest runs them): seconds, seconds, days recomputed."""
    import pyarrow as pa

    from servicekpi.engine import rollups
    from servicekpi.engine.query import Engine
    from servicekpi.ingest import load
    n = 100
    late = pa.table({"ticket_id": [f"late-{i}" for i in range(n)], "channel": ["email"] * n,
                     "created_at": [f"2026-06-15T{i % 24:02d}:00:00Z" for i in range(n)],
                     "status": ["resolved"] * n, "resolved_at": ["2026-06-16T09:00:00Z"] * n})
    con.execute("BEGIN")
    try:
        t = time.perf_counter()
        load.arrow_ingest(con, "tickets", late, "late")
        imported = time.perf_counter() - t
        t = time.perf_counter()
        done = rollups.refresh(Engine(con))
        return imported, time.perf_counter() - t, max(done.values())
    finally:
        con.execute("ROLLBACK")


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
                   import_cpu_rps=imp["rows"] / imp["cpu"], cold=c["seconds"], warm=w["seconds"],
                   cold_cpu=c["cpu"], warm_cpu=w["cpu"], query_rss=max(c["rss_mb"], w["rss_mb"]),
                   build=r["build"], build_cpu=r["build_cpu"], noop=r["noop_refresh"], late_import=r["late_import"],
                   late_refresh=r["late_refresh"], late_days=r["late_days"], rollup_ms=r["seconds"] * 1000,
                   rollup_cpu_ms=r["cpu"] * 1000, raw_ms=r["raw"] * 1000,
                   rollup_rss=r["rss_mb"], answered=f"{r['from_rollup']}/{r['groups']}", load=load,
                   load_after=os.getloadavg()[0], kpis=w["kpis"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    print(f"\n| tickets | rows | import rows/s (per CPU s) | catalog ({base['kpis']} KPIs) cold / warm (CPU s) "
          "| rollup build (CPU s) / no-op refresh / 100 late tickets: import, refresh (days) | rollup-answered query (CPU; raw) | peak RSS import / query / rollup "
          "| load avg | warm CPU / rows vs first |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        growth = (r["warm_cpu"] / base["warm_cpu"]) / (r["rows"] / base["rows"])
        print(f"| {r['tickets'] / 1e6:g}M | {r['rows'] / 1e6:.1f}M | {r['import_rps'] / 1e3:,.0f}k "
              f"({r['import_cpu_rps'] / 1e3:,.0f}k) | {r['cold']:.2f} s / {r['warm']:.2f} s "
              f"({r['cold_cpu']:.2f} / {r['warm_cpu']:.2f}) | {r['build']:.1f} s ({r['build_cpu']:.1f}) / "
              f"{r['noop']:.2f} s / {r['late_import']:.2f} s, {r['late_refresh']:.2f} s ({r['late_days']}) | "
              f"{r['rollup_ms']:.0f} ms ({r['rollup_cpu_ms']:.0f} ms; {r['raw_ms']:.0f} ms), "
              f"{r['answered']} groups | {r['import_rss'] / 1024:.1f} / {r['query_rss'] / 1024:.1f} / "
              f"{r['rollup_rss'] / 1024:.1f} GB | {r['load']:.1f}-{r['load_after']:.1f} | {growth:.2f} |")

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("cold", "rollup"):
        sys.path.insert(0, str(HERE))
        {"cold": cold, "rollup": rollup}[sys.argv[1]](*sys.argv[2:])
    else:
        main()
