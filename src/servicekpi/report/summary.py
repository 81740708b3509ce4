"""The executive summary at the top of every report: the three biggest movers of the last period and
the targets it missed (or put at risk), in words, in the report's language."""
from __future__ import annotations

import math
from dataclasses import dataclass

from servicekpi.core import display
from servicekpi.report.document import Report, Series
from servicekpi.report.html_base import HEADLINE
from servicekpi.report.i18n import _, format_change, format_value

MOVERS = 3
VERB = {("higher", True): _("{kpi} improved from {before} to {after} ({change})."),
        ("higher", False): _("{kpi} worsened from {before} to {after} ({change})."),
        ("lower", False): _("{kpi} improved from {before} to {after} ({change})."),
        ("lower", True): _("{kpi} worsened from {before} to {after} ({change})."),
        ("neutral", True): _("{kpi} rose from {before} to {after} ({change})."),
        ("neutral", False): _("{kpi} fell from {before} to {after} ({change}).")}


@dataclass
class Move:
    series: Series
    before: float
    after: float
    relative: float  # (after - before) / |before|


def movers(report: Report, n: int = MOVERS) -> list[Move]:
    """The n headline KPIs (the scorecard's) whose last period moved most against the one before, by
    relative change; the other KPIs when fewer than n headline ones moved."""
    out = []
    for s in report.series:
        if len(s.values) < 2 or s.values[-1] is None or s.values[-2] is None or not s.values[-2]:
            continue
        before, after = s.values[-2], s.values[-1]
        if not (math.isfinite(before) and math.isfinite(after)) or after == before:
            continue
        out.append(Move(s, before, after, (after - before) / abs(before)))
    first = [m for m in out if m.series.kpi in HEADLINE]
    rest = [m for m in out if m.series.kpi not in HEADLINE]
    key = lambda m: (-abs(m.relative), m.series.kpi)  # noqa: E731
    return (sorted(first, key=key) + sorted(rest, key=key))[:n]


def with_status(report: Report, status: str) -> list[Series]:
    """The KPIs (tracker and SLA) whose last period has this status against the target."""
    return [s for s in [*report.series, *report.sla]
            if s.values and s.values[-1] is not None and s.status and len(s.status) >= len(s.values)
            and s.status[-1] == status]


def sentences(report: Report, gettext) -> list[str]:
    """The summary's lines: movers, then missed targets, then targets at risk."""
    lang, code = report.lang, report.currency
    if not report.periods:
        return []
    period = report.periods[-1].label
    lines = []
    for m in movers(report):
        s = m.series
        change = format_change(m.after, m.before, s.unit, lang, code)
        change += ", " + display.points(100 * m.relative, lang).replace("±", "") + "%"
        key = (s.direction if s.direction in ("higher", "lower") else "neutral", m.after > m.before)
        lines.append(gettext(VERB[key]).format(kpi=s.label, before=format_value(m.before, s.unit, lang, currency=code),
                                               after=format_value(m.after, s.unit, lang, currency=code),
                                               change=change))

    def items(series):
        sign = {"higher": "≥ ", "lower": "≤ "}
        return "; ".join(gettext(_("{kpi} {value} (target {target})")).format(
            kpi=s.label, value=format_value(s.values[-1], s.unit, lang, currency=code),
            target=sign.get(s.direction, "") + format_value(s.target, s.unit, lang, currency=code)) for s in series)

    missed, risk = with_status(report, "missed"), with_status(report, "at_risk")
    if missed:
        lines.append(gettext(_("Targets missed in {period}: {items}.")).format(period=period, items=items(missed)))
    elif any(s.target is not None for s in [*report.series, *report.sla]):
        lines.append(gettext(_("No KPI missed its target in {period}.")).format(period=period))
    if risk:
        lines.append(gettext(_("At risk in {period}: {items}.")).format(period=period, items=items(risk)))
    return lines
