"""`servicekpi check zendesk PATH`: compare Zendesk's own ticket_metrics with servicekpi's values.

Per ticket: reply_time_in_minutes.calendar against first_response_at - created_at, and
full_resolution_time_in_minutes.calendar against resolved_at - created_at, both as the engine
computes them (rows of first_response_time and avg_resolution_time). A difference beyond
the 1-minute rounding tolerance is reported with the facts that explain it.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer

TOLERANCE = 1.0  # minutes: Zendesk reports whole minutes
METRICS = (("first_reply", "reply_time_in_minutes", "first_response_at"),
           ("full_resolution", "full_resolution_time_in_minutes", "resolved_at"))


def register(app: typer.Typer) -> None:
    check = typer.Typer(no_args_is_help=True, help="Cross-check servicekpi's numbers with a tool's own.")
    check.command("zendesk")(zendesk_command)
    app.add_typer(check, name="check")


def zendesk_command(
        path: Path = typer.Argument(..., help="folder (or file) of Support API JSON pages with ticket_metrics"),
        fmt: str = typer.Option("table", "--format", help="table or json"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or "
                                                             "$SERVICEKPI_DB)"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML (default $SERVICEKPI_CONFIG "
                                                                     "or servicekpi.toml beside the store)")):
    """Tickets whose Zendesk first reply or full resolution time (calendar minutes) disagrees with servicekpi's."""
    from servicekpi.cli.common import connect, err, fail, out, workspace
    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    if not path.exists():
        fail(f"{path}: no such file or folder")
    metrics, notes = read_metrics(path)
    for n in notes:
        err.print(n, markup=False)
    if not metrics:
        fail(f"{path}: no ticket_metrics pages found (save GET /api/v2/ticket_metrics as JSON there; the Fivetran "
             "schema has no ticket_metrics, so its tickets cannot be cross-checked)")
    path_db, cfg = workspace(db, config)
    con = connect(path_db, read_only=True)
    from servicekpi.store.db import imported_tables
    if "tickets" not in imported_tables(con):
        fail(f"{path_db}: no tickets imported yet (run: servicekpi import {path} --source zendesk)")
    ours = ticket_values(con, cfg)
    facts = ticket_facts(con, list(metrics))
    rows = compare(metrics, ours, facts)
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
    else:
        from rich.table import Table
        t = Table("ticket_id", "metric", "zendesk_minutes", "servicekpi_minutes", "difference", "reason")
        for r in rows:
            t.add_row(r["ticket_id"], r["metric"], _show(r["zendesk_minutes"]), _show(r["servicekpi_minutes"]),
                      _show(r["difference"]), r["reason"])
        out.print(t)
    tickets = {r["ticket_id"] for r in rows}
    err.print(f"compared {len(metrics)} ticket(s) with Zendesk ticket_metrics: {len(rows)} disagreement(s) "
              f"beyond {TOLERANCE:g} minute on {len(tickets)} ticket(s)", markup=False)


def _show(v) -> str:
    return "" if v is None else f"{v:g}"


def read_metrics(path: Path) -> tuple[dict[str, dict], list[str]]:
    from servicekpi.connectors.zendesk import api as zendesk_api
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".json") \
        if path.is_dir() else [path]
    src = zendesk_api.Source()
    for p in files:
        page = zendesk_api.load(p, src)
        if page and page[0] == "ticket_metrics":
            for r in page[1]:
                if isinstance(r, dict) and r.get("ticket_id") is not None:
                    src.metrics[str(r["ticket_id"])] = r
    return src.metrics, [n for n in src.notes if n.startswith("Error")]


def ticket_values(con, cfg) -> dict[str, dict]:
    """Per ticket, through the engine's records: created_at, first_response_at, resolved_at (as of now)."""
    from servicekpi.engine.query import Engine, Query
    engine = Engine(con, cfg)
    values: dict[str, dict] = {}
    for kpi, col in (("first_response_time", "first_response_at"), ("avg_resolution_time", "resolved_at")):
        q = Query(kpis=[kpi])
        _, total = engine.rows(q, limit=1)
        rows, _ = engine.rows(q, limit=max(total, 1))
        for r in rows:
            v = values.setdefault(str(r["ticket_id"]), {})
            v["created_at"] = r["created_at"]
            v[col] = r[col]
    return values


def ticket_facts(con, ids: list[str]) -> dict[str, dict]:
    """Stored facts that explain a difference: status, reopens, exclusion, and the comments."""
    facts = {r[0]: dict(zip(("status", "reopen_count", "excluded", "has_messages", "resolved_at"), r[1:]))
             for r in con.execute("SELECT ticket_id, status, reopen_count, excluded, has_messages, resolved_at "
                                  "FROM tickets WHERE ticket_id IN (SELECT unnest(?))", [ids]).fetchall()}
    from servicekpi.store.db import imported_tables
    if "messages" not in imported_tables(con):
        return facts
    for tid, opening, private, bots, public_agent in con.execute("""
        SELECT ticket_id,
               arg_min(author, (sent_at, CASE author WHEN 'customer' THEN 0 ELSE 1 END, message_id)),
               count(*) FILTER (WHERE author = 'agent' AND NOT coalesce(public, TRUE)),
               count(*) FILTER (WHERE author IN ('bot', 'system')),
               count(*) FILTER (WHERE author = 'agent' AND coalesce(public, TRUE))
        FROM messages WHERE ticket_id IN (SELECT unnest(?)) GROUP BY ticket_id""", [ids]).fetchall():
        facts.setdefault(tid, {}).update(opening=opening, private=private, bots=bots, public_agent=public_agent)
    return facts


def _minutes(end, start) -> float | None:
    if end is None or start is None:
        return None
    a, b = (dt.datetime.fromisoformat(x) if isinstance(x, str) else x for x in (end, start))
    return round((a - b).total_seconds() / 60, 2)


def _zendesk(metric: dict, key: str) -> float | None:
    v = metric.get(key)
    v = v.get("calendar") if isinstance(v, dict) else None
    return float(v) if isinstance(v, (int, float)) else None


def compare(metrics: dict[str, dict], ours: dict[str, dict], facts: dict[str, dict]) -> list[dict]:
    out = []
    for tid in sorted(metrics, key=lambda x: (len(x), x)):
        f = facts.get(tid)
        for name, key, col in METRICS:
            theirs = _zendesk(metrics[tid], key)
            v = ours.get(tid, {})
            mine = _minutes(v.get(col), v.get("created_at"))
            if theirs is None and mine is None:
                continue
            if theirs is not None and mine is not None and abs(theirs - mine) <= TOLERANCE:
                continue
            diff = round(mine - theirs, 2) if theirs is not None and mine is not None else None
            out.append({"ticket_id": tid, "metric": name, "zendesk_minutes": theirs, "servicekpi_minutes": mine,
                        "difference": diff, "reason": reason(name, f, theirs, mine)})
    return out


def reason(metric: str, f: dict | None, theirs: float | None, mine: float | None) -> str:
    if f is None:
        return "ticket not imported (it is in ticket_metrics but not in the tickets pages)"
    if f.get("excluded"):
        return "ticket excluded in servicekpi (deleted or closed by a merge), so it has no values"
    if metric == "first_reply":
        return _reply_reason(f, theirs, mine)
    return _resolution_reason(f, theirs, mine)


def _reply_reason(f: dict, theirs, mine) -> str:
    if not f.get("has_messages"):
        return "no comments imported for this ticket (save its comments or audits pages)"
    parts = []
    if f.get("opening") == "agent":
        parts.append("an agent opened the ticket: servicekpi counts from the second public agent comment")
    if f.get("private"):
        parts.append(f"{f['private']} private agent note(s), never a reply in servicekpi")
    if f.get("bots"):
        parts.append(f"{f['bots']} bot/trigger/system comment(s), never a reply in servicekpi")
    if mine is None:
        parts.insert(0, "no public agent reply found" + (f" ({f.get('public_agent', 0)} public agent comment(s))"
                                                         if f.get("public_agent") else ""))
    elif theirs is None:
        parts.insert(0, "Zendesk has no reply time (metrics saved before the reply, or the replier was not an agent "
                        "then); servicekpi found a public agent reply")
    elif not parts:
        parts.append("servicekpi's first reply is " + ("later" if mine > theirs else "earlier")
                     + " than Zendesk's: check the authors' roles in the users pages")
    return "; ".join(parts)


def _resolution_reason(f: dict, theirs, mine) -> str:
    status = f.get("status")
    reopens = f.get("reopen_count") or 0
    if mine is None:
        if status not in ("resolved", "closed"):
            return (f"not solved now (status {status or 'unknown'}"
                    + (f", reopened {reopens} time(s)" if reopens else "")
                    + "): servicekpi keeps no resolution for an unsolved ticket")
        return "solved or closed, but no solve found in the status history (audits) nor in ticket_metrics.solved_at"
    if theirs is None:
        return "Zendesk has no full resolution time (the metrics were saved before the ticket was solved)"
    if reopens:
        return (f"reopened {reopens} time(s): servicekpi counts to the last solve in the status history; "
                "Zendesk's metrics may predate it")
    return "the last solve in the status history differs from Zendesk's solved time"
