"""Business-hours calendars found by a connector, written as config TOML the user can adopt.

The user's servicekpi.toml is never edited: the calendars go to a file of their own beside
the store, and the message says how to use them.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from servicekpi.core.calendars import DAYS, CalendarError, parse_calendar

FILE = "servicekpi.zendesk-calendars.toml"


def _value(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dt.date):
        return f'"{v.isoformat()}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else _value(name)


def to_toml(calendars: dict) -> str:
    order = ("timezone", *DAYS, "holidays", "holiday_country", "teams", "channels", "queues")
    parts = []
    for name, body in calendars.items():
        lines = [f"[calendars.{_key(name)}]"]
        for k in sorted(body, key=lambda k: order.index(k) if k in order else len(order)):
            lines.append(f"{k} = {_value(body[k])}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _describe(name: str, body: dict) -> str:
    days = [f"{d} {body[d]}" for d in DAYS if d in body]
    n = len(body.get("holidays", []))
    return f"{name} ({body.get('timezone')}: {', '.join(days) or 'never open'}; {n} holiday(s))"


def write_calendars(calendars: dict, config_path: Path | None, db_path: Path) -> str:
    """Validate the calendars, write them beside the store and say how to use them."""
    good, bad = {}, []
    for name, body in calendars.items():
        try:
            parse_calendar(name, body, "UTC", f"calendars.{name}")
        except CalendarError as e:
            bad.append(str(e))
            continue
        good[name] = body
    lines = [f"calendar left out: {b}" for b in bad]
    if not good:
        return "\n".join(lines + ["no business-hours calendar to write"])
    target = Path(db_path).resolve().parent / FILE
    text = ("# Business-hours calendars converted from Zendesk schedules by `servicekpi import --source zendesk`.\n"
            "# Not read by servicekpi as is: copy the tables you want into servicekpi.toml.\n\n" + to_toml(good))
    before = target.read_text(encoding="utf-8") if target.exists() else None
    if before != text:
        target.write_text(text, encoding="utf-8")
    state = "unchanged" if before == text else ("replaced" if before is not None else "written")
    config = Path(config_path) if config_path else Path(db_path).resolve().parent / "servicekpi.toml"
    clash = []
    if config_path and Path(config_path).exists():
        import tomllib
        try:
            have = tomllib.loads(Path(config_path).read_text(encoding="utf-8")).get("calendars", {})
            clash = [n for n in good if n in have]
        except tomllib.TOMLDecodeError:
            pass
    lines.append(f"{len(good)} business-hours calendar(s) from Zendesk {state} in {target}: "
                 + "; ".join(_describe(n, b) for n, b in good.items()))
    lines.append(f"to use them, copy their [calendars.*] tables into {config} and add teams, channels or queues "
                 "to each (or copy one's keys under [business_hours] to make it the default calendar)")
    if clash:
        lines.append(f"note: {config} already has calendar(s) named {', '.join(clash)}; rename before copying")
    return "\n".join(lines)
