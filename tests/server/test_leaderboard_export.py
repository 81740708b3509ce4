"""The agent leaderboard and the per-ticket export (issue 13 items 7 and 8): CLI and API, the
dashboard's contract (web/src/leaderboard.js), an agent seeing only its own row, hand-computed values.

The store (api_support): October-November 2026, Europe/Bucharest
  a1 (team red):  T1 created 10-01 09:00Z, first response 09:30 (30 min), resolved 11:00; CSAT R1 = 5
                  T3 created 10-05 09:10Z, no response, resolved 10-06 09:00
                  T5 created 11-10 07:30Z, open
  a2 (team blue): T2 created 10-02 14:00Z, first response 15:00 (60 min); CSAT R2 = 2
                  T4 created 11-03 16:00Z, resolved 17:00; CSAT R3 = 4"""
from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
from api_support import ASOF, bearer, srv  # noqa: F401 - fixture

from conftest import Workspace, run

RANGE = {"from": "2026-10-01", "to": "2026-11-30", "as_of": ASOF}


def get(srv, path, role="viewer", **params):
    return srv.client.get(path, params={**RANGE, **params}, headers=bearer(srv.tokens[role]))


def test_the_leaderboard_answers_the_dashboards_contract(srv):
    body = get(srv, "/api/leaderboard", min_sample=2).json()
    assert body["ok"] and body["min_sample"] == 2 and (body["from"], body["to"]) == ("2026-10-01", "2026-11-30")
    cols = {c["id"]: c for c in body["columns"]}
    assert {"tickets", "frt", "csat", "fcr"} <= set(cols) and cols["frt"]["unit"] == "seconds"
    assert "aht" not in cols  # no calls imported: the column is left out, not shown as zeros
    rows = {r["agent_id"]: r for r in body["rows"]}
    a1, a2 = rows["a1"]["values"], rows["a2"]["values"]
    assert (rows["a1"]["team"], rows["a2"]["team"]) == ("red", "blue")
    # tickets handled: a1 3 (T1 T3 T5), a2 2; one agent per team, so the team average is the same count
    assert (a1["tickets"]["value"], a1["tickets"]["n"], a1["tickets"]["team_avg"]) == (3, 3, 3)
    # FRT: a1 only T1 was answered: 30 min = 1800 s, n = 1 < min_sample 2 -> small sample
    assert a1["frt"] == {"value": 1800.0, "n": 1, "team_avg": 1800.0, "small_sample": True}
    assert a2["frt"]["value"] == 3600.0  # T2: 60 min
    # CSAT: scores >= 4 of 5 are satisfied. a1: R1 = 5 -> 100 %; a2: R2 = 2, R3 = 4 -> 1 / 2 = 50 %
    assert (a1["csat"]["value"], a2["csat"]["value"], a2["csat"]["n"]) == (100.0, 50.0, 2)
    # the default order is tickets handled, highest first; sort=csat&order=asc puts a2 (50 %) first
    assert [r["agent_id"] for r in body["rows"]] == ["a1", "a2"]
    asc = get(srv, "/api/leaderboard", sort="csat", order="asc").json()
    assert [r["agent_id"] for r in asc["rows"]] == ["a2", "a1"]
    assert get(srv, "/api/leaderboard", sort="nope").status_code == 400
    # display strings by the one formatter beside the raw cells: FRT 1800 s reads 30 min, CSAT 50.0%
    assert rows["a1"]["display"]["frt"] == {"value": "30 min", "team_avg": "30 min", "n": "1"}
    assert rows["a2"]["display"]["csat"]["value"] == "50.0%" and rows["a2"]["display"]["team"] == "Blue"
    zh = get(srv, "/api/leaderboard", lang="zh").json()["rows"]
    assert next(r for r in zh if r["agent_id"] == "a2")["display"]["frt"]["value"] == "1小时"


def test_an_agent_sees_only_its_own_row_with_the_team_averages(srv):
    rows = get(srv, "/api/leaderboard", role="agent").json()["rows"]
    assert [r["agent_id"] for r in rows] == ["a1"]
    assert rows[0]["values"]["csat"]["team_avg"] == 100.0
    assert get(srv, "/api/leaderboard", role="ingest").status_code == 403


def test_the_team_filter_keeps_that_teams_agents(srv):
    assert [r["agent_id"] for r in get(srv, "/api/leaderboard", team="blue").json()["rows"]] == ["a2"]


def test_the_per_ticket_export_as_csv_xlsx_and_parquet(srv):
    r = get(srv, "/api/export/tickets", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="tickets_2026-10-01_2026-11-30.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["ticket_id"] for x in rows] == ["T1", "T2", "T3", "T4", "T5"]
    t1 = rows[0]
    # T1: answered after 30 min (1800 s), resolved after 2 h (7200 s), CSAT 5 from one answer
    assert (t1["first_response_seconds"], t1["resolution_seconds"], t1["csat"], t1["csat_answers"]) == (
        "1800", "7200", "5.0", "1")
    assert t1["sla_first_response"] in ("met", "missed") and rows[4]["resolved_at"] == ""
    pq_bytes = get(srv, "/api/export/tickets", format="parquet").content
    table = pq.read_table(io.BytesIO(pq_bytes))
    assert table.num_rows == 5 and table.column("resolution_seconds").to_pylist()[3] == 3600  # T4: 1 h
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(get(srv, "/api/export/tickets", format="xlsx").content))
    sheet = book["tickets"]
    assert sheet.cell(1, 1).value == "ticket_id" and sheet.max_row == 6


def test_the_export_follows_filters_and_the_agent_restriction(srv):
    email = get(srv, "/api/export/tickets", where="channel=email").content.decode("utf-8-sig")
    assert [r["ticket_id"] for r in csv.DictReader(io.StringIO(email))] == ["T1", "T3", "T5"]
    mine = get(srv, "/api/export/tickets", role="agent").content.decode("utf-8-sig")
    assert {r["agent_id"] for r in csv.DictReader(io.StringIO(mine))} == {"a1"}
    assert get(srv, "/api/export/tickets", format="pdf").status_code in (400, 422)


def test_the_cli_export_and_leaderboard(srv, tmp_path):
    import shutil
    ws = Workspace(tmp_path)  # a copy: the test server holds the fixture's store
    shutil.copyfile(srv.ws.db, ws.db)
    out = tmp_path / "t.csv"
    r = run(ws, "export", "tickets", "--format", "csv", "--out", str(out), "--from", "2026-10-01",
            "--to", "2026-10-31", "--as-of", ASOF)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "wrote 3 ticket(s)" in r.stdout
    assert [x["ticket_id"] for x in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))] == [
        "T1", "T2", "T3"]
    bad = run(ws, "export", "tickets", "--format", "pdf")
    assert bad.exit_code == 2 and "--format 'pdf' is not one of: csv, xlsx, parquet" in bad.stderr
    board = run(ws, "leaderboard", "--from", "2026-10-01", "--to", "2026-11-30", "--as-of", ASOF, "--format", "json",
                "--sort", "csat:asc")
    assert board.exit_code == 0, board.stderr
    assert [x["agent_id"] for x in json.loads(board.stdout)["rows"]] == ["a2", "a1"]
    # kpi --dim agent_id --sort csat: the slices ordered by CSAT, highest first
    rows = json.loads(run(ws, "kpi", "csat", "--dim", "agent_id", "--sort", "csat", "--format", "json",
                          "--from", "2026-10-01", "--to", "2026-11-30", "--as-of", ASOF).stdout)
    assert [x["agent_id"] for x in rows] == ["a1", "a2"]
    asc = json.loads(run(ws, "kpi", "csat", "--dim", "agent_id", "--sort", "csat:asc", "--format", "json",
                         "--from", "2026-10-01", "--to", "2026-11-30", "--as-of", ASOF).stdout)
    assert [x["agent_id"] for x in asc] == ["a2", "a1"]


def test_the_csv_export_reads_plainly(srv):
    # a BOM for Excel, an unquoted header, instants in ISO 8601 UTC (T1 created 2026-10-01T09:00:00Z)
    text = get(srv, "/api/export/tickets", format="csv").content.decode("utf-8")
    assert text.startswith("\ufeffticket_id,created_at,channel,")
    assert "\nT1,2026-10-01T09:00:00Z,email," in text
