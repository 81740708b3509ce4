"""[[schedules]]: the monthly report and the weekly scorecard by email, on cron expressions read in
the workspace time zone (croniter). Each run is logged in schedule_runs with the due instant;
run_due() runs each schedule's latest due instant once (missed ones collapse into that one run)
and retries a failed one at the next call. background() does the same inside `serve`."""
from __future__ import annotations

import datetime as dt
import sys
import tempfile
import threading
from pathlib import Path

from croniter import croniter

from servicekpi.core import periods as P
from servicekpi.delivery.alerts import local
from servicekpi.delivery.send import DeliveryError, send_email

RUNS = """CREATE TABLE IF NOT EXISTS schedule_runs (schedule VARCHAR, due_at TIMESTAMP, ran_at TIMESTAMP,
    status VARCHAR, error VARCHAR)"""


def latest_due(cron: str, now: dt.datetime, tz: str) -> dt.datetime:
    """The last instant at or before now (naive UTC) that the cron expression names, in tz."""
    it = croniter(cron, local(now, tz) + dt.timedelta(seconds=1))
    return it.get_prev(dt.datetime).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _last_done(con, name: str):
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schedule_runs'").fetchall()[0][0]:
        return None
    return con.execute("SELECT max(due_at) FROM schedule_runs WHERE schedule = ? AND status = 'sent'",
                       [name]).fetchall()[0][0]


def _report(eng, s, due: dt.datetime, tmp: Path) -> tuple[str, str, list[Path]]:
    from servicekpi.report import data
    tz = eng.config.timezone
    month = P.add_months(P.local_date(due, tz).replace(day=1), -1)  # the last complete month
    start, end = data.month_range(month)
    rep = data.build(eng, start, end, "month", s.lang, due)
    files, notes = [], []
    for fmt in s.formats:
        path = tmp / f"servicekpi-{month:%Y-%m}.{fmt}"
        try:
            __import__(f"servicekpi.report.{fmt}", fromlist=["write"]).write(rep, path)
            files.append(path)
        except Exception as e:  # noqa: BLE001 - e.g. no Chromium for the PDF: the other files still go
            notes.append(f"{fmt} not attached: {e}")
    text = f"The servicekpi report of {month:%Y-%m} (and the 11 months before), as of {due:%Y-%m-%d %H:%M} UTC."
    return f"[servicekpi] Monthly report {month:%Y-%m}", "\n".join([text, *notes]), files


def _scorecard(eng, s, due: dt.datetime, tmp: Path) -> tuple[str, str, list[Path]]:
    from servicekpi.analysis.scorecard import build, fmt_target, fmt_with_unit
    card = build(eng, by="week", asof=due, lang=s.lang)
    lines = [f"Balanced scorecard {card.start} – {card.end} ({card.tz})", ""]
    for r in card.rows:
        cur = eng.config.currency
        lines.append(f"{r['label']}: {fmt_with_unit(r['value'], r['unit'], s.lang, cur)}  "
                     f"target {fmt_target(r, s.lang, cur, markup=False)}  "
                     f"{r['status']}")
    if not card.rows:
        lines.append("no KPI has data in this week")
    return f"[servicekpi] Weekly scorecard {card.start} – {card.end}", "\n".join(lines + card.notes), []


BUILD = {"monthly_report": _report, "weekly_scorecard": _scorecard}


def run_due(store, delivery, now: dt.datetime, names: list[str] | None = None) -> list[dict]:
    tz = store.cfg.timezone
    out = []
    for s in delivery.schedules:
        if names and s.name not in names:
            continue
        due = latest_due(s.cron, now, tz)
        with store.engine() as eng:
            last = _last_done(eng.con, s.name)
            if last is not None and last >= due:
                out.append({"schedule": s.name, "due_at": due.isoformat() + "Z", "status": "not_due"})
                continue
            with tempfile.TemporaryDirectory(prefix="servicekpi-schedule-") as tmp:
                subject, text, files = BUILD[s.kind](eng, s, due, Path(tmp))
                try:
                    refused = send_email(delivery.smtp, s.email, subject, text, files)
                    # some recipients refused: partial, not done, so the next run sends again
                    status, error = ("partial", "refused: " + "; ".join(refused.values())) if refused else ("sent", None)
                except DeliveryError as e:
                    status, error = "failed", str(e)

        def log(cur, s=s, due=due, status=status, error=error):
            cur.execute(RUNS)
            cur.execute("INSERT INTO schedule_runs VALUES (?, ?, ?, ?, ?)", [s.name, due, now, status, error])
        store.write(log)
        out.append({"schedule": s.name, "due_at": due.isoformat() + "Z", "status": status, "error": error,
                    "attachments": [f.name for f in files]})
    return out


def background(store, delivery, interval: float = 60.0, clock=None):
    """A daemon thread running alerts.check and run_due every `interval` seconds; returns stop()."""
    from servicekpi.delivery.alerts import check
    from servicekpi.engine.query import now_utc
    now_utc = clock or now_utc
    stop = threading.Event()

    def loop():
        while not stop.wait(interval):
            try:
                check(store, delivery, now_utc())
                run_due(store, delivery, now_utc())
            except Exception as e:  # noqa: BLE001 - a failed round must not end the thread
                print(f"servicekpi: alerts/schedules round failed: {e}", file=sys.stderr)
    thread = threading.Thread(target=loop, name="servicekpi-alerts", daemon=True)
    thread.start()

    def halt():
        stop.set()
        thread.join(timeout=interval + 30)
    return halt


def hook(cfg, interval: float = 60.0):
    """serve's hook: validates [[alerts]]/[[schedules]] of cfg now (a ConfigError stops create_app)
    and returns start(state), which starts the background thread when there is anything to run
    and returns its stop()."""
    from servicekpi.delivery.config import load
    delivery = load(cfg)
    if not delivery.alerts and not delivery.schedules:
        return lambda state: (lambda: None)
    return lambda state: background(state, delivery, interval)
