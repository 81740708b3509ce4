"""`servicekpi followups`: the follow-up queue; `servicekpi followups done ID --note ...` marks one."""
from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Optional

import typer

COLUMNS = ("id", "customer_id", "ticket_id", "agent_id", "channel", "kind", "score", "comment", "age")

group = typer.Typer(add_completion=False, invoke_without_command=True,
                    help="Unhappy answers (NPS 0-6, CSAT below the top-2 box, thumbs down) and negative "
                         "feedback that no later contact followed up, oldest first.")


@group.callback()
def followups_command(
        ctx: typer.Context,
        since: Optional[str] = typer.Option(None, "--since", help="only items received on or after this local "
                                                                  "date (YYYY-MM-DD)"),
        agent: Optional[str] = typer.Option(None, "--agent", help="only the items of this agent_id"),
        all_: bool = typer.Option(False, "--all", help="also the items already followed up, with how and when"),
        fmt: str = typer.Option("table", "--format", help="table, json or csv"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="ignore what happened after this instant"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """The follow-up queue (see docs/alerts.md, Follow-ups)."""
    if ctx.invoked_subcommand is not None:
        return
    from servicekpi.analysis.followups import items
    from servicekpi.cli.common import connect, err, fail, parse_date, parse_instant, print_rows, workspace
    from servicekpi.core import periods as P
    from servicekpi.engine.query import now_utc

    if fmt not in ("table", "json", "csv"):
        fail(f"--format '{fmt}' is not one of: table, json, csv", 2)
    path_db, cfg = workspace(db, config)
    asof = parse_instant(as_of, cfg.timezone) or now_utc()
    day = parse_date(since, "--since")
    found = items(connect(path_db, read_only=True), asof, P.utc(day, cfg.timezone) if day else None,
                  cfg.timezone, agent, all_)
    for note in found["notes"]:
        err.print(note, markup=False)
    rows = found["rows"]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    keys = [*COLUMNS, *(("followed_up_by", "followed_up_at") if all_ else ())]
    print_rows([{k: r.get(k) for k in keys} for r in rows], fmt, [])
    if fmt == "table":
        err.print(f"{len(rows)} item(s) to follow up" if not all_ else f"{len(rows)} item(s)", markup=False)


@group.command("done")
def done_command(
        item_id: str = typer.Argument(..., metavar="ID", help="an id from the queue, e.g. survey:R12"),
        note: Optional[str] = typer.Option(None, "--note", help="what was done (kept in the audit trail)"),
        by: Optional[str] = typer.Option(None, "--by", help="who followed up (default: the system user)"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """Mark one item followed up (stored with who and when in followup_marks)."""
    from servicekpi.analysis.followups import FollowupError, mark
    from servicekpi.cli.common import connect, fail, out, workspace
    from servicekpi.engine.query import now_utc

    path_db, cfg = workspace(db, config)
    con = connect(path_db)
    con.execute("BEGIN")
    try:
        done = mark(con, item_id, by or getpass.getuser(), "cli", note, now_utc(), cfg.timezone)
        con.execute("COMMIT")
    except FollowupError as e:
        con.execute("ROLLBACK")
        fail(str(e), 2 if e.status == 400 else 1)
    out.print(f"{done['id']} marked followed up by {done['marked_by']} at {done['marked_at']}", markup=False)


def register(app) -> None:
    app.add_typer(group, name="followups")
