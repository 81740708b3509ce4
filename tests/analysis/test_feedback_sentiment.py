"""feedback_sentiment: share of negative/positive/neutral texts over feedback.text and
surveys.comment, classified at import into text_sentiment; rows; unclassified; CLI and API."""
from __future__ import annotations

import json

import pytest

from conftest import one, run
from servicekpi.core.sentiment import classify
from servicekpi.store import db as store
from servicekpi.store import sentiment as sentiment_store

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
FEEDBACK = [
    {"feedback_id": "F1", "received_at": "2026-10-02T10:00:00Z", "source": "review",
     "text": "The agent was rude and hung up on me."},                                       # en negative
    {"feedback_id": "F2", "received_at": "2026-10-03T10:00:00Z", "source": "review",
     "text": "Terrible service, I am very disappointed."},                                   # en negative
    {"feedback_id": "F3", "received_at": "2026-10-04T10:00:00Z", "source": "social",
     "text": "Great service, thank you so much!"},                                           # en positive
    {"feedback_id": "F4", "received_at": "2026-10-05T10:00:00Z", "source": "social",
     "text": "I changed my delivery address last week."},                                    # no opinion word
    {"feedback_id": "F5", "received_at": "2026-10-06T10:00:00Z", "source": "social", "text": "  "},  # not a text
    {"feedback_id": "F6", "received_at": "2026-11-02T10:00:00Z", "source": "social",
     "text": "Hola, necesito ayuda"},                                                        # Spanish: unclassified
]
SURVEYS = [
    {"response_id": "S1", "survey": "csat", "score": 1, "responded_at": "2026-10-07T10:00:00Z",
     "comment": "Serviciu groaznic, nu recomand."},                                          # ro negative
    {"response_id": "S2", "survey": "nps", "score": 10, "responded_at": "2026-10-08T10:00:00Z",
     "comment": "服务很好，非常满意"},                                                         # zh positive
    {"response_id": "S3", "survey": "csat", "score": 4, "responded_at": "2026-10-09T10:00:00Z",
     "comment": "ได้รับพัสดุวันนี้"},                                                           # th, no opinion word
    {"response_id": "S4", "survey": "csat", "score": 3, "responded_at": "2026-10-10T10:00:00Z"},  # no comment
]
VERDICTS = {"F1": "negative", "F2": "negative", "F3": "positive", "F4": "unclassified",
            "F6": "unclassified", "S1": "negative", "S2": "positive", "S3": "unclassified"}


def test_the_fixture_texts_get_the_verdicts_the_cases_assume():
    texts = {r["feedback_id"]: r["text"] for r in FEEDBACK} | {r["response_id"]: r.get("comment") for r in SURVEYS}
    assert {k: classify(texts[k]).sentiment for k in VERDICTS} == VERDICTS


@pytest.fixture
def both(ws):
    ws.write("feedback", FEEDBACK)
    ws.write("surveys", SURVEYS)
    ws.load()
    return ws


def test_negative_share_over_both_sources(both):
    row = one(both, "feedback_sentiment", *OCT)
    # October texts: F1 F2 F3 F4 (F5 blank) + S1 S2 S3 (S4 none); classified F1 F2 F3 S1 S2 = 5;
    # negative F1 F2 S1 = 3 -> 3 / 5 x 100 = 60.0; F4 and S3 unclassified, outside the denominator
    assert (row["value"], row["numerator"], row["denominator"]) == (pytest.approx(60.0), 3, 5)
    assert row["note"] == "2 unclassified texts left out (no opinion word, or another language)"


@pytest.mark.parametrize("polarity, num, value", [
    ("positive", 2, 40.0),  # F3 S2: 2 / 5 x 100 = 40.0
    ("neutral", 0, 0.0),    # none of the 5: 0 / 5 = 0.0 (a real zero: the denominator is not empty)
    ("negative", 3, 60.0),
])
def test_polarity_option(both, polarity, num, value):
    row = one(both, "feedback_sentiment", *OCT, "--option", f"polarity={polarity}")
    assert (row["numerator"], row["denominator"], row["value"]) == (num, 5, pytest.approx(value))


def test_bad_polarity_is_a_usage_error(both):
    r = run(both, "kpi", "feedback_sentiment", "--option", "polarity=angry")
    assert r.exit_code == 2 and "not one of: positive, neutral, negative" in r.stderr


def test_by_origin_and_language(both):
    rows = both.kpi("feedback_sentiment", *OCT, "--dim", "origin")
    got = {r["origin"]: (r["numerator"], r["denominator"], r["value"]) for r in rows}
    # feedback: F1 F2 negative of F1 F2 F3 -> 2/3 = 66.67; surveys: S1 negative of S1 S2 -> 1/2 = 50.0
    assert got == {"feedback": (2, 3, pytest.approx(200 / 3)), "surveys": (1, 2, pytest.approx(50.0))}
    rows = both.kpi("feedback_sentiment", *OCT, "--dim", "language", "--where", "origin=surveys")
    # surveys only: ro S1 negative 1/1 = 100; zh S2 positive 0/1 = 0; th S3 unclassified only -> null
    got = {r["language"]: r["value"] for r in rows}
    assert got == {"ro": pytest.approx(100.0), "zh": pytest.approx(0.0), "th": None}


def test_only_unclassified_or_no_text_is_null(both):
    rows = both.kpi("feedback_sentiment", "--by", "month", "--from", "2026-10-01", "--to", "2026-12-31")
    got = {r["period_start"]: (r["value"], r["denominator"], r.get("note")) for r in rows}
    # November: only F6 (Spanish, unclassified) -> 0 classified -> null, not 0; December: after the last
    # text -> no data (null, no denominator: issue 13 item 2)
    assert got["2026-11-01"] == (None, 0, "1 unclassified texts left out (no opinion word, or another language)")
    assert got["2026-12-01"][:2] == (None, None) and got["2026-12-01"][2].startswith("no data: after the last")
    assert got["2026-10-01"][0] == pytest.approx(60.0)


def test_one_source_is_enough_and_none_is_unavailable(ws, tmp_path):
    store.connect(ws.db).close()  # a store with nothing imported
    r = run(ws, "kpi", "feedback_sentiment", *OCT, "--format", "json")
    assert r.exit_code == 0
    row = json.loads(r.stdout)[0]
    assert row["value"] is None and row["note"] == "unavailable: table text_sentiment was never imported"
    ws.write("surveys", SURVEYS)
    ws.load()
    row = one(ws, "feedback_sentiment", *OCT)
    # surveys only: S1 negative of S1 S2 -> 1 / 2 x 100 = 50.0
    assert (row["value"], row["denominator"]) == (pytest.approx(50.0), 2)


def test_rows_list_each_text_with_language_sentiment_and_score(both):
    r = run(both, "rows", "feedback_sentiment", *OCT, "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    got = {x["text_id"]: (x["language"], x["sentiment"]) for x in rows}
    assert got == {"feedback:F1": ("en", "negative"), "feedback:F2": ("en", "negative"),
                   "feedback:F3": ("en", "positive"), "feedback:F4": ("en", "unclassified"),
                   "surveys:S1": ("ro", "negative"), "surveys:S2": ("zh", "positive"),
                   "surveys:S3": ("th", "unclassified")}
    first = rows[0]
    assert first["text"] == "The agent was rude and hung up on me." and first["score"] < -0.05
    assert first["period_start"] == "2026-10-01" and first["origin"] == "feedback"
    assert all(x["score"] is None for x in rows if x["sentiment"] == "unclassified")


def test_changed_text_is_reclassified_and_unchanged_is_not(both):
    con = store.connect(both.db)
    assert sentiment_store.refresh(con) == {"classified": 0, "removed": 0}  # nothing new
    con.close()
    edited = [dict(r, text="Thank you, excellent help!") if r["feedback_id"] == "F1" else r for r in FEEDBACK]
    both.write("feedback", edited)
    both.load()
    row = one(both, "feedback_sentiment", *OCT)
    # F1 now positive: negative F2 S1 = 2 of 5 -> 40.0
    assert (row["numerator"], row["value"]) == (2, pytest.approx(40.0))


def test_a_new_classifier_version_reclassifies_everything(both, monkeypatch):
    con = store.connect(both.db)
    monkeypatch.setattr(sentiment_store, "classifier_version", lambda: "test-2")
    # 8 non-blank texts (F1-F4, F6, S1-S3) dropped and classified again under the new version
    assert sentiment_store.refresh(con) == {"classified": 8, "removed": 8}
    assert con.execute("SELECT DISTINCT version FROM text_sentiment").fetchall() == [("test-2",)]
    con.close()


def test_erasing_a_customer_drops_the_verdicts_on_their_texts(ws):
    ws.write("feedback", [dict(r, customer_id="C1" if r["feedback_id"] in ("F1", "F2") else "C2")
                          for r in FEEDBACK])
    ws.load()
    assert run(ws, "erase", "--customer", "C1").exit_code == 0
    con = store.connect(ws.db)
    keys = sorted(k for (k,) in con.execute("SELECT key FROM text_sentiment").fetchall())
    con.close()
    assert keys == ["F3", "F4", "F6"]
    row = one(ws, "feedback_sentiment", *OCT)
    assert (row["numerator"], row["denominator"]) == (0, 1)  # F3 positive only: 0 / 1 = 0.0


def test_survey_comments_of_excluded_tickets_are_left_out(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "excluded": "true"},
                         {"ticket_id": "T2", "created_at": "2026-10-01T09:00:00Z"}])
    ws.write("surveys", [dict(SURVEYS[0], ticket_id="T1"), dict(SURVEYS[1], ticket_id="T2")])
    ws.load()
    row = one(ws, "feedback_sentiment", *OCT)
    # S1 (negative) hangs on excluded T1: only S2 (positive) counts -> 0 negative of 1 = 0.0
    assert (row["numerator"], row["denominator"], row["value"]) == (0, 1, pytest.approx(0.0))
