"""Connectors: each turns one tool's export into canonical tables (ingest.load.Batch).

A connector module exposes `convert(path, *, mapping=None, dsn=None) -> Converted`.
The rows then go through the same validation, quarantine and idempotent upsert as `import`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from ..ingest.load import Batch

# --source names are part of the contract
SOURCES = {
    "zendesk": "zendesk",
    "freshdesk": "freshdesk",
    "chatwoot": "chatwoot",
    "asterisk": "asterisk",
    "csv": "mapped",
}


class ConnectorError(Exception):
    """A source that cannot be read at all (wrong folder, unreadable mapping); rows are never dropped silently."""


@dataclass
class Converted:
    batches: list[Batch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts to report: excluded tickets, open calls left out, ...
    calendars: dict | None = None  # business-hours calendars found in the source (config TOML shape)
    source_tz: str = "UTC"  # how the connector reads times without an offset


def convert(source: str, path: Path | None, mapping: Path | None = None, dsn: str | None = None) -> Converted:
    if source not in SOURCES:
        raise ConnectorError(f"--source '{source}' is not one of: {', '.join(SOURCES)}")
    module = importlib.import_module(f".{SOURCES[source]}", __name__)
    return module.convert(path, mapping=mapping, dsn=dsn)
