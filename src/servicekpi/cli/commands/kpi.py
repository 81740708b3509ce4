"""`kpi`, `rows`, `calc`, `list` and `docs`: the catalog's numbers, the records behind them, the reference."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from servicekpi.analysis import calc as calc_mod
from servicekpi.cli.common import (
    CfgOpt,
    DatasetOpt,
    DbOpt,
    EngineOpt,
    SparkMasterOpt,
    connect,
    err,
    fail,
    open_engine,
    out,
    parse_date,
    parse_instant,
    parse_pairs,
    print_rows,
    workspace,
)
from servicekpi.core import config as cfg_mod
from servicekpi.core.errors import UsageError
from servicekpi.engine.query import Query
from servicekpi.store import db as store


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


def kpi(ids: List[str] = typer.Argument(..., help="KPI ids, e.g. nps fcr_rate"),
        by: Optional[str] = QUERY_HELP["by"], dim: Optional[List[str]] = QUERY_HELP["dim"],
        from_: Optional[str] = QUERY_HELP["from_"], to: Optional[str] = QUERY_HELP["to"],
        where: Optional[List[str]] = QUERY_HELP["where"], option: Optional[List[str]] = QUERY_HELP["option"],
        tz: Optional[str] = QUERY_HELP["tz"], as_of: Optional[str] = QUERY_HELP["as_of"],
        fmt: str = typer.Option("table", "--format", help="table, json or csv"),
        explain: bool = typer.Option(False, "--explain", help="print the definition and the compiled SQL"),
        engine_kind: str = EngineOpt, spark_master: str = SparkMasterOpt, dataset: Optional[str] = DatasetOpt,
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Compute KPIs by period and dimensions."""
    if fmt not in ("table", "json", "csv"):
        fail(f"--format '{fmt}' is not one of: table, json, csv", 2)
    path_db, cfg = workspace(db, config)
    q = _query(ids, by, dim, from_, to, where, option, tz, as_of, cfg)
    engine = open_engine(engine_kind, spark_master, dataset, path_db, cfg)
    rows = _run(lambda: engine.evaluate(q))
    for note in sorted({r["note"] for r in rows if r.get("note", "").startswith("unavailable")}):
        err.print(f"{note}", markup=False)
    if explain:
        for kid in q.kpis:
            k = engine.kpi(kid)
            err.print(f"{k.id}: {k.formula} [unit {k.unit}; attribution {k.attribution or k.time}]", markup=False)
        for kids, sql in engine.sql:
            err.print(f"-- {', '.join(kids)}\n{sql}", markup=False)
    print_rows(rows, fmt, q.dims, cfg)


def rows(kpi_id: str = typer.Argument(..., metavar="ID"),
         by: Optional[str] = QUERY_HELP["by"], dim: Optional[List[str]] = QUERY_HELP["dim"],
         from_: Optional[str] = QUERY_HELP["from_"], to: Optional[str] = QUERY_HELP["to"],
         where: Optional[List[str]] = QUERY_HELP["where"], option: Optional[List[str]] = QUERY_HELP["option"],
         tz: Optional[str] = QUERY_HELP["tz"], as_of: Optional[str] = QUERY_HELP["as_of"],
         limit: int = typer.Option(100, "--limit"), offset: int = typer.Option(0, "--offset"),
         within: Optional[str] = typer.Option(None, "--within", help="sla_at_risk: window, e.g. 2h"),
         fmt: str = typer.Option("table", "--format", help="table, json or csv"),
         engine_kind: str = EngineOpt, spark_master: str = SparkMasterOpt, dataset: Optional[str] = DatasetOpt,
         db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """List the records behind a KPI: the tickets, calls or answers it counted."""
    path_db, cfg = workspace(db, config)
    q = _query([kpi_id], by, dim, from_, to, where, option, tz, as_of, cfg)
    if within is not None:
        q.options["within"] = within
    engine = open_engine(engine_kind, spark_master, dataset, path_db, cfg)
    records, total = _run(lambda: engine.rows(q, limit, offset))
    print_rows(records, fmt, q.dims)
    err.print(f"{len(records)} of {total} record(s)")


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


def list_(lang: str = typer.Option("en", "--lang", help="en, zh, ro or th"),
          db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """The KPI catalog: id, unit, direction, options, label, and whether the store can answer it."""
    from servicekpi.catalog import LANGS, catalog, text
    if lang not in LANGS:
        fail(f"--lang '{lang}' is not one of: {', '.join(LANGS)}", 2)
    path_db, _ = workspace(db, config)
    imported = store.imported_tables(connect(path_db, read_only=True)) if path_db.exists() else set()
    t = Table("id", "family", "unit", "direction", "options", "available", "label")
    for k in catalog().kpis.values():
        missing = [x for x in k.tables if x not in imported]
        t.add_row(k.id, k.family, k.unit, k.direction, ", ".join(f"{o.name}={o.default}" for o in k.options),
                  "yes" if not missing else f"needs {', '.join(missing)}", text("kpi", k.id, "label", lang))
    out.print(t)


def docs(ctx: typer.Context, target: Path = typer.Argument(Path("docs/kpis.md")),
         cli: Optional[Path] = typer.Option(None, "--cli", help="also write the command-line reference "
                                                                 "(every --help) to this file, e.g. docs/cli.md"),
         db: Optional[Path] = typer.Option(None, "--db", help="accepted for symmetry; docs come from the catalog")):
    """Write the KPI reference generated from the catalog (and, with --cli, the command reference)."""
    from servicekpi.catalog.docs import kpi_reference
    from servicekpi.cli.reference import cli_reference
    for path, text in ((target, kpi_reference()), (cli, cli_reference(ctx.find_root().command) if cli else None)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            out.print(f"wrote {path}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(kpi)
    app.command()(rows)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(calc)
    app.command("list")(list_)
    app.command()(docs)
