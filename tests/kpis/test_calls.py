"""Call and chat-session KPIs (docs/kpi-contract.md "Calls and chat sessions"), end to end through
the CLI on small hand-made datasets. Attribution is entered_at for every call KPI."""
from __future__ import annotations

import pytest

from conftest import one, pick

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
OCT_NOV = ("--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")


def c(cid: str, entered: str, answered: str | None = None, **kw) -> dict:
    return {"call_id": cid, "entered_at": entered, "answered_at": answered, **kw}






# The base dataset (all on 2026-10-01, UTC):
#   K1 phone  wait  30 s  answered  talk 300 hold 60 wrap 40 = 400  resolved true   agent a1 queue sales
#   K2 phone  wait  90 s  answered  talk 200 hold  0 wrap 100 = 300 resolved false  agent a1 queue sales
#   K3 phone  wait 120 s  answered  talk 500             = 500      resolved missing agent a2 queue support
#   K4 phone  not answered, ended after  5 s, outcome abandoned (resolved=true given: ignored)
#   K5 phone  not answered, ended after 20 s, outcome abandoned
#   K6 phone  not answered, ended after 180 s, outcome timeout
#   K7 chat   wait  20 s  answered  talk 100 wrap 20     = 120      resolved true   agent a2 queue support
# offered 7, answered 4 (K1 K2 K3 K7), unanswered 3 (K4 K5 K6)
BASE = [
    c("K1", "2026-10-01T10:00:00Z", "2026-10-01T10:00:30Z", ended_at="2026-10-01T10:07:10Z", outcome="answered",
      talk_seconds=300, hold_seconds=60, wrap_seconds=40, resolved="true", agent_id="a1", queue="sales"),
    c("K2", "2026-10-01T11:00:00Z", "2026-10-01T11:01:30Z", outcome="answered",
      talk_seconds=200, hold_seconds=0, wrap_seconds=100, resolved="false", agent_id="a1", queue="sales"),
    c("K3", "2026-10-01T12:00:00Z", "2026-10-01T12:02:00Z", talk_seconds=500, agent_id="a2", queue="support"),
    c("K4", "2026-10-01T13:00:00Z", ended_at="2026-10-01T13:00:05Z", outcome="abandoned", resolved="true",
      queue="sales"),
    c("K5", "2026-10-01T14:00:00Z", ended_at="2026-10-01T14:00:20Z", outcome="abandoned", queue="sales"),
    c("K6", "2026-10-01T15:00:00Z", ended_at="2026-10-01T15:03:00Z", outcome="timeout", queue="support"),
    c("K7", "2026-10-01T16:00:00Z", "2026-10-01T16:00:20Z", channel="chat", talk_seconds=100, wrap_seconds=20,
      resolved="yes", agent_id="a2", queue="support"),
]


@pytest.fixture
def base(ws):
    ws.write("calls", BASE)
    ws.load()
    return ws


# --------------------------------------------------------------------------------------
# calls_offered
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    ((), 7),                                                     # all 7 calls and chats
    (("--where", "channel=phone"), 6),                           # K1..K6 (channel defaults to phone)
    (("--where", "channel=chat"), 1),                            # K7
    (("--option", "abandon=caller_only"), 6),                    # K6 (timeout) leaves offered
    (("--option", "short_abandon_seconds=10"), 6),               # K4 waited 5 s < 10 -> removed
    (("--option", "short_abandon_seconds=30"), 5),               # K4 (5 s) and K5 (20 s) removed
])
def test_calls_offered(base, args, expected):
    row = one(base, "calls_offered", *OCT, *args)
    assert row["value"] == expected
    assert row["unit"] == "count"


def test_calls_offered_after_the_last_call_is_no_data(base):
    rows = base.kpi("calls_offered", *OCT_NOV)
    # October 7; November comes after the last call of the store: no data (null with a note), not 0
    # (issue 13 item 2; a month inside the data without calls is a real 0, test_kpis_no_data_outside_the_data)
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 7), ("2026-11-01", None)]
    assert rows[1]["note"].startswith("no data: after the last record of calls (2026-10-")


def test_calls_offered_by_queue_and_agent(base):
    rows = base.kpi("calls_offered", *OCT, "--dim", "queue")
    # sales: K1 K2 K4 K5 -> 4; support: K3 K6 K7 -> 3
    assert {r["queue"]: r["value"] for r in rows} == {"sales": 4, "support": 3}
    rows = base.kpi("calls_offered", *OCT, "--dim", "agent_id")
    # a1: K1 K2; a2: K3 K7; no agent (unanswered K4 K5 K6) -> null group
    assert {r["agent_id"]: r["value"] for r in rows} == {"a1": 2, "a2": 2, None: 3}


def test_calls_offered_as_of(base):
    # as of 2026-10-01T12:00Z: K1, K2, K3 (entered exactly at the as-of) -> 3
    assert base.value("calls_offered", *OCT, asof="2026-10-01T12:00:00Z") == 3


# --------------------------------------------------------------------------------------
# answered_call_rate and abandonment_rate
# --------------------------------------------------------------------------------------

def test_answered_call_rate(base):
    row = one(base, "answered_call_rate", *OCT)
    # 4 answered / 7 offered
    assert row["value"] == pytest.approx(400 / 7)
    assert (row["numerator"], row["denominator"]) == (4, 7)
    # phone only: K1 K2 K3 of K1..K6 -> 3/6 = 50
    assert base.value("answered_call_rate", *OCT, "--where", "channel=phone") == pytest.approx(50.0)


@pytest.mark.parametrize("options, num, den", [
    ((), 3, 7),                                     # K4 K5 K6 not answered of 7
    (("abandon=caller_only",), 2, 6),               # only outcome abandoned (K4 K5); K6 leaves offered
    (("short_abandon_seconds=10",), 2, 6),          # K4 (5 s) removed from both sides
    (("short_abandon_seconds=30",), 1, 5),          # K4, K5 removed -> K6 of 5
    (("abandon=caller_only", "short_abandon_seconds=30"), 0, 4),  # K6 leaves, K4 K5 short -> 0 of 4
])
def test_abandonment_rate_options(base, options, num, den):
    args = [a for o in options for a in ("--option", o)]
    row = one(base, "abandonment_rate", *OCT, *args)
    assert row["value"] == pytest.approx(100 * num / den)
    assert (row["numerator"], row["denominator"]) == (num, den)
    assert row["unit"] == "percent"


def test_abandonment_rate_worked_example_20_of_100(ws):
    calls = [c(f"K{i:03d}", "2026-10-01T10:00:00Z", None if i < 20 else "2026-10-01T10:00:10Z")
             for i in range(100)]
    ws.write("calls", calls)
    ws.load()
    # 20 abandoned of 100 calls -> 20
    assert ws.value("abandonment_rate", *OCT) == pytest.approx(20.0)


def test_answer_after_as_of_counts_as_not_answered(base):
    # as of 2026-10-01T12:01:00Z: K3 (entered 12:00) is still waiting -> not answered
    # answered K1 K2 of offered K1 K2 K3 -> 2/3; abandoned 1/3
    assert base.value("answered_call_rate", *OCT, asof="2026-10-01T12:01:00Z") == pytest.approx(200 / 3)
    assert base.value("abandonment_rate", *OCT, asof="2026-10-01T12:01:00Z") == pytest.approx(100 / 3)


def test_call_rates_empty_period_are_null(base):
    rows = base.kpi("abandonment_rate", *OCT_NOV)
    # November has no calls -> empty denominator -> null, never 0
    assert pick(rows, period_start="2026-11-01")["value"] is None
    rows = base.kpi("answered_call_rate", *OCT_NOV)
    assert pick(rows, period_start="2026-11-01")["value"] is None


# --------------------------------------------------------------------------------------
# call_service_level
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, num, den", [
    ((), 2, 7),                                           # within 60 s: K1 (30) K7 (20) / offered 7
    (("denominator=answered",), 2, 4),                    # / answered 4 -> 50
    (("threshold_seconds=90",), 3, 7),                    # K1 K2 (exactly 90 s) K7
    (("threshold_seconds=20",), 1, 7),                    # K7 (exactly 20 s)
    (("threshold_seconds=120", "denominator=answered"), 4, 4),  # all answered within 120 s
])
def test_call_service_level(base, options, num, den):
    args = [a for o in options for a in ("--option", o)]
    row = one(base, "call_service_level", *OCT, *args)
    assert row["value"] == pytest.approx(100 * num / den)
    assert (row["numerator"], row["denominator"]) == (num, den)


# --------------------------------------------------------------------------------------
# avg_wait_time
# --------------------------------------------------------------------------------------

def test_avg_wait_time(base):
    row = one(base, "avg_wait_time", *OCT)
    # (30 + 90 + 120 + 20) / 4 answered = 65 s; unanswered waits are not in it
    assert row["value"] == pytest.approx(65.0)
    assert row["numerator"] == pytest.approx(260.0) and row["denominator"] == 4
    assert row["unit"] == "seconds"


def test_avg_wait_time_by_channel(base):
    rows = base.kpi("avg_wait_time", *OCT, "--dim", "channel")
    # phone: (30 + 90 + 120) / 3 = 80; chat: 20
    assert {r["channel"]: r["value"] for r in rows} == pytest.approx({"phone": 80.0, "chat": 20.0})


def test_avg_wait_time_without_answered_calls_is_null(ws):
    ws.write("calls", [c("K1", "2026-10-01T10:00:00Z", ended_at="2026-10-01T10:01:00Z"),
                       c("K2", "2026-10-01T11:00:00Z")])
    ws.load()
    # no answered call -> empty denominator -> null, never 0
    assert ws.value("avg_wait_time", *OCT) is None
    assert ws.value("aht", *OCT) is None


def test_avg_wait_time_worked_example_500_minutes_over_200_calls(ws):
    # 100 calls waiting 60 s and 100 waiting 240 s: 30,000 s = 500 minutes over 200 calls -> 150 s
    calls = [c(f"K{i:03d}", "2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z" if i < 100 else "2026-10-01T10:04:00Z")
             for i in range(200)]
    ws.write("calls", calls)
    ws.load()
    assert ws.value("avg_wait_time", *OCT) == pytest.approx(150.0)


# --------------------------------------------------------------------------------------
# aht
# --------------------------------------------------------------------------------------

def test_aht(base):
    row = one(base, "aht", *OCT)
    # (400 + 300 + 500 + 120) / 4 answered = 1320 / 4 = 330 s
    assert row["value"] == pytest.approx(330.0)
    assert row["numerator"] == pytest.approx(1320.0) and row["denominator"] == 4
    assert row["unit"] == "seconds"


def test_aht_by_agent(base):
    rows = base.kpi("aht", *OCT, "--dim", "agent_id")
    # a1: (400 + 300) / 2 = 350; a2: (500 + 120) / 2 = 310; unanswered calls (no agent): no answered -> null
    got = {r["agent_id"]: r["value"] for r in rows}
    assert got["a1"] == pytest.approx(350.0)
    assert got["a2"] == pytest.approx(310.0)
    assert got.get(None) is None


def test_aht_worked_example_1000_minutes_over_100_calls(ws):
    # 50 calls of 300 s talk and 50 of 600 s talk + 300 s wrap: 15,000 + 45,000 = 60,000 s = 1,000 min
    calls = [c(f"K{i:03d}", "2026-10-01T10:00:00Z", "2026-10-01T10:00:10Z",
               **({"talk_seconds": 300} if i < 50 else {"talk_seconds": 600, "wrap_seconds": 300}))
             for i in range(100)]
    ws.write("calls", calls)
    ws.load()
    # 1,000 minutes over 100 calls = 10 minutes = 600 s
    assert ws.value("aht", *OCT) == pytest.approx(600.0)


# --------------------------------------------------------------------------------------
# first_call_resolution
# --------------------------------------------------------------------------------------

def test_first_call_resolution(base):
    row = one(base, "first_call_resolution", *OCT)
    # answered with resolved known: K1 true, K2 false, K7 true (K3 unknown, K4 unanswered) -> 2/3
    assert row["value"] == pytest.approx(200 / 3)
    assert (row["numerator"], row["denominator"]) == (2, 3)
    # phone only: K1 true, K2 false -> 50
    assert base.value("first_call_resolution", *OCT, "--where", "channel=phone") == pytest.approx(50.0)


def test_first_call_resolution_none_known_is_null(ws):
    ws.write("calls", [c("K1", "2026-10-01T10:00:00Z", "2026-10-01T10:00:10Z")])
    ws.load()
    # resolved missing everywhere -> empty denominator -> null
    assert ws.value("first_call_resolution", *OCT) is None


# --------------------------------------------------------------------------------------
# occupancy (needs agent_sessions)
# --------------------------------------------------------------------------------------

def test_occupancy(base):
    base.write("agent_sessions", [
        {"agent_id": "a1", "login_at": "2026-10-01T08:00:00Z", "logout_at": "2026-10-01T18:00:00Z"},
        {"agent_id": "a2", "login_at": "2026-10-01T08:00:00Z", "logout_at": "2026-10-01T12:00:00Z"},
    ])
    base.load()
    row = one(base, "occupancy", *OCT)
    # handle 1320 s / logged-in (10 h + 4 h = 50,400 s) x 100
    assert row["value"] == pytest.approx(100 * 1320 / 50400)
    assert row["numerator"] == pytest.approx(1320.0) and row["denominator"] == pytest.approx(50400.0)


def test_occupancy_sessions_clipped_to_period(ws):
    ws.write("calls", [
        c("K1", "2026-10-31T22:30:00Z", "2026-10-31T22:30:10Z", talk_seconds=1440, agent_id="a1"),
        c("K2", "2026-11-01T01:00:00Z", "2026-11-01T01:00:10Z", talk_seconds=600, hold_seconds=120,
          agent_id="a1"),
    ])
    ws.write("agent_sessions", [
        # 4 h across the month boundary: 2 h in October, 2 h in November
        {"agent_id": "a1", "login_at": "2026-10-31T22:00:00Z", "logout_at": "2026-11-01T02:00:00Z"},
    ])
    ws.load()
    rows = ws.kpi("occupancy", *OCT_NOV)
    # October: 1440 / 7200 = 20; November: 720 / 7200 = 10
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 20.0), ("2026-11-01", 10.0)]


def test_occupancy_session_still_logged_in_counts_until_as_of(ws):
    ws.write("calls", [c("K1", "2026-10-10T10:10:00Z", "2026-10-10T10:10:10Z", talk_seconds=900, agent_id="a1")])
    ws.write("agent_sessions", [{"agent_id": "a1", "login_at": "2026-10-10T10:00:00Z"}])  # no logout
    ws.load()
    # as of 11:00Z: logged in 3600 s; 900 / 3600 = 25
    assert ws.value("occupancy", *OCT, asof="2026-10-10T11:00:00Z") == pytest.approx(25.0)


def test_occupancy_by_agent(ws):
    ws.write("calls", [
        c("K1", "2026-10-10T10:10:00Z", "2026-10-10T10:10:10Z", talk_seconds=1800, agent_id="a1"),
        c("K2", "2026-10-10T10:20:00Z", "2026-10-10T10:20:10Z", talk_seconds=360, agent_id="a2"),
        c("K3", "2026-10-10T10:30:00Z", ended_at="2026-10-10T10:31:00Z"),  # unanswered
    ])
    ws.write("agent_sessions", [
        {"agent_id": "a1", "login_at": "2026-10-10T10:00:00Z", "logout_at": "2026-10-10T11:00:00Z"},
        {"agent_id": "a2", "login_at": "2026-10-10T10:00:00Z", "logout_at": "2026-10-10T10:30:00Z"},
        {"agent_id": "a2", "login_at": "2026-10-10T11:00:00Z", "logout_at": "2026-10-10T11:30:00Z"},
    ])
    ws.load()
    rows = ws.kpi("occupancy", *OCT, "--dim", "agent_id")
    # a1: 1800 / 3600 = 50; a2: 360 / (1800 + 1800) = 10
    assert pick(rows, agent_id="a1")["value"] == pytest.approx(50.0)
    assert pick(rows, agent_id="a2")["value"] == pytest.approx(10.0)


def test_occupancy_without_sessions_is_unavailable(base):
    row = one(base, "occupancy", *OCT)
    # agent_sessions never imported -> unavailable (not 0), exit code 0
    assert row["value"] is None
    assert row["note"].startswith("unavailable")


# --------------------------------------------------------------------------------------
# unavailable, excluded links, slicing through links
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kpi", ["calls_offered", "answered_call_rate", "abandonment_rate",
                                 "call_service_level", "avg_wait_time", "aht", "first_call_resolution",
                                 "occupancy"])
def test_call_kpis_unavailable_without_calls(ws, kpi):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z"}])
    ws.load()
    r = ws.cli("kpi", kpi, *OCT, "--format", "json", "--as-of", "2027-01-01T00:00:00Z")
    assert r.exit_code == 0, r.stdout + r.stderr
    row = one(ws, kpi, *OCT)
    assert row["value"] is None
    assert row["note"].startswith("unavailable")


def test_calls_linked_only_to_excluded_ticket_left_out(ws):
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z"},
        {"ticket_id": "TX", "created_at": "2026-10-01T09:00:00Z", "excluded": "true"},
    ])
    ws.write("calls", [
        c("K1", "2026-10-01T10:00:00Z", "2026-10-01T10:00:30Z", ticket_id="T1", talk_seconds=100),
        c("K2", "2026-10-01T10:00:00Z", "2026-10-01T10:00:10Z", ticket_id="TX", talk_seconds=900),
        c("K3", "2026-10-01T10:00:00Z", "2026-10-01T10:00:50Z", talk_seconds=200),  # no ticket: kept
    ])
    ws.load()
    # K2 belongs to an excluded ticket: offered K1, K3 -> 2; aht (100 + 200) / 2 = 150; wait (30 + 50) / 2 = 40
    assert ws.value("calls_offered", *OCT) == 2
    assert ws.value("aht", *OCT) == pytest.approx(150.0)
    assert ws.value("avg_wait_time", *OCT) == pytest.approx(40.0)


def test_calls_sliced_by_ticket_and_customer_columns(ws):
    ws.write("customers", [
        {"customer_id": "U1", "acquired_at": "2025-01-01T00:00:00Z", "tier": "enterprise"},
        {"customer_id": "U2", "acquired_at": "2025-01-01T00:00:00Z", "tier": "freemium"},
    ])
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "category": "technical"},
        {"ticket_id": "T2", "created_at": "2026-10-01T09:00:00Z", "category": "return"},
    ])
    ws.write("calls", [
        c("K1", "2026-10-01T10:00:00Z", "2026-10-01T10:00:30Z", ticket_id="T1", customer_id="U1"),
        c("K2", "2026-10-01T11:00:00Z", ticket_id="T1", customer_id="U1"),
        c("K3", "2026-10-01T12:00:00Z", "2026-10-01T12:01:00Z", ticket_id="T2", customer_id="U2"),
    ])
    ws.load()
    rows = ws.kpi("answered_call_rate", *OCT, "--dim", "category")
    # technical (through ticket_id): K1 of K1 K2 -> 50; return: K3 of K3 -> 100
    assert {r["category"]: r["value"] for r in rows} == {"technical": 50.0, "return": 100.0}
    rows = ws.kpi("calls_offered", *OCT, "--dim", "tier")
    # enterprise (through customer_id): K1 K2 -> 2; freemium: K3 -> 1
    assert {r["tier"]: r["value"] for r in rows} == {"enterprise": 2, "freemium": 1}
