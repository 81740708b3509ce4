"""Whole-operation views: the balanced scorecard, volume spikes and the monthly reports."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tempfile
from pathlib import Path
from typing import List, Optional

from fastapi import APIRouter, Request
from fastapi import Query as Q
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from servicekpi.analysis import spikes as spikes_mod
from servicekpi.catalog import LANGS
from servicekpi.core import periods as P
from servicekpi.engine.query import Query, UsageError, now_utc
from servicekpi.report import data, html, pdf, xlsx
from servicekpi.server import cache
from servicekpi.server import display as show
from servicekpi.server import query as qry
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["reports"])

REPORT = re.compile(r"^(\d{4})-(\d{2})\.(xlsx|html|pdf)$")
MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise ApiError(400, f"lang '{lang}' is not one of: {', '.join(LANGS)}")
    return lang


def _month(text: str) -> dt.date:
    m = MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ApiError(400, f"month '{text}' is not a month (expected YYYY-MM, e.g. 2026-10)")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def _finite(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


@router.get("/scorecard", openapi_extra=roles_extra("read_all"), summary="Balanced scorecard")
def scorecard(request: Request, month: Optional[str] = None, from_: Optional[str] = Q(None, alias="from"),
              to: Optional[str] = None, by: str = "month", dim: Optional[str] = None, lang: str = "en",
              as_of: Optional[str] = None, ident: Identity = allow("read_all")):
    """Each KPI with data in the period against its target, with the change against the previous
    period (as `servicekpi scorecard --format json`). Default period: the last complete month."""
    from servicekpi.analysis.scorecard import build, display_fields
    state = request.app.state.sk
    _lang(lang)
    if by not in ("month", "week"):
        raise ApiError(400, f"by '{by}' is not one of: month, week")
    start, end = qry.date(from_, "from"), qry.date(to, "to")
    if month is not None:
        if start or end:
            raise ApiError(400, "give either month or from/to, not both")
        start = _month(month)
        end = P.add_months(start, 1) - dt.timedelta(days=1)
    if (start is None) != (end is None):
        raise ApiError(400, "give both from and to (inclusive local dates), or month=YYYY-MM")
    asof = qry.instant(as_of, state.cfg.timezone)

    def compute() -> bytes:
        with state.engine() as eng:
            try:
                card = build(eng, start, end, by, asof, lang, None, [dim] if dim else None)
            except (UsageError, ValueError) as e:
                raise qry.usage(e) from None
        cfg = state.cfg
        rows = [{**r, "display": display_fields(r, card.dims, lang, cfg.currency, cfg.labels)} for r in card.rows]
        return JSONResponse(jsonable_encoder({
            "ok": True, "period_start": card.start.isoformat(), "period_end": card.end.isoformat(),
            "previous": [d.isoformat() for d in card.previous], "complete": card.complete, "tz": card.tz,
            "currency": cfg.currency, "rows": rows, "notes": card.notes})).body
    # kept like KPI answers (server/cache.py): dropped by every write, at most NOW_TTL s without as_of
    q = Query(kpis=["scorecard"], by=by, dims=[dim] if dim else [], start=start, end=end,
              tz=state.cfg.timezone, asof=asof)
    return Response(state.cached(cache.key("scorecard", q, ident, lang), compute), media_type="application/json")


@router.get("/spikes", openapi_extra=roles_extra("read_all"), summary="Volume spikes")
def spikes(request: Request, from_: Optional[str] = Q(None, alias="from"), to: Optional[str] = None,
           by: str = "month", dim: str = "category", k: float = Q(3.0, gt=0, le=100),
           window: int = Q(6, ge=1, le=60), where: List[str] = Q([]), as_of: Optional[str] = None,
           min_rise: Optional[float] = Q(None, ge=0), min_ratio: Optional[float] = Q(None, ge=1),
           lang: str = "en", ident: Identity = allow("read_all")):
    """Periods whose ticket volume for a category (or channel) is above median + k x MAD of the
    `window` periods before, by at least min_rise tickets and min_ratio times (default: the config's
    [spikes], else 20 and 1.4): the report's rule, servicekpi.spikes. Default: the last 12 months.
    Each spike's `display` holds its counts and its category or channel as people read them, in lang."""
    mod = spikes_mod
    state = request.app.state.sk
    show.check_lang(lang)
    tz = state.cfg.timezone
    if by not in P.GRAINS:
        raise ApiError(400, f"by '{by}' is not one of: {', '.join(P.GRAINS)}")
    asof = qry.instant(as_of, tz)
    end = qry.date(to, "to") or P.local_date(asof or now_utc(), tz)
    start = qry.date(from_, "from") or P.add_months(end.replace(day=1), -11)
    if end < start:
        raise ApiError(400, f"the period ends ({end}) before it starts ({start})")
    qry.check_span(start, end, by)
    with state.engine() as eng:
        try:
            least = mod.size_rule(eng, min_rise, min_ratio)
            found = mod.spikes(eng, start, end, by, dim, k, window, asof, qry.pairs(where, "where") or None, least)
        except (UsageError, ValueError) as e:
            raise qry.usage(e) from None
    labels = [p.start.isoformat() for p in P.build(start, end, by, tz)]
    out = []
    for s in found:
        row = {key: _finite(v) for key, v in dataclasses.asdict(s).items()}
        row["period_start"] = labels[s.period] if 0 <= s.period < len(labels) else None
        row["display"] = show.spike(row, lang, state.cfg)
        out.append(row)
    return {"ok": True, "from": start.isoformat(), "to": end.isoformat(), "by": by, "dim": dim,
            "min_rise": least.min_rise, "min_ratio": least.min_ratio, "spikes": out}


@router.get("/reports/{name}", openapi_extra=roles_extra("read_all"), summary="Monthly report file",
            responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def report(request: Request, name: str, lang: str = "en", as_of: Optional[str] = None,
           ident: Identity = allow("read_all")):
    """`YYYY-MM.xlsx`, `.html` or `.pdf`: the report of that month and the 11 before it (none before
    the first record), in lang. A month without any record is a 400 saying what the data covers."""
    m = REPORT.match(name)
    if not m:
        raise ApiError(404, f"no report '{name}': ask for YYYY-MM.xlsx, YYYY-MM.html or YYYY-MM.pdf")
    month, fmt = _month(f"{m.group(1)}-{m.group(2)}"), m.group(3)
    _lang(lang)
    writer = {"xlsx": xlsx, "html": html, "pdf": pdf}[fmt]
    state = request.app.state.sk
    asof = qry.instant(as_of, state.cfg.timezone)
    start, end = data.month_range(month)
    with state.engine() as eng:
        try:
            start, end = data.cut_to_data(eng, start, end, "month", asof)
            rep = data.build(eng, start, end, "month", lang, asof)
        except (UsageError, ValueError) as e:
            raise qry.usage(e) from None
    with tempfile.TemporaryDirectory(prefix="servicekpi-api-") as tmp:
        path = Path(tmp) / name
        writer.write(rep, path)
        content = path.read_bytes()
    return Response(content, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="servicekpi-{name}"'})
