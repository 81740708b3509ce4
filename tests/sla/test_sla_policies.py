"""SLA policies (issue 3, section 3): the default policy, rule precedence, met / missed / undecided,
business-hours targets, next-response waits, sla_breaches, sla_at_risk and backlog_overdue.

Every case is a small hand-made dataset imported through the CLI; the expected values are worked
out by hand in the comments. All timestamps are UTC ("Z") unless a config time zone says otherwise.
"""
from __future__ import annotations

import json

from business_paths import ws  # noqa: F401  (each test on stored and looked-up business seconds)

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
OCT_NOV = ("--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")
ASOF = "2027-01-01T00:00:00Z"  # the conftest default as-of


def t(tid: str, created: str, **kw) -> dict:
    """One ticket row; keyword columns as given (None = empty cell)."""
    return {"ticket_id": tid, "created_at": created, **kw}


def m(mid: str, tid: str, sent: str, author: str, agent: str | None = None, public: str | None = None) -> dict:
    return {"message_id": mid, "ticket_id": tid, "sent_at": sent, "author": author,
            "agent_id": agent, "public": public}


def config(ws, text: str, name: str = "sla.toml") -> tuple[str, str]:
    """Write a config file; returns the ("--config", path) pair for ws.kpi / rows."""
    path = ws.root / name
    path.write_text(text, encoding="utf-8")
    return ("--config", str(path))


def one(ws, kpi: str, *args: str, asof: str = ASOF) -> dict:
    rows = ws.kpi(kpi, *args, asof=asof)
    assert len(rows) == 1, rows
    return rows[0]


def records(ws, kpi: str, *args: str, asof: str = ASOF) -> list[dict]:
    """`servicekpi rows KPI ... --format json`."""
    r = ws.cli("rows", kpi, *args, "--format", "json", "--as-of", asof)
    assert r.exit_code == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def ratio(row: dict) -> tuple:
    return row["value"], row["numerator"], row["denominator"]


# --------------------------------------------------------------------------------------
# The default policy (no config): first response 24 h, resolution 72 h, calendar time
# --------------------------------------------------------------------------------------

def test_default_policy_first_response_is_24_calendar_hours(ws):
    ws.write("tickets", [
        # Saturday 2026-10-03: calendar time, so the weekend counts in full
        t("A", "2026-10-03T00:00:00Z", first_response_at="2026-10-03T23:59:00Z"),  # 23h59m  -> met
        t("B", "2026-10-03T00:00:00Z", first_response_at="2026-10-04T00:00:00Z"),  # 24h00m exactly -> met
        t("C", "2026-10-03T00:00:00Z", first_response_at="2026-10-04T00:00:01Z"),  # 24h00m01s -> missed
        t("D", "2026-10-03T00:00:00Z"),                                              # no reply, past 24 h -> missed
        t("E", "2026-10-10T00:00:00Z", first_response_at="2026-10-11T06:00:00Z"),  # 30 h -> missed
    ])
    ws.load()
    # met A, B; missed C, D, E -> 2 / 5 = 40 %
    assert ratio(one(ws, "sla_first_response_met", *OCT)) == (40.0, 2, 5)


def test_default_policy_resolution_is_72_calendar_hours(ws):
    ws.write("tickets", [
        t("A", "2026-10-03T00:00:00Z", resolved_at="2026-10-05T23:00:00Z"),  # 71 h -> met
        t("B", "2026-10-03T00:00:00Z", resolved_at="2026-10-06T00:00:00Z"),  # 72 h exactly -> met
        t("C", "2026-10-03T00:00:00Z", resolved_at="2026-10-06T01:00:00Z"),  # 73 h -> missed
        t("D", "2026-10-03T00:00:00Z"),                                        # unresolved at the as-of -> missed
    ])
    ws.load()
    # met A, B; missed C, D -> 2 / 4 = 50 %
    assert ratio(one(ws, "sla_resolution_met", *OCT)) == (50.0, 2, 4)


def test_default_policy_undecided_targets_are_left_out(ws):
    ws.write("tickets", [
        # as-of 2026-10-10T12:00Z
        t("A", "2026-10-10T00:00:00Z"),                                          # 12 h, no reply: inside 24 h
        t("B", "2026-10-09T11:00:00Z"),                                          # 25 h, no reply: missed
        t("C", "2026-10-10T01:00:00Z", first_response_at="2026-10-10T02:00:00Z"),  # 1 h -> met
        t("D", "2026-10-08T00:00:00Z", resolved_at="2026-10-09T00:00:00Z",
          first_response_at="2026-10-08T01:00:00Z"),                             # 24 h resolution -> met; FR met
    ])
    ws.load()
    asof = "2026-10-10T12:00:00Z"
    # first response: met C, D; missed B; A undecided -> 2 / 3
    row = one(ws, "sla_first_response_met", asof=asof)
    assert (row["numerator"], row["denominator"]) == (2, 3)
    assert abs(row["value"] - 200 / 3) < 1e-9
    # resolution: D met (24 h); A, B, C unresolved and younger than 72 h (A 12 h, B 25 h, C 11 h) -> 1 / 1
    assert ratio(one(ws, "sla_resolution_met", asof=asof)) == (100.0, 1, 1)


def test_default_policy_has_no_next_response_target(ws):
    ws.write("tickets", [t("T1", "2026-10-01T08:00:00Z", resolved_at="2026-10-01T09:00:00Z")])
    ws.write("messages", [
        m("1", "T1", "2026-10-01T08:00:00Z", "customer"),
        m("2", "T1", "2026-10-01T08:30:00Z", "agent", "a1"),       # first response 30 min -> met
        m("3", "T1", "2026-10-01T10:00:00Z", "customer"),          # a wait, never answered (months ago)
    ])
    ws.load()
    # no next-response target: the wait is never decided -> no value
    row = one(ws, "sla_next_response_met", *OCT)
    assert row["value"] is None
    assert not row["denominator"]
    # and it is no breach: FR 30 min met, resolution 1 h met -> 0 breaches
    assert ws.value("sla_breaches", *OCT) == 0
    # a config without [[sla]] keeps the default policy
    cfg = config(ws, 'timezone = "UTC"\n')
    assert one(ws, "sla_next_response_met", *OCT, *cfg)["value"] is None
    assert ratio(one(ws, "sla_first_response_met", *OCT, *cfg)) == (100.0, 1, 1)


# --------------------------------------------------------------------------------------
# Rule precedence
# --------------------------------------------------------------------------------------

PRECEDENCE = """
[[sla]]
name = "vip"
match = { customer_tier = "enterprise" }
first_response = "1h"

[[sla]]
name = "urgent"
match = { priority = "urgent" }
first_response = "2h"

[[sla]]
name = "mail"
match = { channel = ["email", "web_form"] }
first_response = "4h"

[[sla]]
name = "billing"
match = { category = "billing" }
first_response = 8
"""


def test_first_matching_rule_wins_in_config_order(ws):
    c = "2026-10-05T10:00:00Z"
    ws.write("tickets", [
        # enterprise + urgent + email -> vip (1 h); 90 min -> missed (urgent's 2 h would say met)
        t("T1", c, customer_tier="enterprise", priority="urgent", channel="email",
          first_response_at="2026-10-05T11:30:00Z"),
        # business + urgent + email -> urgent (2 h); 3 h -> missed (mail's 4 h would say met)
        t("T2", c, customer_tier="business", priority="urgent", channel="email",
          first_response_at="2026-10-05T13:00:00Z"),
        # normal + web_form (second value of the list) -> mail (4 h); 3 h -> met
        t("T3", c, customer_tier="business", priority="normal", channel="web_form",
          first_response_at="2026-10-05T13:00:00Z"),
        # chat + billing -> billing (8 hours as a number); 10 h -> missed (default 24 h would say met)
        t("T4", c, customer_tier="business", priority="normal", channel="chat", category="billing",
          first_response_at="2026-10-05T20:00:00Z"),
        # nothing matches -> default (24 h); 10 h -> met
        t("T5", c, customer_tier="business", priority="normal", channel="chat", category="technical",
          first_response_at="2026-10-05T20:00:00Z"),
        # enterprise + billing -> vip (earlier rule); 2 h -> missed (billing's 8 h would say met)
        t("T6", c, customer_tier="enterprise", priority="normal", channel="chat", category="billing",
          first_response_at="2026-10-05T12:00:00Z"),
    ])
    ws.load()
    cfg = config(ws, PRECEDENCE)
    # met T3, T5; missed T1, T2, T4, T6 -> 2 / 6
    row = one(ws, "sla_first_response_met", *OCT, *cfg)
    assert (row["numerator"], row["denominator"]) == (2, 6)
    assert abs(row["value"] - 100 / 3) < 1e-9
    got = {r["ticket_id"]: (r["sla_rule"], r["sla_status"])
           for r in records(ws, "sla_first_response_met", *OCT, *cfg)}
    assert got == {"T1": ("vip", "missed"), "T2": ("urgent", "missed"), "T3": ("mail", "met"),
                   "T4": ("billing", "missed"), "T5": ("default", "met"), "T6": ("vip", "missed")}


def test_rule_order_decides_when_two_rules_match(ws):
    ws.write("tickets", [
        # urgent enterprise ticket answered after 90 min
        t("T1", "2026-10-05T10:00:00Z", customer_tier="enterprise", priority="urgent",
          first_response_at="2026-10-05T11:30:00Z"),
    ])
    ws.load()
    tier_first = config(ws, '[[sla]]\nname = "tier"\nmatch = { customer_tier = "enterprise" }\nfirst_response = "1h"\n'
                            '[[sla]]\nname = "prio"\nmatch = { priority = "urgent" }\nfirst_response = "2h"\n', "a.toml")
    prio_first = config(ws, '[[sla]]\nname = "prio"\nmatch = { priority = "urgent" }\nfirst_response = "2h"\n'
                            '[[sla]]\nname = "tier"\nmatch = { customer_tier = "enterprise" }\nfirst_response = "1h"\n',
                        "b.toml")
    # tier rule first: 90 min > 1 h -> missed -> 0 %
    assert ratio(one(ws, "sla_first_response_met", *OCT, *tier_first)) == (0.0, 0, 1)
    # priority rule first: 90 min <= 2 h -> met -> 100 %
    assert ratio(one(ws, "sla_first_response_met", *OCT, *prio_first)) == (100.0, 1, 1)


def test_a_rule_with_several_match_keys_needs_all_of_them(ws):
    c = "2026-10-05T10:00:00Z"
    frt = "2026-10-05T10:45:00Z"  # every ticket answered after 45 min
    ws.write("tickets", [
        t("T1", c, priority="high", channel="chat", first_response_at=frt),    # hot_chat (30 min) -> missed
        t("T2", c, priority="urgent", channel="chat", first_response_at=frt),  # hot_chat via the list -> missed
        t("T3", c, priority="high", channel="email", first_response_at=frt),   # channel differs -> default, met
        t("T4", c, priority="low", channel="chat", first_response_at=frt),     # priority differs -> default, met
        t("T5", c, channel="chat", first_response_at=frt),                     # no priority -> default, met
    ])
    ws.load()
    cfg = config(ws, '[[sla]]\nname = "hot_chat"\nmatch = { priority = ["high", "urgent"], channel = "chat" }\n'
                     'first_response = "30m"\n')
    # met T3, T4, T5; missed T1, T2 -> 3 / 5 = 60 %
    assert ratio(one(ws, "sla_first_response_met", *OCT, *cfg)) == (60.0, 3, 5)
    got = {r["ticket_id"]: r["sla_rule"] for r in records(ws, "sla_first_response_met", *OCT, *cfg)}
    assert got == {"T1": "hot_chat", "T2": "hot_chat", "T3": "default", "T4": "default", "T5": "default"}


def test_no_matching_rule_falls_back_to_the_default_policy(ws):
    ws.write("tickets", [
        # freemium matches no rule -> default: FR 20 h met (24 h); resolution 70 h met (72 h)
        t("F", "2026-10-05T00:00:00Z", customer_tier="freemium", first_response_at="2026-10-05T20:00:00Z",
          resolved_at="2026-10-07T22:00:00Z"),
        # enterprise -> rule: FR 20 h missed (1 h); resolution 70 h missed (8 h)
        t("E", "2026-10-05T00:00:00Z", customer_tier="enterprise", first_response_at="2026-10-05T20:00:00Z",
          resolved_at="2026-10-07T22:00:00Z"),
    ])
    ws.load()
    cfg = config(ws, '[[sla]]\nname = "ent"\nmatch = { customer_tier = "enterprise" }\n'
                     'first_response = "1h"\nresolution = "8h"\n')
    assert ratio(one(ws, "sla_first_response_met", *OCT, *cfg)) == (50.0, 1, 2)
    assert ratio(one(ws, "sla_resolution_met", *OCT, *cfg)) == (50.0, 1, 2)
    got = {r["ticket_id"]: r["sla_rule"] for r in records(ws, "sla_resolution_met", *OCT, *cfg)}
    assert got == {"F": "default", "E": "ent"}


def test_rule_values_match_case_insensitively(ws):
    ws.write("tickets", [
        # imported enumerations are trimmed and lower-cased; so are the rule's values
        t("T1", "2026-10-05T10:00:00Z", customer_tier="ENTERPRISE", channel=" Email",
          first_response_at="2026-10-05T11:30:00Z"),  # matches "vip" (1 h): 90 min -> missed
        t("T2", "2026-10-05T10:00:00Z", customer_tier="Enterprise", channel="chat",
          first_response_at="2026-10-05T11:30:00Z"),  # channel differs -> default (24 h): met
    ])
    ws.load()
    cfg = config(ws, '[[sla]]\nname = "vip"\nmatch = { customer_tier = "Enterprise", channel = ["EMAIL"] }\n'
                     'first_response = "1h"\n')
    assert ratio(one(ws, "sla_first_response_met", *OCT, *cfg)) == (50.0, 1, 2)
    got = {r["ticket_id"]: r["sla_rule"] for r in records(ws, "sla_first_response_met", *OCT, *cfg)}
    assert got == {"T1": "vip", "T2": "default"}


# --------------------------------------------------------------------------------------
# Met / missed / undecided with tier- and channel-specific targets
# --------------------------------------------------------------------------------------

TIERS = """
[[sla]]
name = "enterprise"
match = { customer_tier = "enterprise" }
first_response = "1h"
resolution = "8h"

[[sla]]
name = "social"
match = { channel = "social" }
first_response = "30m"
resolution = "12h"

[[sla]]
name = "freemium"
match = { customer_tier = "freemium" }
first_response = "3d"
resolution = "5d"
"""


def test_tier_and_channel_targets_met_missed_and_undecided(ws):
    ws.write("tickets", [
        # as-of 2026-10-10T12:00Z
        # E1 enterprise: FR 50 min (met, 1 h); unresolved after 3 h (inside 8 h: undecided)
        t("E1", "2026-10-10T09:00:00Z", customer_tier="enterprise", first_response_at="2026-10-10T09:50:00Z"),
        # E2 enterprise: no reply after 2 h (missed); unresolved 2 h (undecided)
        t("E2", "2026-10-10T10:00:00Z", customer_tier="enterprise"),
        # E3 enterprise: no reply after 30 min (undecided); unresolved (undecided)
        t("E3", "2026-10-10T11:30:00Z", customer_tier="enterprise"),
        # E4 enterprise: FR 30 min (met); resolved after 9 h (missed, 8 h)
        t("E4", "2026-10-09T00:00:00Z", customer_tier="enterprise", first_response_at="2026-10-09T00:30:00Z",
          resolved_at="2026-10-09T09:00:00Z"),
        # S1 social: FR 40 min (missed, 30 min); resolved after 2 h (met, 12 h)
        t("S1", "2026-10-10T09:00:00Z", channel="social", first_response_at="2026-10-10T09:40:00Z",
          resolved_at="2026-10-10T11:00:00Z"),
        # F1 freemium: no reply after 48 h (inside 3 d: undecided; the default 24 h would say missed);
        #    unresolved 48 h (undecided)
        t("F1", "2026-10-08T12:00:00Z", customer_tier="freemium"),
        # F2 freemium: FR after 70 h (met, 72 h); resolved after 119 h (met, 120 h)
        t("F2", "2026-10-05T13:00:00Z", customer_tier="freemium", first_response_at="2026-10-08T11:00:00Z",
          resolved_at="2026-10-10T12:00:00Z"),
    ])
    ws.load()
    cfg = config(ws, TIERS)
    asof = "2026-10-10T12:00:00Z"
    # first response: met E1, E4, F2; missed E2, S1 (E3, F1 undecided) -> 3 / 5 = 60 %
    assert ratio(one(ws, "sla_first_response_met", *cfg, asof=asof)) == (60.0, 3, 5)
    # resolution: missed E4; met S1, F2 (E1, E2, E3, F1 undecided) -> 2 / 3
    row = one(ws, "sla_resolution_met", *cfg, asof=asof)
    assert (row["numerator"], row["denominator"]) == (2, 3)
    assert abs(row["value"] - 200 / 3) < 1e-9
    # per tier: enterprise FR met E1, E4; missed E2 -> 2 / 3; freemium: met F2 -> 1 / 1
    by_tier = {r["customer_tier"]: (r["numerator"], r["denominator"])
               for r in ws.kpi("sla_first_response_met", *cfg, "--dim", "customer_tier", asof=asof)}
    assert by_tier["enterprise"] == (2, 3)
    assert by_tier["freemium"] == (1, 1)
    # the decided rows, with their status
    got = {r["ticket_id"]: (r["sla_rule"], r["sla_status"])
           for r in records(ws, "sla_first_response_met", *cfg, asof=asof)}
    assert got == {"E1": ("enterprise", "met"), "E2": ("enterprise", "missed"), "E4": ("enterprise", "met"),
                   "S1": ("social", "missed"), "F2": ("freemium", "met")}


def test_reply_after_the_as_of_is_not_seen(ws):
    ws.write("tickets", [
        # created 10:00; reply at 10:40 (met, 1 h) but the as-of is 10:50 -> already met
        t("A", "2026-10-10T10:00:00Z", customer_tier="enterprise", first_response_at="2026-10-10T10:40:00Z"),
        # created 09:00; reply at 11:30 is after the as-of: at 10:50 it waited 1h50 > 1 h -> missed
        t("B", "2026-10-10T09:00:00Z", customer_tier="enterprise", first_response_at="2026-10-10T11:30:00Z"),
        # created 10:20; reply at 11:00 is after the as-of: at 10:50 it waited 30 min -> undecided
        t("C", "2026-10-10T10:20:00Z", customer_tier="enterprise", first_response_at="2026-10-10T11:00:00Z"),
    ])
    ws.load()
    cfg = config(ws, TIERS)
    # met A; missed B; C undecided -> 1 / 2
    assert ratio(one(ws, "sla_first_response_met", *cfg, asof="2026-10-10T10:50:00Z")) == (50.0, 1, 2)


def test_tickets_without_a_reply_bot_and_internal_note_are_not_a_first_response(ws):
    ws.write("tickets", [
        t("T1", "2026-10-05T10:00:00Z"),
        t("T2", "2026-10-05T10:00:00Z"),
        t("T3", "2026-10-05T10:00:00Z"),
    ])
    ws.write("messages", [
        m("1", "T1", "2026-10-05T10:00:00Z", "customer"),                    # only the customer wrote
        m("2", "T2", "2026-10-05T10:00:00Z", "customer"),
        m("3", "T2", "2026-10-05T10:01:00Z", "bot"),                         # a bot is no reply
        m("4", "T2", "2026-10-05T11:00:00Z", "agent", "a1", public="false"),  # an internal note is no reply
        m("5", "T3", "2026-10-05T10:00:00Z", "customer"),
        m("6", "T3", "2026-10-05T12:00:00Z", "agent", "a1"),                 # a real reply after 2 h
    ])
    ws.load()
    cfg = config(ws, '[[sla]]\nname = "all"\nfirst_response = "1h"\n')
    # T1, T2: no reply, long past 1 h -> missed; T3: 2 h > 1 h -> missed -> 0 / 3
    assert ratio(one(ws, "sla_first_response_met", *OCT, *cfg)) == (0.0, 0, 3)
    # default policy (24 h): T1, T2 still missed (months without a reply); T3 met -> 1 / 3
    row = one(ws, "sla_first_response_met", *OCT)
    assert (row["numerator"], row["denominator"]) == (1, 3)


# --------------------------------------------------------------------------------------
# Business-hours rules
# --------------------------------------------------------------------------------------

BUSINESS = """
timezone = "Europe/Bucharest"
[business_hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"

[[sla]]
name = "office"
first_response = "1h"
hours = "{hours}"
"""


def test_friday_evening_to_monday_morning_meets_a_business_target_not_a_calendar_one(ws):
    ws.write("tickets", [
        # Friday 2026-10-09 18:00 Bucharest (EEST, +03:00) answered Monday 2026-10-12 09:05
        #   business: closed from Fri 17:00 to Mon 09:00 -> 5 min <= 1 h -> met
        #   calendar: Fri 18:00 -> Mon 09:05 = 63 h 05 min > 1 h -> missed
        t("FRI", "2026-10-09T18:00:00+03:00", first_response_at="2026-10-12T09:05:00+03:00"),
        # Monday 16:30 answered Tuesday 09:45
        #   business: 30 min (Mon 16:30-17:00) + 45 min (Tue 09:00-09:45) = 75 min > 60 -> missed
        #   calendar: 17 h 15 min -> missed
        t("MON", "2026-10-12T16:30:00+03:00", first_response_at="2026-10-13T09:45:00+03:00"),
        # Wednesday 10:00 answered 10:50 -> 50 min in both -> met
        t("WED", "2026-10-14T10:00:00+03:00", first_response_at="2026-10-14T10:50:00+03:00"),
    ])
    ws.load()
    business = config(ws, BUSINESS.replace("{hours}", "business"), "business.toml")
    calendar = config(ws, BUSINESS.replace("{hours}", "calendar"), "calendar.toml")
    # business: met FRI, WED; missed MON -> 2 / 3
    row = one(ws, "sla_first_response_met", *OCT, *business)
    assert (row["numerator"], row["denominator"]) == (2, 3)
    # calendar: met WED; missed FRI, MON -> 1 / 3
    row = one(ws, "sla_first_response_met", *OCT, *calendar)
    assert (row["numerator"], row["denominator"]) == (1, 3)
    got = {r["ticket_id"]: r["sla_status"] for r in records(ws, "sla_first_response_met", *OCT, *business)}
    assert got == {"FRI": "met", "MON": "missed", "WED": "met"}


def test_business_rule_waiting_over_the_weekend_is_undecided(ws):
    ws.write("tickets", [
        # Friday 16:30 Bucharest, no reply; as-of Monday 2026-10-12 09:20 (+03:00)
        #   business: 30 min (Fri) + 20 min (Mon) = 50 min < 1 h -> undecided (calendar: 64 h 50 -> missed)
        t("A", "2026-10-09T16:30:00+03:00"),
        # Friday 15:00, no reply: 2 h on Friday alone > 1 h -> missed
        t("B", "2026-10-09T15:00:00+03:00"),
    ])
    ws.load()
    asof = "2026-10-12T06:20:00Z"  # 09:20 Bucharest
    business = config(ws, BUSINESS.replace("{hours}", "business"), "business.toml")
    calendar = config(ws, BUSINESS.replace("{hours}", "calendar"), "calendar.toml")
    assert ratio(one(ws, "sla_first_response_met", *business, asof=asof)) == (0.0, 0, 1)
    assert ratio(one(ws, "sla_first_response_met", *calendar, asof=asof)) == (0.0, 0, 2)


UTC_WEEK = ('timezone = "UTC"\n[business_hours]\nmon = "09:00-17:00"\ntue = "09:00-17:00"\n'
            'wed = "09:00-17:00"\nthu = "09:00-17:00"\nfri = "09:00-17:00"\n')


def test_business_and_calendar_rules_in_one_config_each_use_their_own_hours(ws):
    ws.write("tickets", [
        # E1 email -> "office" (1 h, business): Fri 16:30 -> Mon 09:20 = 30 + 20 min = 50 min -> met
        t("E1", "2026-10-09T16:30:00Z", channel="email", first_response_at="2026-10-12T09:20:00Z"),
        # C2 chat -> "chat_now" (1 h, calendar): Fri 16:30 -> Mon 09:20 = 64 h 50 min -> missed
        #    (in business time it would be 50 min: met)
        t("C2", "2026-10-09T16:30:00Z", channel="chat", first_response_at="2026-10-12T09:20:00Z"),
        # D1 phone -> default (24 h, calendar): Fri 16:30 -> Sat 10:00 = 17 h 30 -> met
        t("D1", "2026-10-09T16:30:00Z", channel="phone", first_response_at="2026-10-10T10:00:00Z"),
    ])
    ws.load()
    cfg = config(ws, UTC_WEEK + '[[sla]]\nname = "office"\nmatch = { channel = "email" }\nfirst_response = "1h"\n'
                                'hours = "business"\n'
                                '[[sla]]\nname = "chat_now"\nmatch = { channel = "chat" }\nfirst_response = "1h"\n')
    # met E1, D1; missed C2 -> 2 / 3 (all-business would give 3 / 3, all-calendar 1 / 3)
    row = one(ws, "sla_first_response_met", *OCT, *cfg)
    assert (row["numerator"], row["denominator"]) == (2, 3)
    got = {r["ticket_id"]: (r["sla_rule"], r["sla_status"])
           for r in records(ws, "sla_first_response_met", *OCT, *cfg)}
    assert got == {"E1": ("office", "met"), "C2": ("chat_now", "missed"), "D1": ("default", "met")}
    # and sla_breaches agrees: C2's first response; no resolution target is due for E1 / C2 (rules without
    # one), D1 default resolution: unresolved for months -> missed -> 2
    assert ws.value("sla_breaches", *OCT, *cfg) == 2
    got = {r["ticket_id"]: r["sla_rule"] for r in records(ws, "sla_breaches", *OCT, *cfg)}
    assert got == {"C2": "chat_now", "D1": "default"}


def test_business_rule_uses_the_calendar_assigned_to_the_channel(ws):
    ws.write("tickets", [
        # both Fri 2026-10-09 16:30 -> Mon 09:20 (UTC)
        # email: default calendar Mon-Fri 09-17 -> 30 + 20 min = 50 min -> met
        t("EM", "2026-10-09T16:30:00Z", channel="email", first_response_at="2026-10-12T09:20:00Z"),
        # chat: calendar "always" (every day 00:00-24:00) -> 64 h 50 min -> missed
        t("CH", "2026-10-09T16:30:00Z", channel="chat", first_response_at="2026-10-12T09:20:00Z"),
    ])
    ws.load()
    always = "".join(f'{d} = "00:00-24:00"\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    cfg = config(ws, UTC_WEEK + '[calendars.always]\nchannels = ["chat"]\n' + always
                 + '[[sla]]\nname = "office"\nfirst_response = "1h"\nhours = "business"\n')
    got = {r["ticket_id"]: r["sla_status"] for r in records(ws, "sla_first_response_met", *OCT, *cfg)}
    assert got == {"EM": "met", "CH": "missed"}


def test_business_rule_across_a_dst_change(ws):
    ws.write("tickets", [
        # Bucharest leaves summer time on Sunday 2026-10-25 (+03:00 -> +02:00)
        # Fri 10-23 16:30 (+03) -> Mon 10-26 09:20 (+02): 30 + 20 min = 50 min business -> met
        #   (calendar: 13:30Z -> 07:20Z three days later = 65 h 50 min -> missed)
        t("A", "2026-10-23T16:30:00+03:00", first_response_at="2026-10-26T09:20:00+02:00"),
        # Sat 10-24 12:00 (+03) -> Mon 10-26 10:05 (+02): clock starts Mon 09:00 -> 65 min -> missed
        t("B", "2026-10-24T12:00:00+03:00", first_response_at="2026-10-26T10:05:00+02:00"),
    ])
    ws.load()
    business = config(ws, BUSINESS.replace("{hours}", "business"), "business.toml")
    calendar = config(ws, BUSINESS.replace("{hours}", "calendar"), "calendar.toml")
    assert ratio(one(ws, "sla_first_response_met", *OCT, *business)) == (50.0, 1, 2)
    assert ratio(one(ws, "sla_first_response_met", *OCT, *calendar)) == (0.0, 0, 2)


def test_next_response_in_business_hours(ws):
    ws.write("tickets", [t("T", "2026-10-09T16:00:00Z"), t("U", "2026-10-12T10:00:00Z")])
    ws.write("messages", [
        m("t1", "T", "2026-10-09T16:00:00Z", "customer"),
        m("t2", "T", "2026-10-09T16:20:00Z", "agent", "a1"),  # FR 20 min -> met
        m("t3", "T", "2026-10-09T16:50:00Z", "customer"),     # Fri 16:50 waits ...
        m("t4", "T", "2026-10-12T09:20:00Z", "agent", "a1"),  # ... until Mon 09:20: 10 + 20 = 30 min business
        m("u1", "U", "2026-10-12T10:00:00Z", "customer"),
        m("u2", "U", "2026-10-12T10:10:00Z", "agent", "a1"),  # FR 10 min -> met
        m("u3", "U", "2026-10-12T11:00:00Z", "customer"),
        m("u4", "U", "2026-10-12T12:30:00Z", "agent", "a1"),  # 90 min -> missed in both
    ])
    ws.load()
    rule = '[[sla]]\nname = "office"\nfirst_response = "1h"\nnext_response = "1h"\nhours = "{h}"\n'
    business = config(ws, UTC_WEEK + rule.replace("{h}", "business"), "business.toml")
    calendar = config(ws, UTC_WEEK + rule.replace("{h}", "calendar"), "calendar.toml")
    # business: T met, U missed -> 1 / 2; calendar: T waited 64 h 30 -> missed, U missed -> 0 / 2
    assert ratio(one(ws, "sla_next_response_met", *OCT, *business)) == (50.0, 1, 2)
    assert ratio(one(ws, "sla_next_response_met", *OCT, *calendar)) == (0.0, 0, 2)
    # breaches (no resolution target; first responses met): business 1 (U's wait), calendar 2
    assert ws.value("sla_breaches", *OCT, *business) == 1
    assert ws.value("sla_breaches", *OCT, *calendar) == 2


# --------------------------------------------------------------------------------------
# Next response
# --------------------------------------------------------------------------------------

NEXT = '[[sla]]\nname = "all"\nfirst_response = "24h"\nnext_response = "4h"\nresolution = "30d"\n'


def test_each_customer_message_after_a_reply_waits_and_follow_ups_do_not_restart_it(ws):
    ws.write("tickets", [t("T1", "2026-10-01T08:00:00Z")])
    ws.write("messages", [
        m("1", "T1", "2026-10-01T08:00:00Z", "customer"),        # opening message (first-response wait)
        m("2", "T1", "2026-10-01T09:00:00Z", "agent", "a1"),     # first response
        m("3", "T1", "2026-10-01T10:00:00Z", "customer"),        # wait 1 starts 10:00
        m("4", "T1", "2026-10-01T13:00:00Z", "agent", "a1"),     # 3 h <= 4 h -> met
        m("5", "T1", "2026-10-01T14:00:00Z", "customer"),        # wait 2 starts 14:00
        m("6", "T1", "2026-10-01T15:00:00Z", "customer"),        # follow-up: same wait, no new one
        m("7", "T1", "2026-10-01T18:30:00Z", "agent", "a1"),     # 4 h 30 from 14:00 -> missed
        #                                                          (3 h 30 from 15:00 would have been met)
    ])
    ws.load()
    cfg = config(ws, NEXT)
    # two waits: met 1, missed 1 -> 1 / 2 = 50 %
    assert ratio(one(ws, "sla_next_response_met", *OCT, *cfg)) == (50.0, 1, 2)
    # the records: one row per wait, starting at its first customer message
    got = [(r["start_at"], r["replied_at"], r["sla_status"]) for r in records(ws, "sla_next_response_met", *OCT, *cfg)]
    assert sorted(got) == [("2026-10-01T10:00:00", "2026-10-01T13:00:00", "met"),
                           ("2026-10-01T14:00:00", "2026-10-01T18:30:00", "missed")]
    # the missed wait is one breach (FR 1 h met; resolution: 30 d not yet due? created 10-01, unresolved,
    # as-of 2027-01-01 -> 92 days > 30 d -> missed) -> 1 + 1 = 2
    assert ws.value("sla_breaches", *OCT, *cfg) == 2


def test_next_response_after_a_reopen_follows_the_waiting_message(ws):
    ws.write("tickets", [
        # T1 resolved, reopened when the customer wrote on 10-03, resolved again on 10-03 12:30
        t("T1", "2026-10-01T08:00:00Z", resolved_at="2026-10-03T12:30:00Z", reopen_count=1),
        # T2 resolved on 10-31, reopened by a customer message on 11-05 that is never answered: open now
        t("T2", "2026-10-30T08:00:00Z", reopen_count=1, status="open"),
    ])
    ws.write("messages", [
        m("1", "T1", "2026-10-01T08:00:00Z", "customer"),
        m("2", "T1", "2026-10-01T08:30:00Z", "agent", "a1"),
        m("3", "T1", "2026-10-03T10:00:00Z", "customer"),      # after resolution: waits from 10:00
        m("4", "T1", "2026-10-03T12:00:00Z", "agent", "a1"),   # 2 h -> met
        m("5", "T2", "2026-10-30T08:00:00Z", "customer"),
        m("6", "T2", "2026-10-30T09:00:00Z", "agent", "a2"),
        m("7", "T2", "2026-11-05T10:00:00Z", "customer"),      # after resolution, never answered -> missed
    ])
    ws.load()
    cfg = config(ws, NEXT)
    # attribution by the waiting message's sent_at: October has T1's wait (met), November T2's (missed)
    got = {r["period_start"]: ratio(r) for r in ws.kpi("sla_next_response_met", *OCT_NOV, *cfg)}
    assert got == {"2026-10-01": (100.0, 1, 1), "2026-11-01": (0.0, 0, 1)}


def test_bot_messages_and_internal_notes_do_not_end_a_wait(ws):
    ws.write("tickets", [t("T", "2026-10-01T08:00:00Z"), t("U", "2026-10-01T08:00:00Z")])
    ws.write("messages", [
        m("t1", "T", "2026-10-01T08:00:00Z", "customer"),
        m("t2", "T", "2026-10-01T08:10:00Z", "agent", "a1"),
        m("t3", "T", "2026-10-01T09:00:00Z", "customer"),                     # wait starts 09:00
        m("t4", "T", "2026-10-01T09:05:00Z", "bot"),                          # bot: the wait goes on
        m("t5", "T", "2026-10-01T09:30:00Z", "agent", "a1", public="false"),  # internal note: goes on
        m("t6", "T", "2026-10-01T14:00:00Z", "agent", "a1"),                  # 5 h > 4 h -> missed
        m("u1", "U", "2026-10-01T08:00:00Z", "customer"),
        m("u2", "U", "2026-10-01T08:10:00Z", "agent", "a1"),
        m("u3", "U", "2026-10-01T09:00:00Z", "customer"),                     # wait starts 09:00
        m("u4", "U", "2026-10-01T09:01:00Z", "bot"),
        m("u5", "U", "2026-10-01T09:02:00Z", "agent", "a1", public="false"),
        m("u6", "U", "2026-10-01T12:00:00Z", "agent", "a1"),                  # 3 h <= 4 h -> met
    ])
    ws.load()
    cfg = config(ws, NEXT)
    # T missed, U met -> 1 / 2 (a bot or a note ending T's wait would make it 2 / 2)
    assert ratio(one(ws, "sla_next_response_met", *OCT, *cfg)) == (50.0, 1, 2)


def test_unanswered_wait_past_target_at_the_as_of_is_missed(ws):
    ws.write("tickets", [t(x, "2026-10-01T08:00:00Z") for x in ("T1", "T2", "T3", "T4", "T5")])
    msgs = []
    for x in ("T1", "T2", "T3", "T4", "T5"):
        msgs += [m(f"{x}a", x, "2026-10-01T08:00:00Z", "customer"),
                 m(f"{x}b", x, "2026-10-01T08:10:00Z", "agent", "a1")]
    msgs += [
        m("T1c", "T1", "2026-10-01T11:00:00Z", "customer"),           # 5 h unanswered at 16:00 -> missed
        m("T2c", "T2", "2026-10-01T13:00:00Z", "customer"),           # 3 h unanswered -> undecided
        m("T3c", "T3", "2026-10-01T09:00:00Z", "customer"),
        m("T3d", "T3", "2026-10-01T17:00:00Z", "agent", "a1"),        # after the as-of: 7 h waiting -> missed
        m("T4c", "T4", "2026-10-01T14:00:00Z", "customer"),
        m("T4d", "T4", "2026-10-01T17:00:00Z", "agent", "a1"),        # after the as-of: 2 h waiting -> undecided
        m("T5c", "T5", "2026-10-01T10:00:00Z", "customer"),
        m("T5d", "T5", "2026-10-01T11:00:00Z", "agent", "a1"),        # 1 h -> met
    ]
    ws.write("messages", msgs)
    ws.load()
    cfg = config(ws, NEXT)
    asof = "2026-10-01T16:00:00Z"
    # met T5; missed T1, T3; undecided T2, T4 -> 1 / 3
    row = one(ws, "sla_next_response_met", *cfg, asof=asof)
    assert (row["numerator"], row["denominator"]) == (1, 3)
    assert abs(row["value"] - 100 / 3) < 1e-9
    # a day later every wait is decided: T1, T2 unanswered (missed); T3 8 h missed; T4 3 h met; T5 met -> 2 / 5
    row = one(ws, "sla_next_response_met", *cfg, asof="2026-10-02T16:00:00Z")
    assert (row["numerator"], row["denominator"]) == (2, 5)


# --------------------------------------------------------------------------------------
# sla_breaches
# --------------------------------------------------------------------------------------

BREACHES = """
[[sla]]
name = "vip"
match = { customer_tier = "enterprise" }
first_response = "1h"
next_response = "2h"
resolution = "1d"
"""


def _breach_data(ws):
    ws.write("tickets", [
        # A vip: FR 2 h (missed, 1 h); resolved after 48 h (missed, 1 d) -> 2 breaches, October
        t("A", "2026-10-05T10:00:00Z", customer_tier="enterprise", resolved_at="2026-10-07T10:00:00Z"),
        # B vip created Oct 31: FR 30 min (met); resolved after 14 h (met);
        #   wait from 11-01 00:30 answered 03:00 = 2 h 30 > 2 h -> 1 next-response breach, November
        t("B", "2026-10-31T20:00:00Z", customer_tier="enterprise", resolved_at="2026-11-01T10:00:00Z"),
        # C default, no messages: FR 30 min (met); unresolved for months (missed, 72 h) -> 1, November
        t("C", "2026-11-10T10:00:00Z", customer_tier="business", first_response_at="2026-11-10T10:30:00Z"),
        # D default: FR 20 min, resolved after 2 h -> no breach
        t("D", "2026-10-20T10:00:00Z", customer_tier="business", resolved_at="2026-10-20T12:00:00Z"),
        # E default: only the customer wrote, unresolved -> FR missed + resolution missed = 2, November
        t("E", "2026-11-15T10:00:00Z", customer_tier="business"),
        # F default: FR 10 min, resolved after 15 min; a later unanswered wait has no target (default) -> 0
        t("F", "2026-11-20T10:00:00Z", customer_tier="business", resolved_at="2026-11-20T10:15:00Z"),
        # X vip but excluded (spam): its missed FR, resolution and next response count nowhere
        t("X", "2026-10-10T10:00:00Z", customer_tier="enterprise", excluded="true"),
    ])
    ws.write("messages", [
        m("a1", "A", "2026-10-05T10:00:00Z", "customer"),
        m("a2", "A", "2026-10-05T12:00:00Z", "agent", "x"),
        m("b1", "B", "2026-10-31T20:00:00Z", "customer"),
        m("b2", "B", "2026-10-31T20:30:00Z", "agent", "x"),
        m("b3", "B", "2026-11-01T00:30:00Z", "customer"),
        m("b4", "B", "2026-11-01T03:00:00Z", "agent", "x"),
        m("d1", "D", "2026-10-20T10:00:00Z", "customer"),
        m("d2", "D", "2026-10-20T10:20:00Z", "agent", "x"),
        m("e1", "E", "2026-11-15T10:00:00Z", "customer"),
        m("f1", "F", "2026-11-20T10:00:00Z", "customer"),
        m("f2", "F", "2026-11-20T10:10:00Z", "agent", "x"),
        m("f3", "F", "2026-11-20T11:00:00Z", "customer"),
        m("x1", "X", "2026-10-10T10:00:00Z", "customer"),
        m("x2", "X", "2026-10-10T15:00:00Z", "agent", "x"),
        m("x3", "X", "2026-11-10T10:00:00Z", "customer"),
    ])
    ws.load()
    return config(ws, BREACHES)


def test_sla_breaches_counts_first_response_resolution_and_next_response(ws):
    cfg = _breach_data(ws)
    got = {r["period_start"]: r["value"] for r in ws.kpi("sla_breaches", *OCT_NOV, *cfg)}
    # October (by created_at): A 2 -> 2
    # November: B's wait 1 (by the waiting message's sent_at) + C 1 + E 2 -> 4
    assert got == {"2026-10-01": 2, "2026-11-01": 4}
    # one period over both months: 2 + 4 = 6
    assert ws.value("sla_breaches", "--from", "2026-10-01", "--to", "2026-11-30", *cfg) == 6
    # by tier: enterprise A 2 + B 1 = 3; business C 1 + E 2 = 3
    by_tier = {r["customer_tier"]: r["value"]
               for r in ws.kpi("sla_breaches", "--from", "2026-10-01", "--to", "2026-11-30", "--dim",
                               "customer_tier", *cfg)}
    assert by_tier == {"enterprise": 3, "business": 3}


def test_rows_sla_breaches_lists_breaching_tickets_with_the_rule(ws):
    cfg = _breach_data(ws)
    rows = records(ws, "sla_breaches", "--from", "2026-10-01", "--to", "2026-11-30", *cfg)
    got = {r["ticket_id"]: r["sla_rule"] for r in rows}
    # A (vip: FR + resolution), C (default: resolution), E (default: FR + resolution); D and F breach nothing;
    # X is excluded
    assert {k: v for k, v in got.items() if k != "B"} == {"A": "vip", "C": "default", "E": "default"}
    assert "sla_rule" in rows[0]


def test_rows_sla_breaches_lists_a_ticket_whose_only_breach_is_a_next_response(ws):
    cfg = _breach_data(ws)
    rows = records(ws, "sla_breaches", "--from", "2026-10-01", "--to", "2026-11-30", *cfg)
    got = {r["ticket_id"]: r["sla_rule"] for r in rows}
    # B breached its vip next-response target (2 h 30 > 2 h) and is counted by sla_breaches above,
    # so it is one of "the breaching tickets"
    assert got.get("B") == "vip", rows


def test_rows_sla_breaches_by_month_follow_the_breach_attribution(ws):
    cfg = _breach_data(ws)
    rows = records(ws, "sla_breaches", *OCT_NOV, *cfg)
    got = sorted((r["period_start"], r["ticket_id"]) for r in rows)
    # the records behind each month's count (October 2, November 4, see above):
    #   October: A (FR + resolution, created in October)
    #   November: B (its only breach is the wait of 11-01 00:30, attributed to the message's sent_at),
    #             C and E (created in November)
    # B was created on Oct 31 but breached nothing counted in October
    assert got == [("2026-10-01", "A"), ("2026-11-01", "B"), ("2026-11-01", "C"), ("2026-11-01", "E")]


# --------------------------------------------------------------------------------------
# sla_at_risk
# --------------------------------------------------------------------------------------

AT_RISK = """
[[sla]]
name = "vip"
match = { customer_tier = "enterprise" }
first_response = "1h"
resolution = "4h"
"""


def test_rows_sla_at_risk_lists_targets_due_within_the_window_soonest_first(ws):
    e = "enterprise"
    ws.write("tickets", [
        # as-of 2026-10-10T12:00Z, window 2 h (7200 s)
        # R1 vip, no reply: FR due 12:30 -> 1800 s (resolution 15:30 later) -> listed, 1800
        t("R1", "2026-10-10T11:30:00Z", customer_tier=e),
        # R2 vip, answered: resolution due 13:00 -> 3600 s -> listed
        t("R2", "2026-10-10T09:00:00Z", customer_tier=e, first_response_at="2026-10-10T09:30:00Z"),
        # R3 vip, no reply: FR was due 11:30 (past); resolution due 14:30 = 9000 s > 7200 -> not listed
        t("R3", "2026-10-10T10:30:00Z", customer_tier=e),
        # R4 default, no reply: FR due 10-10 13:30 -> 5400 s -> listed
        t("R4", "2026-10-09T13:30:00Z", customer_tier="business"),
        # R5 default, answered: resolution (72 h) due 10-10 12:40 -> 2400 s -> listed
        t("R5", "2026-10-07T12:40:00Z", customer_tier="business", first_response_at="2026-10-07T13:00:00Z"),
        # R6 vip resolved -> not open -> not listed
        t("R6", "2026-10-10T11:00:00Z", customer_tier=e, resolved_at="2026-10-10T11:30:00Z"),
        # R7 default, no reply: FR was due 10-10 10:00 (past); resolution due 10-12 -> not listed
        t("R7", "2026-10-09T10:00:00Z", customer_tier="business"),
        # R8 vip, answered: resolution due 14:00 -> exactly 7200 s -> listed (within 2 h)
        t("R8", "2026-10-10T10:00:00Z", customer_tier=e, first_response_at="2026-10-10T10:10:00Z"),
        # R9 vip, answered: resolution due 14:01 -> 7260 s -> not listed
        t("R9", "2026-10-10T10:01:00Z", customer_tier=e, first_response_at="2026-10-10T10:10:00Z"),
        # R10 vip, answered, resolution already past (due 10-09 14:00) -> not listed
        t("R10", "2026-10-09T10:00:00Z", customer_tier=e, first_response_at="2026-10-09T10:10:00Z"),
        # R11 created after the as-of -> not listed
        t("R11", "2026-10-10T12:30:00Z", customer_tier=e),
        # R12 vip, no reply: FR was due 09:45 (past, missed); its next target, resolution, is due 12:45
        #     -> 2700 s -> listed
        t("R12", "2026-10-10T08:45:00Z", customer_tier=e),
        # R13 vip, answered at 11:45: its FR target (12:40) no longer counts; resolution due 15:40
        #     = 13200 s > 7200 -> not listed
        t("R13", "2026-10-10T11:40:00Z", customer_tier=e, first_response_at="2026-10-10T11:45:00Z"),
    ])
    ws.load()
    cfg = config(ws, AT_RISK)
    asof = "2026-10-10T12:00:00Z"
    rows = records(ws, "sla_at_risk", "--option", "within=2h", *cfg, asof=asof)
    got = [(r["ticket_id"], r["seconds_left"], r["sla_rule"]) for r in rows]
    assert got == [("R1", 1800, "vip"), ("R5", 2400, "default"), ("R12", 2700, "vip"), ("R2", 3600, "vip"),
                   ("R4", 5400, "default"), ("R8", 7200, "vip")]
    # the count agrees: 6 tickets
    assert ws.value("sla_at_risk", "--option", "within=2h", *cfg, asof=asof) == 6
    # a 30 min window keeps only R1 (1800 s)
    rows = records(ws, "sla_at_risk", "--option", "within=30m", *cfg, asof=asof)
    assert [r["ticket_id"] for r in rows] == ["R1"]


def test_sla_at_risk_counts_seconds_left_in_business_hours(ws):
    ws.write("tickets", [
        # calendar Mon-Fri 09:00-17:00 UTC; rule first_response 4 business hours; as-of Mon 2026-10-12 10:00Z
        # B1 Fri 16:00, no reply: elapsed 1 h (Fri) + 1 h (Mon) = 2 h -> 7200 s left -> listed
        #    (in calendar time it waited 66 h: long past)
        t("B1", "2026-10-09T16:00:00Z"),
        # B2 Mon 09:30, no reply: elapsed 30 min -> 12600 s left > 7200 -> not listed
        t("B2", "2026-10-12T09:30:00Z"),
        # B3 Fri 14:30, no reply: 2 h 30 (Fri) + 1 h (Mon) = 3 h 30 -> 1800 s left -> listed
        t("B3", "2026-10-09T14:30:00Z"),
        # B4 Thu 15:00, no reply: 2 h (Thu) + 8 h (Fri) + 1 h = 11 h -> past -> not listed
        t("B4", "2026-10-08T15:00:00Z"),
    ])
    ws.load()
    cfg = config(ws, 'timezone = "UTC"\n[business_hours]\nmon = "09:00-17:00"\ntue = "09:00-17:00"\n'
                     'wed = "09:00-17:00"\nthu = "09:00-17:00"\nfri = "09:00-17:00"\n'
                     '[[sla]]\nname = "biz"\nfirst_response = "4h"\nresolution = "10d"\nhours = "business"\n')
    rows = records(ws, "sla_at_risk", "--option", "within=2h", *cfg, asof="2026-10-12T10:00:00Z")
    assert [(r["ticket_id"], r["seconds_left"]) for r in rows] == [("B3", 1800), ("B1", 7200)]


def test_sla_at_risk_rejects_a_bad_within_as_a_usage_error(ws):
    ws.write("tickets", [t("T1", "2026-10-10T11:30:00Z")])
    ws.load()
    # like any bad option value (e.g. first_response_time --option stat=abc): exit code 2, a message
    # naming the option and the value, no exception escaping the command
    r = ws.cli("rows", "sla_at_risk", "--option", "within=abc", "--format", "json",
               "--as-of", "2026-10-10T12:00:00Z")
    assert r.exit_code == 2, (r.exit_code, r.stderr, repr(r.exception))
    assert "within" in r.stderr and "abc" in r.stderr, r.stderr


# --------------------------------------------------------------------------------------
# backlog_overdue follows the policies
# --------------------------------------------------------------------------------------

def test_backlog_overdue_follows_the_rule_resolution_target(ws):
    ws.write("tickets", [
        # period end 2026-11-01T00:00Z
        t("A", "2026-10-30T00:00:00Z", customer_tier="enterprise"),  # 48 h > vip 1 d -> overdue
        t("B", "2026-10-31T06:00:00Z", customer_tier="enterprise"),  # 18 h < 1 d -> not
        t("C", "2026-10-29T00:00:00Z", customer_tier="business"),    # 72 h = default 72 h -> not
        t("D", "2026-10-28T23:00:00Z", customer_tier="business"),    # 73 h > 72 h -> overdue
        t("E", "2026-10-01T00:00:00Z", customer_tier="enterprise",
          resolved_at="2026-10-02T00:00:00Z"),                       # resolved: not in the backlog
    ])
    ws.load()
    cfg = config(ws, '[[sla]]\nname = "vip"\nmatch = { customer_tier = "enterprise" }\nresolution = "1d"\n')
    # A, D -> 2
    assert ws.value("backlog_overdue", *OCT, *cfg) == 2
    # without config: 72 h for all -> only D (73 h) -> 1
    assert ws.value("backlog_overdue", *OCT) == 1
    # target_hours=20 overrides: A 48, C 72, D 73 exceed 20 h; B 18 h does not -> 3
    assert ws.value("backlog_overdue", *OCT, *cfg, "--option", "target_hours=20") == 3


def test_backlog_overdue_with_a_business_rule_and_a_calendar_override(ws):
    ws.write("tickets", [
        # period end Monday 2026-10-12T00:00Z; calendar Mon-Fri 09:00-17:00 UTC; resolution 8 business hours
        t("X", "2026-10-09T12:00:00Z"),  # Fri 12:00: 5 business hours (calendar 60 h) -> not overdue
        t("Y", "2026-10-08T12:00:00Z"),  # Thu 12:00: 5 h + 8 h = 13 business hours (calendar 84 h) -> overdue
    ])
    ws.load()
    cfg = config(ws, 'timezone = "UTC"\n[business_hours]\nmon = "09:00-17:00"\ntue = "09:00-17:00"\n'
                     'wed = "09:00-17:00"\nthu = "09:00-17:00"\nfri = "09:00-17:00"\n'
                     '[[sla]]\nname = "biz"\nresolution = "8h"\nhours = "business"\n')
    period = ("--from", "2026-10-01", "--to", "2026-10-11")
    assert ws.value("backlog_overdue", *period, *cfg) == 1
    # target_hours=48 is a calendar target: X 60 h and Y 84 h both exceed it -> 2
    assert ws.value("backlog_overdue", *period, *cfg, "--option", "target_hours=48") == 2
    # target_hours=70: only Y (84 h) -> 1
    assert ws.value("backlog_overdue", *period, *cfg, "--option", "target_hours=70") == 1


def test_sla_at_risk_includes_customer_messages_waiting_for_a_next_response(ws):
    e = "enterprise"
    ws.write("tickets", [
        t("N1", "2026-10-10T10:00:00Z", customer_tier=e),
        t("N2", "2026-10-10T10:00:00Z", customer_tier=e),
        t("N3", "2026-10-10T11:00:00Z", customer_tier=e),
        t("N4", "2026-10-10T10:00:00Z", customer_tier=e),
        t("N5", "2026-10-10T11:00:00Z", customer_tier="business"),
    ])
    ws.write("messages", [
        # as-of 12:00Z; vip: first response 1 h, next response 30 min, resolution 4 h (due 14:00 for 10:00)
        # N1: answered 10:05; the customer wrote again at 11:50, no reply yet:
        #     next response due 12:20 -> 1200 s; resolution due 14:00 -> 7200 s; soonest 1200 (next_response)
        m("N1a", "N1", "2026-10-10T10:00:00Z", "customer"), m("N1b", "N1", "2026-10-10T10:05:00Z", "agent", "a1"),
        m("N1c", "N1", "2026-10-10T11:50:00Z", "customer"),
        # N2: the 11:00 message was answered at 11:10: no wait open; resolution due 14:00 -> 7200 s (resolution)
        m("N2a", "N2", "2026-10-10T10:00:00Z", "customer"), m("N2b", "N2", "2026-10-10T10:05:00Z", "agent", "a1"),
        m("N2c", "N2", "2026-10-10T11:00:00Z", "customer"), m("N2d", "N2", "2026-10-10T11:10:00Z", "agent", "a1"),
        # N3: the 11:20 message waited past its 11:50 target (breached, not ahead); resolution due 15:00
        #     -> 10800 s > 7200 -> not listed
        m("N3a", "N3", "2026-10-10T11:00:00Z", "customer"), m("N3b", "N3", "2026-10-10T11:05:00Z", "agent", "a1"),
        m("N3c", "N3", "2026-10-10T11:20:00Z", "customer"),
        # N4: the 11:45 message is answered at 12:10, after the as-of: still waiting at 12:00,
        #     due 12:15 -> 900 s (next_response)
        m("N4a", "N4", "2026-10-10T10:00:00Z", "customer"), m("N4b", "N4", "2026-10-10T10:05:00Z", "agent", "a1"),
        m("N4c", "N4", "2026-10-10T11:45:00Z", "customer"), m("N4d", "N4", "2026-10-10T12:10:00Z", "agent", "a1"),
        # N5: default policy has no next-response target; resolution (72 h) is days away -> not listed
        m("N5a", "N5", "2026-10-10T11:00:00Z", "customer"), m("N5b", "N5", "2026-10-10T11:10:00Z", "agent", "a1"),
        m("N5c", "N5", "2026-10-10T11:30:00Z", "customer"),
    ])
    ws.load()
    cfg = config(ws, AT_RISK + 'next_response = "30m"\n')
    asof = "2026-10-10T12:00:00Z"
    rows = records(ws, "sla_at_risk", "--option", "within=2h", *cfg, asof=asof)
    assert [(r["ticket_id"], r["next_target"], r["seconds_left"]) for r in rows] == [
        ("N4", "next_response", 900), ("N1", "next_response", 1200), ("N2", "resolution", 7200)]
    assert ws.value("sla_at_risk", "--option", "within=2h", *cfg, asof=asof) == 3
    # a 25 min window keeps the two waiting messages only
    rows = records(ws, "sla_at_risk", "--option", "within=25m", *cfg, asof=asof)
    assert [r["ticket_id"] for r in rows] == ["N4", "N1"]
