"""What the HTML report's sections share: the render context, escaping, the interface words and the
one way values and labels are shown (core/display.py through i18n.format_value)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Callable

from servicekpi.core import display
from servicekpi.report.document import Report, Series
from servicekpi.report.i18n import NO_DATA, _, format_value, unit_label

# headline scorecard and trend charts, in this order, when the report has them
HEADLINE = ("csat", "nps", "ces", "fcr_rate", "first_response_time", "avg_resolution_time",
            "resolution_rate", "backlog", "ticket_volume", "aht", "avg_wait_time", "abandonment_rate",
            "call_service_level", "crr", "churn_rate", "cac", "clv")
MAX_CARDS = 12
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


@dataclass
class Ctx:
    report: Report
    lang: str
    _: Callable[[str], str]

    def value(self, v: float | None, unit: str) -> str:
        """A value as people read it: 8 h 35 min, 69.2%, NPS +13.3, €175.47 (the config's currency)."""
        return format_value(v, unit, self.lang, currency=self.report.currency)

    def cell(self, v: float | None, unit: str) -> str:
        """A table cell (escaped HTML): the value (durations in the narrow form, 8h 35m), or the dash."""
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return nodata(self)
        if unit in display.SECONDS and math.isfinite(v):
            return f'<span class="nw">{esc(display.value(v, unit, self.lang, length="narrow"))}</span>'
        return esc(self.value(v, unit))

    def dim_value(self, value: str | None, dim: str | None = None) -> str:
        """A category, channel, team or agent id as every output shows it (core/display.label)."""
        return display.label(value, self.report.labels, self.lang, dim)

    def unit(self, unit: str) -> str:
        return unit_label(unit, self.lang, self.report.currency)


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


def val_html(c: Ctx, v: float | None, unit: str) -> str:
    return nodata(c) if v is None else esc(c.value(v, unit))


def last_value(values: list) -> float | None:
    return values[-1] if values else None


def prev_value(values: list) -> float | None:
    return values[-2] if len(values) > 1 else None


def status_of(s: Series, i: int = -1) -> str:
    if s.values and (s.values[i] is None or math.isnan(s.values[i])):
        return "no_data"
    if s.status and len(s.status) >= len(s.values) and s.status[i]:
        return s.status[i]
    return "no_target"


def target_text(c: Ctx, s: Series) -> str:
    if s.target is None:
        return ""
    sign = {"higher": "≥ ", "lower": "≤ "}.get(s.direction, "")
    return c._("target {target}").format(target=sign + c.value(s.target, s.unit))


def change_class(s: Series) -> str:
    cur, before = last_value(s.values), prev_value(s.values)
    if cur is None or before is None or cur == before or s.direction not in ("higher", "lower"):
        return ""
    better = cur > before if s.direction == "higher" else cur < before
    return "good" if better else "bad"


def headline(report: Report) -> list[Series]:
    by_id = {s.kpi: s for s in report.series}
    picked = [by_id[k] for k in HEADLINE if k in by_id]
    if not picked:
        picked = [s for s in report.series if any(v is not None for v in s.values)]
    return picked[:MAX_CARDS]
