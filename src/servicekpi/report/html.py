"""The report as one self-contained, printable HTML file (inline CSS and SVG, no requests).

`render(report) -> str` and `write(report, path)`. The PDF (report/pdf.py) prints this
same HTML through headless Chromium. Interface strings are gettext messages (i18n.py);
KPI labels, definitions and formulas are the catalog texts carried by the Report's
series; numbers, dates and period names are CLDR formats for the report's language.
Every piece of text is escaped; a None value is shown as the no-data dash, never as 0.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable, Iterable

from servicekpi import __version__
from servicekpi.catalog import text
from servicekpi.core import display
from servicekpi.report import svg
from servicekpi.report.document import Report, Series, Volume
from servicekpi.report.html_agents import agents
from servicekpi.report.html_base import (  # noqa: F401 - HTML_LANG, css_string, period_head: the module's API
    DIM,
    GROUP,
    HEADLINE,
    HTML_LANG,
    MAX_CARDS,
    STATUS,
    TABLE,
    Ctx,
    change_class,
    css_string,
    esc,
    headline,
    last_value,
    nodata,
    period_head,
    prev_value,
    status_of,
    target_text,
    val_html,
)
from servicekpi.report.i18n import (
    NO_DATA,
    check_lang,
    format_change,
    format_date,
    format_instant,
    format_number,
    format_value,
    translator,
)
from servicekpi.report.summary import sentences

MAX_TRENDS = 8
MAX_LINES = 8  # categories drawn in the volume chart (the largest; all are in the table)
PIVOT_COLUMNS = 8  # channels or teams/agents per by-channel/by-agent table (A4 width)
CSS = (Path(__file__).parent / "report.css").read_text(encoding="utf-8")  # package data


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


def _summary(c: Ctx) -> str:
    """The executive summary: the biggest movers and the missed targets, in words."""
    lines = sentences(c.report, c._)
    if not lines:
        return ""
    heading = c._("Summary")
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return f'<section id="summary"><h2>{esc(heading)}</h2><ul class="summary">{items}</ul></section>'


def _scorecard(c: Ctx) -> str:
    r, _ = c.report, c._
    series = headline(r)
    if not series:
        return ""
    cards, versus = [], _("vs {period}")
    for s in series:
        st = status_of(s)
        cur, prev = last_value(s.values), prev_value(s.values)
        change = format_change(cur, prev, s.unit, c.lang, c.report.currency)
        prev_label = r.periods[-2].label if len(r.periods) > 1 else ""
        target = target_text(c, s)
        target_html = f'<div class="t nw">{esc(target)}</div>' if target else ""
        cards.append(
            f'<div class="card st-{esc(st)}" data-kpi="{esc(s.kpi)}">'
            f'<div class="k">{esc(s.label)}</div>'
            f'<div class="v">{val_html(c, cur, s.unit)}</div>'
            f'<div class="t"><span class="badge st-{esc(st)}">{esc(_(STATUS.get(st, st)))}</span></div>'
            f"{target_html}"
            + (f'<div class="c"><span class="{change_class(s)}">{esc(change)}</span> '
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
    """Axis ticks: round numbers without padding decimals; durations in their axis unit (axis_scale)."""
    if unit == "percent":
        return lambda v: format_value(v, "percent", c.lang, _tick_places(v))
    if unit in display.SECONDS:
        return lambda v: format_value(v, unit, c.lang, _tick_places(v))
    return lambda v: format_number(v, c.lang, _tick_places(v))


def axis_scale(values: list, unit: str) -> tuple[str, float]:
    """The unit a duration chart's axis counts in (hours for FRT in the hundreds of minutes) and the
    factor from the KPI's unit to it; other units are drawn as they are."""
    if unit not in display.SECONDS:
        return unit, 1.0
    top = max([abs(v) for v in values if v is not None and math.isfinite(v)] + [0.0]) * display.SECONDS[unit]
    to = "hours" if top >= 2 * 3600 else ("minutes" if top >= 120 else "seconds")
    return to, display.SECONDS[unit] / display.SECONDS[to]


# the natural floor of a score-like axis; an axis is cut (starts higher) when the data sit far above it
NATURAL_FLOOR = {"percent": 0.0, "score": 0.0, "points": 0.0, "ratio": 0.0}


def axis_floor(values: list, unit: str) -> float | None:
    """Where a score KPI's y axis starts: its natural floor (0) unless the values all sit in the top
    half above it; then a round value under the lowest, and the chart says the axis is cut."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if unit not in NATURAL_FLOOR or not vals or min(vals) < 0:
        return None
    nat, lo, hi = NATURAL_FLOOR[unit], min(vals), max(vals)
    if lo - nat <= 0.5 * (hi - nat):
        return nat
    ticks = svg.nice_ticks(lo, hi)
    return max(t for t in ticks if t <= lo)


def _trends(c: Ctx) -> str:
    r, _ = c.report, c._
    labels = [p.label for p in r.periods]
    figures = []
    for s in headline(r):
        if not any(v is not None for v in s.values):
            continue
        unit, k = axis_scale(s.values + [s.target], s.unit)
        values = [None if v is None else v * k for v in s.values]
        target = None if s.target is None else s.target * k
        floor = axis_floor(values + ([target] if target is not None else []), unit)
        chart = svg.line_chart(labels, [svg.Line(s.label, values)], _trend_fmt(c, unit), title=s.label,
                               target=target, zero=unit in display.SECONDS, counts=unit == "count",
                               floor=floor)
        cap = c.unit(s.unit)
        goal = target_text(c, s)
        if goal:
            cap += " · " + goal + " (" + _("dashed line") + ")"
        if floor:
            cap += " · " + _("the axis starts at {value}, not at zero").format(value=_trend_fmt(c, unit)(floor))
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
                    f'<small>{esc(c.unit(s.unit))}</small></td><td class="tgt">{target}</td>'
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


def _legend(c: Ctx, names: list[str], colours: list[str], dim: str, extra: str = "") -> str:
    items = "".join(f'<li><i style="background:{col}"></i>{esc(c.dim_value(n, dim))}</li>'
                    for n, col in zip(names, colours))
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
    lines = [svg.Line(c.dim_value(n, "category"), vol.counts[n], col, marks.get(n, set())) for n, col in zip(drawn, colours)]
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
        rows.append(f'<tr><td>{esc(c.dim_value(n, "category"))}</td>{"".join(cells)}</tr>')
    totals = [sum(vol.counts[n][i] for n in names if i < len(vol.counts[n])) for i in range(len(labels))]
    rows.append(f'<tr class="total"><th>{esc(total)}</th>'
                + "".join(f"<th>{esc(format_number(t, c.lang))}</th>" for t in totals) + "</tr>")
    table = (f'<div class="wide"><table><thead><tr><th>{esc(category)}</th>{head}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table></div>')
    heading = _("Ticket volume by category")
    return (f'<section id="volume" class="break"><h2>{esc(heading)}</h2>'
            f'{_legend(c, drawn, colours, "category", ring)}<figure>{chart}</figure>{table}{_spike_list(c, vol)}</section>')


def cause_text(_, lang: str, causes, value=str) -> str:
    """spike_causes.summary in the report's language."""
    from servicekpi.analysis.spike_causes import summary
    labels = {"category": _("category"), "channel": _("channel"), "words": _("words")}
    return summary(causes, labels, _("{value} {share} (was {baseline}, {count} of {total})"), value,
                   lambda x: format_number(x, lang, 0 if float(x).is_integer() else 1))


def _causes(c: Ctx, sp) -> str:
    """What grew in the spike, on its own line."""
    text, label = cause_text(c._, c.lang, sp.causes, c.dim_value), c._("What grew")
    return f'<br><span class="muted">{esc(label)}: {esc(text)}</span>' if text else ""


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
            value=c.dim_value(sp.value, sp.dim), period=period, volume=format_number(sp.volume, c.lang),
            size=size, baseline=format_number(sp.baseline, c.lang, 1),
            threshold=format_number(sp.threshold, c.lang, 1))) + _causes(c, sp) + "</li>")
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
    chart = svg.share_bars(labels, [(c.dim_value(k, "channel"), shares[k]) for k in names], colours,
                           _trend_fmt(c, "percent"),
                           title=_("Share of tickets by channel"), width=900, height=240)
    grand = sum(totals)
    rows = []
    for k in names:
        all_share = sum(vol.counts[k]) / grand * 100 if grand else None
        rows.append(f"<tr><td>{esc(c.dim_value(k, 'channel'))}</td>"
                    f"<td>{esc(format_number(last_value(vol.counts[k]), c.lang))}</td>"
                    f"<td>{c.cell(last_value(shares[k]), 'percent')}</td>"
                    f"<td>{esc(format_number(sum(vol.counts[k]), c.lang))}</td>"
                    f"<td>{c.cell(all_share, 'percent')}</td></tr>")
    last = labels[-1] if labels else ""
    columns = [_("Channel"), _("Tickets, {period}").format(period=last), _("Share, {period}").format(period=last),
               _("Tickets, all periods"), _("Share, all periods")]
    head = "<tr>" + "".join(f"<th>{esc(col)}</th>" for col in columns) + "</tr>"
    heading, lead = _("Channel preference"), _("Share of tickets created in each period, by channel.")
    return (f'<section id="channels"><h2>{esc(heading)}</h2>'
            f'<p class="lead">{esc(lead)}</p>'
            f"{_legend(c, names, colours, 'channel')}<figure>{chart}</figure>"
            f'<div class="wide"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'
            f'{_spike_list(c, vol) if vol.spikes else ""}</section>')


def _pivot(c: Ctx, groups: dict[str, list[Series]], title: str, anchor: str, new_page: bool,
           dim: str | None = None) -> str:
    """Latest-period values, KPIs down and channels (or teams/agents) across, in tables of even
    width (9 columns make 5 + 4, so a lone "(not set)" never gets a table of its own); a KPI with
    no value in a table's columns is left out of that table."""
    r, _ = c.report, c._
    if not groups:
        return ""
    kpis: dict[str, Series] = {}
    for series in groups.values():
        for s in series:
            kpis.setdefault(s.kpi, s)
    table = {(g, s.kpi): last_value(s.values) for g, series in groups.items() for s in series}
    names, kpi = list(groups), _("KPI")
    size = math.ceil(len(names) / math.ceil(len(names) / PIVOT_COLUMNS))
    tables = []
    for i in range(0, len(names), size):
        chunk = names[i:i + size]
        head = "".join(f"<th>{esc(c.dim_value(g, dim))}</th>" for g in chunk)
        body = "".join(f'<tr data-kpi="{esc(k)}"><td class="kpi">{esc(s.label)}'
                       f"<small>{esc(c.unit(s.unit))}</small></td>"
                       + "".join(f"<td>{c.cell(table.get((g, k)), s.unit)}</td>" for g in chunk)
                       + "</tr>" for k, s in kpis.items() if any(table.get((g, k)) is not None for g in chunk))
        if body:
            tables.append(f'<div class="wide"><table class="pivot"><thead><tr><th>{esc(kpi)}</th>{head}</tr>'
                          f"</thead><tbody>{body}</tbody></table></div>")
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
                     f'<span class="unit">{esc(unit)}: {esc(c.unit(s.unit))} · '
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
        _header(c), _summary(c), _scorecard(c), _trends(c), _tracker(c), _volume(c), _channels(c),
        _pivot(c, report.by_channel, _("By channel"), "by-channel", new_page=True, dim="channel"),
        _pivot(c, report.by_agent, _("By team and agent"), "by-agent", new_page=False, dim=report.agent_dim),
        agents(c),
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
