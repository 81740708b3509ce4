"""`staffing --from-data --forecast`: the weekly pattern of arrivals scaled to next week's forecast.

Scale (per dimension value) = forecast of calls_offered (ticket_volume for tickets) for the week after the last full week with data
/ mean calls per week in the staffing history."""
from __future__ import annotations

from servicekpi.analysis.forecast_query import build
from servicekpi.engine.query import Engine


def weekly_scale(con, cfg, tz: str, data: dict, dim, kpi: str = "calls_offered"):
    engine = Engine(con, cfg)
    f = build(engine, kpi, "week", 1, dim, tz)
    if not f["rows"]:
        raise ValueError(f"no forecast of {kpi}: {f.get('note', 'no data')}")
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
