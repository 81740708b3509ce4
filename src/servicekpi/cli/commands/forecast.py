"""`servicekpi forecast KPI --by day|week --horizon N [--dim D] [--backtest] --format json|table|csv`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def forecast_command(
        kpi: str = typer.Argument(..., help="ticket_volume or calls_offered"),
        by: str = typer.Option("day", "--by", help="day or week"),
        horizon: int = typer.Option(28, "--horizon", help="periods to forecast after the last one with data"),
        dim: Optional[str] = typer.Option(None, "--dim", help="channel, category, queue, ... (one series each)"),
        backtest: bool = typer.Option(False, "--backtest", help="print the backtest of every candidate "
                                                                "(it always chooses the model)"),
        from_: Optional[str] = typer.Option(None, "--from", help="first local date of the history"),
        to: Optional[str] = typer.Option(None, "--to", help="last local date of the history"),
        fmt: str = typer.Option("json", "--format", help="json, table or csv"),
        tz: Optional[str] = typer.Option(None, "--tz", help="time zone (default: the workspace's)"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """Forecast a volume KPI (seasonal naive, ETS, Theta; chosen by a rolling-origin backtest)."""
    from servicekpi.analysis.forecast_query import build, check
    from servicekpi.cli.commands.ops import FORMATS, emit
    from servicekpi.cli.common import connect, fail, out, parse_date, workspace
    from servicekpi.engine.query import Engine, UsageError
    if fmt not in FORMATS:
        fail(f"--format '{fmt}' is not one of: {', '.join(FORMATS)}", 2)
    check(kpi, by, horizon)
    path_db, cfg = workspace(db, config)
    engine = Engine(connect(path_db, read_only=True), cfg)
    try:
        result = build(engine, kpi, by, horizon, dim, tz or cfg.timezone, parse_date(from_, "--from"),
                       parse_date(to, "--to"))
    except UsageError as e:
        fail(str(e), 2)
    if fmt == "json":
        emit(result.pop("rows"), "json", result)
        return
    # flat formats: the `holiday` column already names each holiday (with its date on a week row)
    rows = [{k: v for k, v in r.items() if k != "holidays"} for r in result["rows"]]
    if fmt == "csv":
        emit(rows, "csv")
        return
    from rich.table import Table
    cols = list(dict.fromkeys(k for r in rows for k in r))
    t = Table(*cols)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    out.print(t)
    out.print(f"model: {result['model']}" + (f"; {result.get('note')}" if result.get("note") else ""), markup=False)
    if backtest and result.get("backtest"):
        out.print(f"backtest (rolling origin, MASE / MAPE %): {result['backtest']}", markup=False)


def register(app) -> None:
    app.command("forecast")(forecast_command)
