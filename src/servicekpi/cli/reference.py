"""docs/cli.md: every command's `--help`, generated from the Typer app itself (checked by a test)."""
from __future__ import annotations

import click
import typer


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if hasattr(cmd, "commands"):  # a group (Typer may bring its own click)
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], path + [name])


def _help(cmd: click.Command, path: list[str]) -> str:
    ctx = click.Context(cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100)
    formatter = ctx.make_formatter()
    formatter.width = 100
    mode = getattr(cmd, "rich_markup_mode", None)
    cmd.rich_markup_mode = None  # Typer's plain help (rich panels print to the console instead)
    try:
        cmd.format_help(ctx, formatter)
    finally:
        cmd.rich_markup_mode = mode
    return formatter.getvalue().rstrip()


def cli_reference(app) -> str:
    """The reference as Markdown: a heading and the plain help text per command."""
    root = typer.main.get_command(app) if isinstance(app, typer.Typer) else app  # or a click command
    parts = ["# Command-line reference", "",
             "Generated from `--help` (`servicekpi docs --cli docs/cli.md`); a test fails when it is stale.", ""]
    for path, cmd in _walk(root, ["servicekpi"]):
        if getattr(cmd, "hidden", False):
            continue
        parts += [f"## {' '.join(path)}", "", "```text", _help(cmd, path), "```", ""]
    return "\n".join(parts)
