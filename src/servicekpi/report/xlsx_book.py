"""The workbook's shared parts: the Book (formats, the header every sheet starts with), how a KPI
value is stored in a cell and the number format that shows it (durations as spreadsheet durations in
the units a person reads, percentages as fractions, the configured currency)."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Callable

import xlsxwriter

from servicekpi.core import display
from servicekpi.report.document import Report

# how each catalog unit is stored and shown: percentages as fractions with a % format
NUMBER_FORMAT = {
    "percent": "0.0%", "points": '+0.0;"−"0.0;0.0', "count": "#,##0", "seconds": '#,##0.0" s"',
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
    """The cell value of a KPI value: percentages as fractions (shown with a % format), durations as
    spreadsheet durations (days: 1 h = 1/24), so a cell still computes and reads "8 hr 35 min"."""
    if value is None:
        return None
    if unit in display.SECONDS:
        return value * display.SECONDS[unit] / 86400
    return value / 100 if unit == "percent" else value


def duration_format(seconds: float, lang: str = "en") -> str:
    """A custom number format of an elapsed duration, in the units a person reads for its size
    (CLDR unit words): [h] hr mm min (8 hr 35 min), [m] min ss sec (7 min 36 sec), or [s] sec."""
    sep = "" if lang == "zh" else " "

    def word(unit: str, after: str = "") -> str:
        return '"' + sep + display.unit_suffix(unit, lang) + after + '"'

    if seconds >= 3600:
        return f'[h]{word("duration-hour", " ")}mm{word("duration-minute")}'
    if seconds >= 60:
        return f'[m]{word("duration-minute", " ")}ss{word("duration-second")}'
    return f'[s]{word("duration-second")}'


def number_format(unit: str, values=(), lang: str = "en", currency: str | None = None) -> str:
    if unit == "count" and any(v is not None and float(v) != int(v) for v in values):
        return "#,##0.00"  # a mean of counts (interactions per ticket)
    if unit in display.SECONDS:
        top = max([abs(v) for v in values if v is not None] + [0.0]) * display.SECONDS[unit]
        return duration_format(top, lang)
    if unit == "currency" and currency:
        return f'#,##0.00" {currency}"'
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
        font = self.font = {"font_name": FONT[report.lang]} if report.lang in FONT else {}
        # data is written as text: a value starting with = + - @ or a URL never becomes a formula or link
        self.wb = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "default_format_properties": font,
                                                  "strings_to_formulas": False, "strings_to_urls": False,
                                                  "in_memory": True})  # no temp file per part (~300 charts)
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

    def unit(self, unit: str) -> str:
        """The unit column: the catalog's word; "duration" for durations; the currency's ISO code."""
        from servicekpi.report.i18n import unit_label
        return unit_label(unit, self.r.lang, self.r.currency)

    def label(self, value, dim: str | None) -> str:
        """A category, channel, team or agent id as every output shows it (core/display.label)."""
        return display.label(value, self.r.labels, self.r.lang, dim)

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
