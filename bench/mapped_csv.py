"""Benchmark: the CSV mapping connector alone (issue 5, `--source csv --mapping`), the vectorised path
against the row-by-row reference (csv_mapping.files.VECTOR = False), measured in the same run, each in its own
process, alternating, so that the ratios are paired on a noisy machine. Not a test: it prints figures.

    nice .venv/bin/python bench/mapped_csv.py [--rows 100000,1000000] [--repeat 1] [--check]

The input is bench/connectors.py's call-center CSV (the layout and mapping of
docs/connectors/examples/call-center: a date + time in London, Y/N maps, an H:MM:SS duration, an
expression, `when`, two tables from each row), generated under bench/out/ if missing. Each process
converts the file and drops the batches (no store): the figures are the connector's own wall time,
source rows per second, CPU time (all threads; less disturbed by other work on the machine) and peak RSS
(ru_maxrss of the process). --check also prints a digest of every
batch (table, lines, values) so the two paths' outputs can be compared.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from connectors import MAPPING, OUT, call_center_csv  # noqa: E402

CHILD = """
import hashlib, json, resource, sys, time
from pathlib import Path
import pyarrow as pa
from servicekpi.connectors import csv_mapping
from servicekpi.connectors.csv_mapping import files as mapped_files
mapped_files.VECTOR = sys.argv[1] == "vector"
t, c = time.perf_counter(), time.process_time()
conv = csv_mapping.convert(Path(sys.argv[2]), mapping=Path(sys.argv[3]))
n = 0
h = hashlib.sha256() if sys.argv[4] == "1" else None
for b in conv.batches:
    n += b.data.num_rows
    if h is not None:
        h.update(b.table.encode())
        h.update(str(b.lines.to_pylist()).encode())
        h.update(str(b.data.to_pydict()).encode())
secs, cpu = time.perf_counter() - t, time.process_time() - c
if h is not None:
    h.update("\\n".join(conv.notes).encode())
print(json.dumps({"seconds": secs, "cpu_seconds": cpu, "out_rows": n, "digest": h.hexdigest() if h else None,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "notes": len(conv.notes)}))
"""


def run(mode: str, path: Path, check: bool) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), str(MAPPING), "1" if check else "0"],
                       capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"{mode}: failed (exit {r.returncode})")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="100000,1000000", help="source rows of each run, comma-separated")
    ap.add_argument("--repeat", type=int, default=1, help="pairs per size (the order alternates)")
    ap.add_argument("--check", action="store_true", help="digest of every batch and the notes, both paths")
    ap.add_argument("--only", choices=("vector", "rows"), help="one path only (no ratio)")
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    results = []
    for n in [int(x) for x in a.rows.split(",") if x]:
        f = OUT / f"call_center_{n}.csv"
        if not f.exists():
            t = time.perf_counter()
            call_center_csv(f, n)
            print(f"generated {f.name}: {f.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - t:.0f} s", flush=True)
        for k in range(a.repeat):
            modes = [a.only] if a.only else (["vector", "rows"] if k % 2 == 0 else ["rows", "vector"])
            got = {}
            for mode in modes:
                got[mode] = r = run(mode, f, a.check)
                print(f"{mode:6s} {n:>10,} rows {r['seconds']:8.1f} s {n / r['seconds']:>10,.0f} rows/s "
                      f"(CPU {r['cpu_seconds']:.1f} s) peak RSS {r['peak_rss_mb']:6.0f} MB  ({r['out_rows']:,} rows out"
                      f"{', digest ' + r['digest'][:12] if r['digest'] else ''})", flush=True)
            if len(got) == 2:
                ratio = got["rows"]["seconds"] / got["vector"]["seconds"]
                cpu = got["rows"]["cpu_seconds"] / got["vector"]["cpu_seconds"]
                same = "" if not a.check else (" same output" if got["rows"]["digest"] == got["vector"]["digest"]
                                               else " OUTPUTS DIFFER")
                print(f"  {n:,} rows: vector is {ratio:.1f}x the row-by-row speed (CPU time ratio {cpu:.1f}x)"
                      f"{same}", flush=True)
            results.append({"rows": n, **{m: {k2: v for k2, v in r.items()} for m, r in got.items()}})
    (OUT / "mapped_csv.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
