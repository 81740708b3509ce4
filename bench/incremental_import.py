"""An import into a store that already holds data against the same import into an empty store
(issue 17): rows per CPU second of each, measured in the same run, and their ratio.

    PYTHONPATH=src python bench/incremental_import.py --tickets 6000000 --dir /tmp/incr-bench

Generates (servicekpi.sample.months, seed 11) the first month of a set of --tickets over six
months, imports it into the base store, then generates a part of the next month (--parts, the
first part: whole days) and imports that chunk, each import in a fresh process:

- into an empty store;
- into a copy of the base store, as the import does now (tickets the store lacks are held back and
  inserted with their facts from the chunk's own messages);
- into another copy with `load.DEFER_NEW_TICKETS = False` (the general path: every touched
  ticket recomputed from the stored messages, the one before this change), unless --no-general.

Then the stored business seconds of each (as `servicekpi import` does next), timed apart. Prints
a JSON line per import and a table. CPU seconds count all threads of the importing process. Not
a test: nothing is asserted on time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

END = dt.date(2026, 11, 1)   # as chunked.py: six months to 2026-11-01


def generate(folder: Path, month: int, tickets: int, part: int, parts: int) -> dict:
    from servicekpi.sample.months import generate_month
    shutil.rmtree(folder, ignore_errors=True)
    return generate_month(folder, month, tickets=tickets, seed=11, months=6, end=END,
                          calls=tickets // 5, surveys=tickets // 5, part=part, parts=parts)


def measure(db: str, data: str, general: str) -> None:
    """One import in this process (a child of main): prints its rows, CPU and wall seconds."""
    from servicekpi.core.config import Config
    from servicekpi.ingest import load
    from servicekpi.store import business
    from servicekpi.store import db as store
    load.DEFER_NEW_TICKETS = general != "general"
    con = store.connect(db)
    stored = con.execute("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM messages)").fetchall()[0]
    t, c = time.perf_counter(), time.process_time()
    r = load.run(con, Path(data))
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    c = time.process_time()
    done = business.refresh(con, Config().business())
    b_cpu = time.process_time() - c
    con.close()
    print(json.dumps({"stored_tickets": stored[0], "stored_messages": stored[1], "rows": r.total("imported"),
                      "rejected": r.total("rejected"), "recomputed": r.recomputed, "cpu": round(cpu, 2),
                      "seconds": round(seconds, 2), "business_cpu": round(b_cpu, 2), "business": done,
                      "load": [round(x, 2) for x in os.getloadavg()]}))


def child(db: Path, data: Path, general: bool = False) -> dict:
    r = subprocess.run([sys.executable, __file__, "measure", str(db), str(data), "general" if general else "added"],
                       capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit("an import failed")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=6_000_000, help="the whole set's tickets (six months)")
    ap.add_argument("--parts", type=int, default=4, help="the next month in this many parts; the first is imported")
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--no-general", action="store_true", help="skip the general path's import")
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    base, month0, chunk = a.dir / "base.duckdb", a.dir / "month0", a.dir / "chunk"
    if not base.exists():
        generate(month0, 0, a.tickets, 0, 1)
        print(json.dumps({"base": child(base, month0)}), flush=True)
        shutil.rmtree(month0)
    rows = generate(chunk, 1, a.tickets, 0, a.parts)
    print(json.dumps({"chunk_rows": sum(rows.values()), "chunk_tickets": rows["tickets"]}), flush=True)
    out = {}
    for name in ["empty", "populated"] + ([] if a.no_general else ["general"]):
        db = a.dir / f"{name}.duckdb"
        db.unlink(missing_ok=True)
        if name != "empty":
            shutil.copyfile(base, db)
        out[name] = child(db, chunk, general=name == "general")
        print(json.dumps({name: out[name]}), flush=True)
        db.unlink()
        shutil.rmtree(f"{db}.sqlcache", ignore_errors=True)  # compiled SQL kept beside a store
    shutil.rmtree(chunk)

    def per_cpu(r: dict) -> float:
        return r["rows"] / r["cpu"]

    print(f"\nchunk of {rows['tickets']:,} tickets ({sum(rows.values()):,} rows); store of "
          f"{out['populated']['stored_tickets']:,} tickets, {out['populated']['stored_messages']:,} messages")
    print("| import | rows per CPU s | CPU s | wall s | stored tickets recomputed | business CPU s | ratio to empty |")
    print("|---|---|---|---|---|---|---|")
    for name, r in out.items():
        print(f"| {name} | {per_cpu(r):,.0f} | {r['cpu']} | {r['seconds']} | {r['recomputed']:,} | "
              f"{r['business_cpu']} | {per_cpu(r) / per_cpu(out['empty']):.2f} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "measure":
        measure(*sys.argv[2:5])
    else:
        main()
