"""Ticket KPIs (docs/kpi-contract.md "Tickets"), computed end to end through the CLI on small,
hand-made datasets. Every expected value is worked out by hand in a comment."""
from __future__ import annotations

import re

import pytest

from conftest import one, pick

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
OCT_NOV = ("--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")


def t(tid: str, created: str, **kw) -> dict:
    """One ticket row; keyword columns as given (None = empty cell)."""
    return {"ticket_id": tid, "created_at": created, **kw}


def m(mid: str, tid: str, sent: str, author: str, agent: str | None = None, public: str | None = None) -> dict:
    return {"message_id": mid, "ticket_id": tid, "sent_at": sent, "author": author,
            "agent_id": agent, "public": public}






# --------------------------------------------------------------------------------------
# ticket_volume
# --------------------------------------------------------------------------------------

def test_ticket_volume_counts_tickets_and_leaves_out_excluded(ws):
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z"),
        t("T2", "2026-10-05T10:00:00Z", excluded="false"),
        t("T3", "2026-10-06T10:00:00Z", excluded="true"),  # spam: left out
        t("T4", "2026-10-07T10:00:00Z", excluded="yes"),   # test ticket: left out
    ])
    ws.load()
    row = one(ws, "ticket_volume", *OCT)
    # T1, T2 (T3 and T4 excluded) -> 2
    assert row["value"] == 2
    assert row["unit"] == "count"
    # counts carry no numerator/denominator
    assert row["numerator"] is None and row["denominator"] is None


def test_ticket_volume_month_without_tickets_is_zero_not_null(ws):
    ws.write("tickets", [t("T1", "2026-10-01T10:00:00Z"), t("T2", "2026-10-31T23:59:59Z"),
                         t("T3", "2026-12-01T10:00:00Z")])
    ws.load()
    rows = ws.kpi("ticket_volume", *OCT_NOV)
    # October: 2 tickets; November: no tickets between October's and December's -> 0 (a count with
    # no events inside the data is 0; after the last ticket it would be no data, issue 13 item 2)
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 2), ("2026-11-01", 0)]


def test_ticket_volume_ignores_tickets_created_after_as_of(ws):
    ws.write("tickets", [t("T1", "2026-10-01T10:00:00Z"), t("T2", "2026-10-02T10:00:00Z"),
                         t("T3", "2026-10-03T10:00:00Z")])
    ws.load()
    # as of 2026-10-02T10:00Z: T1 and T2 exist (T2 exactly at the as-of), T3 not yet -> 2
    assert ws.value("ticket_volume", *OCT, asof="2026-10-02T10:00:00Z") == 2


def test_ticket_volume_by_channel_and_where(ws):
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z", channel="email"),
        t("T2", "2026-10-02T10:00:00Z", channel="Email "),  # enumerations are trimmed and lower-cased
        t("T3", "2026-10-03T10:00:00Z", channel="chat"),
        t("T4", "2026-10-04T10:00:00Z", channel=None),
    ])
    ws.load()
    rows = ws.kpi("ticket_volume", *OCT, "--dim", "channel")
    # email: T1, T2 -> 2; chat: T3 -> 1; missing channel is its own group: T4 -> 1
    assert {r["channel"]: r["value"] for r in rows} == {"email": 2, "chat": 1, None: 1}
    # --where channel=email -> T1, T2 -> 2
    assert ws.value("ticket_volume", *OCT, "--where", "channel=email") == 2
    # repeated --where on one column: email or chat -> 3
    assert ws.value("ticket_volume", *OCT, "--where", "channel=email", "--where", "channel=chat") == 3


def test_ticket_volume_rows_sorted_by_dimension(ws):
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z", team="zeta"),
        t("T2", "2026-10-02T10:00:00Z", team="alpha"),
        t("T3", "2026-10-03T10:00:00Z", team="mid"),
        t("T4", "2026-11-03T10:00:00Z", team="alpha"),
    ])
    ws.load()
    rows = ws.kpi("ticket_volume", *OCT_NOV, "--dim", "team")
    # sorted by period_start then team; every team observed in the range gets a row in each period
    assert [(r["period_start"], r["team"], r["value"]) for r in rows] == [
        ("2026-10-01", "alpha", 1), ("2026-10-01", "mid", 1), ("2026-10-01", "zeta", 1),
        ("2026-11-01", "alpha", 1), ("2026-11-01", "mid", 0), ("2026-11-01", "zeta", 0),
    ]


def test_ticket_volume_by_customer_tier_through_customers(ws):
    ws.write("customers", [
        {"customer_id": "C1", "acquired_at": "2025-01-01T00:00:00Z", "tier": "enterprise"},
        {"customer_id": "C2", "acquired_at": "2025-01-01T00:00:00Z", "tier": "freemium"},
    ])
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z", customer_id="C1"),
        t("T2", "2026-10-02T10:00:00Z", customer_id="C1"),
        t("T3", "2026-10-03T10:00:00Z", customer_id="C2"),
        t("T4", "2026-10-04T10:00:00Z", customer_id=None),  # no customer -> null tier
    ])
    ws.load()
    rows = ws.kpi("ticket_volume", *OCT, "--dim", "tier")
    # enterprise: T1, T2 -> 2; freemium: T3 -> 1; no customer -> null group: T4 -> 1
    assert {r["tier"]: r["value"] for r in rows} == {"enterprise": 2, "freemium": 1, None: 1}
    # --where tier=enterprise -> 2
    assert ws.value("ticket_volume", *OCT, "--where", "tier=enterprise") == 2


def test_unreachable_dimension_is_an_error_listing_the_valid_ones(ws):
    ws.write("tickets", [t("T1", "2026-10-01T10:00:00Z", channel="email")])
    ws.load()
    r = ws.cli("kpi", "ticket_volume", "--dim", "no_such_column", "--format", "json")
    assert r.exit_code != 0
    msg = r.stdout + r.stderr
    assert "no_such_column" in msg and "channel" in msg


# --------------------------------------------------------------------------------------
# avg_ticket_count
# --------------------------------------------------------------------------------------

def _six_october_tickets(ws):
    ws.write("tickets", [t(f"T{i}", f"2026-10-{10 + i:02d}T12:00:00Z") for i in range(6)])
    ws.load()


@pytest.mark.parametrize("per, expected", [
    ("day", 6 / 31),                      # 6 tickets / 31 days
    ("week", 6 / (31 / 7)),               # 6 tickets / (31/7 weeks) = 42/31
    ("month", 6 / (31 / (365.2425 / 12))),  # 6 / (31 days / 30.436875-day months)
])
def test_avg_ticket_count_per(ws, per, expected):
    _six_october_tickets(ws)
    row = one(ws, "avg_ticket_count", *OCT, "--option", f"per={per}")
    assert row["value"] == pytest.approx(expected, rel=1e-9)
    assert row["unit"] == "tickets_per_day"


def test_avg_ticket_count_default_is_per_day_on_clipped_period(ws):
    _six_october_tickets(ws)  # tickets on Oct 10..15
    rows = ws.kpi("avg_ticket_count", "--by", "month", "--from", "2026-10-13", "--to", "2026-10-31")
    # clipped October = Oct 13..31 = 19 days; tickets Oct 13, 14, 15 -> 3 / 19
    assert len(rows) == 1
    assert rows[0]["value"] == pytest.approx(3 / 19, rel=1e-9)
    assert rows[0]["partial"] is True


# --------------------------------------------------------------------------------------
# backlog and backlog_overdue (state at period end)
# --------------------------------------------------------------------------------------

def test_backlog_by_month(ws):
    ws.write("tickets", [
        t("A", "2026-10-05T10:00:00Z"),                                         # never resolved
        t("B", "2026-10-10T10:00:00Z", resolved_at="2026-10-20T10:00:00Z"),
        t("C", "2026-10-25T10:00:00Z", resolved_at="2026-11-05T10:00:00Z"),
        t("F", "2026-10-31T23:00:00Z", resolved_at="2026-11-01T00:00:00Z"),     # resolved exactly at Oct end
        t("D", "2026-11-02T10:00:00Z", reopen_count=1, status="open"),          # reopened, open again
        t("E", "2026-11-03T10:00:00Z", resolved_at="2026-11-04T10:00:00Z"),
        t("X", "2026-10-01T10:00:00Z", excluded="true"),                        # excluded, never resolved
        t("S", "2026-10-02T10:00:00Z", status="resolved"),                      # status only: unresolved
    ])
    ws.load()
    rows = ws.kpi("backlog", *OCT_NOV)
    # end of October (2026-11-01T00:00Z): A, C, F (resolved_at >= end), S -> 4 (B resolved, X excluded)
    # end of November (2026-12-01T00:00Z): A, D, S -> 3 (C, E, F resolved)
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 4), ("2026-11-01", 3)]


def test_backlog_without_by_is_taken_at_range_end_and_respects_as_of(ws):
    ws.write("tickets", [
        t("A", "2026-10-05T10:00:00Z", resolved_at="2026-10-06T10:00:00Z"),
        t("B", "2026-10-07T10:00:00Z", resolved_at="2026-12-20T10:00:00Z"),
    ])
    ws.load()
    # state at 2026-11-01T00:00Z: B is still open -> 1
    assert ws.value("backlog", *OCT) == 1
    # as of 2026-10-06T00:00Z (range ending Oct 5): A is not yet resolved -> A -> 1
    assert ws.value("backlog", "--from", "2026-10-01", "--to", "2026-10-05", asof="2026-10-06T00:00:00Z") == 1


def test_backlog_by_channel(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", channel="email"),
        t("B", "2026-10-02T10:00:00Z", channel="email", resolved_at="2026-10-03T10:00:00Z"),
        t("C", "2026-10-03T10:00:00Z", channel="chat"),
        t("D", "2026-12-01T10:00:00Z", channel="sms"),  # created after the range: no data in it
    ])
    ws.load()
    rows = ws.kpi("backlog", *OCT, "--dim", "channel")
    got = {r["channel"]: r["value"] for r in rows}
    # at 2026-11-01T00:00Z: email A -> 1; chat C -> 1
    assert got["email"] == 1 and got["chat"] == 1
    # sms is not observed in the range's data, so it has no row
    assert "sms" not in got, rows


@pytest.mark.parametrize("option, expected", [
    # period end 2026-11-01T00:00Z; ages: A 73 h, B 72 h, C 71 h; D resolved (not in backlog)
    ((), 1),                              # default 72 h: only A exceeds (B is exactly 72 h) -> 1
    (("--option", "target_hours=24"), 3),  # A, B, C all older than 24 h -> 3
    (("--option", "target_hours=71.5"), 2),  # A (73) and B (72) exceed 71.5 h -> 2
    (("--option", "target_hours=100"), 0),  # none -> 0
])
def test_backlog_overdue(ws, option, expected):
    ws.write("tickets", [
        t("A", "2026-10-28T23:00:00Z"),
        t("B", "2026-10-29T00:00:00Z"),
        t("C", "2026-10-29T01:00:00Z"),
        t("D", "2026-10-01T00:00:00Z", resolved_at="2026-10-02T00:00:00Z"),
        t("X", "2026-10-01T00:00:00Z", excluded="true"),
    ])
    ws.load()
    assert ws.value("backlog_overdue", *OCT, *option) == expected


# --------------------------------------------------------------------------------------
# first_response_time
# --------------------------------------------------------------------------------------

def _frt_tickets(ws):
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:10:00Z"),  # 10 min
        t("T2", "2026-10-02T10:00:00Z", first_response_at="2026-10-02T10:20:00Z"),  # 20 min
        t("T3", "2026-10-03T10:00:00Z", first_response_at="2026-10-03T10:30:00Z"),  # 30 min
        t("T4", "2026-10-04T10:00:00Z", first_response_at="2026-10-04T11:40:00Z"),  # 100 min
        t("T5", "2026-10-05T10:00:00Z"),                                            # unanswered
        t("T6", "2026-10-06T10:00:00Z", first_response_at="2026-10-06T20:00:00Z", excluded="true"),
    ])
    ws.load()


@pytest.mark.parametrize("stat, expected", [
    ("mean", 40.0),    # (10 + 20 + 30 + 100) / 4 = 40 (T5 unanswered, T6 excluded)
    ("median", 25.0),  # sorted 10, 20, 30, 100: halfway between 20 and 30 = 25
    ("p90", 79.0),     # position 0.9 x (4-1) = 2.7: 30 + 0.7 x (100 - 30) = 79
])
def test_first_response_time_stats(ws, stat, expected):
    _frt_tickets(ws)
    row = one(ws, "first_response_time", *OCT, "--option", f"stat={stat}")
    assert row["value"] == pytest.approx(expected, rel=1e-9)
    assert row["unit"] == "minutes"


def test_first_response_time_mean_reports_numerator_and_denominator(ws):
    _frt_tickets(ws)
    row = one(ws, "first_response_time", *OCT)
    # 160 minutes over 4 answered tickets
    assert row["value"] == pytest.approx(40.0)
    assert row["numerator"] == pytest.approx(160.0)
    assert row["denominator"] == 4


def test_first_response_time_median_has_no_numerator(ws):
    _frt_tickets(ws)
    row = one(ws, "first_response_time", *OCT, "--option", "stat=median")
    assert row["numerator"] is None and row["denominator"] is None


def test_first_response_time_attributed_to_created_at(ws):
    ws.write("tickets", [
        # created in October, answered in November: 120 min, October
        t("T1", "2026-10-31T23:00:00Z", first_response_at="2026-11-01T01:00:00Z"),
        t("T2", "2026-11-02T10:00:00Z", first_response_at="2026-11-02T10:06:00Z"),  # 6 min, November
    ])
    ws.load()
    rows = ws.kpi("first_response_time", *OCT_NOV)
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 120.0), ("2026-11-01", 6.0)]


def test_first_response_time_no_answered_ticket_is_null(ws):
    ws.write("tickets", [t("T1", "2026-10-01T10:00:00Z"), t("T2", "2026-10-02T10:00:00Z")])
    ws.load()
    # no ticket has a first response -> empty denominator -> null (never 0)
    assert ws.value("first_response_time", *OCT) is None
    assert ws.value("first_response_time", *OCT, "--option", "stat=p90") is None


def test_first_response_time_from_messages_overrides_given_value(ws):
    ws.write("tickets", [
        # given first_response_at says 5 min, messages say 30 min
        t("T1", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:05:00Z"),
        # agent-opened: the opening agent message is not a reply; the first response is the
        # second public agent message at 10:40 -> 40 min
        t("T2", "2026-10-02T10:00:00Z"),
        # bot message and internal note are not replies: first reply at 10:20 -> 20 min
        t("T3", "2026-10-03T10:00:00Z"),
        # customer and agent at the same instant 10:10: customer first, so the agent message is a
        # reply (even though its message_id sorts first) -> 10 min from created_at
        t("T4", "2026-10-04T10:00:00Z"),
    ])
    ws.write("messages", [
        m("M1", "T1", "2026-10-01T10:00:00Z", "customer"),
        m("M2", "T1", "2026-10-01T10:30:00Z", "agent", "a1"),
        m("M3", "T2", "2026-10-02T10:00:00Z", "agent", "a1"),
        m("M4", "T2", "2026-10-02T10:10:00Z", "customer"),
        m("M5", "T2", "2026-10-02T10:40:00Z", "agent", "a1"),
        m("M6", "T3", "2026-10-03T10:00:00Z", "customer"),
        m("M7", "T3", "2026-10-03T10:01:00Z", "bot"),
        m("M8", "T3", "2026-10-03T10:05:00Z", "agent", "a1", public="false"),
        m("M9", "T3", "2026-10-03T10:07:00Z", "system"),
        m("M10", "T3", "2026-10-03T10:20:00Z", "agent", "a2"),
        m("A1", "T4", "2026-10-04T10:10:00Z", "agent", "a1"),
        m("B1", "T4", "2026-10-04T10:10:00Z", "customer"),
    ])
    ws.load()
    rows = ws.kpi("first_response_time", "--by", "day", "--from", "2026-10-01", "--to", "2026-10-04")
    assert [(r["period_start"], r["value"]) for r in rows] == [
        ("2026-10-01", 30.0), ("2026-10-02", 40.0), ("2026-10-03", 20.0), ("2026-10-04", 10.0)]


def test_first_response_time_messages_without_reply_override_given_value(ws):
    ws.write("tickets", [
        # the messages hold only the customer's opening message and a bot answer: no first response,
        # although the ticket row gives one -> unanswered
        t("T1", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:05:00Z"),
        # no messages for T2: its given first_response_at stands -> 15 min
        t("T2", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:15:00Z"),
    ])
    ws.write("messages", [
        m("M1", "T1", "2026-10-01T10:00:00Z", "customer"),
        m("M2", "T1", "2026-10-01T10:01:00Z", "bot"),
    ])
    ws.load()
    row = one(ws, "first_response_time", *OCT)
    # only T2 answered -> 15 / 1
    assert row["value"] == pytest.approx(15.0)
    assert row["denominator"] == 1


def test_first_response_time_reply_after_as_of_has_not_been_sent(ws):
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:10:00Z"),  # 10 min
        t("T2", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:20:00Z"),  # 20 min, after as-of
        t("T3", "2026-10-01T10:00:00Z"),
    ])
    ws.write("messages", [
        m("M1", "T3", "2026-10-01T10:00:00Z", "customer"),
        m("M2", "T3", "2026-10-01T10:30:00Z", "agent", "a1"),  # after the as-of
    ])
    ws.load()
    # as of 10:15Z only T1 has been answered -> 10
    assert ws.value("first_response_time", *OCT, asof="2026-10-01T10:15:00Z") == pytest.approx(10.0)
    # as of the default (2027): 10, 20, 30 -> 20
    assert ws.value("first_response_time", *OCT) == pytest.approx(20.0)


def test_first_response_time_by_agent_and_team(ws):
    ws.write("tickets", [
        t("T1", "2026-10-01T10:00:00Z", agent_id="a1", team="red", first_response_at="2026-10-01T10:10:00Z"),
        t("T2", "2026-10-01T10:00:00Z", agent_id="a1", team="red", first_response_at="2026-10-01T10:30:00Z"),
        t("T3", "2026-10-01T10:00:00Z", agent_id="a2", team="blue", first_response_at="2026-10-01T11:00:00Z"),
        t("T4", "2026-10-01T10:00:00Z", agent_id="a2", team="blue"),
    ])
    ws.load()
    rows = ws.kpi("first_response_time", *OCT, "--dim", "agent_id")
    # a1: (10 + 30) / 2 = 20; a2: 60 / 1 = 60 (T4 unanswered)
    assert {r["agent_id"]: r["value"] for r in rows} == {"a1": 20.0, "a2": 60.0}
    rows = ws.kpi("first_response_time", *OCT, "--dim", "team", "--where", "team=blue")
    assert [(r["team"], r["value"]) for r in rows] == [("blue", 60.0)]


# --------------------------------------------------------------------------------------
# avg_response_time (needs messages)
# --------------------------------------------------------------------------------------

def _response_dataset(ws, excluded_extra=True):
    ws.write("tickets", [
        t("R1", "2026-10-01T10:00:00Z"),
        t("R2", "2026-10-02T09:00:00Z"),
        t("RX", "2026-10-03T09:00:00Z", excluded="true"),
    ])
    ws.write("messages", [
        m("m01", "R1", "2026-10-01T10:00:00Z", "customer"),
        m("m02", "R1", "2026-10-01T10:30:00Z", "agent", "a1"),   # 1st reply: from created_at 10:00 -> 30
        m("m03", "R1", "2026-10-01T10:40:00Z", "agent", "a1"),   # follow-up (no customer msg since) -> not counted
        m("m04", "R1", "2026-10-01T11:00:00Z", "customer"),      # wait starts
        m("m05", "R1", "2026-10-01T11:01:00Z", "bot"),           # not a reply, does not reset
        m("m06", "R1", "2026-10-01T11:05:00Z", "agent", "a2", public="false"),  # internal note
        m("m07", "R1", "2026-10-01T11:10:00Z", "customer"),
        m("m08", "R1", "2026-10-01T11:45:00Z", "agent", "a2"),   # from m04 11:00 -> 45
        m("m09", "R1", "2026-10-01T12:00:00Z", "customer"),
        m("m10", "R1", "2026-10-01T12:05:00Z", "system"),
        m("m11", "R1", "2026-10-01T12:20:00Z", "agent", "a1"),   # from m09 12:00 -> 20
        m("n01", "R2", "2026-10-02T09:00:00Z", "agent", "a3"),   # opening message (agent-opened): not a reply
        m("n02", "R2", "2026-10-02T09:30:00Z", "customer"),
        m("n03", "R2", "2026-10-02T10:00:00Z", "agent", "a3"),   # 1st reply: from created_at 09:00 -> 60
        m("x01", "RX", "2026-10-03T09:00:00Z", "customer"),
        m("x02", "RX", "2026-10-03T19:00:00Z", "agent", "a1"),   # excluded ticket: left out
    ])
    ws.load()


def test_avg_response_time(ws):
    _response_dataset(ws)
    row = one(ws, "avg_response_time", *OCT)
    # replies counted: 30, 45, 20 (R1) and 60 (R2) -> 155 / 4 = 38.75
    assert row["value"] == pytest.approx(38.75)
    assert row["numerator"] == pytest.approx(155.0)
    assert row["denominator"] == 4
    assert row["unit"] == "minutes"


def test_avg_response_time_replies_after_as_of_not_sent(ws):
    _response_dataset(ws)
    # as of 2026-10-01T11:50Z: R1 replies m02 (30) and m08 (45); m11 not sent yet; R2 not created -> 37.5
    assert ws.value("avg_response_time", *OCT, asof="2026-10-01T11:50:00Z") == pytest.approx(37.5)


def test_avg_response_time_attributed_to_reply_sent_at(ws):
    ws.write("tickets", [t("R1", "2026-10-31T23:00:00Z")])
    ws.write("messages", [
        m("m1", "R1", "2026-10-31T23:00:00Z", "customer"),
        m("m2", "R1", "2026-10-31T23:30:00Z", "agent", "a1"),  # 30 min, October
        m("m3", "R1", "2026-11-01T08:00:00Z", "customer"),
        m("m4", "R1", "2026-11-01T08:12:00Z", "agent", "a1"),  # 12 min, November
    ])
    ws.load()
    rows = ws.kpi("avg_response_time", *OCT_NOV)
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 30.0), ("2026-11-01", 12.0)]


def test_avg_response_time_sliced_by_ticket_assignee_and_channel(ws):
    ws.write("tickets", [
        t("R1", "2026-10-01T10:00:00Z", agent_id="a1", channel="email"),
        t("R2", "2026-10-01T10:00:00Z", agent_id="a2", channel="chat"),
    ])
    ws.write("messages", [
        m("m1", "R1", "2026-10-01T10:00:00Z", "customer"),
        m("m2", "R1", "2026-10-01T10:10:00Z", "agent", "a9"),  # replied by a9, but R1 is a1's ticket
        m("m3", "R2", "2026-10-01T10:00:00Z", "customer"),
        m("m4", "R2", "2026-10-01T10:50:00Z", "agent", "a2"),
    ])
    ws.load()
    rows = ws.kpi("avg_response_time", *OCT, "--dim", "agent_id")
    # a ticket KPI's agent is the ticket's assignee: a1 10 min, a2 50 min (no a9 row)
    assert {r["agent_id"]: r["value"] for r in rows} == {"a1": 10.0, "a2": 50.0}
    # --where channel=chat -> R2 only -> 50
    assert ws.value("avg_response_time", *OCT, "--where", "channel=chat") == pytest.approx(50.0)


def test_avg_response_time_without_messages_is_unavailable(ws):
    ws.write("tickets", [t("R1", "2026-10-01T10:00:00Z", first_response_at="2026-10-01T10:30:00Z")])
    ws.load()
    row = one(ws, "avg_response_time", *OCT)
    # messages never imported -> unavailable, not 0
    assert row["value"] is None
    assert row["note"].startswith("unavailable")


# --------------------------------------------------------------------------------------
# avg_resolution_time and complaint_resolution_time
# --------------------------------------------------------------------------------------

def test_avg_resolution_time_by_resolved_at(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T00:00:00Z", resolved_at="2026-10-01T02:00:00Z"),  # 2 h
        t("B", "2026-09-30T20:00:00Z", resolved_at="2026-10-01T00:00:00Z"),  # 4 h, resolved in October
        t("C", "2026-10-10T00:00:00Z", resolved_at="2026-10-10T09:00:00Z"),  # 9 h
        t("D", "2026-10-11T00:00:00Z"),                                      # unresolved
        t("X", "2026-10-12T00:00:00Z", resolved_at="2026-10-20T00:00:00Z", excluded="true"),
    ])
    ws.load()
    rows = ws.kpi("avg_resolution_time", "--by", "month", "--from", "2026-09-01", "--to", "2026-10-31")
    # September: nothing resolved -> null; October: (2 + 4 + 9) / 3 = 5 h
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-09-01", None), ("2026-10-01", 5.0)]
    assert rows[1]["unit"] == "hours"
    assert rows[1]["numerator"] == pytest.approx(15.0) and rows[1]["denominator"] == 3


def test_avg_resolution_time_ignores_resolution_after_as_of(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T00:00:00Z", resolved_at="2026-10-01T02:00:00Z"),  # 2 h
        t("B", "2026-10-01T00:00:00Z", resolved_at="2026-10-01T10:00:00Z"),  # 10 h, after the as-of
    ])
    ws.load()
    # as of 05:00Z only A is resolved -> 2
    assert ws.value("avg_resolution_time", *OCT, asof="2026-10-01T05:00:00Z") == pytest.approx(2.0)


def test_complaint_resolution_time(ws):
    ws.write("tickets", [
        # complaint filed Monday 09:00, resolved Wednesday 09:00 -> 48 h
        t("C1", "2026-10-05T09:00:00Z", category="complaint", resolved_at="2026-10-07T09:00:00Z"),
        # escalated technical ticket: from escalated_at 12:00 to 00:00 next day -> 12 h
        t("C2", "2026-10-06T10:00:00Z", category="technical", escalated_at="2026-10-06T12:00:00Z",
          resolved_at="2026-10-07T00:00:00Z"),
        # not a complaint, not escalated -> left out
        t("C3", "2026-10-06T10:00:00Z", category="technical", resolved_at="2026-10-20T10:00:00Z"),
        # unresolved complaint -> left out
        t("C4", "2026-10-06T10:00:00Z", category="complaint"),
        # complaint escalated a day after creation: from escalated_at -> 6 h
        t("C5", "2026-10-07T00:00:00Z", category="Complaint", escalated_at="2026-10-08T00:00:00Z",
          resolved_at="2026-10-08T06:00:00Z"),
        t("CX", "2026-10-07T00:00:00Z", category="complaint", resolved_at="2026-10-30T00:00:00Z",
          excluded="true"),
    ])
    ws.load()
    row = one(ws, "complaint_resolution_time", *OCT)
    # (48 + 12 + 6) / 3 = 22 h
    assert row["value"] == pytest.approx(22.0)
    assert row["denominator"] == 3
    assert row["unit"] == "hours"


def test_complaint_resolution_time_worked_example_monday_to_wednesday(ws):
    ws.write("tickets", [t("C1", "2026-10-05T08:00:00Z", category="complaint",
                           resolved_at="2026-10-07T08:00:00Z")])
    ws.load()
    # filed Monday, resolved Wednesday: 2 days = 48 h
    assert ws.value("complaint_resolution_time", *OCT) == pytest.approx(48.0)


# --------------------------------------------------------------------------------------
# resolution_rate and resolved_unresolved_ratio
# --------------------------------------------------------------------------------------

def _resolution_tickets(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z", agent_id="a1"),
        t("B", "2026-10-02T10:00:00Z", resolved_at="2026-11-15T12:00:00Z", agent_id="a1"),  # resolved later
        t("C", "2026-10-03T10:00:00Z", resolved_at="2026-10-04T12:00:00Z", agent_id="a2"),
        t("D", "2026-10-04T10:00:00Z", agent_id="a2", status="resolved"),  # no resolved_at -> unresolved
        t("X", "2026-10-05T10:00:00Z", excluded="true"),
    ])
    ws.load()


def test_resolution_rate(ws):
    _resolution_tickets(ws)
    row = one(ws, "resolution_rate", *OCT)
    # created in October: A, B, C, D (X excluded); resolved A, B, C -> 3 / 4 = 75
    assert row["value"] == pytest.approx(75.0)
    assert (row["numerator"], row["denominator"]) == (3, 4)
    assert row["unit"] == "percent"


def test_resolution_rate_empty_period_is_null(ws):
    _resolution_tickets(ws)
    rows = ws.kpi("resolution_rate", *OCT_NOV)
    # October 3/4 = 75; November: no tickets created -> empty denominator -> null (never 0)
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 75.0), ("2026-11-01", None)]


def test_resolution_rate_resolved_after_as_of_is_unresolved(ws):
    _resolution_tickets(ws)
    # as of 2026-11-01: B is resolved only on Nov 15 -> A, C of A, B, C, D -> 50
    assert ws.value("resolution_rate", *OCT, asof="2026-11-01T00:00:00Z") == pytest.approx(50.0)


def test_resolution_rate_by_agent(ws):
    _resolution_tickets(ws)
    rows = ws.kpi("resolution_rate", *OCT, "--dim", "agent_id")
    # a1: A, B both resolved -> 100; a2: C of C, D -> 50
    assert {r["agent_id"]: r["value"] for r in rows} == {"a1": 100.0, "a2": 50.0}
    # --where agent_id=a2 -> 50
    assert ws.value("resolution_rate", *OCT, "--where", "agent_id=a2") == pytest.approx(50.0)


def test_resolved_unresolved_ratio(ws):
    _resolution_tickets(ws)
    row = one(ws, "resolved_unresolved_ratio", *OCT)
    # 3 resolved (A, B, C) / 1 unresolved (D) = 3
    assert row["value"] == pytest.approx(3.0)
    assert row["unit"] == "ratio"
    # as of 2026-11-01: 2 resolved (A, C) / 2 unresolved (B, D) = 1
    assert ws.value("resolved_unresolved_ratio", *OCT, asof="2026-11-01T00:00:00Z") == pytest.approx(1.0)


def test_resolved_unresolved_ratio_nothing_unresolved_is_null(ws):
    ws.write("tickets", [t("A", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z"),
                         t("B", "2026-10-02T10:00:00Z", resolved_at="2026-10-02T12:00:00Z")])
    ws.load()
    # 2 resolved / 0 unresolved -> empty denominator -> null, never infinity or an error
    assert ws.value("resolved_unresolved_ratio", *OCT) is None


# --------------------------------------------------------------------------------------
# fcr_rate
# --------------------------------------------------------------------------------------

def _fcr_tickets(ws):
    R = "2026-10-20T10:00:00Z"
    ws.write("tickets", [
        t("F1", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=1),                  # FCR
        t("F2", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=0),                  # FCR (no reply)
        t("F3", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=2),                  # not FCR
        t("F4", "2026-09-20T10:00:00Z", resolved_at=R, agent_replies=1, reopen_count=1),  # reopened: not FCR
        t("F5", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=1, fcr_eligible="false"),  # FCR, ineligible
        t("F6", "2026-10-01T10:00:00Z", resolved_at=R),                                   # agent_replies unknown
        t("F7", "2026-10-01T10:00:00Z", agent_replies=1),                                 # unresolved
        t("F8", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=1, fcr_eligible="no"),  # FCR, ineligible
        t("F9", "2026-10-01T10:00:00Z", agent_replies=0, reopen_count=2),                 # reopened, open again
        t("FX", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=1, excluded="true"),
    ])
    ws.load()


@pytest.mark.parametrize("basis, num, den", [
    # eligible (default): resolved, eligible, known: F1 F2 F3 F4 -> FCR F1 F2 -> 2/4 = 50
    ("eligible", 2, 4),
    # resolved: all resolved with known replies: F1 F2 F3 F4 F5 F8 -> FCR F1 F2 F5 F8 -> 4/6
    ("resolved", 4, 6),
    # received: created in October with known replies: F1 F2 F3 F5 F7 F8 F9 (F4 is September)
    #   -> first-contact resolutions F1 F2 F5 F8 -> 4/7
    ("received", 4, 7),
])
def test_fcr_rate_bases(ws, basis, num, den):
    _fcr_tickets(ws)
    row = one(ws, "fcr_rate", *OCT, "--option", f"basis={basis}")
    assert row["value"] == pytest.approx(100 * num / den)
    assert (row["numerator"], row["denominator"]) == (num, den)
    assert row["unit"] == "percent"


def test_fcr_rate_default_basis_is_eligible(ws):
    _fcr_tickets(ws)
    # same as basis=eligible: 2/4 = 50
    assert ws.value("fcr_rate", *OCT) == pytest.approx(50.0)


def test_fcr_rate_unknown_agent_replies_left_out_with_note(ws):
    _fcr_tickets(ws)
    row = one(ws, "fcr_rate", *OCT)
    # F6 (resolved, eligible, agent_replies unknown) is left out of both sides and counted in a note
    assert row.get("note"), row
    assert re.search(r"\b1\b", row["note"]), row["note"]


def test_fcr_rate_no_note_when_every_agent_replies_known(ws):
    ws.write("tickets", [t("F1", "2026-10-01T10:00:00Z", resolved_at="2026-10-02T10:00:00Z", agent_replies=1)])
    ws.load()
    row = one(ws, "fcr_rate", *OCT)
    assert row["value"] == pytest.approx(100.0)
    assert not row.get("note")


def test_fcr_rate_worked_example_100_received_80_first_contact(ws):
    rows = [t(f"T{i:03d}", "2026-10-01T10:00:00Z", resolved_at="2026-10-02T10:00:00Z",
              agent_replies=1 if i < 80 else 3) for i in range(100)]
    ws.write("tickets", rows)
    ws.load()
    # 100 issues received, 80 solved on first contact -> 80 (basis received)
    assert ws.value("fcr_rate", *OCT, "--option", "basis=received") == pytest.approx(80.0)


def test_fcr_rate_attribution_resolved_at_vs_created_at(ws):
    ws.write("tickets", [
        t("A", "2026-10-30T10:00:00Z", resolved_at="2026-11-02T10:00:00Z", agent_replies=1),  # FCR
        t("B", "2026-10-30T10:00:00Z", resolved_at="2026-10-31T10:00:00Z", agent_replies=4),
    ])
    ws.load()
    rows = ws.kpi("fcr_rate", *OCT_NOV)
    # by resolved_at: October B -> 0/1 = 0; November A -> 1/1 = 100
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 0.0), ("2026-11-01", 100.0)]
    rows = ws.kpi("fcr_rate", *OCT_NOV, "--option", "basis=received")
    # by created_at: October A, B -> 1/2 = 50; November nothing created -> null
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 50.0), ("2026-11-01", None)]


def test_fcr_rate_replies_derived_from_messages(ws):
    ws.write("tickets", [
        # given agent_replies=5 but the messages hold 1 public agent reply -> FCR
        t("A", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z", agent_replies=5),
        # agent-opened, then one reply -> 1 reply -> FCR
        t("B", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z"),
        # two public agent replies -> not FCR
        t("C", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z"),
    ])
    ws.write("messages", [
        m("a1", "A", "2026-10-01T10:00:00Z", "customer"),
        m("a2", "A", "2026-10-01T10:05:00Z", "bot"),
        m("a3", "A", "2026-10-01T10:10:00Z", "agent", "x", public="false"),
        m("a4", "A", "2026-10-01T10:20:00Z", "agent", "x"),
        m("a5", "A", "2026-10-01T10:30:00Z", "system"),
        m("b1", "B", "2026-10-01T10:00:00Z", "agent", "x"),
        m("b2", "B", "2026-10-01T10:10:00Z", "customer"),
        m("b3", "B", "2026-10-01T10:20:00Z", "agent", "x"),
        m("c1", "C", "2026-10-01T10:00:00Z", "customer"),
        m("c2", "C", "2026-10-01T10:10:00Z", "agent", "x"),
        m("c3", "C", "2026-10-01T10:20:00Z", "agent", "y"),
    ])
    ws.load()
    row = one(ws, "fcr_rate", *OCT)
    # A and B first-contact, C not -> 2/3
    assert row["value"] == pytest.approx(200 / 3)
    assert (row["numerator"], row["denominator"]) == (2, 3)


def test_fcr_rate_reply_after_as_of_not_counted(ws):
    ws.write("tickets", [t("A", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z")])
    ws.write("messages", [
        m("a1", "A", "2026-10-01T10:00:00Z", "customer"),
        m("a2", "A", "2026-10-01T10:30:00Z", "agent", "x"),
        m("a3", "A", "2026-10-03T09:00:00Z", "agent", "x"),  # a check-in after solving: second reply
    ])
    ws.load()
    # as of 2026-10-02: only a2 has been sent -> 1 reply -> FCR -> 1/1 = 100
    assert ws.value("fcr_rate", *OCT, asof="2026-10-02T00:00:00Z") == pytest.approx(100.0)
    # as of 2027: 2 replies -> 0/1 = 0
    assert ws.value("fcr_rate", *OCT) == pytest.approx(0.0)


def test_fcr_rate_by_channel(ws):
    R = "2026-10-20T10:00:00Z"
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", channel="email", resolved_at=R, agent_replies=1),
        t("B", "2026-10-01T10:00:00Z", channel="email", resolved_at=R, agent_replies=2),
        t("C", "2026-10-01T10:00:00Z", channel="chat", resolved_at=R, agent_replies=0),
    ])
    ws.load()
    rows = ws.kpi("fcr_rate", *OCT, "--dim", "channel")
    # email 1/2 = 50; chat 1/1 = 100
    assert {r["channel"]: r["value"] for r in rows} == {"email": 50.0, "chat": 100.0}
    assert ws.value("fcr_rate", *OCT, "--where", "channel=email") == pytest.approx(50.0)


# --------------------------------------------------------------------------------------
# single_agent_resolution_rate
# --------------------------------------------------------------------------------------

def test_single_agent_resolution_rate(ws):
    R = "2026-10-20T10:00:00Z"
    ws.write("tickets", [
        t("S1", "2026-10-01T10:00:00Z", resolved_at=R, agents_involved=1),
        t("S2", "2026-10-01T10:00:00Z", resolved_at=R, agents_involved=2),
        t("S3", "2026-10-01T10:00:00Z", resolved_at=R, agents_involved=1),
        t("S4", "2026-10-01T10:00:00Z", resolved_at=R),                       # unknown: left out
        t("S5", "2026-10-01T10:00:00Z", agents_involved=1),                   # unresolved: left out
        t("SX", "2026-10-01T10:00:00Z", resolved_at=R, agents_involved=1, excluded="true"),
    ])
    ws.load()
    row = one(ws, "single_agent_resolution_rate", *OCT)
    # S1, S3 of S1, S2, S3 -> 2/3
    assert row["value"] == pytest.approx(200 / 3)
    assert (row["numerator"], row["denominator"]) == (2, 3)


def test_single_agent_resolution_rate_from_messages(ws):
    R = "2026-10-01T12:00:00Z"
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", resolved_at=R, agents_involved=3),  # messages say 1 agent
        t("B", "2026-10-01T10:00:00Z", resolved_at=R),                     # 2 agents reply
    ])
    ws.write("messages", [
        m("a1", "A", "2026-10-01T10:00:00Z", "customer"),
        m("a2", "A", "2026-10-01T10:10:00Z", "agent", "x"),
        m("a3", "A", "2026-10-01T10:20:00Z", "agent", "y", public="false"),  # internal note: y not involved
        m("a4", "A", "2026-10-01T10:30:00Z", "agent", "x"),
        m("b1", "B", "2026-10-01T10:00:00Z", "customer"),
        m("b2", "B", "2026-10-01T10:10:00Z", "agent", "x"),
        m("b3", "B", "2026-10-01T10:20:00Z", "agent", "y"),
    ])
    ws.load()
    # A: 1 agent (x) -> single; B: x and y -> 1/2 = 50
    assert ws.value("single_agent_resolution_rate", *OCT) == pytest.approx(50.0)


# --------------------------------------------------------------------------------------
# interactions_per_ticket
# --------------------------------------------------------------------------------------

def _interaction_dataset(ws, with_bots: bool):
    R = "2026-10-01T18:00:00Z"
    ws.write("tickets", [
        t("I1", "2026-10-01T10:00:00Z", resolved_at=R),
        t("I2", "2026-10-01T10:00:00Z", resolved_at=R),
        t("I3", "2026-10-01T10:00:00Z", resolved_at=R),
        t("I4", "2026-10-01T10:00:00Z"),  # unresolved: left out
    ])
    msgs = [
        m("i1", "I1", "2026-10-01T10:00:00Z", "customer"),
        m("i2", "I1", "2026-10-01T10:10:00Z", "agent", "x"),
        m("i3", "I1", "2026-10-01T10:20:00Z", "customer"),
        m("i4", "I1", "2026-10-01T10:30:00Z", "agent", "x"),
        m("j1", "I2", "2026-10-01T10:00:00Z", "customer"),
        m("k1", "I3", "2026-10-01T10:00:00Z", "customer"),
        m("k2", "I3", "2026-10-01T10:10:00Z", "agent", "x"),
        m("l1", "I4", "2026-10-01T10:00:00Z", "customer"),
        m("l2", "I4", "2026-10-01T10:10:00Z", "agent", "x"),
        m("l3", "I4", "2026-10-01T10:20:00Z", "agent", "x"),
        m("l4", "I4", "2026-10-01T10:30:00Z", "agent", "x"),
    ]
    if with_bots:
        msgs += [m("i5", "I1", "2026-10-01T10:40:00Z", "bot"),
                 m("i6", "I1", "2026-10-01T10:50:00Z", "agent", "x", public="false"),
                 m("j2", "I2", "2026-10-01T10:05:00Z", "system")]
    ws.write("messages", msgs)
    ws.load()


def test_interactions_per_ticket_agent_default(ws):
    _interaction_dataset(ws, with_bots=True)
    row = one(ws, "interactions_per_ticket", *OCT)
    # agent replies per resolved ticket: I1 2 (bot and note not replies), I2 0, I3 1 -> 3/3 = 1
    assert row["value"] == pytest.approx(1.0)
    assert row["denominator"] == 3


@pytest.mark.parametrize("who, expected", [
    ("agent", 3 / 3),     # I1 2, I2 0, I3 1 -> 3 / 3
    ("customer", 4 / 3),  # I1 2, I2 1, I3 1 -> 4 / 3
    ("all", 7 / 3),       # I1 4, I2 1, I3 2 -> 7 / 3
])
def test_interactions_per_ticket_who(ws, who, expected):
    _interaction_dataset(ws, with_bots=False)
    assert ws.value("interactions_per_ticket", *OCT, "--option", f"who={who}") == pytest.approx(expected)


def test_interactions_per_ticket_from_ticket_agent_replies(ws):
    R = "2026-10-10T10:00:00Z"
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=0),  # 0 counts as 0
        t("B", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=3),
        t("C", "2026-10-01T10:00:00Z", resolved_at=R, agent_replies=2),
        t("D", "2026-10-01T10:00:00Z", agent_replies=9),                 # unresolved
    ])
    ws.load()
    # (0 + 3 + 2) / 3 = 5/3
    assert ws.value("interactions_per_ticket", *OCT) == pytest.approx(5 / 3)


def test_interactions_per_ticket_messages_after_as_of_not_sent(ws):
    ws.write("tickets", [t("A", "2026-10-01T10:00:00Z", resolved_at="2026-10-01T12:00:00Z")])
    ws.write("messages", [
        m("a1", "A", "2026-10-01T10:00:00Z", "customer"),
        m("a2", "A", "2026-10-01T10:30:00Z", "agent", "x"),
        m("a3", "A", "2026-10-03T08:00:00Z", "customer"),   # after the as-of below
        m("a4", "A", "2026-10-03T09:00:00Z", "agent", "x"),  # after the as-of below
    ])
    ws.load()
    # as of 2026-10-02: A has 1 agent reply and 1 customer message sent -> 1 and 1
    assert ws.value("interactions_per_ticket", *OCT, asof="2026-10-02T00:00:00Z") == pytest.approx(1.0)
    assert ws.value("interactions_per_ticket", *OCT, "--option", "who=customer",
                    asof="2026-10-02T00:00:00Z") == pytest.approx(1.0)
    # as of 2027: 2 agent replies -> 2
    assert ws.value("interactions_per_ticket", *OCT) == pytest.approx(2.0)


# --------------------------------------------------------------------------------------
# channel_share and category_volume
# --------------------------------------------------------------------------------------

def test_channel_share(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", channel="email"),
        t("B", "2026-10-02T10:00:00Z", channel="email"),
        t("C", "2026-10-03T10:00:00Z", channel="chat"),
        t("D", "2026-10-04T10:00:00Z", channel=None),
        t("X", "2026-10-05T10:00:00Z", channel="chat", excluded="true"),
    ])
    ws.load()
    rows = ws.kpi("channel_share", *OCT)
    # 4 tickets: email 2 -> 50, chat 1 -> 25, missing channel 1 -> 25
    assert {r["channel"]: r["value"] for r in rows} == {"email": 50.0, "chat": 25.0, None: 25.0}
    assert pick(rows, channel="email")["denominator"] == 4
    assert all(r["unit"] == "percent" for r in rows)


def test_channel_share_divides_within_each_team(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", channel="email", team="a"),
        t("B", "2026-10-02T10:00:00Z", channel="email", team="a"),
        t("C", "2026-10-03T10:00:00Z", channel="chat", team="a"),
        t("D", "2026-10-04T10:00:00Z", channel="email", team="b"),
    ])
    ws.load()
    rows = ws.kpi("channel_share", *OCT, "--dim", "team")
    # team a: email 2/3, chat 1/3; team b: email 1/1
    assert pick(rows, team="a", channel="email")["value"] == pytest.approx(200 / 3)
    assert pick(rows, team="a", channel="chat")["value"] == pytest.approx(100 / 3)
    assert pick(rows, team="b", channel="email")["value"] == pytest.approx(100.0)


def test_channel_share_by_month(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", channel="email"),
        t("B", "2026-11-02T10:00:00Z", channel="email"),
        t("C", "2026-11-03T10:00:00Z", channel="chat"),
        t("D", "2026-11-04T10:00:00Z", channel="chat"),
        t("E", "2026-11-05T10:00:00Z", channel="chat"),
    ])
    ws.load()
    rows = ws.kpi("channel_share", *OCT_NOV)
    # October: email 1/1 = 100, chat 0/1 = 0; November: email 1/4 = 25, chat 3/4 = 75
    assert pick(rows, period_start="2026-10-01", channel="email")["value"] == pytest.approx(100.0)
    assert pick(rows, period_start="2026-10-01", channel="chat")["value"] == pytest.approx(0.0)
    assert pick(rows, period_start="2026-11-01", channel="email")["value"] == pytest.approx(25.0)
    assert pick(rows, period_start="2026-11-01", channel="chat")["value"] == pytest.approx(75.0)


def test_category_volume(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", category="technical"),
        t("B", "2026-10-02T10:00:00Z", category="Technical"),
        t("C", "2026-10-03T10:00:00Z", category="complaint"),
        t("D", "2026-10-04T10:00:00Z", category=None),
        t("E", "2026-11-04T10:00:00Z", category="return"),
        t("X", "2026-10-05T10:00:00Z", category="complaint", excluded="true"),
    ])
    ws.load()
    rows = ws.kpi("category_volume", *OCT)
    # October: technical 2, complaint 1 (X excluded), missing 1
    assert {r["category"]: r["value"] for r in rows} == {"technical": 2, "complaint": 1, None: 1}
    rows = ws.kpi("category_volume", *OCT_NOV)
    # the return category has no ticket in October -> 0 there; 1 in November
    assert pick(rows, period_start="2026-10-01", category="return")["value"] == 0
    assert pick(rows, period_start="2026-11-01", category="return")["value"] == 1
    assert pick(rows, period_start="2026-11-01", category="technical")["value"] == 0


# --------------------------------------------------------------------------------------
# self_service_rate and kb_helpfulness
# --------------------------------------------------------------------------------------

def _self_service(ws):
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", channel="chat"),
        t("B", "2026-10-02T10:00:00Z", channel="email"),
        t("C", "2026-10-03T10:00:00Z", channel="email"),
        t("X", "2026-10-03T10:00:00Z", channel="chat", excluded="true"),
    ])
    ws.write("self_service", [
        {"event_id": "E1", "occurred_at": "2026-10-01T09:00:00Z", "kind": "bot_resolved", "channel": "chat"},
        {"event_id": "E2", "occurred_at": "2026-10-02T09:00:00Z", "kind": "bot_resolved", "channel": "chat"},
        {"event_id": "E3", "occurred_at": "2026-10-03T09:00:00Z", "kind": "ivr_resolved", "channel": "phone"},
        {"event_id": "E4", "occurred_at": "2026-10-04T09:00:00Z", "kind": "bot_escalated", "channel": "chat"},
        {"event_id": "E5", "occurred_at": "2026-10-05T09:00:00Z", "kind": "kb_view"},
        {"event_id": "E6", "occurred_at": "2026-10-05T09:00:00Z", "kind": "article_helpful"},
        {"event_id": "E7", "occurred_at": "2026-10-06T09:00:00Z", "kind": "article_helpful"},
        {"event_id": "E8", "occurred_at": "2026-10-07T09:00:00Z", "kind": "article_helpful"},
        {"event_id": "E9", "occurred_at": "2026-10-08T09:00:00Z", "kind": "article_not_helpful"},
        {"event_id": "E10", "occurred_at": "2026-11-08T09:00:00Z", "kind": "kb_view"},
    ])
    ws.load()


def test_self_service_rate(ws):
    _self_service(ws)
    row = one(ws, "self_service_rate", *OCT)
    # self-service resolutions E1 E2 E3 = 3; tickets A B C = 3 (X excluded) -> 3 / (3 + 3) = 50
    assert row["value"] == pytest.approx(50.0)
    assert (row["numerator"], row["denominator"]) == (3, 6)


def test_self_service_rate_by_channel(ws):
    _self_service(ws)
    rows = ws.kpi("self_service_rate", *OCT, "--dim", "channel")
    # chat: 2 bot_resolved / (2 + 1 ticket) = 66.67; phone: 1 / (1 + 0) = 100; email: 0 / (0 + 2) = 0
    got = {r["channel"]: r["value"] for r in rows}
    assert got == pytest.approx({"chat": 200 / 3, "phone": 100.0, "email": 0.0})


def test_self_service_rate_by_customer_tier(ws):
    ws.write("customers", [
        {"customer_id": "U1", "acquired_at": "2025-01-01T00:00:00Z", "tier": "gold"},
        {"customer_id": "U2", "acquired_at": "2025-01-01T00:00:00Z", "tier": "silver"},
    ])
    ws.write("tickets", [
        t("A", "2026-10-01T10:00:00Z", customer_id="U1"),
        t("B", "2026-10-02T10:00:00Z", customer_id="U2"),
    ])
    ws.write("self_service", [
        {"event_id": "E1", "occurred_at": "2026-10-01T09:00:00Z", "kind": "bot_resolved", "customer_id": "U1"},
        {"event_id": "E2", "occurred_at": "2026-10-01T09:30:00Z", "kind": "ivr_resolved", "customer_id": "U1"},
    ])
    ws.load()
    # both tables reach customers through customer_id:
    # gold: 2 self-service resolutions / (2 + 1 ticket) = 66.67; silver: 0 / (0 + 1) = 0
    rows = ws.kpi("self_service_rate", *OCT, "--dim", "tier")
    assert {r["tier"]: r["value"] for r in rows} == pytest.approx({"gold": 200 / 3, "silver": 0.0})


def test_self_service_rate_needs_both_tables(ws):
    ws.write("tickets", [t("A", "2026-10-01T10:00:00Z")])
    ws.load()
    row = one(ws, "self_service_rate", *OCT)
    # self_service never imported -> unavailable, not 0
    assert row["value"] is None
    assert row["note"].startswith("unavailable")


def test_kb_helpfulness(ws):
    _self_service(ws)
    rows = ws.kpi("kb_helpfulness", *OCT_NOV)
    # October: 3 helpful / (3 helpful + 1 not helpful) = 75; November: only a kb_view -> null
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 75.0), ("2026-11-01", None)]
    assert (rows[0]["numerator"], rows[0]["denominator"]) == (3, 4)


# --------------------------------------------------------------------------------------
# unavailable tables
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kpi", ["ticket_volume", "backlog", "fcr_rate", "kb_helpfulness", "channel_share"])
def test_ticket_kpi_unavailable_when_table_never_imported(ws, kpi):
    ws.write("calls", [{"call_id": "K1", "entered_at": "2026-10-01T10:00:00Z"}])
    ws.load()
    r = ws.cli("kpi", kpi, *OCT, "--format", "json", "--as-of", "2027-01-01T00:00:00Z")
    # an unavailable KPI is not an error: exit code 0
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = ws.kpi(kpi, *OCT)
    assert rows and all(r["value"] is None for r in rows)
    assert all(r["note"].startswith("unavailable") for r in rows)
