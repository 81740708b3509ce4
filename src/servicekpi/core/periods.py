"""Reporting periods in a time zone, as half-open UTC intervals (exact across DST)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Period:
    start: dt.date | None  # period_start label (None without --by)
    lo_date: dt.date  # clipped local start (inclusive)
    hi_date: dt.date  # clipped local end (exclusive)
    lo: dt.datetime  # naive UTC instants
    hi: dt.datetime
    partial: bool

    @property
    def days(self) -> int:
        return (self.hi_date - self.lo_date).days


def utc(day: dt.date, tz: str) -> dt.datetime:
    """Local midnight of `day` in tz as a naive UTC instant."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def local_date(instant: dt.datetime, tz: str) -> dt.date:
    """The local date of a naive UTC instant."""
    return instant.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz)).date()


def floor(day: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def add_months(day: dt.date, n: int) -> dt.date:
    m = day.month - 1 + n
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def step(day: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return day + dt.timedelta(days=1)
    if grain == "week":
        return day + dt.timedelta(days=7)
    return add_months(day, {"month": 1, "quarter": 3, "year": 12}[grain])


def build(first: dt.date, last: dt.date, grain: str | None, tz: str) -> list[Period]:
    """Periods covering the inclusive local dates [first, last], clipped to them."""
    end = last + dt.timedelta(days=1)
    if grain is None:
        return [Period(None, first, end, utc(first, tz), utc(end, tz), False)]
    out = []
    start = floor(first, grain)
    while start < end:
        nxt = step(start, grain)
        lo, hi = max(start, first), min(nxt, end)
        out.append(Period(start, lo, hi, utc(lo, tz), utc(hi, tz), lo != start or hi != nxt))
        start = nxt
    return out


def twelve_months_before(p: Period, tz: str) -> dt.datetime:
    """The UTC instant 12 local months before the period end (rolling-year KPIs)."""
    d = p.hi_date
    try:
        back = d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        back = d.replace(year=d.year - 1, day=28)
    return utc(back, tz)
