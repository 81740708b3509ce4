"""LiveAgent connector: API v3 tickets, message groups, agents, calls.

Fixture (tests/connectors/data/liveagent/, March 2026, times without offset read as UTC), written
from the API v3 models (QualityUnit/LiveAgent-api-python docs/):
  fp80688h email (E), R resolved, created 03-02 09:00, date_resolved 12:00. Groups: 09:00 INCOMING_EMAIL (3)
      by c1; 09:10 INTERNAL (I) note by a1; 09:40 OUTGOING_EMAIL (4) by a1; 10:00 RESOLVE (R); 11:00 incoming
      (reopens); 11:30 outgoing; 12:00 RESOLVE
  k2 contact button (B) chat, A answered -> pending, 03-03 10:00. One CHAT group: title (T, not a message),
      10:00 c2, 10:02 a2, 10:03 a2 NOTE (N, internal), 10:05 c2, 10:06 a2
  p3 call (C), R, 03-04 08:00 -> 08:10. STARTINFO (S) event; CALL group: VOICE 08:00 c3, VOICE 08:01 a1
  x4 X deleted -> excluded;  b5 status Q (no such code) -> quarantined;  d6 created 2026-02-30 -> quarantined
  messages of ticket zz9 (not exported) -> quarantined
  calls: call1 incoming 08:00:00, answered 08:00:30, finished 08:05:30; call2 unanswered;
      call3 outgoing (left out); call4 10:00:00 / 10:00:10 / 10:04:10; call5 dateCreated 'yesterday'
  (CallListItem keys as on the wire, camelCase: models/call_list_item.py attribute_map)
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "liveagent"
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")


def load(ws, path: Path = DATA, *extra: str):
    r = run(ws, "import", str(path), "--source", "liveagent", *extra)
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


def test_first_response_skips_internal_notes(ws):
    load(ws)
    assert per(ws, "first_response_time", "ticket_id") == {
        "fp80688h": 40.0,  # 09:00 -> OUTGOING_EMAIL 09:40 (the INTERNAL group at 09:10 is a note)
        "k2": 2.0,         # 10:00 -> a2 10:02
        "p3": 1.0,         # call: c3 08:00 -> a1 08:01
    }
    # (40 + 2 + 1) / 3 = 14.33 minutes
    assert ws.value("first_response_time", *MARCH) == pytest.approx(43 / 3)


def test_replies_reopens_and_statuses(ws):
    load(ws)
    rows = {r[0]: r[1:] for r in stored(ws, "SELECT ticket_id, status, msg_agent_replies, reopen_count, excluded "
                                            "FROM tickets")}
    assert rows == {
        "fp80688h": ("resolved", 2, 1, False),  # replies 09:40, 11:30; resolved 10:00, then 11:00 reopened it
        "k2": ("pending", 2, 0, False),         # 10:02, 10:06 (the 10:03 NOTE is internal)
        "p3": ("resolved", 1, 0, False),
        "x4": (None, None, 0, True),            # deleted: kept, excluded
    }
    # resolution: fp80688h 3 h, p3 10 min -> (3 + 1/6) / 2 = 1.583 h; resolved 2 of 3 (x4 excluded)
    assert ws.value("avg_resolution_time", *MARCH) == pytest.approx((3 + 1 / 6) / 2)
    assert ws.value("resolution_rate", *MARCH) == pytest.approx(200 / 3)
    assert per(ws, "ticket_volume", "channel") == {"email": 1.0, "chat": 1.0, "phone": 1.0}


def test_calls(ws):
    load(ws)
    # incoming call1, call2, call4 (call3 outgoing left out, call5 quarantined): 2 of 3 answered
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(200 / 3)
    assert ws.value("abandonment_rate", *MARCH) == pytest.approx(100 / 3)
    # talk = finished - answered: 300 s and 240 s -> 270 s
    assert ws.value("aht", *MARCH) == pytest.approx(270.0)
    # wait = answered - created: 30 s and 10 s -> 20 s
    assert ws.value("avg_wait_time", *MARCH) == pytest.approx(20.0)


def test_calls_saved_by_the_python_client_read_the_same(ws, tmp_path):
    # the generated client's CallListItem.to_dict() writes its attribute names (date_created, ticket_id)
    import json
    names = {"ticketId": "ticket_id", "dateCreated": "date_created", "dateAnswered": "date_answered",
             "dateFinished": "date_finished", "callDuration": "call_duration"}
    calls = json.loads((DATA / "calls.json").read_text())
    (tmp_path / "calls.json").write_text(json.dumps([{names.get(k, k): v for k, v in c.items()} for c in calls]))
    load(ws, tmp_path)
    assert ws.value("answered_call_rate", *MARCH) == pytest.approx(200 / 3)  # call1, call4 of call1, call2, call4
    assert ws.value("aht", *MARCH) == pytest.approx(270.0)  # (300 + 240) / 2


def test_bad_records_are_quarantined_with_their_location(ws):
    r = load(ws)
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert set(q) == {("tickets.json", 5, "status"), ("tickets.json", 6, "created_at"),
                      ("messages.json", 11, "ticket_id"), ("calls.json", 5, "entered_at")}
    assert "not a liveagent ticket status code" in q[("tickets.json", 5, "status")]
    assert "'zz9' is not in tickets" in q[("messages.json", 11, "ticket_id")]
    assert said(r.stderr, "R 2, S 1") and said(r.stderr, "1 outgoing")
    assert said(r.stdout, "imported 19, replaced 0, unchanged 0, rejected 4 rows")


def test_reimport_is_idempotent(ws):
    load(ws)
    r = load(ws)
    assert said(r.stdout, "imported 0, replaced 0, unchanged 19, rejected 4 rows")
    assert len(ws.quarantine()) == 4


def test_without_agents_anyone_but_the_owner_is_an_agent(ws, tmp_path):
    folder = tmp_path / "la"
    shutil.copytree(DATA, folder)
    (folder / "agents.json").unlink()
    r = load(ws, folder)
    assert said(r.stderr, "no agents.json")
    assert per(ws, "first_response_time", "ticket_id")["k2"] == 2.0


def test_times_are_read_in_the_source_zone(ws):
    load(ws, DATA, "--source-tz", "Europe/Bucharest")
    # 09:00 in Bucharest (UTC+2 in early March) is 07:00 UTC
    assert stored(ws, "SELECT created_at FROM tickets WHERE ticket_id = 'fp80688h'")[0][0].hour == 7
