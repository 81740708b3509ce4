"""The CLI next to a running server: a command on a store the server holds runs through that server.

connect() meets DuckDB's lock; if `<store>.serve.json` names a live server and this user can read
`<store>.serve.key`, the command line is sent to the server's POST /api/local/run (loopback), which runs
the same command on its own connection: same output, same exit code. A note whose pid is dead is stale:
removed, never blamed."""
from __future__ import annotations

import base64
import json
import sys
import threading
from pathlib import Path

import typer
from typer import _click as click  # typer vendors click: its contexts, parameters and errors
from typer._click.core import ParameterSource
from typer._click.globals import get_current_context

from servicekpi.core.errors import StoreBusyError
from servicekpi.server import local

STDOUT = "-"  # a path option given as - means stdout (export tickets --out -): never made absolute
SERVED = threading.local()  # in the server: how this thread's command reaches the server's store


class ThroughServer(Exception):
    """Raised by connect(): run this command through the server named in the note."""

    def __init__(self, db: Path, note: dict):
        super().__init__(f"through the server at {note.get('url')}")
        self.db, self.note = db, note


def note_path(db: Path) -> Path:
    return db.with_name(db.name + ".serve.json")


def live_note(db: Path) -> dict | None:
    """The running server's note, or None; a note left by a dead server is removed with its key."""
    from servicekpi.server.limits import pid_alive
    path = note_path(db)
    try:
        note = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        note = None
    if isinstance(note, dict) and pid_alive(note.get("pid")):
        return note
    path.unlink(missing_ok=True)
    local.key_path(db).unlink(missing_ok=True)
    return None


# -- the client ------------------------------------------------------------------------------------

def command_line(ctx: click.Context, db: Path) -> list[str]:
    """The command line of ctx, from its parsed values (paths made absolute, --db always given)."""
    names, c = [], ctx
    while c.parent is not None:
        names.append(c.info_name)
        c = c.parent
    argv = list(reversed(names))
    positional = []
    for p in ctx.command.params:
        value = ctx.params.get(p.name)
        if p.name == "db":
            argv += ["--db", str(db.resolve())]
            continue
        if value is None or ctx.get_parameter_source(p.name) == ParameterSource.DEFAULT:
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        values = [str(Path(v).resolve()) if isinstance(v, Path) and str(v) != STDOUT else v for v in values]
        if p.param_type_name == "argument":
            positional += [str(v) for v in values]
        elif getattr(p, "is_flag", False) and not getattr(p, "count", False):
            flag = p.opts[0] if value else (p.secondary_opts[0] if p.secondary_opts else None)
            if flag:
                argv.append(flag)
        else:
            for v in values:
                argv += [p.opts[0], str(v)]
    return argv + ["--", *positional] if positional else argv


def forward(e: ThroughServer) -> int:
    """Run the current command through the server; print its output; its exit code."""
    ctx = get_current_context()
    try:
        key = local.key_path(e.db).read_text(encoding="utf-8").strip()
    except PermissionError:
        raise StoreBusyError(f"the store {e.db} is held by a running servicekpi server (pid {e.note.get('pid')}); "
                             f"only the store's owner can run commands through it (the key "
                             f"{local.key_path(e.db)} is not readable by this user)") from None
    except OSError:
        raise StoreBusyError(f"the store {e.db} is held by a running servicekpi server (pid {e.note.get('pid')}) "
                             f"that has no local key (started by an older version?): stop it, or use its "
                             f"API at {e.note.get('url')}") from None
    port = e.note.get("port")
    url = f"http://127.0.0.1:{port}/api/local/run" if port else f"{e.note.get('url')}/api/local/run"
    body = json.dumps({"argv": command_line(ctx, e.db)}).encode()
    import urllib.error  # here: HTTP (email, ssl, sockets) costs every command ~15 ms to import
    import urllib.request
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", local.KEY_HEADER: key})
    try:
        with urllib.request.urlopen(req, timeout=3600) as r:
            answer = json.loads(r.read())
    except urllib.error.HTTPError as h:
        try:
            why = json.loads(h.read()).get("error", h.reason)
        except ValueError:
            why = h.reason
        raise StoreBusyError(f"the store {e.db} is held by the servicekpi server at {e.note.get('url')}, "
                             f"which refused the command: {why}") from None
    except OSError as o:
        raise StoreBusyError(f"the store {e.db} is held by the servicekpi server at {e.note.get('url')} "
                             f"(pid {e.note.get('pid')}), which could not be reached on loopback: {o}") from None
    for stream, field in ((sys.stdout, "stdout"), (sys.stderr, "stderr")):
        data = base64.b64decode(answer[field])
        if data:
            stream.flush()
            if hasattr(stream, "buffer"):
                stream.buffer.write(data)
                stream.buffer.flush()
            else:
                stream.write(data.decode("utf-8", "replace"))
    return int(answer["code"])


# -- the server ------------------------------------------------------------------------------------

def runner(root: click.Command, state):
    """The server's local_runner: argv -> (exit code, stdout, stderr), on state's store, one at a time."""
    one = threading.Lock()

    def run(argv: list[str]):
        with one:
            SERVED.state, SERVED.locked = state, False
            try:
                return local.captured(lambda: _main(root, argv))
            finally:
                if SERVED.locked:
                    state.changed()
                    state.write_lock.release()
                SERVED.state = None

    return run


def served_connection(db: Path, read_only: bool):
    """In the server, the command's connection: a cursor on the server's store (writes hold the lock)."""
    state = SERVED.state
    if Path(db).resolve() != state.db_path.resolve():
        raise StoreBusyError(f"this server serves {state.db_path}, not {db}")
    if not read_only and not SERVED.locked:
        state.write_lock.acquire()
        SERVED.locked = True
    return state.cursor()


def serving() -> bool:
    return getattr(SERVED, "state", None) is not None


def _main(root: click.Command, argv: list[str]) -> int:
    try:
        result = root.main(args=argv, prog_name="servicekpi", standalone_mode=False)
    except typer.Exit as x:
        return x.exit_code
    except click.ClickException as x:
        x.show()
        return x.exit_code
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        return 1
    except SystemExit as x:
        return x.code if isinstance(x.code, int) else 1
    except Exception as x:  # noqa: BLE001 - as cli.app.main: no traceback
        print(f"Error: {x}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0
