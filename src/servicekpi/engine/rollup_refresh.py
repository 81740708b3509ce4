"""Refreshing the daily rollups (engine/rollups.py). The days to recompute come from the journal
the writers keep (store/changes.py): the local days of the instants of every row an import, ingest
or erase added, replaced or removed, and the days of the rolled-up rows of every ticket whose row
or messages changed. With nothing journaled a refresh reads no row. When the journal cannot say
(the first build, another zone, options or configuration, data after the last refresh's as-of
instant, a changed dimension table), every day's signature (row count, sum of row hashes of the
relation its measures read) is compared with the stored one and the days that differ recomputed."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from servicekpi.core import periods as P
from servicekpi.core.lazy import lazy
from servicekpi.core.model import TABLES
from servicekpi.engine import sql_cache
from servicekpi.engine.compile import Ctx, event_aggregates, periods_table, prep
from servicekpi.engine.relations import Sources
from servicekpi.store import business as business_store
from servicekpi.store import changes
from servicekpi.store.db import imported_tables

ibis = lazy("ibis")  # on first use (see engine/rollups.py)
pa = lazy("pyarrow")

META = "sk_rollups"

SLOT = 900  # seconds: every zone's UTC offset is a multiple of 15 minutes
JOURNALED = set(TABLES) | {"replies", "waits"}  # written only by journaled writes (replies, waits: from messages)
BY_DAYS = {"tickets", "messages", "replies", "waits"}  # placed in days by their instants; others are dimensions
SIGNATURE_PASSES = [0]  # full signature passes (every row hashed) since the process started


def enabled(con) -> list[dict]:
    if not _exists(con, META):
        return []
    return [json.loads(r[0]) for r in con.execute(f"SELECT spec FROM {META} ORDER BY name").fetchall()]


def _sources(engine, asof):
    con = engine.con
    return Sources(engine.backend, imported_tables(con), asof, business_store.origin(con, engine.config.business()))


def _options_print(o: dict) -> str:
    return json.dumps(sorted((k, str(v)) for k, v in o.items()))


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


def _kept(j):
    return j.select(*[c for c in j.columns if c not in ("lo", "hi", "lo12", "lo_date", "hi_date", "lo12_date")])


def _signature_sql(engine, j) -> str:
    rel = ibis.to_sql(_kept(j), dialect=engine.backend.dialect)
    return f"SELECT period_start AS day, count(*) AS n, sum(hash(r)) AS h FROM ({rel}) r GROUP BY 1"


def _grouped_sql(ctx, j, kpis, opts) -> str:
    measures = {}
    for k, o in zip(kpis, opts):
        measures.update(event_aggregates(k, j, o))
        measures[f"{k.id}__rows"] = (k.prefilter(j, o).cast("int64").sum() if k.prefilter else j.count())
    measures["__rows"] = j.count()
    return ibis.to_sql(ctx.group(j, **measures), dialect="duckdb")


def _day_runs(days) -> list[tuple[dt.date, dt.date]]:
    runs: list[list[dt.date]] = []
    for d in sorted(days):
        if runs and d == runs[-1][1] + dt.timedelta(days=1):
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return [(a, b) for a, b in runs]


def _exists(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])


def refresh(engine, asof: dt.datetime | None = None) -> dict[str, int]:
    """Recompute the days whose rows changed since the last refresh; returns days per rollup."""
    con = engine.con
    asof = asof or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    engine._asof = asof
    journal = _journal(con)
    stamps = {t: str(s) for t, s in imported_tables(con, stamped=True).items()}
    done = {}
    for spec in enabled(con):
        kpis = [engine.cat.kpis[i] for i in spec["kpis"] if i in engine.cat.kpis]
        opts = [engine.options_for(k, {}) for k in kpis]
        sources = _sources(engine, asof)
        read, shape = _read_and_shape(engine, spec, kpis, sources)
        st = spec.get("state") or {}
        days = _journaled_days(engine, spec, kpis, st, journal, stamps, read, shape, asof, sources)
        if days is None:
            same = (st.get("tz") == engine.config.timezone and st.get("shape") == shape
                    and st.get("options") == [_options_print(o) for o in opts])
            done[spec["name"]] = _by_signatures(engine, spec, kpis, opts, asof, sources, every_day=not same)
            data_max = _data_max(con, kpis)
        else:
            for a, b in _day_runs(days):
                _recompute(engine, spec, kpis, P.build(a, b, "day", engine.config.timezone), sources)
            done[spec["name"]] = len(days)
            data_max = _data_max(con, kpis) if days else st.get("data_max")
        spec["state"] = {"asof": asof.isoformat(), "tz": engine.config.timezone,
                         "options": [_options_print(o) for o in opts], "data_max": data_max, "shape": shape,
                         "stamps": {t: stamps.get(t) for t in read}}
        con.execute(f"UPDATE {META} SET spec = ? WHERE name = ?", [json.dumps(spec), spec["name"]])
    if journal is None:
        changes.start(con)  # from now on the writers journal what they change
    else:
        changes.clear(con)
    return done


def _journal(con) -> dict | None:
    """{'slots': {table: [slots]}, 'whole': {tables}, 'tickets': bool}, or None without a journal."""
    if not changes.active(con):
        return None
    slots: dict[str, list] = {}
    for tbl, slot in con.execute(f"SELECT DISTINCT tbl, slot FROM {changes.JOURNAL} WHERE slot IS NOT NULL").fetchall():
        slots.setdefault(tbl, []).append(slot)
    whole = {r[0] for r in con.execute(f"SELECT DISTINCT tbl FROM {changes.JOURNAL} WHERE whole").fetchall()}
    tickets = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {changes.JOURNAL} WHERE ticket_id IS NOT NULL "
                          "LIMIT 1)").fetchall()[0][0] > 0
    return {"slots": slots, "whole": whole, "tickets": tickets}


def _read_and_shape(engine, spec, kpis, sources) -> tuple[list[str], str]:
    """The stored tables the rollup's relation reads, and a print of that relation's SQL for one
    fixed day at a fixed instant: a change of configuration that changes the rows changes it."""
    day = P.build(dt.date(2000, 1, 3), dt.date(2000, 1, 3), "day", engine.config.timezone)
    _, j, _ = _relation(engine, spec, kpis, day, sources.at(sql_cache.SENTINEL))
    names = {op.name for op in j.op().find(ibis.expr.operations.PhysicalTable)}
    stored = {r[0] for r in engine.con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    sql = _EXCLUDE.sub(lambda m: "EXCLUDE (" + ", ".join(sorted(m.group(1).split(", "))) + ")",
                       ibis.to_sql(_kept(j), dialect=engine.backend.dialect))
    return sorted(names & stored), hashlib.sha1(sql.encode()).hexdigest()


_EXCLUDE = re.compile(r"EXCLUDE \(([^()]*)\)")  # Ibis lists dropped columns in set order: hash order


def _journaled_days(engine, spec, kpis, st, journal, stamps, read, shape, asof, sources) -> set | None:
    """The local days the journal says changed for this rollup, or None when it cannot say."""
    con, tz = engine.con, engine.config.timezone
    if journal is None or not st or st.get("tz") != tz or st.get("shape") != shape:
        return None
    if st.get("options") != [_options_print(engine.options_for(k, {})) for k in kpis]:
        return None
    if not (_exists(con, spec["name"]) and _exists(con, f"{spec['name']}_sig")):
        return None
    if st.get("data_max") and dt.datetime.fromisoformat(st["data_max"]) > min(dt.datetime.fromisoformat(st["asof"]), asof):
        return None  # rows after an as-of instant: time alone changes their days
    source = kpis[0].source
    for t in read:
        if t in journal["whole"] or (t not in JOURNALED and stamps.get(t) != (st.get("stamps") or {}).get(t)):
            return None
        if t not in BY_DAYS and t != source and t in journal["slots"]:
            return None  # a dimension's row changed: rows on any day may move
    reach = set(read) | ({"messages", "tickets"} if set(read) & BY_DAYS else set())
    days = {P.local_date(s, tz) for t in reach for s in journal["slots"].get(t, ())}
    if journal["tickets"] and set(read) & BY_DAYS:  # every instant of the changed tickets' rows
        for t in sorted({source} | BY_DAYS):
            days |= {P.local_date(s, tz) for s in changes.ticket_slots(con, t)}
    return days


def _recompute(engine, spec, kpis, periods, sources) -> None:
    """Replace the rows and signatures of these days (one run of consecutive days)."""
    con, name = engine.con, spec["name"]
    a, b = periods[0].lo_date, periods[-1].lo_date
    ctx, j, opts = _relation(engine, spec, kpis, periods, sources)
    con.execute(f"DELETE FROM {name} WHERE period_start >= ? AND period_start <= ?", [a, b])
    con.execute(f"INSERT INTO {name} BY NAME {_grouped_sql(ctx, j, kpis, opts)}")
    con.execute(f"DELETE FROM {name}_sig WHERE day >= ? AND day <= ?", [a, b])
    con.execute(f"INSERT INTO {name}_sig {_signature_sql(engine, j)}")


def _by_signatures(engine, spec, kpis, opts, asof, sources, every_day: bool) -> int:
    """Every day's signature against the stored one; the days that differ recomputed (all days
    when the rollup or its signatures are missing, or every_day: another zone, options or
    relation). Returns the days recomputed."""
    con, tz, name = engine.con, engine.config.timezone, spec["name"]
    SIGNATURE_PASSES[0] += 1
    first, last = _span(engine, kpis[0], asof, tz)
    periods = P.build(first, last, "day", tz)
    ctx, j, _ = _relation(engine, spec, kpis, periods, sources)
    con.execute(f"CREATE OR REPLACE TEMP TABLE sk_sig_now AS {_signature_sql(engine, j)}")
    if not every_day and _exists(con, f"{name}_sig") and _exists(con, name):
        changed = [r[0] for r in con.execute(
            f"SELECT coalesce(a.day, b.day) FROM sk_sig_now a FULL JOIN {name}_sig b ON a.day = b.day "
            "WHERE a.n IS DISTINCT FROM b.n OR a.h IS DISTINCT FROM b.h").fetchall()]
        for a, b in _day_runs(changed):
            c2, j2, _ = _relation(engine, spec, kpis, P.build(a, b, "day", tz), sources)
            con.execute(f"DELETE FROM {name} WHERE period_start >= ? AND period_start <= ?", [a, b])
            con.execute(f"INSERT INTO {name} BY NAME {_grouped_sql(c2, j2, kpis, opts)}")
        count = len(changed)
    else:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {_grouped_sql(ctx, j, kpis, opts)}")
        count = len(periods)
    con.execute(f"CREATE OR REPLACE TABLE {name}_sig AS SELECT * FROM sk_sig_now")
    con.execute("DROP TABLE sk_sig_now")
    return count


def _span(engine, k, asof, tz) -> tuple[dt.date, dt.date]:
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
