"""queue_log events: one line of the raw log, or one row of a table export, as an Event; times read."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass
class Event:
    source: str
    line: int
    time: str | None  # the source's text
    secs: float | None  # for ordering and durations; None = unreadable
    out: str | None  # the canonical timestamp text
    callid: str
    queue: str
    agent: str
    event: str
    data: list[str]
    text: str = ""  # the source line, for messages
    hold: str | None = None  # a table's hold time column (htime), when the layout has one
    talk: str | None = None  # a table's talk time column (ttime)




def _pipe_events(path: Path) -> Iterator[Event]:
    src = str(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for n, text in enumerate(f, start=1):
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            parts = text.split("|")
            yield _event(src, n, parts[0], parts[1:5], parts[5:], text)



_DAYS: dict[int, str] = {}
EPOCH = re.compile(r"^\d{9,11}(\.\d+)?$")
OFFSET = re.compile(r"([zZ]|[+-]\d\d(:?\d\d)?)$")


def _time(raw: str) -> tuple[float | None, str | None]:
    """(seconds for ordering and durations, canonical text); (None, raw) when unreadable."""
    raw = raw.strip()
    if raw.isdigit() and 9 <= len(raw) <= 11:  # the usual whole-second epoch, formatted without datetime
        secs = int(raw)
        day, rem = divmod(secs, 86400)
        date = _DAYS.get(day)
        if date is None:
            date = _DAYS[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
        h, rem = divmod(rem, 3600)
        return float(secs), f"{date}T{h:02d}:{rem // 60:02d}:{rem % 60:02d}Z"
    if EPOCH.match(raw):
        secs = float(raw)
        t = dt.datetime.fromtimestamp(secs, dt.timezone.utc)
        return secs, t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"
    try:
        t = dt.datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        return None, raw or None
    if t.tzinfo is None:  # a naive datetime: durations in its own wall clock; the import applies the zone
        return (t - dt.datetime(1970, 1, 1)).total_seconds(), raw
    if len(raw) > 3 and re.search(r"[+-]\d\d$", raw):  # PostgreSQL's "+02" -> "+02:00" for the import
        raw = raw + ":00"
    return t.timestamp(), raw


def _event(src: str, line: int, time: str, head: list[str], data: list[str], text: str) -> Event:
    if len(head) < 4:
        head = head + [""] * (4 - len(head))
    callid, queue, agent, event = head
    secs, out = _time(time)
    return Event(src, line, time, secs, out, callid.strip(), queue.strip(), agent.strip(), event.strip().upper(),
                 [d.strip() for d in data], text)


def _num(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)



def _out_like(ev: Event, secs: float) -> str:
    """A timestamp secs, written like ev's (epoch -> Z; naive stays naive)."""
    t = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=secs)
    text = t.isoformat(sep=" " if " " in (ev.out or "") else "T")
    if ev.out and ev.out.endswith("Z"):
        return text + "Z"
    if ev.out and OFFSET.search(ev.out) and ev.time and not EPOCH.match(ev.time.strip()):
        aware = dt.datetime.fromisoformat(ev.out)
        return dt.datetime.fromtimestamp(secs, aware.tzinfo).isoformat()
    return text
