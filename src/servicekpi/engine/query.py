"""evaluate(query) -> rows: value, numerator, denominator per KPI x period x dimension values."""
from __future__ import annotations

import datetime as dt
import difflib
import math
from dataclasses import dataclass, field

from servicekpi.catalog import catalog, resolve_id
from servicekpi.catalog.kpi import Kpi, Result
from servicekpi.core import finite
from servicekpi.core import periods as P
from servicekpi.core import sla_rules as sla_mod
from servicekpi.core.config import Config
from servicekpi.core.errors import UsageError  # noqa: E402 - a query naming something that does not exist
from servicekpi.core.model import TABLES
from servicekpi.engine import sql_cache
from servicekpi.engine.backends.duckdb import DuckDBBackend
from servicekpi.engine.compile import ENUMS, Ctx, batch_key, compile_group, periods_table, rows_expr
from servicekpi.engine.relations import Sources, messages_after
from servicekpi.engine.sql_cache import SqlCache
from servicekpi.store import business as business_store
from servicekpi.store import spans as store_spans
from servicekpi.store.db import imported_tables


def suggest(name: str, valid, what: str) -> UsageError:
    near = difflib.get_close_matches(name, list(valid), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return UsageError(f"unknown {what} '{name}'{hint} (valid: {', '.join(sorted(valid)) or 'none'})")


@dataclass
class Query:
    kpis: list[str]
    by: str | None = None
    dims: list[str] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None
    where: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    tz: str = "UTC"
    asof: dt.datetime | None = None  # naive UTC; None = now


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


@dataclass
class Records:
    """The records behind one KPI (Engine.records): expr is None when its tables were never imported."""
    kpi: Kpi
    options: dict | None
    expr: object | None
    periods: list


# engines without a cache of their own share this one: the shape holds the config's fingerprint,
# so engines over different stores and configs in one process reuse only what is equal
PROCESS_SQL = SqlCache(max_entries=1024)


class Engine:
    def __init__(self, con, config: Config | None = None, sql_cache: SqlCache | None = None, backend=None):
        """con: the DuckDB store; or None with backend (e.g. backends.spark.SparkBackend), whose
        `con` answers the engine's few metadata statements."""
        self.backend = backend or DuckDBBackend(con)
        self.con = self.backend.con
        self.config = config or Config()
        self.cat = catalog()
        self._compiled = sql_cache if sql_cache is not None else PROCESS_SQL
        self._config_key = self.config.fingerprint()
        self._last_message: tuple | None = None  # ((messages' import stamp, as-of), any message after it)
        self._has_rollups: bool | None = None
        self._rollup_state: tuple | None = None
        self._disk_cache = False  # the store's compiled-SQL directory, found on first use
        self.warnings: list[str] = []  # the last evaluate's notes (a where value no record holds)
        self._spans: dict = {}  # the last query's first and last record per table (Engine.spans)

    @property
    def ib(self):
        return self.backend.ib

    # -- validation -------------------------------------------------------------
    def kpi(self, kid: str) -> Kpi:
        kid = resolve_id(kid, self.cat.kpis)
        if kid not in self.cat.kpis:
            raise suggest(kid, self.cat.kpis, "KPI")
        return self.cat.kpis[kid]

    def options_for(self, kpi: Kpi, given: dict[str, str]) -> dict:
        try:
            o = kpi.resolve(given)
        except ValueError as e:
            raise UsageError(f"{kpi.id}: {e}") from None
        o["_csat_scale"] = self.config.csat_scale
        if kpi.family == "sla" or kpi.id == "backlog_overdue":
            o["_sla"] = self.config.sla_rules()
            o["_asof"] = self._asof
            if sla_mod.uses_business(o["_sla"]) and o.get("target_hours") is None:
                o["hours"] = "business"
        return o

    def check_options(self, kpis: list[Kpi], given: dict[str, str]) -> None:
        valid = {op.name for k in kpis for op in k.options}
        for name in given:
            if name not in valid:
                raise suggest(name, valid, f"option for {', '.join(k.id for k in kpis)}")

    def allowed_dims(self, kpi: Kpi, sources: Sources) -> list[str]:
        if kpi.allowed_dims is not None:
            return list(kpi.allowed_dims)
        return sources.dims(kpi.source)

    # -- evaluation ---------------------------------------------------------------
    def _setup(self, q: Query):
        kpis = [self.kpi(k) for k in q.kpis]
        self.check_options(kpis, q.options)
        if q.start and q.end and q.start > q.end:
            raise UsageError(f"the range starts after it ends: from {q.start} is after to {q.end}")
        if q.by is not None and q.by not in P.GRAINS:
            raise suggest(q.by, P.GRAINS, "period")
        asof = q.asof or now_utc()
        self._asof = asof
        imported = imported_tables(self.con)
        sources = Sources(self.backend, imported, asof, business_store.origin(self.con, self.config.business()),
                          getattr(self.config, "queue_teams", None))
        available = [k for k in kpis if set(k.tables) <= imported]
        self._spans = self.spans({t for k in available for t in k.tables}, asof)
        for k in available:
            allowed = self.allowed_dims(k, sources)
            for d in list(q.dims) + list(q.where):
                if d not in allowed and d != k.force_dim:
                    raise UsageError(f"{k.id} cannot be sliced by '{d}'; it can be sliced by: "
                                     f"{', '.join(allowed) or 'nothing'}")
        where = {c: [v.strip().lower() if c in ENUMS else v for v in vs] for c, vs in q.where.items()}
        first, last = self._range(q, available, asof)
        periods = P.build(first, last, q.by, q.tz)
        return kpis, available, sources, where, periods, asof

    def _range(self, q: Query, kpis: list[Kpi], asof: dt.datetime) -> tuple[dt.date, dt.date]:
        """Without --from/--to: from the first to the last local date holding a record of the KPIs'
        tables (not up to today: a store of 2021 call logs has no periods in 2026), capped by as-of."""
        today = P.local_date(asof, q.tz)
        spans = [self._kpi_span(k) for k in kpis]
        firsts = [s[0] for s in spans if s[0] is not None]
        lasts = [s[1] for s in spans if s[1] is not None]
        last = q.end
        if last is None and lasts:
            # the whole period holding the last record (the data ends in it; the period is not cut)
            day = P.local_date(max(lasts), q.tz)
            last = min(today, P.step(P.floor(day, q.by), q.by) - dt.timedelta(days=1)) if q.by else day
        last = last or today
        if q.start:
            return q.start, last
        first = P.local_date(min(firsts), q.tz) if firsts else last
        return min(first, last), last

    def spans(self, tables, asof: dt.datetime) -> dict[str, tuple[dt.datetime | None, dt.datetime | None]]:
        """{table: (first, last) instant of its records up to as-of}, naive UTC; (None, None) when
        it has none. customers' last is its last acquisition or churn; agents (who is who) has none.
        The spans the writes keep (store/spans.py) where they hold for as-of, else a scan."""
        return store_spans.spans(self.con, tables, asof, kept_here=self.backend.dialect == "duckdb")

    def _kpi_span(self, k: Kpi) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Where all of k's tables hold records: the latest first record, the earliest last one
        (customers' last only when it is k's one table)."""
        spans = {t: self._spans[t] for t in k.tables if t in self._spans}
        if not spans or any(s[0] is None for s in spans.values()):
            return None, None
        closed = [s[1] for t, s in spans.items() if not self._open_ended(k, t)] or [s[1] for s in spans.values()]
        return max(s[0] for s in spans.values()), min(closed)

    @staticmethod
    def _open_ended(k: Kpi, table: str) -> bool:
        """A table whose last record does not end k's data: customers (the list stops growing, its
        customers still order and churn), tickets under reply KPIs (the messages go on)."""
        return table in OPEN_ENDED or (table == "tickets" and k.source in ("replies", "waits"))

    def _outside(self, k: Kpi, p, tz: str) -> str | None:
        """'no data: ...' when period p lies wholly before the first or after the last record of one
        of k's tables (then even a count is null, not 0), else None."""
        for t in k.tables:
            span = self._spans.get(t)
            if span is None:
                continue
            first, last = span
            if first is None:
                return f"no data: {t} has no records up to the as-of instant"
            if p.hi <= first:
                return f"no data: before the first record of {t} ({P.local_date(first, tz)})"
            if not self._open_ended(k, t) and last is not None and p.lo > last:
                return f"no data: after the last record of {t} ({P.local_date(last, tz)})"
        return None

    def unmatched(self, q: Query, kpis: list[Kpi] | None = None) -> list[str]:
        """Warnings for --where values no record holds (in the tables of the query's KPIs), e.g.
        channel=nope: the answer is empty because of the filter, not the data."""
        if self.backend.dialect != "duckdb" or not q.where:
            return []
        from servicekpi.store.lookup import holds
        tables = sorted({t for k in (kpis or [self.kpi(x) for x in q.kpis]) for t in k.tables})
        out = []
        for col, values in q.where.items():
            for v in values:
                probe = v.strip().lower() if col in ENUMS else v
                if holds(self.con, col, probe, tables) is False:
                    out.append(f"no record has {col}={v}: the filter matches nothing "
                               f"(in {', '.join(tables)})")
        return out

    def evaluate(self, q: Query) -> list[dict]:
        kpis, available, sources, where, periods, asof = self._setup(q)
        self._has_rollups = None  # looked up once a query: rollups may be enabled meanwhile
        self._rollup_state = None  # their specs and pending writes (rollups._state), once a query too
        self.warnings = self.unmatched(q, available)
        plan: dict[tuple, list] = {}
        for k in available:
            o = self.options_for(k, q.options)
            dims = list(q.dims) + ([k.force_dim] if k.force_dim and k.force_dim not in q.dims else [])
            key = batch_key(k, o, tuple(dims))
            # only the first KPI's prep runs for a batch: KPIs with another prep are batched apart
            # (first_response_time beside sla_first_response_met lost the SLA prep's sla_asof)
            prep_id = None if k.prep is None else (getattr(k.prep, "__module__", ""),
                                                   getattr(k.prep, "__qualname__", None) or id(k.prep))
            plan.setdefault((*key[:-1], prep_id, key[-1]), []).append((k, o))
        measured: dict[str, tuple[list[str], dict, list]] = {}
        self.sql: list[tuple[list[str], str]] = []
        version = self._sql_inputs(asof) if plan else None
        for key, group in plan.items():
            dims = list(key[-1])
            rolled = self._rollup(q, group, dims, where, periods, asof)
            if rolled is not None:  # exact from the daily rollup (engine/rollups.py)
                self.sql.append(([k.id for k, _ in group], rolled))
                continue
            ctx = Ctx(sources, None, dims, where, self.config, group[0][1], periods, q.tz)
            # the shape: everything the SQL is built from except the as-of instant (sql_cache.py)
            shape = (key, tuple((k.id, tuple(sorted(str(i) for i in o.items() if i[0] != "_asof"))) for k, o in group),
                     tuple(sorted((c, tuple(v)) for c, v in where.items())), version,
                     tuple((p.start, p.lo, p.hi) for p in periods),  # bucketing writes the bounds into SQL
                     sources.business_origin,  # stored business seconds used or not
                     self._config_key)
            self.sql.append(([k.id for k, _ in group], self._statement(ctx, group, shape, asof)))
        # one statement for every group, so the backend schedules them together
        union = self.backend.union([sql for _, sql in self.sql])
        results: dict[int, list] = {i: [] for i in range(len(self.sql))}
        for r in (self.backend.run(union) if self.sql else []):
            results[r.pop("__group")].append(r)
        for i, (key, group) in enumerate(plan.items()):
            for k, o in group:
                measured[k.id] = (list(key[-1]), o, results[i])
        out = []
        for k in kpis:
            if k.id not in measured:
                out += self._unavailable(k, q, periods, sources.imported)
                continue
            dims, o, table = measured[k.id]
            out += self._assemble(k, o, dims, table, periods, q)
        out.sort(key=lambda r: (r["kpi"], r["period_start"] or "",
                                *[_sortable(r.get(d)) for d in _row_dims(r, q.dims)]))
        return out

    def _statement(self, ctx: Ctx, group: list, shape: tuple, asof: dt.datetime) -> str:
        """The group's SQL: from the process's cache, else the store's (DiskSqlCache), else compiled."""
        entry = self._compiled.get(shape)
        disk = self._disk() if entry is None else None
        key = repr((sql_cache.FORMAT, sql_cache.code_version(), shape)) if disk else None
        if disk is not None:
            entry = disk.get(key)
            if entry is not None:
                self._compiled.put(shape, entry)
        if entry is not None and entry[0] is not None:
            template, inputs = entry
            ctx.replay(inputs)  # the views its SQL reads, registered on this connection too
            return sql_cache.fill(template, asof)
        if entry is not None:  # not a template: kept for this instant only
            exact = self._compiled.get((*shape, asof))
            if exact is not None:
                ctx.replay(exact[1])
                return exact[0]
        import ibis
        expr = compile_group(ctx, group)
        inputs = tuple(ctx.inputs)
        if entry is None:  # first compile of the shape: is it a template of the instant?
            template = None
            if self.backend.dialect == "duckdb":
                sentinel = Ctx(ctx.sources.at(sql_cache.SENTINEL), None, ctx.dims, ctx.where, self.config,
                               ctx.options, ctx.period_list, ctx.tz)
                moved = [(k, {**o, "_asof": sql_cache.SENTINEL} if "_asof" in o else o) for k, o in group]
                sentinel.options = moved[0][1]
                template = sql_cache.template_of(expr, compile_group(sentinel, moved), asof, self.backend.dialect)
            self._compiled.put(shape, (template, inputs))
            if disk is not None:
                disk.put(key, template, inputs)
            if template is not None:
                return sql_cache.fill(template, asof)
        sql = ibis.to_sql(expr, dialect=self.backend.dialect, pretty=False)
        self._compiled.put((*shape, asof), (sql, inputs))
        return sql

    def _disk(self):
        if self._disk_cache is False:
            self._disk_cache = sql_cache.DiskSqlCache.beside(self.con) if self.backend.dialect == "duckdb" else None
        return self._disk_cache

    def _rollup(self, q, group, dims, where, periods, asof) -> str | None:
        """SQL answering a group from a daily rollup (engine/rollups.py), when the store has any."""
        if self.backend.dialect != "duckdb":
            return None
        if self._has_rollups is None:
            self._has_rollups = bool(self.con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'sk_rollups'").fetchall()[0][0])
        if not self._has_rollups:
            return None
        from servicekpi.engine import rollups  # compiles with Ibis: imported only when rollups exist
        return rollups.answer(self, q, group, dims, where, periods, asof)

    def _sql_inputs(self, asof: dt.datetime) -> tuple:
        """What a query's SQL is built from besides the query: the imported tables, the stored
        columns (an import may add one) and whether messages exist after the as-of instant (then
        reply counts are recounted). Not the import stamps: a write that changes none of these
        keeps the compiled SQL (the server's result cache is what writes invalidate)."""
        stamps = imported_tables(self.con, stamped=True)
        columns = tuple(self.backend.shape() if hasattr(self.backend, "shape") else self.con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND database_name = current_database() AND NOT internal ORDER BY table_name, column_index").fetchall())
        after = None
        if "messages" in stamps:
            key = (stamps["messages"], asof)
            if self._last_message is None or self._last_message[0] != key:
                self._last_message = (key, messages_after(self.con, asof))
            after = self._last_message[1]
        return tuple(sorted(stamps)), columns, after

    def _unavailable(self, k: Kpi, q: Query, periods, imported) -> list[dict]:
        missing = [t for t in k.tables if t not in imported]
        note = f"unavailable: table {', '.join(missing)} was never imported"
        return [dict(kpi=k.id, period_start=_label(p), **{d: None for d in q.dims}, value=None, unit=k.unit,
                     numerator=None, denominator=None, partial=p.partial, note=note) for p in periods]

    def _assemble(self, k: Kpi, o: dict, dims: list[str], table: list[dict], periods, q: Query) -> list[dict]:
        prefix = f"{k.id}__"
        cells: dict[tuple, dict] = {}
        combos: dict[tuple, None] = {}
        # the rows of one statement share their columns (every group's, in a union): this KPI's are
        # picked once, not per row
        mine = [(name, name[len(prefix):]) for name in (table[0] if table else ()) if name.startswith(prefix)]
        for r in table:
            combo = tuple(r[d] for d in dims)
            combos.setdefault(combo, None)
            cells[(r["period_start"], combo)] = {short: r[name] for name, short in mine}
        if k.shape == "state":  # a slice is observed when something is counted in the range
            combos = {c: None for c in combos if any(
                any(v for n, v in m.items() if n not in ("period_start", *dims))
                for (ps, cc), m in cells.items() if cc == c)}
        if not dims:
            combos = {(): None}
        totals: dict[tuple, float] = {}
        if k.share_of:
            i = dims.index(k.share_of)
            for (ps, combo), m in cells.items():
                rest = combo[:i] + combo[i + 1:]
                totals[(ps, rest)] = totals.get((ps, rest), 0) + (m.get("num") or 0)
        out = []
        by_agent = k.not_per_agent if ("agent_id" in dims or "agent_id" in q.where) else None
        for p in periods:
            ps = p.start or p.lo_date
            outside = by_agent or self._outside(k, p, q.tz)
            for combo in combos:
                if outside:
                    row = {"kpi": k.id, "period_start": _label(p), **{d: _plain(v) for d, v in zip(dims, combo)},
                           "value": None,
                           "unit": k.unit, "numerator": None, "denominator": None, "partial": p.partial,
                           "note": outside}
                    out.append(row)
                    continue
                m = dict(cells.get((ps, combo), {}))
                if k.share_of:
                    i = dims.index(k.share_of)
                    m["den"] = totals.get((ps, combo[:i] + combo[i + 1:]), 0)
                res: Result = Result(None, note=finite.NOTE) if finite.unknown(m) else k.finish(m, o, p)
                row = {"kpi": k.id, "period_start": _label(p)}
                row.update({d: _plain(v) for d, v in zip(dims, combo)})
                row.update(value=_clean(res.value, k.unit), unit=k.unit,
                           numerator=_clean(res.numerator, "count"), denominator=_clean(res.denominator, "count"),
                           partial=p.partial)
                if res.note:
                    row["note"] = res.note
                out.append(row)
        return out

    # -- records behind a number ----------------------------------------------------
    def records(self, q: Query, dims: list[str] | None = None) -> Records:
        """The records behind one KPI as an Ibis expression, after the same checks as evaluate
        (names against the catalog, filters bound, as-of rules, periods). dims: the columns to
        slice by (default: the query's, with the KPI's forced one)."""
        kpis, available, sources, where, periods, asof = self._setup(q)
        if len(kpis) != 1:
            raise UsageError("rows takes exactly one KPI id")
        k = kpis[0]
        if not available:
            return Records(k, None, None, periods)
        o = self.options_for(k, q.options)
        if dims is None:
            dims = list(q.dims) + ([k.force_dim] if k.force_dim and k.force_dim not in q.dims else [])
        ctx = Ctx(sources, periods_table(self.backend, periods, q.tz), dims, where, self.config, o, periods)
        return Records(k, o, rows_expr(ctx, k, o), periods)

    def rows(self, q: Query, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
        found = self.records(q)
        k, expr = found.kpi, found.expr
        if expr is None:
            raise UsageError(f"{k.id} is unavailable: table {', '.join(k.tables)} was never imported")
        key = [c for c in (TABLES[k.source].key if k.source in TABLES else ("ticket_id", "sent_at")) if c in expr.columns]
        order = [k.rows_order] if k.rows_order else ["period_start", *key]
        # compiled once: the count and the page are small statements over it (each built on the
        # expression cost a whole compile, ~0.4 s for an SLA KPI)
        import ibis
        page, total = self.backend.page(ibis.to_sql(expr, dialect=self.backend.dialect, pretty=False), order,
                                        limit, offset)
        rows = [{c: _plain(v) for c, v in r.items()} for r in page]
        return rows, total

    def explain(self, q: Query) -> list[tuple[list[str], str]]:
        self.evaluate(q)
        return self.sql


OPEN_ENDED = ("customers",)  # a customer list stops growing; its customers still churn and order


def fetch(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _label(p) -> str | None:
    return p.start.isoformat() if p.start else None


def _plain(v):
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return v


def _clean(v, unit: str):
    """A plain number. Rounded to 12 significant digits: DuckDB sums floats in parallel in no fixed
    order, and the last bits must not make the same query (or an --as-of report) read differently."""
    if v is None:
        return None
    if unit == "count" and float(v).is_integer():
        return int(v)
    v = float(v)
    return float(f"{v:.12g}") if math.isfinite(v) else None  # JSON has no NaN or Infinity


def _row_dims(row: dict, dims: list[str]) -> list[str]:
    forced = [k for k in ("channel", "category") if k in row and k not in dims]
    return list(dims) + forced


def _sortable(v):
    return (v is None, str(v) if v is not None else "")
