"""The report as an Excel workbook (xlsxwriter): native number formats, conditional formats,
small trend charts, line charts and live formulas, so it keeps working in Excel and LibreOffice.

Sheets: summary, tracker, ticket volume, formulas (definitions + calculator), by channel, by team
(with the last period's agent leaderboard under it) or agent (when agent data exists), SLA. Every sheet opens with the as-of instant, the time zone
and how far each table's data reaches."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from xlsxwriter.utility import xl_rowcol_to_cell

from servicekpi.analysis.scorecard import ARROW, word
from servicekpi.catalog import text
from servicekpi.report.document import Report, Series
from servicekpi.report.html import cause_text
from servicekpi.report.xlsx_agents import agent_board
from servicekpi.report.xlsx_book import (  # noqa: F401 - stored, number_format: the module's API
    SPIKE_FILL,
    TOL,
    Book,
    number_format,
    stored,
    width,
)
from servicekpi.report.xlsx_formulas import formulas


def write(report: Report, path: Path) -> None:
    """Write the report as an .xlsx workbook at `path`."""
    book = Book(report, Path(path))
    _ = book._
    summary_sheet(book)
    tracker(book, _("tracker"), report.series)
    volume(book)
    formulas(book)
    if report.by_channel:
        sliced(book, _("by channel"), _("channel"), report.by_channel, "channel")
    if report.by_agent:
        if report.agent_dim == "team":  # the teams, then the agents of the last period under them
            ws, row = sliced(book, _("by team"), _("team"), report.by_agent, "team")
            end = agent_board(book, ws, row + 1)
            width = max(6 + len(report.periods), 2 + 3 * len((report.agents or {}).get("columns", [])))
            ws.print_area(0, 0, end, width)
        else:
            sliced(book, _("by agent"), _("agent"), report.by_agent, "agent_id")
    if report.sla:
        tracker(book, _("SLA"), report.sla)
    book.wb.close()


# -- summary ------------------------------------------------------------------------------

def summary_sheet(book: Book) -> None:
    """The executive summary first: the biggest movers and the missed targets, in words, printed
    at a reading size (the data reach is on every other sheet)."""
    import math

    from servicekpi.report.summary import sentences
    _ = book._
    r = book.r
    ws = book.sheet(_("summary"))
    ws.write(0, 0, _("Summary"), book.title)
    ws.write(1, 0, _("As of {asof} UTC · time zone {tz} · periods by {by}").format(
        asof=f"{r.asof:%Y-%m-%d %H:%M}", tz=r.tz, by=_("month") if r.by == "month" else _("week")), book.note)
    text = book.wb.add_format({"text_wrap": True, "valign": "top", "font_size": 12, **book.font})
    row = 3
    for line in sentences(r, _) or [_("No period with data to summarise.")]:
        ws.write(row, 0, "• " + line, text)
        ws.set_row(row, 17 * math.ceil(width(line) / 110) + 4)
        row += 1
    ws.set_column(0, 0, 125)
    ws.print_area(0, 0, row, 0)


# -- tracker ------------------------------------------------------------------------------

def _table_header(book: Book, ws, row: int, first: list[str]) -> int:
    """Column headings: the given ones, one per period, trend; returns the first period column."""
    _ = book._
    for c, h in enumerate(first):
        ws.write(row, c, h, book.head)
    col = len(first)
    for i, p in enumerate(book.r.periods):
        partial = book.r.partial[i] if i < len(book.r.partial) else False
        ws.write(row, col + i, p.label + (" *" if partial else ""), book.head)
    if max([width(p.label) for p in book.r.periods] + [0]) > 10:  # "Săptămâna 33, 2026" wraps
        ws.set_row(row, 30)
    ws.write(row, col + len(book.r.periods), _("trend"), book.head)
    ws.write(row, col + len(book.r.periods) + 1, _("KPI id"), book.head)
    return col


def _rows(book: Book, ws, row: int, series: list[Series], lead: Callable[[Series], list]) -> int:
    """KPI rows: lead cells, target and band, one value per period, sparkline, KPI id.

    Status colouring: conditional formats comparing each value with the row's target cell, so
    editing a target in Excel recolours the row. Returns the row after the last."""
    n = len(book.r.periods)
    for s in series:
        cells = lead(s)
        for c, v in enumerate(cells):
            ws.write(row, c, v, book.plain)
        fmt = book.num(number_format(s.unit, [*s.values, s.target], book.r.lang, book.r.currency))
        tcol = len(cells)
        ws.write(row, tcol, stored(s.target, s.unit), fmt)
        ws.write(row, tcol + 1, stored(s.at_risk, s.unit), fmt)
        c0 = tcol + 2
        for i, v in enumerate(s.values):
            ws.write(row, c0 + i, stored(v, s.unit), fmt)
        if sum(v is not None for v in s.values) > 1:
            trend_chart(book, ws, row, c0, n)
        ws.write(row, c0 + n + 1, s.kpi, book.small)
        if s.target is not None and s.direction in ("higher", "lower"):
            _status_formats(book, ws, row, c0, n, tcol, s.direction)
        row += 1
    return row


def trend_chart(book: Book, ws, row: int, c0: int, n: int) -> None:
    """A small line chart over the row's period cells, in the trend column: drawn by Excel and by
    LibreOffice alike (LibreOffice 7.4 draws only the markers of an Excel line sparkline). Gaps
    stay gaps (no data is not 0); the chart moves and sizes with its cell."""
    chart = book.wb.add_chart({"type": "line"})
    chart.add_series({"values": [ws.name, row, c0, row, c0 + n - 1], "line": {"color": "#1F4E79", "width": 1.25},
                      "marker": {"type": "none"}})
    chart.set_legend({"none": True})
    chart.set_title({"none": True})
    for axis in (chart.set_x_axis, chart.set_y_axis):
        axis({"visible": False, "major_gridlines": {"visible": False}})
    chart.set_chartarea({"border": {"none": True}, "fill": {"none": True}})
    chart.set_plotarea({"border": {"none": True}, "fill": {"none": True},
                        "layout": {"x": 0.03, "y": 0.08, "width": 0.94, "height": 0.84}})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 112, "height": 19})
    ws.insert_chart(row, c0 + n, chart, {"x_offset": 2, "y_offset": 1, "object_position": 1})


def _status_formats(book: Book, ws, row: int, c0: int, n: int, tcol: int, direction: str) -> None:
    cell = xl_rowcol_to_cell(row, c0)  # relative: the rule is written for the first cell
    t = xl_rowcol_to_cell(row, tcol, row_abs=False, col_abs=True)
    band = xl_rowcol_to_cell(row, tcol + 1, row_abs=False, col_abs=True)
    tol = TOL.format(t=t)
    rng = (row, c0, row, c0 + n - 1)
    if direction == "higher":
        met = f"AND(ISNUMBER({cell}),{cell}>={t}-{tol})"
        risk = f"AND(ISNUMBER({cell}),{cell}>={t}-{band}-{tol})"
    else:
        met = f"AND(ISNUMBER({cell}),{cell}<={t}+{tol})"
        risk = f"AND(ISNUMBER({cell}),{cell}<={t}+{band}+{tol})"
    ws.conditional_format(*rng, {"type": "formula", "criteria": "=" + met, "format": book.fills["met"],
                                 "stop_if_true": True})
    ws.conditional_format(*rng, {"type": "formula", "criteria": "=" + risk, "format": book.fills["at_risk"],
                                 "stop_if_true": True})
    ws.conditional_format(*rng, {"type": "formula", "criteria": f"=ISNUMBER({cell})",
                                 "format": book.fills["missed"]})


def tracker(book: Book, name: str, series: list[Series]) -> None:
    """One row per KPI with data, one column per period."""
    _ = book._
    lang = book.r.lang
    ws = book.sheet(name)
    row = book.header(ws, name if name != _("tracker") else _("KPI tracker"))
    heads = [_("KPI"), _("group"), _("unit"), _("direction"), _("target"), _("at-risk band")]
    c0 = _table_header(book, ws, row, heads)
    head_row = row
    row += 1
    end = _rows(book, ws, row, series, lambda s: [
        s.label, word(s.group, lang), book.unit(s.unit),
        f"{ARROW[s.direction]} {text('direction', s.direction, 'label', lang)}"])
    ws.freeze_panes(head_row + 1, 1)
    ws.repeat_rows(head_row)
    ws.print_area(0, 0, max(end, head_row) + 3, c0 + len(book.r.periods))  # the KPI id column is not printed
    _widths(ws, [[s.label for s in series] + [heads[0]], [word(s.group, lang) for s in series] + [heads[1]],
                 [book.unit(s.unit) for s in series],
                 [f"{ARROW[s.direction]} {text('direction', s.direction, 'label', lang)}" for s in series]],
            cap=[40, 16, 26, 24])
    ws.set_column(4, 5, 13)
    ws.set_column(c0, c0 + len(book.r.periods) - 1, 13)  # "22 hr 41 min" fits
    ws.set_column(c0 + len(book.r.periods), c0 + len(book.r.periods), 16)
    ws.set_column(c0 + len(book.r.periods) + 1, c0 + len(book.r.periods) + 1, 22)
    _legend(book, ws, end + 1)


def _legend(book: Book, ws, row: int) -> int:
    _ = book._
    lang = book.r.lang
    ws.write(row, 0, _("Status against the target:"), book.bold)
    for i, key in enumerate(("met", "at_risk", "missed")):
        ws.write(row, 1 + i, word(key, lang), book.fills[key])
    row += 1
    if any(book.r.partial):
        ws.write(row, 0, _("* the period is cut by the report's range (partial)"), book.note)
        row += 1
    for note in book.r.notes:
        ws.write(row, 0, note, book.note)
        row += 1
    return row


def _widths(ws, columns: list[list[str]], cap: list[int]) -> None:
    for c, texts in enumerate(columns):
        w = max([width(t) for t in texts] + [8])
        ws.set_column(c, c, min(w + 2, cap[c]))


# -- by channel / by team ---------------------------------------------------------------------

def sliced(book: Book, name: str, dim_word: str, groups: dict[str, list[Series]], dim: str | None = None):
    """The tracker once per dimension value (a channel, a team), one block under the other."""
    _ = book._
    ws = book.sheet(name)
    row = book.header(ws, name)
    heads = [dim_word, _("KPI"), _("unit"), _("direction"), _("target"), _("at-risk band")]
    c0 = _table_header(book, ws, row, heads)
    ws.freeze_panes(row + 1, 2)
    ws.repeat_rows(row)
    row += 1
    labels = []
    for value, series in groups.items():
        row = _rows(book, ws, row, series, lambda s, v=value: [
            book.label(v, dim), s.label, book.unit(s.unit), ARROW[s.direction]])
        labels += [s.label for s in series]
        row += 1  # a blank row between values
    units = [book.unit(s.unit) for series in groups.values() for s in series]
    _widths(ws, [[book.label(v, dim) for v in groups] + [dim_word], labels + [heads[1]], units + [heads[2]],
                 [heads[3]]], cap=[30, 40, 26, 10])
    ws.print_area(0, 0, row + 3, c0 + len(book.r.periods))  # the KPI id column is not printed
    ws.set_column(4, c0 + len(book.r.periods) - 1, 13)
    ws.set_column(c0 + len(book.r.periods), c0 + len(book.r.periods), 16)
    ws.set_column(c0 + len(book.r.periods) + 1, c0 + len(book.r.periods) + 1, 22)
    return ws, _legend(book, ws, row)


# -- ticket volume ----------------------------------------------------------------------------

def volume(book: Book) -> None:
    """Volume by category and by channel per period, each with a line chart; spikes highlighted
    and listed underneath."""
    _ = book._
    r = book.r
    ws = book.sheet(_("ticket volume"))
    row = book.header(ws, _("Ticket volume"))
    n = len(r.periods)
    count = book.num("#,##0")
    spike = book.num("#,##0", bold=True, bg_color=SPIKE_FILL, border=1)
    dim_words = {"category": _("category"), "channel": _("channel")}
    longest = [width(_("Ticket volume"))]
    breaks = []
    for v in r.volume:
        if v is not r.volume[0]:
            breaks.append(row)  # each table and its chart on a page of their own
        title = _("Tickets by category") if v.dim == "category" else _("Tickets by channel")
        ws.write(row, 0, title, book.bold)
        row += 1
        head = row
        ws.write(row, 0, dim_words.get(v.dim, v.dim), book.head)
        for i, p in enumerate(r.periods):
            ws.write(row, 1 + i, p.label, book.head)
        if max([width(p.label) for p in r.periods] + [0]) > 12:
            ws.set_row(row, 30)
        ws.write(row, 1 + n, _("total"), book.head)
        row += 1
        flagged = {(s.value, s.period) for s in v.spikes}
        first = row
        for value, counts in v.counts.items():
            ws.write(row, 0, book.label(value, v.dim), book.plain)
            longest.append(width(book.label(value, v.dim)))
            for i, c in enumerate(counts):
                ws.write(row, 1 + i, c, spike if (value, i) in flagged else count)
            ws.write_formula(row, 1 + n, f"=SUM({xl_rowcol_to_cell(row, 1)}:{xl_rowcol_to_cell(row, n)})", count,
                             sum(counts))
            row += 1
        if v.counts:
            chart = book.wb.add_chart({"type": "line"})
            for rr in range(first, row):
                chart.add_series({"name": [ws.name, rr, 0], "categories": [ws.name, head, 1, head, n],
                                  "values": [ws.name, rr, 1, rr, n], "marker": {"type": "circle", "size": 4}})
            chart.set_title({"name": title, "name_font": {"size": 11}})
            top = max([c for counts in v.counts.values() for c in counts] + [0])
            # whole tickets: no data or only zeros give a 0..1 axis, never -1..1 or 0.5 steps
            chart.set_y_axis({"name": _("tickets"), "num_format": "#,##0", "min": 0,
                              **({"max": 1, "major_unit": 1} if top == 0 else
                                 {"major_unit": 1} if top < 5 else {})})
            chart.set_legend({"position": "right"})
            chart.set_size({"width": 860, "height": 300})
            row += 1
            ws.insert_chart(row, 0, chart)
            row += 16
        row += 1
    # the spike list, on a new page
    breaks.append(row)
    ws.set_h_pagebreaks(breaks)
    ws.write(row, 0, _("Spikes: volume above the median + {k} × MAD of the {window} periods before").format(
        k=f"{r.spike_k:g}", window=r.spike_window), book.bold)
    row += 1
    heads = [_("dimension"), _("value"), _("period"), _("volume"), _("baseline (median)"), _("threshold"),
             _("size (× baseline)"), _("What grew")]
    last = max(n + 1, len(heads) - 1)  # "What grew" spans the columns to the table's right edge
    for c, h in enumerate(heads[:-1]):
        ws.write(row, c, h, book.head)
    ws.merge_range(row, 7, row, last, heads[-1], book.head)
    spike_head = row
    row += 1
    found = sorted((s for v in r.volume for s in v.spikes), key=lambda s: (s.dim, s.period, -s.size, s.value))
    for s in found:
        ws.write(row, 0, dim_words.get(s.dim, s.dim), book.plain)  # top-aligned beside the wrapped text
        ws.write(row, 1, book.label(s.value, s.dim), book.plain)
        ws.write(row, 2, r.periods[s.period].label, book.plain)
        ws.write(row, 3, s.volume, book.num("#,##0", valign="top"))
        ws.write(row, 4, s.baseline, book.num("#,##0.0", valign="top"))
        ws.write(row, 5, s.threshold, book.num("#,##0.0", valign="top"))
        ws.write(row, 6, s.size if s.size != float("inf") else None, book.num('0.00"×"', valign="top"))
        grew = cause_text(_, r.lang, s.causes, lambda x: book.label(x, None))
        ws.merge_range(row, 7, row, last, grew, book.wrap)
        # wrapped within the print width (LibreOffice and Excel do not grow merged rows on open)
        ws.set_row(row, 15 * (int(width(grew) / (13 * (last - 6))) + 1))
        row += 1
    ws.set_row(spike_head, 30)
    if not found:
        ws.write(row, 0, _("no spikes"), book.note)
    ws.set_column(0, 0, min(max(longest + [14]) + 2, 34))
    ws.set_column(1, n + 1, 13)
    ws.print_area(0, 0, row + 1, last)  # the page is as wide as the tables, not as the longest text
