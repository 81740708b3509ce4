"""Query-string parameters -> engine Query, with the same rules as the CLI's --by/--dim/--where/...,
and the agent role's forced filter. Names are checked against the catalog by the engine; values
reach SQL only as bound literals (compile.typed)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ibis.common.annotations import SignatureValidationError

from servicekpi.core import config as cfg_mod
from servicekpi.engine.query import Engine, Query, UsageError
from servicekpi.engine.relations import Sources
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity
from servicekpi.store.db import imported_tables

AGENT_DIM = "agent_id"


def pairs(items: list[str] | None, what: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            raise ApiError(400, f"{what} '{item}' must look like key=value")
        k, v = item.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


FIRST_YEAR, LAST_YEAR = 1900, 2200  # dates and as_of outside these years are refused (400), not computed
MAX_ZONE = 255  # IANA names are far shorter; a longer tz is refused before any file lookup


def _in_years(value, name: str, text: str):
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ApiError(400, f"{name} '{text}' is out of range (expected a year from {FIRST_YEAR} to {LAST_YEAR})")
    return value


def date(text: str | None, name: str) -> dt.date | None:
    if text is None or text == "":
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} '{text[:64]}' is not a date (expected YYYY-MM-DD, e.g. 2026-10-31)") from None
    return _in_years(value, name, text)


def instant(text: str | None, tz: str) -> dt.datetime | None:
    """as_of: ISO 8601; without an offset it is read in the query's time zone (as the CLI does)."""
    if text is None or text == "":
        return None
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"as_of '{text[:64]}' is not a timestamp (expected ISO 8601, "
                            f"e.g. 2026-11-01T00:00:00Z)") from None
    _in_years(t, "as_of", text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(tz))
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None)


def zone(tz: str | None, default: str) -> str:
    z = tz or default
    if len(z) > MAX_ZONE or "\0" in z:
        raise ApiError(400, f"tz '{z[:64]}...' is not an IANA time zone (e.g. Europe/Bucharest, UTC)")
    try:
        return cfg_mod.check_zone(z, "tz")
    except OSError:  # e.g. a name too long for the file system
        raise ApiError(400, f"tz '{z[:64]}' is not an IANA time zone (e.g. Europe/Bucharest, UTC)") from None
    except cfg_mod.ConfigError as e:
        raise ApiError(400, str(e)) from None


MAX_OFFSET = 2**62  # a page offset past this is refused (400): DuckDB takes 64-bit offsets
MAX_PERIODS = 5000  # a query's periods are compiled into its SQL: bound them
DAYS = {"day": 1, "week": 7, "month": 28, "quarter": 89, "year": 365}


def check_offset(offset: int) -> int:
    """A page offset DuckDB can take; a larger one (e.g. 26 digits) is a 400, not a conversion error."""
    if offset > MAX_OFFSET:
        raise ApiError(400, f"offset {str(offset)[:30]}{'...' if len(str(offset)) > 30 else ''} is past the "
                            f"largest page offset (2^62); page with a smaller offset")
    return offset


def check_span(start: dt.date | None, end: dt.date | None, by: str | None) -> None:
    if start and end and by in DAYS and ((end - start).days // DAYS[by]) + 1 > MAX_PERIODS:
        raise ApiError(400, f"from {start} to {end} by {by} is more than {MAX_PERIODS} periods; "
                            f"choose a larger grain or a shorter range")


def build(ids: list[str], by, dim, from_, to, where, option, tz, as_of, default_tz: str) -> Query:
    z = zone(tz, default_tz)
    options = {k: v[-1] for k, v in pairs(option, "option").items()}
    start, end = date(from_, "from"), date(to, "to")
    asof = instant(as_of, z)
    today = (asof or dt.datetime.now()).date()
    if end is not None and end > today + dt.timedelta(days=3660):
        raise ApiError(400, f"to {end} is more than 10 years after the as-of date {today}")
    if start is not None:  # without it the range starts at the first record
        check_span(start, end or today, by)
    return Query(kpis=list(ids), by=by or None, dims=list(dim or []), start=start, end=end,
                 where=pairs(where, "where"), options=options, tz=z, asof=asof)


def check_ids(engine: Engine, ids: list[str]) -> None:
    for kid in ids:
        try:
            engine.kpi(kid)
        except UsageError as e:
            raise ApiError(404, str(e)) from None


def restrict(engine: Engine, q: Query, ident: Identity) -> Query:
    """An agent sees its own numbers only: every KPI must be sliceable by agent_id, and the filter
    agent_id=<own> is forced. Asking for other agents keeps the intersection, which is empty."""
    if ident.role != "agent":
        return q
    sources = Sources(engine.backend, imported_tables(engine.con), q.asof or dt.datetime.now())
    for kid in q.kpis:
        k = engine.kpi(kid)
        if AGENT_DIM not in engine.allowed_dims(k, sources):
            raise ApiError(403, f"{kid} has no agent dimension, so an agent token may not read it "
                                f"(agent tokens read KPIs that can be sliced by agent_id)")
    asked = q.where.get(AGENT_DIM)
    own = ident.agent_id or ""
    q.where[AGENT_DIM] = [own] if asked is None or own in asked else []
    return q


MAX_CELLS = 1_000_000  # by=day&dim=ticket_id over 90 days answered 221 MB in 43 s


def bounded(result):
    """The answer's rows, refused with 400 and a hint past MAX_CELLS cells (rows x columns)."""
    cells = sum(len(r) if isinstance(r, dict) else 1 for r in result) if isinstance(result, list) else 0
    if cells > MAX_CELLS:
        raise ApiError(400, f"the answer has {cells} cells, more than the limit of {MAX_CELLS}; choose a "
                            f"larger grain (by), fewer dims or a shorter range (from/to), or page the records "
                            f"with /api/kpis/<id>/rows")
    return result


BAD_INPUT = (UsageError, ValueError, OverflowError, SignatureValidationError)


def usage(e: Exception) -> ApiError:
    """The engine's UsageError (unknown name, bad option) or a value of the wrong type: a 400."""
    if isinstance(e, SignatureValidationError):  # e.g. where reopen_count=<26 digits>: past 64 bits
        return ApiError(400, "a where value does not fit its column's type (e.g. an integer past 64 bits); "
                             "use a value in the column's range")
    if isinstance(e, OverflowError):
        return ApiError(400, f"a value is out of range: {e}")
    return ApiError(400, str(e))
