"""text_sentiment: the classifier's verdict on each feedback text and survey comment, kept at import
time (sentiment.py runs in Python; the KPI is then a plain SQL aggregate on any engine).

One row per (origin, key) whose text is not blank: origin 'feedback' (key feedback_id, feedback.text)
or 'surveys' (key response_id, surveys.comment), at (received_at / responded_at), the text's md5,
language, sentiment, score and the classifier version. A refresh classifies only the rows whose text
is new or changed; a changed classifier version (code, word lists, packages) reclassifies all.
"""
from __future__ import annotations

import pyarrow as pa

from servicekpi.catalog.sentiment import SOURCES, TABLE
from servicekpi.core.sentiment import classifier_version, classify
from servicekpi.store import spans

DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (origin VARCHAR, key VARCHAR, written_at TIMESTAMP, text_hash VARCHAR, "
       "language VARCHAR, sentiment VARCHAR, score DOUBLE, version VARCHAR)")
SAME = "c.origin = t.origin AND c.key = t.key AND c.text_hash = t.text_hash"


def _imported(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM imported").fetchall()}


def _exists(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = ?",
                            [TABLE]).fetchall()[0][0])


def _current(origins: list[str]) -> str:
    """The texts as stored now (names from SOURCES only, never user input)."""
    parts = [f"SELECT '{o}' AS origin, CAST({k} AS VARCHAR) AS key, {at} AS written_at, md5({x}) AS text_hash, {x} AS text "
             f"FROM {o} WHERE nullif(trim({x}), '') IS NOT NULL" for o, (k, x, at) in SOURCES.items() if o in origins]
    return " UNION ALL ".join(parts)


def needs_refresh(con, touched: set[str]) -> bool:
    """After an import that touched feedback or surveys, or when the table was never built."""
    return bool(touched & set(SOURCES)) or (not _exists(con) and bool(_imported(con) & set(SOURCES)))


def refresh(con) -> dict[str, int]:
    """Bring text_sentiment up to date (inside the caller's transaction); returns counts done."""
    origins = [o for o in SOURCES if o in _imported(con)]
    if not origins:
        return {"classified": 0, "removed": 0}
    con.execute(DDL)
    version = classifier_version()
    current = _current(origins)
    removed = con.execute(f"DELETE FROM {TABLE} t WHERE t.version IS DISTINCT FROM ? OR NOT EXISTS "
                          f"(SELECT 1 FROM ({current}) c WHERE {SAME})", [version]).fetchall()[0][0]
    con.execute(f"UPDATE {TABLE} t SET written_at = c.written_at FROM ({current}) c WHERE {SAME} AND t.written_at IS DISTINCT FROM c.written_at")
    todo = con.sql(f"SELECT c.origin, c.key, c.written_at, c.text_hash, c.text FROM ({current}) c "
                       f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} t WHERE {SAME})").to_arrow_table()
    if todo.num_rows:
        con.register("sk_sentiment_new", _classified(todo, version))
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM sk_sentiment_new")
        con.unregister("sk_sentiment_new")
    con.execute("INSERT OR REPLACE INTO imported VALUES (?, current_timestamp)", [TABLE])
    spans.save(con, {TABLE}, force=True)
    return {"classified": todo.num_rows, "removed": removed}


def _classified(todo: pa.Table, version: str) -> pa.Table:
    """The verdicts for new texts; a text repeated ("Thanks!") is classified once."""
    seen: dict[str, tuple] = {}
    langs, sents, scores = [], [], []
    for h, text in zip(todo.column("text_hash").to_pylist(), todo.column("text").to_pylist()):
        v = seen.get(h)
        if v is None:
            verdict = classify(text)
            v = seen[h] = (verdict.language, verdict.sentiment, verdict.score)
        langs.append(v[0])
        sents.append(v[1])
        scores.append(v[2])
    return pa.table({
        "origin": todo.column("origin"), "key": todo.column("key"), "written_at": todo.column("written_at"),
        "text_hash": todo.column("text_hash"), "language": pa.array(langs, pa.string()),
        "sentiment": pa.array(sents, pa.string()), "score": pa.array(scores, pa.float64()),
        "version": pa.array([version] * todo.num_rows, pa.string())})


def prune(con) -> None:
    """Drop the verdicts of texts erased from their table (store.erase)."""
    if not _exists(con):
        return
    for origin, (key, _, _) in SOURCES.items():
        con.execute(f"DELETE FROM {TABLE} t WHERE t.origin = ? AND NOT EXISTS "
                    f"(SELECT 1 FROM {origin} s WHERE CAST(s.{key} AS VARCHAR) = t.key)", [origin])
    spans.save(con, {TABLE}, force=True)
