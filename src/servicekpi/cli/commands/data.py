"""`import`, `recompute`, `quarantine` and `erase`: what goes into the store and what comes out of it."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from servicekpi.cli.common import (
    CfgOpt,
    DbOpt,
    batches_with_progress,
    connect,
    err,
    fail,
    import_with_progress,
    missing_store,
    out,
    report_import,
    store_business_seconds,
    workspace,
)
from servicekpi.core import config as cfg_mod
from servicekpi.core.errors import UsageError
from servicekpi.store import db as store


def import_(path: Optional[Path] = typer.Argument(None, help="dataset folder (one file per table) or one file"),
            table: Optional[str] = typer.Option(None, "--table", help="table name for a single file"),
            source: Optional[str] = typer.Option(None, "--source", help="zendesk, freshdesk, chatwoot, asterisk, "
                                                                         "hubspot, liveagent, zammad or csv"),
            mapping: Optional[Path] = typer.Option(None, "--mapping", help="--source csv: mapping TOML or YAML"),
            dsn: Optional[str] = typer.Option(None, "--dsn", help="--source chatwoot: postgresql://... database"),
            strict: bool = typer.Option(False, "--strict", help="store nothing if any row is invalid"),
            encoding: Optional[str] = typer.Option(None, "--encoding", help="file encoding if not UTF-8"),
            source_tz: Optional[str] = typer.Option(None, "--source-tz", help="zone of times without an offset"),
            db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Validate and import canonical data, or a tool's export with --source; invalid rows go to the quarantine."""
    from servicekpi.ingest.readers import FileError  # Arrow: imported by the commands that read files
    path_db, cfg = workspace(db, config)
    if path is None and dsn is None:
        fail("give a PATH to import (or --source chatwoot --dsn postgresql://...)", 2)
    if source is None and (mapping or dsn):
        fail("--mapping and --dsn need --source", 2)
    converted = None
    if source is not None:
        from servicekpi import connectors
        converted = connectors.convert(source, path, mapping=mapping, dsn=dsn)  # errors carry their exit code
    tz = source_tz or (converted and converted.source_tz) or cfg.timezone
    try:
        cfg_mod.check_zone(tz, "--source-tz")
    except cfg_mod.ConfigError as e:
        fail(str(e), 2)
    con = connect(path_db)
    try:
        if converted is not None:
            unread = lambda: [n for n in converted.notes if n.startswith("Error:")]  # noqa: E731
            result = batches_with_progress(con, converted.batches, calendars=cfg.business(), strict=strict, tz=tz,
                                           unread=unread, agents=cfg.agents, instants=cfg.instants)
            for note in converted.notes:  # after the stream: a streaming connector notes as it reads
                err.print(f"{source}: {note}", markup=False)
        else:
            result = import_with_progress(con, path, calendars=cfg.business(), table=table, strict=strict,
                                          encoding=encoding, tz=tz, agents=cfg.agents,
                                          instants=cfg.instants)
    except FileError as e:
        fail(str(e))
    report_import(result, strict)
    _refresh_rollups(con, cfg)
    if converted is not None and converted.calendars:
        from servicekpi.connectors.calendars import write_calendars
        err.print(write_calendars(converted.calendars, cfg_mod.find(config, path_db), path_db), markup=False)
    if converted is not None and any(n.startswith("Error:") for n in converted.notes):
        raise typer.Exit(1)  # a source file could not be read: the rest was imported, but say so


def recompute(db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Recompute the stored business seconds after the calendars changed (import does it too)."""
    path_db, cfg = workspace(db, config)
    if not path_db.exists():
        fail(missing_store(path_db))
    done = store_business_seconds(connect(path_db), cfg)
    out.print({"full": "business seconds recomputed for the current calendars",
               "incremental": "business seconds filled in for new rows",
               "none": "business seconds already up to date"}[done], markup=False)


def quarantine(fmt: str = typer.Option("table", "--format", help="table, json or csv"),
               db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """List rejected rows with their file, line, column and reason."""
    path_db, _ = workspace(db, config)
    rows = store.quarantine_rows(connect(path_db, read_only=True))
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, list(rows[0]) if rows else ["table", "source", "line_kind", "line", "column",
                                                             "reason", "raw"])
        w.writeheader()
        w.writerows(rows)
        print(buf.getvalue().rstrip("\n"))
        return
    if fmt != "table":
        fail(f"--format '{fmt}' is not one of: table, json, csv", 2)
    t = Table("table", "source", "line", "column", "reason", "raw")
    for r in rows:
        t.add_row(r["table"], r["source"], f"{r['line_kind']} {r['line']}", r["column"], r["reason"], r["raw"])
    out.print(t)
    err.print(f"{len(rows)} quarantined row(s)")


def erase(customer: Optional[str] = typer.Option(None, "--customer", help="customer_id to erase"),
          ticket: Optional[str] = typer.Option(None, "--ticket", help="ticket_id to erase"),
          db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Remove every trace of a customer or a ticket (data-protection requests)."""
    if (customer is None) == (ticket is None):
        fail("give exactly one of --customer ID or --ticket ID", 2)
    path_db, cfg = workspace(db, config)
    con = connect(path_db)
    removed = store.erase(con, customer=customer, ticket=ticket)
    _refresh_rollups(con, cfg)
    out.print("removed " + (", ".join(f"{n} from {t}" for t, n in removed.items()) or "nothing"), markup=False)


def export(target: str = typer.Argument(..., metavar="DIR|tickets", help="where to write the dataset: a folder, "
                                                                          "or s3://, gs://, abfs:// (pyarrow file "
                                                                          "systems); or `tickets`: one row per "
                                                                          "ticket"),
           fmt: str = typer.Option("parquet", "--format", help="parquet; for tickets csv, xlsx or parquet"),
           partition_by: Optional[str] = typer.Option(None, "--partition-by", help="month: hive partitions "
                                                                                  "sk_month=YYYY-MM (UTC)"),
           out_path: Optional[Path] = typer.Option(None, "--out", help="tickets: the file to write (default "
                                                                       "tickets.<format>; - for stdout)"),
           from_: Optional[str] = typer.Option(None, "--from", help="tickets: first local creation date"),
           to: Optional[str] = typer.Option(None, "--to", help="tickets: last local creation date (inclusive)"),
           where: Optional[List[str]] = typer.Option(None, "--where", help="tickets: COLUMN=VALUE filter "
                                                                           "(repeatable)"),
           as_of: Optional[str] = typer.Option(None, "--as-of", help="tickets: ignore what happened after this "
                                                                     "instant (default now)"),
           db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Write the store as a Parquet dataset: the canonical tables (which `import DIR` reads) and,
    under engine/, every table with the derived facts `--engine spark --dataset DIR` reads.
    `export tickets` writes one row per ticket instead: first response, resolution, replies, SLA
    outcomes and CSAT, as CSV, XLSX or Parquet."""
    from servicekpi.store import dataset
    if target == "tickets":
        return _export_tickets(fmt, out_path, from_, to, where, as_of, db, config)
    if fmt != "parquet":
        fail(f"--format '{fmt}' is not one of: parquet (a dataset is Parquet)", 2)
    path_db = store.db_path(db)
    if not path_db.exists():
        fail(missing_store(path_db))
    try:
        manifest = dataset.export(connect(path_db, read_only=True), target, partition_by)
    except UsageError as e:
        fail(str(e), 2)
    rows = sum(manifest["rows"].values())
    out.print(f"wrote {len(manifest['tables'])} tables, {rows} rows to {target}", markup=False)


def _export_tickets(fmt, out_path, from_, to, where, as_of, db, config) -> None:
    import sys

    from servicekpi.analysis import ticket_export
    from servicekpi.cli.common import parse_date, parse_instant, parse_pairs
    from servicekpi.engine.query import Engine, Query
    if fmt not in ticket_export.FORMATS:
        fail(f"--format '{fmt}' is not one of: {', '.join(ticket_export.FORMATS)}", 2)
    path_db, cfg = workspace(db, config)
    if not path_db.exists():
        fail(missing_store(path_db))
    q = Query(kpis=[], start=parse_date(from_, "--from"), end=parse_date(to, "--to"),
              where=parse_pairs(where, "--where"), tz=cfg.timezone, asof=parse_instant(as_of, cfg.timezone))
    engine = Engine(connect(path_db, read_only=True), cfg)
    try:
        table = ticket_export.tickets(engine, q)
    except UsageError as e:
        fail(str(e), 2)
    for warning in engine.unmatched(Query(kpis=["ticket_volume"], where=q.where)):
        err.print(f"note: {warning}", markup=False)
    data = ticket_export.encode(table, fmt)
    if out_path is not None and str(out_path) == "-":
        sys.stdout.buffer.write(data)
        return
    target = out_path or Path(f"tickets.{fmt}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    out.print(f"wrote {table.num_rows} ticket(s) to {target}", markup=False)


def _refresh_rollups(con, cfg) -> None:
    """Recompute the days an import or an erase changed in the enabled daily rollups."""
    from servicekpi.engine import rollups
    from servicekpi.engine.query import Engine
    if rollups.enabled(con):
        done = rollups.refresh(Engine(con, cfg))
        err.print(f"rollups: {sum(done.values())} day(s) recomputed", markup=False)


def rollup(by: Optional[List[str]] = typer.Option(None, "--by", help="dimension of the rollup (repeat), "
                                                                        "e.g. --by channel"),
           off: bool = typer.Option(False, "--off", help="drop the rollups"),
           db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Keep exact daily rollups of the additive KPIs by these dimensions (docs/scaling.md)."""
    from servicekpi.engine import rollups
    from servicekpi.engine.query import Engine
    path_db, cfg = workspace(db, config)
    con = connect(path_db)
    if off:
        rollups.disable(con)
        out.print("rollups dropped", markup=False)
        return
    if not by:
        for spec in rollups.enabled(con):
            out.print(f"{spec['name']}: by {', '.join(spec['dims'])}: {', '.join(spec['kpis'])}", markup=False)
        return
    names = rollups.enable(Engine(con, cfg), list(by))
    out.print(f"{len(names)} daily rollup(s) by {', '.join(by)} in zone {cfg.timezone}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(rollup)
    app.command()(export)
    app.command("import")(import_)
    app.command("recompute")(recompute)
    app.command()(quarantine)
    app.command()(erase)
