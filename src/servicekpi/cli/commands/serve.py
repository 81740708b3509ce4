"""`servicekpi serve` and `servicekpi token create|list|revoke` (registered by cli.py).

While a server runs it holds the store file (DuckDB allows one writing process). Other commands
that open the store then run through it (cli/remote.py): common.connect meets DuckDB's lock, finds
the `<store>.serve.json` note the server writes beside the store (pid, URL, port) and the owner's
key in `<store>.serve.key` (0600), and sends the command line to POST /api/local/run."""
from __future__ import annotations

import ipaddress
import json
import os
import signal
from pathlib import Path
from typing import Optional

import typer

from servicekpi.cli.common import holder, lock_message, note_path  # noqa: F401 - re-exported

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


PORT_IN_USE = 4  # serve's exit code when the address is taken (docs/server.md)


def port_in_use(host: str, port: int) -> str | None:
    """Why host:port cannot be bound (as uvicorn binds it, with SO_REUSEADDR), or None when it can."""
    import errno
    import socket
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError:
        return None  # uvicorn says what is wrong with the host
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            return "the address is already in use" if e.errno == errno.EADDRINUSE else None
    return None


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    token = typer.Typer(no_args_is_help=True, help="API tokens: create (shown once), list, revoke.")
    token.command("create")(token_create)
    token.command("list")(token_list)
    token.command("revoke")(token_revoke)
    app.add_typer(token, name="token")


DbOpt = typer.Option(None, "--db", help="store file (default ./servicekpi.duckdb or $SERVICEKPI_DB)")
CfgOpt = typer.Option(None, "--config", help="workspace TOML (default $SERVICEKPI_CONFIG or servicekpi.toml "
                                             "beside the store)")


def serve(ctx: typer.Context, host: str = typer.Option("127.0.0.1", "--host", help="address to bind (loopback by default)"),
          port: int = typer.Option(8000, "--port", help="TCP port"),
          max_body_mb: Optional[float] = typer.Option(None, "--max-body-mb",
                                                      help="largest ingest body (default: config "
                                                           "[server] max_body_mb, else 10)"),
          db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Run the API and the dashboard (http://127.0.0.1:8000/, API docs at /api/docs). Exit codes: 1 error,
    2 usage, 3 the store failed while serving, 4 the port is in use (docs/server.md)."""
    import duckdb
    import uvicorn

    from servicekpi.cli.common import err, fail, workspace
    from servicekpi.core.config import ConfigError
    from servicekpi.server.app import create_app

    path, _ = workspace(db, config)
    if not 0 < port < 65536:
        fail(f"--port {port} is not a TCP port (1-65535)", 2)
    if max_body_mb is not None and max_body_mb <= 0:
        fail("--max-body-mb must be a positive number of megabytes", 2)
    busy = port_in_use(host, port)
    if busy:
        fail(f"cannot listen on {host}:{port}: {busy}. Another process (another servicekpi serve?) is using "
             f"that port: choose another with --port, or stop that process", PORT_IN_USE)
    try:
        app = create_app(path, config, max_body=int(max_body_mb * 1024 * 1024) if max_body_mb else None)
    except duckdb.IOException as e:
        if "lock" not in str(e).lower():
            raise
        fail(lock_message(path))
    except ConfigError as e:
        fail(str(e))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    if not is_loopback(host):
        bar = "!" * 72
        err.print(f"{bar}\nWARNING: servicekpi is listening on {host}, not on loopback: anyone who can reach "
                  f"this address can try tokens against it, and traffic is NOT encrypted (plain HTTP). "
                  f"Put it behind a TLS reverse proxy, or use --host 127.0.0.1.\n{bar}", markup=False)
    from servicekpi.cli import remote
    from servicekpi.server import local
    note = note_path(path)
    app.state.sk.local_key_hash = local.issue_key(path)  # the owner's CLI runs through us (cli/remote.py)
    app.state.sk.local_runner = remote.runner(ctx.find_root().command, app.state.sk)
    note.write_text(json.dumps({"pid": os.getpid(), "url": url, "port": port}), encoding="utf-8")
    err.print(f"servicekpi: serving {path} at {url}/ (API docs: {url}/api/docs); Ctrl-C stops", markup=False)
    from servicekpi.server.limits import exit_on_sigterm, uvicorn_options
    exit_on_sigterm()
    app.state.sk.on_invalidated = lambda: os.kill(os.getpid(), signal.SIGTERM)  # stop; exit 3 below
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", server_header=False,
                    **uvicorn_options(app.state.sk))
    finally:
        note.unlink(missing_ok=True)
        local.key_path(path).unlink(missing_ok=True)
    if getattr(app.state.sk, "invalidated", None):  # the store failed for good: a supervisor restarts us
        fail(f"the store was invalidated ({app.state.sk.invalidated}); restart the server", 3)


def _store(db: Optional[Path], config: Optional[Path]):
    from servicekpi.cli.common import connect, workspace
    from servicekpi.server import tokens
    path, _ = workspace(db, config)
    con = connect(path)
    tokens.ensure(con)
    return con


def token_create(role: str = typer.Option(..., "--role", help="admin, manager, viewer, agent or ingest"),
                 agent_id: Optional[str] = typer.Option(None, "--agent-id", help="for --role agent: its agent_id"),
                 name: Optional[str] = typer.Option(None, "--name", help="a name to find and revoke it by"),
                 db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Create a token; it is printed once, alone on the last line (only its hash is stored)."""
    from servicekpi.cli.common import err, fail, out
    from servicekpi.server import tokens
    con = _store(db, config)
    try:
        row, secret = tokens.create(con, role, agent_id, name)
    except tokens.TokenError as e:
        fail(str(e), 2)
    warning = tokens.agent_warning(con, row["role"], row["agent_id"])
    if warning:
        err.print(f"warning: {warning}", markup=False)
    who = f" for agent {row['agent_id']}" if row["agent_id"] else ""
    out.print(f"created {row['id']}{' (' + row['name'] + ')' if row['name'] else ''}: role {row['role']}{who}",
              markup=False)
    err.print("the token is shown only now; store it safely (send it as: Authorization: Bearer <token>)",
              markup=False)
    out.file.flush()
    print(secret)


def token_list(fmt: str = typer.Option("table", "--format", help="table or json"),
               revoked: bool = typer.Option(False, "--revoked", help="include revoked tokens"),
               db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Tokens with id, name, role, agent and dates (never the secrets)."""
    from rich.table import Table

    from servicekpi.cli.common import fail, out
    from servicekpi.server import tokens
    if fmt not in ("table", "json"):
        fail(f"--format '{fmt}' is not one of: table, json", 2)
    found = tokens.listing(_store(db, config), include_revoked=revoked)
    if fmt == "json":
        print(json.dumps(found))
        return
    t = Table("id", "name", "role", "agent_id", "created_at", *(["revoked_at"] if revoked else []))
    for r in found:
        t.add_row(r["id"], r["name"] or "", r["role"], r["agent_id"] or "", r["created_at"] or "",
                  *([r["revoked_at"] or ""] if revoked else []))
    out.print(t)


def token_revoke(ref: str = typer.Argument(..., metavar="ID|NAME", help="token id (tok_...) or name"),
                 db: Optional[Path] = DbOpt, config: Optional[Path] = CfgOpt):
    """Revoke a token at once; its dashboard sessions end with it."""
    from servicekpi.cli.common import fail, out
    from servicekpi.server import tokens
    try:
        row = tokens.revoke(_store(db, config), ref)
    except tokens.TokenError as e:
        fail(str(e))
    out.print(f"revoked {row['id']}{' (' + row['name'] + ')' if row['name'] else ''}", markup=False)
