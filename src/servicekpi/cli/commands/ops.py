"""`servicekpi staffing` (Erlang C / Erlang A) and `servicekpi forecast`.

cli.py calls register(app); shared helpers are imported from servicekpi.cli inside the functions."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Optional

import typer

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$")
TARGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
FORMATS = ("json", "table", "csv")
TABLE_COLUMNS = ("weekday", "interval_start", "queue", "channel", "calls", "aht_seconds", "model", "agents",
                 "scheduled_agents", "service_level", "service_level_answered", "asa_seconds", "occupancy",
                 "wait_probability", "abandon_probability", "patience_seconds")


def seconds(text: str, flag: str) -> float:
    from servicekpi.cli.common import fail
    m = DURATION.match(text)
    if not m:
        fail(f"{flag} '{text}' is not a duration (expected e.g. 30m, 1h or 1800s)", 2)
    return float(m.group(1)) * {"s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]


def emit(rows: list[dict], fmt: str, extra: Optional[dict] = None) -> None:
    from servicekpi.cli.common import out
    if fmt == "json":
        out.print(json.dumps(rows if extra is None else {**extra, "rows": rows}, indent=2, default=str),
                  markup=False)
        return
    cols = [c for c in TABLE_COLUMNS if any(c in r for r in rows)] if fmt == "table" else \
        list(dict.fromkeys(k for r in rows for k in r))
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        out.print(buf.getvalue(), end="", markup=False)
        return
    from rich.table import Table
    t = Table(*cols)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    out.print(t)
    if rows and "max_occupancy_percent" in rows[0]:
        r = rows[0]
        out.print(f"target {r['target_percent']:g}% in {r['threshold_seconds']:g} s; occupancy cap "
                  f"{r['max_occupancy_percent']:g}%; shrinkage {r['shrinkage_percent']:g}%", markup=False)


def staffing_command(
        calls: Optional[float] = typer.Option(None, "--calls", help="calls offered per interval"),
        interval: str = typer.Option("30m", "--interval", help="interval length with --calls: 30m, 1h, 900s"),
        aht: Optional[float] = typer.Option(None, "--aht", help="average handle time in seconds (with --calls)"),
        target: str = typer.Option("80/20", "--target", help="service level target: PERCENT/SECONDS, e.g. 80/20"),
        agents: Optional[int] = typer.Option(None, "--agents", help="evaluate this many agents instead of searching"),
        patience: Optional[float] = typer.Option(None, "--patience", help="mean patience in seconds: Erlang A"),
        shrinkage: float = typer.Option(0.0, "--shrinkage", help="percent of paid time not on the phones"),
        max_occupancy: Optional[float] = typer.Option(None, "--max-occupancy",
                                                      help="occupancy cap in percent (default 85)"),
        from_data: bool = typer.Option(False, "--from-data", help="arrivals and AHT per weekday x interval "
                                                                  "from the calls table"),
        from_: Optional[str] = typer.Option(None, "--from", help="first local date of the history (with --from-data)"),
        to: Optional[str] = typer.Option(None, "--to", help="last local date (inclusive)"),
        by: str = typer.Option("halfhour", "--by", help="halfhour or hour (with --from-data)"),
        dim: Optional[str] = typer.Option(None, "--dim", help="queue or channel (calls); channel, category "
                                                              "or team (tickets)"),
        source: str = typer.Option("calls", "--source", help="calls, or tickets for async channels (with "
                                                             "--from-data; tickets need --aht)"),
        model: str = typer.Option("auto", "--model", help="auto (Erlang A when patience is given or estimated), "
                                                          "erlang_c or erlang_a"),
        forecast: bool = typer.Option(False, "--forecast", help="scale the weekly pattern to next week's "
                                                                "forecast of calls_offered"),
        week: int = typer.Option(1, "--week", help="with --forecast: the Nth week after the last one with "
                                                   "data (1-52)"),
        fmt: str = typer.Option("table", "--format", help="json, table or csv"),
        tz: Optional[str] = typer.Option(None, "--tz", help="time zone (default: the workspace's)"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """Agents needed per interval for a service level target (Erlang C; Erlang A with patience)."""
    from servicekpi.analysis import staffing as S
    from servicekpi.cli.common import fail, parse_date
    if fmt not in FORMATS:
        fail(f"--format '{fmt}' is not one of: {', '.join(FORMATS)}", 2)
    if model not in ("auto", "erlang_c", "erlang_a"):
        fail(f"--model '{model}' is not one of: auto, erlang_c, erlang_a", 2)
    m = TARGET.match(target)
    if not m:
        fail(f"--target '{target}' is not PERCENT/SECONDS (e.g. 80/20: 80% answered within 20 s)", 2)
    share, threshold = float(m.group(1)) / 100, float(m.group(2))
    cap = S.DEFAULT_MAX_OCCUPANCY if max_occupancy is None else max_occupancy / 100
    if model == "erlang_c" and patience is not None:
        fail("--model erlang_c ignores patience; leave out --patience or use --model erlang_a", 2)
    common = dict(target=share, threshold=threshold, agents=agents, shrinkage=shrinkage / 100, max_occupancy=cap)
    if forecast and not from_data:
        fail("--forecast needs --from-data (the weekly pattern comes from the calls table)", 2)
    if week != 1 and not forecast:
        fail("--week needs --forecast", 2)
    if not from_data:
        if calls is None or aht is None:
            fail("give --calls and --aht (plain numbers), or --from-data", 2)
        if model == "erlang_a" and patience is None:
            fail("--model erlang_a needs --patience SECONDS", 2)
        try:
            rows = [S.plan(calls, seconds(interval, "--interval"), aht, patience=patience, **common)]
        except S.StaffingError as e:
            fail(str(e))
        emit(rows, fmt)
        return
    if calls is not None or (aht is not None and source == "calls"):
        fail("--from-data takes arrivals and AHT from the store; leave out --calls and --aht", 2)
    if source == "tickets" and aht is None:
        fail("--source tickets needs --aht SECONDS: the store holds no handle time for tickets", 2)
    from servicekpi.analysis import staffing_data as D
    from servicekpi.cli.common import connect, workspace
    path_db, cfg = workspace(db, config)
    zone = tz or cfg.timezone
    con = connect(path_db, read_only=True)
    try:
        data = D.load(con, zone, by, dim, parse_date(from_, "--from"), parse_date(to, "--to"), source)
    except D.DataError as e:
        fail(str(e))
    scale, note = 1.0, None
    if forecast:
        from servicekpi.analysis.forecast_staffing import weekly_scale
        try:
            scale, note = weekly_scale(con, cfg, zone, data, dim, "ticket_volume" if source == "tickets" else "calls_offered",
                                       week)
        except ValueError as e:
            fail(str(e))
    try:
        rows = D.plan_rows(data, by, dim, model, patience, scale, aht=aht, **common)
    except D.DataError as e:
        fail(str(e))
    extra = {"tz": zone, "from": str(data["from"]), "to": str(data["to"]), "by": by}
    if note:
        extra["forecast"] = note
    if fmt == "json":
        emit(rows, fmt, extra)
    else:
        emit(rows, fmt)


def register(app: typer.Typer) -> None:
    app.command("staffing")(staffing_command)
