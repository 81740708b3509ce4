"""Freshdesk connector: API v2 JSON (tickets with stats, conversations, satisfaction ratings) -> canonical tables.

Fixture (tests/connectors/data/freshdesk/, all October 2026, UTC):
  1001 email (1), resolved (4), created 09:00; bot 9001 at 09:05, private note 09:10, agent reply 09:30
  1002 portal (2), closed (5), created 10:00; agent 10:45, customer 11:00, agent 11:30; resolved_at 10-07
  1003 chat (7), open (2) after a reopen (stats.resolved_at 09:00, reopened_at 10:00); agent 08:15
  1004 phone (3), custom status 6 -> pending; no conversations, stats.first_responded_at 09:00
  1005 outbound email (10), resolved (4), created 09:00 by the agent; customer 11:00, agent 12:00
  1006 spam -> excluded;  1007 created_at '2026-13-45...' -> quarantined
  conversation 44000901 on ticket 9999 (not exported) -> quarantined
  ratings: 103, 102, -101 (+ question_2), 100, and 104 (not a Freshdesk value) -> quarantined
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "freshdesk"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def load(ws, path: Path = DATA, *extra: str):
    r = run(ws, "import", str(path), "--source", "freshdesk", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def mapped(ws):
    return load(ws, DATA, "--mapping", str(DATA / "mapping.toml"))


def per(ws, kpi: str, dim: str, *options: str) -> dict:
    return {r[dim]: r["value"] for r in ws.kpi(kpi, *OCT, "--dim", dim, *options)}


def test_first_response_per_ticket_skips_bots_and_private_notes(ws):
    mapped(ws)
    assert per(ws, "first_response_time", "ticket_id") == {
        "1001": 30.0,   # 09:00 -> agent 09:30 (bot 09:05 and private note 09:10 are not replies)
        "1002": 45.0,   # 10:00 -> 10:45
        "1003": 15.0,   # 08:00 -> 08:15
        "1004": 60.0,   # no conversations: stats.first_responded_at 09:00 - 08:00
        "1005": 180.0,  # outbound: the description is the agent's opening message; reply 12:00 - 09:00
    }


def test_ticket_kpis(ws):
    mapped(ws)
    # (30 + 45 + 15 + 60 + 180) / 5 = 66.0 minutes; 1006 spam is excluded, 1007 quarantined
    assert ws.value("first_response_time", *OCT) == pytest.approx(66.0)
    # resolved now: 1001, 1002 (closed), 1005 -> 3 of 5; 1003 was resolved then reopened, so it has none
    assert ws.value("resolution_rate", *OCT) == pytest.approx(60.0)
    # resolved in October: 1001 (1 reply), 1002 (2 replies), 1005 (1 reply) -> 2 of 3 first contact
    assert ws.value("fcr_rate", *OCT) == pytest.approx(200 / 3)
    # 1002 closed: resolved_at is stats.resolved_at (10-07 10:00), not closed_at: 24 h
    # (1001: 3 h, 1002: 24 h, 1005: 24 h) -> 51 / 3 = 17.0 hours
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(17.0)


def test_status_and_source_codes(ws):
    r = mapped(ws)
    # 2 open, 3 pending, 4 resolved, 5 closed; custom 6 ("waiting on customer") -> pending, reported
    assert per(ws, "ticket_volume", "status") == {"open": 1, "pending": 1, "resolved": 2, "closed": 1}
    assert said(r.stderr, "freshdesk: 1 ticket(s) with custom status 6 imported as pending")
    # 1 email + 10 outbound email -> email; 2 portal -> web_form; 3 phone; 7 chat
    assert per(ws, "ticket_volume", "channel") == {"email": 2, "web_form": 1, "phone": 1, "chat": 1}
    assert per(ws, "ticket_volume", "priority") == {"low": 1, "normal": 2, "high": 1, "urgent": 1}


def test_spam_is_kept_excluded_and_reported(ws):
    r = mapped(ws)
    assert said(r.stderr, "freshdesk: 1 spam or deleted ticket(s) kept with excluded = true")
    assert ws.value("ticket_volume", *OCT) == 5  # 1001-1005; 1006 excluded, 1007 quarantined


def test_reopened_ticket_counts_as_reopened(ws):
    mapped(ws)
    # resolved_unresolved_ratio: 3 resolved / 2 unresolved (1003 reopened, 1004 pending) = 1.5
    assert ws.value("resolved_unresolved_ratio", *OCT) == pytest.approx(1.5)


@pytest.mark.parametrize("how, frt_1001", [
    ("mapping", 30.0),   # bot_user_ids = [9001]
    ("agents", 30.0),    # agents.json lists 7001 and 7002 only, so 9001 is not an agent
    ("nothing", 5.0),    # without either, Freddy's 09:05 message looks like an agent reply
])
def test_bot_users_from_mapping_or_agents(ws, tmp_path, how, frt_1001):
    folder = tmp_path / "fd"
    shutil.copytree(DATA, folder)
    (folder / "mapping.toml").unlink()
    extra = []
    if how == "mapping":
        extra = ["--mapping", str(DATA / "mapping.toml")]
    elif how == "agents":
        (folder / "agents.json").write_text(json.dumps([
            {"available": True, "occasional": False, "id": 7001, "ticket_scope": 1, "signature": None,
             "group_ids": [44000001], "role_ids": [1], "skill_ids": [], "available_since": None,
             "contact": {"active": True, "email": "ana@acme.example", "job_title": None, "language": "en",
                         "last_login_at": "2026-10-01T08:00:00Z", "mobile": None, "name": "Ana",
                         "phone": None, "time_zone": "London", "created_at": "2026-01-01T00:00:00Z",
                         "updated_at": "2026-10-01T08:00:00Z"},
             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-10-01T08:00:00Z", "type": "support_agent"},
            {"available": True, "occasional": False, "id": 7002, "ticket_scope": 1, "signature": None,
             "group_ids": [44000002], "role_ids": [1], "skill_ids": [], "available_since": None,
             "contact": {"active": True, "email": "bo@acme.example", "name": "Bo"},
             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-10-01T08:00:00Z", "type": "support_agent"},
        ]))
    load(ws, folder, *extra)
    assert per(ws, "first_response_time", "ticket_id")["1001"] == frt_1001


def test_private_note_is_not_a_reply(ws, tmp_path):
    """Make the private note 1001's only agent message: the ticket then has no first response."""
    folder = tmp_path / "fd"
    shutil.copytree(DATA, folder)
    convs = json.loads((folder / "conversations.json").read_text())
    convs = [c for c in convs if c["id"] not in (44000101, 44000103)]  # keep 1001's private note only
    (folder / "conversations.json").write_text(json.dumps(convs))
    r = load(ws, folder, "--mapping", str(DATA / "mapping.toml"))
    assert said(r.stderr, "1 private note(s) kept as non-public messages")
    assert per(ws, "first_response_time", "ticket_id")["1001"] is None  # no reply: no first response
    # 1002-1005 only: (45 + 15 + 60 + 180) / 4 = 75.0
    assert ws.value("first_response_time", *OCT) == pytest.approx(75.0)


def test_csat_on_freshdesk_seven_point_positions(ws):
    r = mapped(ws)
    # 103 -> 7, 102 -> 6, -101 -> 3, 100 -> 4 on 1..7; satisfied = top two (6, 7): 2 of 4 = 50.0
    assert ws.value("csat", *OCT) == pytest.approx(50.0)
    assert said(r.stderr, "1 answer(s) to custom survey questions other than default_question not imported")
    # agent 7001: 103 (7) and 100 (4) -> 1 of 2; agent 7002: 102 (6) and -101 (3) -> 1 of 2
    assert per(ws, "csat", "agent_id") == {"7001": 50.0, "7002": 50.0}


def test_three_point_survey_mapping(ws, tmp_path):
    folder = tmp_path / "fd"
    shutil.copytree(DATA, folder)
    ratings = [
        {"id": 1, "survey_id": 55, "user_id": 501, "agent_id": 7001, "feedback": None, "group_id": None,
         "ticket_id": 1001, "ratings": {"default_question": v}, "created_at": f"2026-10-20T0{i}:00:00Z",
         "updated_at": f"2026-10-20T0{i}:00:00Z"}
        for i, v in enumerate([103, 100, -103, 102])]
    for i, r in enumerate(ratings):
        r["id"] = 900 + i
    (folder / "satisfaction_ratings.json").write_text(json.dumps(ratings))
    (folder / "mapping.toml").write_text('[freshdesk]\nbot_user_ids = [9001]\n[freshdesk.survey_points]\n"55" = 3\n')
    load(ws, folder, "--mapping", str(folder / "mapping.toml"))
    # 3-point: -103 -> 1, 100 -> 2, 103 -> 3; satisfied = the top score only: 1 of 3 = 33.3
    assert ws.value("csat", *OCT) == pytest.approx(100 / 3)
    q = [x for x in ws.quarantine() if x["table"] == "surveys"]
    # 102 exists on 5- and 7-point surveys only: quarantined, located, with the survey's values
    assert [(x["line"], x["column"]) for x in q] == [(4, "score")]
    assert "'102 (not a rating value of a 3-point Freshdesk survey: -103, 100, 103)'" in q[0]["reason"]


def test_a_value_outside_the_set_is_never_taken_as_a_score(ws, tmp_path):
    """A legacy 1 (classic "happy") lies inside 1..7 but is no Freshdesk v2 rating value: it must be
    quarantined, not read as the most unhappy answer."""
    folder = tmp_path / "fd"
    shutil.copytree(DATA, folder)
    ratings = [{"id": 950 + i, "survey_id": 1, "user_id": 501, "agent_id": 7001, "ticket_id": 1001,
                "ratings": {"default_question": v}, "created_at": f"2026-10-20T0{i}:00:00Z"}
               for i, v in enumerate([103, 1])]
    (folder / "satisfaction_ratings.json").write_text(json.dumps(ratings))
    load(ws, folder, "--mapping", str(folder / "mapping.toml"))
    # only 103 counts: 7-point top score = satisfied, 1 of 1 = 100
    assert ws.value("csat", *OCT) == pytest.approx(100.0)
    q = [x for x in ws.quarantine() if x["table"] == "surveys"]
    assert [(x["line"], x["column"]) for x in q] == [(2, "score")]
    assert "'1 (not a rating value of a 7-point Freshdesk survey" in q[0]["reason"]


def test_bad_rows_are_quarantined_with_location(ws):
    r = mapped(ws)
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert set(q) == {("tickets.json", 7, "created_at"), ("conversations.json", 10, "ticket_id"),
                      ("satisfaction_ratings.json", 5, "score")}
    assert "'2026-13-45T00:00:00Z' is not a timestamp" in q[("tickets.json", 7, "created_at")]
    assert "ticket '9999' is not in tickets" in q[("conversations.json", 10, "ticket_id")]
    assert "'104 (not a rating value of a 7-point Freshdesk survey: -103, -102, -101, 100, 101, 102, 103)'" \
        in q[("satisfaction_ratings.json", 5, "score")]
    assert said(r.stdout, "rejected 3 rows")


def test_reimport_is_idempotent(ws):
    first = mapped(ws)
    # 6 tickets + 4 descriptions (tickets with conversations) + 9 conversations + 4 ratings = 23
    assert said(first.stdout, "imported 23, replaced 0, unchanged 0, rejected 3 rows")
    second = mapped(ws)
    assert said(second.stdout, "imported 0, replaced 0, unchanged 23, rejected 3 rows")
    assert len(ws.quarantine()) == 3
    assert ws.value("first_response_time", *OCT) == pytest.approx(66.0)


def test_times_without_offset_are_utc_unless_told(ws, tmp_path):
    folder = tmp_path / "fd"
    folder.mkdir()
    t = json.loads((DATA / "tickets.json").read_text())[0]
    t["created_at"] = "2026-10-05T09:00:00"  # no offset
    (folder / "tickets.json").write_text(json.dumps([t]))
    conv = [c for c in json.loads((DATA / "conversations.json").read_text()) if c["id"] == 44000103]
    (folder / "conversations.json").write_text(json.dumps(conv))
    load(ws, folder)
    assert per(ws, "first_response_time", "ticket_id") == {"1001": 30.0}  # 09:00 UTC -> 09:30Z
    load(ws, folder, "--source-tz", "Europe/Paris")
    # 09:00 Paris (CEST, +02:00) = 07:00Z -> 09:30Z: 150 minutes
    assert per(ws, "first_response_time", "ticket_id") == {"1001": 150.0}


@pytest.mark.parametrize("setup, message", [
    ("empty", "tickets.json is missing"),
    ("file", "expected a folder holding tickets.json"),
    ("badjson", "tickets.json: not readable JSON"),
])
def test_unreadable_input_is_an_error(ws, tmp_path, setup, message):
    folder = tmp_path / "fd"
    folder.mkdir()
    target = folder
    if setup == "file":
        target = folder / "tickets.json"
        target.write_text("[]")
    elif setup == "badjson":
        (folder / "tickets.json").write_text("[{")
    r = run(ws, "import", str(target), "--source", "freshdesk")
    assert r.exit_code == 1
    assert said(r.stderr, message)


def test_dsn_is_refused(ws):
    r = run(ws, "import", str(DATA), "--source", "freshdesk", "--dsn", "postgresql://x/y")
    assert r.exit_code == 1
    assert said(r.stderr, "--dsn is for --source chatwoot")


def test_conversations_keyed_by_ticket_and_paged_tickets(ws, tmp_path):
    """Other ways users save the answers: tickets as pages, conversations as {ticket_id: [...]}."""
    folder = tmp_path / "fd"
    shutil.copytree(DATA, folder)
    tickets = json.loads((folder / "tickets.json").read_text())
    (folder / "tickets.json").write_text(json.dumps([tickets[:3], tickets[3:]]))  # two pages
    by_ticket: dict = {}
    for c in json.loads((folder / "conversations.json").read_text()):
        by_ticket.setdefault(str(c["ticket_id"]), []).append({k: v for k, v in c.items() if k != "ticket_id"})
    (folder / "conversations.json").write_text(json.dumps(by_ticket))
    load(ws, folder, "--mapping", str(DATA / "mapping.toml"))
    assert ws.value("first_response_time", *OCT) == pytest.approx(66.0)  # as with the plain arrays
