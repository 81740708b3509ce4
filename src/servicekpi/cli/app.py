"""Command line: parse -> engine -> print. Errors go to stderr as 'Error: ...'."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicekpi.analysis import calc as calc_mod
from servicekpi.core import config as cfg_mod
from servicekpi.engine.query import Engine, Query, UsageError
from servicekpi.ingest import load
from servicekpi.ingest.readers import FileError
from servicekpi.store import db as store

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="servicekpi: exact, explainable customer-service KPIs.")
out = Console(highlight=False, soft_wrap=True, emoji=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
DEBUG = {"on": False}

DbOpt = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or $SERVICEKPI_DB)")
CfgOpt = typer.Option(None, "--config", help="workspace TOML (default $SERVICEKPI_CONFIG or servicekpi.toml beside the store)")


def fail(message: str, code: int = 1) -> None:
    err.print(f"Error: {message}", markup=False)
    raise typer.Exit(code)


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=err, disable=not err.is_terminal, transient=True)


OPEN: list = []


def connect(path: Path, read_only: bool = False):
    """A store connection closed when the command ends (tests run many commands in one process)."""
    con = store.connect(path, read_only=read_only)
    OPEN.append(con)
    return con


def close_all() -> None:
    while OPEN:
        try:
            OPEN.pop().close()
        except Exception:  # noqa: BLE001 - already closed
            pass


@app.callback()
def _root(ctx: typer.Context):
    ctx.call_on_close(close_all)


def import_with_progress(con, path: Path, **kw):
    """load.run with a progress bar over the files (stderr, terminals only)."""
    with progress() as bar:
        task = bar.add_task("importing", total=len(load.plan(path, kw.get("table"))))
        return load.run(con, path, progress=lambda f: bar.update(task, advance=1, description=Path(f).name), **kw)


def workspace(db: Optional[Path], config: Optional[Path]):
    path = store.db_path(db)
    try:
        cfg = cfg_mod.load(cfg_mod.find(config, path))
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


@app.command("import")
def import_(path: Optional[Path] = typer.Argument(None, help="dataset folder (one file per table) or one file"),
            table: Optional[str] = typer.Option(None, "--table", help="table name for a single file"),
            source: Optional[str] = typer.Option(None, "--source", help="zendesk, freshdesk, chatwoot, asterisk or csv"),
            mapping: Optional[Path] = typer.Option(None, "--mapping", help="--source csv: mapping TOML or YAML"),
            dsn: Optional[str] = typer.Option(None, "--dsn", help="--source chatwoot: postgresql://... database"),
            strict: bool = typer.Option(False, "--strict", help="store nothing if any row is invalid"),
            encoding: Optional[str] = typer.Option(None, "--encoding", help="file encoding if not UTF-8"),
            source_tz: Optional[str] = typer.Option(None, "--source-tz", help="zone of times without an offset"),
            db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Validate and import canonical data, or a tool's export with --source; invalid rows go to the quarantine."""
    path_db, cfg = workspace(db, config)
    if path is None and dsn is None:
        fail("give a PATH to import (or --source chatwoot --dsn postgresql://...)", 2)
    if source is None and (mapping or dsn):
        fail("--mapping and --dsn need --source", 2)
    converted = None
    if source is not None:
        from servicekpi import connectors
        try:
            converted = connectors.convert(source, path, mapping=mapping, dsn=dsn)
        except (connectors.ConnectorError, FileError) as e:
            fail(str(e), 2 if str(e).startswith("--source") else 1)
    tz = source_tz or (converted and converted.source_tz) or cfg.timezone
    try:
        cfg_mod.check_zone(tz, "--source-tz")
    except cfg_mod.ConfigError as e:
        fail(str(e), 2)
    con = connect(path_db)
    try:
        if converted is not None:
            unread = lambda: [n for n in converted.notes if n.startswith("Error:")]  # noqa: E731
            result = batches_with_progress(con, converted.batches, strict=strict, tz=tz, unread=unread)
            for note in converted.notes:  # after the stream: a streaming connector notes as it reads
                err.print(f"{source}: {note}", markup=False)
        else:
            result = import_with_progress(con, path, table=table, strict=strict, encoding=encoding, tz=tz)
    except FileError as e:
        fail(str(e))
    if result.committed:
        store_business_seconds(con, cfg)
    report_import(result, strict)
    if converted is not None and converted.calendars:
        from servicekpi.connectors.calendars import write_calendars
        err.print(write_calendars(converted.calendars, cfg_mod.find(config, path_db), path_db), markup=False)
    if converted is not None and any(n.startswith("Error:") for n in converted.notes):
        raise typer.Exit(1)  # a source file could not be read: the rest was imported, but say so


def store_business_seconds(con, cfg) -> str:
    """Fill the stored business seconds for the config's calendars (business_store.py)."""
    from servicekpi.store import business as business_store
    with progress() as bar:
        task = bar.add_task("business seconds", total=None)
        return business_store.refresh(con, cfg.business(), progress=lambda s: bar.update(task, description=s))


@app.command("recompute")
def recompute(db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Recompute the stored business seconds after the calendars changed (import does it too)."""
    path_db, cfg = workspace(db, config)
    if not path_db.exists():
        fail(f"no store at {path_db} (import data first)")
    done = store_business_seconds(connect(path_db), cfg)
    out.print({"full": "business seconds recomputed for the current calendars",
               "incremental": "business seconds filled in for new rows",
               "none": "business seconds already up to date"}[done], markup=False)


def batches_with_progress(con, batches, **kw):
    """Connector output with a progress bar: over the batches; for a stream of chunks, over the bytes of
    the input read when the chunks say so (Batch.done_bytes/total_bytes), else open-ended."""
    with progress() as bar:
        if isinstance(batches, list):
            task = bar.add_task("importing", total=len(batches))
            return load.run_batches(con, batches, progress=lambda s: bar.update(task, advance=1,
                                                                                  description=Path(s).name), **kw)
        task = bar.add_task("importing", total=None)

        def stream():
            for b in batches:
                if b.total_bytes:
                    bar.update(task, total=b.total_bytes, completed=b.done_bytes or 0)
                else:
                    bar.update(task, advance=1)
                yield b
        return load.run_batches(con, stream(), progress=lambda s: bar.update(task, description=Path(s).name), **kw)


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


@app.command()
def quarantine(fmt: str = typer.Option("table", "--format", help="table or json"),
               db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """List rejected rows with their file, line, column and reason."""
    path_db, _ = workspace(db, config)
    rows = store.quarantine_rows(connect(path_db, read_only=True))
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if fmt != "table":
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    t = Table("table", "source", "line", "column", "reason", "raw")
    for r in rows:
        t.add_row(r["table"], r["source"], f"{r['line_kind']} {r['line']}", r["column"], r["reason"], r["raw"])
    out.print(t)
    err.print(f"{len(rows)} quarantined row(s)")


@app.command()
def erase(customer: Optional[str] = typer.Option(None, "--customer", help="customer_id to erase"),
          ticket: Optional[str] = typer.Option(None, "--ticket", help="ticket_id to erase"),
          db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Remove every trace of a customer or a ticket (data-protection requests)."""
    if (customer is None) == (ticket is None):
        fail("give exactly one of --customer ID or --ticket ID", 2)
    path_db, _ = workspace(db, config)
    removed = store.erase(connect(path_db), customer=customer, ticket=ticket)
    out.print("removed " + (", ".join(f"{n} from {t}" for t, n in removed.items()) or "nothing"), markup=False)


def _query(ids, by, dim, from_, to, where, option, tz, as_of, cfg) -> Query:
    zone = tz or cfg.timezone
    try:
        cfg_mod.check_zone(zone, "--tz")
    except cfg_mod.ConfigError as e:
        fail(str(e), 2)
    options = {k: v[-1] for k, v in parse_pairs(option, "--option").items()}
    return Query(kpis=list(ids), by=by, dims=list(dim or []), start=parse_date(from_, "--from"),
                 end=parse_date(to, "--to"), where=parse_pairs(where, "--where"), options=options, tz=zone,
                 asof=parse_instant(as_of, zone))


def _run(fn):
    try:
        return fn()
    except UsageError as e:
        fail(str(e), 2)


QUERY_HELP = {
    "by": typer.Option(None, "--by", help="day, week, month, quarter or year"),
    "dim": typer.Option(None, "--dim", help="slice by a column (repeatable)"),
    "from_": typer.Option(None, "--from", help="first local date (inclusive)"),
    "to": typer.Option(None, "--to", help="last local date (inclusive)"),
    "where": typer.Option(None, "--where", help="COLUMN=VALUE filter (repeatable)"),
    "option": typer.Option(None, "--option", help="key=value KPI option (repeatable)"),
    "tz": typer.Option(None, "--tz", help="IANA time zone for periods (default: config timezone)"),
    "as_of": typer.Option(None, "--as-of", help="ignore what happened after this instant (default now)"),
}


@app.command()
def kpi(ids: List[str] = typer.Argument(..., help="KPI ids, e.g. nps fcr_rate"),
        by: Optional[str] = QUERY_HELP["by"], dim: Optional[List[str]] = QUERY_HELP["dim"],
        from_: Optional[str] = QUERY_HELP["from_"], to: Optional[str] = QUERY_HELP["to"],
        where: Optional[List[str]] = QUERY_HELP["where"], option: Optional[List[str]] = QUERY_HELP["option"],
        tz: Optional[str] = QUERY_HELP["tz"], as_of: Optional[str] = QUERY_HELP["as_of"],
        fmt: str = typer.Option("table", "--format", help="table, json or csv"),
        explain: bool = typer.Option(False, "--explain", help="print the definition and the compiled SQL"),
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Compute KPIs by period and dimensions."""
    if fmt not in ("table", "json", "csv"):
        fail(f"--format '{fmt}' is not one of: table, json, csv", 2)
    path_db, cfg = workspace(db, config)
    q = _query(ids, by, dim, from_, to, where, option, tz, as_of, cfg)
    engine = Engine(connect(path_db, read_only=True), cfg)
    rows = _run(lambda: engine.evaluate(q))
    for note in sorted({r["note"] for r in rows if r.get("note", "").startswith("unavailable")}):
        err.print(f"{note}", markup=False)
    if explain:
        for kid in q.kpis:
            k = engine.kpi(kid)
            err.print(f"{k.id}: {k.formula} [unit {k.unit}; attribution {k.attribution or k.time}]", markup=False)
        for kids, sql in engine.sql:
            err.print(f"-- {', '.join(kids)}\n{sql}", markup=False)
    print_rows(rows, fmt, q.dims)


def print_rows(rows: list[dict], fmt: str, dims: list[str]) -> None:
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
    t = Table(*keys)
    for r in rows:
        t.add_row(*["" if r.get(k) is None else (f"{r[k]:.4g}" if isinstance(r[k], float) else str(r[k]))
                    for k in keys])
    out.print(t)


@app.command()
def rows(kpi_id: str = typer.Argument(..., metavar="ID"),
         by: Optional[str] = QUERY_HELP["by"], dim: Optional[List[str]] = QUERY_HELP["dim"],
         from_: Optional[str] = QUERY_HELP["from_"], to: Optional[str] = QUERY_HELP["to"],
         where: Optional[List[str]] = QUERY_HELP["where"], option: Optional[List[str]] = QUERY_HELP["option"],
         tz: Optional[str] = QUERY_HELP["tz"], as_of: Optional[str] = QUERY_HELP["as_of"],
         limit: int = typer.Option(100, "--limit"), offset: int = typer.Option(0, "--offset"),
         within: Optional[str] = typer.Option(None, "--within", help="sla_at_risk: window, e.g. 2h"),
         fmt: str = typer.Option("table", "--format", help="table, json or csv"),
         db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """List the records behind a KPI: the tickets, calls or answers it counted."""
    path_db, cfg = workspace(db, config)
    q = _query([kpi_id], by, dim, from_, to, where, option, tz, as_of, cfg)
    if within is not None:
        q.options["within"] = within
    engine = Engine(connect(path_db, read_only=True), cfg)
    records, total = _run(lambda: engine.rows(q, limit, offset))
    print_rows(records, fmt, q.dims)
    err.print(f"{len(records)} of {total} record(s)")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def calc(ctx: typer.Context, name: str = typer.Argument(..., help="KPI id, e.g. nps, crr, clv"),
         option: Optional[List[str]] = typer.Option(None, "--option", help="key=value KPI option"),
         fmt: str = typer.Option("table", "--format", help="table or json"),
         db: Optional[Path] = typer.Option(None, "--db", help="accepted for symmetry; calc reads no store")):
    """Run a KPI's formula on plain totals: calc nps --promoters 50 --passives 40 --detractors 10."""
    options = {k: v[-1] for k, v in parse_pairs(option, "--option").items()}
    try:
        result = calc_mod.run(name, calc_mod.parse_args(ctx.args), options)
    except UsageError as e:
        fail(str(e), 2)
    if fmt == "json":
        print(json.dumps(result))
    else:
        out.print(f"{name} = {result['value']} {result['unit']}" + (
            f" ({result['numerator']} / {result['denominator']})" if result.get("denominator") is not None else ""),
            markup=False)


@app.command()
def generate(out_dir: Path = typer.Argument(..., metavar="OUT"),
             tickets: int = typer.Option(20_000, "--tickets"), seed: int = typer.Option(7, "--seed"),
             fmt: str = typer.Option("parquet", "--format", help="parquet or csv"),
             months: int = typer.Option(6, "--months"),
             calls: Optional[int] = typer.Option(None, "--calls"),
             surveys: Optional[int] = typer.Option(None, "--surveys"),
             end: Optional[str] = typer.Option(None, "--end", help="first day after the data (default: this "
                                                                   "month's first day), e.g. 2026-11-01"),
             db: Optional[Path] = typer.Option(None, "--db", help="accepted for symmetry; generate writes files")):
    """Write a realistic sample operation (every table of the format)."""
    from servicekpi.sample.generate import generate as gen
    until = parse_date(end, "--end")
    with progress() as bar:
        task = bar.add_task("generating", total=None)
        counts = gen(out_dir, tickets=tickets, seed=seed, fmt=fmt, months=months, calls=calls, surveys=surveys,
                     end=until, progress=lambda table, n: bar.update(task, advance=n, description=table))
    out.print(", ".join(f"{t} {n}" for t, n in counts.items()), markup=False)


MAIN_KPIS = ["ticket_volume", "first_response_time", "avg_resolution_time", "resolution_rate", "fcr_rate",
             "backlog", "csat", "nps", "ces", "abandonment_rate", "call_service_level", "aht", "churn_rate"]


@app.command()
def demo(out_dir: Path = typer.Option(Path("demo"), "--out"), tickets: int = typer.Option(20_000, "--tickets"),
         db: Optional[Path] = typer.Option(None, "--db", help="store to create (default OUT/servicekpi.duckdb)")):
    """Generate about 6 months of a sample operation, import it and print the scorecard."""
    from servicekpi.analysis.scorecard import scorecard
    from servicekpi.sample.generate import generate as gen
    data = out_dir / "data"
    path_db = db or out_dir / "servicekpi.duckdb"
    check_free(path_db)
    end = dt.date.today().replace(day=1)
    with progress() as bar:
        task = bar.add_task("generating", total=None)
        gen(data, tickets=tickets, seed=7, months=6, end=end,
            progress=lambda table, n: bar.update(task, advance=n, description=f"generating {table}"))
    path_db.unlink(missing_ok=True)
    path_db.with_name(path_db.name + ".wal").unlink(missing_ok=True)
    con = store.connect(path_db)
    result = import_with_progress(con, data)
    err.print(f"imported {data}: {result.summary()}", markup=False)
    store_business_seconds(con, cfg_mod.Config())  # the demo's engine uses the default config too
    con.close()
    engine = Engine(connect(path_db, read_only=True))
    start = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _ in range(5):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    asof = dt.datetime.combine(end, dt.time())
    out.print(scorecard(engine, MAIN_KPIS, start, end - dt.timedelta(days=1), asof))
    from servicekpi.analysis.scorecard import balanced_table, build
    out.print(balanced_table(build(engine, asof=asof)))
    demo_reports(engine, end - dt.timedelta(days=1), asof, out_dir)
    out.print(f"store: {path_db} (try: servicekpi kpi nps --by month --db {path_db})", markup=False)


def check_free(path: Path) -> None:
    """Fail with a clear message when another process (a running server) holds the store: the demo
    would otherwise delete the file from under it."""
    import duckdb
    if not path.exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as e:
        if "lock" not in str(e).lower():
            raise
        from servicekpi.cli.commands.serve import holder
        fail(f"the store {path} is {holder(path)}; the demo deletes and recreates it: stop that process "
             f"first, or give the demo another folder (servicekpi demo --out OTHER)")


def demo_reports(engine: Engine, last_day: dt.date, asof: dt.datetime, out_dir: Path) -> None:
    """The demo's monthly report of the last complete month, as XLSX, HTML and PDF."""
    from servicekpi.report import data, html, pdf, xlsx
    with progress() as bar:
        task = bar.add_task("writing the report", total=4)
        report = data.build(engine, *data.month_range(last_day), "month", "en", asof)
        bar.update(task, advance=1)
        for name, writer in (("report.xlsx", xlsx.write), ("report.html", html.write), ("report.pdf", pdf.write)):
            try:
                writer(report, out_dir / name)
                out.print(f"report: {out_dir / name}", markup=False)
            except pdf.PdfError as e:  # Chromium missing: the other formats are still written
                err.print(f"report: {name} not written: {e}", markup=False)
            bar.update(task, advance=1)


@app.command("list")
def list_(lang: str = typer.Option("en", "--lang", help="en, zh, ro or th"),
          db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """The KPI catalog: id, unit, direction, options, label, and whether the store can answer it."""
    from servicekpi.catalog import LANGS, catalog, text
    if lang not in LANGS:
        fail(f"--lang '{lang}' is not one of: {', '.join(LANGS)}", 2)
    path_db, _ = workspace(db, config)
    imported = store.imported_tables(connect(path_db, read_only=True))
    t = Table("id", "family", "unit", "direction", "options", "available", "label")
    for k in catalog().kpis.values():
        missing = [x for x in k.tables if x not in imported]
        t.add_row(k.id, k.family, k.unit, k.direction, ", ".join(f"{o.name}={o.default}" for o in k.options),
                  "yes" if not missing else f"needs {', '.join(missing)}", text("kpi", k.id, "label", lang))
    out.print(t)


@app.command()
def docs(target: Path = typer.Argument(Path("docs/kpis.md")),
         db: Optional[Path] = typer.Option(None, "--db", help="accepted for symmetry; docs come from the catalog")):
    """Write the KPI reference generated from the catalog."""
    from servicekpi.catalog.docs import kpi_reference
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(kpi_reference(), encoding="utf-8")
    out.print(f"wrote {target}", markup=False)


from servicekpi.cli.commands.scorecard import scorecard_command  # noqa: E402 - it imports this module's helpers lazily

app.command("scorecard")(scorecard_command)

# feature modules add their own commands: each exposes register(app)
from servicekpi.cli.commands import check as check_cli
from servicekpi.cli.commands import report as report_cli
from servicekpi.cli.commands import serve as server_cli
from servicekpi.cli.commands import sync as sync_cli  # noqa: E402 - they import this module's helpers lazily

for _module in (report_cli, check_cli, server_cli, sync_cli):
    _module.register(app)


def main() -> None:
    if "--debug" in sys.argv:
        sys.argv.remove("--debug")
        DEBUG["on"] = True
    try:
        app()
    except Exception as e:  # noqa: BLE001 - the CLI's last resort: no traceback unless --debug
        if DEBUG["on"]:
            raise
        err.print(f"Error: {e}", markup=False)
        sys.exit(1)
