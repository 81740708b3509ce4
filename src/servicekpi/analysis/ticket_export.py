"""The per-ticket export: one row per ticket created in the range, with its first response,
resolution, replies, SLA outcomes and CSAT (`servicekpi export tickets`, GET /api/export/tickets).

The rows are the records behind sla_first_response_met (the tickets the KPIs count, with the SLA
rule's outcome), joined with sla_resolution_met's outcome and the ticket's CSAT answers; filters,
as-of and agent restrictions are the engine's, as for `servicekpi rows`."""
from __future__ import annotations

import datetime as dt
import io

import ibis
import pyarrow as pa

from servicekpi.engine.query import Engine, Query

COLUMNS = ("ticket_id", "created_at", "channel", "category", "priority", "status", "team", "agent_id",
           "customer_id", "customer_tier", "first_response_at", "first_response_seconds", "resolved_at",
           "resolution_seconds", "agent_replies", "reopen_count", "sla_rule", "sla_first_response",
           "sla_resolution", "csat", "csat_answers")
FORMATS = ("csv", "xlsx", "parquet")
MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def tickets(engine: Engine, q: Query) -> pa.Table:
    """One row per ticket of q's range and filters (q.kpis is ignored), oldest first."""
    first = engine.records(_as(q, "sla_first_response_met"))
    if first.expr is None:
        return pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
    t = first.expr
    res = engine.records(_as(q, "sla_resolution_met")).expr
    res = res.select(r_id=res.ticket_id, sla_resolution=res.sla_status)
    t = t.left_join(res, t.ticket_id == res.r_id)
    answers = _csat(engine, q)
    if answers is not None:
        t = t.left_join(answers, t.ticket_id == answers.s_id)
    seconds = _seconds
    out = t.select(
        *[c for c in ("ticket_id", "created_at", "channel", "category", "priority", "status", "team", "agent_id",
                      "customer_id", "customer_tier", "first_response_at")],
        first_response_seconds=seconds(t.created_at, t.first_response_at),
        resolved_at=t.resolved_at, resolution_seconds=seconds(t.created_at, t.resolved_at),
        agent_replies=t.agent_replies, reopen_count=t.reopen_count, sla_rule=t.sla_rule,
        sla_first_response=t.sla_status, sla_resolution=t.sla_resolution,
        csat=t.csat if answers is not None else ibis.null().cast("float64"),
        csat_answers=t.csat_answers if answers is not None else ibis.null().cast("int64"),
    ).order_by(["created_at", "ticket_id"])
    return engine.ib.to_pyarrow(out)


def _as(q: Query, kpi: str) -> Query:
    return Query(kpis=[kpi], by=None, dims=[], start=q.start, end=q.end, where=dict(q.where), tz=q.tz, asof=q.asof)


def _seconds(start, end):
    return ((end.epoch_seconds() - start.epoch_seconds())).cast("int64")


def _csat(engine: Engine, q: Query):
    """The mean CSAT score of each ticket's answers up to as-of (None without surveys)."""
    from servicekpi.store.db import imported_tables
    if "surveys" not in imported_tables(engine.con):
        return None
    s = engine.ib.table("surveys")
    s = s.filter((s.survey == "csat") & s.ticket_id.notnull() & s.score.notnull()
                 & (s.responded_at <= ibis.literal(q.asof or dt.datetime.now())))
    return s.group_by(s_id=s.ticket_id).aggregate(csat=s.score.mean(), csat_answers=s.count())


def encode(table: pa.Table, fmt: str) -> bytes:
    """The table as a CSV (UTF-8 with BOM, for Excel), XLSX or Parquet file."""
    buf = io.BytesIO()
    if fmt == "parquet":
        import pyarrow.parquet as pq
        pq.write_table(table, buf)
    elif fmt == "csv":
        buf.write(_csv(table).encode("utf-8"))
    elif fmt == "xlsx":
        _xlsx(table, buf)
    else:
        raise ValueError(f"format '{fmt}' is not one of: {', '.join(FORMATS)}")
    return buf.getvalue()


def _csv(table: pa.Table) -> str:
    """UTF-8 with a BOM (Excel reads it as UTF-8); instants as ISO 8601 UTC (2026-10-01T09:30:00Z)."""
    import csv
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(table.column_names)
    for row in table.to_pylist():
        w.writerow(["" if v is None else f"{v.isoformat()}Z" if isinstance(v, dt.datetime) else _cell(v)
                    for v in row.values()])
    return out.getvalue()


def _xlsx(table: pa.Table, buf) -> None:
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("tickets")
    ws.append(table.column_names)
    for row in table.to_pylist():
        ws.append([_cell(v) for v in row.values()])
    wb.save(buf)


def _cell(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):  # never a formula from the data
        return "'" + v
    return v
