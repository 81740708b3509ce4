"""Arrivals, handle time and patience per local weekday x interval from the calls table, for staffing.

Periods follow the workspace zone (DST-aware: each call's local wall-clock time picks its slot). Mean
arrivals per slot = calls in that weekday/slot / number of such weekdays in the range. AHT = mean of
talk + hold + wrap over answered calls with a known talk time. Patience (mean, exponential) is the
censored maximum-likelihood estimate: total time callers spent waiting / number of abandons."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from servicekpi.store.db import imported_tables

DIMS = {"calls": ("queue", "channel"), "tickets": ("channel", "category", "team")}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVALS = {"halfhour": 1800, "hour": 3600}


class DataError(ValueError):
    """The store cannot answer (no calls table, no calls in the range)."""


@dataclass
class Slot:
    value: Optional[str]        # the dimension value (None without --dim)
    weekday: int                # 0 = Monday
    slot: int                   # interval index within the local day
    calls: float                # mean arrivals per interval
    aht: Optional[float]


def _weekday_counts(start: dt.date, end: dt.date) -> list[int]:
    days = (end - start).days + 1
    counts = [days // 7] * 7
    for i in range(days % 7):
        counts[(start.weekday() + i) % 7] += 1
    return counts


def load(con, tz: str, by: str = "halfhour", dim: Optional[str] = None, start: Optional[dt.date] = None,
         end: Optional[dt.date] = None, source: str = "calls") -> dict:
    """{"slots": [Slot], "patience": {value: seconds or None}, "aht": {value: seconds}, "from", "to"}.

    source "tickets" (async channels: email, web forms): arrivals from tickets.created_at, excluded
    tickets left out; the store holds no handle time for tickets, so AHT and patience stay unknown."""
    if source not in DIMS:
        raise DataError(f"--source '{source}' is not one of: {', '.join(DIMS)}")
    if source not in imported_tables(con):
        raise DataError(f"staffing from data needs the {source} table, which was never imported")
    if by not in INTERVALS:
        raise DataError(f"--by '{by}' is not one of: {', '.join(INTERVALS)}")
    if dim is not None and dim not in DIMS[source]:
        raise DataError(f"--dim '{dim}' is not one of: {', '.join(DIMS[source])}")
    if source == "tickets":
        return _tickets(con, tz, by, dim, start, end)
    minutes = INTERVALS[by] // 60
    col = f"coalesce(CAST({dim} AS VARCHAR), '(none)')" if dim else "NULL"   # dim from the fixed list above
    local = "timezone(?, entered_at AT TIME ZONE 'UTC')"
    base = f"SELECT *, {local} AS __l, CAST({local} AS DATE) AS __d FROM calls"
    lo, hi = con.execute(f"SELECT min(__d), max(__d) FROM ({base})", [tz, tz]).fetchone()
    if lo is None:
        raise DataError("the calls table has no calls")
    start, end = start or lo, end or hi
    if end < start:
        raise DataError(f"--to {end} is before --from {start}")
    handle = "talk_seconds + coalesce(hold_seconds, 0) + coalesce(wrap_seconds, 0)"
    known = "answered_at IS NOT NULL AND talk_seconds IS NOT NULL"
    rows = con.execute(
        f"SELECT {col} AS v, isodow(__l) - 1, (hour(__l) * 60 + minute(__l)) // {minutes}, count(*), "
        f"sum(CASE WHEN {known} THEN {handle} END), count(CASE WHEN {known} THEN 1 END) "
        f"FROM ({base}) WHERE __d BETWEEN ? AND ? GROUP BY ALL ORDER BY 1, 2, 3", [tz, tz, start, end]).fetchall()
    if not rows:
        raise DataError(f"no calls entered between {start} and {end} ({tz})")
    per_dim = con.execute(
        f"SELECT {col} AS v, sum(CASE WHEN {known} THEN {handle} END) / count(CASE WHEN {known} THEN 1 END), "
        f"count(CASE WHEN answered_at IS NULL AND ended_at IS NOT NULL THEN 1 END), "
        f"sum(epoch(coalesce(answered_at, ended_at) - entered_at)) "
        f"FROM ({base}) WHERE __d BETWEEN ? AND ? GROUP BY ALL", [tz, tz, start, end]).fetchall()
    days = _weekday_counts(start, end)
    aht = {v: a for v, a, _, _ in per_dim}
    patience = {v: (float(w) / ab if ab and w else None) for v, _, ab, w in per_dim}
    slots = [Slot(v, wd, s, n / days[wd], float(h) / k if k else aht.get(v)) for v, wd, s, n, h, k in rows]
    return {"slots": slots, "aht": aht, "patience": patience, "from": start, "to": end,
            "interval_seconds": INTERVALS[by]}


def _tickets(con, tz, by, dim, start, end) -> dict:
    minutes = INTERVALS[by] // 60
    col = f"coalesce(CAST({dim} AS VARCHAR), '(none)')" if dim else "NULL"   # dim from the fixed list above
    local = "timezone(?, created_at AT TIME ZONE 'UTC')"
    base = (f"SELECT *, {local} AS __l, CAST({local} AS DATE) AS __d FROM tickets "
            f"WHERE NOT coalesce(excluded, false)")
    lo, hi = con.execute(f"SELECT min(__d), max(__d) FROM ({base})", [tz, tz]).fetchone()
    if lo is None:
        raise DataError("the tickets table has no tickets")
    start, end = start or lo, end or hi
    rows = con.execute(
        f"SELECT {col}, isodow(__l) - 1, (hour(__l) * 60 + minute(__l)) // {minutes}, count(*) "
        f"FROM ({base}) WHERE __d BETWEEN ? AND ? GROUP BY ALL ORDER BY 1, 2, 3", [tz, tz, start, end]).fetchall()
    if not rows:
        raise DataError(f"no tickets created between {start} and {end} ({tz})")
    days = _weekday_counts(start, end)
    slots = [Slot(v, wd, s, n / days[wd], None) for v, wd, s, n in rows]
    return {"slots": slots, "aht": {}, "patience": {}, "from": start, "to": end, "interval_seconds": INTERVALS[by]}


def label(by: str, slot: int) -> str:
    m = slot * INTERVALS[by] // 60
    return f"{m // 60:02d}:{m % 60:02d}"


def plan_rows(data: dict, by: str, dim: Optional[str], model: str = "auto", patience: Optional[float] = None,
              scale=1.0, aht: Optional[float] = None, **common) -> list[dict]:
    """One staffing row per (dim value, weekday, interval). model: auto (Erlang A where patience is given
    or estimated from abandons), erlang_c or erlang_a. scale: a factor, or {dim value: factor}."""
    from servicekpi.analysis import staffing as S
    rows = []
    for s in data["slots"]:
        p = None if model == "erlang_c" else (patience if patience is not None else data["patience"].get(s.value))
        if model == "erlang_a" and p is None:
            raise DataError(f"no abandons to estimate patience from{f' for {dim} {s.value}' if dim else ''}; "
                            f"give a patience in seconds or use Erlang C")
        head = {"weekday": WEEKDAYS[s.weekday], "interval_start": label(by, s.slot)}
        if dim:
            head[dim] = s.value
        calls = s.calls * (scale.get(s.value, 1.0) if isinstance(scale, dict) else scale)
        handle = aht if aht is not None else s.aht
        if handle is None:
            rows.append({**head, "calls": round(calls, 4), "note": "no answered call with a known talk time"})
            continue
        try:
            rows.append({**head, **S.plan(round(calls, 6), data["interval_seconds"], round(handle, 3),
                                          patience=None if p is None else round(p, 3), **common)})
        except S.StaffingError as e:
            rows.append({**head, "calls": round(calls, 4), "note": str(e)})
    return rows
