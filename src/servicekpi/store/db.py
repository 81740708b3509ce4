"""The DuckDB store: schema with a version and migrations, quarantine, erasure."""
from __future__ import annotations

import os
from pathlib import Path

import duckdb

from servicekpi.core.model import SQL_TYPES, TABLES
from servicekpi.store import changes, derive, spans
from servicekpi.store.derive import REPLY_TICKET_COLUMNS

DEFAULT_DB = "servicekpi.duckdb"
SCHEMA_VERSION = 6
# ticket columns copied onto each reply, so reply KPIs slice without a join

# per-ticket facts derived from messages (data-format.md, "Order and replies")
TICKET_FACTS = {
    "has_messages": "BOOLEAN DEFAULT FALSE",
    "msg_first_response_at": "TIMESTAMP",
    "msg_agent_replies": "BIGINT",
    "msg_agents_involved": "BIGINT",
    "msg_customer": "BIGINT",
    "msg_all": "BIGINT",
}
INTERNAL = set(TICKET_FACTS)

# clock columns whose business seconds are stored beside them as "__b_<col>" (business_store.py);
# tickets' first_response_at is the effective one (from messages when the ticket has them)
CLOCKS = {"tickets": ("created_at", "first_response_at", "resolved_at", "escalated_at"),
          "replies": ("start_at", "sent_at"),
          "waits": ("start_at", "replied_at"),
          "calls": ("entered_at", "answered_at")}


def db_path(db: str | os.PathLike | None) -> Path:
    return Path(db or os.environ.get("SERVICEKPI_DB") or DEFAULT_DB)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _v1(con: duckdb.DuckDBPyConnection) -> None:
    for t in TABLES.values():
        cols = ", ".join(f"{quote(c.name)} {SQL_TYPES[c.type]}" for c in t.columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {t.name} ({cols})")
    con.execute(
        """CREATE TABLE IF NOT EXISTS quarantine (
            table_name VARCHAR, source VARCHAR, line BIGINT, line_kind VARCHAR,
            "column" VARCHAR, reason VARCHAR, raw VARCHAR, fingerprint VARCHAR,
            quarantined_at TIMESTAMP DEFAULT current_timestamp)"""
    )


def _v2(con: duckdb.DuckDBPyConnection) -> None:
    for name, decl in TICKET_FACTS.items():
        con.execute(f"ALTER TABLE tickets ADD COLUMN IF NOT EXISTS {name} {decl}")
    con.execute(
        """CREATE TABLE IF NOT EXISTS replies (
            ticket_id VARCHAR, sent_at TIMESTAMP, start_at TIMESTAMP,
            reply_agent_id VARCHAR, ordinal BIGINT)"""
    )


def _v3(con: duckdb.DuckDBPyConnection) -> None:
    """Replies carry their ticket's slicing columns (rebuilt from messages on the next import)."""
    con.execute("DROP TABLE IF EXISTS replies")
    cols = ", ".join(f"{c} {'BOOLEAN' if c == 'excluded' else 'VARCHAR'}" for c in REPLY_TICKET_COLUMNS)
    con.execute(f"""CREATE TABLE replies (ticket_id VARCHAR, sent_at TIMESTAMP, start_at TIMESTAMP,
                    reply_agent_id VARCHAR, ordinal BIGINT, {cols})""")
    if con.execute("SELECT count(*) FROM messages").fetchall()[0][0]:
        derive.refresh(con)


def _v4(con: duckdb.DuckDBPyConnection) -> None:
    """Next-response waits: each customer message waiting after a reply, and the reply ending it."""
    cols = ", ".join(f"{c} {'BOOLEAN' if c == 'excluded' else 'VARCHAR'}" for c in REPLY_TICKET_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS waits (ticket_id VARCHAR, start_at TIMESTAMP, "
                f"replied_at TIMESTAMP, {cols})")
    if con.execute("SELECT count(*) FROM messages").fetchall()[0][0]:
        derive.refresh(con)


def _v5(con: duckdb.DuckDBPyConnection) -> None:
    """Stored business seconds beside the clock columns, and the calendars they were computed for."""
    for table, cols in CLOCKS.items():
        for col in cols:
            con.execute(f'ALTER TABLE {table} ADD COLUMN IF NOT EXISTS "__b_{col}" DOUBLE')
    con.execute("CREATE TABLE IF NOT EXISTS business_stamp (fingerprint VARCHAR, origin DATE, "
                "computed_at TIMESTAMP DEFAULT current_timestamp)")


def _v6(con: duckdb.DuckDBPyConnection) -> None:
    """The optional agents table (display names, teams)."""
    t = TABLES["agents"]
    cols = ", ".join(f"{quote(c.name)} {SQL_TYPES[c.type]}" for c in t.columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS agents ({cols})")


MIGRATIONS = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5, 6: _v6}


def connect(db: str | os.PathLike | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store and bring its schema to the current version."""
    path = db_path(db)
    if read_only and not path.exists():
        con = duckdb.connect(":memory:")
    else:
        con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        if _current(con) < SCHEMA_VERSION:  # one read when current, not two DDL statements
            migrate(con)
    elif path.exists():
        have = schema_version(con)
        if have < SCHEMA_VERSION:
            con.close()
            con = duckdb.connect(str(path))
            con.execute("SET TimeZone = 'UTC'")
            migrate(con)
    return con


def _current(con) -> int:
    """The schema version, 0 for a new file. Asks the catalog first: on a new file a query of the
    missing table would reach DuckDB's Python replacement scan (it finds schema_version, this
    module's function, and fails), not a CatalogException."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
                       "AND database_name = current_database() AND schema_name = 'main'").fetchall()[0][0]:
        return 0
    return schema_version(con)


def schema_version(con) -> int:
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchall()[0]
        return row[0] or 0
    except duckdb.CatalogException:
        return 0


def migrate(con) -> int:
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP DEFAULT current_timestamp)")
    con.execute("CREATE TABLE IF NOT EXISTS imported (table_name VARCHAR PRIMARY KEY, imported_at TIMESTAMP)")
    have = schema_version(con)
    todo = [v for v in sorted(MIGRATIONS) if v > have]
    # a new store gets every version in one transaction (one commit, not one each); an existing one
    # a transaction per version, each kept when a later one fails
    for batch in ([todo] if have == 0 else [[v] for v in todo]):
        con.execute("BEGIN")
        for version in batch:
            MIGRATIONS[version](con)
            con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
        con.execute("COMMIT")
    return schema_version(con)


def imported_tables(con, stamped: bool = False):
    """Tables that received at least one import (others make their KPIs unavailable);
    with stamped=True, {table: last import instant}, which versions compiled queries."""
    try:
        rows = con.execute("SELECT table_name, imported_at FROM imported").fetchall()
    except duckdb.CatalogException:
        rows = []
    return {r[0]: r[1] for r in rows} if stamped else {r[0] for r in rows}


def table_columns(con, table: str) -> list[str]:
    """A table's (or view's) column names in order. From duckdb_columns(), not
    information_schema.columns: the same rows at a quarter of the cost (~1 ms against ~4 ms a
    call, and an import asks several times)."""
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND NOT internal ORDER BY column_index",
        [table]).fetchall()]


def quarantine_rows(con) -> list[dict]:
    cur = con.execute(
        """SELECT table_name AS "table", source, line, line_kind, "column", reason, raw
           FROM quarantine ORDER BY quarantined_at, source, line""")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def erase(con, customer: str | None = None, ticket: str | None = None) -> dict[str, int]:
    """Remove every trace of a customer or a ticket (data-protection requests)."""
    removed: dict[str, int] = {}
    journal = changes.active(con)  # daily rollups are kept: the days the erase changes

    def delete(table: str, where: str, params: list) -> None:
        if journal and table != "quarantine":
            changes.record(con, table, f"SELECT * FROM {table} WHERE {where}", params)
        n = con.execute(f"DELETE FROM {table} WHERE {where}", params).fetchall()[0][0]
        removed[table] = removed.get(table, 0) + n

    con.execute("BEGIN")
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE erase_tickets (ticket_id VARCHAR)")
        if ticket is not None:
            con.execute("INSERT INTO erase_tickets VALUES (?)", [ticket])
        if customer is not None:
            con.execute("INSERT INTO erase_tickets SELECT ticket_id FROM tickets WHERE customer_id = ?", [customer])
            # tickets of the customer that were rejected: their messages' raw rows go too
            con.execute("""INSERT INTO erase_tickets SELECT trim(json_extract_string(raw, '$.ticket_id'))
                FROM quarantine WHERE table_name = 'tickets'
                  AND trim(json_extract_string(raw, '$.customer_id')) = ?""", [customer])
        in_tickets = "ticket_id IN (SELECT ticket_id FROM erase_tickets)"
        for table in ("messages", "replies", "waits", "surveys", "calls", "quality_reviews", "tickets"):
            delete(table, in_tickets, [])
        if customer is not None:
            for name, t in TABLES.items():
                if "customer_id" in t.names:
                    delete(name, "customer_id = ?", [customer])
            # the referrer's id is personal data; the referral itself stays counted
            con.execute("UPDATE customers SET referred_by = 'erased' WHERE referred_by = ?", [customer])
            if journal:
                changes.whole(con, "customers")
        raw_hit = ["trim(json_extract_string(raw, '$.ticket_id')) IN (SELECT ticket_id FROM erase_tickets)"]
        if ticket is not None:
            raw_hit.append("trim(json_extract_string(raw, '$.ticket_id')) = ?")
        params: list = [ticket] if ticket is not None else []
        if customer is not None:
            raw_hit.append("trim(json_extract_string(raw, '$.customer_id')) = ?")
            raw_hit.append("trim(json_extract_string(raw, '$.referred_by')) = ?")
            params += [customer, customer]
        delete("quarantine", " OR ".join(raw_hit), params)
        from servicekpi.store.sentiment import prune
        prune(con)  # the verdicts on erased texts (and their span)
        spans.save(con, [t for t, n in removed.items() if n and t != "quarantine"], force=True)
        con.execute("DROP TABLE erase_tickets")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {k: v for k, v in removed.items() if v}
