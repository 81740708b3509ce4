"""`servicekpi scorecard`: the balanced scorecard of one period against the targets.


"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Optional

import typer

from servicekpi.cli.engine_options import DatasetOpt, EngineOpt, SparkMasterOpt

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def scorecard_command(
        month: Optional[str] = typer.Option(None, "--month", help="the month YYYY-MM (default: the last complete "
                                                                  "period before --as-of)"),
        from_: Optional[str] = typer.Option(None, "--from", help="first local date of the period (with --to)"),
        to: Optional[str] = typer.Option(None, "--to", help="last local date of the period (inclusive)"),
        by: Optional[str] = typer.Option(None, "--by", help="month (default) or week: the default period is the "
                                                            "last complete one"),
        dim: Optional[str] = typer.Option(None, "--dim", help="slice by a dimension (per-dimension targets apply)"),
        fmt: str = typer.Option("table", "--format", help="table or json"),
        lang: str = typer.Option("en", "--lang", help="en, zh, ro or th"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="ignore what happened after this instant "
                                                                  "(default now)"),
        engine_kind: str = EngineOpt, spark_master: str = SparkMasterOpt, dataset: Optional[str] = DatasetOpt,
        db: Optional[Path] = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or "
                                                             "$SERVICEKPI_DB)"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML (default $SERVICEKPI_CONFIG "
                                                                     "or servicekpi.toml beside the store)")):
    """Balanced scorecard: each KPI with data against its target (met, at_risk, missed, no_target),
    with the change against the previous period, grouped by perspective."""
    from servicekpi.analysis.scorecard import balanced_table, build
    from servicekpi.catalog import LANGS
    from servicekpi.catalog.targets import targets_for
    from servicekpi.cli.common import err, fail, open_engine, out, parse_date, parse_instant, workspace
    from servicekpi.core.config import ConfigError
    from servicekpi.engine.query import UsageError

    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    if lang not in LANGS:
        fail(f"--lang '{lang}' is not one of: {', '.join(LANGS)}", 2)
    if by is not None and by not in ("month", "week"):
        fail(f"--by '{by}' is not one of: month, week", 2)
    if month is not None and (from_ is not None or to is not None):
        fail("give either --month or --from/--to, not both", 2)
    if month is not None and by == "week":
        fail("--month picks a month; leave out --by week (or give --from/--to)", 2)
    if (from_ is None) != (to is None):
        fail("give both --from and --to (inclusive local dates), or --month YYYY-MM", 2)
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    if month is not None:
        m = MONTH.match(month)
        if not m or not 1 <= int(m.group(2)) <= 12:
            fail(f"--month '{month}' is not a month (expected YYYY-MM, e.g. 2026-10)", 2)
        start = dt.date(int(m.group(1)), int(m.group(2)), 1)
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    path_db, cfg = workspace(db, config)
    try:
        targets = targets_for(cfg)
    except ConfigError as e:
        fail(str(e))
    asof = parse_instant(as_of, cfg.timezone)
    engine = open_engine(engine_kind, spark_master, dataset, path_db, cfg)
    try:
        card = build(engine, start, end, by or "month", asof, lang, targets, [dim] if dim else None)
    except UsageError as e:
        fail(str(e), 2)
    for note in card.notes:
        err.print(note, markup=False)
    if fmt == "json":
        print(json.dumps(card.rows, ensure_ascii=False))
        return
    out.print(balanced_table(card, lang, cfg.currency, cfg.labels))
    if not card.rows:
        err.print("no KPI has data in this period", markup=False)


def register(app) -> None:
    app.command("scorecard")(scorecard_command)
