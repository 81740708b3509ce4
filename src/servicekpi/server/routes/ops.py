"""Planning routes: staffing (Erlang C / Erlang A) and volume forecasts, for managers and admins."""
from __future__ import annotations

import re
from typing import Optional

from fastapi import APIRouter, Request
from fastapi import Query as Q

from servicekpi.engine.query import UsageError
from servicekpi.server import query as qry
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["planning"])
TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@router.get("/staffing", openapi_extra=roles_extra("plan"), summary="Agents needed per interval")
def staffing(request: Request, calls: Optional[float] = Q(None, ge=0), interval: float = Q(1800, gt=0, le=86400),
             aht: Optional[float] = Q(None, gt=0), target: str = "80/20", agents: Optional[int] = Q(None, ge=0),
             patience: Optional[float] = Q(None, gt=0), shrinkage: float = Q(0, ge=0, lt=100),
             max_occupancy: Optional[float] = Q(None, gt=0, le=100), from_data: bool = False,
             from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None, by: str = "halfhour",
             dim: Optional[str] = None, model: str = "auto", source: str = "calls", forecast: bool = False,
             week: int = Q(1, ge=1, le=52), ident: Identity = allow("plan")):
    """With `calls` and `aht` (per `interval` seconds): one row. With `from_data=true`: one row per weekday x
    interval (and queue or channel) from the calls table, in the workspace zone; `forecast=true` scales it to
    the forecast of the `week`-th week after the last one with data. Fields as
    `servicekpi staffing --format json` (docs/operations.md)."""
    from servicekpi.analysis import staffing as S
    from servicekpi.analysis import staffing_data as D
    m = TARGET.match(target)
    if not m:
        raise ApiError(400, f"target '{target}' is not PERCENT/SECONDS (e.g. 80/20)")
    if model not in ("auto", "erlang_c", "erlang_a"):
        raise ApiError(400, f"model '{model}' is not one of: auto, erlang_c, erlang_a")
    common = dict(target=float(m.group(1)) / 100, threshold=float(m.group(2)), agents=agents,
                  shrinkage=shrinkage / 100,
                  max_occupancy=S.DEFAULT_MAX_OCCUPANCY if max_occupancy is None else max_occupancy / 100)
    state = request.app.state.sk
    try:
        if not from_data:
            if calls is None or aht is None:
                raise ApiError(400, "give calls and aht, or from_data=true")
            if model == "erlang_a" and patience is None:
                raise ApiError(400, "model erlang_a needs patience (seconds)")
            return {"ok": True, "rows": [S.plan(calls, interval, aht, patience=None if model == "erlang_c"
                                                else patience, **common)]}
        tz = state.cfg.timezone
        if source == "tickets" and aht is None:
            raise ApiError(400, "source tickets needs aht (seconds): the store holds no handle time for tickets")
        scale, note = 1.0, None
        with state.engine() as eng:
            data = D.load(eng.con, tz, by, dim, qry.date(from_, "from"), qry.date(to, "to"), source)
            if forecast:
                from servicekpi.analysis.forecast_staffing import weekly_scale
                try:
                    scale, note = weekly_scale(eng.con, state.cfg, tz, data, dim,
                                               "ticket_volume" if source == "tickets" else "calls_offered", week)
                except ValueError as e:
                    raise ApiError(400, str(e)) from None
        rows = D.plan_rows(data, by, dim, model, patience, scale, aht=aht if source == "tickets" else None, **common)
        out = {"ok": True, "tz": tz, "from": str(data["from"]), "to": str(data["to"]), "by": by, "rows": rows}
        return {**out, "forecast": note} if note else out
    except (S.StaffingError, D.DataError) as e:
        raise ApiError(400 if not isinstance(e, D.DataError) or "never imported" not in str(e) else 404,
                       str(e)) from None


@router.get("/forecast", openapi_extra=roles_extra("plan"), summary="Volume forecast")
def forecast(request: Request, kpi: str = "ticket_volume", by: str = "day", horizon: int = Q(28, ge=1, le=366),
             dim: Optional[str] = None, from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None,
             ident: Identity = allow("plan")):
    """ticket_volume or calls_offered per day or week after the last period with data, with the model chosen
    by a rolling-origin backtest (seasonal naive, ETS, Theta) and 80/95% prediction intervals."""
    from servicekpi.analysis.forecast_query import build
    state = request.app.state.sk
    with state.engine() as eng:
        try:
            result = build(eng, kpi, by, horizon, dim, state.cfg.timezone, qry.date(from_, "from"), qry.date(to, "to"))
        except (UsageError, ValueError) as e:
            raise qry.usage(e) from None
    return {"ok": True, **result}
