"""`leaderboard`: one row per agent, with sample sizes and team averages (analysis/leaderboard.py)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from servicekpi.cli.common import CfgOpt, DbOpt, connect, fail, missing_store, out, parse_date, parse_instant, workspace
from servicekpi.core import periods as P
from servicekpi.core.errors import UsageError


def leaderboard(from_: Optional[str] = typer.Option(None, "--from", help="first local date (default: 30 days "
                                                                        "before --to)"),
                to: Optional[str] = typer.Option(None, "--to", help="last local date (default: the as-of date)"),
                team: Optional[str] = typer.Option(None, "--team", help="only this team's agents"),
                sort: Optional[str] = typer.Option(None, "--sort", help="tickets, frt, aht, csat, fcr, qa, name or "
                                                                        "team; add :asc for ascending (default "
                                                                        "tickets, descending)"),
                min_sample: int = typer.Option(10, "--min-sample", help="flag values from fewer answers/records"),
                fmt: str = typer.Option("table", "--format", help="table, json or csv"),
                as_of: Optional[str] = typer.Option(None, "--as-of", help="ignore what happened after this instant"),
                db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """The agent leaderboard: tickets handled, FRT, AHT, CSAT, FCR and QA score per agent, each with
    its sample size (n) and the team average; "few" marks a value from fewer than --min-sample."""
    from servicekpi.analysis import leaderboard as lb
    from servicekpi.engine.query import Engine, now_utc
    if fmt not in ("table", "json", "csv"):
        fail(f"--format '{fmt}' is not one of: table, json, csv", 2)
    if min_sample < 1:
        fail("--min-sample must be at least 1", 2)
    col, _, direction = (sort or "").partition(":")
    if direction not in ("", "asc", "desc"):
        fail(f"--sort '{sort}': the direction after ':' is asc or desc", 2)
    path_db, cfg = workspace(db, config)
    if not path_db.exists():
        fail(missing_store(path_db))
    asof = parse_instant(as_of, cfg.timezone) or now_utc()
    end = parse_date(to, "--to") or P.local_date(asof, cfg.timezone)
    start = parse_date(from_, "--from") or end - dt.timedelta(days=29)
    if end < start:
        fail(f"--to {end} is before --from {start}", 2)
    engine = Engine(connect(path_db, read_only=True), cfg)
    try:
        board = lb.board(engine, start, end, asof, team, col or None, direction != "asc", min_sample)
    except UsageError as e:
        fail(str(e), 2)
    if fmt == "json":
        print(json.dumps(board, ensure_ascii=False))
        return
    flat = [_flat(r, board["columns"]) for r in board["rows"]]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, list(flat[0]) if flat else ["agent_id", "name", "team"])
        w.writeheader()
        w.writerows(flat)
        print(buf.getvalue().rstrip("\n"))
        return
    t = Table("agent", "team", *[c["label"] for c in board["columns"]],
              title=f"Agents {start} – {end} (n = sample; team avg in brackets; few = n < {min_sample})")
    for r in board["rows"]:
        who = f"{r['name']} ({r['agent_id']})" if r["name"] else r["agent_id"]
        t.add_row(who, r["team"] or "", *[_show(r["values"][c["id"]], c["unit"]) for c in board["columns"]])
    out.print(t)
    if not board["rows"]:
        out.print("no agent has records in this range", markup=False)


def _flat(r: dict, columns: list[dict]) -> dict:
    row = {"agent_id": r["agent_id"], "name": r["name"], "team": r["team"]}
    for c in columns:
        v = r["values"][c["id"]]
        row.update({c["id"]: v["value"], f"{c['id']}_n": v["n"], f"{c['id']}_team_avg": v["team_avg"],
                    f"{c['id']}_small_sample": v["small_sample"]})
    return row


def _show(v: dict, unit: str) -> str:
    if v["value"] is None:
        return "—"

    def fmt(x):
        if unit == "seconds":
            return f"{x / 60:,.1f} min"
        if unit == "percent":
            return f"{x:.1f}%"
        return f"{x:,.0f}" if unit == "count" else f"{x:.1f}"
    avg = f" [{fmt(v['team_avg'])}]" if v["team_avg"] is not None else ""
    n = f" n={v['n']}" if v["n"] is not None and unit != "count" else ""
    return f"{fmt(v['value'])}{n}{avg}{' few' if v['small_sample'] else ''}"


def register(app: typer.Typer) -> None:
    app.command()(leaderboard)
