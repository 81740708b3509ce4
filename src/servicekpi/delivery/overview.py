"""What the config's alerts and schedules are and what they last did: `servicekpi alerts status` and
GET /api/alerts read it from the delivery logs (sent_alerts, schedule_runs).

No address, webhook URL or secret leaves: recipients are counted, a webhook is only said to exist, and
the addresses and URLs a logged error names are replaced by ***.
Times are UTC (ISO 8601 with Z); next_due is the schedule's next cron instant after `now`."""
from __future__ import annotations

import datetime as dt

from croniter import croniter

from servicekpi.delivery.alerts import local
from servicekpi.delivery.config import Delivery


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.replace(microsecond=0).isoformat() + "Z"


def _logged(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchall()[0][0])


def next_due(cron: str, now: dt.datetime, tz: str) -> dt.datetime:
    """The first instant after now (naive UTC) that the cron expression names, in tz (naive UTC)."""
    return croniter(cron, local(now, tz)).get_next(dt.datetime).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _redact(text: str | None, delivery: Delivery) -> str | None:
    """A logged error without the addresses and webhook URLs it may name."""
    if not text:
        return text
    known = {x for e in (*delivery.alerts, *delivery.schedules) for x in e.email}
    known |= {a.webhook for a in delivery.alerts if a.webhook}
    for x in sorted(known, key=len, reverse=True):
        text = text.replace(x, "***")
    return text


def _alert(con, a, logged: bool) -> dict:
    last, findings = None, 0
    if logged:
        row = con.execute("SELECT subject, period, channel, status, sent_at, error FROM sent_alerts WHERE alert = ? "
                          "ORDER BY sent_at DESC, channel LIMIT 1", [a.name]).fetchall()
        if row:
            subject, period, channel, status, sent_at, error = row[0]
            last = {"subject": subject, "period": period, "channel": channel.split(":", 1)[0], "status": status,
                    "sent_at": _iso(sent_at), "error": error}
        # findings that reached at least one target
        findings = con.execute("SELECT count(*) FROM (SELECT DISTINCT subject, period FROM sent_alerts WHERE "
                               "alert = ? AND status = 'sent')", [a.name]).fetchall()[0][0]
    return {"name": a.name, "kind": a.kind, "recipients": len(a.email), "webhook": a.webhook is not None,
            "quiet_hours": "-".join(a.quiet_hours) if a.quiet_hours else None, "resend_hours": a.resend_hours,
            "findings_sent": findings, "last": last}


def _schedule(con, s, logged: bool, now: dt.datetime, tz: str) -> dict:
    last = None
    if logged:
        row = con.execute("SELECT due_at, ran_at, status, error FROM schedule_runs WHERE schedule = ? "
                          "ORDER BY ran_at DESC LIMIT 1", [s.name]).fetchall()
        if row:
            due_at, ran_at, status, error = row[0]
            last = {"due_at": _iso(due_at), "ran_at": _iso(ran_at), "status": status, "error": error}
    return {"name": s.name, "kind": s.kind, "cron": s.cron, "recipients": len(s.email), "formats": s.formats,
            "lang": s.lang, "next_due": _iso(next_due(s.cron, now, tz)), "last_run": last}


def overview(con, delivery: Delivery, now: dt.datetime, tz: str) -> dict:
    """{"alerts": [...], "schedules": [...]} in config order (now: naive UTC)."""
    sent, runs = _logged(con, "sent_alerts"), _logged(con, "schedule_runs")
    out = {"alerts": [_alert(con, a, sent) for a in delivery.alerts],
           "schedules": [_schedule(con, s, runs, now, tz) for s in delivery.schedules]}
    for item in (*(a["last"] for a in out["alerts"]), *(s["last_run"] for s in out["schedules"])):
        if item:
            item["error"] = _redact(item["error"], delivery)
    return out
