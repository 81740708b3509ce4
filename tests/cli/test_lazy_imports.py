"""`servicekpi kpi` on a warm cache imports neither Ibis nor pandas (nor Arrow, NumPy, sqlglot or Pydantic):
its SQL comes from the store's compiled-SQL cache (engine/sql_cache.py), and the command modules
import what they need when they run. Whole processes, since what a process imports is the point."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import servicekpi
from servicekpi.ingest import load
from servicekpi.store import db as store

HEAVY = ("ibis", "pandas", "pyarrow", "numpy", "sqlglot", "pydantic")
# runs the command as `servicekpi` does and prints, on its last stderr line, the heavy modules loaded
RUN = """
import atexit, json, runpy, sys
heavy = {heavy!r}
atexit.register(lambda: print("MODULES " + json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr))
sys.argv = ["servicekpi", *{args!r}]
runpy.run_module("servicekpi", run_name="__main__")
"""


def modules(*args: str) -> tuple[list[str], str]:
    env = {**os.environ, "PYTHONPATH": str(Path(servicekpi.__file__).parents[1])}  # this tree's package
    r = subprocess.run([sys.executable, "-c", RUN.format(heavy=HEAVY, args=list(args))], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("MODULES "), r.stderr
    return json.loads(last[len("MODULES "):]), r.stdout


def test_a_warm_kpi_command_imports_no_ibis_nor_pandas(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tickets.csv").write_text(
        "ticket_id,created_at,channel\nT1,2026-10-05T10:00:00Z,email\nT2,2026-10-15T10:00:00Z,chat\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    con = store.connect(db)
    load.run(con, tmp_path / "data")
    con.close()
    args = ("kpi", "ticket_volume", "--by", "month", "--from", "2026-10-01", "--to", "2026-10-31",
            "--format", "json", "--db", str(db))
    cold, first = modules(*args)
    assert "ibis" in cold  # the first run compiles: the check sees Ibis when it is imported
    warm, again = modules(*args)
    assert warm == []
    assert json.loads(again) == json.loads(first)
    assert [r["value"] for r in json.loads(again)] == [2]  # T1 and T2 in October


def test_a_run_builds_only_the_command_it_runs():
    from servicekpi.cli import app as cli_app
    kpi = cli_app.only("kpi")
    assert [cli_app.command_name(c) for c in kpi.registered_commands] == ["kpi"] and not kpi.registered_groups
    sync = cli_app.only("sync")
    assert [g.name for g in sync.registered_groups] == ["sync"] and not sync.registered_commands
    assert cli_app.only("kpii") is cli_app.app  # an unknown name: the whole app, which suggests `kpi`
    every = {cli_app.command_name(c) for c in cli_app.app.registered_commands}
    assert {"import", "list", "report", "scorecard", "run-schedules"} <= every


def test_a_warm_kpi_answered_from_a_daily_rollup_imports_no_ibis(tmp_path):
    from servicekpi.engine import rollups
    from servicekpi.engine.query import Engine
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tickets.csv").write_text(
        "ticket_id,created_at,channel\nT1,2026-10-05T10:00:00Z,email\nT2,2026-10-15T10:00:00Z,chat\n"
        "T3,2026-10-16T10:00:00Z,email\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    con = store.connect(db)
    load.run(con, tmp_path / "data")
    rollups.enable(Engine(con), ["channel"])
    con.close()
    args = ("kpi", "ticket_volume", "--by", "month", "--dim", "channel", "--from", "2026-10-01", "--to",
            "2026-10-31", "--format", "json", "--db", str(db))
    cold, first = modules(*args)
    assert "ibis" in cold
    kept = [p.read_text(encoding="utf-8") for p in (tmp_path / "store.duckdb.sqlcache").glob("*.json")]
    assert any('"key": "rollup\\n' in k and "answered from the daily rollup" in k for k in kept)
    warm, again = modules(*args)
    assert warm == []  # the rollup's answer SQL came from the store's SQL files too
    # October: email T1 and T3, chat T2
    assert {(r["channel"], r["value"]) for r in json.loads(again)} == {("email", 2), ("chat", 1)}
    assert json.loads(again) == json.loads(first)
