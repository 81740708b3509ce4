"""Workspace config: one TOML file (timezone, CSAT scale, weights)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from servicekpi.core import sla_rules
from servicekpi.core.agents import AgentsConfigError
from servicekpi.core.agents import parse as parse_agents
from servicekpi.core.calendars import CalendarError, Calendars, default_calendar
from servicekpi.core.calendars import parse as parse_calendars
from servicekpi.core.errors import ConfigError
from servicekpi.core.periods import check_zone

__all__ = ["Config", "ConfigError", "check_zone", "find", "load"]


# the fields compiled SQL is built from (Config.fingerprint); tests/engine/test_process_cache.py
# fails on a field in neither list
COMPILED_FROM = ("timezone", "csat_scale", "criterion_weights", "activity_weights", "calendars", "sla",
                 "queue_teams")
# read by the import (instants, agents), the analysis (targets, spike_size), the surfaces (currency,
# labels; raw's [server], [alerts], [smtp] ...) or naming the file (source); raw's sections the SQL
# depends on are parsed into the fields above
NOT_COMPILED = ("source", "raw", "targets", "instants", "agents", "spike_size", "currency", "labels")


@dataclass
class Config:
    timezone: str = "UTC"
    csat_scale: tuple[float, float] = (1, 5)
    criterion_weights: dict[str, float] = field(default_factory=dict)
    activity_weights: dict[str, float] = field(default_factory=dict)
    source: str | None = None
    raw: dict = field(default_factory=dict)
    calendars: object = None  # business.Calendars
    sla: list = field(default_factory=list)  # sla.Rule, the default policy last
    targets: dict | None = None  # catalog.targets.Target by KPI id; None = parsed from raw when asked

    instants: tuple | None = None  # [instants] earliest, latest: valid timestamps (None = the default range)
    agents: object = None  # agents.AgentRules ([agents]: alias map and normalisation rules)
    spike_size: object = None  # analysis.spikes.SpikeSize ([spikes] min_rise, min_ratio); None = defaults
    queue_teams: dict = field(default_factory=dict)  # [queues]: call queue -> team (a call's team)


    currency: str | None = None  # ISO 4217 code of money KPIs (cac, clv): display only
    labels: dict = field(default_factory=dict)  # [labels.<dim>] id -> display name (display only)

    def sla_rules(self) -> list:
        return self.sla or [sla_rules.DEFAULT]

    def fingerprint(self) -> str:
        """What compiled SQL is built from (COMPILED_FROM), as one string: engines with equal
        fingerprints share compiled SQL. The other fields (NOT_COMPILED) leave the SQL as it is, so
        a changed label, target or server setting, or the same config in another file, does not
        compile again. An object without a value repr shows its address: never shared."""
        parts = (self.timezone, self.csat_scale, sorted(self.criterion_weights.items()),
                 sorted(self.activity_weights.items()), self.business(), self.sla_rules(),
                 sorted(self.queue_teams.items()))
        return repr(parts)

    def business(self):
        """The calendars (default Mon-Fri 09:00-17:00 in the workspace zone without config)."""
        if self.calendars is None:
            self.calendars = Calendars(default_calendar(self.timezone))
        return self.calendars


def find(config: str | os.PathLike | None, db: Path) -> Path | None:
    """--config, else SERVICEKPI_CONFIG, else servicekpi.toml beside the store."""
    if config:
        return Path(config)
    env = os.environ.get("SERVICEKPI_CONFIG")
    if env:
        return Path(env)
    beside = db.resolve().parent / "servicekpi.toml"
    return beside if beside.exists() else None


def load(path: Path | None) -> Config:
    if path is None:
        return Config()
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    cfg = Config(source=str(path), raw=data)
    if "timezone" in data:
        if not isinstance(data["timezone"], str):
            raise ConfigError(f"{path}, key timezone: expected a string such as \"Europe/Bucharest\"")
        cfg.timezone = check_zone(data["timezone"], f"{path}, key timezone")
    scale = data.get("csat", {}).get("scale")
    if scale is not None:
        if not (isinstance(scale, list) and len(scale) == 2 and all(isinstance(x, (int, float)) for x in scale)
                and scale[0] < scale[1]):
            raise ConfigError(f"{path}, key csat.scale: expected [min, max] with min < max, e.g. [1, 5]")
        cfg.csat_scale = (scale[0], scale[1])
    for key, attr in (("quality", "criterion_weights"), ("engagement", "activity_weights")):
        weights = data.get(key, {}).get("weights", {})
        if not isinstance(weights, dict) or not all(isinstance(v, (int, float)) and v >= 0 for v in weights.values()):
            raise ConfigError(f"{path}, key {key}.weights: expected a table of name = non-negative number")
        setattr(cfg, attr, {str(k).lower(): float(v) for k, v in weights.items()})
    if "instants" in data:
        from servicekpi.core.instants import parse as parse_instants
        cfg.instants = parse_instants(data["instants"], f"{path}, key instants")
    _display(cfg, data, path)
    try:
        cfg.calendars = parse_calendars(data, cfg.timezone, str(path))
    except CalendarError as e:
        raise ConfigError(str(e)) from None
    try:
        cfg.sla = sla_rules.parse(data, str(path))
    except sla_rules.SlaError as e:
        raise ConfigError(str(e)) from None
    cfg.spike_size = _spike_size(data.get("spikes"), path)
    queues = data.get("queues", {})
    if not isinstance(queues, dict) or not all(isinstance(v, str) and v.strip() for v in queues.values()):
        raise ConfigError(f"{path}, [queues]: expected a table of \"queue\" = \"team\", e.g. support = \"red\"")
    cfg.queue_teams = {str(k): v.strip() for k, v in queues.items()}
    try:
        cfg.agents = parse_agents(data, str(path))
    except AgentsConfigError as e:
        raise ConfigError(str(e)) from None
    return cfg  # [targets] are parsed by catalog.targets (they name catalog KPIs): load_workspace


def _spike_size(section, path: Path):
    """[spikes] min_rise (tickets above the baseline, >= 0) and min_ratio (x the baseline, >= 1)."""
    if section is None:
        return None
    from servicekpi.core.spike_size import SpikeSize
    if not isinstance(section, dict) or set(section) - {"min_rise", "min_ratio"}:
        raise ConfigError(f"{path}, [spikes]: expected only min_rise = <tickets> and min_ratio = <times>, "
                          f"e.g. min_rise = 20, min_ratio = 1.4")
    rise, ratio = section.get("min_rise", SpikeSize.min_rise), section.get("min_ratio", SpikeSize.min_ratio)
    for key, value, least in (("min_rise", rise, 0), ("min_ratio", ratio, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < least:
            raise ConfigError(f"{path}, key spikes.{key}: expected a number of at least {least}, got {value!r}")
    return SpikeSize(float(rise), float(ratio))


def _display(cfg: Config, data: dict, path: Path) -> None:
    """currency = "EUR" (ISO 4217) and [labels.<dim>] id = "name": how values are shown, not computed."""
    from servicekpi.core.display import check_currency
    if "currency" in data:
        try:
            cfg.currency = check_currency(data["currency"])
        except ValueError as e:
            raise ConfigError(f"{path}, key currency: {e}") from None
    labels = data.get("labels", {})
    ok = isinstance(labels, dict) and all(isinstance(m, dict) and all(isinstance(v, str) for v in m.values())
                                          for m in labels.values())
    if not ok:
        raise ConfigError(f"{path}, key labels: expected tables of id = \"name\", e.g. [labels.team] l2 = \"Level 2\"")
    cfg.labels = {str(d): {str(k): v for k, v in m.items()} for d, m in labels.items()}
