"""Forecast a count KPI (ticket_volume, calls_offered) read through the engine, per dimension value.

The history is the KPI per day or week in the workspace zone, from the first to the last period with
data (partial periods at either end are left out); the forecast starts after the last period with data.
Periods that hold a holiday of a workspace calendar are marked: `holiday` with its name(s) and
`holidays` with each date, name and calendar."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import numpy as np

from servicekpi.analysis.forecast import forecast_series, rnd
from servicekpi.core import periods as P
from servicekpi.engine.query import Engine, Query, UsageError

KPIS = ("ticket_volume", "calls_offered")
GRAINS = ("day", "week")
MAX_HORIZON = 366


def _holidays(engine: Engine, start: dt.date, end: dt.date) -> dict[dt.date, list[dict]]:
    """Local date -> the holidays of the workspace calendars that day: {name, calendar}. A country
    holiday (holiday_country) carries its name from the holidays package (offline, in the wheel); a
    date listed in a calendar's `holidays` has no name in the config, so it is named after its calendar."""
    out: dict[dt.date, list[dict]] = {}
    for cal in engine.config.business().all:
        named = {}
        if cal.holiday_country:
            import holidays
            named = holidays.country_holidays(cal.holiday_country, years=range(start.year, end.year + 1))
        for day in cal.closed_days(start, end):
            name = named.get(day) if day not in cal.holidays else None
            out.setdefault(day, []).append({"name": name or f"holiday ({cal.name})", "calendar": cal.name})
    return out


def _marks(marks: dict[dt.date, list[dict]], day: dt.date, span: int) -> list[dict]:
    """The holidays inside [day, day + span days), one per date and name."""
    seen = {}
    for d in sorted(marks):
        if day <= d < day + dt.timedelta(days=span):
            for m in marks[d]:
                seen.setdefault((d, m["name"]), {"date": d.isoformat(), **m})
    return list(seen.values())


def check(kpi: str, by: str, horizon: int) -> None:
    """The request's own errors (usage), before any store is read."""
    if kpi not in KPIS:
        raise UsageError(f"forecast covers {', '.join(KPIS)}; '{kpi}' is not one of them")
    if by not in GRAINS:
        raise UsageError(f"--by '{by}' is not one of: {', '.join(GRAINS)}")
    if not 1 <= horizon <= MAX_HORIZON:
        raise UsageError(f"--horizon must be between 1 and {MAX_HORIZON} periods")


def build(engine: Engine, kpi: str, by: str = "day", horizon: int = 28, dim: Optional[str] = None,
          tz: str = "UTC", start: Optional[dt.date] = None, end: Optional[dt.date] = None,
          asof: Optional[dt.datetime] = None, details: bool = True) -> dict:
    check(kpi, by, horizon)
    rows = engine.evaluate(Query([kpi], by=by, dims=[dim] if dim else [], start=start, end=end, tz=tz, asof=asof))
    if rows and rows[0].get("note", "").startswith("unavailable"):
        return {"kpi": kpi, "by": by, "tz": tz, "model": None, "backtest": None, "rows": [], "note": rows[0]["note"]}
    series: dict = {}
    labels: list[str] = []
    partial: dict[str, bool] = {}
    for r in rows:
        ps = str(r["period_start"])
        if ps not in partial:
            labels.append(ps)
            partial[ps] = bool(r.get("partial"))
        series.setdefault(r.get(dim) if dim else None, {})[ps] = r["value"] or 0
    totals = [sum(s.get(ps, 0) for s in series.values()) for ps in labels]
    with_data = [i for i, t in enumerate(totals) if t]
    if not with_data:
        return {"kpi": kpi, "by": by, "tz": tz, "model": None, "backtest": None, "rows": [],
                "note": "no data in the range"}
    lo, hi = with_data[0], with_data[-1]
    if partial[labels[lo]] and lo < hi:
        lo += 1
    if partial[labels[hi]] and hi > lo:
        hi -= 1
    keep = labels[lo:hi + 1]
    last = dt.date.fromisoformat(keep[-1][:10])
    future = []
    step = last
    for _ in range(horizon):
        step = P.step(step, by)
        future.append(step)
    span = 1 if by == "day" else 7
    marks = _holidays(engine, future[0], future[-1] + dt.timedelta(days=span - 1))
    out_rows, models, backtests, notes = [], {}, {}, {}
    for value, s in series.items():
        y = np.array([s.get(ps, 0) for ps in keep], dtype=float)
        f = forecast_series(y, by, horizon)
        models[value], backtests[value] = f["model"], f["backtest"]
        if f.get("backtest_note"):
            notes[value] = f["backtest_note"]
        for i, day in enumerate(future):
            hol = _marks(marks, day, span)
            # holiday: the names (a week row: "date name" for each), null on a period without one
            names = list(dict.fromkeys(m["name"] if by == "day" else f"{m['date']} {m['name']}" for m in hol))
            row = {"period_start": day.isoformat()}
            if dim:
                row[dim] = value
            row.update(value=rnd(f["mean"][i]), lo80=rnd(f["lo80"][i]), hi80=rnd(f["hi80"][i]),
                       lo95=rnd(f["lo95"][i]), hi95=rnd(f["hi95"][i]), model=f["model"], holiday="; ".join(names) or None)
            if hol:
                row["holidays"] = hol
            out_rows.append(row)
    result = {"kpi": kpi, "by": by, "tz": tz, "history": {"from": keep[0], "to": keep[-1], "periods": len(keep)},
              "model": models[None] if dim is None else models,
              "backtest": backtests[None] if dim is None else backtests, "rows": out_rows}
    if notes:  # why a backtest is missing: one note, or one per dimension value without a backtest
        result["backtest_note"] = notes[None] if dim is None else notes
    return result
