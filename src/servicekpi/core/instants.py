"""The valid instant range of imported timestamps and dates (config [instants]; docs/data-format.md)."""
from __future__ import annotations

import datetime as dt

from servicekpi.core.errors import ConfigError

# timestamps and dates outside [earliest, latest) are rejected (docs/data-format.md; config [instants])
DEFAULT_INSTANTS = (dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1))


def _instant(value: object, where: str) -> dt.datetime:

    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, dt.date):
        t = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        try:
            t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{where}: '{value}' is not a date or timestamp (e.g. 1970-01-01)") from None
    else:
        raise ConfigError(f"{where}: expected a date such as \"1970-01-01\"")
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t


def parse(raw: object, where: str) -> tuple[dt.datetime, dt.datetime]:
    """[instants] earliest = "1970-01-01", latest = "2100-01-01" (UTC; latest excluded)."""

    if not isinstance(raw, dict) or set(raw) - {"earliest", "latest"}:
        raise ConfigError(f"{where}: expected a table with earliest and/or latest, e.g. "
                          "[instants] earliest = \"1970-01-01\", latest = \"2100-01-01\"")
    lo = _instant(raw["earliest"], f"{where}.earliest") if "earliest" in raw else DEFAULT_INSTANTS[0]
    hi = _instant(raw["latest"], f"{where}.latest") if "latest" in raw else DEFAULT_INSTANTS[1]
    if not (dt.datetime(1, 1, 2) <= lo < hi <= dt.datetime(9999, 1, 1)):
        raise ConfigError(f"{where}: expected earliest before latest, both within years 0001-9998")
    return lo, hi
