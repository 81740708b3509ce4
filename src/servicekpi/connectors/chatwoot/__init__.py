"""Chatwoot: API JSON answers (rules.py reads them) or the database itself (db.py) -> canonical tables."""
from __future__ import annotations

from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted
from servicekpi.connectors.chatwoot.db import read as read_db
from servicekpi.connectors.chatwoot.rules import build, read_api


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None) -> Converted:
    if mapping is not None:
        raise ConnectorError("--mapping is for --source csv (or freshdesk); Chatwoot needs none")
    if dsn is not None:
        if path is not None:
            raise ConnectorError("give either a PATH of Chatwoot API files or --dsn, not both")
        return build(read_db(dsn))
    if path is None or not path.is_dir():
        raise ConnectorError(f"{path}: expected a folder holding conversations.json, messages.json and "
                             f"csat_survey_responses.json (Chatwoot API answers), or --dsn postgresql://...")
    return build(read_api(path))
