"""`servicekpi report` (XLSX, HTML or PDF by the --out extension) and `servicekpi spikes`.

cli.py calls register(app); the shared helpers are imported from servicekpi.cli inside the
functions, so this module can be imported while cli.py is still loading."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Optional

import typer

from servicekpi.cli.engine_options import DatasetOpt, EngineOpt, SparkMasterOpt

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FORMATS = (".xlsx", ".html", ".pdf")


def _range(month: Optional[str], from_: Optional[str], to: Optional[str], by: str, asof: dt.datetime, tz: str,
           months: int = 12) -> tuple[dt.date, dt.date]:
    """--month YYYY-MM (that month and the 11 before), or --from/--to, or by default the last
    complete month before the as-of instant and the 11 before it."""
    from servicekpi.cli.common import fail, parse_date
    from servicekpi.core import periods as P
    from servicekpi.report.data import month_range
    if month is not None and (from_ is not None or to is not None):
        fail("give either --month or --from/--to, not both", 2)
    if (from_ is None) != (to is None):
        fail("give both --from and --to (inclusive local dates), or --month YYYY-MM", 2)
    if month is not None:
        m = MONTH.match(month)
        if not m or not 1 <= int(m.group(2)) <= 12:
            fail(f"--month '{month}' is not a month (expected YYYY-MM, e.g. 2026-10)", 2)
        if by != "month":
            fail("--month gives twelve months; leave out --by week (or give --from/--to)", 2)
        return month_range(dt.date(int(m.group(1)), int(m.group(2)), 1), months)
    if from_ is not None:
        start, end = parse_date(from_, "--from"), parse_date(to, "--to")
        if end < start:
            fail(f"--to {end} is before --from {start}", 2)
        return start, end
    last = P.floor(P.local_date(asof, tz), "month") - dt.timedelta(days=1)  # the last complete month
    if by == "week":
        end = P.floor(P.local_date(asof, tz), "week") - dt.timedelta(days=1)
        return end - dt.timedelta(days=7 * months - 1), end
    return month_range(last, months)


def report_command(
        out_path: Path = typer.Option(..., "--out", help="the file to write: .xlsx, .html or .pdf"),
        month: Optional[str] = typer.Option(None, "--month", help="YYYY-MM: that month and the 11 before it "
                                                                  "(default: the last complete month)"),
        from_: Optional[str] = typer.Option(None, "--from", help="first local date (with --to)"),
        to: Optional[str] = typer.Option(None, "--to", help="last local date (inclusive)"),
        by: str = typer.Option("month", "--by", help="month or week"),
        lang: str = typer.Option("en", "--lang", help="en, zh, ro or th"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="ignore what happened after this instant "
                                                                  "(default now); the same --as-of gives the "
                                                                  "same report"),
        k: float = typer.Option(3.0, "--k", help="spike rule: MADs above the trailing median"),
        window: int = typer.Option(6, "--window", help="spike rule: trailing periods"),
        engine_kind: str = EngineOpt, spark_master: str = SparkMasterOpt, dataset: Optional[str] = DatasetOpt,
        db: Optional[Path] = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or "
                                                             "$SERVICEKPI_DB)"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML (default "
                                                                     "$SERVICEKPI_CONFIG or servicekpi.toml "
                                                                     "beside the store)")):
    """The monthly report: KPI tracker with targets, ticket volume with spikes, definitions and a
    live calculator, by channel and team. The format follows the extension of --out."""
    from servicekpi.catalog import LANGS
    from servicekpi.cli.common import err, fail, missing_store, open_engine, out, parse_instant, progress, workspace
    from servicekpi.engine.query import UsageError, now_utc
    from servicekpi.report import data

    suffix = out_path.suffix.lower()
    if suffix not in FORMATS:
        fail(f"--out '{out_path}': the extension must be one of {', '.join(FORMATS)}", 2)
    if lang not in LANGS:
        fail(f"--lang '{lang}' is not one of: {', '.join(LANGS)}", 2)
    if by not in ("month", "week"):
        fail(f"--by '{by}' is not one of: month, week", 2)
    if window < 3 or k < 0:
        fail("--window must be at least 3 periods and --k not negative", 2)
    path_db, cfg = workspace(db, config)
    if engine_kind == "duckdb" and not path_db.exists():
        fail(missing_store(path_db))
    asof = parse_instant(as_of, cfg.timezone) or now_utc()
    start, end = _range(month, from_, to, by, asof, cfg.timezone)
    engine = open_engine(engine_kind, spark_master, dataset, path_db, cfg)
    if from_ is None:  # --month or the default: no months before the data, none of a month without any
        start, end = data.cut_to_data(engine, start, end, by, asof)
    with progress() as bar:
        task = bar.add_task("computing the report", total=2)
        try:
            report = data.build(engine, start, end, by, lang, asof, k=k, window=window)
        except UsageError as e:
            fail(str(e), 2)
        bar.update(task, advance=1, description=f"writing {out_path.name}")
        writer = _writer(suffix)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        writer(report, out_path)
        bar.update(task, advance=1)
    for note in report.notes:
        err.print(note, markup=False)
    out.print(f"wrote {out_path} ({report.periods[0].label} – {report.periods[-1].label}, "
              f"{len(report.series)} KPIs, as of {asof:%Y-%m-%d %H:%M} UTC)", markup=False)


def _writer(suffix: str):
    from servicekpi.cli.common import fail
    if suffix == ".xlsx":
        from servicekpi.report.xlsx import write
        return write
    try:
        if suffix == ".html":
            from servicekpi.report.html import write
        else:
            from servicekpi.report.pdf import write
    except ImportError as e:
        fail(f"the {suffix[1:].upper()} renderer is not available: {e}")
    return write


def spikes_command(
        from_: Optional[str] = typer.Option(None, "--from", help="first local date (default: 12 periods "
                                                                 "before --to)"),
        to: Optional[str] = typer.Option(None, "--to", help="last local date (default: the as-of date)"),
        by: str = typer.Option("month", "--by", help="day, week or month"),
        dim: str = typer.Option("category", "--dim", help="category or channel (any ticket column)"),
        k: float = typer.Option(3.0, "--k", help="MADs above the trailing median"),
        window: int = typer.Option(6, "--window", help="trailing periods (at least 3)"),
        min_rise: Optional[float] = typer.Option(None, "--min-rise", help="least tickets above the median "
                                                                         "(default: config [spikes], else 20)"),
        min_ratio: Optional[float] = typer.Option(None, "--min-ratio", help="least volume / median (default: "
                                                                           "config [spikes], else 1.4)"),
        where: Optional[list[str]] = typer.Option(None, "--where", help="COLUMN=VALUE filter (repeatable)"),
        fmt: str = typer.Option("table", "--format", help="table or json"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="ignore what happened after this instant"),
        engine_kind: str = EngineOpt, spark_master: str = SparkMasterOpt, dataset: Optional[str] = DatasetOpt,
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """Ticket-volume spikes: periods whose volume of a category (or channel) exceeds the median +
    k x MAD of the `window` periods before it, by at least --min-rise tickets and --min-ratio times."""
    from rich.table import Table

    from servicekpi.analysis import spikes as S
    from servicekpi.analysis.spike_causes import summary as cause_summary
    from servicekpi.cli.common import fail, open_engine, out, parse_date, parse_instant, parse_pairs, workspace
    from servicekpi.core import periods as P
    from servicekpi.engine.query import UsageError, now_utc

    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    if by not in ("day", "week", "month"):
        fail(f"--by '{by}' is not one of: day, week, month", 2)
    if window < S.MIN_HISTORY or k < 0:
        fail(f"--window must be at least {S.MIN_HISTORY} periods and --k not negative", 2)
    if (min_rise is not None and min_rise < 0) or (min_ratio is not None and min_ratio < 1):
        fail("--min-rise must not be negative and --min-ratio must be at least 1", 2)
    path_db, cfg = workspace(db, config)
    asof = parse_instant(as_of, cfg.timezone) or now_utc()
    end = parse_date(to, "--to") or P.local_date(asof, cfg.timezone)
    start = parse_date(from_, "--from") or S.history_start(end, by, 11)
    if end < start:
        fail(f"--to {end} is before --from {start}", 2)
    engine = open_engine(engine_kind, spark_master, dataset, path_db, cfg)
    try:
        least = S.size_rule(engine, min_rise, min_ratio)
        found = S.spikes(engine, start, end, by, dim, k, window, asof, parse_pairs(where, "--where"), least)
    except UsageError as e:
        fail(str(e), 2)
    periods = P.build(start, end, by, cfg.timezone)
    rows = [{"period_start": periods[s.period].start.isoformat(), "dim": s.dim, "value": s.value,
             "volume": s.volume, "baseline": s.baseline, "threshold": s.threshold,
             "size": None if s.size == float("inf") else s.size, "causes": s.causes} for s in found]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
        return
    t = Table("period", dim, "volume", "baseline (median)", "threshold", "size", "what grew (share of its tickets)",
              title=f"Spikes by {dim}: volume > median + {k:g} × MAD of the {window} {by}s before, "
                    f"at least {least.min_rise:g} tickets and {least.min_ratio:g}× above it "
                    f"({cfg.timezone}, as of {asof:%Y-%m-%d %H:%M} UTC)")
    for r in rows:
        t.add_row(r["period_start"], str(r["value"]), f"{r['volume']:,}", f"{r['baseline']:,.1f}",
                  f"{r['threshold']:,.1f}", "–" if r["size"] is None else f"{r['size']:.2f}×",
                  cause_summary(r["causes"]))
    out.print(t)
    if not rows:
        out.print("no spikes", markup=False)


def register(app) -> None:
    app.command("report")(report_command)
    app.command("spikes")(spikes_command)
