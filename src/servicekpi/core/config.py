"""Workspace config: one TOML file (timezone, CSAT scale, weights)."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A located problem in the config file."""


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
    targets: dict | None = None  # targets.Target by KPI id; None = the default target set

    def sla_rules(self) -> list:
        from servicekpi.core.sla_rules import DEFAULT
        return self.sla or [DEFAULT]

    def business(self):
        """The calendars (default Mon-Fri 09:00-17:00 in the workspace zone without config)."""
        from servicekpi.core.calendars import Calendars, default_calendar
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


def check_zone(name: str, where: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: '{name}' is not an IANA time zone (e.g. Europe/Bucharest, UTC)") from None
    return name


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
    from servicekpi.core.calendars import CalendarError
    from servicekpi.core.calendars import parse as parse_calendars
    try:
        cfg.calendars = parse_calendars(data, cfg.timezone, str(path))
    except CalendarError as e:
        raise ConfigError(str(e)) from None
    from servicekpi.core.sla_rules import SlaError
    from servicekpi.core.sla_rules import parse as parse_sla
    try:
        cfg.sla = parse_sla(data, str(path))
    except SlaError as e:
        raise ConfigError(str(e)) from None
    from servicekpi.catalog.targets import parse_targets
    cfg.targets = parse_targets(data, str(path))
    return cfg
