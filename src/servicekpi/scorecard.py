"""A month-by-month scorecard of chosen KPIs, as a rich table."""
from __future__ import annotations

import datetime as dt

from rich.table import Table

from .catalog import text
from .engine import Engine, Query

ARROW = {"higher": "↑", "lower": "↓", "neutral": "·"}


def fmt_value(v, unit: str) -> str:
    if v is None:
        return "–"
    if unit == "percent":
        return f"{v:.1f}%"
    if unit == "count":
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def scorecard(engine: Engine, kpis: list[str], start: dt.date, end: dt.date, asof: dt.datetime,
              lang: str = "en") -> Table:
    rows = engine.evaluate(Query(kpis=kpis, by="month", start=start, end=end, asof=asof,
                                 tz=engine.config.timezone))
    months = sorted({r["period_start"] for r in rows})
    table = Table(title=f"Scorecard by month ({engine.config.timezone}, as of {asof:%Y-%m-%d %H:%M} UTC)")
    table.add_column("KPI")
    table.add_column("unit")
    for m in months:
        table.add_column(m[:7], justify="right")
    for kid in kpis:
        k = engine.kpi(kid)
        by_month = {r["period_start"]: r["value"] for r in rows if r["kpi"] == kid}
        table.add_row(f"{ARROW[k.direction]} {kid}" if lang == "en" and len(months) > 4
                      else f"{ARROW[k.direction]} {text('kpi', kid, 'label', lang)}", k.unit,
                      *[fmt_value(by_month.get(m), k.unit) for m in months])
    return table
