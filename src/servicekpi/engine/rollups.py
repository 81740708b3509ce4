"""Opt-in exact daily rollups: additive parts (counts, sums, counts within thresholds) of the
event KPIs per local day of the workspace zone and a dimension set. A query in that zone whose
periods are whole local days, with default options and calendar hours, is answered by summing
days. Refresh recomputes only the days the writers journaled as changed (engine/rollup_refresh.py,
store/changes.py), late rows, replaced rows, erased rows and changed tickets included.
Medians/percentiles are never here."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from servicekpi.core import periods as P
from servicekpi.core.errors import UsageError
from servicekpi.core.lazy import lazy
from servicekpi.core.sql_files import code_version
from servicekpi.engine.compile import Ctx, batch_key, prep, typed
from servicekpi.engine.rollup_refresh import META, _options_print, _sources, enabled, refresh
from servicekpi.store import changes, spans
from servicekpi.store.db import imported_tables

__all__ = ["META", "answer", "disable", "eligible", "enable", "enabled", "refresh"]

# Ibis on first use: a query a rollup does not answer, or whose answer's SQL is kept in the
# store's SQL files, imports it not (engine/query.py imports this module when rollups exist)
ibis = lazy("ibis")
ops = lazy("ibis.expr.operations")


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
    changes.start(con)  # the writers journal what they change from now on
    spans.fill(con)  # the queries it answers read the data's span kept, not scanned
    refresh(engine)
    return names


def disable(con) -> None:
    for spec in enabled(con):
        con.execute(f"DROP TABLE IF EXISTS {spec['name']}")
        con.execute(f"DROP TABLE IF EXISTS {spec['name']}_sig")
    con.execute(f"DROP TABLE IF EXISTS {META}")
    changes.stop(con)


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


def answer(engine, q, group, dims: list[str], where: dict, periods, asof) -> str | None:
    """SQL answering one batch group from a rollup, or None when it cannot be answered exactly."""
    specs, pending = _state(engine)
    if not specs or q.tz != engine.config.timezone or q.by is None and len(periods) != 1:
        return None
    if pending:  # written since the last refresh (a connector's sync): raw data
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


def _state(engine) -> tuple[list[dict], bool]:
    """The rollups enabled and whether writes wait for a refresh: read once per query (every batch
    group asks; Engine.evaluate forgets it before each query)."""
    if getattr(engine, "_rollup_state", None) is None:
        specs = enabled(engine.con)
        engine._rollup_state = (specs, bool(specs) and changes.pending(engine.con))
    return engine._rollup_state


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

