"""Business seconds stored at import, so hours=business reads a column instead of a calendar join.

Each clock column (store.CLOCKS) has a "__b_<col>" beside it: B(instant) of the row's calendar,
counted from the stamp's origin date (business.py). The stamp holds a fingerprint of the calendars;
a query uses the stored columns only when it matches the current config, and falls back to the
hour-table join otherwise. An import fills the rows whose column is NULL (new or replaced rows,
tickets whose first reply moved); changed calendars, or data older than the origin, recompute all.
A NULL instant stores -1 (Sources nulls it again), so "not computed yet" is exactly IS NULL, which
DuckDB answers from row-group statistics without reading a fully computed column.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from importlib.metadata import version
from typing import Callable

import duckdb

from servicekpi.core import calendars as calendar_mod
from servicekpi.core.calendars import Calendars
from servicekpi.core.lazy import lazy
from servicekpi.core.sql_files import DiskSqlCache, code_version
from servicekpi.store.db import CLOCKS

ibis = lazy("ibis")

STAMP = "business_stamp"
# the instant each stored column is computed on (tickets: the effective first reply)
SOURCE = {("tickets", "first_response_at"):
          "CASE WHEN coalesce(has_messages, FALSE) THEN msg_first_response_at ELSE first_response_at END"}
VALUE_OF = {("tickets", "first_response_at"): ("msg_first_response_at", "first_response_at")}  # SOURCE's results
CALENDAR_COLUMNS = ("queue", "team", "channel")


@cache
def _holidays_version() -> str:
    return version("holidays")  # a metadata lookup (~10 ms): once per process, not per query


def fingerprint(cals: Calendars) -> str:
    """Identifies the calendars (and the holidays package that expands holiday_country)."""
    parts = [_holidays_version()]
    for c in cals.all:
        parts.append(repr((c.name, c.timezone, sorted(c.week.items()), sorted(c.holidays), c.holiday_country,
                           c.teams, c.channels, c.queues)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def origin(con, cals: Calendars) -> dt.date | None:
    """The stored columns' origin when they were computed for these calendars, else None."""
    try:
        rows = con.execute(f"SELECT fingerprint, origin FROM {STAMP}").fetchall()
    except duckdb.CatalogException:
        return None
    if len(rows) == 1 and rows[0][0] == fingerprint(cals):
        return rows[0][1]
    return None


def _tables(con) -> dict[str, tuple[str, ...]]:
    have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    return {t: cols for t, cols in CLOCKS.items() if t in have}


def _types(con, tables) -> dict[str, dict[str, str]]:
    """{table: {column: type}} of the clock tables, in one catalog read."""
    out: dict[str, dict[str, str]] = {t: {} for t in tables}
    for t, c, typ in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND database_name = current_database() AND NOT internal ORDER BY table_name, column_index").fetchall():
        if t in out:
            out[t][c] = typ
    return out


def _instant(table: str, col: str) -> str:
    return SOURCE.get((table, col), col)


def _pending(con, tables: dict) -> list[tuple[str, str]]:
    """(table, column) pairs with rows not computed yet."""
    pairs = [(t, c) for t, cols in tables.items() for c in cols]
    if not pairs:
        return []
    # one statement for every column (each a LIMIT 1 probe), not one statement each
    probes = " UNION ALL ".join(f'(SELECT {i} FROM {t} WHERE "__b_{c}" IS NULL LIMIT 1)' for i, (t, c) in enumerate(pairs))
    found = {r[0] for r in con.execute(probes).fetchall()}
    return [p for i, p in enumerate(pairs) if i in found]


def _bounds(con, pending: list) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Earliest and latest instant among the rows not computed yet (one statement for every column)."""
    if not pending:
        return None, None
    parts = " UNION ALL ".join(
        f'SELECT min({_instant(t, c)}) AS lo, max({_instant(t, c)}) AS hi FROM {t} '
        f'WHERE {_instant(t, c)} IS NOT NULL AND "__b_{c}" IS NULL' for t, c in pending)
    return tuple(con.execute(f"SELECT min(lo), max(hi) FROM ({parts})").fetchall()[0])


# chunks (half-years): a wider span is tabled only in the chunks that hold instants. Finding them
# scans every clock column (0.8 s a column at 10M rows, measured), more than a dense table of up to
# ten years costs; past that, an outlier (a 1970 placeholder among 2026 data) costs decades of rows
SPARSE_AFTER = 20


def wide(first: dt.date, last: dt.date) -> bool:
    """Whether an hour table over first..last is worth tabling sparsely (calendars.hour_table)."""
    return (last - first).days * 1440 > SPARSE_AFTER * calendar_mod.CHUNK_MINUTES


def instant_chunks(con, selects: list[tuple[str, str, str]]) -> set[int]:
    """calendars.chunk_of() of every non-null instant `expr` of `table` (rows matching `where`, SQL
    text of ours, never the user's), computed in SQL: one DISTINCT per column."""
    ms = float(calendar_mod.CHUNK_MINUTES * 60_000)
    out: set[int] = set()
    for table, expr, where in selects:
        out.update(r[0] for r in con.execute(
            f"SELECT DISTINCT CAST(floor(epoch_ms({expr}) / ?) AS BIGINT) FROM {table} "
            f"WHERE {expr} IS NOT NULL{where}", [ms]).fetchall())
    return out


def refresh(con, cals: Calendars, progress: Callable[[str], None] | None = None, own_transaction: bool = True) -> str:
    """Fill the stored business seconds for the current calendars; returns what was done
    ("none", "incremental" or "full"). Runs in its own transaction unless the caller holds one."""
    tables = _tables(con)
    if not tables:
        return "none"
    fp = fingerprint(cals)
    if own_transaction:
        con.execute("BEGIN")
    try:
        try:
            stamp = con.execute(f"SELECT fingerprint, origin FROM {STAMP}").fetchall()
        except duckdb.CatalogException:
            raise RuntimeError("the store predates schema 5; open it read-write once to migrate") from None
        pending = _pending(con, tables)
        lo, hi = _bounds(con, pending)
        full = len(stamp) != 1 or stamp[0][0] != fp or (lo is not None and lo.date() < stamp[0][1])
        if full:  # rows already without a value (a first import's) are not rewritten
            cleared = 0
            for table, cols in tables.items():
                cleared += con.execute(f"UPDATE {table} SET " + ", ".join(f'"__b_{c}" = NULL' for c in cols)
                                       + " WHERE " + " OR ".join(f'"__b_{c}" IS NOT NULL' for c in cols)
                                       ).fetchall()[0][0]
            if cleared:  # else nothing changed since the look above
                pending = _pending(con, tables)
                lo, hi = _bounds(con, pending)
        today = dt.datetime.now(dt.timezone.utc).date()
        if not pending:
            if full:  # no rows yet
                _stamp(con, fp, today)
            if own_transaction:
                con.execute("COMMIT")
            return "full" if full else "none"
        first = (lo.date() if lo is not None else today) if full else stamp[0][1]
        last = max(first, hi.date() if hi is not None else first)
        # a wide span (a 1970 placeholder among 2026 rows, or new rows decades after the origin) is
        # tabled only where the pending instants are; the counts between are exact all the same
        chunks = frozenset(instant_chunks(con, [(t, _instant(t, c), f' AND "__b_{c}" IS NULL') for t, c in pending])
                           ) if wide(first, last) else None
        con.register("sk_store_hours", cals.hour_table(first, last, chunks))
        types = _types(con, {t for t, _ in pending})
        for table, col in pending:
            if progress:
                progress(f"business seconds: {table}.{col}")
            _fill(con, table, col, cals, fp, types[table])
        if full:
            _stamp(con, fp, first)
        if own_transaction:
            con.execute("COMMIT")
    except BaseException:
        if own_transaction:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:  # DuckDB ended the transaction itself (a failed write): show the first error
                pass
        raise
    finally:
        try:
            con.unregister("sk_store_hours")
        except Exception:  # noqa: BLE001 - nothing registered
            pass
    return "full" if full else "incremental"


def _stamp(con, fp: str, first: dt.date) -> None:
    con.execute(f"DELETE FROM {STAMP}")
    con.execute(f"INSERT INTO {STAMP} (fingerprint, origin) VALUES (?, ?)", [fp, first])


_SQL: dict[tuple, str] = {}  # (sk_pending's columns and types, calendars) -> the B query (compiling costs)


def _fill(con, table: str, col: str, cals: Calendars, fp: str, types: dict[str, str]) -> None:
    """UPDATE the pending rows of one column. Both sides filter on IS NULL, so DuckDB skips, from
    row-group statistics, every row group without pending rows (a small write costs little at 10M).
    types: the table's {column: type}."""
    keep = tuple(c for c in CALENDAR_COLUMNS if c in types)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW sk_pending AS
        SELECT rowid AS __rid, {_instant(table, col)} AS __v{''.join(', ' + c for c in keep)} FROM {table}
        WHERE "__b_{col}" IS NULL""")
    shape = _shape(con, table, col, keep, types)
    con.execute(f'UPDATE {table} SET "__b_{col}" = n.b FROM ({_b_sql(con, cals, fp, shape)}) n '
                f'WHERE {table}."__b_{col}" IS NULL AND {table}.rowid = n.__rid')
    con.execute("DROP VIEW sk_pending")


def _shape(con, table: str, col: str, keep: tuple, types: dict[str, str]) -> tuple:
    """sk_pending's (column, type) pairs, from the table's types (a stored column's instant has its
    type); DESCRIBE only for an instant computed from columns of other types."""
    of = {types.get(c) for c in VALUE_OF.get((table, col), (col,))}
    if len(of) != 1 or None in of:
        return tuple((r[0], r[1]) for r in con.execute("DESCRIBE sk_pending").fetchall())
    return (("__rid", "BIGINT"), ("__v", of.pop()), *((c, types[c]) for c in keep))


def _b_sql(con, cals: Calendars, fp: str, shape: tuple) -> str:
    """The query of (__rid, b) over sk_pending and sk_store_hours: from this process, else from the
    store's compiled-SQL files (no Ibis imported), else compiled. The key holds all it is built from:
    the code, sk_pending's columns and types (shape: the calendar columns its table has) and the
    calendars (their fingerprint); clock columns with the same pending view share one query."""
    key = (shape, fp)
    if key in _SQL:
        return _SQL[key]
    disk = DiskSqlCache.beside(con)
    disk_key = "business\n" + "\n".join([code_version(), ",".join(f"{n} {t}" for n, t in shape), fp])
    kept = disk.get(disk_key) if disk else None
    if kept and kept[0]:
        _SQL[key] = kept[0]
        return kept[0]
    from servicekpi.core.business_sql import business_seconds, calendar_key  # Ibis UDFs: on first use
    ib = ibis.duckdb.from_connection(con)
    t = ib.table("sk_pending")
    t = t.mutate(__cal=calendar_key(t, cals))
    t = business_seconds(t, ib.table("sk_store_hours"), "__v")
    b = ibis.ifelse(t["__v"].isnull(), ibis.literal(-1.0), t["__b___v"])  # -1: no instant
    _SQL[key] = ibis.to_sql(t.select("__rid", b=b), dialect="duckdb")
    if disk:
        disk.put(disk_key, _SQL[key], ())
    return _SQL[key]
