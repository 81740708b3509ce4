"""The monthly report as plain data: built once from the engine, rendered to XLSX, HTML or PDF."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from servicekpi.analysis.spikes import Spike  # noqa: F401 - part of the report's model


@dataclass
class Period:
    start: dt.date  # first local date, inclusive
    end: dt.date  # last local date, inclusive
    label: str  # in the report's language, e.g. "Oct 2026", "2026年10月"


@dataclass
class Series:
    """One KPI over the report's periods (a tracker row)."""
    kpi: str
    family: str
    group: str  # balanced scorecard group: customer, process, people, financial
    unit: str  # catalog unit (catalog.kpi.UNITS): percent (0-100), hours, seconds, count, score, currency, ratio
    direction: str  # higher, lower or neutral (catalog)
    label: str  # catalog text in the report's language
    definition: str
    formula: str
    values: list[float | None]  # per period; None = no data (not zero)
    numerators: list[float | None]
    denominators: list[float | None]
    target: float | None = None
    at_risk: float | None = None  # band edge, when the config has one
    status: list[str | None] = field(default_factory=list)  # met, at_risk, missed, no_target per period


@dataclass
class Volume:
    """Ticket volume by one dimension, per period."""
    dim: str
    counts: dict[str, list[int]]  # dimension value -> count per period
    spikes: list[Spike] = field(default_factory=list)


@dataclass
class Report:
    lang: str
    tz: str
    asof: dt.datetime  # UTC, naive
    by: str  # month or week
    periods: list[Period]
    series: list[Series]
    volume: list[Volume]  # category, channel
    reach: dict[str, dt.datetime | None]  # table -> latest event time (local), "calls complete through ..."
    by_channel: dict[str, list[Series]] = field(default_factory=dict)  # channel -> series
    by_agent: dict[str, list[Series]] = field(default_factory=dict)  # team or agent -> series (when agent data)
    sla: list[Series] = field(default_factory=list)  # SLA KPIs (when policies exist)
    notes: list[str] = field(default_factory=list)  # unavailable KPIs and why
    # added by the XLSX/data side (R1) for the renderers; all optional with defaults:
    agent_dim: str | None = None  # the column by_agent is keyed on: "team" or "agent_id" (None: no agent data)
    partial: list[bool] = field(default_factory=list)  # per period: clipped by the range (engine "partial")
    spike_k: float = 3.0  # the spike rule's k and trailing window (spikes.py), for the report's notes
    spike_window: int = 6
    # the agent leaderboard of the last period (analysis/leaderboard.py: {columns, rows: [{agent_id, name,
    # team, values: {col: {value, n, team_avg, small_sample}}}]}); None without agent data
    agents: dict | None = None
    currency: str | None = None  # ISO 4217 code of money KPIs (config `currency`), display only
    labels: dict = field(default_factory=dict)  # config [labels.<dim>] id -> name, display only
