"""`servicekpi sync zendesk`: pull a Zendesk account into the store (registered by cli.py).

The work is in connectors/zendesk_sync.py; this module parses the options, reads the token from
the environment variable named by --token-env (never from the command line, never printed) and
reports. Exit codes: 0 done, 1 the sync stopped (what came before is stored, with its cursor),
2 usage."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import typer

DbOpt = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or $SERVICEKPI_DB)")
CfgOpt = typer.Option(None, "--config", help="workspace TOML (default $SERVICEKPI_CONFIG or servicekpi.toml "
                                             "beside the store)")


def register(app: typer.Typer) -> None:
    sync = typer.Typer(no_args_is_help=True, help="Pull a tool's data through its API, resuming where the last "
                                                  "sync stopped.")
    sync.command("zendesk")(zendesk_command)
    app.add_typer(sync, name="sync")


def zendesk_command(
        subdomain: str = typer.Option(..., "--subdomain", help="the account: acme for https://acme.zendesk.com"),
        email: str = typer.Option(..., "--email", help="email of the agent or admin who owns the API token"),
        token_env: str = typer.Option(..., "--token-env", help="NAME of the environment variable that holds the "
                                                               "API token (not the token itself)"),
        since: Optional[str] = typer.Option(None, "--since", help="start from this date (YYYY-MM-DD, UTC) or ISO "
                                                                  "8601 time instead of the stored cursor; a first "
                                                                  "sync without it pulls all history"),
        base_url: Optional[str] = typer.Option(None, "--base-url", hidden=True,
                                               help="API address instead of https://SUBDOMAIN.zendesk.com "
                                                    "(test stubs)"),
        db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Pull tickets, comments (audits), ticket metrics, satisfaction ratings and user roles from Zendesk's
    incremental export API; resumes from the stored cursor."""
    from servicekpi.cli.common import DEBUG, connect, err, fail, out, progress, store_business_seconds, workspace
    from servicekpi.connectors.zendesk import sync as zs

    account = subdomain.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", account):
        hint = account.split(".")[0] if account.endswith(".zendesk.com") else "acme"
        fail(f"--subdomain '{subdomain}' is not a Zendesk subdomain (give the first part of the address: "
             f"{hint} for https://{hint}.zendesk.com)", 2)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", token_env):
        # never echo it: it may be the token itself
        fail("--token-env takes the NAME of an environment variable that holds the API token, not the token "
             "itself (e.g. export ZENDESK_API_TOKEN=... then --token-env ZENDESK_API_TOKEN)", 2)
    token = os.environ.get(token_env, "").strip()
    if not token:
        fail(f"environment variable {token_env} is not set or empty: put the Zendesk API token there (Admin "
             f"Center > Apps and integrations > APIs > Zendesk API), e.g. read -rs {token_env}; export {token_env}",
             2)
    start = parse_since(since, fail)
    base = check_base_url(base_url, fail) if base_url else f"https://{account}.zendesk.com"
    path_db, cfg = workspace(db, config)
    con = connect(path_db)
    client = zs.Client(base, email.strip(), token, sleep=lambda s: zs.sleep(s))
    try:
        with progress() as bar:
            task = bar.add_task("zendesk", total=None)
            seen = {"users": 0, "tickets": 0}

            def step(stream: str, n: int) -> None:
                seen[stream] += n
                bar.update(task, advance=n, description=f"zendesk {stream} {seen[stream]}")
            outcome = zs.sync(con, client, account, since=start, progress=step, agents=cfg.agents,
                              report=lambda note: err.print(f"zendesk: {note}", markup=False))
    except Exception as e:  # noqa: BLE001 - say what failed, without the token, without a traceback
        if DEBUG["on"]:
            raise
        fail(client.redact(f"{type(e).__name__}: {e}"))
    finally:
        client.close()
    store_business_seconds(con, cfg)  # whatever the sync stored, even when it stopped early
    for note in outcome.notes:
        err.print(f"zendesk: {note}", markup=False)
    waited = f", waited {client.waited:g} s (rate limits, retries)" if client.waited else ""
    out.print(f"synced {account}: {outcome.summary()}; {client.requests} request(s){waited}", markup=False)
    if outcome.error:
        fail(f"{outcome.error}. The sync stopped there; everything before it is stored with its cursor: run the "
             "same command again to resume.")
    if any(n.startswith("Error:") for n in outcome.notes):
        raise typer.Exit(1)


def parse_since(text: Optional[str], fail) -> Optional[int]:
    """--since as Unix seconds: a date is midnight UTC; a time without an offset is UTC."""
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
    # Zendesk refuses a start_time less than a minute old
    if t > dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1):
        fail(f"--since '{text}' is not in the past (Zendesk exports changes up to a minute ago)", 2)
    return int(t.timestamp())


def check_base_url(url: str, fail) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"--base-url '{url}' is not an http(s) address", 2)
    if parts.scheme == "http":
        try:
            loopback = parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            fail(f"--base-url '{url}' would send the API token unencrypted; use https (plain http is only "
                 "allowed on loopback, for test stubs)", 2)
    return url.rstrip("/")
