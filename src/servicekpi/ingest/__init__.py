"""Ingest: the one way data enters the store.

run(): read (files) or take a connector's batches -> validate -> load (upsert, quarantine) ->
derive (load does it in the same transaction) -> stored business seconds. The CLI's import, the
demo and sync call run(); the server's writes and start, and `recompute`, call
refresh_business(), the one trigger of the business-seconds step."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from servicekpi.ingest import load
from servicekpi.ingest.load import Batch, ImportResult
from servicekpi.store import business

__all__ = ["Batch", "ImportResult", "refresh_business", "run"]


def run(con, path: Path | None = None, *, batches: Iterable[Batch] | None = None, calendars=None,
        progress: Callable[[str], None] | None = None, business_progress: Callable[[str], None] | None = None,
        **options) -> ImportResult:
    """Import a dataset (path: a folder or one file) or a connector's batches; with calendars, the
    committed rows get their stored business seconds. options: table, strict, encoding, tz, unread."""
    if batches is None:
        result = load.run(con, path, progress=progress, **options)
    else:
        result = load.run_batches(con, batches, progress=progress, **options)
    if result.committed and calendars is not None:
        result.business = refresh_business(con, calendars, business_progress)
    return result


def refresh_business(con, calendars, progress: Callable[[str], None] | None = None,
                     own_transaction: bool = True) -> str:
    """Store the business seconds of rows that have none yet (all of them after a calendar change)."""
    return business.refresh(con, calendars, progress=progress, own_transaction=own_transaction)
