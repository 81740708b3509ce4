"""Chatwoot connector, API JSON input -> canonical tables.

Fixture (tests/connectors/data/chatwoot/, Application API v1 answers, epoch seconds, October 2026 UTC):
  1 web widget, resolved: contact 09:00, AgentBot 09:00:30, activity 09:01, private note 09:02,
    agent 11 reply 09:04, "marked resolved" activity 09:30, CSAT template 09:30, message_type 7 (quarantined)
  2 email, open: contact 10:00, agent 12 10:20, resolved 11:00, contact 12:00 + "reopened" -> open again
  3 web widget, pending: contact 08:00, greeting without sender 08:00:05, Captain 08:01 (no human reply)
  4 api, snoozed: contact 14:00, agent 11 14:10, agent 12 14:40
  5 whatsapp, resolved: contact 09:00, agent 12 09:06, contact 09:10, agent 09:15, resolved 09:20,
    contact 09:40 (reopen), agent 09:45, resolved 10:00
  6 created_at 'yesterday' (quarantined)
  CSAT: 1 -> 5, 2 -> 3, 5 -> 4, 4 -> 1, 3 -> 6 (out of 1-5, quarantined)
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "chatwoot"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def load(ws, path: Path = DATA, *extra: str):
    r = run(ws, "import", str(path), "--source", "chatwoot", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def per(ws, kpi: str, dim: str) -> dict:
    return {r[dim]: r["value"] for r in ws.kpi(kpi, *OCT, "--dim", dim)}


def test_first_response_skips_bots_templates_activity_and_private_notes(ws):
    load(ws)
    assert per(ws, "first_response_time", "ticket_id") == {
        "1": 4.0,    # 09:00 -> agent 09:04 (bot 09:00:30, activity 09:01, private note 09:02 are not replies)
        "2": 20.0,   # 10:00 -> 10:20
        "3": None,   # only a sender-less greeting and Captain answered: no human reply
        "4": 10.0,   # 14:00 -> 14:10
        "5": 6.0,    # 09:00 -> 09:06
    }
    # (4 + 20 + 10 + 6) / 4 = 10.0 minutes
    assert ws.value("first_response_time", *OCT) == pytest.approx(10.0)


def test_resolution_reopen_and_fcr(ws):
    load(ws)
    # resolved now: 1 and 5 of 5 (2 was resolved then reopened: no resolved_at)
    assert ws.value("resolution_rate", *OCT) == pytest.approx(40.0)
    # resolved_at = the last "marked resolved" activity: 1 at 09:30 (0.5 h), 5 at 10:00 (1 h) -> 0.75 h
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(0.75)
    # 1: one reply, never reopened -> first contact; 5: three replies and a reopen -> not: 1 of 2
    assert ws.value("fcr_rate", *OCT) == pytest.approx(50.0)
    # resolved 1 (agent 11 only) and 5 (agent 12 only) -> 2 of 2; 4 (11 and 12) is not resolved
    assert ws.value("single_agent_resolution_rate", *OCT) == pytest.approx(100.0)


def test_status_priority_and_channel(ws):
    r = load(ws)
    assert per(ws, "ticket_volume", "status") == {"resolved": 2, "open": 1, "pending": 1, "on_hold": 1}
    assert said(r.stderr, "chatwoot: 1 snoozed conversation(s) imported with status on_hold")
    assert per(ws, "ticket_volume", "channel") == {"chat": 2, "email": 1, "api": 1, "whatsapp": 1}
    # null priority stays missing; medium -> normal
    assert per(ws, "ticket_volume", "priority") == {None: 2, "high": 1, "low": 1, "normal": 1}
    assert per(ws, "ticket_volume", "team") == {"Support": 3, None: 2}


def test_csat_one_to_five(ws):
    load(ws)
    # 5, 3, 4, 1 (6 is quarantined): satisfied = 4-5 -> 2 of 4 = 50.0; mean (5+3+4+1)/4 = 3.25
    assert ws.value("csat", *OCT) == pytest.approx(50.0)
    assert ws.value("csat_mean", *OCT) == pytest.approx(3.25)
    assert per(ws, "csat", "agent_id") == {"11": 50.0, "12": 50.0}  # 11: 5, 1; 12: 3, 4


def test_notes_report_what_is_not_a_reply(ws):
    r = load(ws)
    assert said(r.stderr, "chatwoot: 4 message(s) by bots, automations or templates kept as author bot")
    assert said(r.stderr, "chatwoot: 1 private note(s) kept as non-public messages (not replies)")
    assert said(r.stderr, "chatwoot: 8 activity message(s) kept as author system (not replies)")


def test_bad_rows_are_quarantined_with_location(ws):
    load(ws)
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert set(q) == {("conversations.json", 6, "created_at"), ("messages.json", 8, "author"),
                      ("csat_survey_responses.json", 5, "score")}
    assert "'yesterday' is not a timestamp" in q[("conversations.json", 6, "created_at")]
    assert "'message_type 7' is not one of: customer, agent, bot, system" in q[("messages.json", 8, "author")]
    assert "'6' is out of range (expected 1.0..5.0" in q[("csat_survey_responses.json", 5, "score")]


def test_reimport_is_idempotent(ws):
    first = load(ws)
    # 5 conversations + 28 messages + 4 CSAT answers = 37
    assert said(first.stdout, "imported 37, replaced 0, unchanged 0, rejected 3 rows")
    second = load(ws)
    assert said(second.stdout, "imported 0, replaced 0, unchanged 37, rejected 3 rows")
    assert len(ws.quarantine()) == 3


def test_a_later_export_replaces_changed_conversations(ws, tmp_path):
    load(ws)
    folder = tmp_path / "cw"
    shutil.copytree(DATA, folder)
    convs = json.loads((folder / "conversations.json").read_text())
    convs["data"]["payload"][1]["status"] = "resolved"  # conversation 2, resolved again at 13:00 (epoch)
    (folder / "conversations.json").write_text(json.dumps(convs))
    pages = json.loads((folder / "messages.json").read_text())
    pages[1]["payload"].append({"id": 999, "content": "Conversation was marked resolved by Bo Chen", "inbox_id": 2,
                                "conversation_id": 2, "message_type": 2, "content_type": "text", "status": "sent",
                                "content_attributes": {}, "created_at": 1791291600, "private": False,
                                "source_id": None})  # 2026-10-06T13:00:00Z
    (folder / "messages.json").write_text(json.dumps(pages))
    r = load(ws, folder)
    # the new message is imported; conversation 2 is replaced; the other 36 stored rows are unchanged
    assert said(r.stdout, "imported 1, replaced 1, unchanged 36")
    # 2: created 10:00, last resolve 13:00 -> 3 h; (0.5 + 3 + 1) / 3 = 1.5 h; reopened once
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(1.5)
    assert ws.value("resolution_rate", *OCT) == pytest.approx(60.0)


def test_resolved_without_resolve_activity_uses_last_activity(ws, tmp_path):
    folder = tmp_path / "cw"
    folder.mkdir()
    convs = json.loads((DATA / "conversations.json").read_text())
    (folder / "conversations.json").write_text(json.dumps([convs["data"]["payload"][0]]))  # no messages file
    r = load(ws, folder)
    assert said(r.stderr, "1 resolved conversation(s) without a resolve event: resolved_at is their last_activity_at")
    # last_activity_at 09:30 -> 0.5 h; first_reply_created_at 09:04 gives the first response: 4 min
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(0.5)
    assert ws.value("first_response_time", *OCT) == pytest.approx(4.0)


def test_epoch_times_are_absolute(ws):
    load(ws, DATA, "--source-tz", "America/New_York")
    # epoch seconds carry no zone to reinterpret: the values are the same as in UTC
    assert ws.value("first_response_time", *OCT) == pytest.approx(10.0)
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(0.75)


@pytest.mark.parametrize("args, code, message", [
    (["--mapping", "m.toml"], 1, "--mapping is for --source csv"),
    (["--dsn", "postgresql://u@127.0.0.1:1/x"], 1, "give either a PATH of Chatwoot API files or --dsn"),
])
def test_wrong_options(ws, args, code, message):
    r = run(ws, "import", str(DATA), "--source", "chatwoot", *args)
    assert r.exit_code == code
    assert said(r.stderr, message)


def test_missing_conversations_is_an_error(ws, tmp_path):
    r = run(ws, "import", str(tmp_path), "--source", "chatwoot")
    assert r.exit_code == 1
    assert said(r.stderr, "conversations.json is missing")


def test_plain_arrays_and_string_enums(ws, tmp_path):
    """Messages saved as one flat array, with sender_type and message_type names as webhooks give them."""
    folder = tmp_path / "cw"
    shutil.copytree(DATA, folder)
    flat = []
    for page in json.loads((folder / "messages.json").read_text()):
        for m in page["payload"]:
            m["message_type"] = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}.get(
                m["message_type"], m["message_type"])
            sender = m.pop("sender", None) or {}
            m["sender_type"] = {"user": "User", "contact": "Contact", "agent_bot": "AgentBot",
                                "captain_assistant": "Captain::Assistant"}.get(sender.get("type"))
            m["sender_id"] = sender.get("id")
            flat.append(m)
    (folder / "messages.json").write_text(json.dumps(flat))
    load(ws, folder)
    assert ws.value("first_response_time", *OCT) == pytest.approx(10.0)
    assert ws.value("fcr_rate", *OCT) == pytest.approx(50.0)
