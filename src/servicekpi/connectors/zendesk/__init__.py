"""Zendesk: the Support API's JSON (api.py) or the Fivetran schema (fivetran.py) -> canonical tables;
rules.py applies the mapping rules once, schedules.py turns schedules into calendars, sync.py pulls live."""
from __future__ import annotations

from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted, SourceUsageError
from servicekpi.connectors.zendesk import api as zendesk_api
from servicekpi.connectors.zendesk import fivetran as zendesk_fivetran
from servicekpi.connectors.zendesk.rules import build


def convert(path, *, mapping=None, dsn=None) -> Converted:
    if dsn is not None or mapping is not None:
        raise SourceUsageError("--source zendesk reads a folder of files; it takes no --dsn or --mapping")
    if path is None:
        raise SourceUsageError("--source zendesk needs a PATH: a folder of Support API JSON pages or Fivetran tables")
    path = Path(path)
    if not path.exists():
        raise ConnectorError(f"{path}: no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    api = [p for p in files if p.suffix.lower() == ".json"]
    fivetran = [p for p in files if zendesk_fivetran.table_of(p)]
    if api and fivetran:
        raise ConnectorError(f"{path}: holds both Support API JSON ({api[0].name}) and Fivetran tables "
                             f"({fivetran[0].name}); import each layout from its own folder")
    if fivetran:
        src = zendesk_fivetran.read(files)
    elif api:
        src = zendesk_api.read(api)
    else:
        raise ConnectorError(f"{path}: no Zendesk data here (expected Support API JSON pages such as tickets.json, "
                             "or Fivetran tables such as ticket.csv / ticket_data.csv)")
    return build(src)
