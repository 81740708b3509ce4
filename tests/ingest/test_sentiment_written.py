"""After an import, text_sentiment is refreshed from the rows the import wrote (sentiment.collect,
_refresh_written), not from every stored text (issue 17: the refresh read and hashed every stored
text on each import). It must keep what a refresh over every stored text keeps, its span included."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

from servicekpi.ingest.load import Batch, run_batches
from servicekpi.store import db as store
from servicekpi.store import sentiment, spans


def feedback(*rows: tuple[str, str, str | None]) -> Batch:
    """(feedback_id, received_at day of October, text)"""
    return Batch("feedback", "feedback", pa.table({
        "feedback_id": [r[0] for r in rows], "received_at": [f"2026-10-{r[1]}T10:00:00Z" for r in rows],
        "text": [r[2] for r in rows]}), list(range(1, len(rows) + 1)))


def surveys(*rows: tuple[str, str, str]) -> Batch:
    """(response_id, responded_at day of October, comment): CSAT 4 of 1-5"""
    return Batch("surveys", "surveys", pa.table({
        "response_id": [r[0] for r in rows], "survey": ["csat"] * len(rows), "score": ["4"] * len(rows),
        "responded_at": [f"2026-10-{r[1]}T10:00:00Z" for r in rows], "comment": [r[2] for r in rows]}),
        list(range(1, len(rows) + 1)))


STEPS = [
    [feedback(("F1", "01", "The agent was rude."), ("F2", "02", "Thanks, great help!"), ("F3", "03", "ok")),
     surveys(("S1", "02", "Slow answer."))],
    # new texts only: the kept span widens
    [feedback(("F4", "20", "Terrible wait.")), surveys(("S2", "21", "Lovely."))],
    # F1 (the first text) blanked, F2 changed to F1's old text, F3 moved to another day with the
    # same text, S1 unchanged, F5 new
    [feedback(("F1", "01", "  "), ("F2", "02", "The agent was rude."), ("F3", "25", "ok"),
              ("F5", "26", "Bad."))],
]


def table(con) -> list[tuple]:
    return con.execute("SELECT * FROM text_sentiment ORDER BY ALL").fetchall()


def test_a_refresh_from_the_written_rows_keeps_what_a_full_refresh_keeps(tmp_path, monkeypatch):
    calls = []
    real = sentiment._refresh_written
    monkeypatch.setattr(sentiment, "_refresh_written", lambda *a: (calls.append(1), real(*a))[1])
    con = store.connect(tmp_path / "s.duckdb")
    for n, step in enumerate(STEPS):
        result = run_batches(con, step)
        assert result.committed and not result.total("rejected")
        assert len(calls) == n  # the first import builds the table over every text; the next ones the written rows
        kept = table(con)
        span = spans.kept(con, [sentiment.TABLE], dt.datetime(2100, 1, 1))  # the kept span, read not scanned
        con.execute("BEGIN")
        con.execute(f"DELETE FROM {sentiment.TABLE}")
        sentiment.refresh(con)  # no rows kept: every stored text classified again
        assert table(con) == kept, f"after step {n + 1}"
        assert span[sentiment.TABLE] == spans.scan(con, sentiment.TABLE)
        con.execute("ROLLBACK")
        if n == 0:
            rude = {k: s for _, k, _, _, _, s, _, _ in kept}["F1"]
    verdicts = {(o, k): (at.day, s) for o, k, at, _, _, s, _, _ in table(con)}
    # F1 blanked has no verdict (the kept span now starts with S1, on the 2nd); F3 moved to the
    # 25th; S1 kept; F2 has F1's first verdict
    assert set(verdicts) == {("feedback", "F2"), ("feedback", "F3"), ("feedback", "F4"), ("feedback", "F5"),
                             ("surveys", "S1"), ("surveys", "S2")}
    assert verdicts[("feedback", "F3")][0] == 25
    assert verdicts[("feedback", "F2")][1] == rude
    assert spans.scan(con, sentiment.TABLE)[0].day == 2
