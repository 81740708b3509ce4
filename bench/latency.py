"""Whole-process latency a person feels: each figure is a whole `servicekpi` process, and each
ratio is taken against a baseline measured in the same run, pair by pair (A then B, repeated),
so a machine whose speed drifts (other jobs) mostly cancels out.

    PYTHONPATH=src python bench/latency.py --demo demo/servicekpi.duckdb \
        [--big BIG/store.duckdb --data BIG/data [--big-only]] [--repeat 5]

--demo: a store made by `servicekpi demo`. --big / --data: the 1M store and its generated files
(bench/steps.py generate + import). Prints one JSON line per figure and a summary table; the
machine's load average is printed with every figure (the machine is shared). Each figure also has
the median CPU seconds of its processes (user + system, every thread): at a load above the core
count the wall time mostly measures the queue for a core, the CPU time what the command costs."""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# --src: another tree's src/ (e.g. an earlier commit's, for before/after figures in one session)
SRC = Path(sys.argv[sys.argv.index("--src") + 1]).resolve() if "--src" in sys.argv else HERE.parent / "src"
sys.path.insert(0, str(SRC))
# bytecode written and reused, as in an installed package (a shell with PYTHONDONTWRITEBYTECODE=1
# would compile every servicekpi module in every process: ~0.3 s here)
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONPATH": str(SRC)}
sys.path.insert(0, str(HERE))
import steps  # noqa: E402 - the 1M queries and the pandas baseline live there

BARE = """import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(open(sys.argv[2]).read()).fetchall()
print(len(rows))"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


CPU: list[float] = []  # the CPU seconds (user + system, all threads) of each process timed, in order


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str]) -> float:
    """The wall seconds of one process; its CPU seconds go to CPU. On a shared machine the wall time
    grows with the load (a process waits for a core) while the CPU time barely moves: on an idle
    machine a command that runs on one core takes about its CPU time."""
    c, t = children_cpu(), time.perf_counter()
    r = subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t
    CPU.append(children_cpu() - c)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")
    return seconds


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "servicekpi", *args]


def pair(a: list[str], b: list[str] | None, repeat: int) -> dict:
    """A (and B) run `repeat` times in turn after one warm-up each: medians and the median ratio."""
    timed(a)
    if b:
        timed(b)
    ta, tb, ca, cb = [], [], [], []
    for _ in range(repeat):
        ta.append(timed(a))
        ca.append(CPU[-1])
        if b:
            tb.append(timed(b))
            cb.append(CPU[-1])
    out = {"median_s": round(statistics.median(ta), 3), "min_s": round(min(ta), 3),
           "cpu_median_s": round(statistics.median(ca), 3)}
    if b:
        out.update(baseline_median_s=round(statistics.median(tb), 3),
                   ratio=round(statistics.median(x / y for x, y in zip(ta, tb)), 2),
                   baseline_cpu_median_s=round(statistics.median(cb), 3),
                   cpu_ratio=round(statistics.median(x / y for x, y in zip(ca, cb)), 2))
    return out


def statement(db: str, kpis: list[str], **q) -> str:
    """The exact statement `servicekpi kpi` runs for these KPIs (compiled once, outside the timing)."""
    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    eng = Engine(store.connect(db, read_only=True))
    eng.evaluate(Query(kpis=kpis, **q))
    return eng.backend.union([sql for _, sql in eng.sql])


def report(name: str, cmd: str, figures: dict, target: str = "") -> dict:
    row = {"name": name, "command": cmd, **figures, "target": target, "load": load()}
    print(json.dumps(row), flush=True)
    return row


def demo_rows(db: str, repeat: int, tmp: Path) -> list[dict]:
    rows = []
    sql = tmp / "volume.sql"
    sql.write_text(statement(db, ["ticket_volume"]), encoding="utf-8")
    rows.append(report("kpi ticket_volume (demo, warm) vs bare duckdb on the same SQL",
                       f"servicekpi kpi ticket_volume --db {db}",
                       pair(cli("kpi", "ticket_volume", "--db", db),
                            [sys.executable, "-c", BARE, db, str(sql)], repeat), "ratio <= 2"))
    rows.append(report("scorecard (demo, warm)", f"servicekpi scorecard --db {db}",
                       pair(cli("scorecard", "--db", db), None, repeat), "<= 0.7 s"))
    for ext in ("xlsx", "html"):
        out = str(tmp / f"x.{ext}")
        rows.append(report(f"report --out x.{ext} (demo, warm)", f"servicekpi report --db {db} --out x.{ext}",
                           pair(cli("report", "--db", db, "--out", out), None, repeat), "<= 2 s"))
    return rows


def big_rows(db: str, data: str, repeat: int) -> list[dict]:
    rows = []
    args = ["kpi", *steps.COMPARE, "--by", "month", "--dim", "channel", "--from", steps.START.isoformat(),
            "--to", steps.END.isoformat(), "--as-of", steps.ASOF.isoformat(), "--format", "json", "--db", db]
    warm = pair(cli(*args), None, repeat)
    r = subprocess.run([sys.executable, str(HERE / "steps.py"), "pandas", data, str(repeat)], env=ENV,
                       capture_output=True, text=True, check=True)
    pandas = json.loads(r.stdout.strip().splitlines()[-1])
    pandas_s = pandas["seconds"]
    warm.update(pandas_compute_s=round(pandas_s, 3), speedup_vs_pandas=round(pandas_s / warm["median_s"], 2),
                pandas_compute_cpu_s=round(pandas["cpu"], 3),
                cpu_speedup_vs_pandas=round(pandas["cpu"] / warm["cpu_median_s"], 2))
    rows.append(report(f"kpi {len(steps.COMPARE)} KPIs month x channel (1M, warm) vs pandas compute alone",
                       "servicekpi kpi " + " ".join(args[1:]), warm, ">= 10x"))
    # the first query after an import: a few tickets imported (after the queried range, so the
    # figures stay comparable), then the query; the store's compiled SQL is keyed by its schema,
    # not its data, so it stays valid. Then with the cache emptied: a store's very first query.
    firsts, colds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(max(1, repeat // 2)):
            csv = Path(tmp) / "tickets.csv"
            csv.write_text(f"ticket_id,created_at,channel\nBENCH-{time.time_ns()}-{i},2026-11-20T10:00:00Z,email\n",
                           encoding="utf-8")
            timed(cli("import", str(csv), "--db", db))
            firsts.append(timed(cli(*args)))
            shutil.rmtree(db + ".sqlcache", ignore_errors=True)
            colds.append(timed(cli(*args)))
    first, cold = statistics.median(firsts), statistics.median(colds)
    rows.append(report("first query after an import (1M) vs warm",
                       "servicekpi import MORE.csv; servicekpi kpi ... (as above)",
                       {"median_s": round(first, 3), "warm_median_s": warm["median_s"],
                        "ratio": round(first / warm["median_s"], 2)}, "ratio <= 1.5"))
    rows.append(report("a store's very first query (1M, empty SQL cache) vs warm",
                       "rm -r STORE.sqlcache; servicekpi kpi ... (as above)",
                       {"median_s": round(cold, 3), "warm_median_s": warm["median_s"],
                        "ratio": round(cold / warm["median_s"], 2)}, "(no target)"))
    return rows


ROLLED = ["ticket_volume", "resolution_rate", "csat", "abandonment_rate", "avg_resolution_time"]


def rollup_rows(db: str, repeat: int) -> list[dict]:
    """A query the daily rollup answers (bench/scale.py's: 5 KPIs by month x channel, no --as-of),
    as a whole process, on a store whose rollup by channel is enabled (`servicekpi rollup --by channel`)."""
    args = ["kpi", *ROLLED, "--by", "month", "--dim", "channel", "--from", steps.START.isoformat(),
            "--to", steps.END.isoformat(), "--format", "json", "--db", db]
    return [report(f"kpi {len(ROLLED)} KPIs month x channel from the daily rollup (warm, whole process)",
                   "servicekpi kpi " + " ".join(args[1:]), pair(cli(*args), None, repeat), "(the query: <= 50 ms)")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo")
    ap.add_argument("--big")
    ap.add_argument("--data")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--src", help="the servicekpi tree to measure (default: this one)")
    ap.add_argument("--big-only", action="store_true", help="only the --big figures (--demo not run)")
    ap.add_argument("--rollup", help="a store with the daily rollup by channel: a query it answers")
    a = ap.parse_args()
    print(json.dumps({"start_load": load(), "cpus": os.cpu_count()}), flush=True)
    rows = []
    if a.demo and not a.big_only:
        with tempfile.TemporaryDirectory() as tmp:
            rows = demo_rows(a.demo, a.repeat, Path(tmp))
    if a.big and a.data:
        rows += big_rows(a.big, a.data, a.repeat)
    if a.rollup:
        rows += rollup_rows(a.rollup, a.repeat)
    print(f"\n{'figure':<78} {'median s':>9} {'cpu s':>6} {'ratio':>7} {'cpu ratio':>9}  target       load")
    for r in rows:
        ratio = r.get("ratio", r.get("speedup_vs_pandas", ""))
        cpu_ratio = r.get("cpu_ratio", r.get("cpu_speedup_vs_pandas", ""))
        print(f"{r['name']:<78} {r['median_s']:>9} {r.get('cpu_median_s', '')!s:>6} {ratio!s:>7} {cpu_ratio!s:>9}  "
              f"{r['target']:<12} {r['load']}")


if __name__ == "__main__":
    main()
