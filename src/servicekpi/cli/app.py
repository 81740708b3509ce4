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


def main() -> None:
    if "--debug" in sys.argv:
        sys.argv.remove("--debug")
        DEBUG["on"] = True
    try:
        app()
    except Exception as e:  # noqa: BLE001 - the CLI's last resort: no traceback unless --debug
        if DEBUG["on"]:
            raise
        err.print(f"Error: {e}", markup=False)
        sys.exit(1)
