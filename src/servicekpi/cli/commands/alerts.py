"""`servicekpi alerts check` and `servicekpi run-schedules` (for the system's cron)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

group = typer.Typer(add_completion=False, no_args_is_help=True, help="Alerts from the workspace config (alerts tables): check and send.")


def _setup(db, config, as_of):
    from servicekpi.cli.common import connect, fail, parse_instant, workspace
    from servicekpi.core.config import ConfigError
    from servicekpi.delivery.alerts import LocalStore
    from servicekpi.delivery.config import load
    from servicekpi.engine.query import now_utc
    path_db, cfg = workspace(db, config)
    try:
        delivery = load(cfg)
    except ConfigError as e:
        fail(str(e))
    return LocalStore(connect(path_db), cfg), delivery, parse_instant(as_of, cfg.timezone) or now_utc()


def _print(rows: list[dict], fmt: str, keys: tuple[str, ...]) -> None:
    from servicekpi.cli.common import print_rows
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, default=str))
    else:
        print_rows([{k: r.get(k) for k in keys} for r in rows], "table", [])


@group.command("check")
def check_command(
        name: Optional[List[str]] = typer.Option(None, "--name", help="only this alert (repeatable)"),
        fmt: str = typer.Option("table", "--format", help="table or json"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="evaluate at this instant (default now)"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """Evaluate every alert of the config and send what fired and was not sent yet (docs/alerts.md)."""
    from servicekpi.cli.common import err, fail
    from servicekpi.delivery.alerts import check
    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    store, delivery, now = _setup(db, config, as_of)
    if not delivery.alerts:
        err.print("no [[alerts]] in the config (see docs/alerts.md)", markup=False)
    results = check(store, delivery, now, name or None)
    _print(results, fmt, ("alert", "subject", "period", "status", "title"))
    if any(r["status"] in ("failed", "partial") for r in results):
        for r in results:
            for c in r.get("channels", []):
                if c["error"]:
                    err.print(f"Error: {r['alert']}: {c['error']}", markup=False)
        raise typer.Exit(1)


@group.command("status")
def status_command(
        fmt: str = typer.Option("table", "--format", help="table or json"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="next due instants after this one (default now)"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """List the alerts and schedules of the config with their last delivery and next due time (sends nothing)."""
    from servicekpi.cli.common import fail
    from servicekpi.delivery.overview import overview
    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    store, delivery, now = _setup(db, config, as_of)
    found = overview(store.con, delivery, now, store.cfg.timezone)
    if fmt == "json":
        print(json.dumps(found, ensure_ascii=False))
        return
    flat = lambda last, keys: " ".join(str(last[k]) for k in keys if last.get(k)) if last else "-"  # noqa: E731
    _print([{**a, "last": flat(a["last"], ("sent_at", "status", "subject", "period"))} for a in found["alerts"]],
           fmt, ("name", "kind", "recipients", "webhook", "quiet_hours", "findings_sent", "last"))
    _print([{**s, "last_run": flat(s["last_run"], ("ran_at", "status", "error"))} for s in found["schedules"]],
           fmt, ("name", "kind", "cron", "recipients", "next_due", "last_run"))


def run_schedules_command(
        name: Optional[List[str]] = typer.Option(None, "--name", help="only this schedule (repeatable)"),
        fmt: str = typer.Option("table", "--format", help="table or json"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="run as at this instant (default now)"),
        no_alerts: bool = typer.Option(False, "--no-alerts", help="run the schedules only, not alerts check"),
        db: Optional[Path] = typer.Option(None, "--db", help="store file"),
        config: Optional[Path] = typer.Option(None, "--config", help="workspace TOML")):
    """Run each schedule of the config due since its last run (and check the alerts): for the
    system's cron, e.g. `*/5 * * * * servicekpi run-schedules` (docs/alerts.md)."""
    from servicekpi.cli.common import err, fail
    from servicekpi.delivery.alerts import check
    from servicekpi.delivery.schedules import run_due
    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    store, delivery, now = _setup(db, config, as_of)
    results = run_due(store, delivery, now, name or None)
    alerts = [] if no_alerts or name else check(store, delivery, now)
    if fmt == "json":
        print(json.dumps({"schedules": results, "alerts": alerts}, default=str))
    else:
        _print(results, fmt, ("schedule", "due_at", "status", "attachments", "error"))
        if alerts:
            _print(alerts, fmt, ("alert", "subject", "period", "status", "title"))
    failed = [r for r in results if r["status"] == "failed"] + [r for r in alerts if r["status"] == "failed"]
    for r in failed:
        err.print(f"Error: {r.get('schedule') or r.get('alert')}: {r.get('error') or r.get('channels')}", markup=False)
    if failed:
        raise typer.Exit(1)


def register(app) -> None:
    app.add_typer(group, name="alerts")
    app.command("run-schedules")(run_schedules_command)
