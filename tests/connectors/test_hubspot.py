"""HubSpot connector: CRM v3 tickets, pipelines, conversation threads/messages, feedback submissions.

Fixture (tests/connectors/data/hubspot/, March 2026, UTC), written from the API reference:
  101 EMAIL HIGH, stage 4 (Closed), created 03-02 09:00, closed_date 13:00; thread 9001:
      09:00 V-301 customer, 09:20 A-501 COMMENT (internal), 09:30 A-501 reply, a THREAD_STATUS_CHANGE event
  102 CHAT LOW, pipeline 77 stage 9001 (CLOSED in pipelines.json), 03-03 10:00 -> closed 03-04 10:00;
      thread 9002: 10:00 customer, 10:01 B-7 bot, 10:15 A-502, 10:40 customer (no sender, INCOMING),
      10:50 A-502, 10:55 actor Q-1 (not an actor type) -> quarantined
  103 PHONE URGENT, stage 2 (Waiting on contact) -> pending, no thread
  104 stage 555 (in no pipeline) -> quarantined;  105 createdate 'not-a-date' -> quarantined
  106 archived -> excluded
  thread 9003 has no ticket -> ticket thread-9003, 03-06 12:00 customer, 12:05 A-501, closed 12:30
  feedback: CSAT 2, 0, 1 (0-2 scale), 5 (out of range -> quarantined); NPS 10, 9, 3, 7; CES 6, 3; one CUSTOM
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "hubspot"
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")


def load(ws, path: Path = DATA, *extra: str):
    r = run(ws, "import", str(path), "--source", "hubspot", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def per(ws, kpi: str, dim: str) -> dict:
    return {r[dim]: r["value"] for r in ws.kpi(kpi, *MARCH, "--dim", dim)}


def stored(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_first_response_skips_bots_and_internal_comments(ws):
    load(ws)
    assert per(ws, "first_response_time", "ticket_id") == {
        "101": 30.0,         # 09:00 -> A-501 at 09:30 (the 09:20 COMMENT is internal)
        "102": 15.0,         # 10:00 -> A-502 at 10:15 (B-7 at 10:01 is a bot)
        "thread-9003": 5.0,  # 12:00 -> 12:05
        "103": None,         # no conversation: no first response
    }
    # (30 + 15 + 5) / 3 = 16.67 minutes; 103 has no conversation, so no first response
    assert ws.value("first_response_time", *MARCH) == pytest.approx(50 / 3)


def test_replies_counted_from_public_agent_messages(ws):
    load(ws)
    rows = dict(stored(ws, "SELECT ticket_id, msg_agent_replies FROM tickets WHERE ticket_id IN ('101', '102', "
                           "'thread-9003')"))
    # 101: m3 only (m2 is a COMMENT); 102: m7 and m9 (m6 bot, m10 quarantined); thread-9003: m12
    assert rows == {"101": 1, "102": 2, "thread-9003": 1}


def test_stages_map_to_open_and_resolved(ws):
    load(ws)
    rows = dict(stored(ws, "SELECT ticket_id, status FROM tickets"))
    assert rows == {"101": "closed", "102": "closed", "103": "pending", "106": "closed", "thread-9003": "resolved"}
    # resolution time: 101 4 h, 102 24 h, thread-9003 0.5 h -> 28.5 / 3 = 9.5 h
    assert ws.value("avg_resolution_time", *MARCH) == pytest.approx(9.5)
    # resolved now: 101, 102, thread-9003 of 101, 102, 103, thread-9003 (106 excluded) -> 3 / 4 = 75 %
    assert ws.value("resolution_rate", *MARCH) == pytest.approx(75.0)
    assert per(ws, "ticket_volume", "channel") == {"email": 1.0, "chat": 2.0, "phone": 1.0}
    assert per(ws, "ticket_volume", "priority") == {"high": 1.0, "low": 1.0, "urgent": 1.0, None: 1.0}  # HIGH, LOW, URGENT; a thread has none


def test_surveys_on_their_hubspot_scales(ws):
    load(ws)
    # CSAT 0-2: only 2 (happy) is satisfied: 1 of 3 (the 5 is quarantined)
    assert ws.value("csat", *MARCH) == pytest.approx(100 / 3)
    # NPS: promoters 10, 9; detractor 3; passive 7 -> (2 - 1) / 4 x 100 = 25
    assert ws.value("nps", *MARCH) == pytest.approx(25.0)
    # CES 1-7: (6 + 3) / 2 = 4.5
    assert ws.value("ces", *MARCH) == pytest.approx(4.5)


def test_bad_records_are_quarantined_with_their_location(ws):
    r = load(ws)
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert set(q) == {("tickets.json", 4, "status"), ("tickets.json", 5, "created_at"),
                      ("messages.json", 10, "author"), ("feedback_submissions.json", 10, "score")}
    assert "555 (a pipeline stage not in the stage map)" in q[("tickets.json", 4, "status")]
    assert "out of range" in q[("feedback_submissions.json", 10, "score")]
    assert said(r.stderr, "CUSTOM 1") and said(r.stderr, "THREAD_STATUS_CHANGE 1")
    assert said(r.stdout, "imported 24, replaced 0, unchanged 0, rejected 4 rows")


def test_reimport_is_idempotent(ws):
    load(ws)
    before = stored(ws, "SELECT count(*) FROM tickets UNION ALL SELECT count(*) FROM messages "
                        "UNION ALL SELECT count(*) FROM surveys")
    r = load(ws)
    assert said(r.stdout, "imported 0, replaced 0, unchanged 24, rejected 4 rows")
    assert len(ws.quarantine()) == 4
    assert stored(ws, "SELECT count(*) FROM tickets UNION ALL SELECT count(*) FROM messages "
                      "UNION ALL SELECT count(*) FROM surveys") == before


def test_stage_map_from_the_mapping_wins(ws, tmp_path):
    folder = tmp_path / "hs"
    shutil.copytree(DATA, folder)
    (folder / "pipelines.json").unlink()  # without pipelines, 9001 is unknown ...
    mapping = tmp_path / "map.toml"
    mapping.write_text('[hubspot.stages]\n9001 = "resolved"\n555 = "open"\n4 = "resolved"\n'
                       '[hubspot.scales]\ncsat = [0, 5]\n', encoding="utf-8")
    load(ws, folder, "--mapping", str(mapping))
    rows = dict(stored(ws, "SELECT ticket_id, status FROM tickets"))
    assert rows["102"] == "resolved" and rows["104"] == "open" and rows["101"] == "resolved"
    # csat on 0-5: 5 is in range now; satisfied = 4-5 of 0-5 -> 1 (the 5) of 4
    assert ws.value("csat", *MARCH) == pytest.approx(25.0)


def test_without_pipelines_an_unknown_stage_is_quarantined(ws, tmp_path):
    folder = tmp_path / "hs"
    shutil.copytree(DATA, folder)
    (folder / "pipelines.json").unlink()
    load(ws, folder)
    reasons = [x["reason"] for x in ws.quarantine() if x["column"] == "status"]
    assert sorted(reasons) == sorted([f"'{s} (a pipeline stage not in the stage map)' is not one of: open, pending, "
                                      "on_hold, resolved, closed" for s in ("555", "9001")])


def test_not_a_hubspot_folder(ws, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "tickets.json").write_text(json.dumps({"tickets": []}), encoding="utf-8")
    r = run(ws, "import", str(tmp_path / "x"), "--source", "hubspot")
    assert r.exit_code == 1 and said(r.stderr, "expected a HubSpot answer")
