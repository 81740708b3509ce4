"""`servicekpi sync zammad`: pull a Zammad instance into the store (registered by cli.py).

The work is in connectors/zammad_sync.py; this module parses the options, reads the token from the
environment variable named by --token-env (never from the command line, never printed) and reports.
Exit codes: 0 done, 1 the sync stopped (what came before is stored, with its cursor), 2 usage."""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Optional

import typer

from servicekpi.cli.commands.sync import CfgOpt, DbOpt, check_base_url


def register(app: typer.Typer) -> None:
    for group in app.registered_groups:
        if group.name == "sync":
            group.typer_instance.command("zammad")(zammad_command)
            return
    raise RuntimeError("sync_cli must be registered before sync_zammad_cli")


def zammad_command(
        url: str = typer.Option(..., "--url", help="the instance, e.g. https://support.example.org"),
        token_env: str = typer.Option(..., "--token-env", help="NAME of the environment variable that holds the "
                                                               "API token (not the token itself)"),
        since: Optional[str] = typer.Option(None, "--since", help="start from this date (YYYY-MM-DD, UTC) or ISO "
                                                                  "8601 time instead of the stored cursor"),
        per_page: int = typer.Option(100, "--per-page", min=1, max=200, help="tickets per search page"),
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Pull tickets (search by updated_at), their articles and their history from Zammad's REST API;
    resumes from the stored cursor."""
    from servicekpi.cli.common import DEBUG, connect, err, fail, out, store_business_seconds, workspace
    from servicekpi.connectors import zammad_sync as zs

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env):
        fail("--token-env takes the NAME of an environment variable that holds the API token, not the token "
             "itself (e.g. export ZAMMAD_TOKEN=... then --token-env ZAMMAD_TOKEN)", 2)
    token = os.environ.get(token_env, "").strip()
    if not token:
        fail(f"environment variable {token_env} is not set or empty: put a Zammad API token there (Profile > "
             f"Token Access), e.g. read -rs {token_env}; export {token_env}", 2)
    start = parse_since(since, fail)
    base = check_base_url(url, fail)
    account = re.sub(r"^https?://", "", base).lower()
    path_db, cfg = workspace(db, config)
    con = connect(path_db)
    client = zs.Client(base, token, sleep=lambda s: zs.sleep(s))
    try:
        outcome = zs.sync(con, client, account, since=start, per_page=per_page, agents=cfg.agents,
                          report=lambda note: err.print(f"zammad: {note}", markup=False))
    except Exception as e:  # noqa: BLE001 - say what failed, without the token, without a traceback
        if DEBUG["on"]:
            raise
        fail(client.redact(f"{type(e).__name__}: {e}"))
    finally:
        client.close()
    store_business_seconds(con, cfg)
    for note in outcome.notes:
        err.print(f"zammad: {note}", markup=False)
    waited = f", waited {client.waited:g} s (rate limits, retries)" if client.waited else ""
    out.print(f"synced {account}: {outcome.summary()}; {client.requests} request(s){waited}", markup=False)
    if outcome.error:
        fail(f"{outcome.error}. The sync stopped there; everything before it is stored with its cursor: run the "
             "same command again to resume.")


def parse_since(text: Optional[str], fail) -> Optional[str]:
    """--since as a UTC ISO time for the search query; a date is midnight UTC."""
    if text is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            t = dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time(), dt.timezone.utc)
        else:
            t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
            t = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        fail(f"--since '{text}' is not a date or time (expected YYYY-MM-DD or ISO 8601, e.g. 2026-01-31 or "
             "2026-01-31T08:00:00Z)", 2)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
