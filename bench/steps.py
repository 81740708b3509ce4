"""One measured benchmark step per process; prints a JSON line with seconds and peak RSS."""
from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

ASOF = dt.datetime(2026, 11, 1)
START, END = dt.date(2026, 5, 1), dt.date(2026, 10, 31)
COMPARE = ["ticket_volume", "resolution_rate", "avg_resolution_time", "first_response_time", "fcr_rate",
           "answered_call_rate", "abandonment_rate", "avg_wait_time", "aht", "call_service_level",
           "csat", "nps", "ces"]
FIVE = ["ticket_volume", "resolution_rate", "avg_resolution_time", "abandonment_rate", "nps"]


def report(**kw) -> None:
    kw["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(kw, default=str))


def best(fn, repeat: int) -> tuple[float, object]:
    seconds, _, out = best_cpu(fn, repeat)
    return seconds, out


def best_cpu(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall time of `repeat` warm runs, the CPU seconds of that run (all threads of this
    process: on a shared machine less noisy than wall time), and its result."""
    fn()  # warm
    runs, out = [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        runs.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(runs)
    return wall, cpu, out


def generate(folder: str, tickets: str) -> None:
    from servicekpi.sample.generate import generate as gen
    n = int(tickets)
    rows = gen(folder, tickets=n, seed=11, months=6, end=dt.date(2026, 11, 1), calls=n // 5, surveys=n // 5)
    report(rows=rows)


def import_(folder: str, db: str) -> None:
    from servicekpi.ingest import load
    from servicekpi.store import db as store
    Path(db).unlink(missing_ok=True)
    con = store.connect(db)
    t, c = time.perf_counter(), time.process_time()
    result = load.run(con, Path(folder))
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    from servicekpi.core.config import Config
    from servicekpi.store import business as business_store  # as `servicekpi import` does after loading
    t = time.perf_counter()
    business_store.refresh(con, Config().business())
    report(rows=result.total("imported"), rejected=result.total("rejected"), seconds=seconds, cpu=cpu,
           business_seconds=time.perf_counter() - t)


def import_months(folder: str, db: str) -> None:
    """The dataset imported a month at a time (of each table's time column; what came before the
    first month of tickets goes with it), one `servicekpi import` transaction per month, as a
    user brings in a long history: DuckDB frees an import's temporary tables and spill when its
    transaction ends, so the temporary disk is that of the biggest month, not of the whole set.
    Each month's files are written beside the store and deleted after its import."""
    import shutil

    from servicekpi.core.model import TABLES
    from servicekpi.ingest import load
    from servicekpi.store import db as store
    Path(db).unlink(missing_ok=True)
    con = store.connect(db)
    files = {p.stem: p for p in sorted(Path(folder).glob("*.parquet")) if p.stem in TABLES}
    months = [r[0] for r in con.execute(
        "SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC') AS m FROM read_parquet(?) "
        "WHERE created_at IS NOT NULL ORDER BY m", [str(files["tickets"])]).fetchall()]
    t, c = time.perf_counter(), time.process_time()
    rows, rejected, split, peaks = 0, 0, 0.0, []
    for i, m in enumerate(months):
        chunk = Path(f"{db}.month")
        shutil.rmtree(chunk, ignore_errors=True)
        chunk.mkdir()
        nxt = dt.datetime(m.year + m.month // 12, m.month % 12 + 1, 1)
        t0 = time.perf_counter()
        for name, path in files.items():
            col = f"({TABLES[name].time} AT TIME ZONE 'UTC')" if name != "spend" else "period_start"
            parts = ([] if i == 0 else [f"{col} >= ?"]) + ([] if i == len(months) - 1 else [f"{col} < ?"])
            params = ([] if i == 0 else [m]) + ([] if i == len(months) - 1 else [nxt])
            where = " AND ".join(parts) or "TRUE"
            if i == len(months) - 1:  # a row without its time goes with the last month (and is rejected there)
                where = f"({where}) OR {col} IS NULL"
            con.execute(f"COPY (SELECT * FROM read_parquet('{path}') WHERE {where}) TO '{chunk / path.name}' "
                        "(FORMAT parquet)", params)
        split += time.perf_counter() - t0
        result = load.run(con, chunk)
        rows += result.total("imported")
        rejected += result.total("rejected")
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps({"month": str(m)[:7], "rows": result.total("imported"), "seconds": time.perf_counter() - t,
                          "rss_mb": peaks[-1]}), file=sys.stderr, flush=True)
        shutil.rmtree(chunk)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    from servicekpi.core.config import Config
    from servicekpi.store import business as business_store  # as `servicekpi import` does after loading
    t = time.perf_counter()
    business_store.refresh(con, Config().business())
    report(rows=rows, rejected=rejected, seconds=seconds, cpu=cpu, split_seconds=split, months=len(months),
           business_seconds=time.perf_counter() - t)


def catalog_ids(which: str) -> list[str]:
    from servicekpi.catalog import catalog
    if which == "compare":
        return COMPARE
    if which == "five":
        return FIVE
    return [k.id for k in catalog().kpis.values()
            if k.family in ("tickets", "calls", "surveys") and (k.allowed_dims is None or "channel" in k.allowed_dims)]


def engine(db: str, repeat: str, which: str) -> None:
    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    e = Engine(store.connect(db, read_only=True))
    ids = catalog_ids(which)
    q = Query(kpis=ids, by="month", dims=["channel"], start=START, end=END, asof=ASOF)
    seconds, cpu, rows = best_cpu(lambda: e.evaluate(q), int(repeat))
    report(seconds=seconds, cpu=cpu, kpis=len(ids), rows=len(rows))


def frt(db: str, repeat: str) -> None:
    """first_response_time by month x channel, calendar and business time (default calendar), run
    in turn in one process: the ratio is taken pair by pair, so drifting machine speed cancels."""
    import statistics

    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    e = Engine(store.connect(db, read_only=True))

    def q(hours):
        return Query(kpis=["first_response_time"], by="month", dims=["channel"], start=START, end=END,
                     asof=ASOF, options={"hours": hours})
    cal, biz = q("calendar"), q("business")
    e.evaluate(cal), e.evaluate(biz)  # warm
    pairs = []
    for _ in range(int(repeat)):
        t0 = time.perf_counter()
        e.evaluate(cal)
        t1 = time.perf_counter()
        rows = e.evaluate(biz)
        t2 = time.perf_counter()
        pairs.append((t1 - t0, t2 - t1))
    from servicekpi.store import business as business_store
    stored = business_store.origin(e.con, e.config.business()) is not None
    report(calendar=statistics.median(c for c, _ in pairs), business=statistics.median(b for _, b in pairs),
           ratio=statistics.median(b / c for c, b in pairs), rows=len(rows), stored=stored)


def pandas_kpis(folder: str) -> dict:
    """A fair pandas implementation: vectorised groupby, no Python row loops."""
    import pandas as pd
    lo, hi = pd.Timestamp(START), pd.Timestamp(END) + pd.Timedelta(days=1)
    asof = pd.Timestamp(ASOF)

    def read(name, cols):
        df = pd.read_parquet(Path(folder) / f"{name}.parquet", columns=cols)
        for c in df.columns:
            if str(df[c].dtype).startswith("datetime64") and getattr(df[c].dt, "tz", None) is not None:
                df[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None)
        return df

    out = {}
    t = read("tickets", ["created_at", "channel", "resolved_at", "first_response_at", "reopen_count",
                         "agent_replies", "fcr_eligible", "excluded"])
    t = t[(~t.excluded.fillna(False)) & (t.created_at <= asof)]
    t["resolved_at"] = t.resolved_at.where(t.resolved_at <= asof)
    t["first_response_at"] = t.first_response_at.where(t.first_response_at <= asof)
    byc = t[(t.created_at >= lo) & (t.created_at < hi)].assign(month=lambda d: d.created_at.dt.to_period("M"))
    g = byc.groupby(["month", "channel"])
    out["ticket_volume"] = g.size()
    out["resolution_rate"] = 100 * g.resolved_at.count() / g.size()
    frt = (byc.first_response_at - byc.created_at).dt.total_seconds() / 60
    out["first_response_time"] = frt.groupby([byc.month, byc.channel]).mean()
    res = t[(t.resolved_at >= lo) & (t.resolved_at < hi)].assign(month=lambda d: d.resolved_at.dt.to_period("M"))
    out["avg_resolution_time"] = ((res.resolved_at - res.created_at).dt.total_seconds() / 3600) \
        .groupby([res.month, res.channel]).mean()
    pool = res[res.fcr_eligible.fillna(True) & res.agent_replies.notna()]
    fcr = (pool.agent_replies <= 1) & (pool.reopen_count.fillna(0) == 0)
    out["fcr_rate"] = 100 * fcr.groupby([pool.month, pool.channel]).mean()

    c = read("calls", ["entered_at", "answered_at", "channel", "talk_seconds", "hold_seconds", "wrap_seconds",
                       "ticket_id"])
    excluded = read("tickets", ["ticket_id", "excluded"])
    excluded = excluded.ticket_id[excluded.excluded.fillna(False).astype(bool)]
    c = c[(c.entered_at >= lo) & (c.entered_at < hi) & (c.entered_at <= asof) & ~c.ticket_id.isin(excluded)]
    c["answered_at"] = c.answered_at.where(c.answered_at <= asof)
    c["month"] = c.entered_at.dt.to_period("M")
    gc = c.groupby(["month", "channel"])
    ans = c.answered_at.notna()
    wait = (c.answered_at - c.entered_at).dt.total_seconds()
    out["answered_call_rate"] = 100 * ans.groupby([c.month, c.channel]).mean()
    out["abandonment_rate"] = 100 * (~ans).groupby([c.month, c.channel]).mean()
    out["avg_wait_time"] = wait.groupby([c.month, c.channel]).mean()
    handle = (c.talk_seconds.fillna(0) + c.hold_seconds.fillna(0) + c.wrap_seconds.fillna(0)).where(ans)
    out["aht"] = handle.groupby([c.month, c.channel]).mean()
    out["call_service_level"] = 100 * (ans & (wait <= 60)).groupby([c.month, c.channel]).sum() / gc.size()

    s = read("surveys", ["survey", "score", "scale_min", "scale_max", "responded_at", "channel", "ticket_id"])
    s = s[(s.responded_at >= lo) & (s.responded_at < hi)]
    tk = read("tickets", ["ticket_id", "channel", "excluded"])
    s = s.merge(tk.rename(columns={"channel": "tk_channel"}), on="ticket_id", how="left")
    s = s[~s.excluded.fillna(False).astype(bool)]
    s["channel"] = s.channel.fillna(s.tk_channel)
    s["month"] = s.responded_at.dt.to_period("M")
    cs = s[s.survey == "csat"]
    points = cs.scale_max - cs.scale_min + 1
    sat = cs.score >= (cs.scale_max - 1).where(points >= 5, cs.scale_max)
    out["csat"] = 100 * sat.groupby([cs.month, cs.channel]).mean()
    ns = s[s.survey == "nps"]
    out["nps"] = 100 * ((ns.score >= 9).astype(int) - (ns.score <= 6).astype(int)).groupby([ns.month, ns.channel]).mean()
    ce = s[s.survey == "ces"]
    out["ces"] = ce.score.groupby([ce.month, ce.channel]).mean()
    return out


def pandas(folder: str, repeat: str) -> None:
    seconds, cpu, _ = best_cpu(lambda: pandas_kpis(folder), int(repeat))
    report(seconds=seconds, cpu=cpu)


SQL = """
WITH t AS (SELECT * FROM tickets WHERE NOT coalesce(excluded, FALSE) AND created_at <= $asof)
SELECT 'ticket_volume' k, date_trunc('month', created_at) m, channel, count(*)::DOUBLE v FROM t
 WHERE created_at >= $lo AND created_at < $hi GROUP BY ALL
UNION ALL
SELECT 'resolution_rate', date_trunc('month', created_at), channel,
       100.0 * count(*) FILTER (WHERE resolved_at <= $asof) / count(*) FROM t
 WHERE created_at >= $lo AND created_at < $hi GROUP BY ALL
UNION ALL
SELECT 'avg_resolution_time', date_trunc('month', resolved_at), channel,
       avg(date_diff('millisecond', created_at, resolved_at)) / 3600000.0 FROM t
 WHERE resolved_at >= $lo AND resolved_at < $hi AND resolved_at <= $asof GROUP BY ALL
UNION ALL
SELECT 'abandonment_rate', date_trunc('month', entered_at), channel,
       100.0 * count(*) FILTER (WHERE answered_at IS NULL OR answered_at > $asof) / count(*) FROM calls
 WHERE entered_at >= $lo AND entered_at < $hi AND entered_at <= $asof
   AND (ticket_id IS NULL OR ticket_id NOT IN (SELECT ticket_id FROM tickets WHERE excluded)) GROUP BY ALL
UNION ALL
SELECT 'nps', date_trunc('month', s.responded_at), coalesce(s.channel, t.channel),
       100.0 * (count(*) FILTER (WHERE s.score >= 9) - count(*) FILTER (WHERE s.score <= 6)) / count(*)
 FROM surveys s LEFT JOIN tickets t USING (ticket_id)
 WHERE s.survey = 'nps' AND s.responded_at >= $lo AND s.responded_at < $hi AND s.responded_at <= $asof
   AND NOT coalesce(t.excluded, FALSE) GROUP BY ALL
"""


def sql_rows(con) -> list:
    params = {"asof": ASOF, "lo": dt.datetime.combine(START, dt.time()),
              "hi": dt.datetime.combine(END + dt.timedelta(days=1), dt.time())}
    return con.execute(SQL, params).fetchall()


def sql(db: str, repeat: str) -> None:
    import duckdb
    con = duckdb.connect(db, read_only=True)
    seconds, rows = best(lambda: sql_rows(con), int(repeat))
    report(seconds=seconds, rows=len(rows))


def agree(db: str, folder: str) -> None:
    """The three ways give the same numbers (to 1e-9) on every cell they share."""
    import duckdb

    from servicekpi.engine.query import Engine, Query
    from servicekpi.store import db as store
    e = Engine(store.connect(db, read_only=True))
    rows = e.evaluate(Query(kpis=COMPARE, by="month", dims=["channel"], start=START, end=END, asof=ASOF))
    mine = {(r["kpi"], r["period_start"][:7], r["channel"]): r["value"] for r in rows}
    ok, cells = True, 0
    for kid, series in pandas_kpis(folder).items():
        for (month, channel), v in series.items():
            cells += 1
            m = mine.get((kid, str(month), channel))
            if m is None or abs(m - float(v)) > 1e-9 * max(1, abs(m)):
                ok = False
                print(f"pandas differs: {kid} {month} {channel}: engine {m} pandas {v}", file=sys.stderr)
    e.con.close()
    con = duckdb.connect(db, read_only=True)
    for k, m, ch, v in sql_rows(con):
        cells += 1
        mv = mine.get((k, m.strftime("%Y-%m"), ch))
        if mv is None or abs(mv - v) > 1e-9 * max(1, abs(mv)):
            ok = False
            print(f"SQL differs: {k} {m} {ch}: engine {mv} sql {v}", file=sys.stderr)
    report(ok=ok, cells=cells)


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    {"generate": generate, "import": import_, "import_months": import_months, "engine": engine, "pandas": pandas, "sql": sql,
     "agree": agree, "frt": frt}[name](*args)
