"""Profile an import statement by statement: wall and CPU seconds (all threads) of each, and the
Python time between statements. CPU / wall near 2 means a statement kept both cores busy.

    PYTHONPATH=src python bench/import_profile.py DATA_DIR STORE.duckdb [--top 30]

Imports a folder of Parquet files into a fresh store as `servicekpi import` does (load, then the
stored business seconds). Statements are run through a wrapper of the connection, so only file
imports are profiled (a chunked stream's Arrow tables are found by the caller's frame)."""
from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path


def _threads() -> dict[str, int]:
    """CPU nanoseconds of each thread of this process so far."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[tid] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def _spread(before: dict[str, int], after: dict[str, int]) -> float:
    """CPU of all threads / CPU of the busiest: 1.0 = one thread did the work, 2.0 = two did."""
    d = [after[t] - before.get(t, 0) for t in after]
    return sum(d) / max(d) if d and max(d) > 0 else 0.0


class Timed:
    """A DuckDB connection whose execute/sql calls are timed (sql runs at once, like execute)."""

    def __init__(self, con):
        self._con = con
        self.rows: list[tuple[float, float, float, str]] = []
        self.gap_wall = self.gap_cpu = 0.0
        self._last = (time.perf_counter(), time.process_time())

    def _run(self, query: str, params=None):
        th = _threads()
        w, c = time.perf_counter(), time.process_time()
        self.gap_wall += w - self._last[0]
        self.gap_cpu += c - self._last[1]
        out = self._con.execute(query, params) if params else self._con.execute(query)
        rows = out.to_arrow_table() if query.lstrip().upper().startswith(("SELECT", "DESCRIBE", "WITH")) else None
        self.rows.append((time.perf_counter() - w, time.process_time() - c, _spread(th, _threads()), query))
        self._last = (time.perf_counter(), time.process_time())
        return _Done(rows, out)

    def execute(self, query, params=None):
        return self._run(query, params)

    def sql(self, query, params=None):
        return self._run(query, params)

    def __getattr__(self, name):
        return getattr(self._con, name)


class _Done:
    def __init__(self, rows, cur):
        self._rows, self._cur = rows, cur

    def fetchall(self):
        if self._rows is None:
            return self._cur.fetchall()
        return list(zip(*(c.to_pylist() for c in self._rows.columns))) if self._rows.num_rows else []

    def to_arrow_table(self):
        return self._rows if self._rows is not None else self._cur.to_arrow_table()

    fetch_arrow_table = to_arrow_table

    def __getattr__(self, name):
        return getattr(self._cur, name)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("db")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--dump", help="write every statement, slowest first, to this file")
    a = p.parse_args()
    from servicekpi.core.config import Config
    from servicekpi.ingest import load
    from servicekpi.store import business
    from servicekpi.store import db as store
    Path(a.db).unlink(missing_ok=True)
    con = store.connect(a.db)
    timed = Timed(con)
    th = _threads()
    w, c = time.perf_counter(), time.process_time()
    result = load.run(timed, Path(a.data))
    business.refresh(timed, Config().business())
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(f"total wall {wall:.2f} s, cpu {cpu:.2f} s, rows {result.total('imported')}, "
          f"rejected {result.total('rejected')}; python between statements: wall {timed.gap_wall:.2f}, "
          f"cpu {timed.gap_cpu:.2f}; threads over the whole run {_spread(th, _threads()):.2f}")
    print(f"statements: cpu {sum(r[1] for r in timed.rows):.2f} s; threads: all threads' CPU over the busiest one's")
    ranked = sorted(timed.rows, key=lambda r: -r[1])
    if a.dump:
        Path(a.dump).write_text("".join(f"-- {sw:.2f} wall {sc:.2f} cpu {spread:.2f} threads\n{q};\n\n"
                                        for sw, sc, spread, q in ranked))
    for sw, sc, spread, q in ranked[:a.top]:
        text = re.sub(r"\s+", " ", q).strip()
        print(f"{sw:6.2f} wall {sc:6.2f} cpu {spread:4.2f} threads  {text[:140]}")


if __name__ == "__main__":
    main()
