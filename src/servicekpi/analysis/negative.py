"""Negative texts: the one interface between the sentiment classifier and its users (the
follow-up queue, the negative-sentiment alert).

polarity(con, lo, hi, asof) lists every text customers wrote in [lo, hi) (feedback.text and
surveys.comment) with a sentiment: negative, neutral, positive or unclassified.

- CLASSIFIER (text -> label) is the workspace classifier of core/sentiment.py (`_sentiment`, the one
  feedback_sentiment counts): it judges feedback text and survey comments first.
- When it cannot read a text (unclassified: no opinion word, or a language it does not know), the
  customer's own rating decides, which is their statement, not a guess: feedback by a numeric `rating`
  column when the import carried one (1-2 negative, 3 neutral, 4-5 positive), survey comments by the
  answer's score (an NPS detractor or a dissatisfied CSAT answer negative, a promoter or satisfied
  answer positive, the rest neutral, CES unclassified). Without either it stays unclassified.
- So the negative-sentiment alert can differ from feedback_sentiment (text only) where texts are
  unclassified but rated; the follow-up queue picks survey items by score alone (followups.py).
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from servicekpi.store.db import table_columns

LABELS = ("negative", "neutral", "positive", "unclassified")


def _sentiment(text: str) -> str:
    """The workspace classifier (core/sentiment.py), the same one the feedback_sentiment KPI stores."""
    from servicekpi.core.sentiment import classify
    return classify(text).sentiment


CLASSIFIER: Callable[[str], str] | None = _sentiment  # None: ratings and scores only

# SQL predicates on a surveys row `s` (the catalog's rules: csat satisfied = top-2 box on scales of
# 5+ points, the top score below; nps detractors 0-6, promoters 9-10)
CSAT_TOP = "CASE WHEN s.scale_max - s.scale_min + 1 >= 5 THEN s.scale_max - 1 ELSE s.scale_max END"
UNHAPPY = f"((s.survey = 'nps' AND s.score <= 6) OR (s.survey = 'csat' AND s.score < {CSAT_TOP}))"
HAPPY = f"((s.survey = 'nps' AND s.score >= 9) OR (s.survey = 'csat' AND s.score >= {CSAT_TOP}))"


def columns(con, table: str) -> set[str]:
    return set(table_columns(con, table))


def _rating_label(value) -> str:
    try:
        r = float(value)
    except (TypeError, ValueError):
        return "unclassified"
    return "negative" if r <= 2 else "neutral" if r < 4 else "positive"


def _by_text(text: str | None) -> str:
    if CLASSIFIER is None or not text or not text.strip():
        return "unclassified"
    label = CLASSIFIER(text)
    return label if label in LABELS else "unclassified"


def classify_feedback(text: str | None, rating=None) -> str:
    label = _by_text(text)
    if label != "unclassified":
        return label
    return _rating_label(rating) if rating is not None else "unclassified"


def classify_survey(text: str | None, unhappy: bool, happy: bool, survey: str) -> str:
    label = _by_text(text)
    if label != "unclassified":
        return label
    if survey == "ces":
        return "unclassified"
    return "negative" if unhappy else "positive" if happy else "neutral"


def polarity(con, lo: dt.datetime | None, hi: dt.datetime | None, asof: dt.datetime,
             imported: set[str] | None = None) -> list[dict]:
    """Texts received in [lo, hi) and not after asof, each with its sentiment (naive UTC instants)."""
    from servicekpi.store.db import imported_tables
    imported = imported_tables(con) if imported is None else imported
    lo = lo or dt.datetime(1900, 1, 1)
    hi = hi or dt.datetime(2200, 1, 1)
    out: list[dict] = []
    if "feedback" in imported:
        rating = "f.rating" if "rating" in columns(con, "feedback") else "NULL"
        for fid, at, cust, text, rate in con.execute(
                f"""SELECT feedback_id, received_at, customer_id, text, {rating} FROM feedback f
                    WHERE received_at >= ? AND received_at < ? AND received_at <= ? AND text IS NOT NULL
                    ORDER BY received_at, feedback_id""", [lo, hi, asof]).fetchall():
            out.append({"source": "feedback", "id": fid, "at": at, "customer_id": cust, "ticket_id": None,
                        "text": text, "sentiment": classify_feedback(text, rate)})
    if "surveys" in imported:
        for rid, at, cust, ticket, text, unhappy, happy, survey in con.execute(
                f"""SELECT s.response_id, s.responded_at, coalesce(s.customer_id, t.customer_id), s.ticket_id,
                           s.comment, {UNHAPPY}, {HAPPY}, s.survey
                    FROM surveys s LEFT JOIN tickets t ON t.ticket_id = s.ticket_id
                    WHERE s.responded_at >= ? AND s.responded_at < ? AND s.responded_at <= ?
                      AND s.comment IS NOT NULL AND trim(s.comment) <> '' AND NOT coalesce(t.excluded, FALSE)
                    ORDER BY s.responded_at, s.response_id""", [lo, hi, asof]).fetchall():
            out.append({"source": "survey", "id": rid, "at": at, "customer_id": cust, "ticket_id": ticket,
                        "text": text, "sentiment": classify_survey(text, bool(unhappy), bool(happy), survey)})
    return out


def negative_share(rows: list[dict]) -> dict:
    """Negative texts / classified texts x 100 (unclassified left out; null without any classified)."""
    classified = [r for r in rows if r["sentiment"] != "unclassified"]
    negative = sum(1 for r in classified if r["sentiment"] == "negative")
    return {"negative": negative, "classified": len(classified), "texts": len(rows),
            "value": 100 * negative / len(classified) if classified else None}
