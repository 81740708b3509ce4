"""Peak hours: the records behind a count KPI, counted by local weekday x hour.

It reuses the engine's path for `rows` (catalog checks, as-of rules, exclusions, filters bound
as literals, the KPI's own population) and only adds the local weekday/hour grouping, so the
cells of a heatmap add up to the KPI's value over the same range."""
from __future__ import annotations

import datetime as dt

import ibis

from servicekpi.engine.query import Engine, Query, UsageError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def heatmap(engine: Engine, q: Query) -> dict:
    """{"kpi", "tz", "weekdays", "hours", "cells": 7 x 24 counts (Monday first), "total"}."""
    if len(q.kpis) != 1:
        raise UsageError("the heatmap takes exactly one KPI id")
    k = engine.kpi(q.kpis[0])
    if k.unit != "count" or k.shape != "event" or k.rows is not None or not isinstance(k.time, str):
        raise UsageError(f"{k.id} is not a count of events at an instant; the heatmap counts events "
                         f"such as ticket_volume")
    q.by, q.dims = None, []
    # the engine's records: names checked against the catalog, filters bound, periods built
    rec = engine.records(q, dims=[])
    expr, o, periods = rec.expr, rec.options, rec.periods
    cells = [[0] * 24 for _ in WEEKDAYS]
    if expr is None:
        return {"kpi": k.id, "tz": q.tz, "weekdays": list(WEEKDAYS), "hours": list(range(24)), "cells": cells,
                "total": None, "note": f"unavailable: table {', '.join(k.tables)} was never imported"}
    sql = ibis.to_sql(expr.select(__t=expr[k.time_col(o)]), dialect="duckdb")
    local = "timezone(?, __t AT TIME ZONE 'UTC')"
    found = engine.con.execute(f"SELECT isodow({local}) - 1, hour({local}), count(*) FROM ({sql}) "
                               f"GROUP BY ALL", [q.tz, q.tz]).fetchall()
    for wd, hour, n in found:
        cells[wd][hour] = n
    return {"kpi": k.id, "tz": q.tz, "weekdays": list(WEEKDAYS), "hours": list(range(24)), "cells": cells,
            "total": sum(map(sum, cells)), "from": periods[0].lo_date.isoformat() if periods else None,
            "to": (periods[-1].hi_date - dt.timedelta(days=1)).isoformat() if periods else None}
