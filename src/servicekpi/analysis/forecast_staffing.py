"""`staffing --from-data --forecast [--week N]`: the weekly pattern of arrivals scaled to a future week's forecast.

Scale (per dimension value) = forecast of calls_offered (ticket_volume for tickets) for the Nth week after the
last full week with data (N = 1: the next one) / mean calls per week in the staffing history."""
from __future__ import annotations

from servicekpi.analysis.forecast_query import build
from servicekpi.engine.query import Engine

MAX_WEEK = 52


def weekly_scale(con, cfg, tz: str, data: dict, dim, kpi: str = "calls_offered", week: int = 1):
    if not 1 <= week <= MAX_WEEK:
        raise ValueError(f"the forecast week must be between 1 and {MAX_WEEK} (1: the week after the last one "
                         "with data)")
    engine = Engine(con, cfg)
    f = build(engine, kpi, "week", week, dim, tz)
    if not f["rows"]:
        raise ValueError(f"no forecast of {kpi}: {f.get('note', 'no data')}")
    start = sorted({r["period_start"] for r in f["rows"]})[week - 1]
    f["rows"] = [r for r in f["rows"] if r["period_start"] == start]
    history: dict = {}
    for s in data["slots"]:
        history[s.value] = history.get(s.value, 0.0) + s.calls
    scale = {}
    for r in f["rows"]:
        value = r.get(dim) if dim else None
        scale[value] = r["value"] / history[value] if history.get(value) else 1.0
    first = f["rows"][0]
    note = {"week_start": first["period_start"], "model": f["model"],
            "calls": {str(r.get(dim)) if dim else "all": r["value"] for r in f["rows"]}}
    return scale, note
