"""`generate` and `demo`: a realistic sample operation, imported and reported."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from servicekpi.cli.common import (
    connect,
    err,
    fail,
    import_with_progress,
    out,
    parse_date,
    progress,
)
from servicekpi.core import config as cfg_mod
from servicekpi.store import db as store

if TYPE_CHECKING:
    from servicekpi.engine.query import Engine


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


def demo(out_dir: Path = typer.Option(Path("demo"), "--out"), tickets: int = typer.Option(20_000, "--tickets"),
         db: Optional[Path] = typer.Option(None, "--db", help="store to create (default OUT/servicekpi.duckdb)")):
    """Generate about 6 months of a sample operation, import it and print the scorecard. Re-running it
    recreates the store and keeps its API tokens."""
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
    from servicekpi.server import tokens
    kept = tokens.saved(path_db)  # the store is recreated; the tokens handed out stay valid
    path_db.unlink(missing_ok=True)
    path_db.with_name(path_db.name + ".wal").unlink(missing_ok=True)
    con = store.connect(path_db)
    result = import_with_progress(con, data, calendars=cfg_mod.Config().business())  # the demo's engine: defaults
    err.print(f"imported {data}: {result.summary()}", markup=False)
    if kept:
        tokens.restore(con, kept)
        active = sum(1 for r in kept if r[-1] is None)
        err.print(f"kept the previous store's {len(kept)} API token(s) ({active} active; see: servicekpi token "
                  f"list --db {path_db})", markup=False)
    con.close()
    from servicekpi.engine.query import Engine
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


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(demo)
