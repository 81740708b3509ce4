"""The checks of an import's staged rows: duplicate keys (in a file and across the files or chunks of one
import), a message's ticket, the quarantine; and how their statements find a stream's Arrow tables."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from servicekpi.core.model import Table
from servicekpi.ingest import validate
from servicekpi.store.db import quote


def sql(con, query: str, params: list | None = None, *, stage: pa.Table | None = None,
        chk: pa.Table | None = None, matched: pa.Table | None = None):
    """Runs query (its result fetched from what this returns), where the Arrow tables given as stage, chk
    and matched are found by those names: DuckDB's replacement scan of the local variables of the frame that
    calls it, this one (con.sql, not con.execute, which a wrapper of the connection may define). A catalog
    table or view of the same name comes first, so a checked file's `chk` is a temp table dropped when the
    file is done."""
    return con.sql(query, params=params or None)


def to_arrow(con, query: str, *, stage: pa.Table | None = None, chk: pa.Table | None = None,
             matched: pa.Table | None = None) -> pa.Table:
    """query's rows as an Arrow table; stage, chk and matched as in sql."""
    return con.sql(query).to_arrow_table()


def chk(con, arrow: dict, query: str, chunk: bool) -> None:
    """The checked rows, `chk`: an Arrow table in arrow['chk'] for a chunk, else a temp table. query may read
    the previous chk."""
    if chunk:
        arrow["chk"] = to_arrow(con, query, **arrow)
    else:
        sql(con, f"CREATE OR REPLACE TEMP TABLE chk_next AS {query}", **arrow)
        con.execute("DROP TABLE IF EXISTS chk")
        con.execute("ALTER TABLE chk_next RENAME TO chk")


def key_match(a: str, b: str, key: tuple[str, ...]) -> str:
    return " AND ".join(f"{a}.{quote(k)} = {b}.{quote(k)}" for k in key)


def reject(col: str, when: str, reason: str) -> str:
    """The end of a SELECT * list: __col and __reason set to col and reason where `when` holds, else kept."""
    return (f"REPLACE (CASE WHEN {when} THEN {validate.lit(col)} ELSE __col END AS __col, "
            f"CASE WHEN {when} THEN {reason} ELSE __reason END AS __reason)")


def repeats_a_key(con, arrow: dict, table: Table) -> bool:
    keys = ", ".join(quote(k) for k in table.key)
    nonnull = " AND ".join(f"{quote(k)} IS NOT NULL" for k in table.key)
    return bool(sql(con, f"SELECT count(*) FROM (SELECT 1 FROM chk WHERE {nonnull} GROUP BY {keys} "
                          "HAVING count(*) > 1 LIMIT 1)", **arrow).fetchall()[0][0])


def with_duplicates(query: str, table: Table, kind: str) -> str:
    """query's rows, a key repeated among them rejected but at its first (smallest) line."""
    keys = ", ".join(quote(k) for k in table.key)
    nonnull = " AND ".join(f"{quote(k)} IS NOT NULL" for k in table.key)
    what = validate.lit(f"duplicate {', '.join(table.key)}, first seen at {kind} ")
    dup = f"({nonnull}) AND __n > 1 AND __line > __first"
    return (f"SELECT * EXCLUDE (__first, __n) {reject(table.key[0], dup, f'{what} || CAST(__first AS VARCHAR)')} "
            f"FROM (SELECT *, min(__line) OVER k AS __first, count(*) OVER k AS __n FROM ({query}) "
            f"WINDOW k AS (PARTITION BY {keys}))")


SEEN_SOURCES = "seen_sources"  # the sources named in the seen_* tables, by number


def reject_seen(con, arrow: dict, table: Table, source: str, kind: str, chunk: bool) -> None:
    """A key already imported from another file (or chunk) of the same import is a duplicate too."""
    keys = ", ".join(quote(k) for k in table.key)
    seen = f"seen_{table.name}"
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {SEEN_SOURCES} (id INTEGER, name VARCHAR)")
    name = f"{Path(source).name} {kind}"
    found = con.execute(f"SELECT id FROM {SEEN_SOURCES} WHERE name = ?", [name]).fetchall()
    if found:
        src = found[0][0]
    else:
        src = con.execute(f"SELECT count(*) FROM {SEEN_SOURCES}").fetchall()[0][0]
        con.execute(f"INSERT INTO {SEEN_SOURCES} VALUES (?, ?)", [src, name])
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {seen} AS SELECT {keys}, 0::INTEGER AS src, 0::BIGINT AS line "
                f"FROM {table.name} WHERE FALSE")
    first = validate.lit(f"duplicate {', '.join(table.key)}, first seen at ")
    hit = "__reason IS NULL AND __seen_line IS NOT NULL"
    chk(con, arrow, f"""SELECT * EXCLUDE (__seen_src, __seen_line)
        {reject(table.key[0], hit, f"{first} || __seen_src || ' ' || __seen_line")}
        FROM (SELECT c.*, ss.name AS __seen_src, s.line AS __seen_line FROM chk c
              LEFT JOIN {seen} s ON {key_match('c', 's', table.key)}
              LEFT JOIN {SEEN_SOURCES} ss ON ss.id = s.src)""", chunk)
    sql(con, f"INSERT INTO {seen} SELECT {keys}, ?, __line FROM chk WHERE __reason IS NULL", [src], **arrow)


def tickets_checked(query: str, tickets: str = "tickets") -> str:
    """query's messages, a valid one rejected when its ticket (in `tickets`, a table or a relation of
    ticket_id, created_at) is missing or created after it."""
    missing = "__reason IS NULL AND __t_id IS NULL"
    early = "__reason IS NULL AND __t_id IS NOT NULL AND sent_at < __t_created"
    return f"""SELECT * EXCLUDE (__t_id, __t_created) REPLACE (
            CASE WHEN {missing} THEN 'ticket_id' WHEN {early} THEN 'sent_at' ELSE __col END AS __col,
            CASE WHEN {missing} THEN 'ticket ''' || ticket_id
                                     || ''' is not in tickets (import the ticket in the same import or before)'
                 WHEN {early} THEN 'sent_at ' || CAST(sent_at AS VARCHAR) || ' is before its ticket''s created_at '
                                   || CAST(__t_created AS VARCHAR) || ' (UTC)'
                 ELSE __reason END AS __reason)
        FROM (SELECT c.*, t.ticket_id AS __t_id, t.created_at AS __t_created
              FROM ({query}) c LEFT JOIN {tickets} t ON t.ticket_id = c.ticket_id)"""


def quarantine(con, arrow: dict, table: Table, source: str, kind: str, columns: list[str]) -> None:
    raw = validate.raw_json(columns)
    fp = f"md5({validate.lit(table.name)} || __col || __reason || __raw)"
    sql(con, f"""INSERT INTO quarantine (table_name, source, line, line_kind, "column", reason, raw, fingerprint)
        SELECT ?, ?, __line, ?, __col, __reason, __raw, {fp} FROM (
            SELECT c.__line, c.__col, c.__reason, {raw} AS __raw
            FROM chk c JOIN stage s ON s.__line = c.__line WHERE c.__reason IS NOT NULL)
        WHERE {fp} NOT IN (SELECT fingerprint FROM quarantine)""", [table.name, source, kind], **arrow)
