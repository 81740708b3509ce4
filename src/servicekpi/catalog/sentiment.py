"""Sentiment of what customers write (table text_sentiment, kept at import: sentiment_store.py)."""
from __future__ import annotations

from servicekpi.catalog.kpi import Kpi, Option, ratio, with_note
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")

TABLE = "text_sentiment"  # built at import by sentiment_store.py
# origin -> (key column, text column, time column)
SOURCES = {"feedback": ("feedback_id", "text", "received_at"),
           "surveys": ("response_id", "comment", "responded_at")}

DIMS = ("origin", "language")
POLARITY = Option("polarity", "negative", choices=("positive", "neutral", "negative"),
                  help="the share of which sentiment (unclassified texts are outside the denominator)")


def texts(ctx):
    """Every non-blank feedback.text and surveys.comment as of the instant, with its verdict:
    origin, key, written_at, language, sentiment, score, text, text_id (origin:key)."""
    verdicts = ctx.sources.ib.table(TABLE)
    parts = []
    for origin, (key, text, at) in SOURCES.items():
        if origin not in ctx.sources.imported:
            continue
        t = ctx.table(origin)
        v = verdicts.filter(verdicts.origin == origin)
        v = v.select(ts_key=v.key, ts_language=v.language, ts_sentiment=v.sentiment, ts_score=v.score)
        j = t.join(v, t[key].cast("string") == v.ts_key)
        parts.append(j.select(origin=ibis.literal(origin, "string"), key=j.ts_key, written_at=j[at].cast("timestamp"),
                              language=j.ts_language, sentiment=j.ts_sentiment, score=j.ts_score,
                              text=j[text].cast("string")))
    u = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    for col in DIMS:
        if col in ctx.where:
            u = u.filter(u[col].isin([v.strip().lower() for v in ctx.where[col]]))
    return u.mutate(text_id=u.origin + ":" + u.key)


def _measures(ctx, o):
    t = ctx.place(texts(ctx), "written_at")
    classified = t.sentiment != "unclassified"
    return ctx.group(t, num=t.count(where=t.sentiment == o["polarity"]), den=t.count(where=classified),
                     unclassified=t.count(where=~classified))


def _rows(ctx, o):
    return ctx.place(texts(ctx), "written_at")


KPIS = [
    Kpi("feedback_sentiment", "quality", "percent", "lower", (TABLE,), TABLE, _measures,
        with_note(ratio(), "unclassified", "unclassified texts left out (no opinion word, or another language)"),
        "texts of the chosen polarity / classified texts x 100 (feedback.text and surveys.comment; "
        "unclassified texts are outside the denominator)",
        shape="custom", attribution="received_at (feedback) / responded_at (surveys)", rows_time="written_at",
        options=(POLARITY,), allowed_dims=DIMS, rows=_rows, rows_order="text_id"),
]
