"""Survey KPIs (kpis.md "Surveys"): csat, csat_mean, nps, ces, ces_agree.

Every dataset is written as CSV, imported through the CLI and queried as JSON;
the expected numbers are worked out by hand in the comments.
"""
from __future__ import annotations

import re

import pytest

AT = "2026-10-10T10:00:00Z"


def answer(rid, survey, score, at=AT, **extra):
    row = {"response_id": rid, "survey": survey, "score": score, "responded_at": at}
    row.update(extra)
    return row


def answers(survey, scores, prefix=None, **extra):
    prefix = prefix or survey
    return [answer(f"{prefix}{i}", survey, s, **extra) for i, s in enumerate(scores)]


def only(rows):
    assert len(rows) == 1, rows
    return rows[0]


# -- csat ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scale, scores, satisfied", [
    # 1-5 (5 points): satisfied = score >= 5-1 = 4 -> 5, 4, 4 of 6 answers
    ((1, 5), [5, 4, 4, 3, 2, 1], 3),
    # thumbs 0-1 (2 points): satisfied = score = 1 -> 3 of 4
    ((0, 1), [1, 1, 0, 1], 3),
    # 1-3 (3 points): satisfied = score = 3 -> 2 of 5 (2 is not satisfied)
    ((1, 3), [3, 2, 3, 1, 2], 2),
    # 1-4 (4 points, under 5): only the top score 4 -> 2 of 4
    ((1, 4), [4, 3, 4, 1], 2),
    # 0-4 (5 points): satisfied = score >= 3 -> 3, 4 of 4 answers
    ((0, 4), [3, 4, 2, 0], 2),
    # 1-10 (10 points): satisfied = score >= 9 -> 10, 9 of 5 (8 is not)
    ((1, 10), [10, 9, 8, 7, 1], 2),
    # 0-10 (11 points): score >= 9 -> 9, 10 of 4
    ((0, 10), [9, 10, 8, 0], 2),
])
def test_csat_satisfied_rule_per_scale(ws, scale, scores, satisfied):
    lo, hi = scale
    ws.write("surveys", answers("csat", scores, scale_min=lo, scale_max=hi))
    ws.load()
    row = only(ws.kpi("csat"))
    assert row["numerator"] == satisfied
    assert row["denominator"] == len(scores)
    assert row["value"] == pytest.approx(100 * satisfied / len(scores))
    assert row["unit"] == "percent"


def test_csat_default_scale_is_1_to_5(ws):
    # no scale columns: csat defaults to 1-5, satisfied = 4 or 5 -> 5, 4 of 5 answers = 40%
    ws.write("surveys", answers("csat", [5, 4, 3, 2, 1]))
    ws.load()
    row = only(ws.kpi("csat"))
    assert (row["numerator"], row["denominator"], row["value"]) == (2, 5, 40.0)


def test_csat_mixes_scales_answer_by_answer(ws):
    rows = (answers("csat", [5, 3], prefix="five")                          # 1 satisfied of 2
            + answers("csat", [1, 0, 1], prefix="thumb", scale_min=0, scale_max=1)  # 2 of 3
            + answers("csat", [9, 8, 10], prefix="ten", scale_min=1, scale_max=10))  # 2 of 3
    ws.write("surveys", rows)
    ws.load()
    row = only(ws.kpi("csat"))
    # (1 + 2 + 2) / (2 + 3 + 3) = 5 / 8 = 62.5%
    assert (row["numerator"], row["denominator"]) == (5, 8)
    assert row["value"] == pytest.approx(62.5)


def test_csat_counts_only_csat_answers(ws):
    # nps 10 and ces 7 answers are not csat answers: csat = 1 satisfied (5) of 2 = 50%
    ws.write("surveys", answers("csat", [5, 2]) + answers("nps", [10, 10]) + answers("ces", [7]))
    ws.load()
    row = only(ws.kpi("csat"))
    assert (row["numerator"], row["denominator"], row["value"]) == (1, 2, 50.0)


@pytest.mark.parametrize("satisfied_from, expected", [
    # scores 5 4 3 2 1 on 1-5; satisfied_from=3 -> 5, 4, 3 = 3 of 5 = 60%
    ("3", 60.0),
    # satisfied_from=5 -> only 5 = 1 of 5 = 20%
    ("5", 20.0),
    # satisfied_from=4.5 -> only 5 = 20%
    ("4.5", 20.0),
])
def test_csat_option_satisfied_from(ws, satisfied_from, expected):
    ws.write("surveys", answers("csat", [5, 4, 3, 2, 1]))
    ws.load()
    assert ws.value("csat", "--option", f"satisfied_from={satisfied_from}") == pytest.approx(expected)


def test_csat_satisfied_from_overrides_thumbs_rule(ws):
    # thumbs 0-1 with satisfied_from=0: every answer is satisfied -> 3 of 3 = 100%
    ws.write("surveys", answers("csat", [0, 1, 0], scale_min=0, scale_max=1))
    ws.load()
    assert ws.value("csat", "--option", "satisfied_from=0") == 100.0
    # default rule: only 1 -> 1 of 3 = 33.33%
    assert ws.value("csat") == pytest.approx(100 / 3)


def test_csat_by_month_attributed_by_responded_at(ws):
    rows = [
        answer("a", "csat", 5, "2026-10-31T23:59:59Z"),  # October: satisfied
        answer("b", "csat", 1, "2026-10-01T00:00:00Z"),  # October: not satisfied
        answer("c", "csat", 4, "2026-11-01T00:00:00Z"),  # November: satisfied
    ]
    ws.write("surveys", rows)
    ws.load()
    got = ws.kpi("csat", "--by", "month", "--from", "2026-10-01", "--to", "2026-12-31")
    # October 1 of 2 = 50%; November 1 of 1 = 100%; December is after the last answer: no data
    # (null, and no denominator either; issue 13 item 2)
    assert [(r["period_start"], r["value"], r["denominator"]) for r in got] == [
        ("2026-10-01", 50.0, 2), ("2026-11-01", 100.0, 1), ("2026-12-01", None, None)]


def test_csat_empty_period_is_null(ws):
    ws.write("surveys", answers("csat", [5, 5]))
    ws.load()
    # no answers in November -> null, not 0
    row = only(ws.kpi("csat", "--from", "2026-11-01", "--to", "2026-11-30"))
    assert row["value"] is None


def test_csat_ignores_answers_after_as_of(ws):
    ws.write("surveys", [answer("a", "csat", 5, "2026-10-01T10:00:00Z"),
                         answer("b", "csat", 1, "2026-10-02T10:00:00Z"),
                         answer("c", "csat", 1, "2026-10-20T10:00:00Z")])
    ws.load()
    # as of 2026-10-10 only a and b exist: 1 of 2 = 50%; with all three: 1 of 3
    assert ws.value("csat", "--from", "2026-10-01", "--to", "2026-10-31",
                    asof="2026-10-10T00:00:00Z") == 50.0
    assert ws.value("csat", "--from", "2026-10-01", "--to", "2026-10-31") == pytest.approx(100 / 3)


# -- csat_mean --------------------------------------------------------------------------------


def test_csat_mean_leaves_other_scales_out_with_a_note(ws):
    rows = (answers("csat", [5, 4, 3], prefix="five")                               # on 1-5
            + answers("csat", [10], prefix="ten", scale_min=1, scale_max=10)        # other scale
            + answers("csat", [1], prefix="thumb", scale_min=0, scale_max=1))       # other scale
    ws.write("surveys", rows)
    ws.load()
    row = only(ws.kpi("csat_mean"))
    # (5 + 4 + 3) / 3 = 4.0 over the 1-5 answers; the 1-10 and 0-1 answers (2) are left out
    assert row["value"] == pytest.approx(4.0)
    assert (row["numerator"], row["denominator"]) == (12, 3)
    assert row["unit"] == "score"
    assert re.search(r"\b2\b", row.get("note") or ""), row


def test_csat_mean_without_other_scales_has_no_note(ws):
    ws.write("surveys", answers("csat", [5, 2]))
    ws.load()
    row = only(ws.kpi("csat_mean"))
    # (5 + 2) / 2 = 3.5
    assert row["value"] == pytest.approx(3.5)
    assert not row.get("note")


def test_csat_mean_uses_the_workspace_scale(ws, tmp_path):
    cfg = tmp_path / "ten.toml"
    cfg.write_text("[csat]\nscale = [1, 10]\n", encoding="utf-8")
    rows = (answers("csat", [10, 7], prefix="ten", scale_min=1, scale_max=10)
            + answers("csat", [5], prefix="five"))
    ws.write("surveys", rows)
    ws.load()
    row = only(ws.kpi("csat_mean", "--config", str(cfg)))
    # workspace scale 1-10: (10 + 7) / 2 = 8.5; the 1-5 answer (1) is left out
    assert row["value"] == pytest.approx(8.5)
    assert row["denominator"] == 2
    assert re.search(r"\b1\b", row.get("note") or ""), row
    # default workspace scale 1-5: only the 5 -> 5.0, the two 1-10 answers are left out
    row = only(ws.kpi("csat_mean"))
    assert row["value"] == pytest.approx(5.0)
    assert re.search(r"\b2\b", row.get("note") or ""), row


def test_csat_mean_ignores_nps_and_ces(ws):
    ws.write("surveys", answers("csat", [4]) + answers("nps", [0]) + answers("ces", [1]))
    ws.load()
    row = only(ws.kpi("csat_mean"))
    # only the csat 4 -> 4.0; nps/ces are not csat answers on another scale: no note
    assert row["value"] == 4.0
    assert not row.get("note")


# -- nps --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scores, promoters, detractors", [
    # 10 9 | 8 7 | 6 0 -> 2 promoters, 2 detractors of 6 -> 0
    ([10, 9, 8, 7, 6, 0], 2, 2),
    # 10 10 9 | 7 | 3 -> 3 - 1 = 2 of 5 -> 40
    ([10, 10, 9, 7, 3], 3, 1),
    # 6 5 0 | 8 -> 0 - 3 = -3 of 4 -> -75
    ([6, 5, 0, 8], 0, 3),
    # all passives 7 8 -> 0
    ([7, 8, 7], 0, 0),
])
def test_nps(ws, scores, promoters, detractors):
    ws.write("surveys", answers("nps", scores))
    ws.load()
    row = only(ws.kpi("nps"))
    assert row["numerator"] == promoters - detractors
    assert row["denominator"] == len(scores)
    assert row["value"] == pytest.approx(100 * (promoters - detractors) / len(scores))
    assert row["unit"] == "points"


def test_nps_boundaries_9_and_6(ws):
    # 9 is a promoter, 6 a detractor, 7 and 8 passives: (1 - 1) / 4 = 0
    ws.write("surveys", answers("nps", [9, 6, 7, 8]))
    ws.load()
    row = only(ws.kpi("nps"))
    assert (row["value"], row["numerator"], row["denominator"]) == (0.0, 0, 4)


def test_nps_ignores_other_surveys_and_empty_is_null(ws):
    # csat 5 and ces 7 are not nps answers: nps 10, 0, 10 -> (2 - 1) / 3 = 33.33
    ws.write("surveys", answers("nps", [10, 0, 10]) + answers("csat", [5]) + answers("ces", [7]))
    ws.load()
    assert ws.value("nps") == pytest.approx(100 / 3)
    # no nps answers in November -> null
    assert ws.value("nps", "--from", "2026-11-01", "--to", "2026-11-30") is None


# -- ces, ces_agree ------------------------------------------------------------------------------


def test_ces_is_the_mean_score(ws):
    ws.write("surveys", answers("ces", [7, 5, 6, 2]))
    ws.load()
    row = only(ws.kpi("ces"))
    # (7 + 5 + 6 + 2) / 4 = 20 / 4 = 5.0
    assert (row["value"], row["numerator"], row["denominator"]) == (5.0, 20, 4)
    assert row["unit"] == "score"


def test_ces_ignores_other_surveys_and_empty_is_null(ws):
    ws.write("surveys", answers("ces", [3, 4]) + answers("csat", [1]) + answers("nps", [10]))
    ws.load()
    # (3 + 4) / 2 = 3.5
    assert ws.value("ces") == pytest.approx(3.5)
    assert ws.value("ces", "--from", "2026-11-01", "--to", "2026-11-30") is None


@pytest.mark.parametrize("scale, scores, agree", [
    # default 1-7: agree = score >= 6 -> 7, 6 of 4 answers = 50%
    (None, [7, 6, 5, 2], 2),
    # 1-5: agree = score >= 4 -> 5, 4 of 3 = 66.67%
    ((1, 5), [5, 4, 3], 2),
    # 1-7: 5 is not agree -> 0 of 2 = 0% (a real 0, the denominator is 2)
    ((1, 7), [5, 1], 0),
])
def test_ces_agree(ws, scale, scores, agree):
    extra = {} if scale is None else {"scale_min": scale[0], "scale_max": scale[1]}
    ws.write("surveys", answers("ces", scores, **extra) + answers("csat", [5]))
    ws.load()
    row = only(ws.kpi("ces_agree"))
    assert (row["numerator"], row["denominator"]) == (agree, len(scores))
    assert row["value"] == pytest.approx(100 * agree / len(scores))
    assert row["unit"] == "percent"


# -- links to tickets ------------------------------------------------------------------------------


TICKETS = [
    {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "agent_id": "ann", "channel": "email"},
    {"ticket_id": "T2", "created_at": "2026-10-01T09:00:00Z", "agent_id": "bob", "channel": "chat"},
    {"ticket_id": "T3", "created_at": "2026-10-01T09:00:00Z", "agent_id": "bob", "channel": "chat",
     "excluded": "true"},
]


def test_survey_agent_taken_from_linked_ticket(ws):
    ws.write("tickets", TICKETS)
    ws.write("surveys", [
        answer("s1", "csat", 5, ticket_id="T1"),                  # agent from T1: ann
        answer("s2", "csat", 1, ticket_id="T1"),                  # ann
        answer("s3", "csat", 5, ticket_id="T2"),                  # bob
        answer("s4", "csat", 1, ticket_id="T2", agent_id="cy"),   # own agent cy wins over bob
        answer("s5", "csat", 4),                                  # no ticket, no agent: null group
    ])
    ws.load()
    got = ws.kpi("csat", "--dim", "agent_id")
    # ann: 5, 1 -> 1/2 = 50; bob: 5 -> 1/1 = 100; cy: 1 -> 0/1 = 0; null: 4 -> 1/1 = 100
    assert [(r["agent_id"], r["numerator"], r["denominator"], r["value"]) for r in got] == [
        ("ann", 1, 2, 50.0), ("bob", 1, 1, 100.0), ("cy", 0, 1, 0.0), (None, 1, 1, 100.0)]


def test_survey_channel_taken_from_linked_ticket(ws):
    ws.write("tickets", TICKETS)
    ws.write("surveys", [
        answer("n1", "nps", 10, ticket_id="T1"),                 # email
        answer("n2", "nps", 0, ticket_id="T2"),                  # chat
        answer("n3", "nps", 9, ticket_id="T2", channel="Phone"),  # own channel: phone
    ])
    ws.load()
    got = ws.kpi("nps", "--dim", "channel")
    # chat: 0 -> -100; email: 10 -> 100; phone: 9 -> 100 (sorted by channel)
    assert [(r["channel"], r["value"]) for r in got] == [("chat", -100.0), ("email", 100.0), ("phone", 100.0)]


def test_survey_where_agent_uses_the_ticket_agent(ws):
    ws.write("tickets", TICKETS)
    ws.write("surveys", [answer("c1", "ces", 7, ticket_id="T1"), answer("c2", "ces", 3, ticket_id="T2"),
                         answer("c3", "ces", 5, ticket_id="T1")])
    ws.load()
    # ann's answers: c1 7 and c3 5 -> mean 6.0
    assert ws.value("ces", "--where", "agent_id=ann") == 6.0


def test_answers_linked_to_an_excluded_ticket_are_left_out(ws):
    ws.write("tickets", TICKETS)
    ws.write("surveys", [
        answer("s1", "csat", 5, ticket_id="T1"),
        answer("s2", "csat", 1, ticket_id="T3"),   # T3 is excluded
        answer("s3", "csat", 2),                    # no ticket: counted
        answer("n1", "nps", 0, ticket_id="T3"),    # excluded
        answer("n2", "nps", 10, ticket_id="T1"),
    ])
    ws.load()
    csat = only(ws.kpi("csat"))
    # s1 (satisfied) and s3 (not): 1 of 2 = 50%; s2 is left out
    assert (csat["numerator"], csat["denominator"], csat["value"]) == (1, 2, 50.0)
    # nps: only n2 (10) -> 100
    assert ws.value("nps") == 100.0
    # the excluded ticket's agent does not appear as a group
    by_agent = ws.kpi("csat", "--dim", "agent_id")
    assert [(r["agent_id"], r["denominator"]) for r in by_agent] == [("ann", 1), (None, 1)]


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("row", [
    answer("bad", "csat", 6),                                 # above 1-5
    answer("bad", "csat", 0),                                 # below 1-5
    answer("bad", "nps", 11),                                 # above 0-10
    answer("bad", "ces", 8),                                  # above 1-7
    answer("bad", "csat", 2, scale_min=0, scale_max=1),       # thumbs is 0-1
    answer("bad", "csat", 11, scale_min=1, scale_max=10),     # above its own scale
])
def test_out_of_range_score_is_quarantined(ws, row):
    ws.write("surveys", [answer("ok1", row["survey"], 1 if row["survey"] != "nps" else 10), row])
    ws.load()
    q = ws.quarantine()
    assert len(q) == 1, q
    assert q[0]["table"] == "surveys"
    assert q[0]["column"] == "score"
    assert q[0]["line"] == 3  # header is line 1, ok1 line 2
    # the rejected answer is not counted: one answer of that survey remains
    kpi = row["survey"]
    assert only(ws.kpi(kpi))["denominator"] == 1
