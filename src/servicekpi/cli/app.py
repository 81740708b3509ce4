"""The `servicekpi` command: one Typer app; each command group lives in commands/ and registers itself.

Errors: a ServiceKpiError raised anywhere below a command becomes `Error: ...` on stderr and the
exit code its class carries (core/errors.py): the one place that maps errors to exit codes."""
from __future__ import annotations

import sys

import typer

from servicekpi.cli.commands import (
    alerts,
    check,
    data,
    demo,
    followups,
    forecast,
    kpi,
    ops,
    people,
    report,
    scorecard,
    serve,
    sync,
    sync_vendors,
    sync_zammad,
)
from servicekpi.cli.common import DEBUG, close_all, err, guard_all
from servicekpi.cli.fast_params import install as plain_params

plain_params()  # no Pydantic for plain option values (fast_params.py)
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="servicekpi: exact, explainable customer-service KPIs.")


def _version(value: bool) -> None:
    if value:
        from servicekpi import __version__
        print(f"servicekpi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(ctx: typer.Context, version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                                           help="print the version and exit")):
    ctx.call_on_close(close_all)


for _group in (data, kpi, demo, scorecard, report, followups, alerts, ops, forecast, check, serve, sync, sync_vendors,
               sync_zammad, people):
    _group.register(app)
guard_all(app)  # every ServiceKpiError -> its exit code, here


def command_name(info) -> str:
    """A registered command's name as typed: its given name, else its function's (dashes for underscores)."""
    return info.name or info.callback.__name__.lower().replace("_", "-")


def only(name: str) -> typer.Typer:
    """The app with only the command (or group) `name`, when it has one by that name; else the
    app. Typer builds its click command from every registered function's signature (~0.1-0.3 s),
    so a run builds just the one it runs; --help and an unknown name still get the whole app."""
    if name == "serve":  # the server runs its owner's CLI commands (POST /api/local/run): it needs them all
        return app
    commands = [c for c in app.registered_commands if command_name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help=app.info.help)
    one.registered_callback = app.registered_callback
    one.registered_commands = commands
    one.registered_groups = groups
    return one


def main() -> None:
    if "--debug" in sys.argv:
        sys.argv.remove("--debug")
        DEBUG["on"] = True
    first = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    try:
        only(first)() if first else app()
    except Exception as e:  # noqa: BLE001 - the CLI's last resort: no traceback unless --debug
        if DEBUG["on"]:
            raise
        err.print(f"Error: {e}", markup=False)
        sys.exit(1)
