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
        sort: Optional[str] = typer.Option(None, "--sort", help="with --dim: order the slices of each period by "
                                                                "this KPI's value, highest first (ID:asc for "
                                                                "lowest first), e.g. --dim agent_id --sort csat"),
        engine_kind: str = EngineOpt, spark_master: str = SparkMasterOpt, dataset: Optional[str] = DatasetOpt,
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Compute KPIs by period and dimensions."""
    if fmt not in ("table", "json", "csv"):
        fail(f"--format '{fmt}' is not one of: table, json, csv", 2)
    path_db, cfg = workspace(db, config)
    q = _query(ids, by, dim, from_, to, where, option, tz, as_of, cfg)
    engine = open_engine(engine_kind, spark_master, dataset, path_db, cfg)
    rows = _run(lambda: engine.evaluate(q))
    if sort:
        rows = _sorted(rows, sort, q, engine)
    for note in sorted({r["note"] for r in rows if r.get("note", "").startswith("unavailable")}):
        err.print(f"{note}", markup=False)
    for warning in getattr(engine, "warnings", []):
        err.print(f"note: {warning}", markup=False)
    if explain:
        for kid in q.kpis:
            k = engine.kpi(kid)
            err.print(f"{k.id}: {k.formula} [unit {k.unit}; attribution {k.attribution or k.time}]", markup=False)
        for kids, sql in engine.sql:
            err.print(f"-- {', '.join(kids)}\n{_pretty(sql)}", markup=False)
    print_rows(rows, fmt, q.dims, cfg)


def _pretty(sql: str) -> str:
    """The engine keeps SQL on one line (sql_cache.py); --explain shows it indented."""
    import sqlglot
    try:
        return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True))
    except sqlglot.errors.SqlglotError:
        return sql


def _sorted(rows: list[dict], sort: str, q: Query, engine) -> list[dict]:
    """rows with the slices of each KPI and period ordered by the sort KPI's value in that slice
    (nulls last, whatever the direction), ties by the slice's values."""
    kid, _, direction = sort.partition(":")
    if direction not in ("", "asc", "desc"):
        fail(f"--sort '{sort}': the direction after ':' is asc or desc", 2)
    if not q.dims:
        fail("--sort orders the slices of --dim: give a --dim, e.g. --dim agent_id --sort csat", 2)
    kid = _run(lambda: engine.kpi(kid)).id
    if kid not in [engine.kpi(x).id for x in q.kpis]:
        fail(f"--sort {kid}: sort by one of the KPIs asked for ({', '.join(q.kpis)})", 2)
    value = {(r["period_start"], tuple(r.get(d) for d in q.dims)): r["value"] for r in rows if r["kpi"] == kid}
    sign = 1 if direction == "asc" else -1

    def key(r):
        v = value.get((r["period_start"], tuple(r.get(d) for d in q.dims)))
        return (r["kpi"], r["period_start"] or "", v is None, sign * (v or 0),
                *[(r.get(d) is None, str(r.get(d))) for d in q.dims])
    return sorted(rows, key=key)


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
    for warning in engine.unmatched(q):
        err.print(f"note: {warning}", markup=False)
    heads = None
    if fmt == "table" and records:
        from servicekpi.catalog import column_label
        shown = table_columns(records, engine.kpi(kpi_id), q.dims)
        hidden = len(records[0]) - len(shown)
        records = [{c: r.get(c) for c in shown} for r in records]
        heads = {c: column_label(c) for c in shown}  # json and csv keep the ids
        if hidden > 0:
            err.print(f"{hidden} more column(s) not shown: --format json or csv lists them all", markup=False)
    from servicekpi.core.display import LABELLED
    labelled = list(q.dims) + [c for c in LABELLED if c not in q.dims] if fmt == "table" else list(q.dims)
    print_rows(records, fmt, labelled, cfg, heads=heads)
    err.print(f"{len(records)} of {total} record(s)")


TABLE_COLUMNS = 8  # the records table shows this many columns; json and csv show all
CONTEXT = ("score", "channel", "agent_id", "team", "category", "customer_id", "queue", "survey")
NOISE = ("customer_messages", "all_messages", "agents_involved", "excluded", "fcr_eligible")  # derived facts


def table_columns(records: list[dict], k, dims: list[str]) -> list[str]:
    """The few columns of the records that explain the number: the record's key, its period and time,
    the asked dimensions, what the KPI computed (columns not stored in its table, e.g. sla_status),
    then context (channel, agent, team ...), at most TABLE_COLUMNS."""
    from servicekpi.core.model import TABLES
    have = list(records[0])
    table = TABLES.get(k.source) or TABLES.get("tickets")
    stored = set(table.names) if table else set()
    time = k.rows_time or (k.time if isinstance(k.time, str) else None) or (table.time if table else None)
    words = set(k.formula.lower().replace("/", " ").replace(",", " ").split())
    computed = [c for c in have if c not in stored and c not in NOISE and c != "period_start" and not c.endswith("_asof")]
    named = [c for c in have if c not in NOISE and c.split("_")[0] in words]  # e.g. score, resolved_at, talk_seconds
    picks = [*(table.key if table else ()), "period_start", time, *dims, *computed, *named, *CONTEXT]
    out = []
    for c in picks:
        if c and c in have and c not in out and len(out) < TABLE_COLUMNS:
            out.append(c)
    return out


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
