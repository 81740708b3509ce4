"""Connectors: each turns one tool's export into canonical tables (ingest.load.Batch).

A connector module exposes `convert(path, *, mapping=None, dsn=None) -> Converted`.
The rows then go through the same validation, quarantine and idempotent upsert as `import`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from servicekpi.ingest.load import Batch

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
    # a list, or an iterator of chunks (a streaming connector: one chunk in memory at a time)
    batches: list[Batch] | Iterator[Batch] = field(default_factory=list)
    # facts to report: excluded tickets, open calls left out, ...; "Error: ..." = a file not read.
    # A streaming connector may append while its batches are consumed: they are printed afterwards.
    notes: list[str] = field(default_factory=list)
    calendars: dict | None = None  # business-hours calendars found in the source (config TOML shape)
    source_tz: str | None = None  # zone of times without an offset; None = --source-tz or the workspace's


def s(v) -> str | None:
    """A JSON value as the canonical string (ids stay strings; None/'' stay missing)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def table(rows: list[dict], columns: list[str]) -> pa.Table:
    """Rows of canonical strings as an Arrow table with exactly `columns`."""
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns})


def convert(source: str, path: Path | None, mapping: Path | None = None, dsn: str | None = None) -> Converted:
    if source not in SOURCES:
        raise ConnectorError(f"--source '{source}' is not one of: {', '.join(SOURCES)}")
    module = importlib.import_module(f".{SOURCES[source]}", __name__)
    return module.convert(path, mapping=mapping, dsn=dsn)
