"""`export DIR --format parquet`: a dataset that `import` reads back to the same numbers, with the
engine tables Spark reads; --engine spark without a dataset says how to write one."""
from __future__ import annotations

import json

from tests.conftest import Workspace

TICKETS = [
    {"ticket_id": "t1", "created_at": "2026-03-28T22:30:00Z", "channel": "email", "status": "resolved",
     "first_response_at": "2026-03-28T23:00:00Z", "resolved_at": "2026-03-29T01:00:00Z"},
    {"ticket_id": "t2", "created_at": "2026-03-29T01:30:00Z", "channel": "chat", "status": "open"},
]


def test_export_then_import_reads_back_the_same_numbers(ws, tmp_path):
    (ws.root / "servicekpi.toml").write_text('timezone = "Europe/Bucharest"\n')
    ws.write("tickets", TICKETS)
    ws.load()
    r = ws.cli("export", str(ws.root / "ds"), "--format", "parquet", "--partition-by", "month")
    assert r.exit_code == 0, r.stdout + r.stderr
    manifest = json.loads((ws.root / "ds" / "engine" / "manifest.json").read_text())
    assert manifest["rows"]["tickets"] == 2 and manifest["partition_by"] == "month"
    assert (ws.root / "ds" / "engine" / "tickets" / "sk_month=2026-03").is_dir()  # both created in March UTC
    (tmp_path / "back").mkdir()
    back = Workspace(tmp_path / "back")
    (back.root / "servicekpi.toml").write_text('timezone = "Europe/Bucharest"\n')
    back.load(ws.root / "ds")
    args = ("ticket_volume", "resolution_rate", "--by", "day", "--from", "2026-03-29", "--to", "2026-03-29")
    assert back.kpi(*args) == ws.kpi(*args)  # instants round-trip as UTC: the same local days


def test_export_refuses_another_format(ws):
    ws.write("tickets", TICKETS)
    ws.load()
    r = ws.cli("export", str(ws.root / "ds"), "--format", "csv")
    assert r.exit_code == 2
    assert "--format 'csv' is not one of: parquet" in r.stderr


def test_spark_engine_needs_a_dataset(ws):
    ws.write("tickets", TICKETS)
    ws.load()
    r = ws.cli("kpi", "ticket_volume", "--engine", "spark", "--dataset", str(ws.root / "nowhere"))
    assert r.exit_code == 2
    assert "no engine/manifest.json there (write the dataset with: servicekpi export DIR --format parquet)" in r.stderr
