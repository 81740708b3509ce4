"""Business hours: calendars from the config, and business time computed set-wise.

B(t) = open seconds of a calendar before instant t. A duration in business time is
B(end) - B(start); a start outside hours therefore counts from the next opening.
Each UTC minute is entirely open or closed (open ranges are whole local minutes and DST
shifts are whole minutes). B is tabulated per UTC hour: open seconds before the hour, and a
60-bit mask of its open minutes. A row joins its (calendar, hour) and adds the open minutes
of the mask before its minute (bit_count), plus the seconds into its minute when that one is
open: portable Ibis, no Python loop per row, and a build side small enough to stay in cache.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from servicekpi.core.errors import ConfigError
from servicekpi.core.lazy import lazy
from servicekpi.core.periods import check_zone

np = lazy("numpy")  # only to build hour tables: a query from cached SQL without business hours never does
pa = lazy("pyarrow")

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
EPOCH = dt.datetime(1970, 1, 1)
HOURS_PER_CALENDAR = 10**8  # calendar i's hours are keyed i * 10**8 + epoch hour
CHUNK_MINUTES = 60 * 24 * 7 * 26  # the hour table is computed half a year at a time


class CalendarError(ConfigError):
    pass


@dataclass(frozen=True)
class Calendar:
    name: str
    timezone: str
    week: dict[int, tuple[tuple[int, int], ...]]  # weekday -> ((start_min, end_min), ...) local
    holidays: frozenset[dt.date] = frozenset()
    holiday_country: str | None = None
    teams: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()

    def closed_days(self, first: dt.date, last: dt.date) -> list[dt.date]:
        out, day = [], first
        while day <= last:
            if self.closed_on(day):
                out.append(day)
            day += dt.timedelta(days=1)
        return out

    def closed_on(self, day: dt.date) -> bool:
        return day in self.holidays or day in self._country_holidays(day.year)

    def _country_holidays(self, year: int) -> set[dt.date]:
        if not self.holiday_country:
            return set()
        return _country(self.holiday_country, year)

    def open_intervals(self, first: dt.date, last: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Open intervals as naive UTC instants, for local dates first..last."""
        zone = ZoneInfo(self.timezone)
        out = []
        day = first
        while day <= last:
            if not self.closed_on(day):
                for a, b in self.week.get(day.weekday(), ()):
                    start = _local(day, a, zone)
                    end = _local(day, b, zone)
                    if end > start:
                        out.append((start, end))
            day += dt.timedelta(days=1)
        return out


_HOLIDAY_CACHE: dict[tuple[str, int], set[dt.date]] = {}


def _country(code: str, year: int) -> set[dt.date]:
    key = (code, year)
    if key not in _HOLIDAY_CACHE:
        import holidays
        _HOLIDAY_CACHE[key] = set(holidays.country_holidays(code, years=year))
    return _HOLIDAY_CACHE[key]


def _local(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    """Local wall time day+minute (24:00 = next midnight) as a naive UTC instant."""
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)


def parse_ranges(text: str, where: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in str(text).split(","):
        if not part.strip():
            continue
        m = RANGE.match(part)
        if not m:
            raise CalendarError(f"{where}: '{part.strip()}' is not a time range (expected HH:MM-HH:MM, "
                                f"e.g. \"09:00-17:00\" or \"08:00-12:00,13:00-17:00\")")
        h1, m1, h2, m2 = map(int, m.groups())
        a, b = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= a < b <= 24 * 60) or m1 > 59 or m2 > 59:
            raise CalendarError(f"{where}: '{part.strip()}' must run forwards within one day (00:00-24:00)")
        out.append((a, b))
    out.sort()
    for (a1, b1), (a2, b2) in zip(out, out[1:]):
        if a2 < b1:
            raise CalendarError(f"{where}: ranges overlap")
    return tuple(out)


def parse_calendar(name: str, raw: dict, tz: str, where: str) -> Calendar:
    if not isinstance(raw, dict):
        raise CalendarError(f"{where}: expected a table of day = \"HH:MM-HH:MM\" entries, e.g. [business_hours] "
                            "with mon = \"09:00-17:00\"")
    allowed = set(DAYS) | {"holidays", "holiday_country", "timezone", "teams", "channels", "queues"}
    for key in raw:
        if key not in allowed:
            raise CalendarError(f"{where}.{key}: unknown key (expected one of: {', '.join(sorted(allowed))})")
    zone = check_zone(raw.get("timezone", tz), f"{where}.timezone")
    week = {i: parse_ranges(raw[d], f"{where}.{d}") for i, d in enumerate(DAYS) if d in raw}
    days = raw.get("holidays", [])
    if not isinstance(days, list):
        raise CalendarError(f"{where}.holidays: expected a list of dates, e.g. [\"2026-12-25\"]")
    try:
        holidays = frozenset(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in days)
    except ValueError as e:
        raise CalendarError(f"{where}.holidays: {e} (expected dates YYYY-MM-DD)") from None
    country = raw.get("holiday_country")
    if country is not None:
        import holidays as hol
        if str(country).upper() not in hol.list_supported_countries():
            raise CalendarError(f"{where}.holiday_country: '{country}' is not a country code the holidays "
                                "package knows (e.g. RO, US, TH, CN)")
        country = str(country).upper()
    lists = {}
    for key in ("teams", "channels", "queues"):
        v = raw.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise CalendarError(f"{where}.{key}: expected a list of names")
        lists[key] = tuple(x.strip().lower() if key == "channels" else x.strip() for x in v)
    return Calendar(name, zone, week, holidays, country, **lists)


@dataclass
class Calendars:
    """The default calendar plus named ones, with their assignment by queue > team > channel."""
    default: Calendar
    named: dict[str, Calendar] = field(default_factory=dict)
    _tables: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def all(self) -> list[Calendar]:
        return [self.default, *self.named.values()]

    def hour_table(self, first: dt.date, last: dt.date, chunks: frozenset[int] | None = None) -> pa.Table:
        """Per calendar i and UTC hour h (key i * 10**8 + h): open seconds before the hour (cum_s)
        and the open minutes of the hour as bits 0..59 (mask).

        Each UTC minute is judged by its own local wall time, so range edges inside a DST gap or a
        repeated hour are exact. chunks (chunk_of(instant) of every instant that will be looked up)
        keeps only the rows of those chunks: the open seconds of the others are counted per day, so
        cum_s is the same as in the whole table and a far outlier (a 1970 placeholder among 2026
        data) costs a few days' arithmetic, not decades of rows. None: every chunk."""
        table = self._tables.get((first, last, chunks))
        if table is None:  # keep a few spans (the server's queries and writes each use one); the dict
            tables = dict(self._tables)  # is replaced, never changed in place, so threads may share it
            if len(tables) >= 4:
                tables.pop(next(iter(tables)))
            table = tables[(first, last, chunks)] = self._hour_table(first, last, chunks)
            self._tables = tables
        return table

    def _hour_table(self, first: dt.date, last: dt.date, chunks: frozenset[int] | None = None) -> pa.Table:
        lo = dt.datetime.combine(first - dt.timedelta(days=2), dt.time())
        hi = dt.datetime.combine(last + dt.timedelta(days=2), dt.time())
        base = int((lo - EPOCH).total_seconds() // 60)
        n = int((hi - lo).total_seconds() // 60)
        weights = np.left_shift(np.int64(1), np.arange(60, dtype=np.int64))
        keys, cums, masks = [], [], []
        for number, cal in enumerate(self.all):
            closed = np.array([(d - dt.date(1970, 1, 1)).days for d in cal.closed_days(
                first - dt.timedelta(days=3), last + dt.timedelta(days=3))], dtype=np.int64)
            offs = _offsets(cal.timezone, lo, n)
            before = 0
            # minutes in chunks of whole hours (CHUNK_MINUTES, counted from 1970): memory stays that of
            # one chunk whatever the span, and a chunk without instants is only counted
            edges = [0, *range(CHUNK_MINUTES - base % CHUNK_MINUTES, n, CHUNK_MINUTES), n]
            for start, stop in zip(edges, edges[1:]):
                if chunks is not None and (base + start) // CHUNK_MINUTES not in chunks:
                    before += 60 * _open_count(cal, base, start, stop, offs, closed)
                    continue
                utc_min = np.arange(base + start, base + stop, dtype=np.int64)
                is_open = self._open_minutes(cal, utc_min, offs(start, stop), closed).reshape(-1, 60)
                per_hour = is_open.sum(axis=1, dtype=np.int64) * 60
                keys.append(utc_min[::60] // 60 + number * HOURS_PER_CALENDAR)
                cum = np.cumsum(per_hour)
                cums.append(before + cum - per_hour)
                before += int(cum[-1])
                masks.append(is_open.astype(np.int64) @ weights)
        empty = np.zeros(0, dtype=np.int64)
        return pa.table({
            "key": pa.array(np.concatenate(keys or [empty]), pa.int64()),
            "cum_s": pa.array(np.concatenate(cums or [empty]), pa.int64()),
            "mask": pa.array(np.concatenate(masks or [empty]), pa.int64()),
        })

    @staticmethod
    def _open_minutes(cal: Calendar, utc_min: np.ndarray, offsets: np.ndarray, closed: np.ndarray) -> np.ndarray:
        local = utc_min + offsets
        day = local // 1440
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        lut = np.zeros((7, 1440), dtype=bool)
        for wd, ranges in cal.week.items():
            for a, b in ranges:
                lut[wd, a:b] = True
        is_open = lut[weekday, local % 1440]
        if closed.size:
            is_open &= ~np.isin(day, closed)
        return is_open


def chunk_of(instant: dt.datetime) -> int:
    """The hour-table chunk a naive UTC instant falls in (SQL: floor(epoch_ms / CHUNK_MS))."""
    return int((instant - EPOCH).total_seconds() // 60) // CHUNK_MINUTES


def _open_count(cal: Calendar, base: int, start: int, stop: int, offs, closed: np.ndarray) -> int:
    """Open UTC minutes base+start .. base+stop-1, as _open_minutes would count them, per UTC day:
    a day of one UTC offset c maps to the local minutes [a+c, b+c), counted as G(b+c) - G(a+c)
    with G(x) the open local minutes before x; the few days with a DST change minute by minute."""
    lut = np.zeros((7, 1440), dtype=bool)
    for wd, ranges in cal.week.items():
        for a, b in ranges:
            lut[wd, a:b] = True
    before_minute = np.zeros((7, 1441), dtype=np.int64)
    before_minute[:, 1:] = np.cumsum(lut, axis=1)
    days = np.arange(start // 1440, (stop - 1) // 1440 + 1, dtype=np.int64)
    a = np.maximum(start, days * 1440)
    b = np.minimum(stop, days * 1440 + 1440)
    change = np.isin(days, offs.change_days)
    total = 0
    for d_a, d_b in zip(a[change], b[change]):
        utc_min = np.arange(base + d_a, base + d_b, dtype=np.int64)
        total += int(Calendars._open_minutes(cal, utc_min, offs(int(d_a), int(d_b)), closed).sum())
    off = offs.midnight[days[~change]]
    lo_x, hi_x = base + a[~change] + off, base + b[~change] + off
    if lo_x.size == 0:
        return total
    first_day, last_day = int(lo_x.min() // 1440), int(hi_x.max() // 1440)
    local_days = np.arange(first_day, last_day + 1, dtype=np.int64)
    open_day = ~np.isin(local_days, closed)
    weekday = (local_days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    day_cum = np.concatenate([[0], np.cumsum(open_day * before_minute[weekday, 1440])])

    def g(x: np.ndarray) -> np.ndarray:
        i = x // 1440 - first_day
        return day_cum[i] + open_day[i] * before_minute[weekday[i], x % 1440]
    return total + int((g(hi_x) - g(lo_x)).sum())


class _Offsets:
    """offs(start, stop): the UTC offset in minutes of each minute start..stop-1 after lo; midnight:
    the offset at each UTC midnight; changes: the days whose offset changes (per minute offsets)."""

    def __init__(self, midnight: np.ndarray, changes: dict[int, np.ndarray]):
        self.midnight, self.changes = midnight, changes
        self.change_days = np.array(sorted(changes), dtype=np.int64)

    def __call__(self, start: int, stop: int) -> np.ndarray:
        minute = np.arange(start, stop, dtype=np.int64)
        out = self.midnight[minute // 1440]
        for d, per_minute in self.changes.items():
            if start < 1440 * (d + 1) and 1440 * d < stop:
                a, b = max(start, 1440 * d), min(stop, 1440 * (d + 1))
                out[a - start:b - start] = per_minute[a - 1440 * d:b - 1440 * d]
        return out


def _offsets(tz: str, lo: dt.datetime, n: int) -> _Offsets:
    """(start, stop) -> the UTC offset in minutes of each minute start..stop-1 after lo. Zones change
    offset only on quarter hours, and at most once a day: the offset is read at each UTC midnight,
    and per quarter hour only on the days whose next midnight has another offset (a DST change)."""
    zone = ZoneInfo(tz)
    origin = lo.replace(tzinfo=dt.timezone.utc)

    def off(minutes: int) -> int:
        return int((origin + dt.timedelta(minutes=minutes)).astimezone(zone).utcoffset().total_seconds() // 60)

    days = (n + 1439) // 1440
    midnight = np.array([off(1440 * d) for d in range(days + 1)], dtype=np.int64)
    changes = {int(d): np.repeat(np.array([off(1440 * int(d) + 15 * q) for q in range(96)], dtype=np.int64), 15)
               for d in np.flatnonzero(midnight[:-1] != midnight[1:])}
    return _Offsets(midnight, changes)


def default_calendar(tz: str) -> Calendar:
    """Without config: Monday to Friday 09:00-17:00 in the workspace time zone."""
    return Calendar("default", tz, {i: ((540, 1020),) for i in range(5)})


def parse(raw: dict, tz: str, source: str) -> Calendars:
    default_raw = raw.get("business_hours")
    default = (parse_calendar("default", default_raw, tz, f"{source}, key business_hours")
               if default_raw is not None else default_calendar(tz))
    named = {}
    calendars = raw.get("calendars") or {}
    if not isinstance(calendars, dict):
        raise CalendarError(f"{source}, key calendars: expected a table of named calendars, e.g. [calendars.us] with timezone and days")
    for name, body in calendars.items():
        if not isinstance(body, dict):
            raise CalendarError(f"{source}, key calendars.{name}: expected a table")
        named[name] = parse_calendar(name, body, tz, f"{source}, key calendars.{name}")
    return Calendars(default, named)
