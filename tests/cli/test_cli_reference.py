"""docs/cli.md is the `--help` of every command, generated; it fails when a command or option changes
without the reference (regenerate with: servicekpi docs docs/kpis.md --cli docs/cli.md)."""
from __future__ import annotations

from pathlib import Path

import typer

from servicekpi.cli.app import app
from servicekpi.cli.reference import cli_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == cli_reference(app)


def test_every_command_is_in_the_reference():
    names = typer.main.get_command(app).commands
    text = cli_reference(app)
    missing = [n for n in names if f"## servicekpi {n}\n" not in text]
    assert not missing
    assert "## servicekpi token create" in text  # sub-commands too


def test_reference_changes_with_an_option():
    extra = typer.Typer()

    @extra.command()
    def hello(loud: bool = typer.Option(False, "--loud", help="shout")):
        """Say hello."""

    assert "--loud" in cli_reference(extra) and "shout" in cli_reference(extra)
