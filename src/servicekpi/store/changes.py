"""A journal of what writes change, kept only while daily rollups exist (engine/rollups.py), so a
refresh recomputes the days a write touched without scanning the store. Each write (import, API
ingest, erase) records, for the rows it adds and the rows it replaces or removes (old images),
the 15-minute UTC slot of every instant, and for tickets and messages the ticket ids (a ticket's
or message's change reaches rows on other days through the ticket). A change that cannot be
placed in days (a dimension table's row) is recorded as the whole table."""
from __future__ import annotations

from collections.abc import Callable

from servicekpi.core.model import TABLES

JOURNAL = "sk_changes"
SLOT_MINUTES = 15  # every zone's UTC offset is a multiple of 15 minutes: a slot lies in one local day
LINKED = ("tickets", "messages")  # tables whose changed ticket ids are recorded


def start(con) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {JOURNAL} (tbl VARCHAR, slot TIMESTAMP, ticket_id VARCHAR, "
                "whole BOOLEAN DEFAULT FALSE)")


def stop(con) -> None:
    con.execute(f"DROP TABLE IF EXISTS {JOURNAL}")


def active(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [JOURNAL]).fetchall()[0][0])


def _instants(con, table: str, stored: bool = False) -> list[str]:
    """The instant columns of a table: canonical ones, or every stored one (derived ones too)."""
    if table in TABLES and not stored:
        return [c.name for c in TABLES[table].columns if c.type == "timestamp"]
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type LIKE 'TIMESTAMP%' "
        "AND NOT starts_with(column_name, '__')", [table]).fetchall()]


def record(con, table: str, rows: str, params: list | None = None,
           run: Callable[[str, list | None], object] | None = None) -> None:
    """Journal the rows of the query `rows` (with the table's columns) as changed; run executes a
    statement (the importer passes its own, which sees its staged Arrow tables)."""
    run = run or (lambda q, p: con.execute(q, p or []))
    cols = _instants(con, table)
    if cols:
        run(f"INSERT INTO {JOURNAL} (tbl, slot) SELECT DISTINCT '{table}', s FROM "
            f"(SELECT unnest([{_slots(cols)}]) AS s FROM ({rows})) WHERE s IS NOT NULL", params)
    else:
        whole(con, table)
    if table in LINKED:
        run(f"INSERT INTO {JOURNAL} (tbl, ticket_id) SELECT DISTINCT '{table}', ticket_id FROM ({rows}) "
            "WHERE ticket_id IS NOT NULL", params)


def _slots(cols: list[str]) -> str:
    return ", ".join(f"time_bucket(INTERVAL {SLOT_MINUTES} MINUTE, CAST(\"{c}\" AS TIMESTAMP))" for c in cols)


def ticket_slots(con, table: str) -> list:
    """The slots of every instant of the rows of `table` that belong to a journaled ticket: with the
    old images journaled, every day a value derived from a ticket and its messages was placed in."""
    cols = _instants(con, table, stored=True)
    if not cols or "ticket_id" not in {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]).fetchall()}:
        return []
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT s FROM (SELECT unnest([{_slots(cols)}]) AS s FROM {table} WHERE ticket_id IN "
        f"(SELECT ticket_id FROM {JOURNAL} WHERE ticket_id IS NOT NULL)) WHERE s IS NOT NULL").fetchall()]


def whole(con, table: str) -> None:
    """Any row of the table may have changed."""
    con.execute(f"INSERT INTO {JOURNAL} (tbl, whole) VALUES (?, TRUE)", [table])


def pending(con) -> bool:
    """Changes journaled since the last refresh (rollups enabled by an older version: no journal)."""
    return active(con) and bool(con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {JOURNAL} LIMIT 1)").fetchall()[0][0])


def clear(con) -> None:
    con.execute(f"DELETE FROM {JOURNAL}")
