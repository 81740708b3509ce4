"""[smtp], [[alerts]] and [[schedules]] in the workspace config, validated with every problem located
(file, line of the table's header, key). Schema: docs/config.md and docs/alerts.md."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from servicekpi.core.config import ConfigError

KINDS = ("target_miss", "spike", "sla_at_risk", "negative_sentiment")
SCHEDULE_KINDS = ("monthly_report", "weekly_scorecard")
FORMATS = ("xlsx", "pdf", "html")
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DURATION = re.compile(r"^(\d+)\s*(m|h|d)$")


@dataclass
class Smtp:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "servicekpi@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False


@dataclass
class Alert:
    name: str
    kind: str
    email: list[str] = field(default_factory=list)
    webhook: str | None = None
    secret: str | None = None
    kpis: list[str] = field(default_factory=list)  # target_miss: empty = every KPI with a target
    by: str = "month"  # target_miss: month or week; spike: day, week or month
    include_at_risk: bool = False  # target_miss: at_risk too
    dim: str = "category"  # spike
    k: float = 3.0
    window: int = 6
    within: str = "2h"  # sla_at_risk
    min_count: int = 1  # sla_at_risk tickets, negative_sentiment classified texts
    threshold: float | None = None  # negative_sentiment: percent
    days: int = 7  # negative_sentiment: trailing days
    quiet_hours: tuple[str, str] | None = None  # ("22:00", "07:00") local
    resend_hours: float | None = None  # None: never again for the same alert+subject+period
    line: int | None = None


@dataclass
class Schedule:
    name: str
    kind: str
    cron: str
    email: list[str]
    formats: list[str] = field(default_factory=lambda: ["xlsx"])
    lang: str = "en"
    line: int | None = None


@dataclass
class Delivery:
    smtp: Smtp = field(default_factory=Smtp)
    alerts: list[Alert] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)


def _header_lines(text: str, table: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if re.match(rf"^\s*\[\[\s*{table}\s*\]\]", line)]


def _secret(entry: dict, key: str, where: str, problems: list[str]) -> str | None:
    """key = "..." or key_env = "NAME" (the value read from that environment variable)."""
    if key in entry:
        if not isinstance(entry[key], str) or not entry[key]:
            problems.append(f"{where}, key {key}: expected a non-empty string")
        return entry.get(key)
    env = entry.get(f"{key}_env")
    if env is None:
        return None
    if not isinstance(env, str) or os.environ.get(env) is None:
        problems.append(f"{where}, key {key}_env: the environment variable '{env}' is not set")
        return None
    return os.environ[env]


def _emails(entry: dict, where: str, problems: list[str]) -> list[str]:
    value = entry.get("email", [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) and "@" in v for v in value):
        problems.append(f"{where}, key email: expected an address or a list of addresses, e.g. [\"lead@example.com\"]")
        return []
    return value


def _check(entry, key, ok, expected, where, problems):
    if key in entry and not ok(entry[key]):
        problems.append(f"{where}, key {key}: {entry[key]!r} is not valid (expected {expected})")
        return False
    return key in entry


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


ALERT_KEYS = {"name", "kind", "email", "webhook", "secret", "secret_env", "kpis", "by", "include_at_risk", "dim", "k",
              "window", "within", "min_count", "threshold", "days", "quiet_hours", "resend_hours"}
SCHEDULE_KEYS = {"name", "kind", "cron", "email", "formats", "lang"}


def _alert(entry: dict, where: str, line, problems: list[str]) -> Alert | None:
    start = len(problems)
    for key in sorted(set(entry) - ALERT_KEYS):
        problems.append(f"{where}: unknown key '{key}' (valid: {', '.join(sorted(ALERT_KEYS))})")
    name, kind = entry.get("name"), entry.get("kind")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}, key name: expected a name, e.g. name = \"csat-miss\"")
    if kind not in KINDS:
        problems.append(f"{where}, key kind: {kind!r} is not one of {', '.join(KINDS)}")
    a = Alert(str(name), str(kind), _emails(entry, where, problems), line=line)
    if _check(entry, "webhook", lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
              "an http:// or https:// URL", where, problems):
        a.webhook = entry["webhook"]
    a.secret = _secret(entry, "secret", where, problems)
    if not a.email and not a.webhook:
        problems.append(f"{where}: give email = [...] or webhook = \"https://...\" (where to send the alert)")
    if a.webhook and not a.secret:
        problems.append(f"{where}: a webhook needs secret = \"...\" or secret_env = \"NAME\" (the HMAC key)")
    if _check(entry, "kpis", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
              "a list of KPI ids", where, problems):
        from servicekpi.catalog import catalog
        known = catalog().kpis
        for kid in entry["kpis"]:
            if kid not in known:
                problems.append(f"{where}, key kpis: unknown KPI '{kid}'")
        a.kpis = entry["kpis"]
    grains = ("month", "week") if a.kind == "target_miss" else ("day", "week", "month")
    if _check(entry, "by", lambda v: v in grains, " or ".join(grains), where, problems):
        a.by = entry["by"]
    elif a.kind == "spike":
        a.by = "day"
    if _check(entry, "include_at_risk", lambda v: isinstance(v, bool), "true or false", where, problems):
        a.include_at_risk = entry["include_at_risk"]
    if _check(entry, "dim", lambda v: isinstance(v, str) and v, "a ticket column, e.g. category", where, problems):
        a.dim = entry["dim"]
    if _check(entry, "k", lambda v: _number(v) and v > 0, "a positive number", where, problems):
        a.k = float(entry["k"])
    if _check(entry, "window", lambda v: isinstance(v, int) and not isinstance(v, bool) and 3 <= v <= 60,
              "a whole number from 3 to 60", where, problems):
        a.window = entry["window"]
    if _check(entry, "within", lambda v: isinstance(v, str) and DURATION.match(v), "a duration, e.g. 2h", where,
              problems):
        a.within = entry["within"]
    if _check(entry, "min_count", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
              "a whole number >= 1", where, problems):
        a.min_count = entry["min_count"]
    if _check(entry, "threshold", lambda v: _number(v) and 0 <= v <= 100, "a percent from 0 to 100", where,
              problems):
        a.threshold = float(entry["threshold"])
    elif a.kind == "negative_sentiment":
        problems.append(f"{where}: a negative_sentiment alert needs threshold = <percent>, e.g. 30")
    if _check(entry, "days", lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 365,
              "a whole number of days from 1 to 365", where, problems):
        a.days = entry["days"]
    if _check(entry, "quiet_hours", lambda v: isinstance(v, str) and len(v.split("-")) == 2
              and all(HHMM.match(x.strip()) for x in v.split("-")), "\"HH:MM-HH:MM\", e.g. \"22:00-07:00\"",
              where, problems):
        lo, hi = (x.strip() for x in entry["quiet_hours"].split("-"))
        a.quiet_hours = (lo, hi)
    if _check(entry, "resend_hours", lambda v: _number(v) and v > 0, "a positive number of hours", where,
              problems):
        a.resend_hours = float(entry["resend_hours"])
    return a if len(problems) == start else None


def _schedule(entry: dict, where: str, line, problems: list[str]) -> Schedule | None:
    from croniter import croniter
    start = len(problems)
    for key in sorted(set(entry) - SCHEDULE_KEYS):
        problems.append(f"{where}: unknown key '{key}' (valid: {', '.join(sorted(SCHEDULE_KEYS))})")
    name, kind, cron = entry.get("name"), entry.get("kind"), entry.get("cron")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}, key name: expected a name, e.g. name = \"monthly-report\"")
    if kind not in SCHEDULE_KINDS:
        problems.append(f"{where}, key kind: {kind!r} is not one of {', '.join(SCHEDULE_KINDS)}")
    if not isinstance(cron, str) or not croniter.is_valid(cron):
        problems.append(f"{where}, key cron: {cron!r} is not a cron expression (minute hour day month weekday, "
                        f"e.g. \"0 8 1 * *\")")
    emails = _emails(entry, where, problems)
    if not emails:
        problems.append(f"{where}, key email: a schedule needs at least one address")
    s = Schedule(str(name), str(kind), str(cron), emails, line=line)
    if _check(entry, "formats", lambda v: isinstance(v, list) and v and all(f in FORMATS for f in v),
              f"a list of {', '.join(FORMATS)}", where, problems):
        s.formats = entry["formats"]
    from servicekpi.catalog import LANGS
    if _check(entry, "lang", lambda v: v in LANGS, " or ".join(LANGS), where, problems):
        s.lang = entry["lang"]
    return s if len(problems) == start else None


def parse(raw: dict, source: str | None, text: str | None = None) -> Delivery:
    """Every problem at once, in one ConfigError (one per line)."""
    src = source or "config"
    if text is None and source and os.path.exists(source):
        with open(source, encoding="utf-8") as f:
            text = f.read()
    problems: list[str] = []
    out = Delivery()
    smtp = raw.get("smtp", {})
    if not isinstance(smtp, dict):
        problems.append(f"{src}, key smtp: expected a table, e.g. [smtp] host = \"mail.example.com\"")
        smtp = {}
    s = out.smtp
    if _check(smtp, "host", lambda v: isinstance(v, str) and v, "a host name", f"{src}, [smtp]", problems):
        s.host = smtp["host"]
    if _check(smtp, "port", lambda v: isinstance(v, int) and 0 < v < 65536, "a port number", f"{src}, [smtp]",
              problems):
        s.port = smtp["port"]
    if _check(smtp, "from", lambda v: isinstance(v, str) and "@" in v, "an address", f"{src}, [smtp]", problems):
        s.sender = smtp["from"]
    if _check(smtp, "user", lambda v: isinstance(v, str), "a string", f"{src}, [smtp]", problems):
        s.user = smtp["user"]
    s.password = _secret(smtp, "password", f"{src}, [smtp]", problems)
    for key in ("starttls", "ssl"):
        if _check(smtp, key, lambda v: isinstance(v, bool), "true or false", f"{src}, [smtp]", problems):
            setattr(s, key, smtp[key])
    for table, build, into in (("alerts", _alert, out.alerts), ("schedules", _schedule, out.schedules)):
        entries = raw.get(table, [])
        lines = _header_lines(text or "", table)
        if not isinstance(entries, list):
            problems.append(f"{src}, key {table}: expected [[{table}]] tables")
            continue
        names = set()
        for i, entry in enumerate(entries):
            line = lines[i] if i < len(lines) else None
            where = f"{src}" + (f" line {line}" if line else "") + f", [[{table}]] #{i + 1}"
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected a table")
                continue
            item = build(entry, where, line, problems)
            if item is not None:
                if item.name in names:
                    problems.append(f"{where}, key name: '{item.name}' is used twice (names key the sent log)")
                names.add(item.name)
                into.append(item)
    if problems:
        raise ConfigError("\n".join(problems))
    return out


def load(cfg) -> Delivery:
    """The delivery settings of a loaded config.Config."""
    return parse(cfg.raw if isinstance(cfg.raw, dict) else {}, cfg.source)
