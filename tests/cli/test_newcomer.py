"""No dead ends for a newcomer: --version, a missing store, KPI aliases, quarantine as CSV, a
reversed range."""
from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from conftest import run, said
from servicekpi import __version__
from servicekpi.cli.app import app


def test_version():
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"servicekpi {__version__}"


def test_a_read_command_on_a_missing_store_says_so_and_creates_nothing(ws):
    r = run(ws, "kpi", "csat")
    assert r.exit_code == 1
    assert said(r.stderr, f"Error: no store at {ws.db}")
    assert said(r.stderr, "make demo")
    assert not ws.db.exists()


def test_kpi_ids_are_case_insensitive_and_common_aliases_resolve(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z",
                          "first_response_at": "2026-10-01T10:30:00Z"}])
    ws.load()
    rng = ("--from", "2026-10-01", "--to", "2026-10-31")
    by_alias = ws.kpi("frt", *rng)
    # T1 answered after 30 minutes -> 30.0 under its catalog id
    assert [(r["kpi"], r["value"]) for r in by_alias] == [("first_response_time", 30.0)]
    assert ws.kpi("TICKET_VOLUME", *rng)[0]["kpi"] == "ticket_volume"
    r = run(ws, "kpi", "frtt")
    assert r.exit_code == 2 and "first_response_time" in r.stderr  # still a suggestion for a typo


def test_quarantine_as_csv(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "not a time"},
                         {"ticket_id": "T2", "created_at": "2026-10-01T10:00:00Z"}])
    ws.load()
    r = run(ws, "quarantine", "--format", "csv")
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    # one rejected row: T1 on line 2 of tickets.csv, column created_at
    assert len(rows) == 1 and rows[0]["column"] == "created_at" and rows[0]["line"] == "2"
    assert json.loads(run(ws, "quarantine", "--format", "json").stdout)[0]["reason"] == rows[0]["reason"]


def test_from_after_to_is_a_usage_error(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z"}])
    ws.load()
    r = run(ws, "kpi", "ticket_volume", "--from", "2026-10-31", "--to", "2026-10-01")
    assert r.exit_code == 2
    assert said(r.stderr, "Error: the range starts after it ends: from 2026-10-31 is after to 2026-10-01")
