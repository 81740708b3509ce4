"""SLA policies: ordered rules from the config, first match wins.

    [[sla]]
    name = "enterprise"
    match = { customer_tier = "enterprise", channel = ["email", "web_form"] }
    first_response = "1h"      # "30m", "4h", "2d", or a number of hours
    next_response = "4h"
    resolution = "1d"
    hours = "business"         # or "calendar" (default)

Without [[sla]] the default policy applies: first response 24 h and resolution 72 h,
calendar time, no next-response target. The default also ends every rule list.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from servicekpi.core.errors import ConfigError
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")

MATCH_KEYS = ("priority", "customer_tier", "channel", "category")
TARGETS = ("first_response", "next_response", "resolution")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SlaError(ConfigError):
    pass


@dataclass(frozen=True)
class Rule:
    name: str
    match: dict = field(default_factory=dict)  # column -> allowed values
    first_response: float | None = None  # seconds
    next_response: float | None = None
    resolution: float | None = None
    hours: str = "calendar"


DEFAULT = Rule("default", {}, 24 * 3600, None, 72 * 3600, "calendar")


def seconds(value, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value) * 3600
    m = DURATION.match(str(value))
    if not m or float(m.group(1)) <= 0:
        raise SlaError(f"{where}: '{value}' is not a duration (expected e.g. \"30m\", \"4h\", \"2d\" or hours as a number)")
    return float(m.group(1)) * UNIT[m.group(2)]


def parse(raw: dict, source: str) -> list[Rule]:
    rules = []
    items = raw.get("sla", [])
    if not isinstance(items, list):
        raise SlaError(f"{source}, key sla: expected [[sla]] tables (an array of rules)")
    for i, item in enumerate(items):
        where = f"{source}, key sla[{i}]"
        if not isinstance(item, dict):
            raise SlaError(f"{where}: expected a table")
        unknown = set(item) - {"name", "match", "hours", *TARGETS}
        if unknown:
            raise SlaError(f"{where}.{sorted(unknown)[0]}: unknown key (expected name, match, hours, "
                           f"{', '.join(TARGETS)})")
        match = item.get("match", {})
        if not isinstance(match, dict):
            raise SlaError(f"{where}.match: expected a table such as {{ customer_tier = \"enterprise\" }}")
        clean = {}
        for k, v in match.items():
            if k not in MATCH_KEYS:
                raise SlaError(f"{where}.match.{k}: can match only {', '.join(MATCH_KEYS)}")
            values = v if isinstance(v, list) else [v]
            if not all(isinstance(x, str) for x in values):
                raise SlaError(f"{where}.match.{k}: expected a name or a list of names")
            clean[k] = tuple(x.strip().lower() for x in values)
        hours = item.get("hours", "calendar")
        if hours not in ("calendar", "business"):
            raise SlaError(f"{where}.hours: expected \"calendar\" or \"business\"")
        targets = {t: seconds(item[t], f"{where}.{t}") for t in TARGETS if t in item}
        if not targets:
            raise SlaError(f"{where}: give at least one of {', '.join(TARGETS)}")
        rules.append(Rule(str(item.get("name", f"rule {i + 1}")), clean, hours=hours, **targets))
    return rules + [DEFAULT]


def rule_index(t, rules: list[Rule]):
    """The first matching rule's position, as an expression over the row's columns."""
    cases = []
    for i, r in enumerate(rules):
        cond = ibis.literal(True)
        for col, values in r.match.items():
            cond = cond & t[col].isin(list(values)) if col in t.columns else ibis.literal(False)
        cases.append((cond, i))
    return ibis.cases(*cases, else_=len(rules) - 1)


def pick(index, rules: list[Rule], attr: str, typ: str = "float64"):
    """A per-rule value (target seconds, 'business' flag, name) for each row."""
    values = [getattr(r, attr) for r in rules]
    return ibis.cases(*[(index == i, ibis.literal(v, type=typ) if v is not None else ibis.null(typ))
                        for i, v in enumerate(values)], else_=ibis.null(typ))


def uses_business(rules: list[Rule]) -> bool:
    return any(r.hours == "business" for r in rules)
