"""Clock helpers shared by the KPI families: durations in milliseconds, the KPI's clock
(calendar or business seconds), backlog membership and the SLA rule of a row."""
from __future__ import annotations

from servicekpi.core import sla_rules as sla
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")


def ms(a, b):
    """a - b in milliseconds (agrees on DuckDB and Spark, unlike epoch seconds)."""
    return a.delta(b, unit="millisecond")


def in_backlog(t, o=None):
    """Open at the period end: created before it and not resolved before it."""
    return (t.created_at < t.hi) & (t.resolved_at.isnull() | (t.resolved_at >= t.hi))


def at(t, o, col: str):
    """An instant on the KPI's clock: the timestamp, or open seconds before it (hours=business)."""
    return t[f"__b_{col}"] if o.get("hours") == "business" else t[col]


def span(t, o, end, start):
    """Milliseconds between two instants on the KPI's clock."""
    if o.get("hours") == "business":
        return (end - start) * 1000
    return ms(end, start)


def elapsed(t, o, end: str, start: str, business):
    """Seconds from start to end in the rule's hours."""
    calendar = ms(t[end], t[start]) / 1000
    if o.get("hours") != "business":
        return calendar
    return ibis.ifelse(business, t[f"__b_{end}"] - t[f"__b_{start}"], calendar)


def rule_of(t, o):
    idx = sla.rule_index(t, o["_sla"])
    return idx, sla.pick(idx, o["_sla"], "hours", "string") == "business"


def overdue(t, o):
    """Backlog tickets past their resolution target at the period end."""
    if o.get("target_hours") is not None:
        return in_backlog(t) & (t.created_at + ibis.interval(seconds=int(o["target_hours"] * 3600)) < t.hi)
    idx, business = rule_of(t, o)
    target = sla.pick(idx, o["_sla"], "resolution")
    return in_backlog(t) & target.notnull() & (elapsed(t, o, "hi", "created_at", business) > target)
