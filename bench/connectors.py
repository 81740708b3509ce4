"""Benchmark: streaming connectors (issue 5: "a 1 GB queue_log or a 5M-row CSV imports in bounded memory,
<= 1 GB RSS"). Not a test: it prints figures, it asserts nothing about time.

    nice .venv/bin/python bench/connectors.py [--scale 1.0] [--steps 0.0625,0.25] [--export] [--progress]
                                              [--skip canonical,asterisk,csv]

Generates, under bench/out/ (gitignored):
- a realistic Asterisk queue_log in the raw pipe format, about scale x 1 GB: calls entering two queues,
  ring attempts (RINGNOANSWER), answered calls (CONNECT + COMPLETEAGENT/COMPLETECALLER), transfers,
  abandons and timeouts (the caller overflows to the other queue), agent logins and logoffs each day;
- a call-center CSV in the layout of docs/connectors/examples/call-center (scale x 5M rows);
- the same calls already in canonical CSV form (calls.csv, the baseline);
- with --export, the same queue_log as Asterisk's database-table export (CSV with time, callid, queuename,
  agent, event, data1..data5; naive datetimes), newest row first, so the connector has to sort all of it.

Each import is `servicekpi import ... --source asterisk|csv` (or the canonical `servicekpi import
calls.csv --table calls`, the baseline) in its own process, into a fresh store; the figures are wall
seconds, rows per second, the child's CPU seconds (user + system: less disturbed by other work on the
machine than wall time) and its peak RSS (getrusage of the child, measured by a wrapper process).
With --steps, the connectors also run at those fractions of the size: peak RSS that stays flat while the
input grows is the bounded memory the issue asks for. --progress lets the imports draw their progress bar
(servicekpi import's, on stderr when it is a terminal) instead of capturing their stderr.
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
show = sys.argv[1] == "show"  # the child's stderr goes to the terminal: its progress bar is drawn
t = time.perf_counter()
r = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=None if show else subprocess.PIPE, text=True)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": r.returncode, "seconds": time.perf_counter() - t, "stdout": r.stdout[-2000:],
                  "stderr": (r.stderr or "")[-2000:], "cpu_seconds": u.ru_utime + u.ru_stime,
                  "peak_rss_mb": u.ru_maxrss / 1024}))
"""
SHOW = ["quiet"]  # ["show"] with --progress


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


def table_export(log: Path, out: Path, block: int = 500_000) -> dict:
    """The pipe queue_log as the database-table export (CSV, naive UTC datetimes), newest row first: the log's
    blocks of `block` lines are written last block first, each reversed (memory: one block)."""
    starts = [0]
    with open(log, "rb") as f:
        for n, _ in enumerate(iter(f.readline, b""), start=1):
            if n % block == 0:
                starts.append(f.tell())
    rows = 0
    with open(log, "rb") as f, open(out, "w", newline="") as w:
        w.write("time,callid,queuename,agent,event,data1,data2,data3,data4,data5\n")
        for i in reversed(range(len(starts))):
            f.seek(starts[i])
            lines = []
            for _ in range(block):
                line = f.readline()
                if not line:
                    break
                lines.append(line)
            for line in reversed(lines):
                parts = line.decode().rstrip("\n").split("|")
                when = dt.datetime.fromtimestamp(int(parts[0]), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                data = parts[5:10] + [""] * (5 - len(parts[5:10]))
                if len(parts) > 10:
                    data[4] = "|".join(parts[9:])  # data5 holds the rest
                w.write(",".join([when, *parts[1:5], *data]) + "\n")
                rows += 1
    return {"bytes": out.stat().st_size, "rows": rows}


def call_center_csv(path: Path, rows: int, seed: int = 11) -> dict:
    """The call-center layout of docs/connectors/examples/call-center, rows rows over two years."""
    r = random.Random(seed)
    agents = ["Diane", "Becky", "Greg", "Joe", "Martha", "Dan", "Stewart", "Jim"]
    topics = ["Billing", "Technical", "Account", "Sales"]
    day0 = dt.date(2025, 1, 1)
    days = [(day0 + dt.timedelta(days=i)).strftime("%d/%m/%Y") for i in range(731)]
    with open(path, "w") as f:
        f.write("Call Id,Agent,Date,Time,Topic,Answered (Y/N),Resolved,Speed of answer in seconds,"
                "AvgTalkDuration,Satisfaction rating\n")
        for i in range(rows):
            d = days[i * 730 // rows]
            s = r.randrange(8 * 3600, 20 * 3600)
            clock = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
            if r.random() < 0.85:
                talk = r.randrange(30, 1200)
                f.write(f"ID{i:08d},{r.choice(agents)},{d},{clock},{r.choice(topics)},Y,{r.choice('YN')},"
                        f"{r.randrange(300)},{talk // 3600}:{talk // 60 % 60:02d}:{talk % 60:02d},"
                        f"{r.choice(('1', '2', '3', '4', '5', '0', '0'))}\n")  # 0 = no rating
            else:
                f.write(f"ID{i:08d},{r.choice(agents)},{d},{clock},{r.choice(topics)},N,N,,,0\n")
    return {"bytes": path.stat().st_size, "rows": rows}


def measure(label: str, args: list[str], rows: int) -> dict:
    db = OUT / f"bench_{label}.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-c", WRAP, *SHOW, *CLI, "import", *args, "--db", str(db)],
                       stdout=subprocess.PIPE, text=True)
    info = json.loads(r.stdout.strip().splitlines()[-1])
    if info["rc"]:
        sys.stderr.write(info["stderr"])
        raise SystemExit(f"{label}: import failed (exit {info['rc']})")
    info.update(label=label, rows=rows, rows_per_s=rows / info["seconds"])
    print(f"{label:28s} {rows:>11,} rows {info['seconds']:8.1f} s {info['rows_per_s']:>10,.0f} rows/s "
          f"peak RSS {info['peak_rss_mb']:7.0f} MB  (CPU {info['cpu_seconds']:.0f} s: "
          f"{rows / max(info['cpu_seconds'], 1e-9):,.0f} rows per CPU second)", flush=True)
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
    r = subprocess.run([sys.executable, "-c", WRAP, "quiet", sys.executable, "-c", CONSUME, *args],
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
    ap.add_argument("--export", action="store_true", help="also the queue_log as a database-table export (CSV)")
    ap.add_argument("--skip", default="", help="runs to leave out: canonical, asterisk, csv, convert (the "
                                               "connector-only runs)")
    ap.add_argument("--progress", action="store_true", help="show the imports' progress bars (on a terminal)")
    a = ap.parse_args()
    skip = set(a.skip.split(",")) - {""}
    if a.progress:
        SHOW[0] = "show"
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
        if {"canonical", "asterisk"} - skip or a.export:
            if not log.exists() or not canon.exists():
                t = time.perf_counter()
                info = queue_log(log, canon, int(scale * 1e9))
                print(f"generated {log.name}: {info['bytes'] / 1e6:,.0f} MB, {info['lines']:,} lines in "
                      f"{time.perf_counter() - t:.0f} s", flush=True)
            lines = sum(1 for _ in open(log, "rb"))
            calls = sum(1 for _ in open(canon, "rb")) - 1
            mb = log.stat().st_size / 1e6
        base = None
        if "canonical" not in skip:
            base = measure(f"canonical calls x{scale:g}", [str(canon), "--table", "calls"], calls)
            results.append(dict(base, scale=scale))
        if "asterisk" not in skip:
            ast = measure(f"asterisk x{scale:g}", [str(log), "--source", "asterisk"], calls)
            results.append(dict(ast, scale=scale, lines=lines, mb=mb))
            if "convert" not in skip:
                results.append(dict(convert_only(f"asterisk convert x{scale:g}", ["asterisk", str(log)], calls),
                                    scale=scale))
            print(f"  queue_log {mb:,.0f} MB, {lines:,} lines: {lines / ast['seconds']:,.0f} lines/s, "
                  f"{mb / ast['seconds']:.1f} MB/s"
                  + (f"; asterisk / canonical time = {ast['seconds'] / base['seconds']:.2f}" if base else ""),
                  flush=True)
        if a.export:
            export = OUT / f"queue_log_{scale:g}_table.csv"
            if not export.exists():
                t = time.perf_counter()
                info = table_export(log, export)
                print(f"generated {export.name}: {info['bytes'] / 1e6:,.0f} MB, {info['rows']:,} rows in "
                      f"{time.perf_counter() - t:.0f} s", flush=True)
            emb = export.stat().st_size / 1e6
            ex = measure(f"asterisk export x{scale:g}", [str(export), "--source", "asterisk", "--source-tz", "UTC"],
                         calls)
            results.append(dict(ex, scale=scale, lines=lines, mb=emb))
            print(f"  table export {emb:,.0f} MB, {lines:,} rows: {lines / ex['seconds']:,.0f} rows/s, "
                  f"{emb / ex['seconds']:.1f} MB/s", flush=True)
        if "csv" not in skip:
            n = int(scale * 5_000_000)
            cc = OUT / f"call_center_{n}.csv"
            if not cc.exists():
                t = time.perf_counter()
                call_center_csv(cc, n)
                print(f"generated {cc.name}: {cc.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - t:.0f} s",
                      flush=True)
            m = measure(f"csv mapping x{scale:g}", [str(cc), "--source", "csv", "--mapping", str(MAPPING)], n)
            results.append(dict(m, scale=scale, mb=cc.stat().st_size / 1e6))
            if "convert" not in skip:
                results.append(dict(convert_only(f"csv convert x{scale:g}", ["csv", str(cc), str(MAPPING)], n),
                                    scale=scale))
            if base:
                print(f"  csv mapping / canonical time per row = "
                      f"{(m['seconds'] / n) / (base['seconds'] / calls):.2f}", flush=True)
    (OUT / "connectors.json").write_text(json.dumps(
        [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in results], indent=1))


if __name__ == "__main__":
    main()
