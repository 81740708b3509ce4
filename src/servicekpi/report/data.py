"""Build the report's data (model.Report) from the engine: the one place the renderers read.

Every number comes from Engine.evaluate with the same query `servicekpi kpi ID --by month
--from --to --as-of` runs, so a tracker value equals the command line's."""
from __future__ import annotations

import datetime as dt

from servicekpi.analysis import spikes as spikes_mod
from servicekpi.analysis.scorecard import PERSPECTIVE_ORDER, perspectives
from servicekpi.catalog import catalog, text
from servicekpi.catalog.targets import status, targets_for
from servicekpi.core import agents
from servicekpi.core import periods as P
from servicekpi.core.errors import DataError
from servicekpi.core.model import TABLES
from servicekpi.engine.query import Engine, Query, now_utc
from servicekpi.engine.relations import Sources
from servicekpi.report.document import Period, Report, Series, Volume
from servicekpi.store.db import imported_tables

# measured at the as-of instant ("due within 2 h from now"), not over a past period
LIVE_ONLY = ("sla_at_risk",)
# sliced by a dimension of their own: shown as volume by category and by channel instead
SLICED = ("category_volume", "channel_share")
FAMILY_GROUP = {"tickets": "process", "calls": "process", "sla": "process", "surveys": "customer",
                "customers": "customer", "quality": "people"}
VOLUME_DIMS = ("category", "channel")


def period_label(start: dt.date, by: str, lang: str) -> str:
    """i18n.period_label (CLDR names) when the i18n layer is there, else an English label."""
    try:
        from servicekpi.report.i18n import period_label as label
    except ImportError:
        label = None
    if label is not None:
        return label(start, by, lang)
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.strftime("%b %Y")


def month_range(month: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """The inclusive local dates of `month` and the months - 1 before it (--month YYYY-MM)."""
    first = P.add_months(month.replace(day=1), -(months - 1))
    last = P.add_months(month.replace(day=1), 1) - dt.timedelta(days=1)
    return first, last


def cut_to_data(engine: Engine, start: dt.date, end: dt.date, by: str = "month",
                asof: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """[start, end] starting no earlier than the period of the store's first record, so a report
    over 12 months of a store with 4 months of data has 4. The last period without any record is
    a DataError saying what the data covers (a report of nothing is a typo, not a report)."""
    tz = engine.config.timezone
    found = {t: s for t, s in engine.spans(imported_tables(engine.con), asof or now_utc()).items() if s[0] is not None}
    # a customer list reaches back to the first customer ever won: the operation's data starts with
    # its first ticket, call or answer (customers count alone only when nothing else was imported)
    spans = [s for t, s in found.items() if t != "customers"] or list(found.values())
    if not spans:
        raise DataError("the store holds no records to report on (import data first, or run: make demo)")
    first = P.local_date(min(s[0] for s in spans), tz)
    last = P.local_date(max(s[1] or s[0] for s in spans), tz)
    period = P.floor(end, by)
    if last < period or first > end:
        what = f"{period:%Y-%m}" if by == "month" else f"the {by} of {period}"
        raise DataError(f"no data in {what}: the store's records run from {first} to {last}; "
                        f"choose a month in that range (--month {last:%Y-%m})")
    return max(start, P.floor(first, by)), end


def kpi_order() -> list[str]:
    """Tracker order: the balanced scorecard's perspectives, then the rest of the catalog."""
    cat = catalog().kpis
    groups = perspectives()
    ids = [k for p in PERSPECTIVE_ORDER for k in groups[p] if k in cat]
    ids += [k for k in cat if k not in ids]
    return [k for k in ids if k not in LIVE_ONLY and k not in SLICED]


def group_of(kid: str) -> str:
    groups = perspectives()
    for p in PERSPECTIVE_ORDER:
        if kid in groups[p]:
            return p
    return FAMILY_GROUP.get(catalog().kpis[kid].family, "process")


def build(engine: Engine, start: dt.date, end: dt.date, by: str = "month", lang: str = "en",
          asof: dt.datetime | None = None, k: float = 3.0, window: int = 6) -> Report:
    """The report over the `by` periods covering the inclusive local dates [start, end]."""
    tz = engine.config.timezone
    asof = asof or now_utc()
    eng_periods = P.build(start, end, by, tz)
    periods = [Period(p.lo_date, p.hi_date - dt.timedelta(days=1), period_label(p.start, by, lang))
               for p in eng_periods]
    labels = [p.start.isoformat() for p in eng_periods]
    targets = targets_for(engine.config)
    imported = imported_tables(engine.con)
    sla_kpis = [x for x in kpi_order() if catalog().kpis[x].family == "sla"]
    ids = [x for x in kpi_order() if x not in sla_kpis]

    def query(kpis, dims=()):
        return engine.evaluate(Query(kpis=list(kpis), by=by, dims=list(dims), start=start, end=end, tz=tz,
                                     asof=asof))

    notes: list[str] = []
    # the catalog and the SLA KPIs in one engine query (one statement per KPI group)
    sla_ids = sla_kpis if "tickets" in imported else []  # the default policy applies without [[sla]]
    every = query(ids + sla_ids)
    rows = [r for r in every if r["kpi"] not in sla_ids]
    for note in sorted({r["note"] for r in rows if r.get("note", "").startswith("unavailable")}):
        notes.append(note)
    series = _series(engine, rows, ids, labels, lang, targets)

    volume = []
    if "tickets" in imported:
        for dim in VOLUME_DIMS:
            counts, found = spikes_mod.volume_with_spikes(engine, start, end, by, dim, k, window, asof)
            volume.append(Volume(dim, counts, found))

    with_data = [s.kpi for s in series]
    sources = Sources(engine.backend, imported, asof)

    def sliceable(dim):
        return [x for x in with_data if dim in engine.allowed_dims(engine.kpi(x), sources)]

    by_channel = _sliced(engine, query, sliceable("channel"), "channel", labels, lang, targets)
    agent_dim = _agent_dim(engine, asof)
    by_agent = _sliced(engine, query, sliceable(agent_dim), agent_dim, labels, lang, targets) if agent_dim else {}
    if agent_dim == "agent_id":
        by_agent = _named(engine.con, by_agent)
    sla = _series(engine, [r for r in every if r["kpi"] in sla_ids], sla_ids, labels, lang, targets) if sla_ids else []
    agents = None
    if agent_dim and periods:  # the agent rows of the "By team and agent" sheet: the last period's board
        from servicekpi.analysis.leaderboard import board
        agents = board(engine, periods[-1].start, periods[-1].end, asof)
        agents = agents if agents["rows"] else None
    return Report(lang=lang, tz=tz, asof=asof, by=by, periods=periods, series=series, volume=volume,
                  reach=reach(engine, asof), by_channel=by_channel, by_agent=by_agent, sla=sla, notes=notes,
                  agent_dim=agent_dim, partial=[p.partial for p in eng_periods], spike_k=k, spike_window=window,
                  agents=agents, currency=getattr(engine.config, "currency", None),
                  labels=getattr(engine.config, "labels", {}))


def _series(engine, rows, ids, labels, lang, targets, dim=None, value=None) -> list[Series]:
    """One Series per KPI with at least one non-null value (rows already filtered to one slice)."""
    index = {lab: i for i, lab in enumerate(labels)}
    cells: dict[str, list[dict | None]] = {x: [None] * len(labels) for x in ids}
    for r in rows:
        if r["kpi"] in cells and (dim is None or r.get(dim) == value):
            cells[r["kpi"]][index[r["period_start"]]] = r
    out = []
    for kid in ids:
        got = cells[kid]
        values = [r["value"] if r else None for r in got]
        if all(v is None for v in values):
            continue
        kp = engine.kpi(kid)
        t = targets.get(kid)
        goal, band = (None, None)
        if t is not None:
            goal, band, _ = t.resolve({dim: value} if dim else {}, [dim] if dim else [])
        out.append(Series(
            kpi=kid, family=kp.family, group=group_of(kid), unit=kp.unit, direction=kp.direction,
            label=text("kpi", kid, "label", lang), definition=text("kpi", kid, "definition", lang),
            formula=text("kpi", kid, "formula", lang), values=values,
            numerators=[r["numerator"] if r else None for r in got],
            denominators=[r["denominator"] if r else None for r in got],
            target=goal, at_risk=band if goal is not None else None,
            status=[status(v, goal, kp.direction, band) if t is not None else "no_target" for v in values]))
    return out


def _sliced(engine, query, ids, dim, labels, lang, targets) -> dict[str, list[Series]]:
    """value of `dim` -> series, in one engine query; values by ticket volume (or name)."""
    if not ids:
        return {}
    rows = query(ids, [dim])
    volume: dict = {}
    for r in rows:
        if r.get("note"):
            continue
        v = r.get(dim)
        volume[v] = volume.get(v, 0) + (r["value"] or 0 if r["kpi"] == "ticket_volume" else 0)
    out = {}
    for v in sorted(volume, key=lambda x: (-volume[x], x is None, str(x))):
        s = _series(engine, rows, ids, labels, lang, targets, dim, v)
        if s:
            out[spikes_mod.NONE if v is None else str(v)] = s
    return out


def _named(con, by_agent: dict[str, list[Series]]) -> dict[str, list[Series]]:
    """Agent ids shown with the display name of the agents table: "Ana Pop (a17)"; the id alone without one."""
    names = agents.display_names(con, [k for k in by_agent if k != spikes_mod.NONE])
    return {(f"{names[k]} ({k})" if names.get(k, k) != k else k): v for k, v in by_agent.items()}


def _agent_dim(engine: Engine, asof: dt.datetime) -> str | None:
    """team when tickets carry teams, else agent_id when they carry agents, else None."""
    if "tickets" not in imported_tables(engine.con):
        return None
    for dim in ("team", "agent_id"):
        n = engine.con.execute(f"SELECT count(*) FROM tickets WHERE {dim} IS NOT NULL AND created_at <= ?",
                               [asof]).fetchall()[0][0]
        if n:
            return dim
    return None


def reach(engine: Engine, asof: dt.datetime) -> dict[str, dt.datetime | None]:
    """Per imported table, its latest event time at or before the as-of instant, in local time
    (naive): 'calls complete through 2026-10-31 23:58'."""
    from zoneinfo import ZoneInfo
    tz = ZoneInfo(engine.config.timezone)
    out: dict[str, dt.datetime | None] = {}
    for name in sorted(imported_tables(engine.con)):
        if name not in TABLES or name == "agents":  # a list of people, not events: it reaches no date
            continue
        col = TABLES[name].time
        # spend rows are periods of local dates: complete through the end of the last period's
        # inclusive period_end (among periods that started by the as-of instant)
        top = "period_end" if name == "spend" else col
        latest = engine.con.execute(f"SELECT max({top}) FROM {name} WHERE {col} <= ?", [asof]).fetchall()[0][0]
        if latest is None:
            out[name] = None
        elif isinstance(latest, dt.datetime):
            out[name] = latest.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None)
        else:  # never past the as-of instant
            local_asof = asof.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None)
            out[name] = min(dt.datetime.combine(latest, dt.time(23, 59, 59)), local_asof)
    return out
