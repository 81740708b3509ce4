"""Alerts: what fires ([[alerts]] kinds), and sending it once (de-duplication, quiet hours, resend).

A finding has a subject (the KPI, the spiking value, ...) and a period; the sent log
(table sent_alerts) is keyed by alert name + subject + period. A finding whose key was sent
successfully is not sent again, unless resend_hours is set and that long has passed. During
quiet hours (local time in the workspace zone) nothing is sent or logged, so the next check
after them sends.

Each target is logged apart: one row per email recipient (channel "email:<address>") and one for
the webhook. A finding is "sent" when every target took it, "partial" when some did, "failed" when
none did; the next check retries only the targets that have not taken it (a partial or failed
finding is not a duplicate), and resend_hours counts from the oldest target's last success.

`store` is anything with engine() (a context manager yielding an Engine) and write(fn) (fn(cursor)
in one transaction): the server's State, or LocalStore over one connection (the CLI).
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from servicekpi.core import periods as P
from servicekpi.delivery.send import DeliveryError, post_webhook, send_email

SENT = """CREATE TABLE IF NOT EXISTS sent_alerts (alert VARCHAR, subject VARCHAR, period VARCHAR,
    channel VARCHAR, sent_at TIMESTAMP, status VARCHAR, error VARCHAR)"""


@dataclass
class Finding:
    subject: str
    period: str
    title: str
    data: dict = field(default_factory=dict)


class LocalStore:
    """engine()/write() over one connection (the CLI's)."""

    def __init__(self, con, cfg):
        self.con, self.cfg = con, cfg

    @contextmanager
    def engine(self):
        from servicekpi.engine.query import Engine
        yield Engine(self.con, self.cfg)

    def write(self, fn):
        self.con.execute("BEGIN")
        try:
            result = fn(self.con)
            self.con.execute("COMMIT")
            return result
        except BaseException:
            self.con.execute("ROLLBACK")
            raise


def local(now: dt.datetime, tz: str) -> dt.datetime:
    return now.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz))


def in_quiet_hours(quiet: tuple[str, str] | None, now: dt.datetime, tz: str) -> bool:
    if not quiet:
        return False
    t = local(now, tz).strftime("%H:%M")
    lo, hi = quiet
    return lo <= t < hi if lo < hi else (t >= lo or t < hi)


# -- what fires -------------------------------------------------------------------------------
def _target_miss(eng, a, now):
    from servicekpi.analysis.scorecard import build
    card = build(eng, by=a.by, asof=now)
    bad = ("missed", "at_risk") if a.include_at_risk else ("missed",)
    for r in card.rows:
        if (not a.kpis or r["kpi"] in a.kpis) and r["status"] in bad:
            yield Finding(r["kpi"], r["period_start"], f"{r['label']} {r['status'].replace('_', ' ')} its target in "
                          f"{r['period_start']} – {r['period_end']}: {r['value']:.4g} against {r['target']:.4g}", r)


def _spike(eng, a, now):
    from servicekpi.analysis.spike_causes import summary
    from servicekpi.analysis.spikes import history_start, spikes
    tz = eng.config.timezone
    today = P.local_date(now, tz)
    start = history_start(today, a.by, 1)  # the period before the current one, and the current one
    labels = [p.start.isoformat() for p in P.build(start, today, a.by, tz)]
    for s in spikes(eng, start, today, a.by, a.dim, a.k, a.window, now):
        what = summary(s.causes)
        yield Finding(f"{s.dim}={s.value}", labels[s.period],
                      f"Ticket spike: {s.dim} {s.value} in the {a.by} of {labels[s.period]}: {s.volume} tickets "
                      f"against a baseline of {s.baseline:g} (threshold {s.threshold:g})" + (f"; what grew: {what}"
                                                                                             if what else ""),
                      {"dim": s.dim, "value": s.value, "volume": s.volume, "baseline": s.baseline,
                       "threshold": s.threshold, "causes": s.causes})


def _sla_at_risk(eng, a, now):
    from servicekpi.engine.query import Query, UsageError
    q = Query(kpis=["sla_at_risk"], options={"within": a.within}, tz=eng.config.timezone, asof=now)
    try:
        rows, total = eng.rows(q, 50)
    except UsageError:  # tickets never imported
        return
    if total >= a.min_count:
        tickets = [{k: r.get(k) for k in ("ticket_id", "agent_id", "sla_rule", "next_target", "seconds_left")}
                   for r in rows]
        yield Finding("sla_at_risk", P.local_date(now, eng.config.timezone).isoformat(),
                      f"{total} open ticket(s) reach an SLA target within {a.within}: "
                      + ", ".join(str(t["ticket_id"]) for t in tickets[:10]) + (" ..." if total > 10 else ""),
                      {"total": total, "tickets": tickets})


def _negative(eng, a, now):
    from servicekpi.analysis.negative import negative_share, polarity
    share = negative_share(polarity(eng.con, now - dt.timedelta(days=a.days), now, now))
    if share["value"] is not None and share["classified"] >= a.min_count and share["value"] > a.threshold:
        yield Finding("negative_share", P.local_date(now, eng.config.timezone).isoformat(),
                      f"Negative texts over the last {a.days} days: {share['value']:.1f}% ({share['negative']} of "
                      f"{share['classified']} classified) is above {a.threshold:g}%", share)


KINDS = {"target_miss": _target_miss, "spike": _spike, "sla_at_risk": _sla_at_risk, "negative_sentiment": _negative}


def findings(eng, alert, now: dt.datetime) -> list[Finding]:
    return list(KINDS[alert.kind](eng, alert, now))


# -- sending once -----------------------------------------------------------------------------
def targets(alert) -> list[str]:
    return [f"email:{a}" for a in alert.email] + (["webhook"] if alert.webhook else [])


def _last_sent(con, alert: str, subject: str, period: str) -> dict[str, dt.datetime]:
    """{target: its last successful send} for one finding's key."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'sent_alerts'").fetchall()[0][0]:
        return {}
    return dict(con.execute("SELECT channel, max(sent_at) FROM sent_alerts WHERE alert = ? AND subject = ? "
                            "AND period = ? AND status = 'sent' GROUP BY channel", [alert, subject, period]).fetchall())


def payload(alert, f: Finding, now: dt.datetime) -> dict:
    return {"alert": alert.name, "kind": alert.kind, "subject": f.subject, "period": f.period, "title": f.title,
            "data": f.data, "sent_at": now.isoformat() + "Z"}


def deliver(delivery, alert, f: Finding, now: dt.datetime, due: list[str]) -> list[tuple[str, str, str | None]]:
    """(target, status, error) for each due target of the alert (targets())."""
    out = []
    emails = [t.removeprefix("email:") for t in due if t.startswith("email:")]
    if emails:
        try:
            refused = send_email(delivery.smtp, emails, f"[servicekpi] {f.title[:150]}",
                                 f"{f.title}\n\nalert: {alert.name} ({alert.kind})\nsubject: {f.subject}\n"
                                 f"period: {f.period}\n")
            out += [(f"email:{a}", "failed", f"refused: {refused[a]}") if a in refused else (f"email:{a}", "sent", None)
                    for a in emails]
        except DeliveryError as e:
            out += [(f"email:{a}", "failed", str(e)) for a in emails]
    if "webhook" in due:
        try:
            post_webhook(alert.webhook, alert.secret, payload(alert, f, now))
            out.append(("webhook", "sent", None))
        except DeliveryError as e:
            out.append(("webhook", "failed", str(e)))
    return out


def _due(alert, last: dict[str, dt.datetime], now: dt.datetime) -> list[str]:
    """The targets to send to now: never taken, or taken longer than resend_hours ago."""
    if alert.resend_hours is None:
        return [t for t in targets(alert) if t not in last]
    window = dt.timedelta(hours=alert.resend_hours)
    stale = [t for t in targets(alert) if t not in last or now - last[t] >= window]
    # a resend goes to every target, so they stay in step; a retry only to those that failed
    return targets(alert) if stale and all(t in last for t in stale) else stale


def check(store, delivery, now: dt.datetime, names: list[str] | None = None) -> list[dict]:
    """Evaluate every alert (or those named) at `now` (naive UTC) and send what is due."""
    tz = store.cfg.timezone
    results = []
    for a in delivery.alerts:
        if names and a.name not in names:
            continue
        with store.engine() as eng:
            found = findings(eng, a, now)
            last = {(f.subject, f.period): _last_sent(eng.con, a.name, f.subject, f.period) for f in found}
        quiet = in_quiet_hours(a.quiet_hours, now, tz)
        for f in found:
            row = {"alert": a.name, "kind": a.kind, "subject": f.subject, "period": f.period, "title": f.title}
            prev = last[(f.subject, f.period)]
            due = _due(a, prev, now)
            if not due:
                results.append({**row, "status": "duplicate", "last_sent_at": min(prev.values()).isoformat() + "Z"})
                continue
            if quiet:
                results.append({**row, "status": "quiet"})
                continue
            sent = deliver(delivery, a, f, now, due)

            def log(cur, sent=sent, f=f):
                cur.execute(SENT)
                for channel, status, error in sent:
                    cur.execute("INSERT INTO sent_alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [a.name, f.subject, f.period, channel, now, status, error])
            store.write(log)
            taken = {t for t, s, _ in sent if s == "sent"} | (set(prev) - set(due))
            status = "sent" if taken >= set(targets(a)) else "partial" if taken else "failed"
            results.append({**row, "status": status,
                            "channels": [{"channel": c, "status": s, "error": e} for c, s, e in sent]})
    return results
