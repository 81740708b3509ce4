"""What a KPI definition is, and the finishing arithmetic shared by `kpi` and `calc`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

UNITS = ("count", "percent", "seconds", "minutes", "hours", "days", "score", "points",
         "ratio", "currency", "tickets_per_day")
MS = {"seconds": 1000, "minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    choices: tuple = ()
    type: type = str
    help: str = ""

    def parse(self, text: str) -> Any:
        if self.choices:
            if text not in self.choices:
                raise ValueError(f"option {self.name}: '{text}' is not one of: {', '.join(map(str, self.choices))}")
            return text
        try:
            value = self.type(text)
        except ValueError:
            raise ValueError(f"option {self.name}: '{text}' is not a {self.type.__name__}") from None
        if isinstance(value, (int, float)) and value < 0:
            raise ValueError(f"option {self.name}: must not be negative")
        return value


@dataclass
class Result:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Calc:
    """Inputs a person with totals can give, mapped onto the KPI's measures."""
    args: tuple[str, ...]
    to_measures: Callable[[dict], dict]


@dataclass(frozen=True)
class Kpi:
    id: str
    family: str
    unit: str
    direction: str  # higher, lower, neutral
    tables: tuple[str, ...]  # all must be imported, else the KPI is unavailable
    source: str  # the table (or replies) whose rows it counts; dims come from it
    measures: Callable  # event/state: (t, o) -> {name: aggregate}; custom: (ctx, o) -> table
    finish: Callable[[dict, dict, Any], Result]
    formula: str
    time: str | Callable[[dict], str] | None = None  # attribution timestamp
    attribution: str = ""  # in words, for docs
    shape: str = "event"  # event (join on time), state (at period bounds), custom
    options: tuple[Option, ...] = ()
    prep: Callable | None = None  # (t, o) -> t, source filtering shared by a family
    prep_options: tuple[str, ...] = ()
    clock: tuple[str, ...] = ()  # instants a duration reads; with hours=business they get __b_ columns
    share_of: str | None = None  # value is a share within this dimension
    force_dim: str | None = None  # always sliced by this column
    allowed_dims: tuple[str, ...] | None = None  # None: every column the source reaches
    population: Callable | None = None  # (t, o) -> predicate: the rows behind the number
    prefilter: Callable | None = None  # (t, o) -> predicate every measure implies (pruned early)
    rows_time: str | None = None  # for custom KPIs: the source column that places a row in a period
    calc: Calc | None = None
    rows_columns: Callable | None = None  # (t, o) -> {name: expr} shown by `rows`
    rows_order: str | None = None  # `rows` sort column (default: period, then key)
    rows: Callable | None = None  # (ctx, o) -> table: the records behind a custom KPI
    not_per_agent: str | None = None  # why it means nothing per agent (sliced or filtered by agent_id: null)

    def time_col(self, o: dict) -> str | None:
        return self.time(o) if callable(self.time) else self.time

    @property
    def option_names(self) -> list[str]:
        return [op.name for op in self.options]

    def defaults(self) -> dict:
        return {op.name: op.default for op in self.options}

    def resolve(self, given: dict[str, str]) -> dict:
        """Defaults overridden by the given option texts (ValueError names the bad one)."""
        o = self.defaults()
        for op in self.options:
            if op.name in given:
                o[op.name] = op.parse(given[op.name])
        return o


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        if x != x:  # NaN
            return None
    except TypeError:
        pass
    return float(x)


def ratio(scale: float = 100, num: str = "num", den: str = "den") -> Callable:
    def finish(m: dict, o: dict, period=None) -> Result:
        n, d = _num(m.get(num)) or 0.0, _num(m.get(den)) or 0.0
        return Result(scale * n / d if d else None, n, d)
    return finish


def mean(unit: str) -> Callable:
    """m['sum'] in milliseconds (durations) or units, m['n'] the count."""
    factor = MS.get(unit, 1)

    def finish(m: dict, o: dict, period=None) -> Result:
        s, n = _num(m.get("sum")) or 0.0, _num(m.get("n")) or 0.0
        return Result(s / factor / n if n else None, s / factor, n)
    return finish


def count(name: str = "n") -> Callable:
    def finish(m: dict, o: dict, period=None) -> Result:
        return Result(_num(m.get(name)) or 0.0)
    return finish


def duration_stat(unit: str) -> Callable:
    """mean (with num/den) or a quantile (value only) of a duration in ms."""
    as_mean = mean(unit)

    def finish(m: dict, o: dict, period=None) -> Result:
        if o.get("stat", "mean") == "mean":
            return as_mean(m, o, period)
        q = _num(m.get("q"))
        return Result(q / MS[unit] if q is not None else None)
    return finish


def with_note(finish: Callable, key: str, text: str) -> Callable:
    """Add '<count> <text>' as a note when the measure `key` is positive."""
    def wrapped(m: dict, o: dict, period=None) -> Result:
        r = finish(m, o, period)
        k = _num(m.get(key)) or 0
        if k:
            r.note = f"{int(k)} {text}"
        return r
    return wrapped


@dataclass
class Catalog:
    kpis: dict[str, Kpi] = field(default_factory=dict)

    def add(self, *kpis: Kpi) -> None:
        for k in kpis:
            if k.id in self.kpis:
                raise ValueError(f"KPI {k.id} declared twice")
            if k.unit not in UNITS:
                raise ValueError(f"KPI {k.id}: unknown unit {k.unit}")
            if k.direction not in ("higher", "lower", "neutral"):
                raise ValueError(f"KPI {k.id}: direction must be higher, lower or neutral")
            self.kpis[k.id] = k
