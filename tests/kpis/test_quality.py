"""Quality and feedback KPIs (kpis.md "Quality and feedback"): iqs, feedback_response_rate."""
from __future__ import annotations

import pytest

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def crit(review_id, criterion, score, max_score, at="2026-10-10T10:00:00Z", **extra):
    row = {"review_id": review_id, "reviewed_at": at, "criterion": criterion, "score": score,
           "max_score": max_score}
    row.update(extra)
    return row


def only(rows):
    assert len(rows) == 1, rows
    return rows[0]


REVIEWS = [
    crit("R1", "accuracy", 4, 5, agent_id="ann"), crit("R1", "tone", 3, 3, agent_id="ann"),
    crit("R2", "Accuracy", 1, 5, agent_id="bob"), crit("R2", "tone", 2, 4, agent_id="bob"),
]
# R1: accuracy 4/5 = 0.8, tone 3/3 = 1.0; R2: accuracy 1/5 = 0.2, tone 2/4 = 0.5


def test_iqs_default_weights(ws):
    ws.write("quality_reviews", REVIEWS)
    ws.load()
    row = only(ws.kpi("iqs", *OCT))
    # R1 = (0.8 + 1.0) / 2 = 90; R2 = (0.2 + 0.5) / 2 = 35; mean over 2 reviews = 62.5
    assert row["value"] == pytest.approx(62.5)
    assert row["denominator"] == 2
    assert row["numerator"] == pytest.approx(125)
    assert row["unit"] == "percent"


def test_iqs_criterion_weights_from_config(ws, tmp_path):
    cfg = tmp_path / "q.toml"
    cfg.write_text("[quality.weights]\naccuracy = 2\n", encoding="utf-8")
    ws.write("quality_reviews", REVIEWS)
    ws.load()
    row = only(ws.kpi("iqs", *OCT, "--config", str(cfg)))
    # accuracy weight 2, tone default 1 ("Accuracy" is the same criterion, lower-cased)
    # R1 = (2 x 0.8 + 1 x 1.0) / 3 = 2.6 / 3 = 86.67; R2 = (2 x 0.2 + 1 x 0.5) / 3 = 0.9 / 3 = 30
    # mean = (260/3 + 30) / 2 = 175/3 = 58.33
    assert row["value"] == pytest.approx(175 / 3)


def test_iqs_by_agent_and_month(ws):
    ws.write("quality_reviews", REVIEWS + [crit("R3", "accuracy", 5, 5, "2026-11-02T10:00:00Z", agent_id="ann")])
    ws.load()
    got = ws.kpi("iqs", "--by", "month", "--dim", "agent_id", "--from", "2026-10-01", "--to", "2026-11-30")
    # October: ann R1 = 90, bob R2 = 35; November: ann R3 = 5/5 = 100, bob no review -> null
    assert [(r["period_start"], r["agent_id"], r["value"]) for r in got] == [
        ("2026-10-01", "ann", pytest.approx(90.0)), ("2026-10-01", "bob", pytest.approx(35.0)),
        ("2026-11-01", "ann", pytest.approx(100.0)), ("2026-11-01", "bob", None)]


def test_iqs_empty_period_is_null(ws):
    ws.write("quality_reviews", REVIEWS)
    ws.load()
    assert ws.value("iqs", "--from", "2026-12-01", "--to", "2026-12-31") is None


def test_iqs_score_above_max_is_quarantined(ws):
    ws.write("quality_reviews", REVIEWS + [crit("R9", "tone", 6, 5)])
    ws.load()
    q = ws.quarantine()
    assert [(r["table"], r["column"]) for r in q] == [("quality_reviews", "score")]
    # R9 is not counted: still 62.5 over 2 reviews
    assert only(ws.kpi("iqs", *OCT))["denominator"] == 2


# -- feedback_response_rate ------------------------------------------------------------------------


def fb(fid, received, replied=None, **extra):
    row = {"feedback_id": fid, "received_at": received, "replied_at": replied}
    row.update(extra)
    return row


FEEDBACK = [
    fb("F1", "2026-10-01T10:00:00Z", "2026-10-02T10:00:00Z", source="review"),
    fb("F2", "2026-10-03T10:00:00Z", "2026-10-25T10:00:00Z", source="social"),
    fb("F3", "2026-10-05T10:00:00Z", source="social"),
    fb("F4", "2026-10-06T10:00:00Z", "2026-10-06T11:00:00Z", source="review"),
    fb("F5", "2026-10-22T10:00:00Z", source="review"),
    fb("F6", "2026-11-03T10:00:00Z", "2026-11-04T10:00:00Z", source="review"),
]


def test_feedback_response_rate(ws):
    ws.write("feedback", FEEDBACK)
    ws.load()
    row = only(ws.kpi("feedback_response_rate", *OCT))
    # October received F1..F5 = 5; replied F1 F2 F4 = 3 -> 60%
    assert (row["numerator"], row["denominator"]) == (3, 5)
    assert row["value"] == pytest.approx(60.0)
    assert row["unit"] == "percent"


def test_feedback_response_rate_as_of(ws):
    ws.write("feedback", FEEDBACK)
    ws.load()
    # as of 2026-10-20: F5 not yet received, F2's reply (10-25) not yet sent
    # received F1..F4 = 4; replied F1 F4 = 2 -> 50%
    row = only(ws.kpi("feedback_response_rate", "--from", "2026-10-01", "--to", "2026-10-19",
                      asof="2026-10-20T00:00:00Z"))
    assert (row["numerator"], row["denominator"], row["value"]) == (2, 4, 50.0)


def test_feedback_response_rate_by_source_and_month(ws):
    ws.write("feedback", FEEDBACK)
    ws.load()
    got = ws.kpi("feedback_response_rate", "--by", "month", "--dim", "source",
                 "--from", "2026-10-01", "--to", "2026-11-30")
    # Oct review: F1 F4 F5 -> 2/3; Oct social: F2 F3 -> 1/2; Nov review: F6 -> 1/1; Nov social: none -> null
    assert [(r["period_start"], r["source"], r["value"]) for r in got] == [
        ("2026-10-01", "review", pytest.approx(200 / 3)), ("2026-10-01", "social", 50.0),
        ("2026-11-01", "review", 100.0), ("2026-11-01", "social", None)]


def test_feedback_reply_before_received_is_quarantined(ws):
    ws.write("feedback", [fb("F1", "2026-10-05T10:00:00Z", "2026-10-04T10:00:00Z"),
                          fb("F2", "2026-10-05T10:00:00Z")])
    ws.load()
    assert [(r["table"], r["column"]) for r in ws.quarantine()] == [("feedback", "replied_at")]
    # only F2 counts: 0 replied of 1 = 0% (a real zero)
    row = only(ws.kpi("feedback_response_rate", *OCT))
    assert (row["numerator"], row["denominator"], row["value"]) == (0, 1, 0.0)
