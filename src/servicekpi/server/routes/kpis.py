"""Read routes: the catalog, KPI values (the CLI's rows), the records behind them, dims, heatmap."""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

from fastapi import APIRouter, Request, Response
from fastapi import Query as Q
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from servicekpi.catalog import LANGS, column_labels, text
from servicekpi.engine.relations import Sources
from servicekpi.server import cache
from servicekpi.server import display as show
from servicekpi.server import query as qry
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity
from servicekpi.store.db import imported_tables, table_columns

router = APIRouter(prefix="/api", tags=["kpis"])

FAR = dt.datetime(2100, 1, 1)
DIMS = ("channel", "team", "agent_id", "customer_tier", "category")
DIM_TABLES = ("tickets", "calls", "surveys")  # where the dashboard's filter values come from


def _ids(kid: str) -> list[str]:
    ids = [x.strip() for x in kid.split(",") if x.strip()]
    if not ids:
        raise ApiError(400, "give a KPI id, e.g. /api/kpis/ticket_volume")
    return ids


def _query(request: Request, ids, by, dim, from_, to, where, option, tz, as_of):
    return qry.build(ids, by, dim, from_, to, where, option, tz, as_of, request.app.state.sk.cfg.timezone)


@router.get("/kpis", openapi_extra=roles_extra("read"), summary="The KPI catalog")
def kpis(request: Request, ident: Identity = allow("read")):
    """Every KPI: id, labels, definitions and formulas in every language, unit, direction, options,
    the dimensions it can be sliced by in this store and whether its tables were imported.
    An agent token lists only the KPIs it may read (those with an agent_id dimension)."""
    with request.app.state.sk.engine() as eng:
        imported = imported_tables(eng.con)
        sources = Sources(eng.backend, imported, FAR)  # the as-of instant plays no part in dims
        out = []
        for k in eng.cat.kpis.values():
            dims = eng.allowed_dims(k, sources)
            if ident.role == "agent" and qry.AGENT_DIM not in dims:
                continue
            out.append({
                "id": k.id, "family": k.family, "unit": k.unit, "direction": k.direction,
                "labels": {lang: text("kpi", k.id, "label", lang) for lang in LANGS},
                "definitions": {lang: text("kpi", k.id, "definition", lang) for lang in LANGS},
                "formulas": {lang: text("kpi", k.id, "formula", lang) for lang in LANGS},
                "formula": k.formula, "attribution": k.attribution or (k.time if isinstance(k.time, str) else None),
                "options": [{"name": o.name, "default": o.default, "choices": list(o.choices), "help": o.help}
                            for o in k.options],
                "dimensions": dims, "tables": list(k.tables),
                "available": set(k.tables) <= imported,
            })
    return {"ok": True, "languages": list(LANGS), "kpis": out}


QUERY_DOC = ("Same parameters as `servicekpi kpi`: by (day|week|month|quarter|year), dim (repeatable), "
             "from/to (local dates, inclusive), where COLUMN=VALUE (repeatable), option key=value (repeatable), "
             "tz, as_of. Several ids may be given comma-separated.")


@router.get("/kpis/{kpi_id}", openapi_extra=roles_extra("read"), summary="KPI values", description=QUERY_DOC)
def kpi(request: Request, kpi_id: str, by: Optional[str] = None, dim: List[str] = Q([]),
        from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None, where: List[str] = Q([]),
        option: List[str] = Q([]), tz: Optional[str] = None, as_of: Optional[str] = None,
        lang: Optional[str] = None, ident: Identity = allow("read")):
    """Exactly the rows `servicekpi kpi ID --format json` prints for the same query (a JSON array).
    When a where value matches no record, each row also carries `warnings` (what the CLI prints as a
    note on stderr), which the dashboard shows on the card. With lang (en, zh, ro or th) each row also
    carries `display`: its value as people read it (core/display.py: "1 hr 25 min", "61.4%") and its
    dimension values as labels, what the dashboard shows."""
    q = _query(request, _ids(kpi_id), by, dim, from_, to, where, option, tz, as_of)
    sk = request.app.state.sk
    show.check_lang(lang)

    def compute() -> bytes:
        with sk.engine() as eng:
            qry.check_ids(eng, q.kpis)
            qry.restrict(eng, q, ident)
            try:
                rows = qry.bounded(eng.evaluate(q))
            except qry.BAD_INPUT as e:
                raise qry.usage(e) from None
            if eng.warnings:
                rows = [{**r, "warnings": eng.warnings} for r in rows]
            if lang:
                rows = [{**r, "display": show.kpi_row(r, q.dims, lang, sk.cfg)} for r in rows]
            return _json(rows)
    return Response(sk.cached(cache.key("kpi", q, ident, lang), compute), media_type="application/json")


def _json(value) -> bytes:
    """The bytes FastAPI would send for value (what the result cache keeps)."""
    return JSONResponse(jsonable_encoder(value)).body


@router.get("/kpis/{kpi_id}/rows", openapi_extra=roles_extra("read"), summary="The records behind a KPI",
            description=QUERY_DOC)
def rows(request: Request, kpi_id: str, by: Optional[str] = None, dim: List[str] = Q([]),
         from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None, where: List[str] = Q([]),
         option: List[str] = Q([]), tz: Optional[str] = None, as_of: Optional[str] = None,
         within: Optional[str] = None, limit: int = Q(100, ge=0, le=10_000), offset: int = Q(0, ge=0),
         ident: Identity = allow("read")):
    """The tickets, calls or answers a KPI counted, a page at a time (as `servicekpi rows`), under their
    column ids; `columns` gives each column's readable label in every language (the dashboard's heads),
    and `values` the labels of category, channel, team ... ids in every language."""
    qry.check_offset(offset)
    q = _query(request, [kpi_id], by, dim, from_, to, where, option, tz, as_of)
    if within is not None:
        q.options["within"] = within
    sk = request.app.state.sk

    def compute() -> bytes:
        with sk.engine() as eng:
            qry.check_ids(eng, q.kpis)
            qry.restrict(eng, q, ident)
            try:
                records, total = eng.rows(q, limit, offset)
            except qry.BAD_INPUT as e:
                raise qry.usage(e) from None
        columns = column_labels(dict.fromkeys(c for r in records for c in r))  # rows keep the ids
        return _json({"ok": True, "kpi": kpi_id, "total": total, "limit": limit, "offset": offset, "rows": records,
                      "columns": columns, "values": show.record_values(records, sk.cfg)})
    return Response(sk.cached(cache.key("rows", q, ident, limit, offset), compute), media_type="application/json")


@router.get("/dims", openapi_extra=roles_extra("read"), summary="Filter values for the dashboard")
def dims(request: Request, ident: Identity = allow("read")):
    """Distinct values of channel, team, agent_id, customer_tier and category in tickets, calls and
    surveys (excluded tickets left out). An agent token sees the values of its own records only."""
    with request.app.state.sk.engine() as eng:
        imported = imported_tables(eng.con)
        out: dict[str, list] = {d: [] for d in DIMS}
        for table in DIM_TABLES:
            if table not in imported:
                continue
            cols = set(table_columns(eng.con, table))
            own = ident.role == "agent" and "agent_id" in cols
            if ident.role == "agent" and not own:
                continue
            for d in DIMS:
                if d not in cols:
                    continue
                cond = " AND agent_id = ?" if own else ""
                skip = " AND NOT coalesce(excluded, false)" if table == "tickets" else ""
                sql = f"SELECT DISTINCT {d} FROM {table} WHERE {d} IS NOT NULL{skip}{cond}"  # names: DIMS only
                out[d] = sorted(set(out[d]) | {r[0] for r in eng.con.execute(
                    sql, [ident.agent_id] if own else []).fetchall()}, key=str)
    return {"ok": True, "dims": out}


@router.get("/heatmap", openapi_extra=roles_extra("read"), summary="Weekday x hour counts")
def heatmap(request: Request, kpi: str = "ticket_volume", from_: Optional[str] = Q(None, alias="from"),
            to: Optional[str] = None, where: List[str] = Q([]), option: List[str] = Q([]),
            tz: Optional[str] = None, as_of: Optional[str] = None, ident: Identity = allow("read")):
    """The records behind a count KPI (default ticket_volume) by local weekday (Monday first) and
    hour, in the workspace time zone unless tz is given."""
    from servicekpi.analysis.heatmap import heatmap as compute
    q = _query(request, [kpi], None, [], from_, to, where, option, tz, as_of)
    with request.app.state.sk.engine() as eng:
        qry.check_ids(eng, q.kpis)
        qry.restrict(eng, q, ident)
        try:
            return {"ok": True, **compute(eng, q)}
        except qry.BAD_INPUT as e:
            raise qry.usage(e) from None
