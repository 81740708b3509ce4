"""text_sentiment: the classifier's verdict on each feedback text and survey comment, kept at import
time (sentiment.py runs in Python; the KPI is then a plain SQL aggregate on any engine).

One row per (origin, key) whose text is not blank: origin 'feedback' (key feedback_id, feedback.text)
or 'surveys' (key response_id, surveys.comment), at (received_at / responded_at), the text's md5,
language, sentiment, score and the classifier version. A refresh classifies only the rows whose text
is new or changed; a changed classifier version (code, word lists, packages) reclassifies all.
After an import that kept the rows it wrote (WRITTEN, see collect), a refresh compares those rows
only: a text no import wrote cannot have changed, so the stored texts are not read again.
"""
from __future__ import annotations

import pyarrow as pa

from servicekpi.catalog.sentiment import SOURCES, TABLE
from servicekpi.core.sentiment import classifier_version, classify
from servicekpi.store import spans

DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (origin VARCHAR, key VARCHAR, written_at TIMESTAMP, text_hash VARCHAR, "
       "language VARCHAR, sentiment VARCHAR, score DOUBLE, version VARCHAR)")
SAME = "c.origin = t.origin AND c.key = t.key AND c.text_hash = t.text_hash"
WRITTEN = "sentiment_written"  # the texts' rows an import wrote: origin, key, written_at, text_hash, text


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


def collect(con, origin: str, rows: str, run) -> None:
    """Keep the texts' rows an import writes to `origin` (feedback or surveys): `rows`, a query of
    their columns that run(sql) executes (it sees the importer's staged tables). refresh reads them."""
    key, text, at = SOURCES[origin]
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {WRITTEN} (origin VARCHAR, key VARCHAR, written_at TIMESTAMP, "
                "text_hash VARCHAR, text VARCHAR)")
    run(f"INSERT INTO {WRITTEN} SELECT '{origin}', CAST({key} AS VARCHAR), {at}, md5({text}), {text} FROM ({rows})")


def _written(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                            [WRITTEN]).fetchall()[0][0])


def refresh(con) -> dict[str, int]:
    """Bring text_sentiment up to date (inside the caller's transaction); returns counts done.
    With the rows an import wrote kept (collect) and every verdict of the current classifier,
    only those rows are compared; else every stored text."""
    origins = [o for o in SOURCES if o in _imported(con)]
    written = _written(con)
    if not origins:
        if written:
            con.execute(f"DROP TABLE {WRITTEN}")
        return {"classified": 0, "removed": 0}
    version = classifier_version()
    if written and _exists(con) and not con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {TABLE} WHERE version IS DISTINCT FROM ? LIMIT 1)",
            [version]).fetchall()[0][0]:
        out = _refresh_written(con, version)
    else:
        out = _refresh_all(con, origins, version)
    if written:
        con.execute(f"DROP TABLE {WRITTEN}")
    return out


def _refresh_all(con, origins: list[str], version: str) -> dict[str, int]:
    con.execute(DDL)
    current = _current(origins)
    removed = con.execute(f"DELETE FROM {TABLE} t WHERE t.version IS DISTINCT FROM ? OR NOT EXISTS "
                          f"(SELECT 1 FROM ({current}) c WHERE {SAME})", [version]).fetchall()[0][0]
    con.execute(f"UPDATE {TABLE} t SET written_at = c.written_at FROM ({current}) c WHERE {SAME} AND t.written_at IS DISTINCT FROM c.written_at")
    todo = con.sql(f"SELECT c.origin, c.key, c.written_at, c.text_hash, c.text FROM ({current}) c "
                       f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} t WHERE {SAME})").to_arrow_table()
    _insert(con, todo, version)
    con.execute("INSERT OR REPLACE INTO imported VALUES (?, current_timestamp)", [TABLE])
    spans.save(con, {TABLE}, force=True)
    return {"classified": todo.num_rows, "removed": removed}


def _refresh_written(con, version: str) -> dict[str, int]:
    """The verdicts of the keys in WRITTEN brought up to date, as _refresh_all would (no other
    key's text changed). Lookups of the stored verdicts are inner joins or semi joins built on the
    written rows, so DuckDB skips the stored row groups outside their keys' range."""
    current = f"SELECT * FROM {WRITTEN} WHERE nullif(trim(text), '') IS NOT NULL"
    span = spans.current(con, TABLE)  # before this write moves the table's stamp
    removed = con.execute(f"""DELETE FROM {TABLE} t WHERE (t.origin, t.key) IN (SELECT origin, key FROM {WRITTEN})
        AND NOT EXISTS (SELECT 1 FROM ({current}) c WHERE {SAME})""").fetchall()[0][0]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE sk_sentiment_kept AS SELECT c.origin, c.key, c.written_at,
        c.text_hash, t.written_at IS DISTINCT FROM c.written_at AS moved FROM ({current}) c JOIN {TABLE} t ON {SAME}""")
    moved = con.execute("SELECT count(*) FROM sk_sentiment_kept WHERE moved").fetchall()[0][0]
    if moved:
        con.execute(f"""UPDATE {TABLE} t SET written_at = c.written_at FROM sk_sentiment_kept c
            WHERE c.moved AND {SAME}""")
    todo = con.sql(f"""SELECT c.origin, c.key, c.written_at, c.text_hash, c.text FROM ({current}) c
        WHERE NOT EXISTS (SELECT 1 FROM sk_sentiment_kept t WHERE {SAME})""").to_arrow_table()
    con.execute("DROP TABLE sk_sentiment_kept")
    _insert(con, todo, version)
    con.execute("INSERT OR REPLACE INTO imported VALUES (?, current_timestamp)", [TABLE])
    if span and not removed and not moved:  # verdicts only added: the kept span widens by theirs
        con.register("sk_sentiment_todo", todo)
        spans.widen(con, TABLE, "SELECT * FROM sk_sentiment_todo", run=con.sql)
        con.unregister("sk_sentiment_todo")
    else:
        spans.save(con, {TABLE}, force=True)
    return {"classified": todo.num_rows, "removed": removed}


def _insert(con, todo: pa.Table, version: str) -> None:
    if todo.num_rows:
        con.register("sk_sentiment_new", _classified(todo, version))
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM sk_sentiment_new")
        con.unregister("sk_sentiment_new")


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
