"""Import files into the store: validate, quarantine, idempotent upsert, one transaction."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pyarrow as pa

from .. import derive
from ..model import TABLES, Table
from ..store import INTERNAL, quote, table_columns
from . import readers, validate
from .readers import FileError


MEMORY_LIMIT = "3GB"
# tables whose rows the derived facts are made of, and the temp table of the tickets an import
# touched in them (derive.refresh recomputes those only)
DERIVED_FROM = ("tickets", "messages")
TOUCHED = derive.TOUCHED


@dataclass
class FileResult:
    source: str
    table: str | None
    imported: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # the first rejections, located


@dataclass
class ImportResult:
    files: list[FileResult] = field(default_factory=list)
    committed: bool = False
    unread: list[str] = field(default_factory=list)  # source files a connector could not read

    def total(self, what: str) -> int:
        return sum(getattr(f, what) for f in self.files)

    @property
    def file_errors(self) -> list[FileResult]:
        return [f for f in self.files if f.error]

    def summary(self) -> str:
        return (f"imported {self.total('imported')}, replaced {self.total('replaced')}, "
                f"unchanged {self.total('unchanged')}, rejected {self.total('rejected')} rows"
                + (f"; {len(self.file_errors)} file(s) rejected" if self.file_errors else ""))


def plan(path: Path, table: str | None) -> list[tuple[Path, str | None, str | None]]:
    """(file, table or None, error) in import order: tickets before messages."""
    if not path.exists():
        raise FileError(str(path), "no such file or folder")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and readers.fmt_of(p))
        if not files:
            raise FileError(str(path), "no data files here (expected <table>.csv|jsonl|json|parquet|xlsx)")
    else:
        files = [path]
    out = []
    for f in files:
        name = table if (table and not path.is_dir()) else f.stem.strip().lower()
        if name in TABLES:
            out.append((f, name, None))
        else:
            near = difflib.get_close_matches(name, TABLES, n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else f" (expected one of: {', '.join(TABLES)})"
            out.append((f, None, f"unknown table name '{name}'{hint}"))
    order = list(TABLES)
    return sorted(out, key=lambda x: (order.index(x[1]) if x[1] else -1, str(x[0])))


def run(con, path: Path, table: str | None = None, strict: bool = False, encoding: str | None = None,
        tz: str = "UTC", progress: Callable[[str], None] | None = None) -> ImportResult:
    items = [(str(f), name, error, (lambda f=f: readers.read(f, encoding))) for f, name, error in plan(path, table)]
    return transaction(con, items, strict, tz, progress)


@dataclass
class Batch:
    """Rows a connector converted into one canonical table, located in their source."""
    table: str
    source: str  # the source file (or dsn/table) the rows came from
    data: pa.Table  # canonical column names; values as strings or typed
    lines: list[int] | pa.Array  # line, row or item number of each row in the source
    line_kind: str = "item"
    # a streaming connector's progress: bytes of its input read when this chunk was made, of total_bytes
    done_bytes: int | None = None
    total_bytes: int | None = None

    def loaded(self) -> readers.Loaded:
        lines = self.lines if isinstance(self.lines, pa.Array) else pa.array(self.lines, pa.int64())
        return readers.Loaded(self.data, lines, self.line_kind)


def run_batches(con, batches: Iterable[Batch], strict: bool = False, tz: str = "UTC",
                progress: Callable[[str], None] | None = None,
                unread: Callable[[], list[str]] | None = None) -> ImportResult:
    """Import connector output with the same validation, quarantine and upsert as files.

    A list is imported in table order; an iterator (a streaming connector) is consumed as it
    comes, one chunk in memory at a time, with duplicates checked across all its chunks.
    unread: the source files the connector could not read; with strict, any rolls back."""
    def item(b: Batch):
        return b.source, b.table, None if b.table in TABLES else f"unknown table '{b.table}'", b.loaded
    if isinstance(batches, list):
        order = list(TABLES)
        items = [item(b) for b in sorted(batches, key=lambda b: order.index(b.table) if b.table in TABLES else -1)]
        return transaction(con, items, strict, tz, progress, unread=unread)
    return transaction(con, (item(b) for b in batches), strict, tz, progress, track_all=True, unread=unread)


def transaction(con, items: Iterable, strict: bool, tz: str, progress: Callable[[str], None] | None,
                track_all: bool = False, unread: Callable[[], list[str]] | None = None) -> ImportResult:
    """items: (source, table or None, error or None, () -> Loaded), all imported in one transaction.
    A table fed by several items is checked for keys repeated across them (track_all: every table)."""
    result = ImportResult()
    # bounded memory: DuckDB spills big sorts and joins to disk instead of growing
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    if track_all:
        several = set(TABLES)
    else:
        items = list(items)
        several = {n for n in TABLES if sum(1 for _, t, e, _ in items if t == n and not e) > 1}
    con.execute("BEGIN")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (ticket_id VARCHAR)")
        touched: set[str] = set()
        for source, name, error, read in items:
            if progress:
                progress(source)
            fr = FileResult(source, name, error=error)
            result.files.append(fr)
            if error:
                continue
            try:
                _load(con, TABLES[name], read(), fr, tz, track=name in several)
                touched.add(name)
            except FileError as e:
                fr.error = e.reason
        if touched & set(DERIVED_FROM):
            derive.refresh(con)  # the tickets in TOUCHED
        con.execute(f"DROP TABLE {TOUCHED}")
        con.execute("DROP TABLE IF EXISTS chk")
        for name in several:
            con.execute(f"DROP TABLE IF EXISTS seen_{name}")
        if unread:
            result.unread = unread()
        if strict and (result.total("rejected") or result.file_errors or result.unread):
            con.execute("ROLLBACK")
            return result
        con.execute("COMMIT")
        result.committed = True
        return result
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _load(con, table: Table, loaded: readers.Loaded, fr: FileResult, tz: str, track: bool = False) -> None:
    names = [n.strip() for n in loaded.columns]
    missing = [c.name for c in table.columns if c.required and c.name not in names]
    if missing:
        raise FileError(fr.source, f"{loaded.line_kind} 1: required column(s) missing: {', '.join(missing)} "
                                   f"(the header has: {', '.join(names) or 'nothing'})")
    known = set(table.names)
    extras = []
    for n in names:
        if n in known:
            continue
        if n and n not in INTERNAL and not n.startswith("__"):
            extras.append(n)
        else:
            fr.notes.append(f"column '{n}' ignored (not a usable column name)")
    keep = [(orig, n) for orig, n in zip(loaded.columns, names) if n in known or n in extras]
    if loaded.parquet is not None:
        con.register("stage_src", con.read_parquet(str(loaded.parquet), file_row_number=True))
        cols = ", ".join(f"{quote(orig)} AS {quote(n)}" for orig, n in keep)
        con.execute(f"CREATE OR REPLACE TEMP VIEW stage AS SELECT {cols}, file_row_number + 1 AS __line FROM stage_src")
    else:
        data = loaded.data.select([orig for orig, _ in keep]).rename_columns([n for _, n in keep])
        con.register("stage", data.append_column("__line", loaded.lines))
    types = {r[0]: r[1] for r in con.execute("DESCRIBE stage").fetchall() if r[0] != "__line"}
    con.execute(f"CREATE OR REPLACE TEMP TABLE chk AS {validate.build(table, types, extras, tz, 'stage')}")
    _reject_duplicates(con, table, loaded.line_kind)
    if track:
        _reject_seen(con, table, fr.source, loaded.line_kind)
    if table.name == "messages":
        _check_tickets(con)
    for x in extras:
        con.execute(f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {quote(x)} VARCHAR")
    fr.rejected = con.execute("SELECT count(*) FROM chk WHERE __reason IS NOT NULL").fetchall()[0][0]
    if fr.rejected:
        fr.reasons = [f"{fr.source} {loaded.line_kind} {line}, column {col}: {reason}" for line, col, reason in
                      con.execute("SELECT __line, __col, __reason FROM chk WHERE __reason IS NOT NULL "
                                  "ORDER BY __line LIMIT 5").fetchall()]
    if fr.rejected:
        _quarantine(con, table, fr.source, loaded.line_kind, [n for n in types])
    _drop_stage(con, loaded)
    _upsert(con, table, extras, fr)
    con.execute("INSERT OR REPLACE INTO imported VALUES (?, current_timestamp)", [table.name])


def _drop_stage(con, loaded: readers.Loaded) -> None:
    if loaded.parquet is not None:
        con.execute("DROP VIEW stage")
        con.unregister("stage_src")
    else:
        con.unregister("stage")


def _key_match(a: str, b: str, key: tuple[str, ...]) -> str:
    return " AND ".join(f"{a}.{quote(k)} = {b}.{quote(k)}" for k in key)


def _reject_duplicates(con, table: Table, kind: str) -> None:
    keys = ", ".join(quote(k) for k in table.key)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE dups AS SELECT {keys}, min(__line) AS first
        FROM chk WHERE {' AND '.join(f'{quote(k)} IS NOT NULL' for k in table.key)}
        GROUP BY ALL HAVING count(*) > 1""")
    if con.execute("SELECT count(*) FROM dups").fetchall()[0][0]:
        what = validate.lit(f"duplicate {', '.join(table.key)}, first seen at {kind} ")
        con.execute(f"""UPDATE chk SET __col = {validate.lit(table.key[0])},
            __reason = {what} || CAST(d.first AS VARCHAR)
            FROM dups d WHERE {_key_match('chk', 'd', table.key)} AND chk.__line > d.first""")
    con.execute("DROP TABLE dups")


def _reject_seen(con, table: Table, source: str, kind: str) -> None:
    """A key already imported from another file of the same import is a duplicate too."""
    keys = ", ".join(quote(k) for k in table.key)
    seen = f"seen_{table.name}"
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {seen} AS SELECT {keys}, '' AS src, 0::BIGINT AS line "
                f"FROM {table.name} WHERE FALSE")
    con.execute(f"""UPDATE chk SET __col = {validate.lit(table.key[0])},
        __reason = {validate.lit(f"duplicate {', '.join(table.key)}, first seen at ")} || s.src || ' ' || s.line
        FROM {seen} s WHERE {_key_match('chk', 's', table.key)} AND chk.__reason IS NULL""")
    con.execute(f"INSERT INTO {seen} SELECT {keys}, ?, __line FROM chk WHERE __reason IS NULL",
                [f"{Path(source).name} {kind}"])


def _check_tickets(con) -> None:
    con.execute("""UPDATE chk SET __col = 'ticket_id',
        __reason = 'ticket ''' || chk.ticket_id || ''' is not in tickets (import the ticket in the same import or before)'
        WHERE __reason IS NULL AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.ticket_id = chk.ticket_id)""")
    con.execute("""UPDATE chk SET __col = 'sent_at',
        __reason = 'sent_at ' || CAST(chk.sent_at AS VARCHAR) || ' is before its ticket''s created_at '
                   || CAST(t.created_at AS VARCHAR) || ' (UTC)'
        FROM tickets t WHERE __reason IS NULL AND t.ticket_id = chk.ticket_id AND chk.sent_at < t.created_at""")


def _quarantine(con, table: Table, source: str, kind: str, columns: list[str]) -> None:
    raw = validate.raw_json(columns)
    fp = f"md5({validate.lit(table.name)} || __col || __reason || __raw)"
    con.execute(f"""INSERT INTO quarantine (table_name, source, line, line_kind, "column", reason, raw, fingerprint)
        SELECT ?, ?, __line, ?, __col, __reason, __raw, {fp} FROM (
            SELECT c.__line, c.__col, c.__reason, {raw} AS __raw
            FROM chk c JOIN stage s ON s.__line = c.__line WHERE c.__reason IS NOT NULL)
        WHERE {fp} NOT IN (SELECT fingerprint FROM quarantine)""", [table.name, source, kind])


def _upsert(con, table: Table, extras: list[str], fr: FileResult) -> None:
    cols = table.names + extras
    collist = ", ".join(quote(c) for c in cols)
    valid = f"(SELECT {collist} FROM chk WHERE __reason IS NULL)"
    n_valid = con.execute(f"SELECT count(*) FROM {valid}").fetchall()[0][0]
    if not n_valid:
        return
    touch = table.name in DERIVED_FROM  # the callers made TOUCHED; they refresh and drop it
    if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT 1)").fetchall()[0][0]:
        if touch:
            con.execute(f"INSERT INTO {TOUCHED} SELECT DISTINCT ticket_id FROM {valid}")
        con.execute(f"INSERT INTO {table.name} ({collist}) SELECT {collist} FROM {valid}")
        fr.imported = n_valid
        return
    stored = set(table_columns(con, table.name))
    same = " AND ".join(f"v.{quote(c)} IS NOT DISTINCT FROM s.{quote(c)}" for c in cols if c in stored)
    keys = ", ".join(f"v.{quote(k)}" for k in table.key)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE matched AS SELECT {keys}, ({same}) AS same
        FROM {valid} v JOIN {table.name} s ON {_key_match('v', 's', table.key)}""")
    existing, unchanged = con.execute("SELECT count(*), count(*) FILTER (WHERE same) FROM matched").fetchall()[0]
    if touch:  # the tickets of the rows replaced (a message may move to another ticket) and inserted
        con.execute(f"""INSERT INTO {TOUCHED} SELECT DISTINCT s.ticket_id FROM {table.name} s
            JOIN matched m ON {_key_match('m', 's', table.key)} WHERE NOT m.same""")
        con.execute(f"""INSERT INTO {TOUCHED} SELECT DISTINCT v.ticket_id FROM {valid} v
            WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.same AND {_key_match('m', 'v', table.key)})""")
    con.execute(f"""DELETE FROM {table.name} s WHERE EXISTS (
        SELECT 1 FROM matched m WHERE NOT m.same AND {_key_match('m', 's', table.key)})""")
    con.execute(f"""INSERT INTO {table.name} ({collist}) SELECT {collist} FROM {valid} v
        WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.same AND {_key_match('m', 'v', table.key)})""")
    con.execute("DROP TABLE matched")
    fr.imported, fr.replaced, fr.unchanged = n_valid - existing, existing - unchanged, unchanged


def arrow_ingest(con, table_name: str, data: pa.Table, source: str, tz: str = "UTC") -> FileResult:
    """Import rows already in memory (API ingest, connectors), in the caller's transaction."""
    fr = FileResult(source, table_name)
    lines = pa.array(range(1, data.num_rows + 1), pa.int64())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (ticket_id VARCHAR)")
    _load(con, TABLES[table_name], readers.Loaded(data, lines, "item"), fr, tz)
    if table_name in DERIVED_FROM:
        derive.refresh(con)  # the tickets in TOUCHED
    con.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
    con.execute("DROP TABLE IF EXISTS chk")
    return fr
