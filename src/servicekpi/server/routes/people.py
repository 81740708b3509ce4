"""The agent leaderboard and the per-ticket export (issue 13 items 7 and 8)."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

from fastapi import APIRouter, Request, Response
from fastapi import Query as Q

from servicekpi.analysis import leaderboard as lb
from servicekpi.analysis import ticket_export
from servicekpi.core import periods as P
from servicekpi.engine.query import Query, UsageError, now_utc
from servicekpi.server import display as show
from servicekpi.server import query as qry
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["people"])
MAX_EXPORT_ROWS = 200_000  # a larger per-ticket export is the CLI's: servicekpi export tickets


def _range(from_, to, tz, asof) -> tuple[dt.date, dt.date]:
    """from/to, else the last 30 days up to the as-of date."""
    end = qry.date(to, "to") or P.local_date(asof or now_utc(), tz)
    start = qry.date(from_, "from") or end - dt.timedelta(days=29)
    if end < start:
        raise ApiError(400, f"the range starts after it ends: from {start} is after to {end}")
    return start, end


@router.get("/leaderboard", openapi_extra=roles_extra("read"), summary="The agent leaderboard")
def leaderboard(request: Request, from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None,
                team: Optional[str] = None, sort: Optional[str] = None, order: str = Q("desc", pattern="^(asc|desc)$"),
                min_sample: int = Q(lb.MIN_SAMPLE, ge=1, le=100_000), as_of: Optional[str] = None,
                lang: str = "en", ident: Identity = allow("read")):
    """One row per agent: tickets handled, FRT (seconds), AHT, CSAT, FCR and QA score, each with its
    sample n, the agent's team average and small_sample (n < min_sample). Default range: the last 30
    days. An agent token gets its own row only (with the team averages), never another agent's.
    Each row's `display` holds its values, team averages and n as people read them, in lang."""
    sk = request.app.state.sk
    show.check_lang(lang)
    asof = qry.instant(as_of, sk.cfg.timezone)
    start, end = _range(from_, to, sk.cfg.timezone, asof)
    with sk.engine() as eng:
        try:
            out = lb.board(eng, start, end, asof, team or None, sort, order == "desc", min_sample)
        except qry.BAD_INPUT as e:
            raise qry.usage(e) from None
    if ident.role == "agent":
        out["rows"] = [r for r in out["rows"] if r["agent_id"] == ident.agent_id]
    out["rows"] = [{**r, "display": show.leaderboard_row(r, out["columns"], lang, sk.cfg)} for r in out["rows"]]
    return {"ok": True, **out}


@router.get("/export/tickets", openapi_extra=roles_extra("read"), summary="One row per ticket (CSV, XLSX, Parquet)",
            responses={200: {"content": {m: {} for m in ticket_export.MEDIA.values()}}})
def export_tickets(request: Request, format: str = Q("csv", pattern="^(csv|xlsx|parquet)$"),
                   from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None,
                   where: List[str] = Q([]), as_of: Optional[str] = None, ident: Identity = allow("read")):
    """The tickets created in the range (default the last 30 days) with the filters, one row each:
    first response, resolution, replies, SLA outcomes and CSAT (as `servicekpi export tickets`).
    An agent token exports its own tickets."""
    sk = request.app.state.sk
    tz = sk.cfg.timezone
    asof = qry.instant(as_of, tz)
    start, end = _range(from_, to, tz, asof)
    q = Query(kpis=["sla_first_response_met"], start=start, end=end, where=qry.pairs(where, "where"), tz=tz, asof=asof)
    with sk.engine() as eng:
        qry.restrict(eng, q, ident)
        try:
            table = ticket_export.tickets(eng, q)
        except (UsageError, *qry.BAD_INPUT) as e:
            raise qry.usage(e) from None
    if table.num_rows > MAX_EXPORT_ROWS:
        raise ApiError(400, f"{table.num_rows} tickets are more than the export's limit of {MAX_EXPORT_ROWS}; "
                            f"choose a shorter range, or run: servicekpi export tickets --format {format}")
    name = f"tickets_{start}_{end}.{format}"
    return Response(ticket_export.encode(table, format), media_type=ticket_export.MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
