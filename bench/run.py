"""Benchmark: import rate, the ticket/call/survey catalog by month x channel, and ratios
to a pandas baseline and to hand-written DuckDB SQL measured in the same run.

    .venv/bin/python bench/run.py [--tickets 10000000] [--small 1000000] [--repeat 3]

Each measured step runs in its own process, which reports its seconds and peak RSS.
This is not a test: it prints figures, it does not assert on time.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def step(*args: str) -> dict:
    r = subprocess.run([sys.executable, str(HERE / "steps.py"), *args], capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"bench step {args[0]} failed")
    return json.loads(r.stdout.strip().splitlines()[-1])


def dataset(tickets: int) -> Path:
    folder = OUT / f"data_{tickets}"
    if not (folder / "surveys.parquet").exists():
        t = time.perf_counter()
        info = step("generate", str(folder), str(tickets))
        print(f"generated {tickets:,} tickets in {time.perf_counter() - t:.1f} s: {info['rows']}", flush=True)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=10_000_000)
    ap.add_argument("--small", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)

    print(f"== baselines at {a.small:,} tickets", flush=True)
    small = dataset(a.small)
    db_small = OUT / f"store_{a.small}.duckdb"
    imp = step("import", str(small), str(db_small))
    print(f"import: {imp['rows']:,} rows in {imp['seconds']:.1f} s = {imp['rows'] / imp['seconds']:,.0f} rows/s, "
          f"then business seconds stored in {imp['business_seconds']:.1f} s, peak {imp['rss_mb']:.0f} MB", flush=True)
    eng = step("engine", str(db_small), str(a.repeat), "compare")
    pdb = step("pandas", str(small), str(a.repeat))
    eng5 = step("engine", str(db_small), str(a.repeat), "five")
    sql5 = step("sql", str(db_small), str(a.repeat))
    print(f"engine, {eng['kpis']} KPIs by month x channel: {eng['seconds']:.3f} s warm, peak {eng['rss_mb']:.0f} MB")
    print(f"pandas, same KPIs:                      {pdb['seconds']:.3f} s, peak {pdb['rss_mb']:.0f} MB")
    print(f"  -> engine is {pdb['seconds'] / eng['seconds']:.1f}x faster than pandas (target >= 5x)")
    print(f"engine, five KPIs: {eng5['seconds']:.3f} s; hand-written SQL: {sql5['seconds']:.3f} s")
    print(f"  -> engine / SQL = {eng5['seconds'] / sql5['seconds']:.2f} (target <= 1.2)")
    agree = step("agree", str(db_small), str(small))
    print(f"engine == pandas == SQL on every compared cell: {agree['ok']} ({agree['cells']} cells)", flush=True)

    if a.tickets:
        print(f"== full catalog at {a.tickets:,} tickets", flush=True)
        big = dataset(a.tickets)
        db_big = OUT / f"store_{a.tickets}.duckdb"
        imp = step("import", str(big), str(db_big))
        print(f"import: {imp['rows']:,} rows in {imp['seconds']:.1f} s = {imp['rows'] / imp['seconds']:,.0f} rows/s "
              f"(target >= 500k), then business seconds stored in {imp['business_seconds']:.1f} s "
              f"(with them: {imp['rows'] / (imp['seconds'] + imp['business_seconds']):,.0f} rows/s), "
              f"peak {imp['rss_mb']:.0f} MB", flush=True)
        cat = step("engine", str(db_big), str(a.repeat), "catalog")
        print(f"catalog ({cat['kpis']} ticket, call and survey KPIs) by month x channel: {cat['seconds']:.2f} s warm "
              f"(target <= 5 s), peak {cat['rss_mb']:.0f} MB (target <= 3072 MB)", flush=True)
        frt = step("frt", str(db_big), str(max(a.repeat, 7)))
        print(f"first_response_time by month x channel, medians of paired runs: calendar {frt['calendar']:.3f} s, "
              f"business {frt['business']:.3f} s -> business / calendar = {frt['ratio']:.2f} (target <= 2), "
              f"{'stored business seconds' if frt['stored'] else 'calendar lookup (no stored seconds)'}, "
              f"peak {frt['rss_mb']:.0f} MB")

if __name__ == "__main__":
    main()
