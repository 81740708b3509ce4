"""KPI query -> Ibis expressions. Formulas live in the catalog; this places rows in periods,
slices them by dimensions and batches KPIs that read the same rows into one aggregate."""
from __future__ import annotations

from servicekpi.catalog.kpi import Kpi
from servicekpi.core.lazy import lazy
from servicekpi.core.periods import Period, twelve_months_before
from servicekpi.engine.relations import Sources

ibis = lazy("ibis")
pa = lazy("pyarrow")

ENUMS = {"channel", "category", "priority", "status", "customer_tier", "tier", "author", "survey",
         "kind", "outcome", "source", "criterion", "acquisition_channel"}


def periods_table(backend, periods: list[Period], tz: str, table: bool = True):
    """Register the periods as a per-query input and return it as an Ibis table (table=True).
    On DuckDB a temporary table filled with parameters (register_rows): no Arrow
    (and no pandas, which Arrow imports for dates) on the path of a query answered from cached SQL."""
    lo12 = [twelve_months_before(p, tz) for p in periods]
    columns = {
        "period_start": ("DATE", [p.start or p.lo_date for p in periods]),
        "lo": ("TIMESTAMP", [p.lo for p in periods]),
        "hi": ("TIMESTAMP", [p.hi for p in periods]),
        "lo12": ("TIMESTAMP", lo12),
        "lo_date": ("DATE", [p.lo_date for p in periods]),
        "hi_date": ("DATE", [p.hi_date for p in periods]),
        "lo12_date": ("DATE", [d.date() for d in lo12]),
    }
    register_rows(backend, "sk_periods", {n: typ for n, (typ, _) in columns.items()},
                  list(zip(*[v for _, v in columns.values()])))
    return backend.ib.table("sk_periods") if table else None


def register_rows(backend, name: str, columns: dict[str, str], rows: list[tuple]) -> None:
    """A per-query input: on DuckDB a temporary table of the connection, values bound as parameters;
    on other backends an Arrow table. columns: name -> DATE, TIMESTAMP, VARCHAR or DOUBLE."""
    if backend.dialect != "duckdb":
        arrow = {"DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "VARCHAR": pa.string(), "DOUBLE": pa.float64()}
        backend.register(name, pa.table({n: pa.array([r[i] for r in rows], arrow[t])
                                         for i, (n, t) in enumerate(columns.items())}))
        return
    con = backend.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(f'{n} {t}' for n, t in columns.items())})")
    for i in range(0, len(rows), 500):
        chunk = rows[i:i + 500]
        marks = ", ".join("(" + ", ".join("?" * len(columns)) + ")" for _ in chunk)
        con.execute(f"INSERT INTO {name} VALUES {marks}", [v for r in chunk for v in r])


class Ctx:
    """What a KPI's measures may use: filtered tables, period placement, grouping."""

    def __init__(self, sources: Sources, periods, dims: list[str], where: dict[str, list], config, options: dict,
                 period_list: list[Period] | None = None, tz: str = "UTC"):
        """periods: the periods as an Ibis table, or None to register them when an expression
        first reads them (a statement placing rows with CASE never does)."""
        self.period_list = period_list or []
        self.sources = sources
        self._periods = periods
        self.tz = tz
        self.dims = dims
        self.where = where
        self.config = config
        self.options = options
        self.asof = sources.asof
        # the per-query inputs this context registered, as (method, args): replayed on a fresh
        # context when the SQL comes from the cache, so every run registers what its SQL reads
        self.inputs: list[tuple] = []

    @property
    def periods(self):
        if self._periods is None:
            self.register_periods()
            self._periods = self.sources.ib.table("sk_periods")
        return self._periods

    def register_periods(self) -> None:
        if getattr(self.sources, "_periods", None) is not self.period_list:  # once per query
            periods_table(self.sources.backend, self.period_list, self.tz, table=False)
            self.sources._periods = self.period_list
        self._used(("register_periods",))

    def table(self, name: str):
        t = self.sources.linked(name, set(self.dims) | set(self.where))
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
        for col, values in self.where.items():
            if col in t.columns:
                t = t.filter(t[col].isin([typed(t[col], v) for v in values]))
        return t

    def by_period(self, t, time: str):
        p = self.periods
        return t.join(p, [t[time] >= p.lo, t[time] < p.hi])

    def bucket(self, t, time: str):
        """Place rows in periods with a CASE over the period ends (no join; few periods)."""
        ends = self.period_list
        col = t[time]
        t = t.filter(col >= ibis.literal(ends[0].lo), col < ibis.literal(ends[-1].hi))
        label = ibis.cases(*[(col < ibis.literal(p.hi), ibis.literal(p.start or p.lo_date)) for p in ends])
        return t.mutate(period_start=label)

    def place(self, t, time: str):
        """Rows placed in the period their `time` falls in."""
        if 0 < len(self.period_list) <= 64:
            return self.bucket(t, time)
        return self.by_period(t, time)

    def business(self, t, cols: list[str]):
        """Add __b_<col>: open seconds of the row's calendar before each instant (see business.py).
        A column the store already holds for the current calendars (business_store.py) is kept;
        the others are looked up in the hour table."""
        missing = [c for c in cols if f"__b_{c}" not in t.columns]
        if not missing:
            return t
        from servicekpi.core.business_sql import business_seconds, calendar_key  # Ibis UDFs: on first use
        hours = self.sources.ib.table(self.hour_view())
        t = t.mutate(__cal=calendar_key(t, self.config.business()))
        for col in missing:
            t = business_seconds(t, hours, col)
        return t

    def hour_view(self) -> str:
        """Register the calendars' hour table over the data's span once per query (on a wide span,
        only the chunks its instants and periods fall in; re-registered wider when a later part of
        the query needs more)."""
        name = "sk_hours"
        first, last = self.sources.span()
        # the data's as-of instant, not the SQL's: a template is compiled at a sentinel instant (sql_cache)
        edges = [self.sources.data_asof, *(p.lo for p in self.period_list), *(p.hi for p in self.period_list)]
        chunks = self.sources.hour_chunks(first, last, edges)
        held = getattr(self.sources, "_hours", False)  # the chunks registered; None: all; False: none yet
        if held is False or (held is not None and (chunks is None or not chunks <= held)):
            chunks = None if chunks is None else chunks | (held or frozenset())
            self.sources.backend.register(name, self.config.business().hour_table(first, last, chunks))
            self.sources._hours = chunks
        self._used(("hour_view",))
        return name

    def _used(self, spec: tuple) -> None:
        if spec not in self.inputs:
            self.inputs.append(spec)

    def replay(self, specs) -> None:
        """Register the inputs a cached statement reads, built afresh for this query."""
        for method, *args in specs:
            getattr(self, method)(*args)

    def cross(self, t):
        return t.cross_join(self.periods)

    def group(self, t, **aggs):
        return t.group_by(["period_start", *self.dims]).aggregate(**aggs)

    def merge(self, a, b):
        """Outer join of two grouped results on period and dimensions (NULL matches NULL)."""
        keys = ["period_start", *self.dims]
        b = b.rename({f"{k}__b": k for k in keys})
        j = a.outer_join(b, [a[k].identical_to(b[f"{k}__b"]) for k in keys])
        return j.mutate(**{k: j[k].fill_null(j[f"{k}__b"]) for k in keys}).drop(*[f"{k}__b" for k in keys])

    def weights(self, attr: str, key: str):
        return self.sources.ib.table(self.register_weights(attr, key))

    def register_weights(self, attr: str, key: str) -> str:
        w = getattr(self.config, attr, {}) or {}
        name = f"sk_{attr}"
        register_rows(self.sources.backend, name, {key: "VARCHAR", "w": "DOUBLE"},
                      [(k, float(v)) for k, v in w.items()])
        self._used(("register_weights", attr, key))
        return name


def typed(col, value: str):
    """A --where value bound as a literal of the column's type (never SQL text)."""
    t = col.type()
    if t.is_boolean():
        return value.strip().lower() in ("true", "1", "yes", "y")
    if t.is_integer():
        return int(value)
    if t.is_floating():
        return float(value)
    return value


def event_aggregates(kpi: Kpi, t, o: dict) -> dict:
    return {f"{kpi.id}__{k}": v for k, v in kpi.measures(t, o).items()}


def compile_group(ctx: Ctx, kpis: list[tuple[Kpi, dict]]):
    """One expression for KPIs sharing a source, shape, time column, filters and dimensions."""
    first, o = kpis[0]
    if first.shape == "custom":  # measures prefixed like the others: groups share one UNION
        table = first.measures(ctx, o)
        keys = {"period_start", *ctx.dims}
        return table.select(*[table[c].name(c if c in keys else f"{first.id}__{c}") for c in table.columns])
    t = ctx.table(first.source)
    if first.prep:
        t = prep(first, t, o, ctx)
    if all(k.prefilter for k, _ in kpis):
        keep = kpis[0][0].prefilter(t, kpis[0][1])
        for k, opts in kpis[1:]:
            keep = keep | k.prefilter(t, opts)
        t = t.filter(keep)
    clock = sorted({c for k, opts in kpis if opts.get("hours") == "business" for c in k.clock})
    if first.shape == "event":
        j = ctx.place(t, first.time_col(o))
        j = ctx.business(j, clock) if clock else j
    else:
        j = ctx.cross(t)
        j = ctx.business(j, clock) if clock else j
    aggs = {}
    for kpi, opts in kpis:
        aggs.update(event_aggregates(kpi, j, opts))
    return ctx.group(j, **aggs)


def prep(kpi: Kpi, t, o: dict, ctx: Ctx):
    """A KPI's row preparation; one marked wants_ctx also reads other tables through the context."""
    return kpi.prep(t, o, ctx) if getattr(kpi.prep, "wants_ctx", False) else kpi.prep(t, o)


def batch_key(kpi: Kpi, o: dict, dims: tuple) -> tuple:
    if kpi.shape == "custom":
        return (kpi.id, tuple(sorted((k, str(v)) for k, v in o.items() if k != "_asof")), dims)  # as-of: one a query
    return (kpi.source, kpi.shape, kpi.time_col(o), tuple(str(o.get(k)) for k in kpi.prep_options), dims)


def rows_expr(ctx: Ctx, kpi: Kpi, o: dict):
    """The records behind a KPI: its source rows in each period that enter its population."""
    if kpi.rows is not None:
        return without_internals(kpi.rows(ctx, o))
    t = ctx.table(kpi.source)
    if kpi.prep:
        t = prep(kpi, t, o, ctx)
    if kpi.shape == "state":
        j = ctx.cross(t)
    else:
        time = kpi.time_col(o) if kpi.shape == "event" else kpi.rows_time
        j = ctx.by_period(t, time)
    if o.get("hours") == "business" and kpi.clock:
        j = ctx.business(j, list(kpi.clock))
    if kpi.population is not None:
        j = j.filter(kpi.population(j, o))
    counted = _numerator_test(kpi, j, o)
    if counted is not None:
        j = j.mutate(in_numerator=counted.fill_null(False))
    if kpi.rows_columns is not None:
        j = j.mutate(**kpi.rows_columns(j, o))
    drop = [c for c in ("lo", "hi", "lo12", "lo_date", "hi_date", "lo12_date") if c in j.columns]
    return without_internals(j.drop(*drop))


def _numerator_test(kpi: Kpi, j, o: dict):
    """For a ratio whose numerator counts some of the records (num = count(where=...)), that
    condition per record: the rows say which records count in the numerator. None otherwise."""
    if kpi.shape not in ("event", "state"):
        return None
    try:
        num = kpi.measures(j, o).get("num")
        where = getattr(num.op(), "where", None) if num is not None else None
        return where.to_expr() if where is not None else None
    except Exception:  # noqa: BLE001 - a measure that does not apply to the records: no mark
        return None


def without_internals(t):
    """Rows as users see them: no business-seconds or calendar helper columns."""
    hidden = [c for c in t.columns if c.startswith("__b_") or c == "__cal"]
    return t.drop(*hidden) if hidden else t
