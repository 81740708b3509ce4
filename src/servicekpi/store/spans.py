"""The first and last instant of each table's records, kept in the store (sk_spans) by the writes
that change them, so a query's ranges ("ranges follow the data", Engine.spans) do not scan the data.

A table's span is the minimum of its time column and the maximum of its time and later columns
(a ticket resolved after the last creation). The store keeps them over all rows with the import
stamp they were computed at; a query reads them when its as-of instant is at or after every stored
instant (then the as-of filter removes nothing), and scans otherwise (an --as-of in the past).
Every write of a table's records recomputes its span in the write's transaction: an import or
API ingest (ingest/load.py), a text-sentiment refresh, an erase (store/db.py). A kept span whose
stamp differs from the table's import stamp (a write by a version that did not keep spans) is
not used."""
from __future__ import annotations

import datetime as dt

from servicekpi.catalog.sentiment import TABLE as SENTIMENT
from servicekpi.core.model import TABLES

SPANS = "sk_spans"
REFERENCE_TABLES = ("agents",)  # who is who, not records in time: no span
# a table's last record: its time column or a later one (a ticket resolved after the last creation);
# customers' last acquisition or churn
SPAN_ENDS = {"customers": ("acquired_at", "churned_at"),
             "spend": ("period_end",),  # spend covers its dates through period_end
             "agent_sessions": ("login_at", "logout_at")}

Span = tuple[dt.datetime | None, dt.datetime | None]


def columns(name: str) -> tuple[str, tuple[str, ...]]:
    """(time column, the columns whose maximum is the last record) of a table."""
    col = TABLES[name].time if name in TABLES else "written_at"  # derived text_sentiment (SENTIMENT)
    return col, SPAN_ENDS.get(name, (col, *(TABLES[name].later if name in TABLES else ())))


def scan(con, name: str, asof: dt.datetime | None = None) -> Span:
    """The span of the records up to as-of (None: all), read from the table."""
    return _span_of(name, name, asof, lambda q, p: con.execute(q, p))


def _span_of(name: str, source: str, asof: dt.datetime | None, run) -> Span:
    col, ends = columns(name)
    where = " FILTER (WHERE {} <= ?)" if asof is not None else ""
    cols = [f"min({col})" + where.format(col)] + [f"max({c})" + where.format(c) for c in ends]
    params = [asof] * len(cols) if asof is not None else []
    row = run(f"SELECT {', '.join(cols)} FROM {source}", params).fetchall()[0]
    ends_seen = [instant(v) for v in row[1:] if v is not None]
    return instant(row[0]), max(ends_seen) if ends_seen else None


def instant(v) -> dt.datetime | None:
    if v is None or isinstance(v, dt.datetime):
        return v
    return dt.datetime.combine(v, dt.time())


def _exists(con) -> bool:
    return _stored(con, SPANS)


def save(con, tables, force: bool = False) -> None:
    """Recompute and keep the spans of the tables (after a write to them, in its transaction);
    without force, not those kept current by widen (same stamp as the table's)."""
    stored = _stored_names(con)  # one catalog read for every table
    names = sorted(t for t in set(tables) if (t in TABLES or t == SENTIMENT) and t not in REFERENCE_TABLES
                   and t in stored)  # not replies and waits, derived: no query's range reads them
    if not force and names and SPANS in stored:
        names = [n for n in names if n not in _current(con, names)]
    if not names:
        return
    if SPANS not in stored:
        _create(con)
    stamps = dict(con.execute("SELECT table_name, imported_at FROM imported").fetchall())
    for name in names:
        first, last = scan(con, name)
        con.execute(f"INSERT OR REPLACE INTO {SPANS} VALUES (?, ?, ?, ?)", [name, stamps.get(name), first, last])


def _create(con) -> None:
    con.execute(f"CREATE TABLE IF NOT EXISTS {SPANS} (table_name VARCHAR PRIMARY KEY, imported_at TIMESTAMP, "
                "first TIMESTAMP, last TIMESTAMP)")


def current(con, name: str) -> bool:
    """A span is kept for the table and computed at its current import stamp."""
    return _exists(con) and name in _current(con, [name])


def _current(con, names) -> set[str]:
    """Those of the tables whose kept span was computed at their current import stamp (sk_spans exists)."""
    marks = ", ".join("?" for _ in names)
    return {r[0] for r in con.execute(
        f"SELECT s.table_name FROM {SPANS} s JOIN imported i ON i.table_name = s.table_name "
        f"AND i.imported_at = s.imported_at WHERE s.table_name IN ({marks})", list(names)).fetchall()}


def widen(con, name: str, rows: str, run) -> None:
    """After a write that only added the rows of the query `rows` (none replaced or removed) to a
    table whose kept span was current: widen it by theirs, stamped as the write stamps the table
    (current_timestamp, the transaction's start). run(sql) executes a statement that sees the
    importer's staged tables."""
    first, last = _span_of(name, f"({rows})", None, lambda q, p: run(q))
    old_first, old_last = con.execute(f"SELECT first, last FROM {SPANS} WHERE table_name = ?", [name]).fetchall()[0]
    firsts = [x for x in (old_first, first) if x is not None]
    lasts = [x for x in (old_last, last) if x is not None]
    con.execute(f"UPDATE {SPANS} SET first = ?, last = ?, imported_at = current_timestamp WHERE table_name = ?",
                [min(firsts) if firsts else None, max(lasts) if lasts else None, name])


def forget(con, name: str) -> None:
    """The kept span may be wrong after this write: recomputed by save, read by a scan until then."""
    if _exists(con):
        con.execute(f"DELETE FROM {SPANS} WHERE table_name = ?", [name])


def _stored(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name = ?",
                            [name]).fetchall()[0][0])


def _stored_names(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}


def kept(con, tables, asof: dt.datetime) -> dict[str, Span]:
    """The kept spans of the tables that hold for as-of (stamp current, as-of at or after every
    instant); tables missing from the answer must be scanned."""
    if not tables or not _exists(con):
        return {}
    names = sorted(set(tables))
    marks = ", ".join("?" for _ in names)
    rows = con.execute(f"SELECT s.table_name, s.first, s.last FROM {SPANS} s JOIN imported i "
                       f"ON i.table_name = s.table_name AND i.imported_at IS NOT DISTINCT FROM s.imported_at "
                       f"WHERE s.table_name IN ({marks})", names).fetchall()
    out = {}
    for name, first, last in rows:
        if (first is None and last is None) or asof >= max(x for x in (first, last) if x is not None):
            out[name] = (first, last)
    return out


def spans(con, tables, asof: dt.datetime, kept_here: bool = True) -> dict[str, Span]:
    """{table: (first, last) instant of its records up to as-of}, naive UTC; (None, None) when it
    has none. Kept spans where they hold, else a scan; kept_here=False (a Parquet dataset read by
    another engine, which has no sk_spans): always a scan."""
    names = sorted(set(tables) - set(REFERENCE_TABLES))
    found = kept(con, names, asof) if kept_here else {}
    return {name: found[name] if name in found else scan(con, name, asof) for name in names}


def fill(con) -> None:
    """Keep the spans of the imported tables that have none current (a store written before spans
    were kept); `servicekpi rollup` calls it, as rollups are for stores where a scan costs."""
    imported = {r[0] for r in con.execute("SELECT table_name FROM imported").fetchall()}
    save(con, imported - set(kept(con, imported, dt.datetime.max)))
