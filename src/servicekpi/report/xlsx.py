"""The report as an Excel workbook (xlsxwriter): native number formats, conditional formats,
sparklines, line charts and live formulas, so it keeps working in Excel and LibreOffice.

Sheets: tracker, ticket volume, formulas (definitions + calculator), by channel, by team or
agent (when agent data exists), SLA (when policies exist). Every sheet opens with the as-of
instant, the time zone and how far each table's data reaches."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Callable

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from servicekpi.analysis.scorecard import ARROW, word
from servicekpi.catalog import text
from servicekpi.report.document import Report, Series

# how each catalog unit is stored and shown: percentages as fractions with a % format
NUMBER_FORMAT = {
    "percent": "0.0%", "points": "0.0", "count": "#,##0", "seconds": '#,##0.0" s"',
    "minutes": '#,##0.0" min"', "hours": '#,##0.0" h"', "days": '#,##0.0" d"', "score": "0.00",
    "ratio": "0.00", "currency": "#,##0.00", "tickets_per_day": "#,##0.0",
}
# Simplified Chinese glyph forms (a font-fallback picks the Japanese forms of shared ideographs);
# Excel without the font substitutes its own CJK font. Other languages keep the default.
FONT = {"zh": "Noto Sans CJK SC"}
GREEN, AMBER, RED = "#C6EFCE", "#FFEB9C", "#FFC7CE"
SPIKE_FILL = "#F4B183"
TOL = "1E-9*MAX(1,ABS({t}))"  # the same relative tolerance as targets.status


def translator(lang: str) -> Callable[[str], str]:
    """i18n.translator (gettext) when the i18n layer is there, else English."""
    try:
        from servicekpi.report.i18n import translator as tr
    except ImportError:
        return lambda s: s
    return tr(lang)


def stored(value, unit: str):
    """The cell value of a KPI value: percentages as fractions (shown with a % format)."""
    if value is None:
        return None
    return value / 100 if unit == "percent" else value


def number_format(unit: str, values=()) -> str:
    if unit == "count" and any(v is not None and float(v) != int(v) for v in values):
        return "#,##0.00"  # a mean of counts (interactions per ticket)
    return NUMBER_FORMAT.get(unit, "0.00")


def width(s: str) -> float:
    """Display width of a text: East Asian wide characters count 2, combining marks 0."""
    w = 0.0
    for ch in str(s):
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique sheet name (31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "sheet"
    out, i = base, 2
    while out.lower() in used:
        out = f"{base[:28]} {i}"
        i += 1
    used.add(out.lower())
    return out


class Book:
    """The workbook, its shared formats and the header every sheet starts with."""

    def __init__(self, report: Report, path: Path):
        self.r = report
        self._ = translator(report.lang)
        font = {"font_name": FONT[report.lang]} if report.lang in FONT else {}
        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "default_format_properties": font})
        # the as-of instant, not the wall clock: the same --as-of writes the same workbook
        self.wb.set_properties({"title": self._("Customer service report"), "created": report.asof,
                                "comments": "servicekpi"})
        self.used: set[str] = set()
        f = self.wb.add_format
        self.title = f({"bold": True, "font_size": 14})
        self.note = f({"italic": True, "font_color": "#555555"})
        self.aside = f({"italic": True, "font_color": "#555555", "indent": 1})
        self.head = f({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        self.bold = f({"bold": True})
        self.wrap = f({"text_wrap": True, "valign": "top"})
        self.plain = f({"valign": "top"})
        self.small = f({"font_color": "#888888", "font_size": 8})
        self.input = f({"bg_color": "#FFF2CC", "border": 1})
        self.fills = {k: f({"bg_color": c}) for k, c in (("met", GREEN), ("at_risk", AMBER), ("missed", RED))}
        self._num: dict[tuple, object] = {}

    def num(self, fmt: str, **extra):
        key = (fmt, tuple(sorted(extra.items())))
        if key not in self._num:
            self._num[key] = self.wb.add_format({"num_format": fmt, **extra})
        return self._num[key]

    def sheet(self, name: str, landscape: bool = True):
        ws = self.wb.add_worksheet(sheet_name(name, self.used))
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        return ws

    def header(self, ws, title: str) -> int:
        """Title, as-of instant and zone, and each table's reach; returns the next free row."""
        _ = self._
        r = self.r
        ws.write(0, 0, title, self.title)
        ws.write(1, 0, _("As of {asof} UTC · time zone {tz} · periods by {by}").format(
            asof=f"{r.asof:%Y-%m-%d %H:%M}", tz=r.tz, by=_("month") if r.by == "month" else _("week")), self.note)
        parts = [(_("{table}: no data").format(table=t) if at is None else
                  _("{table} complete through {time}").format(table=t, time=f"{at:%Y-%m-%d %H:%M}"))
                 for t, at in r.reach.items()]
        row = 2
        for i in range(0, len(parts), 4):
            lead = _("Data reach (local time):") + " " if i == 0 else ""
            ws.write(row, 0, lead + " · ".join(parts[i:i + 4]), self.note)
            row += 1
        return row + 1


def write(report: Report, path: Path) -> None:
    """Write the report as an .xlsx workbook at `path`."""
    book = Book(report, Path(path))
    _ = book._
    tracker(book, _("tracker"), report.series)
    volume(book)
    formulas(book)
    if report.by_channel:
        sliced(book, _("by channel"), _("channel"), report.by_channel)
    if report.by_agent:
        if report.agent_dim == "team":
            sliced(book, _("by team"), _("team"), report.by_agent)
        else:
            sliced(book, _("by agent"), _("agent"), report.by_agent)
    if report.sla:
        tracker(book, _("SLA"), report.sla)
    book.wb.close()


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
        fmt = book.num(number_format(s.unit, s.values))
        tcol = len(cells)
        ws.write(row, tcol, stored(s.target, s.unit), fmt)
        ws.write(row, tcol + 1, stored(s.at_risk, s.unit), fmt)
        c0 = tcol + 2
        for i, v in enumerate(s.values):
            ws.write(row, c0 + i, stored(v, s.unit), fmt)
        first, last = xl_rowcol_to_cell(row, c0), xl_rowcol_to_cell(row, c0 + n - 1)
        # explicit RGB colours: LibreOffice does not resolve the theme colours xlsxwriter writes by default
        ws.add_sparkline(row, c0 + n, {"range": f"{first}:{last}", "high_point": True, "low_point": True,
                                       "weight": 1.25, "series_color": "#1F4E79", "high_color": "#2E7D32",
                                       "low_color": "#C62828"})
        ws.write(row, c0 + n + 1, s.kpi, book.small)
        if s.target is not None and s.direction in ("higher", "lower"):
            _status_formats(book, ws, row, c0, n, tcol, s.direction)
        row += 1
    return row


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
        s.label, word(s.group, lang), text("unit", s.unit, "label", lang),
        f"{ARROW[s.direction]} {text('direction', s.direction, 'label', lang)}"])
    ws.freeze_panes(head_row + 1, 1)
    ws.repeat_rows(head_row)
    ws.print_area(0, 0, max(end, head_row) + 3, c0 + len(book.r.periods))  # the KPI id column is not printed
    _widths(ws, [[s.label for s in series] + [heads[0]], [word(s.group, lang) for s in series] + [heads[1]],
                 [text("unit", s.unit, "label", lang) for s in series],
                 [f"{ARROW[s.direction]} {text('direction', s.direction, 'label', lang)}" for s in series]],
            cap=[40, 16, 14, 24])
    ws.set_column(4, 5, 11)
    ws.set_column(c0, c0 + len(book.r.periods) - 1, 11)
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

def sliced(book: Book, name: str, dim_word: str, groups: dict[str, list[Series]]) -> None:
    """The tracker once per dimension value (a channel, a team), one block under the other."""
    _ = book._
    lang = book.r.lang
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
            v, s.label, text("unit", s.unit, "label", lang), ARROW[s.direction]])
        labels += [s.label for s in series]
        row += 1  # a blank row between values
    units = [text("unit", s.unit, "label", lang) for series in groups.values() for s in series]
    _widths(ws, [list(groups) + [dim_word], labels + [heads[1]], units + [heads[2]], [heads[3]]], cap=[16, 40, 14, 10])
    ws.print_area(0, 0, row + 3, c0 + len(book.r.periods))  # the KPI id column is not printed
    ws.set_column(4, c0 + len(book.r.periods) - 1, 11)
    ws.set_column(c0 + len(book.r.periods), c0 + len(book.r.periods), 16)
    ws.set_column(c0 + len(book.r.periods) + 1, c0 + len(book.r.periods) + 1, 22)
    _legend(book, ws, row)


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
            ws.write(row, 0, value, book.plain)
            longest.append(width(value))
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
            chart.set_y_axis({"name": _("tickets"), "num_format": "#,##0", "min": 0})
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
             _("size (× baseline)")]
    for c, h in enumerate(heads):
        ws.write(row, c, h, book.head)
    spike_head = row
    row += 1
    found = sorted((s for v in r.volume for s in v.spikes), key=lambda s: (s.dim, s.period, -s.size, s.value))
    for s in found:
        ws.write(row, 0, dim_words.get(s.dim, s.dim))
        ws.write(row, 1, s.value)
        ws.write(row, 2, r.periods[s.period].label)
        ws.write(row, 3, s.volume, count)
        ws.write(row, 4, s.baseline, book.num("#,##0.0"))
        ws.write(row, 5, s.threshold, book.num("#,##0.0"))
        ws.write(row, 6, s.size if s.size != float("inf") else None, book.num('0.00"×"'))
        row += 1
    ws.set_row(spike_head, 30)
    if not found:
        ws.write(row, 0, _("no spikes"), book.note)
    ws.set_column(0, 0, min(max(longest + [14]) + 2, 26))
    ws.set_column(1, n + 1, 13)


# -- formulas and the calculator -------------------------------------------------------------

def calculators(_: Callable[[str], str]) -> list[dict]:
    """The live calculator: inputs (name, label, example value) and an Excel formula over them.

    Input names are the `servicekpi calc` argument names, so a test can run the catalog's own
    formula on the same inputs. Example values are spec/kpis.md's worked examples."""
    return [
        dict(kpi="nps", unit="points", inputs=[("promoters", _("Promoters (9-10)"), 50),
                                                ("passives", _("Passives (7-8)"), 40),
                                                ("detractors", _("Detractors (0-6)"), 10)],
             formula='=IF({promoters}+{passives}+{detractors}=0,"",'
                     '({promoters}-{detractors})/({promoters}+{passives}+{detractors})*100)'),
        dict(kpi="csat", unit="percent", inputs=[("satisfied", _("Satisfied answers (4-5 of 5)"), 30),
                                                  ("total", _("CSAT answers"), 50)],
             formula='=IF({total}=0,"",{satisfied}/{total})'),
        dict(kpi="crr", unit="percent", inputs=[("start", _("Customers at period start (S)"), 100),
                                                 ("end", _("Customers at period end (E)"), 90),
                                                 ("new", _("New customers in the period (N)"), 15)],
             formula='=IF({start}=0,"",({end}-{new})/{start})'),
        dict(kpi="churn_rate", unit="percent", inputs=[("lost", _("Customers lost in the period (L)"), 20),
                                                        ("start", _("Customers at period start (S)"), 250)],
             formula='=IF({start}=0,"",{lost}/{start})'),
        dict(kpi="fcr_rate", unit="percent", inputs=[("first_contact", _("Resolved on first contact"), 80),
                                                      ("total", _("Issues received"), 100)],
             formula='=IF({total}=0,"",{first_contact}/{total})'),
        dict(kpi="aht", unit="seconds", inputs=[("talk_seconds", _("Talk time (seconds)"), 48000),
                                                 ("hold_seconds", _("Hold time (seconds)"), 6000),
                                                 ("wrap_seconds", _("Wrap-up time (seconds)"), 6000),
                                                 ("calls", _("Answered calls"), 100)],
             formula='=IF({calls}=0,"",({talk_seconds}+{hold_seconds}+{wrap_seconds})/{calls})'),
        dict(kpi="avg_wait_time", unit="seconds", inputs=[("wait_seconds", _("Total waiting time (seconds)"), 30000),
                                                           ("answered", _("Answered calls"), 200)],
             formula='=IF({answered}=0,"",{wait_seconds}/{answered})'),
        dict(kpi="abandonment_rate", unit="percent", inputs=[("abandoned", _("Abandoned calls"), 20),
                                                              ("offered", _("Offered calls"), 100)],
             formula='=IF({offered}=0,"",{abandoned}/{offered})'),
        dict(kpi="cac", unit="currency", inputs=[("spend", _("Acquisition spend"), 10000),
                                                  ("new", _("New customers"), 20000)],
             formula='=IF({new}=0,"",{spend}/{new})'),
        dict(kpi="clv", unit="currency", inputs=[("order_value", _("Average order value"), 50),
                                                  ("orders_per_year", _("Orders per customer per year"), 5),
                                                  ("lifespan_years", _("Customer lifespan (years)"), 3)],
             formula="={order_value}*{orders_per_year}*{lifespan_years}"),
        dict(kpi="complaint_resolution_time", unit="hours",
             inputs=[("filed", _("Complaint filed (date and time)"), dt.datetime(2026, 3, 2, 9, 0)),
                     ("resolved", _("Complaint resolved (date and time)"), dt.datetime(2026, 3, 4, 9, 0))],
             formula='=IF({resolved}<{filed},"",({resolved}-{filed})*24)'),
    ]


def example_result(calc: dict):
    """The calculator's result on its example inputs, by the catalog's own formula (servicekpi
    calc), stored as the formula cell's cached value."""
    from servicekpi.analysis.calc import run
    inputs = {name: value for name, _label, value in calc["inputs"]}
    if calc["kpi"] == "complaint_resolution_time":  # dates in, hours out
        hours = (inputs["resolved"] - inputs["filed"]).total_seconds() / 3600
        return run("complaint_resolution_time", {"total_hours": hours, "complaints": 1}, {})["value"]
    value = run(calc["kpi"], inputs, {})["value"]
    return stored(value, calc["unit"])


def formulas(book: Book) -> None:
    """Each KPI's definition and formula in the report's language, then the live calculator.

    Input and result cells carry workbook names (calc_<kpi>_<input>, calc_<kpi>) so they can be
    found and typed into by name."""
    _ = book._
    lang = book.r.lang
    ws = book.sheet(_("formulas"), landscape=True)
    row = book.header(ws, _("Definitions, formulas and calculator"))
    sheet_ref = "'" + ws.name.replace("'", "''") + "'"
    ws.write(row, 0, _("Calculator: type your own numbers into the yellow cells"), book.bold)
    row += 1
    datetime_fmt = book.num("yyyy-mm-dd hh:mm", bg_color="#FFF2CC", border=1)
    for calc in calculators(_):
        kid, unit = calc["kpi"], calc["unit"]
        ws.write(row, 0, text("kpi", kid, "label", lang), book.bold)
        ws.write(row, 2, text("kpi", kid, "formula", lang), book.aside)
        row += 1
        refs = {}
        for name, label, example in calc["inputs"]:
            ws.write(row, 0, label, book.plain)
            if isinstance(example, dt.datetime):
                ws.write_datetime(row, 1, example, datetime_fmt)
            else:
                ws.write_number(row, 1, example, book.input)
            refs[name] = xl_rowcol_to_cell(row, 1, row_abs=True, col_abs=True)
            book.wb.define_name(f"calc_{kid}_{name}", f"={sheet_ref}!{refs[name]}")
            row += 1
        ws.write_string(row, 0, "= " + text("kpi", kid, "label", lang), book.bold)
        cached = example_result(calc)  # shown until the sheet recalculates (LibreOffice keeps it)
        ws.write_formula(row, 1, calc["formula"].format(**refs), book.num(NUMBER_FORMAT[unit], bold=True, border=2),
                         "" if cached is None else cached)
        ws.write(row, 2, text("unit", unit, "label", lang), book.aside)
        book.wb.define_name(f"calc_{kid}", f"={sheet_ref}!{xl_rowcol_to_cell(row, 1, row_abs=True, col_abs=True)}")
        if kid == "aht":  # the worked example speaks in minutes
            row += 1
            result = xl_rowcol_to_cell(row - 1, 1)
            ws.write_string(row, 0, "= " + _("in minutes"), book.plain)
            ws.write_formula(row, 1, f'=IF({result}="","",{result}/60)', book.num('#,##0.0" min"'),
                             "" if cached is None else cached / 60)
        row += 2
    # definitions
    ws.write(row, 0, _("Definitions"), book.bold)
    row += 1
    for c, h in enumerate([_("KPI"), _("unit"), _("definition"), _("formula")]):
        ws.write(row, c, h, book.head)
    row += 1
    seen = []
    for s in book.r.series + book.r.sla:
        if s.kpi in seen:
            continue
        seen.append(s.kpi)
        ws.write(row, 0, s.label, book.wrap)
        ws.write(row, 1, text("unit", s.unit, "label", lang), book.wrap)
        ws.write(row, 2, s.definition, book.wrap)
        ws.write(row, 3, s.formula, book.wrap)
        # row height for wrapped text (LibreOffice and Excel do not grow rows on open)
        lines = max(width(s.definition) / 70, width(s.formula) / 40, width(s.label) / 36, 1)
        ws.set_row(row, 15 * (int(lines) + 1))
        row += 1
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 17)
    ws.set_column(2, 2, 72)
    ws.set_column(3, 3, 42)
