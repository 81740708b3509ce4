"""Load benchmark for `servicekpi serve`: concurrent readers and writers against a real server.

    python bench/server_load.py --tickets 10000000 --seconds 60 --readers 20 --writers 2

It generates and imports a store (or reuses --store), starts `servicekpi serve` on a free
loopback port, and for --seconds runs --readers threads asking a month x channel KPI query
(GET /api/kpis/ticket_volume?by=month&dim=channel for one month) and --writers threads pushing
batches of new tickets (POST /api/ingest/tickets). It prints p50/p95/p99 latency of each, the
errors, and checks at the end that every pushed ticket is counted (rows lost = 0). The client
talks to 127.0.0.1 only. Target (issue 6): p95 <= 300 ms for the query, 0 errors, 0 rows lost.
It prints the ratio of the read p95 to that target and, with --baseline (an earlier run's --out
JSON), the ratios baseline / this run of the read and write p50/p95 (above 1: faster now).

The server and the CLI calls run a snapshot of the code (--code, default HEAD, extracted with
git archive), not the working tree: edits made in the checkout while a run starts must not change
what is measured (a run whose server started on a half-edited module answered every write with
500). The server's log is always kept (--server-log, else server.log in the run's temp folder).
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ASOF = "2100-01-01T00:00:00Z"
TARGET_P95_MS = 300
REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ)  # the servicekpi processes' environment (PYTHONPATH: the code snapshot)


def cli(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "servicekpi", *args], capture_output=True, text=True, env=ENV)
    if r.returncode:
        raise SystemExit(f"servicekpi {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def code(rev: str, work: Path) -> dict:
    """Point ENV at the code to run: `rev`'s src/ extracted into work/code, or the working tree."""
    if rev == "worktree":
        try:
            dirty = bool(git("status", "--porcelain", "--", "src"))
            return {"code": "worktree", "commit": git("rev-parse", "HEAD"), "uncommitted_changes_in_src": dirty}
        except (OSError, subprocess.CalledProcessError):
            return {"code": "worktree", "commit": None}
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, "src"],
                             capture_output=True, check=True).stdout
    target = work / "code"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    ENV["PYTHONPATH"] = os.pathsep.join(p for p in (str(target / "src"), os.environ.get("PYTHONPATH")) if p)
    return {"code": "snapshot", "commit": commit}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickets", type=int, default=10_000_000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100, help="tickets per ingest request")
    ap.add_argument("--store", type=Path, help="reuse this store (else generated in a temp folder)")
    ap.add_argument("--engines", type=int, default=4, help="[server] query_engines")
    ap.add_argument("--out", type=Path, help="also write the result JSON here")
    ap.add_argument("--server-log", type=Path, help="the server's output, stderr and access log (default: "
                                                    "server.log in the run's temp folder)")
    ap.add_argument("--code", default="HEAD", help="git revision whose src/ the server and CLI run (default HEAD), "
                                                   "or 'worktree' for the checkout as it is, uncommitted edits included")
    ap.add_argument("--baseline", type=Path, help="an earlier run's --out JSON: print the speed-up ratios")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="servicekpi-load-"))
    ran = code(args.code, work)
    server_log = args.server_log or work / "server.log"
    db = args.store or work / "store.duckdb"
    if not db.exists():
        t0 = time.monotonic()
        cli("generate", str(work / "data"), "--tickets", str(args.tickets), "--months", "6")
        cli("import", str(work / "data"), "--db", str(db))
        print(f"store: {args.tickets} tickets generated and imported in {time.monotonic() - t0:.0f} s",
              file=sys.stderr)
    (db.parent / "servicekpi.toml").write_text(f"[server]\nquery_engines = {args.engines}\n", encoding="utf-8") \
        if not (db.parent / "servicekpi.toml").exists() else None
    viewer = cli("token", "create", "--role", "viewer", "--db", str(db)).strip().split("\n")[-1]
    writer = cli("token", "create", "--role", "ingest", "--db", str(db)).strip().split("\n")[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "servicekpi", "serve", "--db", str(db), "--port", str(port)],
                              stdout=server_log.open("w"), stderr=subprocess.STDOUT, env=ENV)
    try:
        deadline = time.time() + 120
        while True:
            try:
                httpx.get(f"{base}/api/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.time() > deadline:
                    raise SystemExit("the server did not start in 120 s")
                time.sleep(0.2)
        h_view = {"Authorization": f"Bearer {viewer}"}
        h_write = {"Authorization": f"Bearer {writer}"}
        total = lambda c: sum(r["value"] or 0 for r in c.get(  # noqa: E731
            "/api/kpis/ticket_volume", params={"as_of": ASOF}).json())
        with httpx.Client(base_url=base, headers=h_view, timeout=120) as c:
            before = total(c)
            months = [r["period_start"] for r in c.get("/api/kpis/ticket_volume",
                                                       params={"by": "month", "as_of": ASOF}).json() if r["value"]]
        month = dt.date.fromisoformat(months[-1])  # the last month with tickets
        last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        query = {"by": "month", "dim": "channel", "from": month.isoformat(), "to": last.isoformat(), "as_of": ASOF}

        stop = time.monotonic() + args.seconds
        lat = {"read": [], "write": []}
        errors: list[str] = []
        pushed = [0]
        lock = threading.Lock()

        def reader():
            with httpx.Client(base_url=base, headers=h_view, timeout=60) as c:
                while time.monotonic() < stop:
                    t0 = time.perf_counter()
                    try:
                        r = c.get("/api/kpis/ticket_volume", params=query)
                        ok = r.status_code == 200
                    except httpx.HTTPError as e:
                        ok, r = False, e
                    with lock:
                        (lat["read"].append(time.perf_counter() - t0) if ok
                         else errors.append(f"read: {getattr(r, 'status_code', r)}"))

        run = f"{time.time():.0f}"  # a reused store keeps earlier runs' tickets: new ids each run

        def writer_thread(w):
            n = 0
            with httpx.Client(base_url=base, headers=h_write, timeout=60) as c:
                while time.monotonic() < stop:
                    rows = [{"ticket_id": f"LOAD-{run}-{w}-{n}-{i}", "created_at": f"{last.isoformat()}T12:00:00Z",
                             "channel": "chat"} for i in range(args.batch)]
                    t0 = time.perf_counter()
                    try:
                        r = c.post("/api/ingest/tickets", json=rows, headers={"Idempotency-Key": f"load-{run}-{w}-{n}"})
                        ok = r.status_code == 200 and r.json()["imported"] == args.batch
                    except httpx.HTTPError as e:
                        ok, r = False, e
                    with lock:
                        if ok:
                            lat["write"].append(time.perf_counter() - t0)
                            pushed[0] += args.batch
                        else:
                            errors.append(f"write: {getattr(r, 'status_code', r)} {getattr(r, 'text', '')[:200]}")
                    n += 1

        load_start = os.getloadavg()
        threads = [threading.Thread(target=reader) for _ in range(args.readers)]
        threads += [threading.Thread(target=writer_thread, args=(w,)) for w in range(args.writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with httpx.Client(base_url=base, headers=h_view, timeout=300) as c:
            after = total(c)
        result = {
            "tickets": before, "seconds": args.seconds, "readers": args.readers, "writers": args.writers,
            "query": query, "reads": len(lat["read"]), "writes": len(lat["write"]),
            "read_ms": {"p50": pct(lat["read"], 50), "p95": pct(lat["read"], 95), "p99": pct(lat["read"], 99)},
            "write_ms": {"p50": pct(lat["write"], 50), "p95": pct(lat["write"], 95), "p99": pct(lat["write"], 99)},
            "errors": len(errors), "error_samples": errors[:5],
            "error_kinds": dict(Counter(e.split(" {")[0][:80] for e in errors)),
            "rows_pushed": pushed[0], "rows_lost": before + pushed[0] - after,
            "cpus": os.cpu_count(), "load_average": {"start": [round(x, 2) for x in load_start],
                                                  "end": [round(x, 2) for x in os.getloadavg()]},
            **ran, "server_log": str(server_log),
        }
        p95 = result["read_ms"]["p95"]
        result["read_p95_vs_target"] = round(p95 / TARGET_P95_MS, 2) if p95 is not None else None
        if args.baseline:
            base = json.loads(args.baseline.read_text(encoding="utf-8"))
            result["baseline"] = str(args.baseline)
            result["speedup_vs_baseline"] = {
                f"{kind}_{p}": (round(base[f"{kind}_ms"][p] / result[f"{kind}_ms"][p], 1)
                                if base[f"{kind}_ms"][p] and result[f"{kind}_ms"][p] else None)
                for kind in ("read", "write") for p in ("p50", "p95")}
        print(json.dumps(result, indent=2))
        if args.out:
            args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
