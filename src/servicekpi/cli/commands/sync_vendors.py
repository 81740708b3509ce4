"""`servicekpi sync hubspot` and `servicekpi sync liveagent` (registered by cli.py after sync_cli).

The work is in connectors/hubspot_sync.py and connectors/liveagent_sync.py; this module parses the
options, reads the credential from the environment variable named by --token-env (never from the
command line, never printed) and reports. Exit codes: 0 done, 1 the sync stopped (what came
before is stored, with its cursor), 2 usage."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

import typer

from servicekpi.cli.commands.sync import CfgOpt, DbOpt, check_base_url, parse_since


def register(app: typer.Typer) -> None:
    group = next((g.typer_instance for g in app.registered_groups if g.name == "sync"), None)
    if group is None:
        group = typer.Typer(no_args_is_help=True, help="Pull a tool's data through its API.")
        app.add_typer(group, name="sync")
    group.command("hubspot")(hubspot_command)
    group.command("liveagent")(liveagent_command)


def _token(token_env: str, what: str, fail) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env):
        fail(f"--token-env takes the NAME of an environment variable that holds the {what}, not the {what} itself",
             2)
    token = os.environ.get(token_env, "").strip()
    if not token:
        fail(f"environment variable {token_env} is not set or empty: put the {what} there, e.g. "
             f"read -rs {token_env}; export {token_env}", 2)
    return token


def _run(name: str, account: str, client, run, db, config) -> None:
    from servicekpi.cli.common import DEBUG, connect, err, fail, out, progress, store_business_seconds, workspace
    path_db, cfg = workspace(db, config)
    con = connect(path_db)
    try:
        with progress() as bar:
            task = bar.add_task(name, total=None)
            outcome = run(con, cfg, lambda stream, n: bar.update(task, advance=n, description=f"{name} {stream}"),
                          lambda note: err.print(f"{name}: {note}", markup=False))
    except Exception as e:  # noqa: BLE001 - say what failed, without the credential, without a traceback
        if DEBUG["on"]:
            raise
        fail(client.redact(f"{type(e).__name__}: {e}"))
    finally:
        client.close()
    store_business_seconds(con, cfg)
    for note in outcome.notes:
        err.print(f"{name}: {note}", markup=False)
    waited = f", waited {client.waited:g} s (rate limits, retries)" if client.waited else ""
    out.print(f"synced {account}: {outcome.summary()}; {client.requests} request(s){waited}", markup=False)
    if outcome.error:
        fail(f"{outcome.error}. The sync stopped there; everything before it is stored with its cursor: run the "
             "same command again to resume.")
    if any(n.startswith("Error:") for n in outcome.notes):
        raise typer.Exit(1)


def hubspot_command(
        token_env: str = typer.Option(..., "--token-env", help="NAME of the environment variable that holds the "
                                                               "private app's access token (not the token itself)"),
        account: str = typer.Option("default", "--account", help="a name for this HubSpot account (e.g. its "
                                                                 "portal id): sync cursors are kept per account"),
        mapping: Optional[Path] = typer.Option(None, "--mapping", help="TOML with hubspot.stages and "
                                                                       "hubspot.scales tables (overrides)"),
        since: Optional[str] = typer.Option(None, "--since", help="start from this date (YYYY-MM-DD, UTC) or ISO "
                                                                  "8601 time instead of the stored cursors"),
        base_url: Optional[str] = typer.Option(None, "--base-url", hidden=True,
                                               help="API address instead of https://api.hubapi.com (test stubs)"),
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Pull tickets, conversation threads and messages, and feedback submissions from HubSpot (CRM v3 search
    by hs_lastmodifieddate, Conversations v3); resumes from the stored cursors."""
    from servicekpi.cli.common import fail
    from servicekpi.connectors import ConnectorError, hubspot, hubspot_sync, vendor_http
    token = _token(token_env, "HubSpot private app access token (Settings > Integrations > Private Apps)", fail)
    start = parse_since(since, fail)
    try:
        opts = hubspot.options(mapping)
    except ConnectorError as e:
        fail(str(e), 2)
    base = check_base_url(base_url, fail) if base_url else "https://api.hubapi.com"
    client = vendor_http.Client(base, {"Authorization": f"Bearer {token}"}, vendor="HubSpot",
                                refused="check the private app's token in --token-env and its scopes (tickets, "
                                        "conversations.read, crm.objects.feedback_submissions.read)",
                                sleep=lambda s: vendor_http.sleep(s))
    _run("hubspot", account, client,
         lambda con, cfg, step, say: hubspot_sync.sync(con, client, account, None if start is None else start * 1000,
                                                  opts, step, say, agents=cfg.agents), db, config)


def liveagent_command(
        domain: str = typer.Option(..., "--domain", help="the account: acme for https://acme.ladesk.com"),
        token_env: str = typer.Option(..., "--token-env", help="NAME of the environment variable that holds the "
                                                               "API v3 key (not the key itself)"),
        since: Optional[str] = typer.Option(None, "--since", help="start from this date (YYYY-MM-DD, UTC) or ISO "
                                                                  "8601 time instead of the stored cursor"),
        base_url: Optional[str] = typer.Option(None, "--base-url", hidden=True,
                                               help="API address instead of https://DOMAIN.ladesk.com/api/v3"),
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Pull agents, tickets with their message groups, and calls from LiveAgent API v3; resumes from the stored
    cursors."""
    from servicekpi.cli.common import fail
    from servicekpi.connectors import liveagent_sync, vendor_http
    account = domain.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", account):
        fail(f"--domain '{domain}' is not a LiveAgent subdomain (acme for https://acme.ladesk.com)", 2)
    token = _token(token_env, "LiveAgent API v3 key (Configuration > System > API)", fail)
    start = parse_since(since, fail)
    base = check_base_url(base_url, fail) if base_url else f"https://{account}.ladesk.com/api/v3"
    client = vendor_http.Client(base, {"apikey": token}, vendor="LiveAgent",
                                refused="check the API v3 key in --token-env and its privileges",
                                sleep=lambda s: vendor_http.sleep(s))
    _run("liveagent", account, client,
         lambda con, cfg, step, say: liveagent_sync.sync(con, client, account, start, cfg.timezone, step, say,
                                                         agents=cfg.agents),
         db, config)
