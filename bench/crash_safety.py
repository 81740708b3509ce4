"""Crash safety of `servicekpi import`: kill -9 at random points, and a full disk, leave the store in
its before- or its after-state, never in between (docs/security.md, "Crash safety").

    python bench/crash_safety.py                 # 12 kills + 4 disk-full runs, about a minute
    python bench/crash_safety.py --kills 40 --disk-full 10 --tickets 20000 --seed 3

Procedure: a store holds dataset A (seed 1). Dataset B (seed 2, more tickets: rows replaced and
added) is imported into copies of it, once to the end (the after-state) and then killed with SIGKILL
after a random delay within the time a whole import takes, or run with the file size limited
(RLIMIT_FSIZE at a random size, so every write past it fails as on a full disk). After each run the store is opened
as the next command would open it (DuckDB replays or discards its WAL) and every table's rows are
hashed. Prints one line per run and the totals; exit 1 if any run left a third state.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src"))


def cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "servicekpi", *args], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kw)


def state(db: Path) -> str:
    """Every table's rows, hashed; opened read-write, as the next import would. The stored business
    seconds (__b_* columns, business_stamp) are a cache the import fills in a second transaction after
    the rows commit; a run killed between the two is the after-state with that cache pending, which
    queries compute on the fly and the next import or `servicekpi recompute` fills (reported apart)."""
    con = duckdb.connect(str(db))
    try:
        h = hashlib.sha256()
        for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall():
            if t in ("imported", "business_stamp"):  # import timestamps differ between runs; a cache
                continue
            cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = ? ORDER BY 1", [t]).fetchall()
                    if not r[0].startswith("__b_")]
            sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)
            rows = con.execute(f'SELECT {sel} FROM "{t}" ORDER BY ALL').fetchall()
            h.update(f"{t}:{len(rows)}:".encode() + repr(rows).encode())
        pending = any(con.execute(f'SELECT count(*) FROM "{t}" WHERE "{c}" IS NULL').fetchall()[0][0]
                      for t, c in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                              "WHERE column_name LIKE '\\_\\_b\\_%' ESCAPE '\\'").fetchall())
        return h.hexdigest()[:16] + (" (business seconds pending)" if pending else "")
    finally:
        con.close()


def classify(s: str, before: str, after: str) -> str:
    data = s.split(" ")[0]
    which = "before" if data == before.split(" ")[0] else "after" if data == after.split(" ")[0] else "other"
    return which + (" (business seconds pending)" if "pending" in s and which == "after" else "")


def fresh(base: Path, work: Path) -> Path:
    db = work / "store.duckdb"
    for p in work.glob("store.duckdb*"):
        p.unlink()
    shutil.copy(base, db)
    return db


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--disk-full", type=int, default=4)
    ap.add_argument("--tickets", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    tmp = Path(tempfile.mkdtemp(prefix="sk-crash-"))
    try:
        for name, seed, n in (("a", 1, a.tickets), ("b", 2, a.tickets * 3 // 2)):
            assert cli("generate", str(tmp / name), "--tickets", str(n), "--seed", str(seed), "--months", "3",
                       "--end", "2026-11-01").wait() == 0
        base = tmp / "base.duckdb"
        assert cli("import", str(tmp / "a"), "--db", str(base)).wait() == 0
        before = state(base)
        work = tmp / "w"
        work.mkdir()
        db = fresh(base, work)
        t0 = time.perf_counter()
        assert cli("import", str(tmp / "b"), "--db", str(db)).wait() == 0
        whole = time.perf_counter() - t0
        after = state(db)
        grown_files = sum(p.stat().st_size for p in work.glob("store.duckdb*"))
        assert before != after
        print(f"before {before}, after {after}; a whole import of B takes {whole:.1f} s")
        counts = {"before": 0, "after": 0, "other": 0}
        for i in range(a.kills):
            db = fresh(base, work)
            p = cli("import", str(tmp / "b"), "--db", str(db))
            delay = rnd.uniform(0.05, whole * 1.05)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            s = state(db)
            which = classify(s, before, after)
            counts[which.split(" ")[0]] += 1
            print(f"kill -9 at {delay:5.2f} s: {which}")
        size = base.stat().st_size
        grown = max(1 << 16, grown_files - size)
        for i in range(a.disk_full):
            db = fresh(base, work)
            # RLIMIT_FSIZE caps each file's size: writes to the WAL past the cap, or to the store file past it,
            # fail with EFBIG, as on a full disk (a cap below the store's size fails every checkpoint write)
            limit = rnd.randint(64 << 10, size + grown)

            def cap(limit=limit):
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            p = cli("import", str(tmp / "b"), "--db", str(db), preexec_fn=cap)
            _, err = p.communicate()
            s = state(db)
            which = classify(s, before, after)
            counts[which.split(" ")[0]] += 1
            last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            print(f"files capped at {limit >> 10} KiB (store {size >> 10} KiB): exit {p.returncode}, {which} ({last[0][:90]})")
        print(f"{a.kills} kills, {a.disk_full} disk-full runs: {counts['before']} before-state, "
              f"{counts['after']} after-state, {counts['other']} other")
        return 1 if counts["other"] else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
