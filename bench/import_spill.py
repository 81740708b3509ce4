"""Where an import spills: every statement the import runs, with its wall time and the peak size of
DuckDB's temporary directory (and of the process's RSS) while it ran, sampled every 0.5 s.

    PYTHONPATH=src python bench/import_spill.py DATA_DIR STORE [--limit 3GB] [--top 12]

Prints one JSON line per statement that took over a second or spilled, then the top ones by spill.
Not a test; the figures depend on the machine and its load."""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path


def dir_bytes(path: str) -> int:
    total = 0
    try:
        for e in os.scandir(path):
            try:
                total += e.stat().st_size if e.is_file() else dir_bytes(e.path)
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        return 0
    return total


def rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Watched:
    """The store connection, every statement timed and its spill sampled."""

    def __init__(self, con, temp: str):
        self._con, self._temp = con, temp
        self.log: list[dict] = []
        self._now: dict | None = None
        self._stop = False
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self):
        while not self._stop:
            cur = self._now
            if cur is not None:
                cur["temp_peak"] = max(cur["temp_peak"], dir_bytes(self._temp))
                cur["rss_peak"] = max(cur["rss_peak"], rss_now())
            time.sleep(0.5)

    def _timed(self, method: str, query, *a, **kw):
        entry = {"sql": " ".join(str(query).split())[:160], "temp_peak": dir_bytes(self._temp), "rss_peak": rss_now()}
        self._now = entry
        t, c = time.perf_counter(), time.process_time()
        try:
            # con.sql runs a statement that changes something at once; a SELECT's relation runs
            # when fetched, later (the import's are counts, small)
            return getattr(self._con, method)(query, *a, **kw)
        finally:
            entry["seconds"], entry["cpu"] = time.perf_counter() - t, time.process_time() - c
            entry["temp_after"] = dir_bytes(self._temp)
            self._now = None
            self.log.append(entry)

    def execute(self, query, *a, **kw):
        return self._timed("execute", query, *a, **kw)

    def sql(self, query, *a, **kw):
        return self._timed("sql", query, *a, **kw)

    def __getattr__(self, name):
        return getattr(self._con, name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("db")
    ap.add_argument("--limit", default=None, help="the import's memory_limit (default: the importer's)")
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    from servicekpi.ingest import load
    from servicekpi.store import db as store
    if a.limit:
        load.MEMORY_LIMIT = a.limit
    Path(a.db).unlink(missing_ok=True)
    con = store.connect(a.db)
    temp = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    w = Watched(con, temp)
    t, c = time.perf_counter(), time.process_time()
    result = load.run(w, Path(a.data))
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    w._stop = True
    for e in w.log:
        if e["seconds"] > 1 or e["temp_peak"] > 0:
            print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in e.items()}), flush=True)
    print(json.dumps({"rows": result.total("imported"), "seconds": seconds, "cpu": cpu, "temp_dir": temp,
                      "limit": load.MEMORY_LIMIT, "load": os.getloadavg(),
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    for e in sorted(w.log, key=lambda e: -e["temp_peak"])[:a.top]:
        print(f"{e['temp_peak'] / 2**30:6.2f} GB temp, {e['rss_peak'] / 2**30:5.2f} GB RSS, {e['seconds']:7.1f} s "
              f"({e['cpu']:6.1f} CPU s): {e['sql']}", file=sys.stderr)


if __name__ == "__main__":
    main()
