"""The follow-up queue on hand-built cases (servicekpi.followups), through the CLI."""
from __future__ import annotations

import json

import pytest

from conftest import ASOF, Workspace

TICKETS = [
    {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "customer_id": "C1", "agent_id": "a1", "channel": "email"},
    {"ticket_id": "T2", "created_at": "2026-10-01T09:00:00Z", "customer_id": "C2", "agent_id": "a2", "channel": "chat"},
    {"ticket_id": "T3", "created_at": "2026-10-01T09:00:00Z", "customer_id": "C3", "agent_id": "a1", "channel": "email"},
    {"ticket_id": "T4", "created_at": "2026-10-01T09:00:00Z", "customer_id": "C4", "agent_id": "a1", "channel": "phone"},
    {"ticket_id": "T5", "created_at": "2026-10-01T09:00:00Z", "customer_id": "C5", "agent_id": "a2", "channel": "chat"},
    {"ticket_id": "T6", "created_at": "2026-10-01T09:00:00Z", "customer_id": "C6", "agent_id": "a1", "excluded": "true"},
    # C2 writes again after their CSAT answer: a later contact
    {"ticket_id": "T9", "created_at": "2026-10-10T09:00:00Z", "customer_id": "C2", "agent_id": "a2", "channel": "chat"},
]
MESSAGES = [
    {"message_id": "M1", "ticket_id": "T1", "sent_at": "2026-10-01T09:00:00Z", "author": "customer"},
    {"message_id": "M2", "ticket_id": "T1", "sent_at": "2026-10-01T10:00:00Z", "author": "agent", "agent_id": "a1"},
    {"message_id": "M3", "ticket_id": "T1", "sent_at": "2026-10-06T09:00:00Z", "author": "agent", "agent_id": "a1"},
    {"message_id": "M4", "ticket_id": "T3", "sent_at": "2026-10-01T09:00:00Z", "author": "customer"},
    {"message_id": "M5", "ticket_id": "T3", "sent_at": "2026-10-01T10:00:00Z", "author": "agent", "agent_id": "a1"},
    {"message_id": "M6", "ticket_id": "T3", "sent_at": "2026-10-06T09:00:00Z", "author": "bot"},  # not a reply
    {"message_id": "M7", "ticket_id": "T4", "sent_at": "2026-10-01T09:00:00Z", "author": "customer"},
    {"message_id": "M8", "ticket_id": "T4", "sent_at": "2026-10-06T09:00:00Z", "author": "agent", "agent_id": "a1",
     "public": "false"},  # an internal note: not a reply
]
SURVEYS = [
    {"response_id": "R1", "survey": "nps", "score": 3, "responded_at": "2026-10-03T09:00:00Z", "ticket_id": "T1",
     "comment": "slow"},  # detractor, then an agent reply on T1 (10-06)
    {"response_id": "R2", "survey": "csat", "score": 2, "responded_at": "2026-10-05T09:00:00Z", "ticket_id": "T2"},
    # dissatisfied (2 < 4 of 1-5), then C2's new ticket T9 (10-10)
    {"response_id": "R3", "survey": "nps", "score": 6, "responded_at": "2026-10-04T09:00:00Z", "ticket_id": "T3",
     "comment": "meh"},  # detractor (6); only a bot message later
    {"response_id": "R4", "survey": "csat", "score": 0, "scale_min": 0, "scale_max": 1,
     "responded_at": "2026-10-04T12:00:00Z", "ticket_id": "T4"},  # thumbs down; only an internal note later
    {"response_id": "R5", "survey": "nps", "score": 7, "responded_at": "2026-10-04T09:00:00Z", "ticket_id": "T5"},
    {"response_id": "R6", "survey": "csat", "score": 4, "responded_at": "2026-10-04T09:00:00Z", "ticket_id": "T5"},
    {"response_id": "R7", "survey": "csat", "score": 3, "responded_at": "2026-10-02T09:00:00Z", "ticket_id": "T5",
     "comment": "ok-ish"},  # 3 < 4: dissatisfied, never followed up
    {"response_id": "R8", "survey": "nps", "score": 9, "responded_at": "2026-10-04T09:00:00Z", "ticket_id": "T5"},
    {"response_id": "R9", "survey": "nps", "score": 2, "responded_at": "2026-10-04T09:00:00Z", "ticket_id": "T6"},
    # on an excluded ticket: left out, as in the KPIs
]
FEEDBACK = [
    {"feedback_id": "F1", "received_at": "2026-10-02T09:00:00Z", "text": "terrible", "customer_id": "C7",
     "source": "twitter", "rating": 1, "replied_at": "2026-10-03T09:00:00Z"},  # replied: followed up
    {"feedback_id": "F2", "received_at": "2026-10-01T08:00:00Z", "text": "never again", "customer_id": "C8",
     "source": "app_store", "rating": 2},  # no opinion word for the classifier: its rating 2 says negative
    {"feedback_id": "F4", "received_at": "2026-10-03T09:00:00Z", "text": "The app is terrible", "customer_id": "C7",
     "replied_at": "2026-10-04T09:00:00Z"},  # no rating: negative by its text (VADER), replied
    {"feedback_id": "F3", "received_at": "2026-10-01T08:00:00Z", "text": "great", "customer_id": "C9", "rating": 5},
    {"feedback_id": "F5", "received_at": "2026-10-01T08:00:00Z", "text": "Great, thanks a lot", "customer_id": "C9",
     "rating": 1},  # the text is positive: the classifier's verdict wins over a mis-tapped star
]


@pytest.fixture
def store(tmp_path) -> Workspace:
    ws = Workspace(tmp_path)
    for table, rows in (("tickets", TICKETS), ("messages", MESSAGES), ("surveys", SURVEYS), ("feedback", FEEDBACK)):
        ws.write(table, rows)
    ws.load()
    return ws


def queue(ws, *args):
    r = ws.cli("followups", *args, "--format", "json", "--as-of", ASOF)
    assert r.exit_code == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_open_items_oldest_first(store):
    rows = queue(store)
    # F2 10-01 08:00, R7 10-02, R3 10-04 09:00 (bot only), R4 10-04 12:00 (internal note only);
    # R1 (agent reply), R2 (new ticket), F1 (feedback reply) are followed up; R5/R6/R8 are not unhappy; R9 excluded
    assert [r["id"] for r in rows] == ["feedback:F2", "survey:R7", "survey:R3", "survey:R4"]
    r3 = rows[2]
    assert (r3["customer_id"], r3["ticket_id"], r3["agent_id"], r3["channel"], r3["score"], r3["comment"]) == \
        ("C3", "T3", "a1", "email", 6, "meh")
    assert rows[3]["scale"] == "0-1" and rows[3]["kind"] == "csat"
    # F2: 2026-10-01 08:00 to 2027-01-01 00:00 = 92 days - 8 h = 91 d 16 h = 91.67 days
    assert rows[0]["age"] == "91d 16h" and rows[0]["age_days"] == 91.67
    assert rows[0]["channel"] == "app_store" and rows[0]["comment"] == "never again"


def test_how_each_item_was_followed_up(store):
    rows = {r["id"]: r for r in queue(store, "--all")}
    assert rows["survey:R1"]["followed_up_by"] == "agent_reply"
    assert rows["survey:R1"]["followed_up_at"] == "2026-10-06T09:00:00+00:00"
    assert rows["survey:R2"]["followed_up_by"] == "new_ticket"
    assert rows["feedback:F1"]["followed_up_by"] == "feedback_reply"
    assert rows["survey:R3"]["followed_up_by"] is None  # a bot message is not a follow-up
    assert rows["survey:R4"]["followed_up_by"] is None  # nor an internal note
    assert rows["feedback:F4"]["followed_up_by"] == "feedback_reply"  # negative by text alone
    # F3, F5: positive texts (F5 despite its rating 1) are no items
    assert set(rows) == {"survey:R1", "survey:R2", "survey:R3", "survey:R4", "survey:R7", "feedback:F1", "feedback:F2",
                         "feedback:F4"}


def test_as_of_before_the_reply_keeps_it_open(store):
    r = store.cli("followups", "--format", "json", "--as-of", "2026-10-05T00:00:00Z")
    ids = [x["id"] for x in json.loads(r.stdout)]
    # the reply on T1 comes 10-06: R1 is still open on 10-05; R2 (10-05 09:00) not yet received; F4 replied 10-04
    assert ids == ["feedback:F2", "survey:R7", "survey:R1", "survey:R3", "survey:R4"]


def test_since_and_agent(store):
    assert [r["id"] for r in queue(store, "--since", "2026-10-03")] == ["survey:R3", "survey:R4"]
    assert [r["id"] for r in queue(store, "--agent", "a2")] == ["survey:R7"]


def test_mark_done_is_stored_and_audited(store):
    r = store.cli("followups", "done", "survey:R3", "--note", "called back", "--by", "maria")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "survey:R3 marked followed up by maria" in r.stdout
    assert "survey:R3" not in [x["id"] for x in queue(store)]
    done = {x["id"]: x for x in queue(store, "--all")}["survey:R3"]
    assert (done["followed_up_by"], done["marked_by"], done["note"]) == ("marked", "maria", "called back")
    again = store.cli("followups", "done", "survey:R3")
    assert again.exit_code == 1 and "already marked followed up by maria" in again.stderr


@pytest.mark.parametrize("item,code,text", [
    ("survey:R5", 1, "no follow-up item 'survey:R5'"),  # a passive: not in the queue
    ("R3", 2, "is not a follow-up id"),
])
def test_mark_refuses_what_is_not_an_item(store, item, code, text):
    r = store.cli("followups", "done", item)
    assert r.exit_code == code and text in r.stderr


def test_without_messages_there_is_a_note(tmp_path):
    ws = Workspace(tmp_path)
    ws.write("tickets", TICKETS)
    ws.write("surveys", SURVEYS)
    ws.load()
    r = ws.cli("followups", "--format", "json", "--as-of", ASOF)
    assert "agent replies cannot be seen" in r.stderr
    # without messages R1 is not followed up by a reply any more
    assert "survey:R1" in [x["id"] for x in json.loads(r.stdout)]


def test_nothing_imported_is_unavailable(tmp_path):
    ws = Workspace(tmp_path)
    ws.write("tickets", TICKETS[:1])
    ws.load()
    r = ws.cli("followups", "--format", "json", "--as-of", ASOF)
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    assert "unavailable: neither surveys nor feedback were imported" in r.stderr
