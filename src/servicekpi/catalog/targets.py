"""KPI targets: parsed from the workspace config, with a sourced default set.

    [targets.first_response_time]
    value = 60              # in the KPI's unit (minutes here)
    at_risk = 15            # optional band on the bad side of the target (same unit)
    due = "2027-03-31"      # optional SMART due date
    [targets.first_response_time.by.channel]   # optional per-dimension overrides
    chat = 2                                    # a number, or { value = 2, at_risk = 1 }
    email = 240
    [targets.csat]
    value = 85

Direction comes from the catalog (higher or lower is better); a neutral KPI cannot have a
target. Without a [targets] table the sourced DEFAULT_TARGETS apply; an empty [targets]
table means no targets at all; `include_defaults = true` inside [targets] adds the defaults
for every KPI the table does not name. Schema and sources: docs/targets.md.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from servicekpi.catalog import catalog
from servicekpi.core.config import ConfigError

KEYS = ("value", "at_risk", "due", "by")
RESERVED = ("include_defaults",)
STATUSES = ("met", "at_risk", "missed", "no_target", "no_data")
# relative tolerance of the met/at-risk comparisons: KPI values are exact floats, and a mean
# of durations can land on 59.99999999999999 for a true 60
EPS = 1e-9


@dataclass(frozen=True)
class Override:
    value: float
    at_risk: float | None  # None: the KPI's band applies


@dataclass(frozen=True)
class Target:
    kpi: str
    value: float  # in the KPI's unit
    direction: str  # higher or lower (from the catalog)
    at_risk: float | None = None  # band width on the bad side, same unit; None or 0 = no band
    due: dt.date | None = None
    by: Mapping[str, Mapping[str, Override]] = field(default_factory=dict)  # dimension -> value -> override
    default: bool = False  # one of DEFAULT_TARGETS, not set by the workspace
    source: str = ""  # the config file, or the citation of a default

    def resolve(self, dims: Mapping[str, object] | None = None, order=None) -> tuple[float, float | None, str | None]:
        """(value, at_risk, 'dim=value' of the override used or None) for a row's dimension values.

        The first dimension (in `order`, default the row's order) with an override for the
        row's value wins; values match exactly, then case-insensitively."""
        for d in (order or list(dims or {})):
            table = self.by.get(d)
            v = (dims or {}).get(d)
            if not table or v is None:
                continue
            hit = table.get(str(v))
            if hit is None:
                low = {k.lower(): o for k, o in table.items()}
                hit = low.get(str(v).lower())
            if hit is not None:
                band = self.at_risk if hit.at_risk is None else hit.at_risk
                return hit.value, band, f"{d}={v}"
        return self.value, self.at_risk, None


def status(value: float | None, target: float | None, direction: str, at_risk: float | None = None) -> str:
    """met, at_risk, missed, no_target (no target, or none possible) or no_data (value is None).

    met: on the good side or on the target (>= for higher-is-better, <= for lower);
    at_risk: on the bad side, within `at_risk` of the target (the band's far edge included);
    missed: beyond the band (any bad-side value when there is no band)."""
    if target is None:
        return "no_target"
    if direction not in ("higher", "lower"):
        raise ValueError(f"a target needs direction higher or lower, not '{direction}'")
    if value is None:
        return "no_data"
    tol = EPS * max(1.0, abs(target))
    shortfall = (target - value) if direction == "higher" else (value - target)  # > 0: bad side
    if shortfall <= tol:
        return "met"
    if at_risk and shortfall <= at_risk + tol:
        return "at_risk"
    return "missed"


# -- parsing ------------------------------------------------------------------------------

def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _range(unit: str) -> tuple[float | None, float | None, str]:
    if unit == "percent":
        return 0, 100, "from 0 to 100 (percent)"
    if unit == "points":
        return -100, 100, "from -100 to 100 (points)"
    return 0, None, f"of 0 or more ({unit})"


def _check_value(x, unit: str, where: str) -> float:
    lo, hi, words = _range(unit)
    if not _number(x):
        raise ConfigError(f"{where}: expected a number {words}, got {x!r}")
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise ConfigError(f"{where}: expected a number {words}, got {x!r}")
    return float(x)


def _check_band(x, unit: str, where: str) -> float:
    if not _number(x) or x < 0:
        raise ConfigError(f"{where}: expected a non-negative number (a band in {unit} on the bad side "
                          f"of the target), got {x!r}")
    return float(x)


def _check_due(x, where: str) -> dt.date:
    if isinstance(x, dt.date) and not isinstance(x, dt.datetime):
        return x
    if isinstance(x, str):
        try:
            return dt.date.fromisoformat(x)
        except ValueError:
            pass
    raise ConfigError(f"{where}: expected a date such as 2027-03-31, got {x!r}")


def _override(x, unit: str, where: str) -> Override:
    if _number(x):
        return Override(_check_value(x, unit, where), None)
    if isinstance(x, dict):
        unknown = sorted(set(x) - {"value", "at_risk"})
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key (expected value, at_risk)")
        if "value" not in x:
            raise ConfigError(f"{where}.value: missing (expected a number in {unit})")
        band = _check_band(x["at_risk"], unit, f"{where}.at_risk") if "at_risk" in x else None
        return Override(_check_value(x["value"], unit, f"{where}.value"), band)
    raise ConfigError(f"{where}: expected a number or {{ value = NUMBER, at_risk = NUMBER }}, got {x!r}")


def _one(kid: str, entry, source: str) -> Target:
    cat = catalog()
    where = f"{source}, key targets.{kid}"
    if kid not in cat.kpis:
        near = difflib.get_close_matches(kid, list(cat.kpis), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else " (see: servicekpi list)"
        raise ConfigError(f"{where}: unknown KPI '{kid}'{hint}")
    k = cat.kpis[kid]
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table such as [targets.{kid}] with value = NUMBER, got {entry!r}")
    if k.direction not in ("higher", "lower"):
        raise ConfigError(f"{where}: {kid} is neutral (neither higher nor lower is better), "
                          f"so it cannot have a target")
    for key in entry:
        if key not in KEYS:
            near = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]}?" if near else ""
            raise ConfigError(f"{where}.{key}: unknown key (expected {', '.join(KEYS)}){hint}")
    if "value" not in entry:
        raise ConfigError(f"{where}.value: missing (expected a number in {k.unit})")
    value = _check_value(entry["value"], k.unit, f"{where}.value")
    band = _check_band(entry["at_risk"], k.unit, f"{where}.at_risk") if "at_risk" in entry else None
    due = _check_due(entry["due"], f"{where}.due") if "due" in entry else None
    by_raw = entry.get("by", {})
    if not isinstance(by_raw, dict):
        raise ConfigError(f"{where}.by: expected tables of dimension values, e.g. "
                          f"[targets.{kid}.by.channel] with chat = NUMBER")
    by = {}
    for dim, table in by_raw.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}.by.{dim}: expected a table of VALUE = NUMBER, e.g. "
                              f"[targets.{kid}.by.{dim}] with one line per {dim} value")
        by[str(dim)] = MappingProxyType({str(v): _override(x, k.unit, f"{where}.by.{dim}.{v}")
                                         for v, x in table.items()})
    return Target(kid, value, k.direction, band, due, MappingProxyType(by), False, source)


def parse_targets(raw: dict, source: str) -> dict[str, Target]:
    """The targets of a parsed workspace config; DEFAULT_TARGETS when it has no [targets] table.

    Raises ConfigError naming the file, the key and what was expected."""
    if "targets" not in raw:
        return dict(DEFAULT_TARGETS)
    table = raw["targets"]
    if not isinstance(table, dict):
        raise ConfigError(f"{source}, key targets: expected a table of [targets.KPI_ID] tables, got {table!r}")
    include = table.get("include_defaults", False)
    if not isinstance(include, bool):
        raise ConfigError(f"{source}, key targets.include_defaults: expected true or false, got {include!r}")
    out = dict(DEFAULT_TARGETS) if include else {}
    for kid, entry in table.items():
        if kid in RESERVED:
            continue
        out[kid] = _one(kid, entry, source)
    return out


def targets_for(config) -> dict[str, Target]:
    """The targets of a loaded Config: its parsed `targets` when config.py sets them, else parsed
    from its raw TOML, else (no config file) the defaults."""
    parsed = getattr(config, "targets", None)
    if parsed is not None:
        return parsed
    raw = getattr(config, "raw", None) or {}
    return parse_targets(raw, getattr(config, "source", None) or "servicekpi.toml")


# -- the default set ------------------------------------------------------------------------

def _default(kid: str, value: float, source: str, at_risk: float | None = None,
             by: dict[str, dict[str, float]] | None = None) -> Target:
    k = catalog().kpis[kid]
    over = {d: MappingProxyType({v: Override(float(x), 0.0) for v, x in vals.items()})
            for d, vals in (by or {}).items()}
    band = None if at_risk is None else float(at_risk)
    return Target(kid, float(value), k.direction, band, None, MappingProxyType(over), True, source)


DEFAULT_TARGETS: Mapping[str, Target] = MappingProxyType({t.kpi: t for t in (
    # "Most customers are fine with a reply email within 24 hours; go beyond a day and you risk
    # losing business" (Teledirect, customer wait-time expectations); issue 3: email 24-48 h is
    # acceptable, social over 12 h is not; "82% of customers expect a reply within 10 minutes"
    # (HubSpot research as quoted by the sources) -> chat 10 min, social 720 min
    _default("first_response_time", 24 * 60,
             "first response within 24 h; chat within 10 min (82% expect a reply within 10 minutes); "
             "social within 12 h",
             by={"channel": {"chat": 10, "social": 12 * 60}}),
    # the project's default SLA policy (sla.py DEFAULT): resolution within 72 h calendar time
    _default("avg_resolution_time", 72, "resolution within 72 h (the default SLA policy)"),
    # "A good CSAT is 75% to 84%, world-class 85% or higher; below 75% requires attention"
    # (Surveypal, customer service benchmarks); "75-85% generally considered good" (LiveX);
    # issue sources: CSAT 80-85% -> target 80, at risk down to 75
    _default("csat", 80, "good CSAT 80-85%; below 75% needs attention (Surveypal, LiveX)", at_risk=5),
    # "any score above 0 is good, 50 and above excellent, 70 or higher world class"
    # (Bain & Company, via CustomerGauge)
    _default("nps", 0, "NPS above 0 is good, above 50 excellent (Bain & Company, via CustomerGauge)"),
    # "The standard for a good FCR rate is 70% to 79%, world-class 80% or higher; below 70% it is
    # essential to improve" (Surveypal, citing SQM Group)
    _default("fcr_rate", 70, "good FCR 70-79%, world-class 80%+ (Surveypal / SQM Group)"),
    _default("first_call_resolution", 70, "good FCR 70-79%, world-class 80%+ (Surveypal / SQM Group)"),
    # "a call abandonment rate between 5% and 8% is the industry norm; a common standard is below 5%"
    # -> target 5, at risk up to 8
    _default("abandonment_rate", 5, "abandonment below 5%, 5-8% is the norm", at_risk=3),
    # "The service level of 80/20 is the traditional industry standard": 80% of calls answered
    # within 20 s (call_service_level counts within threshold_seconds, default 60)
    _default("call_service_level", 80, "80% of calls answered within the threshold (80/20 standard)"),
    # "Six minutes. That's long been considered the industry standard for average handle time"
    # (Invoca) -> 360 s
    _default("aht", 6 * 60, "AHT of 6 minutes, the long-standing industry standard (Invoca)"),
    # "SaaS churn benchmarks averaging 5-7% monthly" (retention benchmarking) -> 5, at risk up
    # to 7; a per-month figure, so it is lenient on a weekly scorecard
    _default("churn_rate", 5, "monthly churn 5-7% is the SaaS average", at_risk=2),
)})
