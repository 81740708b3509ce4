"""What every command shares: consoles, the store and workspace options, connect, parsing, progress."""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicekpi.catalog.targets import load_workspace
from servicekpi.cli import remote
from servicekpi.core import config as cfg_mod
from servicekpi.core.errors import DataError, ServiceKpiError, StoreBusyError, UsageError
from servicekpi.core.lazy import lazy
from servicekpi.store import db as store

ingest = lazy("servicekpi.ingest")  # Arrow and the readers: only commands that import pay for them
load = lazy("servicekpi.ingest.load")

DbOpt = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or $SERVICEKPI_DB)")


CfgOpt = typer.Option(None, "--config", help="workspace TOML (default $SERVICEKPI_CONFIG or servicekpi.toml beside the store)")


DEBUG = {"on": False}


out = Console(highlight=False, soft_wrap=True, emoji=False, width=None if sys.stdout.isatty() else 200)


err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def guarded(fn):
    """Run a command: a ServiceKpiError becomes `Error: ...` on stderr and its class's exit code."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            try:
                return fn(*args, **kwargs)
            except remote.ThroughServer as e:  # the store is held by a live server: run it there
                close_all()
                raise typer.Exit(remote.forward(e)) from None
        except ServiceKpiError as e:
            if DEBUG["on"]:
                raise
            err.print(f"Error: {e}", markup=False)
            raise typer.Exit(e.exit_code) from None
    run.guarded = True
    return run


def guard_all(app: typer.Typer) -> None:
    """Guard every command of the app and of its sub-groups (once, however often it is called)."""
    for info in app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "guarded", False):
            info.callback = guarded(info.callback)
    for group in app.registered_groups:
        guard_all(group.typer_instance)


def fail(message: str, code: int = 1):
    """Stop the command with an error: code 2 for usage errors, else `code` (1 unless a command
    documents another, e.g. serve's 3 and 4)."""
    if code == 2:
        raise UsageError(message)
    error = ServiceKpiError(message)
    error.exit_code = code
    raise error


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=err, disable=not err.is_terminal, transient=True)


OPEN: list = []


note_path = remote.note_path
_note = remote.live_note  # a note left by a server that died (kill -9) is stale: removed, it blames no one


def holder(db: Path) -> str:
    """Who holds the store: the running server (from its note) or another process."""
    note = _note(db)
    if note:
        return f"held by a running servicekpi server (pid {note.get('pid')}, {note.get('url', 'URL unknown')})"
    return "in use by another process (a running `servicekpi serve`?)"


def lock_message(db: Path) -> str:
    """Why the store cannot be opened, and what to do instead."""
    note = _note(db)
    if note:
        url = note.get("url", "the server")
        return (f"the store {db} is {holder(db)}; "
                f"push data through its API instead: POST {url}/api/ingest/<table> with a JSON array or NDJSON "
                f"(docs/server.md), read KPIs at {url}/api/kpis, or stop the server first")
    return (f"the store {db} is {holder(db)}; push data through "
            f"the server's API (POST /api/ingest/<table>, see docs/server.md) or stop that process first")


def missing_store(path: Path) -> str:
    return (f"no store at {path} (import data first: servicekpi import DIR --db {path}); "
            f"`make demo` builds a sample store in demo/servicekpi.duckdb")


def connect(path: Path, read_only: bool = False):
    """A store connection closed when the command ends (tests run many commands in one process);
    a store held by a running server is refused with what to do instead."""
    import duckdb
    if remote.serving():  # the server runs this command for the store's owner: its own connection
        return remote.served_connection(Path(path), read_only)
    if read_only and not Path(path).exists():
        raise DataError(missing_store(Path(path)))
    try:
        con = store.connect(path, read_only=read_only)
    except duckdb.IOException as e:
        if "lock" not in str(e).lower():
            raise
        note = _note(Path(path))
        if note:
            raise remote.ThroughServer(Path(path), note) from None
        raise StoreBusyError(lock_message(Path(path))) from None
    if note_path(Path(path)).exists():
        _note(Path(path))  # removes a stale note
    OPEN.append(con)
    return con


def close_all() -> None:
    while OPEN:
        try:
            OPEN.pop().close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def import_with_progress(con, path: Path, calendars=None, **kw):
    """ingest.run with a progress bar over the files, then the business seconds (stderr, terminals only)."""
    with progress() as bar:
        task = bar.add_task("importing", total=len(load.plan(path, kw.get("table"))))
        return ingest.run(con, path, calendars=calendars,
                          progress=lambda f: bar.update(task, advance=1, description=Path(f).name),
                          business_progress=lambda s: bar.update(task, description=s), **kw)


def workspace(db: Optional[Path], config: Optional[Path]):
    path = store.db_path(db)
    try:
        cfg = load_workspace(cfg_mod.find(config, path))
    except cfg_mod.ConfigError as e:
        fail(str(e))
    return path, cfg


def parse_pairs(items: List[str], what: str) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            fail(f"{what} '{item}' must look like key=value", 2)
        k, v = item.split("=", 1)
        pairs.setdefault(k.strip(), []).append(v.strip())
    return pairs


def parse_date(text: Optional[str], flag: str) -> Optional[dt.date]:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{flag} '{text}' is not a date (expected YYYY-MM-DD, e.g. 2026-10-31)", 2)


def parse_instant(text: Optional[str], tz: str) -> Optional[dt.datetime]:
    """--as-of: ISO 8601; without an offset it is read in the workspace time zone."""
    if text is None:
        return None
    from zoneinfo import ZoneInfo
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--as-of '{text}' is not a timestamp (expected ISO 8601, e.g. 2026-11-01T00:00:00Z)", 2)
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(tz))
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None)


def store_business_seconds(con, cfg) -> str:
    """Fill the stored business seconds for the config's calendars (business_store.py)."""
    with progress() as bar:
        task = bar.add_task("business seconds", total=None)
        return ingest.refresh_business(con, cfg.business(), progress=lambda s: bar.update(task, description=s))


def batches_with_progress(con, batches, calendars=None, **kw):
    """Connector output with a progress bar: over the batches; for a stream of chunks, over the bytes of
    the input read when the chunks say so (Batch.done_bytes/total_bytes), else open-ended."""
    with progress() as bar:
        if isinstance(batches, list):
            task = bar.add_task("importing", total=len(batches))
            return ingest.run(con, batches=batches, calendars=calendars,
                              progress=lambda s: bar.update(task, advance=1, description=Path(s).name),
                              business_progress=lambda s: bar.update(task, description=s), **kw)
        task = bar.add_task("importing", total=None)

        def stream():
            for b in batches:
                if b.total_bytes:
                    bar.update(task, total=b.total_bytes, completed=b.done_bytes or 0)
                else:
                    bar.update(task, advance=1)
                yield b
        return ingest.run(con, batches=stream(), calendars=calendars,
                          progress=lambda s: bar.update(task, description=Path(s).name),
                          business_progress=lambda s: bar.update(task, description=s), **kw)


def report_import(result, strict: bool) -> None:
    for f in result.files:
        if f.error:
            err.print(f"Error: {f.source}: {f.error}", markup=False)
        elif f.rejected:
            err.print(f"{f.source}: {f.rejected} row(s) rejected into quarantine "
                      f"(see: servicekpi quarantine)", markup=False)
        for n in f.notes:
            err.print(f"{f.source}: {n}", markup=False)
    if strict and not result.committed:
        err.print("Error: --strict: nothing was stored because some rows or files are invalid:", markup=False)
        for f in result.files:
            for line in ([f"{f.source}: {f.error}"] if f.error else []) + f.reasons:
                err.print(f"  {line}", markup=False)
        for line in result.unread:
            err.print(f"  {line}", markup=False)
        raise typer.Exit(1)
    out.print(result.summary(), markup=False)
    if result.file_errors:
        raise typer.Exit(1)


def print_rows(rows: list[dict], fmt: str, dims: list[str], cfg=None, heads: dict | None = None) -> None:
    """json and csv: the raw values under the column ids (a contract); table: values as people read
    them (core/display.py: durations in h/min/s, percent, signed NPS points, the configured currency),
    dimension ids as labels, and the columns under `heads` (id -> label) where given."""
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, keys)
        w.writeheader()
        w.writerows(rows)
        print(buf.getvalue().rstrip("\n"))
        return
    t = Table(*[(heads or {}).get(k, k) for k in keys])
    for r in rows:
        t.add_row(*[table_cell(r, k, dims, cfg) for k in keys])
    out.print(t)


def table_cell(row: dict, key: str, dims: list[str], cfg=None) -> str:
    """One cell of the CLI table (display only)."""
    from servicekpi.core import display
    v = row.get(key)
    if key in dims:
        return display.label(v, getattr(cfg, "labels", None), "en", key)
    if key == "value" and "unit" in row:  # None is no data: a dash, never 0 or blank
        return display.value(v, row["unit"], "en", getattr(cfg, "currency", None))
    if key == "unit" and v == "currency":  # the ISO code, never the word "currency"
        return getattr(cfg, "currency", None) or "amount"
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and not v.is_integer():
        return display.number(v, "en", 1 if abs(v) >= 10 else 2)
    return display.number(v, "en")


from servicekpi.cli.engine_options import DatasetOpt, EngineOpt, SparkMasterOpt  # noqa: E402,F401


def open_engine(kind: str, master: str, dataset: Optional[str], path_db: Path, cfg):
    """The query engine: over the DuckDB store, or over a Parquet dataset on Spark."""
    from servicekpi.engine.query import Engine
    if kind == "duckdb":
        if dataset is not None:
            fail("--dataset is read by --engine spark; the duckdb engine reads the store (--db)", 2)
        return Engine(connect(path_db, read_only=True), cfg)
    if kind != "spark":
        fail(f"--engine '{kind}' is not one of: duckdb, spark", 2)
    from servicekpi.core.errors import UsageError
    from servicekpi.engine.backends.spark import open_dataset
    try:
        return Engine(None, cfg, backend=open_dataset(master, dataset))
    except UsageError as e:
        fail(str(e), 2)
