"""Benchmark: streaming connectors (issue 5: "a 1 GB queue_log or a 5M-row CSV imports in bounded memory,
<= 1 GB RSS"). Not a test: it prints figures, it asserts nothing about time.

    nice .venv/bin/python bench/connectors.py [--scale 1.0] [--steps 0.0625,0.25]

Generates, under bench/out/ (gitignored):
- a realistic Asterisk queue_log in the raw pipe format, about scale x 1 GB: calls entering two queues,
  ring attempts (RINGNOANSWER), answered calls (CONNECT + COMPLETEAGENT/COMPLETECALLER), transfers,
  abandons and timeouts (the caller overflows to the other queue), agent logins and logoffs each day;
- a call-center CSV in the layout of docs/connectors/examples/call-center (scale x 5M rows);
- the same calls already in canonical CSV form (calls.csv, the baseline).

Each import is `servicekpi import ... --source asterisk|csv` (or the canonical `servicekpi import
calls.csv --table calls`, the baseline) in its own process, into a fresh store; the figures are wall
seconds, rows per second and the child's peak RSS (getrusage of the child, measured by a wrapper process).
With --steps, the connectors also run at those fractions of the size: peak RSS that stays flat while the
input grows is the bounded memory the issue asks for.
"""
from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROOT = HERE.parent
CLI = [sys.executable, "-m", "servicekpi"]
MAPPING = ROOT / "docs" / "connectors" / "examples" / "call-center" / "mapping.toml"
START = int(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp())
AGENTS = [f"Agent/{1000 + i}" for i in range(40)]
QUEUES = ["sales", "support"]
CALL_COLS = "call_id,entered_at,answered_at,ended_at,outcome,queue,agent_id,talk_seconds\n"

WRAP = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": r.returncode, "seconds": time.perf_counter() - t, "stdout": r.stdout[-2000:],
                  "stderr": r.stderr[-2000:],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def iso(secs: int) -> str:
    return dt.datetime.fromtimestamp(secs, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def queue_log(path: Path, canonical: Path, target_bytes: int, seed: int = 7) -> dict:
    """Writes a time-ordered pipe queue_log of about target_bytes, and its calls as canonical CSV."""
    r = random.Random(seed)
    heap: list[tuple[int, int, str]] = []  # (epoch, sequence, line) of events still to write
    seq = 0
    size = lines = calls = 0
    t = START
    day = -1
    with open(path, "w") as log, open(canonical, "w") as can:
        can.write(CALL_COLS)

        def push(when: int, text: str) -> None:
            nonlocal seq
            seq += 1
            heapq.heappush(heap, (when, seq, f"{when}|{text}\n"))

        while size < target_bytes:
            t += r.choice((1, 2, 3, 4, 5, 6))  # about 15,000 calls a day
            if t // 86400 != day:  # agents log in at 07:00 and off at 21:00
                day = t // 86400
                for a in AGENTS:
                    push(day * 86400 + 7 * 3600, f"NONE|NONE|{a}|AGENTLOGIN|PJSIP/{a[6:]}")
                    push(day * 86400 + 21 * 3600, f"NONE|NONE|{a}|AGENTLOGOFF|PJSIP/{a[6:]}|50400")
            while heap and heap[0][0] <= t:
                line = heapq.heappop(heap)[2]
                log.write(line)
                size += len(line)
                lines += 1
            calls += 1
            uid = f"{t}.{calls}"
            q = r.choice(QUEUES)
            entered = t
            push(entered, f"{uid}|{q}|NONE|ENTERQUEUE||555{r.randrange(10**7):07d}|1")
            wait = int(r.expovariate(1 / 40))
            fate = r.random()
            if fate < 0.08:  # abandoned
                push(entered + wait, f"{uid}|{q}|NONE|ABANDON|1|1|{wait}")
                can.write(f"{uid}:{q},{iso(entered)},,{iso(entered + wait)},abandoned,{q},,\n")
                continue
            if fate < 0.11:  # timeout, then the caller overflows to the other queue: another offer
                push(entered + 180, f"{uid}|{q}|NONE|EXITWITHTIMEOUT|1|1|180")
                can.write(f"{uid}:{q},{iso(entered)},,{iso(entered + 180)},timeout,{q},,\n")
                q = QUEUES[1 - QUEUES.index(q)]
                entered += 180
                push(entered, f"{uid}|{q}|NONE|ENTERQUEUE||555{r.randrange(10**7):07d}|1")
                wait = int(r.expovariate(1 / 20))
            agent = r.choice(AGENTS)
            for k in range(r.choice((0, 0, 0, 1, 2))):  # ring attempts of other agents
                push(entered + min(wait, 15 * k), f"{uid}|{q}|{r.choice(AGENTS)}|RINGNOANSWER|15000")
            answered = entered + wait
            push(answered, f"{uid}|{q}|{agent}|CONNECT|{wait}|{uid}1|{r.randrange(1, 9)}")
            talk = int(r.lognormvariate(5.3, 0.6))
            ended = answered + talk
            if r.random() < 0.06:
                push(ended, f"{uid}|{q}|{agent}|BLINDTRANSFER|300|from-internal|{wait}|{talk}|1")
                outcome = "transferred"
            else:
                push(ended, f"{uid}|{q}|{agent}|{r.choice(('COMPLETEAGENT', 'COMPLETECALLER'))}|{wait}|{talk}|1")
                outcome = "answered"
            can.write(f"{uid}:{q},{iso(entered)},{iso(answered)},{iso(ended)},{outcome},{q},{agent},{talk}\n")
        while heap:  # the calls still open are completed: the log ends quietly
            line = heapq.heappop(heap)[2]
            log.write(line)
            size += len(line)
            lines += 1
    return {"bytes": size, "lines": lines}


def call_center_csv(path: Path, rows: int, seed: int = 11) -> dict:
    """The call-center layout of docs/connectors/examples/call-center, rows rows over two years."""
    r = random.Random(seed)
    agents = ["Diane", "Becky", "Greg", "Joe", "Martha", "Dan", "Stewart", "Jim"]
    topics = ["Billing", "Technical", "Account", "Sales"]
    day0 = dt.date(2025, 1, 1)
    days = [(day0 + dt.timedelta(days=i)).strftime("%d/%m/%Y") for i in range(731)]
    with open(path, "w") as f:
        f.write("Call Id,Agent,Date,Time,Topic,Answered (Y/N),Resolved (Y/N),Speed of answer in seconds,"
                "AvgTalkDuration,Satisfaction rating\n")
        for i in range(rows):
            d = days[i * 730 // rows]
            s = r.randrange(8 * 3600, 20 * 3600)
            clock = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
            if r.random() < 0.85:
                talk = r.randrange(30, 1200)
                f.write(f"ID{i:08d},{r.choice(agents)},{d},{clock},{r.choice(topics)},Y,{r.choice('YN')},"
                        f"{r.randrange(300)},{talk // 3600}:{talk // 60 % 60:02d}:{talk % 60:02d},"
                        f"{r.choice(('1', '2', '3', '4', '5', '', ''))}\n")
            else:
                f.write(f"ID{i:08d},{r.choice(agents)},{d},{clock},{r.choice(topics)},N,N,,,\n")
    return {"bytes": path.stat().st_size, "rows": rows}


def measure(label: str, args: list[str], rows: int) -> dict:
    db = OUT / f"bench_{label}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-c", WRAP, *CLI, "import", *args, "--db", str(db)], capture_output=True, text=True)
    info = json.loads(r.stdout.strip().splitlines()[-1])
    if info["rc"]:
        sys.stderr.write(info["stderr"])
        raise SystemExit(f"{label}: import failed (exit {info['rc']})")
    info.update(label=label, rows=rows, rows_per_s=rows / info["seconds"])
    print(f"{label:28s} {rows:>11,} rows {info['seconds']:8.1f} s {info['rows_per_s']:>10,.0f} rows/s "
          f"peak RSS {info['peak_rss_mb']:7.0f} MB", flush=True)
    said = info["stdout"].strip().splitlines()
    print(f"  {said[-1] if said else ''}", flush=True)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    return info


CONSUME = """
import sys
from pathlib import Path
from servicekpi.connectors import convert
c = convert(sys.argv[1], Path(sys.argv[2]), mapping=Path(sys.argv[3]) if len(sys.argv) > 3 else None)
n = sum(b.data.num_rows for b in c.batches)
print(f"converted {n} rows")
"""


def convert_only(label: str, args: list[str], rows: int) -> dict:
    """The connector alone (its batches consumed and dropped, no store): its own memory."""
    r = subprocess.run([sys.executable, "-c", WRAP, sys.executable, "-c", CONSUME, *args],
                       capture_output=True, text=True)
    info = json.loads(r.stdout.strip().splitlines()[-1])
    if info["rc"]:
        sys.stderr.write(info["stderr"])
        raise SystemExit(f"{label}: convert failed (exit {info['rc']})")
    info.update(label=label, rows=rows, rows_per_s=rows / info["seconds"])
    print(f"{label:28s} {rows:>11,} rows {info['seconds']:8.1f} s {info['rows_per_s']:>10,.0f} rows/s "
          f"peak RSS {info['peak_rss_mb']:7.0f} MB  (connector only, no store)", flush=True)
    return info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 1 GB / 5M rows (0.25 on a busy machine)")
    ap.add_argument("--steps", default="", help="smaller fractions of --scale to show memory growth, e.g. 0.25")
    ap.add_argument("--only", default="", help="convert-only runs of the files already generated: asterisk, csv")
    a = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    fractions = [float(x) for x in a.steps.split(",") if x] + [1.0]
    if a.only:
        for frac in fractions:
            scale = a.scale * frac
            if a.only == "asterisk":
                convert_only(f"asterisk convert x{scale:g}", ["asterisk", str(OUT / f"queue_log_{scale:g}")], 0)
            else:
                n = int(scale * 5_000_000)
                convert_only(f"csv convert x{scale:g}", ["csv", str(OUT / f"call_center_{n}.csv"), str(MAPPING)], n)
        return
    results = []
    for frac in fractions:
        scale = a.scale * frac
        log, canon = OUT / f"queue_log_{scale:g}", OUT / f"queue_log_{scale:g}_calls.csv"
        if not log.exists() or not canon.exists():
            t = time.perf_counter()
            info = queue_log(log, canon, int(scale * 1e9))
            print(f"generated {log.name}: {info['bytes'] / 1e6:,.0f} MB, {info['lines']:,} lines in "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
        lines = sum(1 for _ in open(log, "rb"))
        calls = sum(1 for _ in open(canon, "rb")) - 1
        mb = log.stat().st_size / 1e6
        base = measure(f"canonical calls x{scale:g}", [str(canon), "--table", "calls"], calls)
        ast = measure(f"asterisk x{scale:g}", [str(log), "--source", "asterisk"], calls)
        results.append(dict(convert_only(f"asterisk convert x{scale:g}", ["asterisk", str(log)], calls),
                            scale=scale))
        print(f"  queue_log {mb:,.0f} MB, {lines:,} lines: {lines / ast['seconds']:,.0f} lines/s, "
              f"{mb / ast['seconds']:.1f} MB/s; asterisk / canonical time = {ast['seconds'] / base['seconds']:.2f}",
              flush=True)
        n = int(scale * 5_000_000)
        cc = OUT / f"call_center_{n}.csv"
        if not cc.exists():
            t = time.perf_counter()
            call_center_csv(cc, n)
            print(f"generated {cc.name}: {cc.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - t:.0f} s",
                  flush=True)
        m = measure(f"csv mapping x{scale:g}", [str(cc), "--source", "csv", "--mapping", str(MAPPING)], n)
        results.append(dict(convert_only(f"csv convert x{scale:g}", ["csv", str(cc), str(MAPPING)], n), scale=scale))
        print(f"  csv mapping / canonical time per row = "
              f"{(m['seconds'] / n) / (base['seconds'] / calls):.2f}", flush=True)
        results += [dict(r, scale=scale) for r in (base, ast, m)]
    (OUT / "connectors.json").write_text(json.dumps(
        [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in results], indent=1))


if __name__ == "__main__":
    main()
