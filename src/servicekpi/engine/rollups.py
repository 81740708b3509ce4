"""Opt-in exact daily rollups: additive parts (counts, sums, counts within thresholds) of the
event KPIs per local day of the workspace zone and a dimension set. A query in that zone whose
periods are whole local days, with default options and calendar hours, is answered by summing
days. Refresh recomputes only the days whose source rows changed: each day keeps a signature
(row count, sum of row hashes) of the relation its measures read, so late rows, replaced rows,
erased rows and changed linked dimensions are all found. Medians/percentiles are never here."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from servicekpi.core import periods as P
from servicekpi.core.errors import UsageError
from servicekpi.core.lazy import lazy
from servicekpi.core.sql_files import code_version
from servicekpi.engine.compile import Ctx, batch_key, event_aggregates, periods_table, prep, typed
from servicekpi.engine.relations import Sources
from servicekpi.store import business as business_store
from servicekpi.store.db import imported_tables

META = "sk_rollups"
# Ibis and Arrow on first use: a query a rollup does not answer, or whose answer's SQL is kept in
# the store's SQL files, imports neither (engine/query.py imports this module when rollups exist)
ibis = lazy("ibis")
ops = lazy("ibis.expr.operations")
pa = lazy("pyarrow")


def enabled(con) -> list[dict]:
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [META]).fetchall()[0][0]:
        return []
    return [json.loads(r[0]) for r in con.execute(f"SELECT spec FROM {META} ORDER BY name").fetchall()]


def enable(engine, dims: list[str]) -> list[str]:
    """Declare rollups by these dimensions (one per group of eligible KPIs) and build them."""
    con = engine.con
    con.execute(f"CREATE TABLE IF NOT EXISTS {META} (name VARCHAR PRIMARY KEY, spec VARCHAR)")
    names = []
    sources = _sources(engine, dt.datetime.max)
    for key, group in _groups(engine).items():
        kpis = [k for k in group if set(dims) <= set(engine.allowed_dims(k, sources))]
        if not kpis:  # KPIs that cannot be sliced by these dimensions are not rolled up
            continue
        name = "sk_rollup_" + hashlib.sha1(json.dumps([key, sorted(dims)]).encode()).hexdigest()[:10]
        spec = dict(name=name, key=key, kpis=[k.id for k in kpis], dims=sorted(dims))
        con.execute(f"INSERT OR REPLACE INTO {META} VALUES (?, ?)", [name, json.dumps(spec)])
        con.execute(f"DROP TABLE IF EXISTS {name}")
        names.append(name)
    if not names:
        raise UsageError(f"no additive KPI can be sliced by {', '.join(dims)}")
    refresh(engine)
    return names


def disable(con) -> None:
    for spec in enabled(con):
        con.execute(f"DROP TABLE IF EXISTS {spec['name']}")
        con.execute(f"DROP TABLE IF EXISTS {spec['name']}_sig")
    con.execute(f"DROP TABLE IF EXISTS {META}")


def eligible(engine, k) -> dict | None:
    """The options a KPI is rolled up with, or None when its measures are not all additive."""
    if k.shape != "event" or k.family == "sla" or k.share_of or k.force_dim or not set(k.tables) <= imported_tables(engine.con):
        return None
    o = engine.options_for(k, {})
    if o.get("hours") == "business" or "_asof" in o:
        return None
    t = engine.ib.table(k.source) if k.source in imported_tables(engine.con) else None
    if t is None:
        return None
    try:
        ctx = Ctx(_sources(engine, dt.datetime.max), None, [], {}, engine.config, o, [])
        rel = prep(k, ctx.table(k.source), o, ctx) if k.prep else ctx.table(k.source)
        measures = k.measures(rel, o)
    except Exception:  # noqa: BLE001 - a measure that needs more than a plain table: not rolled up
        return None
    return o if all(isinstance(m.op(), (ops.Sum, ops.Count, ops.CountStar)) for m in measures.values()) else None


def _groups(engine) -> dict[str, list]:
    out: dict[str, list] = {}
    for k in engine.cat.kpis.values():
        o = eligible(engine, k)
        if o is not None:
            out.setdefault(json.dumps(batch_key(k, o, ()), default=str), []).append(k)
    return out


def _sources(engine, asof):
    con = engine.con
    return Sources(engine.backend, imported_tables(con), asof, business_store.origin(con, engine.config.business()))


def _options_print(o: dict) -> str:
    return json.dumps(sorted((k, str(v)) for k, v in o.items()))


SLOT = 900  # seconds: every zone's UTC offset is a multiple of 15 minutes


class DayCtx(Ctx):
    """Rows placed in local days by an equality join on their 15-minute slot (a range join over
    hundreds of day periods costs seconds per million rows)."""

    def place(self, t, time: str):
        ends = self.period_list
        lo, hi = ends[0].lo, ends[-1].hi
        first = int(lo.replace(tzinfo=dt.timezone.utc).timestamp()) // SLOT
        last = int(hi.replace(tzinfo=dt.timezone.utc).timestamp()) // SLOT
        tz = self.config.timezone
        slots = pa.table({
            "__slot": pa.array(range(first, last), pa.int64()),
            "period_start": pa.array([P.local_date(dt.datetime.fromtimestamp(i * SLOT, dt.timezone.utc)
                                                   .replace(tzinfo=None), tz) for i in range(first, last)],
                                     pa.date32())})
        self.sources.backend.register("sk_day_slots", slots)
        s = self.sources.ib.table("sk_day_slots")
        col = t[time]
        t = t.filter(col >= ibis.literal(lo), col < ibis.literal(hi))
        t = t.mutate(__slot=(col.epoch_seconds() // SLOT).cast("int64"))
        return t.join(s, "__slot").drop("__slot")


def _relation(engine, spec, kpis, periods, sources):
    """The rolled-up relation placed in day periods: the same steps as compile.compile_group."""
    tz = engine.config.timezone
    ptable = periods_table(engine.backend, periods, tz)
    opts = [engine.options_for(k, {}) for k in kpis]
    ctx = DayCtx(sources, ptable, spec["dims"], {}, engine.config, opts[0], periods)
    t = ctx.table(kpis[0].source)
    if kpis[0].prep:
        t = prep(kpis[0], t, opts[0], ctx)
    j = ctx.place(t, kpis[0].time_col(opts[0]))
    return ctx, j, opts


def _day_runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    runs: list[list[dt.date]] = []
    for d in sorted(days):
        if runs and d == runs[-1][1] + dt.timedelta(days=1):
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return [(a, b) for a, b in runs]


def refresh(engine, asof: dt.datetime | None = None) -> dict[str, int]:
    """Recompute the days whose rows changed since the last refresh; returns days per rollup."""
    con, tz = engine.con, engine.config.timezone
    asof = asof or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    engine._asof = asof
    done = {}
    for spec in enabled(con):
        kpis = [engine.cat.kpis[i] for i in spec["kpis"] if i in engine.cat.kpis]
        sources = _sources(engine, asof)
        first, last = _span(engine, kpis[0], asof, tz)
        periods = P.build(first, last, "day", tz)
        ctx, j, opts = _relation(engine, spec, kpis, periods, sources)
        keep = [c for c in j.columns if c not in ("lo", "hi", "lo12", "lo_date", "hi_date", "lo12_date")]
        rel_sql = ibis.to_sql(j.select(*keep), dialect=engine.backend.dialect)
        sig = f"{spec['name']}_sig"
        con.execute(f"CREATE OR REPLACE TEMP TABLE sk_sig_now AS SELECT period_start AS day, count(*) AS n, "
                    f"sum(hash(r)) AS h FROM ({rel_sql}) r GROUP BY 1")
        has = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [sig]).fetchall()[0][0]
        if has and con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                               [spec["name"]]).fetchall()[0][0]:
            changed = _changed(con, sig)
        else:
            changed = None  # build every day
        measures = {}
        for k, o in zip(kpis, opts):
            measures.update(event_aggregates(k, j, o))
            measures[f"{k.id}__rows"] = (k.prefilter(j, o).cast("int64").sum() if k.prefilter else j.count())
        measures["__rows"] = j.count()
        grouped = ctx.group(j, **measures)
        fp = {"asof": asof.isoformat(), "tz": tz, "options": [_options_print(o) for o in opts],
              "data_max": _data_max(con, kpis)}
        if changed is None:
            con.execute(f"CREATE OR REPLACE TABLE {spec['name']} AS {ibis.to_sql(grouped, dialect='duckdb')}")
            done[spec["name"]] = len(periods)
        else:
            for a, b in _day_runs(changed):
                runs = P.build(a, b, "day", tz)
                c2, j2, _ = _relation(engine, spec, kpis, runs, sources)
                m2 = {}
                for k, o in zip(kpis, opts):
                    m2.update(event_aggregates(k, j2, o))
                    m2[f"{k.id}__rows"] = (k.prefilter(j2, o).cast("int64").sum() if k.prefilter else j2.count())
                m2["__rows"] = j2.count()
                con.execute(f"DELETE FROM {spec['name']} WHERE period_start >= ? AND period_start <= ?", [a, b])
                con.execute(f"INSERT INTO {spec['name']} BY NAME {ibis.to_sql(c2.group(j2, **m2), dialect='duckdb')}")
            done[spec["name"]] = len(changed)
        con.execute(f"CREATE OR REPLACE TABLE {sig} AS SELECT * FROM sk_sig_now")
        con.execute("DROP TABLE sk_sig_now")
        spec["state"] = fp
        con.execute(f"UPDATE {META} SET spec = ? WHERE name = ?", [json.dumps(spec), spec["name"]])
    return done


def _changed(con, sig: str) -> list[dt.date]:
    return [r[0] for r in con.execute(
        f"SELECT coalesce(a.day, b.day) FROM sk_sig_now a FULL JOIN {sig} b ON a.day = b.day "
        "WHERE a.n IS DISTINCT FROM b.n OR a.h IS DISTINCT FROM b.h").fetchall()]


def _span(engine, k, asof, tz) -> tuple[dt.date, dt.date]:
    from servicekpi.core.model import TABLES
    lo = hi = None
    for name in k.tables:
        col = TABLES[name].time if name in TABLES else None
        if col:
            a, b = engine.con.execute(f"SELECT min({col}), max({col}) FROM {name}").fetchall()[0]
            if a is not None:
                lo = a if lo is None else min(lo, a)
                hi = b if hi is None else max(hi, b)
    if lo is None:
        d = P.local_date(asof, tz)
        return d, d
    return P.local_date(lo, tz), max(P.local_date(lo, tz), P.local_date(asof, tz))


def _data_max(con, kpis) -> str | None:
    """The latest instant in the tables read: a rollup built as of an earlier instant is not used."""
    best = None
    for name in {t for k in kpis for t in k.tables}:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type LIKE 'TIMESTAMP%'",
            [name]).fetchall()]
        if cols:
            v = con.execute(f"SELECT max(greatest({', '.join(cols)})) FROM {name}").fetchall()[0][0]
            if v is not None:
                best = v if best is None else max(best, v)
    return best.isoformat() if best else None


def answer(engine, q, group, dims: list[str], where: dict, periods, asof) -> str | None:
    """SQL answering one batch group from a rollup, or None when it cannot be answered exactly."""
    specs = enabled(engine.con)
    if not specs or q.tz != engine.config.timezone or q.by is None and len(periods) != 1:
        return None
    tz = engine.config.timezone
    for p in periods:  # whole local days only
        if p.lo != P.utc(p.lo_date, tz) or p.hi != P.utc(p.hi_date, tz):
            return None
    ids = {k.id for k, _ in group}
    for spec in specs:
        st = spec.get("state")
        if not st or not ids <= set(spec["kpis"]) or not set(dims) | set(where) <= set(spec["dims"]):
            continue
        if st["tz"] != tz or dt.datetime.fromisoformat(st["asof"]) > asof:
            continue
        if st["data_max"] and dt.datetime.fromisoformat(st["data_max"]) > dt.datetime.fromisoformat(st["asof"]):
            continue
        printed = dict(zip(spec["kpis"], st["options"]))
        if any(printed[k.id] != _options_print(o) for k, o in group):
            continue
        # the SQL reads the rollup's table, not its build instants: a refresh keeps the compiled SQL
        built = {**spec, "state": {k: v for k, v in st.items() if k not in ("asof", "data_max")}}
        shape = (spec["name"], json.dumps(built, sort_keys=True), tuple(k.id for k, _ in group), tuple(dims),
                 tuple(sorted((c, tuple(v)) for c, v in where.items())),
                 tuple((p.start, p.lo_date, p.hi_date) for p in periods))
        sql = _COMPILED.get(shape)
        if sql is None:  # compiling costs ~50 ms a group
            disk = engine._disk()  # the store's SQL files (core/sql_files.py): no Ibis in a new process
            key = "rollup\n" + code_version() + "\n" + repr(shape)
            kept = disk.get(key) if disk else None
            sql = kept[0] if kept and kept[0] else _sql(engine, spec, group, dims, where, periods)
            if disk and not kept:
                disk.put(key, sql, ())
            _COMPILED[shape] = sql
            while len(_COMPILED) > 256:
                _COMPILED.pop(next(iter(_COMPILED)))
        return sql
    return None


_COMPILED: dict[tuple, str] = {}


def _sql(engine, spec, group, dims, where, periods) -> str:
    t = engine.ib.table(spec["name"])
    for col, values in where.items():
        t = t.filter(t[col].isin([typed(t[col], v) for v in values]))
    day = t.period_start
    t = t.filter(day >= ibis.literal(periods[0].lo_date), day < ibis.literal(periods[-1].hi_date))
    label = ibis.cases(*[(day < ibis.literal(p.hi_date), ibis.literal(p.start or p.lo_date)) for p in periods])
    t = t.mutate(period_start=label)
    aggs = {}
    for k, _ in group:
        for c in t.columns:
            if c.startswith(f"{k.id}__") and c != f"{k.id}__rows":
                aggs[c] = t[c].sum()
    every = all(k.prefilter for k, _ in group)
    present = sum((t[f"{k.id}__rows"] for k, _ in group), ibis.literal(0)) if every else t["__rows"]
    aggs["__present"] = present.sum()
    g = t.group_by(["period_start", *dims]).aggregate(**aggs)
    g = g.filter(g.__present > 0).drop("__present")
    # counts summed over days stay integers; the raw query's count() is int64 too
    stored = engine.ib.table(spec["name"]).schema()
    casts = {c: g[c].cast(stored[c]) for c in g.columns if c in aggs}
    g = g.mutate(**casts)
    sql = ibis.to_sql(g, dialect=engine.backend.dialect)
    return f"/* answered from the daily rollup {spec['name']} by {', '.join(spec['dims'])} */ {sql}"

