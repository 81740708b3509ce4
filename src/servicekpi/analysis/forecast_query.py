"""Forecast a count KPI (ticket_volume, calls_offered) read through the engine, per dimension value.

The history is the KPI per day or week in the workspace zone, from the first to the last period with
data (partial periods at either end are left out); the forecast starts after the last period with data.
Periods that hold a holiday of a workspace calendar are marked."""
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


def _holidays(engine: Engine, start: dt.date, end: dt.date) -> dict[dt.date, list[str]]:
    """Local date -> names of the calendars closed for a holiday that day."""
    out: dict[dt.date, list[str]] = {}
    for cal in engine.config.business().all:
        for day in cal.closed_days(start, end):
            out.setdefault(day, []).append(cal.name)
    return out


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
    out_rows, models, backtests = [], {}, {}
    for value, s in series.items():
        y = np.array([s.get(ps, 0) for ps in keep], dtype=float)
        f = forecast_series(y, by, horizon)
        models[value], backtests[value] = f["model"], f["backtest"]
        for i, day in enumerate(future):
            hol = sorted({f"{d.isoformat()} ({name})" for d in marks for name in marks[d]
                          if day <= d < day + dt.timedelta(days=span)})
            row = {"period_start": day.isoformat()}
            if dim:
                row[dim] = value
            row.update(value=rnd(f["mean"][i]), lo80=rnd(f["lo80"][i]), hi80=rnd(f["hi80"][i]),
                       lo95=rnd(f["lo95"][i]), hi95=rnd(f["hi95"][i]), model=f["model"], holiday=bool(hol))
            if hol:
                row["holidays"] = hol
            out_rows.append(row)
    result = {"kpi": kpi, "by": by, "tz": tz, "history": {"from": keep[0], "to": keep[-1], "periods": len(keep)},
              "model": models[None] if dim is None else models,
              "backtest": backtests[None] if dim is None else backtests, "rows": out_rows}
    if dim is None and f.get("backtest_note"):
        result["backtest_note"] = f["backtest_note"]
    return result
