"""Scorecards: a month-by-month table of chosen KPIs (the demo), and the balanced scorecard:
every KPI with data in one period against its target, grouped by perspective."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rich.markup import escape
from rich.table import Table

from servicekpi.catalog import catalog, text
from servicekpi.core import display
from servicekpi.core import periods as P
from servicekpi.engine.query import Engine, Query, UsageError, suggest

ARROW = {"higher": "↑", "lower": "↓", "neutral": "·"}


def fmt_value(v, unit: str, lang: str = "en", currency: str | None = None) -> str:
    return display.value(v, unit, lang, currency)


def scorecard(engine: Engine, kpis: list[str], start: dt.date, end: dt.date, asof: dt.datetime,
              lang: str = "en") -> Table:
    rows = engine.evaluate(Query(kpis=kpis, by="month", start=start, end=end, asof=asof,
                                 tz=engine.config.timezone))
    months = sorted({r["period_start"] for r in rows})
    table = Table(title=f"Scorecard by month ({engine.config.timezone}, as of {asof:%Y-%m-%d %H:%M} UTC)")
    table.add_column("KPI")
    table.add_column("unit")
    for m in months:
        table.add_column(m[:7], justify="right")
    for kid in kpis:
        k = engine.kpi(kid)
        by_month = {r["period_start"]: r["value"] for r in rows if r["kpi"] == kid}
        table.add_row(f"{ARROW[k.direction]} {kid}" if lang == "en" and len(months) > 4
                      else f"{ARROW[k.direction]} {text('kpi', kid, 'label', lang)}", k.unit,
                      *[fmt_value(by_month.get(m), k.unit) for m in months])
    return table


# -- the balanced scorecard ------------------------------------------------------------------
# Each KPI with data in one period: value, target, status, change against the previous
# period, grouped by balanced-scorecard perspective (issue 3, section 4).

PERSPECTIVE_ORDER = ("customer", "process", "people", "financial")
_PROCESS = ("first_response_time", "avg_response_time", "avg_resolution_time", "resolution_rate", "fcr_rate",
            "backlog", "backlog_overdue",
            # the call queue's process KPIs (default targets exist for them)
            "abandonment_rate", "call_service_level", "avg_wait_time", "first_call_resolution")
# sla_at_risk is left out: it is the state at the as-of instant ("due within 2 h from now"), not a
# measure of a past period
_LIVE_ONLY = ("sla_at_risk",)


def perspectives() -> dict[str, tuple[str, ...]]:
    """Perspective -> KPI ids in display order (SLA KPIs follow the catalog)."""
    sla = tuple(k for k in catalog().kpis if k.startswith("sla_") and k not in _LIVE_ONLY)
    return {
        "customer": ("csat", "csat_mean", "nps", "ces", "ces_agree", "crr", "churn_rate", "repurchase_rate"),
        "process": _PROCESS + sla,
        "people": ("aht", "iqs", "occupancy"),
        "financial": ("cac", "clv"),
    }


WORDS = {  # perspective and status names, and table headers, in the catalog's four languages
    "customer": {"en": "Customer", "zh": "客户", "ro": "Clienți", "th": "ลูกค้า"},
    "process": {"en": "Internal process", "zh": "内部流程", "ro": "Procese interne", "th": "กระบวนการภายใน"},
    "people": {"en": "People", "zh": "人员", "ro": "Oameni", "th": "บุคลากร"},
    "financial": {"en": "Financial", "zh": "财务", "ro": "Financiar", "th": "การเงิน"},
    "met": {"en": "met", "zh": "达标", "ro": "atins", "th": "บรรลุ"},
    "at_risk": {"en": "at risk", "zh": "有风险", "ro": "la risc", "th": "มีความเสี่ยง"},
    "missed": {"en": "missed", "zh": "未达标", "ro": "ratat", "th": "ไม่บรรลุ"},
    "no_target": {"en": "no target", "zh": "无目标", "ro": "fără țintă", "th": "ไม่มีเป้าหมาย"},
    "no_data": {"en": "no data", "zh": "无数据", "ro": "fără date", "th": "ไม่มีข้อมูล"},
    "default": {"en": "default", "zh": "默认", "ro": "implicit", "th": "ค่าเริ่มต้น"},
    "value": {"en": "value", "zh": "数值", "ro": "valoare", "th": "ค่า"},
    "target": {"en": "target", "zh": "目标", "ro": "țintă", "th": "เป้าหมาย"},
    "status": {"en": "status", "zh": "状态", "ro": "stare", "th": "สถานะ"},
    "previous": {"en": "previous", "zh": "上期", "ro": "anterior", "th": "งวดก่อน"},
    "change": {"en": "change", "zh": "变化", "ro": "variație", "th": "การเปลี่ยนแปลง"},
    "by": {"en": "by", "zh": "截止", "ro": "până la", "th": "ภายใน"},
}
COLOUR = {"met": "green", "at_risk": "yellow", "missed": "red", "no_target": "dim", "no_data": "dim"}


def word(key: str, lang: str) -> str:
    entry = WORDS.get(key, {})
    return entry.get(lang) or entry.get("en") or key


def last_complete_period(asof: dt.datetime, grain: str, tz: str) -> tuple[dt.date, dt.date]:
    """Inclusive local dates of the last whole `grain` period ending at or before the as-of instant."""
    if grain not in P.GRAINS:
        raise suggest(grain, P.GRAINS, "period")
    end = P.floor(P.local_date(asof, tz), grain)  # start of the period holding the as-of instant
    return _back(end, grain), end - dt.timedelta(days=1)


def _back(start: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return start - dt.timedelta(days=1)
    if grain == "week":
        return start - dt.timedelta(days=7)
    return P.add_months(start, -{"month": 1, "quarter": 3, "year": 12}[grain])


def previous_period(start: dt.date, end: dt.date, grain: str | None = None) -> tuple[dt.date, dt.date]:
    """The period before [start, end]: the previous calendar `grain` when the range is exactly one,
    else the same number of days just before it."""
    nxt = end + dt.timedelta(days=1)
    if grain in P.GRAINS and start == P.floor(start, grain) and nxt == P.step(start, grain):
        return _back(start, grain), start - dt.timedelta(days=1)
    days = (nxt - start).days
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


@dataclass
class Scorecard:
    rows: list[dict]
    start: dt.date
    end: dt.date
    previous: tuple[dt.date, dt.date]
    asof: dt.datetime
    tz: str
    dims: list[str]
    complete: bool  # the period ended at or before the as-of instant
    notes: list[str] = field(default_factory=list)


def build(engine: Engine, start: dt.date | None = None, end: dt.date | None = None, by: str = "month",
          asof: dt.datetime | None = None, lang: str = "en", targets: dict | None = None,
          dims: list[str] | None = None) -> Scorecard:
    """The balanced scorecard of one period, with the period, its predecessor and notes."""
    from servicekpi.catalog.targets import status, targets_for
    from servicekpi.engine.query import now_utc
    from servicekpi.engine.relations import Sources
    from servicekpi.store.db import imported_tables

    tz = engine.config.timezone
    asof = asof or now_utc()
    dims = list(dims or [])
    if (start is None) != (end is None):
        raise UsageError("give both the first and the last date of the period (--from and --to)")
    if start is None:
        start, end = last_complete_period(asof, by, tz)
    if end < start:
        raise UsageError(f"the period ends ({end}) before it starts ({start})")
    prev = previous_period(start, end, by)
    targets = targets_for(engine.config) if targets is None else targets
    groups = perspectives()
    place = {k: p for p in PERSPECTIVE_ORDER for k in groups[p]}
    ids = [k for k in place if k in engine.cat.kpis]
    notes = []
    if dims:
        sources = Sources(engine.backend, imported_tables(engine.con), asof)
        available = [k for k in ids if set(engine.kpi(k).tables) <= sources.imported]
        allowed = {k: engine.allowed_dims(engine.kpi(k), sources) for k in available}
        for d in dims:
            if available and not any(d in a for a in allowed.values()):
                raise suggest(d, {x for a in allowed.values() for x in a}, "dimension")
        sliceable = [k for k in available if all(d in allowed[k] for d in dims)]
        skipped = [k for k in available if k not in sliceable]
        if skipped:
            notes.append(f"not sliceable by {', '.join(dims)}: {', '.join(skipped)}")
        ids = sliceable
    if not ids:
        return Scorecard([], start, end, prev, asof, tz, dims, P.utc(end + dt.timedelta(days=1), tz) <= asof, notes)

    def run(lo, hi):
        rows = _evaluate(engine, ids, Query(kpis=ids, by=None, dims=dims, start=lo, end=hi, tz=tz, asof=asof))
        return {(r["kpi"], tuple(r.get(d) for d in dims)): r for r in rows}

    if by in P.GRAINS and start == P.floor(start, by) and end + dt.timedelta(days=1) == P.step(start, by):
        # one whole grain period and the one before it: one query by that grain answers both
        rows = _evaluate(engine, ids, Query(kpis=ids, by=by, dims=dims, start=prev[0], end=end, tz=tz, asof=asof))
        split = {start.isoformat(): {}, prev[0].isoformat(): {}}
        for r in rows:
            split[r["period_start"]][(r["kpi"], tuple(r.get(d) for d in dims))] = r
        now, before = split[start.isoformat()], split[prev[0].isoformat()]
    else:
        now, before = run(start, end), run(*prev)
    complete = P.utc(end + dt.timedelta(days=1), tz) <= asof
    out = []
    for (kid, combo), r in now.items():
        if r["value"] is None:
            continue
        k = engine.kpi(kid)
        t = targets.get(kid)
        value = r["value"]
        goal, band, override = t.resolve(dict(zip(dims, combo)), dims) if t else (None, None, None)
        p = before.get((kid, combo), {}).get("value")
        change = None if p is None else value - p
        rel = None if not p else change / abs(p)
        row = {"perspective": place[kid], "kpi": kid, "label": text("kpi", kid, "label", lang),
               "period_start": start.isoformat(), "period_end": end.isoformat(), "complete": complete}
        row.update({d: v for d, v in zip(dims, combo)})
        row.update(value=value, unit=k.unit, direction=k.direction,
                   numerator=r.get("numerator"), denominator=r.get("denominator"),
                   target=goal, at_risk_band=band if goal is not None else None,
                   target_default=t.default if t else None, target_override=override,
                   due=t.due.isoformat() if t and t.due else None,
                   status=status(value, goal, k.direction, band) if t else "no_target",
                   previous=p, change=change, change_relative=rel,
                   trend=_trend(change, k.direction))
        if r.get("note"):
            row["note"] = r["note"]
        out.append(row)
    order = {k: i for i, k in enumerate(ids)}
    out.sort(key=lambda x: (PERSPECTIVE_ORDER.index(x["perspective"]), order[x["kpi"]],
                            *[(x.get(d) is None, str(x.get(d))) for d in dims]))
    return Scorecard(out, start, end, prev, asof, tz, dims, complete, notes)


def _evaluate(engine: Engine, ids: list[str], q: Query) -> list[dict]:
    """All the scorecard's KPIs in one query (the engine batches them into one statement)."""
    q.kpis = list(ids)
    return engine.evaluate(q)


def _trend(change, direction: str) -> str | None:
    if change is None:
        return None
    if change == 0:
        return "same"
    if direction == "neutral":
        return "up" if change > 0 else "down"
    return "better" if (change > 0) == (direction == "higher") else "worse"


def balanced_scorecard(engine: Engine, start: dt.date | None = None, end: dt.date | None = None,
                       by: str = "month", asof: dt.datetime | None = None, lang: str = "en",
                       targets: dict | None = None, dims: list[str] | None = None) -> list[dict]:
    """One row per KPI with data in the period (and per dimension value with `dims`).

    start/end: inclusive local dates; None = the last complete `by` period before `asof`.
    targets: None = the workspace's (config [targets], else the sourced defaults)."""
    return build(engine, start, end, by, asof, lang, targets, dims).rows


def fmt_with_unit(v, unit: str, lang: str = "en", currency: str | None = None) -> str:
    """A value as people read it (core/display.py): 8 h 35 min, 69.2%, NPS +13.3, €175.47."""
    return display.value(v, unit, lang, currency)


def fmt_change(row: dict, lang: str = "en", currency: str | None = None) -> str:
    c = row["change"]
    if c is None:
        return "–"
    text_ = display.change(c, row["unit"], lang, currency)
    rel = row["change_relative"]
    if rel is not None:
        text_ += f" ({display.points(100 * rel, lang).replace('±', '')}%)" if round(100 * rel, 1) else " (±0%)"
    colour = {"better": "green", "worse": "red"}.get(row["trend"])
    return f"[{colour}]{text_}[/]" if colour else text_


def fmt_target(row: dict, lang: str = "en", currency: str | None = None, markup: bool = True) -> str:
    if row["target"] is None:
        return "–"
    sign = "≥" if row["direction"] == "higher" else "≤"
    s = f"{sign} {fmt_with_unit(row['target'], row['unit'], lang, currency)}"
    if row.get("due"):
        s += f" {word('by', lang)} {row['due']}"
    if row.get("target_default"):
        s += f" [dim]({word('default', lang)})[/]" if markup else f" ({word('default', lang)})"
    return s


def display_fields(row: dict, dims: list[str], lang: str = "en", currency: str | None = None,
                   names: dict | None = None) -> dict:
    """The scorecard row's display strings (the API's `display`), beside its raw values."""
    out = {"value": fmt_with_unit(row["value"], row["unit"], lang, currency),
           "target": None if row["target"] is None else fmt_target(row, lang, currency, markup=False),
           "previous": fmt_with_unit(row["previous"], row["unit"], lang, currency),
           "change": None if row["change"] is None else fmt_change({**row, "trend": None}, lang, currency),
           "status": word(row["status"], lang)}
    out.update({d: display.label(row.get(d), names, lang, d) for d in dims})
    return out


def balanced_table(card: Scorecard, lang: str = "en", currency: str | None = None,
                   names: dict | None = None) -> Table:
    """A rich table grouped by perspective: value, target, status (coloured), previous, change."""
    prev = f"{card.previous[0]} – {card.previous[1]}"
    table = Table(title=f"Balanced scorecard {card.start} – {card.end}"
                        f"{'' if card.complete else ' (incomplete)'} ({card.tz}, as of "
                        f"{card.asof:%Y-%m-%d %H:%M} UTC; change against {prev})")
    table.add_column("KPI")
    for d in card.dims:
        table.add_column(d)
    for key in ("value", "target", "status", "previous", "change"):
        table.add_column(word(key, lang), justify="left" if key in ("target", "status") else "right")
    current = None
    for r in card.rows:
        if r["perspective"] != current:
            if current is not None:
                table.add_section()
            current = r["perspective"]
            table.add_row(f"[bold]{word(current, lang)}[/]", *[""] * (len(card.dims) + 5))
        st = r["status"]
        table.add_row(f"  {ARROW[r['direction']]} {escape(r['label'])}",
                      *[escape(display.label(r.get(d), names, lang, d)) for d in card.dims],
                      fmt_with_unit(r["value"], r["unit"], lang, currency), fmt_target(r, lang, currency),
                      f"[{COLOUR[st]}]{word(st, lang)}[/]", fmt_with_unit(r["previous"], r["unit"], lang, currency),
                      fmt_change(r, lang, currency))
    return table
