"""The report as one self-contained, printable HTML file (inline CSS and SVG, no requests).

`render(report) -> str` and `write(report, path)`. The PDF (report/pdf.py) prints this
same HTML through headless Chromium. Interface strings are gettext messages (i18n.py);
KPI labels, definitions and formulas are the catalog texts carried by the Report's
series; numbers, dates and period names are CLDR formats for the report's language.
Every piece of text is escaped; a None value is shown as the no-data dash, never as 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Callable, Iterable

from servicekpi import __version__
from servicekpi.catalog import text
from servicekpi.report import svg
from servicekpi.report.document import Report, Series, Volume
from servicekpi.report.i18n import (
    DECIMALS,
    NO_DATA,
    _,
    check_lang,
    format_change,
    format_date,
    format_instant,
    format_number,
    format_value,
    translator,
)

# headline scorecard and trend charts, in this order, when the report has them
HEADLINE = ("csat", "nps", "ces", "fcr_rate", "first_response_time", "avg_resolution_time",
            "resolution_rate", "backlog", "ticket_volume", "aht", "avg_wait_time", "abandonment_rate",
            "call_service_level", "crr", "churn_rate", "cac", "clv")
MAX_CARDS = 12
MAX_TRENDS = 8
MAX_LINES = 8  # categories drawn in the volume chart (the largest; all are in the table)
PIVOT_COLUMNS = 8  # channels or teams/agents per by-channel/by-agent table (A4 width)
NULL_VALUES = (None, "", "(none)")  # a missing dimension value; "(none)" is spikes.NONE

HTML_LANG = {"en": "en", "zh": "zh-Hans", "ro": "ro", "th": "th"}

GROUP = {"customer": _("Customer"), "process": _("Internal process"), "people": _("People"),
         "financial": _("Financial")}  # balanced scorecard perspectives (Series.group)
STATUS = {"met": _("met"), "at_risk": _("at risk"), "missed": _("missed"),
          "no_target": _("no target"), "no_data": _("no data")}
TABLE = {"tickets": _("Tickets"), "messages": _("Messages"), "calls": _("Calls and chats"),
         "agent_sessions": _("Agent sessions"), "surveys": _("Surveys"), "customers": _("Customers"),
         "orders": _("Orders"), "spend": _("Spend"), "self_service": _("Self-service events"),
         "feedback": _("Feedback"), "quality_reviews": _("Quality reviews"), "activity": _("Customer activity")}
DIM = {"category": _("Category"), "channel": _("Channel")}
# well-known data values (the generator's and most helpdesks'); others are shown as they are
VALUE = {"email": _("Email"), "chat": _("Chat"), "phone": _("Phone"), "social": _("Social media"),
         "web_form": _("Web form"), "sms": _("SMS"), "web": _("Web"), "app": _("App"),
         "sales_question": _("Sales question"), "technical": _("Technical issue"),
         "cancellation": _("Cancellation"), "return": _("Return"), "shipping": _("Shipping"),
         "product_availability": _("Product availability"), "complaint": _("Complaint")}

CSS = """
:root { --ink:#1d2733; --muted:#5b6776; --line:#d8dee6; --soft:#f3f5f8; --accent:#0072B2;
  --met:#1e8449; --met-bg:#e6f4ea; --risk:#9a6700; --risk-bg:#fff4d6; --miss:#b3261e; --miss-bg:#fde8e6;
  --none:#6b7480; --none-bg:#eef0f3; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact;
  font-family: "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans Thai", "Loma", "TLWG Typo",
  "Helvetica Neue", Arial, sans-serif; }
html:lang(zh) { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", "Noto Sans", sans-serif; }
html:lang(th) { font-family: "Noto Sans Thai", "Loma", "Garuda", "TLWG Typo", "Tahoma", "Noto Sans", sans-serif; }
body { margin: 0; color: var(--ink); background: #fff; font-size: 14px; line-height: 1.45;
  font-variant-numeric: tabular-nums; }
html:lang(th) body { line-height: 1.6; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 40px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink);
  break-after: avoid; page-break-after: avoid; }
h3, .lead, .legend { break-after: avoid; page-break-after: avoid; }
h3 { font-size: 14px; margin: 0 0 4px; }
p { margin: 4px 0 8px; }
.muted, .lead { color: var(--muted); }
header .period { font-size: 18px; color: var(--accent); margin: 0 0 10px; font-weight: 600; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0;
  font-size: 13px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-left: 6px solid var(--none); border-radius: 6px;
  padding: 8px 10px; break-inside: avoid; page-break-inside: avoid; background: #fff; }
.card .k { font-size: 12.5px; font-weight: 600; min-height: 2.9em; }
.card .v { font-size: 24px; font-weight: 700; margin: 2px 0; white-space: nowrap; }
.card .t, .card .c { font-size: 12px; color: var(--muted); }
.card .spark { display: block; margin-top: 4px; }
.st-met { border-left-color: var(--met); } .st-at_risk { border-left-color: #d4a017; }
.st-missed { border-left-color: var(--miss); }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11.5px; font-weight: 600;
  background: var(--none-bg); color: var(--none); white-space: nowrap; }
.badge.st-met { background: var(--met-bg); color: var(--met); }
.badge.st-at_risk { background: var(--risk-bg); color: var(--risk); }
.badge.st-missed { background: var(--miss-bg); color: var(--miss); }
.good { color: var(--met); } .bad { color: var(--miss); }
.nodata { color: var(--none); }
.charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px 22px; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 12px; color: var(--muted); }
svg.chart { display: block; max-width: 100%; height: auto; overflow: visible; }
svg.chart text { font-size: 11px; fill: var(--muted); }
svg.chart .grid { stroke: #e6eaef; stroke-width: 1; }
svg.chart .axis { stroke: #8a96a3; stroke-width: 1; }
svg.chart .target { stroke: var(--met); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg.chart .spike { fill: none; stroke: #C0392B; stroke-width: 2.2; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 4px 0 6px;
  padding: 0; list-style: none; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px;
  vertical-align: -1px; }
.legend .ring { border: 2px solid #C0392B; border-radius: 50%; background: none; }
.legend .dash { height: 0; border-top: 2px dashed var(--met); border-radius: 0; vertical-align: 3px; }
.wide { width: 100%; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 6px 0 14px; }
th, td { padding: 3px 6px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
.tgt, .nw { white-space: nowrap; }
th.p { word-break: keep-all; }
td.kpi { min-width: 150px; }
table.pivot td:not(.kpi), table.pivot th:not(:first-child) { width: 10%; }
td.kpi small { display: block; color: var(--muted); font-size: 10.5px; }
tr.fam th { text-align: left; background: #e3e8ef; }
td.spike { background: var(--miss-bg); color: var(--miss); font-weight: 700; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
ul.spikes { margin: 4px 0 0; padding-left: 20px; font-size: 13px; }
dl.defs { margin: 0; }
dl.defs dt { font-weight: 700; margin-top: 10px; break-after: avoid; page-break-after: avoid; }
dl.defs dd { margin: 2px 0 0 0; font-size: 13px; break-inside: avoid; page-break-inside: avoid; }
dl.defs .formula { display: block; font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace;
  font-size: 12px; background: var(--soft); padding: 2px 6px; border-radius: 3px; margin-top: 2px; }
dl.defs .unit { color: var(--muted); font-size: 12px; }
ul.reach { margin: 4px 0; padding-left: 20px; }
footer { margin-top: 30px; font-size: 11px; color: var(--muted); border-top: 1px solid var(--line);
  padding-top: 6px; }
@page { size: A4; margin: 12mm 11mm 14mm;
  @bottom-left { font-size: 7.5pt; color: #5b6776; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 7.5pt; color: #5b6776; } }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { margin-top: 16px; }
  section.break { break-before: page; page-break-before: always; }
  .cards { grid-template-columns: repeat(4, 1fr); gap: 6px; }
  .card .v { font-size: 17pt; }
  .charts { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 14px; }
  table { font-size: 8pt; }
  th, td { padding: 2px 4px; }
  td.kpi { min-width: 28mm; }
  .wide { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass
class Ctx:
    report: Report
    lang: str
    _: Callable[[str], str]

    def value(self, v: float | None, unit: str) -> str:
        return format_value(v, unit, self.lang)

    def cell(self, v: float | None, unit: str) -> str:
        """A compact table cell: the number (with % for percentages); the unit is in the row head."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return nodata(self)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if unit == "percent":
            return esc(format_value(v, unit, self.lang))
        places = DECIMALS.get(unit, 2)
        if unit == "count" and v != int(v):
            places = 1
        return esc(format_number(v, self.lang, places))

    def dim_value(self, value: str | None) -> str:
        if value in NULL_VALUES:
            return self._("(not set)")
        return self._(VALUE[value]) if value in VALUE else str(value)


def css_string(s: str) -> str:
    """A CSS string literal: everything but ASCII letters, digits and spaces as a hex escape."""
    return '"' + "".join(ch if (ch.isascii() and ch.isalnum()) or ch == " " else f"\\{ord(ch):x} "
                         for ch in s) + '"'


def esc(s: object) -> str:
    return escape(str(s), quote=True)


def period_head(label: str) -> str:
    """A period label for a narrow column head: Chinese labels break after 年 ("2026年 / 第32周")."""
    return esc(label).replace("年", "年<wbr>")


def nodata(c: Ctx) -> str:
    title = c._("no data")
    return f'<span class="nodata" title="{esc(title)}">{NO_DATA}</span>'


def _val_html(c: Ctx, v: float | None, unit: str) -> str:
    return nodata(c) if v is None else esc(c.value(v, unit))


def _unit_label(unit: str, lang: str) -> str:
    return text("unit", unit, "label", lang)


def _last(values: list) -> float | None:
    return values[-1] if values else None


def _prev(values: list) -> float | None:
    return values[-2] if len(values) > 1 else None


def _status(s: Series, i: int = -1) -> str:
    if s.values and (s.values[i] is None or math.isnan(s.values[i])):
        return "no_data"
    if s.status and len(s.status) >= len(s.values) and s.status[i]:
        return s.status[i]
    return "no_target"


def _target_text(c: Ctx, s: Series) -> str:
    if s.target is None:
        return ""
    sign = {"higher": "≥ ", "lower": "≤ "}.get(s.direction, "")
    return c._("target {target}").format(target=sign + c.value(s.target, s.unit))


def _change_class(s: Series) -> str:
    cur, prev = _last(s.values), _prev(s.values)
    if cur is None or prev is None or cur == prev or s.direction not in ("higher", "lower"):
        return ""
    better = cur > prev if s.direction == "higher" else cur < prev
    return "good" if better else "bad"


def headline(report: Report) -> list[Series]:
    by_id = {s.kpi: s for s in report.series}
    picked = [by_id[k] for k in HEADLINE if k in by_id]
    if not picked:
        picked = [s for s in report.series if any(v is not None for v in s.values)]
    return picked[:MAX_CARDS]


# ----------------------------------------------------------------- sections


def _header(c: Ctx) -> str:
    r, _ = c.report, c._
    periods = r.periods
    span = ""
    if periods:
        span = periods[-1].label if len(periods) == 1 else f"{periods[0].label} – {periods[-1].label}"
    rows = [
        (_("Report period"), span),
        (_("Data period"), _("{start} to {end} (local dates, inclusive)").format(
            start=format_date(periods[0].start, c.lang), end=format_date(periods[-1].end, c.lang))
            if periods else NO_DATA),
        (_("Time zone"), r.tz),
        (_("As of"), _("{instant} UTC").format(instant=format_instant(r.asof, c.lang))),
    ]
    meta = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    heading = _("Customer service report")
    return (f'<header><h1>{esc(heading)}</h1>'
            f'<p class="period">{esc(periods[-1].label if periods else "")}</p>'
            f'<dl class="meta">{meta}</dl></header>')


def _scorecard(c: Ctx) -> str:
    r, _ = c.report, c._
    series = headline(r)
    if not series:
        return ""
    cards, versus = [], _("vs {period}")
    for s in series:
        st = _status(s)
        cur, prev = _last(s.values), _prev(s.values)
        change = format_change(cur, prev, s.unit, c.lang)
        prev_label = r.periods[-2].label if len(r.periods) > 1 else ""
        target = _target_text(c, s)
        target_html = f'<div class="t nw">{esc(target)}</div>' if target else ""
        cards.append(
            f'<div class="card st-{esc(st)}" data-kpi="{esc(s.kpi)}">'
            f'<div class="k">{esc(s.label)}</div>'
            f'<div class="v">{_val_html(c, cur, s.unit)}</div>'
            f'<div class="t"><span class="badge st-{esc(st)}">{esc(_(STATUS.get(st, st)))}</span></div>'
            f"{target_html}"
            + (f'<div class="c"><span class="{_change_class(s)}">{esc(change)}</span> '
               f'{esc(versus.format(period=prev_label))}</div>' if prev_label else "")
            + svg.sparkline(s.values) + "</div>")
    legend = "".join(f'<li><span class="badge st-{k}">{esc(_(v))}</span></li>'
                     for k, v in STATUS.items() if k != "no_data")
    lead = _("{period}: latest value, status against the target and change from the previous period.")
    heading = _("Scorecard")
    return (f'<section id="scorecard"><h2>{esc(heading)}</h2>'
            f'<p class="lead">{esc(lead.format(period=r.periods[-1].label if r.periods else ""))}</p>'
            f'<div class="cards">{"".join(cards)}</div><ul class="legend">{legend}</ul></section>')


def _tick_places(v: float) -> int:
    return 0 if float(v).is_integer() else (1 if float(v * 10).is_integer() else 2)


def _trend_fmt(c: Ctx, unit: str) -> Callable[[float], str]:
    """Axis ticks: round numbers without padding decimals; durations without the unit (it is in the caption)."""
    if unit == "percent":
        return lambda v: format_value(v, "percent", c.lang, _tick_places(v))
    return lambda v: format_number(v, c.lang, _tick_places(v))


def _trends(c: Ctx) -> str:
    r, _ = c.report, c._
    labels = [p.label for p in r.periods]
    figures = []
    for s in headline(r):
        if not any(v is not None for v in s.values):
            continue
        chart = svg.line_chart(labels, [svg.Line(s.label, s.values)], _trend_fmt(c, s.unit), title=s.label,
                               target=s.target, zero=s.unit == "count")
        cap = _unit_label(s.unit, c.lang)
        target = _target_text(c, s)
        if target:
            cap += " · " + target + " (" + _("dashed line") + ")"
        figures.append(f'<figure data-kpi="{esc(s.kpi)}"><h3>{esc(s.label)}</h3>{chart}'
                       f"<figcaption>{esc(cap)}</figcaption></figure>")
        if len(figures) == MAX_TRENDS:
            break
    if not figures:
        return ""
    heading = _("Trends")
    return (f'<section id="trends" class="break"><h2>{esc(heading)}</h2>'
            f'<div class="charts">{"".join(figures)}</div></section>')


def _series_table(c: Ctx, series: Iterable[Series], grouped: bool = True) -> str:
    """KPI rows x period columns, under a heading row per scorecard perspective (in the given order)."""
    r, _ = c.report, c._
    head = "".join(f'<th class="p">{period_head(p.label)}</th>' for p in r.periods)
    series = list(series)
    if grouped:  # one block per perspective, in order of first appearance; the order within is kept
        first = {}
        for s in series:
            first.setdefault(s.group, len(first))
        series.sort(key=lambda s: first[s.group])
    rows, group = [], None
    for s in series:
        if grouped and s.group != group:
            group = s.group
            name = _(GROUP[group]) if group in GROUP else text("family", s.family, "label", c.lang)
            rows.append(f'<tr class="fam"><th colspan="{len(r.periods) + 2}">{esc(name)}</th></tr>')
        cells = "".join(f"<td>{c.cell(v, s.unit)}</td>" for v in s.values)
        target = c.cell(s.target, s.unit) if s.target is not None else ""
        rows.append(f'<tr data-kpi="{esc(s.kpi)}"><td class="kpi">{esc(s.label)}'
                    f'<small>{esc(_unit_label(s.unit, c.lang))}</small></td><td class="tgt">{target}</td>'
                    f"{cells}</tr>")
    kpi, target = _("KPI"), _("Target")
    return (f'<div class="wide"><table><thead><tr><th>{esc(kpi)}</th><th class="tgt">{esc(target)}</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def _tracker(c: Ctx) -> str:
    r, _ = c.report, c._
    if not r.series:
        return ""
    heading = _("All KPIs by period")
    return (f'<section id="tracker" class="break"><h2>{esc(heading)}</h2>'
            f"{_series_table(c, r.series)}</section>")


def _volume_of(r: Report, dim: str) -> Volume | None:
    return next((v for v in r.volume if v.dim == dim), None)


def _ordered(vol: Volume) -> list[str]:
    return sorted(vol.counts, key=lambda k: (-sum(vol.counts[k]), str(k)))


def _legend(c: Ctx, names: list[str], colours: list[str], extra: str = "") -> str:
    items = "".join(f'<li><i style="background:{col}"></i>{esc(c.dim_value(n))}</li>' for n, col in zip(names, colours))
    return f'<ul class="legend">{items}{extra}</ul>'


def _volume(c: Ctx) -> str:
    r, _ = c.report, c._
    vol = _volume_of(r, "category")
    if vol is None or not vol.counts:
        return ""
    labels = [p.label for p in r.periods]
    names = _ordered(vol)
    drawn = names[:MAX_LINES]
    colours = [svg.PALETTE[i % len(svg.PALETTE)] for i in range(len(drawn))]
    marks: dict[str, set[int]] = {}
    for sp in vol.spikes:
        marks.setdefault(sp.value, set()).add(sp.period)
    lines = [svg.Line(c.dim_value(n), vol.counts[n], col, marks.get(n, set())) for n, col in zip(drawn, colours)]
    chart = svg.line_chart(labels, lines, lambda v: format_number(v, c.lang), title=_("Ticket volume by category"),
                           zero=True, width=900, height=260)
    spike, total, category = _("spike"), _("Total"), _("Category")
    ring = f'<li><i class="ring"></i>{esc(spike)}</li>' if vol.spikes else ""
    head = "".join(f'<th class="p">{period_head(p)}</th>' for p in labels)
    rows = []
    for n in names:
        cells = []
        for i, v in enumerate(vol.counts[n]):
            hit = i in marks.get(n, set())
            cls = ' class="spike"' if hit else ""
            cells.append(f"<td{cls}>{esc(format_number(v, c.lang))}</td>")
        rows.append(f'<tr><td>{esc(c.dim_value(n))}</td>{"".join(cells)}</tr>')
    totals = [sum(vol.counts[n][i] for n in names if i < len(vol.counts[n])) for i in range(len(labels))]
    rows.append(f'<tr class="total"><th>{esc(total)}</th>'
                + "".join(f"<th>{esc(format_number(t, c.lang))}</th>" for t in totals) + "</tr>")
    table = (f'<div class="wide"><table><thead><tr><th>{esc(category)}</th>{head}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div>')
    heading = _("Ticket volume by category")
    return (f'<section id="volume" class="break"><h2>{esc(heading)}</h2>'
            f'{_legend(c, drawn, colours, ring)}<figure>{chart}</figure>{table}{_spike_list(c, vol)}</section>')


def _spike_list(c: Ctx, vol: Volume) -> str:
    _ = c._
    if not vol.spikes:
        none = _("No volume spikes detected.")
        return f'<p class="muted">{esc(none)}</p>'
    items = []
    for sp in vol.spikes:
        period = c.report.periods[sp.period].label if 0 <= sp.period < len(c.report.periods) else str(sp.period)
        size = "∞" if sp.size is None or math.isinf(sp.size) else format_number(sp.size, c.lang, 1)
        items.append("<li>" + esc(_("{value} in {period}: {volume} tickets, {size}× the baseline of {baseline} "
                                    "(threshold {threshold})").format(
            value=c.dim_value(sp.value), period=period, volume=format_number(sp.volume, c.lang),
            size=size, baseline=format_number(sp.baseline, c.lang, 1),
            threshold=format_number(sp.threshold, c.lang, 1))) + "</li>")
    rule = _("A spike is a volume above the median of the preceding periods plus k times their median "
             "absolute deviation.")
    heading = _("Spikes")
    return (f'<h3>{esc(heading)}</h3><ul class="spikes">{"".join(items)}</ul>'
            f'<p class="muted">{esc(rule)}</p>')


def _channels(c: Ctx) -> str:
    r, _ = c.report, c._
    vol = _volume_of(r, "channel")
    if vol is None or not vol.counts:
        return ""
    labels = [p.label for p in r.periods]
    names = _ordered(vol)
    colours = [svg.PALETTE[i % len(svg.PALETTE)] for i in range(len(names))]
    n = len(labels)
    totals = [sum(vol.counts[k][i] for k in names if i < len(vol.counts[k])) for i in range(n)]
    shares = {k: [(vol.counts[k][i] / totals[i] * 100) if totals[i] else None for i in range(n)] for k in names}
    chart = svg.share_bars(labels, [(c.dim_value(k), shares[k]) for k in names], colours,
                           _trend_fmt(c, "percent"),
                           title=_("Share of tickets by channel"), width=900, height=240)
    grand = sum(totals)
    rows = []
    for k in names:
        all_share = sum(vol.counts[k]) / grand * 100 if grand else None
        rows.append(f"<tr><td>{esc(c.dim_value(k))}</td>"
                    f"<td>{esc(format_number(_last(vol.counts[k]), c.lang))}</td>"
                    f"<td>{c.cell(_last(shares[k]), 'percent')}</td>"
                    f"<td>{esc(format_number(sum(vol.counts[k]), c.lang))}</td>"
                    f"<td>{c.cell(all_share, 'percent')}</td></tr>")
    last = labels[-1] if labels else ""
    columns = [_("Channel"), _("Tickets, {period}").format(period=last), _("Share, {period}").format(period=last),
               _("Tickets, all periods"), _("Share, all periods")]
    head = "<tr>" + "".join(f"<th>{esc(col)}</th>" for col in columns) + "</tr>"
    heading, lead = _("Channel preference"), _("Share of tickets created in each period, by channel.")
    return (f'<section id="channels"><h2>{esc(heading)}</h2>'
            f'<p class="lead">{esc(lead)}</p>'
            f"{_legend(c, names, colours)}<figure>{chart}</figure>"
            f'<div class="wide"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'
            f'{_spike_list(c, vol) if vol.spikes else ""}</section>')


def _pivot(c: Ctx, groups: dict[str, list[Series]], title: str, anchor: str, new_page: bool) -> str:
    """Latest-period values, KPIs down and channels (or teams/agents) across, PIVOT_COLUMNS at a time."""
    r, _ = c.report, c._
    if not groups:
        return ""
    kpis: dict[str, Series] = {}
    for series in groups.values():
        for s in series:
            kpis.setdefault(s.kpi, s)
    table = {(g, s.kpi): _last(s.values) for g, series in groups.items() for s in series}
    names, kpi = list(groups), _("KPI")
    tables = []
    for i in range(0, len(names), PIVOT_COLUMNS):
        chunk = names[i:i + PIVOT_COLUMNS]
        head = "".join(f"<th>{esc(c.dim_value(g))}</th>" for g in chunk)
        body = "".join(f'<tr data-kpi="{esc(k)}"><td class="kpi">{esc(s.label)}'
                       f"<small>{esc(_unit_label(s.unit, c.lang))}</small></td>"
                       + "".join(f"<td>{c.cell(table.get((g, k)), s.unit)}</td>" for g in chunk)
                       + "</tr>" for k, s in kpis.items())
        tables.append(f'<div class="wide"><table class="pivot"><thead><tr><th>{esc(kpi)}</th>{head}</tr></thead>'
                      f"<tbody>{body}</tbody></table></div>")
    period = r.periods[-1].label if r.periods else ""
    lead = _("Values for {period}.").format(period=period)
    cls = ' class="break"' if new_page else ""
    return (f'<section id="{anchor}"{cls}><h2>{esc(title)}</h2>'
            f'<p class="lead">{esc(lead)}</p>{"".join(tables)}</section>')


def _sla(c: Ctx) -> str:
    if not c.report.sla:
        return ""
    heading = c._("Service level agreements")
    return (f'<section id="sla"><h2>{esc(heading)}</h2>'
            f"{_series_table(c, c.report.sla, grouped=False)}</section>")


def _definitions(c: Ctx) -> str:
    r, _ = c.report, c._
    seen, items, unit = set(), [], _("Unit")
    extra = [s for series in (*r.by_channel.values(), *r.by_agent.values()) for s in series]
    for s in [*r.series, *r.sla, *extra]:
        if s.kpi in seen:
            continue
        seen.add(s.kpi)
        direction = text("direction", s.direction, "label", c.lang)
        items.append(f'<dt id="def-{esc(s.kpi)}">{esc(s.label)}</dt><dd>{esc(s.definition)}'
                     f'<span class="formula">{esc(s.formula)}</span>'
                     f'<span class="unit">{esc(unit)}: {esc(_unit_label(s.unit, c.lang))} · '
                     f"{esc(direction)}</span></dd>")
    if not items:
        return ""
    heading = _("Definitions and formulas")
    return (f'<section id="definitions" class="break"><h2>{esc(heading)}</h2>'
            f'<dl class="defs">{"".join(items)}</dl></section>')


def _about(c: Ctx) -> str:
    r, _ = c.report, c._
    reach = []
    for table, moment in r.reach.items():
        name = _(TABLE[table]) if table in TABLE else table
        if moment is None:
            line = _("{table}: no data").format(table=name)
        else:
            line = _("{table}: complete through {instant}").format(table=name, instant=format_instant(moment, c.lang))
        reach.append(f"<li>{esc(line)}</li>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in r.notes)
    periods = r.periods
    period_note = ""
    if periods:
        if r.by == "week":
            note = _("Periods are ISO weeks (Monday first) in the {tz} time zone, from {start} to {end}.")
        else:
            note = _("Periods are calendar months in the {tz} time zone, from {start} to {end}.")
        period_note = note.format(tz=r.tz, start=format_date(periods[0].start, c.lang),
                                  end=format_date(periods[-1].end, c.lang))
    asof = _("Data recorded after {instant} UTC is left out, so rerunning the report with the same as-of "
             "instant gives the same numbers.").format(instant=format_instant(r.asof, c.lang))
    heading, dash = _("About the data"), _("A dash (—) means no data: the KPI had nothing to measure, which is not zero.")
    reach_heading, notes_heading = _("How far each table reaches (local time)"), _("Notes")
    return (f'<section id="about"><h2>{esc(heading)}</h2>'
            f"<p>{esc(period_note)}</p><p>{esc(asof)}</p><p>{esc(dash)}</p>"
            + (f'<h3>{esc(reach_heading)}</h3><ul class="reach">{"".join(reach)}</ul>' if reach else "")
            + (f'<h3>{esc(notes_heading)}</h3><ul class="reach">{notes}</ul>' if notes else "")
            + "</section>")


def render(report: Report) -> str:
    """The whole report as one HTML document (a str)."""
    lang = check_lang(report.lang)
    c = Ctx(report, lang, translator(lang))
    _ = c._
    title = _("Customer service report")
    if report.periods:
        title += " · " + report.periods[-1].label
    body = "".join([
        _header(c), _scorecard(c), _trends(c), _tracker(c), _volume(c), _channels(c),
        _pivot(c, report.by_channel, _("By channel"), "by-channel", new_page=True),
        _pivot(c, report.by_agent, _("By team and agent"), "by-agent", new_page=False),
        _sla(c), _definitions(c), _about(c),
    ])
    footer = _("Made with servicekpi {version}.").format(version=__version__)
    return (f'<!DOCTYPE html>\n<html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}"
            f"@page {{ @bottom-left {{ content: {css_string(title)}; }} }}</style></head>"
            f"<body><main>{body}<footer>{esc(footer)}</footer></main></body></html>\n")


def write(report: Report, path: str | Path) -> Path:
    """Write the HTML report to path (UTF-8)."""
    path = Path(path)
    path.write_text(render(report), encoding="utf-8")
    return path
