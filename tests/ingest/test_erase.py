"""Erasure (data protection): every trace of a customer or a ticket goes, others stay;
excluded tickets stay stored but out of every KPI."""
from __future__ import annotations

import json
from types import SimpleNamespace

import duckdb
import pytest

from conftest import release

D = "2026-10-0{}T{:02d}:00:00Z".format
A, B = "CUST-ALPHA", "CUST-BETA"
TA1, TA2, TB1 = "TCK-ALPHA-1", "TCK-ALPHA-2", "TCK-BETA-1"

DATA = {
    "customers": [
        {"customer_id": A, "acquired_at": D(1, 0), "tier": "business", "persona": "alpha persona"},
        {"customer_id": B, "acquired_at": D(1, 0), "referred_by": A},
    ],
    "tickets": [
        {"ticket_id": TA1, "created_at": D(2, 9), "channel": "email", "customer_id": A, "agent_id": "ag1",
         "resolved_at": D(2, 12)},
        {"ticket_id": TA2, "created_at": D(3, 9), "channel": "chat", "customer_id": A, "agent_id": "ag2"},
        {"ticket_id": TB1, "created_at": D(2, 9), "channel": "email", "customer_id": B, "agent_id": "ag1",
         "resolved_at": D(2, 15)},
    ],
    "messages": [
        {"message_id": "msg-a1", "ticket_id": TA1, "sent_at": D(2, 9), "author": "customer"},
        {"message_id": "msg-a2", "ticket_id": TA1, "sent_at": D(2, 10), "author": "agent", "agent_id": "ag1"},
        {"message_id": "msg-a3", "ticket_id": TA2, "sent_at": D(3, 9), "author": "customer"},
        {"message_id": "msg-b1", "ticket_id": TB1, "sent_at": D(2, 9), "author": "customer"},
        {"message_id": "msg-b2", "ticket_id": TB1, "sent_at": D(2, 11), "author": "agent", "agent_id": "ag1"},
    ],
    "surveys": [
        {"response_id": "srv-a1", "survey": "csat", "score": "5", "responded_at": D(2, 13), "ticket_id": TA1,
         "comment": "alpha was happy"},
        {"response_id": "srv-a2", "survey": "nps", "score": "9", "responded_at": D(4, 0), "customer_id": A},
        {"response_id": "srv-b1", "survey": "csat", "score": "2", "responded_at": D(2, 16), "ticket_id": TB1,
         "customer_id": B},
    ],
    "calls": [
        {"call_id": "call-a1", "entered_at": D(2, 8), "answered_at": D(2, 8), "talk_seconds": "60",
         "customer_id": A},
        {"call_id": "call-a2", "entered_at": D(3, 8), "ticket_id": TA2},
        {"call_id": "call-b1", "entered_at": D(2, 8), "answered_at": D(2, 8), "talk_seconds": "120",
         "customer_id": B},
    ],
    "orders": [
        {"order_id": "ord-a1", "customer_id": A, "ordered_at": D(1, 1), "amount": "100"},
        {"order_id": "ord-a2", "customer_id": A, "ordered_at": D(1, 1), "amount": "-1"},  # quarantined
        {"order_id": "ord-b1", "customer_id": B, "ordered_at": D(1, 1), "amount": "50"},
    ],
    "self_service": [
        {"event_id": "ev-a1", "occurred_at": D(2, 0), "kind": "kb_view", "customer_id": A},
        {"event_id": "ev-b1", "occurred_at": D(2, 0), "kind": "kb_view", "customer_id": B},
    ],
    "feedback": [
        {"feedback_id": "fb-a1", "received_at": D(2, 0), "customer_id": A, "text": "alpha review"},
        {"feedback_id": "fb-b1", "received_at": D(2, 0), "customer_id": B, "text": "beta review"},
        {"feedback_id": "fb-b2", "received_at": D(2, 0), "customer_id": B, "replied_at": D(1, 0)},  # quarantined
    ],
    "activity": [
        {"customer_id": A, "occurred_at": D(2, 0), "kind": "login"},
        {"customer_id": B, "occurred_at": D(2, 0), "kind": "login"},
    ],
    "quality_reviews": [
        {"review_id": "qr-a1", "ticket_id": TA1, "agent_id": "ag1", "reviewed_at": D(3, 0), "criterion": "tone",
         "score": "4", "max_score": "5"},
        {"review_id": "qr-b1", "ticket_id": TB1, "agent_id": "ag1", "reviewed_at": D(3, 0), "criterion": "tone",
         "score": "3", "max_score": "5"},
    ],
    "agent_sessions": [{"agent_id": "ag1", "login_at": D(2, 0), "logout_at": D(2, 18)}],
}
# a quarantined message of an erased ticket
BAD_MESSAGE = {"message_id": "msg-a9", "ticket_id": TA1, "sent_at": D(2, 11), "author": "robot"}


def cli(ws, *args: str):
    r = ws.cli(*args)
    out = SimpleNamespace(exit_code=r.exit_code, stdout=r.stdout, stderr=r.stderr)
    del r
    release()
    return out


def load_all(ws, data=DATA, extra_messages=(BAD_MESSAGE,)):
    for table, rows in data.items():
        ws.write(table, rows + (list(extra_messages) if table == "messages" else []))
    ws.load()


def dump(ws) -> dict[str, list[str]]:
    """Every row of every table of the store, each as one string of all its values."""
    try:
        con = duckdb.connect(str(ws.db), read_only=True)
    except duckdb.ConnectionException:
        con = duckdb.connect(str(ws.db))
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        out = {}
        for n in names:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [n]).fetchall()]
            sel = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in cols)
            out[n] = sorted(r[0] for r in con.execute(f'SELECT {sel} FROM "{n}"').fetchall())
        return out
    finally:
        con.close()


def traces(ws, needle: str) -> dict[str, list[str]]:
    return {t: hits for t, rows in dump(ws).items() if (hits := [r for r in rows if needle in r])}


def count_rows(ws) -> dict[str, int]:
    return {t: len(rows) for t, rows in dump(ws).items()}


# -- erase --customer --------------------------------------------------------------------------------

def test_erase_customer_removes_every_trace(ws):
    load_all(ws)
    assert {"tickets", "messages", "replies", "surveys", "calls", "orders", "self_service", "feedback",
            "activity", "customers", "quality_reviews", "quarantine"} <= set(traces(ws, "ALPHA"))
    r = cli(ws, "erase", "--customer", A)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("removed ")
    assert traces(ws, "ALPHA") == {}


def test_erase_customer_keeps_other_customers(ws):
    load_all(ws)
    beta_before = traces(ws, "BETA")
    cli(ws, "erase", "--customer", A)
    beta_after = traces(ws, "BETA")
    # only the referral link to the erased customer may change
    assert {t: len(v) for t, v in beta_after.items()} == {t: len(v) for t, v in beta_before.items()}
    assert beta_after["tickets"] == beta_before["tickets"]
    assert beta_after["messages"] == beta_before["messages"]
    assert beta_after["quarantine"] == beta_before["quarantine"]  # fb-b2 stays quarantined
    assert [r for r in dump(ws)["agent_sessions"]] != []


@pytest.mark.parametrize("kpi,before,after", [
    ("ticket_volume", 3, 1),
    # first replies: TA1 1 h, TB1 2 h (minutes) -> 90; after: TB1 only -> 120
    ("first_response_time", 90.0, 120.0),
    ("csat", 50.0, 0.0),
    ("aht", 90.0, 120.0),
    ("calls_offered", 3, 1),
    ("feedback_response_rate", 0.0, 0.0),
])
def test_erase_customer_updates_kpis(ws, kpi, before, after):
    load_all(ws)
    assert ws.value(kpi) == pytest.approx(before)
    cli(ws, "erase", "--customer", A)
    assert ws.value(kpi) == pytest.approx(after)


def test_erase_customer_reports_what_was_removed(ws):
    load_all(ws)
    r = cli(ws, "erase", "--customer", A)
    for table in ("tickets", "messages", "surveys", "calls", "orders", "feedback", "activity", "self_service",
                  "customers", "quality_reviews", "quarantine"):
        assert f"from {table}" in r.stdout, (table, r.stdout)
    assert "2 from tickets" in r.stdout
    assert "3 from messages" in r.stdout


def test_erase_customer_removes_quarantined_rows_of_that_customer(ws):
    load_all(ws)
    q = ws.quarantine()
    assert {json.loads(e["raw"]).get("order_id") for e in q} >= {"ord-a2"}
    cli(ws, "erase", "--customer", A)
    left = ws.quarantine()
    assert [json.loads(e["raw"]).get("feedback_id") for e in left] == ["fb-b2"]


def test_erase_customer_finds_untrimmed_ids_in_quarantine(ws):
    # the raw row keeps the cell as written; the id it names is still the customer's
    data = dict(DATA, orders=DATA["orders"] + [{"order_id": "ord-a3", "customer_id": f"  {A} ",
                                                "ordered_at": "never", "amount": "1"}])
    load_all(ws, data)
    cli(ws, "erase", "--customer", A)
    assert traces(ws, "ALPHA") == {}


def test_erase_customer_removes_quarantined_messages_of_its_quarantined_ticket(ws):
    # TA9 was rejected (bad created_at), so its message was rejected too: both are the customer's
    data = dict(DATA, tickets=DATA["tickets"] + [{"ticket_id": "TCK-ALPHA-9", "created_at": "tomorrow",
                                                  "customer_id": A}])
    load_all(ws, data, [BAD_MESSAGE, {"message_id": "msg-a10", "ticket_id": "TCK-ALPHA-9",
                                      "sent_at": D(5, 0), "author": "customer"}])
    assert len(ws.quarantine()) == 5
    cli(ws, "erase", "--customer", A)
    assert traces(ws, "ALPHA") == {}


def test_erase_customer_of_a_store_without_customers_table(ws):
    ws.write("tickets", DATA["tickets"])
    ws.write("surveys", DATA["surveys"])
    ws.load()
    r = cli(ws, "erase", "--customer", A)
    assert r.exit_code == 0
    assert traces(ws, "ALPHA") == {}
    assert ws.value("ticket_volume") == 1


def test_erase_is_idempotent_and_unknown_ids_remove_nothing(ws):
    load_all(ws)
    cli(ws, "erase", "--customer", A)
    counts = count_rows(ws)
    r = cli(ws, "erase", "--customer", A)
    assert r.exit_code == 0
    assert r.stdout.strip() == "removed nothing"
    r = cli(ws, "erase", "--customer", "nobody")
    assert r.stdout.strip() == "removed nothing"
    assert count_rows(ws) == counts


def test_erased_data_comes_back_only_by_importing_it_again(ws):
    load_all(ws)
    cli(ws, "erase", "--customer", A)
    ws.write("tickets", [DATA["tickets"][0]])
    r = ws.load(ws.data / "tickets.csv")
    assert "imported 1, replaced 0" in r.stdout


# -- erase --ticket --------------------------------------------------------------------------------

def test_erase_ticket_removes_every_trace(ws):
    load_all(ws)
    r = cli(ws, "erase", "--ticket", TA1)
    assert r.exit_code == 0, r.stderr
    assert traces(ws, TA1) == {}
    # the ticket's messages, survey, review and derived replies are gone by id too
    dumped = "\n".join(sum(dump(ws).values(), []))
    for gone in ("msg-a1", "msg-a2", "msg-a9", "srv-a1", "qr-a1"):
        assert gone not in dumped, gone


def test_erase_ticket_keeps_the_rest(ws):
    load_all(ws)
    before = count_rows(ws)
    cli(ws, "erase", "--ticket", TA1)
    after = count_rows(ws)
    # TA1, its 2 messages, its reply, its survey (and the sentiment verdict on its comment), its review,
    # its quarantined message
    assert {t: before[t] - after[t] for t in before if before[t] != after[t]} == {
        "tickets": 1, "messages": 2, "replies": 1, "surveys": 1, "text_sentiment": 1, "quality_reviews": 1,
        "quarantine": 1}
    assert traces(ws, TA2) and traces(ws, TB1)
    assert ws.value("ticket_volume") == 2
    # TB1's first reply (2 h) is the only one left
    assert ws.value("first_response_time") == pytest.approx(120.0)


def test_erase_ticket_removes_linked_calls(ws):
    load_all(ws)
    cli(ws, "erase", "--ticket", TA2)
    assert traces(ws, TA2) == {}
    assert "call-a2" not in "\n".join(dump(ws)["calls"])
    assert ws.value("calls_offered") == 2


@pytest.mark.parametrize("args", [[], ["--customer", A, "--ticket", TA1]])
def test_erase_needs_exactly_one_of_customer_or_ticket(ws, args):
    load_all(ws)
    counts = count_rows(ws)
    r = cli(ws, "erase", *args)
    assert r.exit_code == 2
    assert "--customer" in r.stderr and "--ticket" in r.stderr
    assert count_rows(ws) == counts


# -- excluded tickets -------------------------------------------------------------------------------

EXCLUDED = [
    {"ticket_id": "T1", "created_at": D(1, 9), "resolved_at": D(1, 10), "channel": "email"},
    {"ticket_id": "T2", "created_at": D(1, 9), "channel": "email"},
    {"ticket_id": "SPAM", "created_at": D(1, 9), "channel": "email", "excluded": "true"},
    {"ticket_id": "TEST", "created_at": D(1, 9), "resolved_at": D(5, 9), "channel": "chat", "excluded": "yes"},
]
EXCLUDED_MESSAGES = [
    {"message_id": "m1", "ticket_id": "T1", "sent_at": D(1, 9), "author": "customer"},
    {"message_id": "m2", "ticket_id": "T1", "sent_at": D(1, 10), "author": "agent", "agent_id": "a"},
    {"message_id": "m3", "ticket_id": "SPAM", "sent_at": D(1, 9), "author": "customer"},
    {"message_id": "m4", "ticket_id": "SPAM", "sent_at": D(3, 9), "author": "agent", "agent_id": "a"},
]


@pytest.mark.parametrize("kpi,value", [
    ("ticket_volume", 2),
    ("resolution_rate", 50.0),          # T1 of T1, T2
    ("avg_resolution_time", 1.0),       # T1 only: 1 h (TEST's 96 h left out)
    ("first_response_time", 60.0),      # T1 only: 60 min (SPAM's 2 days left out)
    ("avg_response_time", 60.0),
    ("backlog", 1),                     # T2 open; SPAM left out
    ("channel_share", None),
])
def test_excluded_tickets_stay_stored_but_out_of_kpis(ws, kpi, value):
    ws.write("tickets", EXCLUDED)
    ws.write("messages", EXCLUDED_MESSAGES)
    ws.load()
    assert sorted(r.split("|")[0] for r in dump(ws)["tickets"]) == ["SPAM", "T1", "T2", "TEST"]
    if kpi == "channel_share":
        rows = ws.kpi(kpi, "--dim", "channel")
        assert {r["channel"]: r["value"] for r in rows if r["value"] is not None} == {"email": 100.0}
    else:
        assert ws.value(kpi) == pytest.approx(value)


def test_excluded_tickets_are_not_listed_by_rows(ws):
    ws.write("tickets", EXCLUDED)
    ws.write("messages", EXCLUDED_MESSAGES)
    ws.load()
    for kpi in ("ticket_volume", "first_response_time"):
        r = cli(ws, "rows", kpi, "--format", "json", "--as-of", "2027-01-01T00:00:00Z")
        assert r.exit_code == 0, r.stderr
        ids = {row["ticket_id"] for row in json.loads(r.stdout)}
        assert "SPAM" not in ids and "TEST" not in ids
        assert "T1" in ids


@pytest.mark.parametrize("table,rows,kpi,value", [
    # R1 on T1 (5) counts; R2 on SPAM (1) is linked only to an excluded ticket -> 1/1 satisfied
    ("surveys", [{"response_id": "R1", "survey": "csat", "score": "5", "responded_at": D(2, 0), "ticket_id": "T1"},
                 {"response_id": "R2", "survey": "csat", "score": "1", "responded_at": D(2, 0),
                  "ticket_id": "SPAM"}], "csat", 100.0),
    # Q1 on T1: 4/5 = 80; Q2 on TEST (1/5) left out
    ("quality_reviews", [{"review_id": "Q1", "ticket_id": "T1", "reviewed_at": D(2, 0), "criterion": "tone",
                          "score": "4", "max_score": "5"},
                         {"review_id": "Q2", "ticket_id": "TEST", "reviewed_at": D(2, 0), "criterion": "tone",
                          "score": "1", "max_score": "5"}], "iqs", 80.0),
])
def test_rows_linked_only_to_excluded_tickets_are_out_of_kpis(ws, table, rows, kpi, value):
    ws.write("tickets", EXCLUDED)
    ws.write(table, rows)
    ws.load()
    assert len(dump(ws)[table]) == 2
    assert ws.value(kpi) == pytest.approx(value)
