"""Scale benchmark for a set too big to generate at once: generate a month (its own process,
servicekpi.sample.months), import it (one import transaction per month, in one process holding
the store, as `steps.py import_months`), delete its files, repeat; then the catalog cold and warm
and the rollup, each in its own process (scale.py / steps.py steps).

    nice -n 19 .venv/bin/python bench/chunked.py --tickets 100000000 --dir /work/bigdata/scale100
    ... --from-month 3 [--from-part 1]   # resume into the store after the chunks before it
    ... --from-month 6     # (the month count) no import: the measures on the store as it is

Prints a JSON line per step (to stdout, flushed): per month the rows generated and imported,
wall and CPU seconds of both, peak RSS of both (the importer's peak is reset before each month),
the biggest size of DuckDB's temporary directory and the least free disk seen during the import
(sampled every 2 s), the store's size and the load average. Not a test: no assertions on time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
END = dt.date(2026, 11, 1)        # as steps.py generate: six months to 2026-11-01, seed 11


def gen(folder: str, month: str, tickets: str, months: str, part: str = "0", parts: str = "1") -> None:
    from servicekpi.sample.months import generate_month
    n = int(tickets)
    t, c = time.perf_counter(), time.process_time()
    rows = generate_month(folder, int(month), tickets=n, seed=11, months=int(months), end=END,
                          calls=n // 5, surveys=n // 5, part=int(part), parts=int(parts))
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
                      "rss_mb": _peak_rss_mb()}))


def measured(script: str, name: str, *args: str) -> None:
    """Run a step of steps.py / scale.py with its peak RSS read from VmHWM: a child's ru_maxrss
    starts at its parent's peak on Linux (the forked memory map's high-water mark survives exec),
    and the parent here holds the importer's peak."""
    sys.path.insert(0, str(HERE))
    import steps

    def fixed(**kw) -> None:
        kw["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({**kw, "rss_mb": _peak_rss_mb()}, default=str))

    steps.report = fixed
    mod = steps if script == "steps.py" else __import__(script.removesuffix(".py"))
    getattr(mod, name)(*args)


def _du(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


class Watch:
    """Samples the temporary directory's size and the free disk every 2 s."""

    def __init__(self, tmp: Path, disk: Path, con=None, floor: float = 0.0):
        self.tmp, self.disk, self.temp_max, self.free_min = tmp, disk, 0, shutil.disk_usage(disk).free
        self.con, self.floor, self.interrupted = con, floor, False
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(2):
            self.temp_max = max(self.temp_max, _du(self.tmp))
            self.free_min = min(self.free_min, shutil.disk_usage(self.disk).free)
            if self.con is not None and self.free_min < self.floor and not self.interrupted:
                self.interrupted = True      # keep the disk floor: the import rolls back
                self.con.interrupt()

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")   # Linux: resets VmHWM to the current RSS


def emit(**kw) -> None:
    kw["load"] = [round(x, 2) for x in os.getloadavg()]
    kw["free_gb"] = round(shutil.disk_usage(kw.pop("_disk", "/")).free / 2**30, 1)
    kw["at"] = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S")
    print(json.dumps(kw, default=str), flush=True)


def step(script: str, *args: str) -> dict:
    load = os.getloadavg()[0]
    cmd = [str(HERE / script), *args] if args[0] == "gen" else [str(HERE / "chunked.py"), "measured", script, *args]
    r = subprocess.run([sys.executable, *cmd], capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"step {script} {args[0]} failed")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["load_before"] = round(load, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, required=True)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--from-month", type=int, default=0)
    ap.add_argument("--from-part", type=int, default=0, help="with --from-month: resume at this part of it")
    ap.add_argument("--parts", type=int, default=1, help="import each month in this many parts (whole days)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-free-gb", type=float, default=10.0)
    a = ap.parse_args()
    from servicekpi.core.config import Config
    from servicekpi.ingest import load
    from servicekpi.store import business as business_store
    from servicekpi.store import db as store
    a.dir.mkdir(parents=True, exist_ok=True)
    db = a.dir / "store.duckdb"
    if (a.from_month, a.from_part) == (0, 0):
        db.unlink(missing_ok=True)
    con = store.connect(str(db))
    tmp = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
    totals = dict(total_rows=0, total_gen_cpu=0.0, total_import_cpu=0.0, total_import_s=0.0)
    todo = [(k, p) for k in range(a.from_month, a.months) for p in range(a.parts) if (k, p) >= (a.from_month, a.from_part)]
    for k, p in todo:
        folder = a.dir / f"month{k}.{p}"
        shutil.rmtree(folder, ignore_errors=True)
        g = step("chunked.py", "gen", str(folder), str(k), str(a.tickets), str(a.months), str(p), str(a.parts))
        size = _du(folder)
        if shutil.disk_usage(a.dir).free / 2**30 < a.min_free_gb:
            raise SystemExit(f"less than {a.min_free_gb} GB free after generating month {k}: stopped")
        _reset_peak()
        load0 = os.getloadavg()[0]
        with Watch(tmp, a.dir, con, a.min_free_gb * 2**30) as w:
            t, c = time.perf_counter(), time.process_time()
            try:
                r = load.run(con, folder)
            except Exception as e:  # noqa: BLE001 - any failure is logged with the disk state, then the run stops
                emit(step="failed", month=k, error=repr(e)[:500], interrupted=w.interrupted, free_min_gb=round(w.free_min / 2**30, 1),
                     temp_max_gb=round(w.temp_max / 2**30, 2), _disk=a.dir)
                raise SystemExit(1)
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
        shutil.rmtree(folder)
        imported = r.total("imported")
        totals["total_rows"] += imported
        totals["total_gen_cpu"] += round(g["cpu"], 1)
        totals["total_import_cpu"] += round(cpu, 1)
        totals["total_import_s"] += round(seconds, 1)
        emit(step="month", month=k, part=p, parts=a.parts, generated=sum(g["rows"].values()), tickets=g["rows"]["tickets"],
             parquet_gb=round(size / 2**30, 2), gen_s=round(g["seconds"], 1), gen_cpu=round(g["cpu"], 1),
             gen_rss_mb=round(g["rss_mb"]), imported=imported, rejected=r.total("rejected"),
             file_errors=len(r.file_errors), import_s=round(seconds, 1), import_cpu=round(cpu, 1),
             rows_per_cpu_s=round(imported / cpu) if cpu else None, import_rss_mb=round(_peak_rss_mb()),
             temp_max_gb=round(w.temp_max / 2**30, 2), free_min_gb=round(w.free_min / 2**30, 1),
             store_gb=round(db.stat().st_size / 2**30, 2), load_before=round(load0, 2), _disk=a.dir, **totals)
    t = time.perf_counter()
    business_store.refresh(con, Config().business())    # as `servicekpi import` does after loading
    emit(step="business", seconds=round(time.perf_counter() - t, 1), _disk=a.dir)
    con.close()
    emit(step="cold", **step("scale.py", "cold", str(db)), _disk=a.dir)
    emit(step="warm", **step("steps.py", "engine", str(db), str(a.repeat), "catalog"), _disk=a.dir)
    emit(step="rollup", **step("scale.py", "rollup", str(db), str(a.repeat + 2)), _disk=a.dir)
    emit(step="done", store_gb=round(db.stat().st_size / 2**30, 2), _disk=a.dir)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("gen", "measured"):
        {"gen": gen, "measured": measured}[sys.argv[1]](*sys.argv[2:])
    else:
        main()
