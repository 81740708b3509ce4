"""Import files into the store: validate, quarantine, idempotent upsert, one transaction."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import pyarrow as pa

from servicekpi.core.model import TABLES, Table
from servicekpi.ingest import checks, headers, readers, validate
from servicekpi.ingest.readers import FileError
from servicekpi.store import changes, derive, spans
from servicekpi.store import sentiment as sentiment_store
from servicekpi.store.db import quote, table_columns

MEMORY_LIMIT = "3GB"
# a streamed import (a connector's chunks, any size of input) keeps DuckDB's share of memory small: what
# grows with the input (the keys seen, the rows written) spills to the store's temp directory instead
STREAM_MEMORY_LIMIT = "512MB"
# tables whose rows the derived facts are made of, and the temp table of the tickets an import
# touched in them (derive.refresh recomputes those only)
DERIVED_FROM = ("tickets", "messages")
TOUCHED = derive.TOUCHED
NEW_TICKETS = derive.NEW  # tickets an import adds, checked, until derive inserts them with their facts
NEW_MESSAGES = derive.NEW_MESSAGES  # their messages, when the store held messages before the import
DEFER_FIRST_TICKETS = True  # False: a first import takes the general path (tests compare the two)
DEFER_NEW_TICKETS = True  # False: an import into a store with messages takes the general path (the same)


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
    business: str | None = None  # what the stored business seconds step did (ingest.run)
    # stored tickets whose derived facts were read back and recomputed (tickets added are not)
    recomputed: int = 0

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
        tz: str = "UTC", progress: Callable[[str], None] | None = None, agents=None,
        instants: tuple | None = None) -> ImportResult:
    items = [(str(f), name, error, (lambda f=f: readers.read(f, encoding))) for f, name, error in plan(path, table)]
    return transaction(con, items, strict, tz, progress, agents=agents, instants=instants)


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
                unread: Callable[[], list[str]] | None = None, agents=None,
        instants: tuple | None = None) -> ImportResult:
    """Import connector output with the same validation, quarantine and upsert as files.

    A list is imported in table order; an iterator (a streaming connector) is consumed as it
    comes, one chunk in memory at a time, with duplicates checked across all its chunks.
    unread: the source files the connector could not read; with strict, any rolls back."""
    def item(b: Batch):
        return b.source, b.table, None if b.table in TABLES else f"unknown table '{b.table}'", b.loaded
    if isinstance(batches, list):
        order = list(TABLES)
        items = [item(b) for b in sorted(batches, key=lambda b: order.index(b.table) if b.table in TABLES else -1)]
        return transaction(con, items, strict, tz, progress, unread=unread, agents=agents, instants=instants)
    return transaction(con, (item(b) for b in batches), strict, tz, progress, track_all=True, unread=unread,
                       agents=agents, instants=instants)


class _UnreadParquet(Exception):
    """A Parquet file failed to decode inside the import's transaction (which DuckDB then aborts)."""


def transaction(con, items: Iterable, strict: bool, tz: str, progress: Callable[[str], None] | None,
                track_all: bool = False, unread: Callable[[], list[str]] | None = None,
                agents=None,
        instants: tuple | None = None) -> ImportResult:
    """items: (source, table or None, error or None, () -> Loaded), all imported in one transaction.
    agents: agents.AgentRules applied to every agent_id imported (the workspace's [agents]).
    A table fed by several items is checked for keys repeated across them (track_all: every table).

    Parquet files are read by DuckDB inside the transaction, where a file that fails to decode would
    abort the whole import. A list of items is imported at once, and only if a Parquet file fails is
    it rolled back and imported again with every Parquet file decoded first, outside the transaction
    (headers.check_parquet): a corrupt file is then one located file rejection, as it would have
    been, and a good import does not decode its files twice. A stream is checked first always."""
    if track_all:
        return _transaction(con, items, strict, tz, progress, track_all, unread, agents, instants, precheck=True)
    items = list(items)
    try:
        return _transaction(con, items, strict, tz, progress, track_all, unread, agents, instants, precheck=False)
    except _UnreadParquet:  # rolled back
        return _transaction(con, items, strict, tz, progress, track_all, unread, agents, instants, precheck=True)


def _transaction(con, items: Iterable, strict: bool, tz: str, progress: Callable[[str], None] | None,
                 track_all: bool, unread: Callable[[], list[str]] | None, agents, instants: tuple | None,
                 precheck: bool) -> ImportResult:
    """transaction(); precheck: each Parquet file is decoded before it is read in the transaction."""
    result = ImportResult()
    # bounded memory: DuckDB spills big sorts and joins to disk instead of growing
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET memory_limit = '{STREAM_MEMORY_LIMIT if track_all else MEMORY_LIMIT}'")
    if track_all:
        several = set(TABLES)
    else:
        items = list(items)
        several = {n for n in TABLES if sum(1 for _, t, e, _ in items if t == n and not e) > 1}
    con.execute("BEGIN")
    try:
        con.execute(f"DROP TABLE IF EXISTS {sentiment_store.WRITTEN}")  # kept by collect, read by refresh
        # no messages before this import: every ticket's facts are new, so derive rebuilds them all
        # (the same result as the touched ones, without matching 'ticket_id IN touched' row by row):
        # without the TOUCHED table, derive.refresh(con) rebuilds every ticket
        first_messages = _empty(con, "messages")
        # tickets the store does not hold yet are kept checked, not inserted, until the messages are
        # derived: then inserted once with their facts (derive.refresh_new, refresh_added), not updated
        # after. Into a store with messages, their messages are kept aside too (NEW_MESSAGES), so their
        # facts read no stored row: the import's cost follows its own rows, not the store's
        can_defer = not track_all and "tickets" not in several and not changes.active(con)
        if first_messages:
            defer = DEFER_FIRST_TICKETS and can_defer and _empty(con, "tickets")
        else:
            defer = DEFER_NEW_TICKETS and can_defer
        new_tickets = False  # tickets held back in NEW_TICKETS
        if first_messages:
            con.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (ticket_id VARCHAR)")
            if defer:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {NEW_MESSAGES} AS SELECT {derive.MESSAGE_COLUMNS} "
                            "FROM messages WHERE FALSE")
        touched: set[str] = set()
        written: set[str] = set()  # tables an item was loaded into (a file failing part-way too)
        for source, name, error, read in items:
            if progress:
                progress(source)
            fr = FileResult(source, name, error=error)
            result.files.append(fr)
            if error:
                continue
            loaded = None
            written.add(name)
            try:
                loaded = read()
                kept = _load(con, TABLES[name], loaded, fr, tz, track=name in several, chunk=track_all,
                             agents=agents, instants=instants, collect=not first_messages, precheck=precheck,
                             defer=defer and name == "tickets", new_tickets=new_tickets,
                             aside=defer and not first_messages)
                new_tickets = new_tickets or kept
                touched.add(name)
            except FileError as e:
                fr.error = e.reason
            except duckdb.Error:
                if loaded is not None and loaded.parquet is not None and not precheck:
                    raise _UnreadParquet(source) from None  # rolled back below; transaction() checks and retries
                raise
        if new_tickets or touched & set(DERIVED_FROM):
            # the tickets in TOUCHED (every ticket on a first import of messages); those held back in
            # NEW_TICKETS inserted with their facts
            result.recomputed = derive.refresh(con)
        con.execute(f"DROP TABLE IF EXISTS {NEW_TICKETS}")
        con.execute(f"DROP TABLE IF EXISTS {NEW_MESSAGES}")
        if sentiment_store.needs_refresh(con, touched):
            sentiment_store.refresh(con)  # text_sentiment: new or changed texts classified
        spans.save(con, written)  # each table's first and last record, read by every query's ranges
        con.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
        con.execute(f"DROP TABLE IF EXISTS {sentiment_store.WRITTEN}")
        con.execute("DROP TABLE IF EXISTS chk")
        for name in several:
            con.execute(f"DROP TABLE IF EXISTS seen_{name}")
        con.execute(f"DROP TABLE IF EXISTS {checks.SEEN_SOURCES}")
        if unread:
            result.unread = unread()
        if strict and (result.total("rejected") or result.file_errors or result.unread):
            con.execute("ROLLBACK")
            return result
        con.execute("COMMIT")
        result.committed = True
        return result
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # DuckDB ended the transaction itself (a failed write): show the first error
            pass
        raise


def _empty(con, table: str) -> bool:
    return not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0][0]


def _load(con, table: Table, loaded: readers.Loaded, fr: FileResult, tz: str, track: bool = False,
          chunk: bool = False, agents=None, instants: tuple | None = None, collect: bool = True,
          precheck: bool = True, defer: bool = False, new_tickets: bool = False, aside: bool = False) -> bool:
    """chunk: the rows are one chunk of a stream (checked in Arrow, see below). collect: the tickets
    touched go to TOUCHED (not when derive rebuilds every ticket anyway: a first import of messages).
    precheck: a Parquet file is decoded first, outside the transaction (see transaction()).
    defer: tickets not stored yet are kept checked in NEW_TICKETS, not inserted (derive.refresh
    inserts them; returns True), the others upserted. new_tickets: messages' tickets may be in
    NEW_TICKETS. aside: those tickets' messages go to NEW_MESSAGES too."""
    names = headers.canonical(loaded.columns, table, fr.source, loaded.line_kind)
    missing = [c.name for c in table.columns if c.required and c.name not in names]
    if missing:
        raise FileError(fr.source, f"{loaded.line_kind} 1: required column(s) missing: {', '.join(missing)} "
                                   f"(the header has: {', '.join(names) or 'nothing'})")
    known = set(table.names)
    extras = []
    stored_as = {c.lower(): c for c in table_columns(con, table.name)}
    for i, n in enumerate(names):
        if n in known:
            continue
        why = headers.unusable(n)
        if why is None:
            names[i] = n = stored_as.get(n.lower(), n)  # an extra keeps the spelling it was stored with
            extras.append(n)
        else:
            fr.notes.append(f"column {headers.shown(n)} ignored ({why})")
    keep = [(orig, n) for orig, n in zip(loaded.columns, names) if n in known or n in extras]
    # DuckDB keeps every view registered and every temp table made in a transaction until the transaction
    # ends. So the chunks of a stream, any number in one transaction, are staged and checked as Arrow tables
    # that the statements name (`stage`, `chk`, `matched`, see _sql), not registered views and temp tables:
    # else the import would grow with its input. A file (read whole, or a Parquet file read by DuckDB) is
    # staged as a registered view and checked in a temp table, which DuckDB can spill.
    arrow: dict[str, pa.Table] = {}
    if precheck and loaded.parquet is not None:
        headers.check_parquet(loaded.parquet)
    if agents and loaded.parquet is not None and "agent_id" in names:  # read through Arrow to apply [agents]
        whole = con.read_parquet(str(loaded.parquet)).to_arrow_table()
        loaded = readers.Loaded(whole, pa.array(range(1, whole.num_rows + 1), pa.int64()), loaded.line_kind)
    in_memory = loaded.parquet is None
    chunk = chunk and in_memory
    if not in_memory:
        con.register("stage_src", con.read_parquet(str(loaded.parquet), file_row_number=True))
        cols = ", ".join(f"{quote(orig)} AS {quote(n)}" for orig, n in keep)
        con.execute(f"CREATE OR REPLACE TEMP VIEW stage AS SELECT {cols}, file_row_number + 1 AS __line FROM stage_src")
    else:
        data = loaded.data.select([orig for orig, _ in keep]).rename_columns([n for _, n in keep])
        if agents:  # the one place every source's rows pass: agent ids made one per person
            data = agents.apply(data)
        staged = data.append_column("__line", loaded.lines)
        if chunk:
            arrow["stage"] = staged
        else:
            con.register("stage", staged)
    types = {r[0]: r[1] for r in checks.sql(con, "DESCRIBE stage", **arrow).fetchall() if r[0] != "__line"}
    checked = validate.build(table, types, extras, tz, 'stage', instants)
    # a message's ticket is checked in the same pass, unless keys seen in other files come first (their
    # reason wins over a missing ticket); a duplicate's reason wins either way
    tickets_now = table.name == "messages" and not track
    tickets_rel = (f"(SELECT ticket_id, created_at FROM tickets UNION ALL "
                   f"SELECT ticket_id, created_at FROM {NEW_TICKETS} WHERE __reason IS NULL)") if new_tickets \
        else "tickets"
    checks.chk(con, arrow, checks.tickets_checked(checked, tickets_rel) if tickets_now else checked, chunk)
    if checks.repeats_a_key(con, arrow, table):  # a second pass only then (a window over every row costs)
        checks.chk(con, arrow, checks.with_duplicates("SELECT * FROM chk", table, loaded.line_kind), chunk)
    if track:
        checks.reject_seen(con, arrow, table, fr.source, loaded.line_kind, chunk)
    if table.name == "messages" and not tickets_now:
        checks.chk(con, arrow, checks.tickets_checked("SELECT * FROM chk", tickets_rel), chunk)
    for x in extras:
        con.execute(f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {quote(x)} VARCHAR")
    fr.rejected = checks.sql(con, "SELECT count(*) FROM chk WHERE __reason IS NOT NULL", **arrow).fetchall()[0][0]
    if fr.rejected:
        fr.reasons = [f"{fr.source} {loaded.line_kind} {line}, column {col}: {reason}" for line, col, reason in
                      checks.sql(con, "SELECT __line, __col, __reason FROM chk WHERE __reason IS NOT NULL "
                                "ORDER BY __line LIMIT 5", **arrow).fetchall()]
    if fr.rejected:
        checks.quarantine(con, arrow, table, fr.source, loaded.line_kind, [n for n in types])
    if not in_memory:
        con.execute("DROP VIEW stage")
        con.unregister("stage_src")
    elif not chunk:
        con.unregister("stage")
    arrow.pop("stage", None)
    kept = False
    if defer and not chunk and _empty(con, table.name):  # every valid row is new: inserted with their facts later
        fr.imported = con.execute("SELECT count(*) FROM chk WHERE __reason IS NULL").fetchall()[0][0]
        con.execute(f"ALTER TABLE chk RENAME TO {NEW_TICKETS}")
        kept = True
        spans.forget(con, table.name)  # scanned at the transaction's end, once derive inserted them
    else:
        span = spans.current(con, table.name)  # the kept span held before this write
        held = 0
        if defer and not chunk:  # the tickets not stored yet held back, the others upserted
            held = _hold_new_tickets(con)
            kept = True
        _upsert(con, arrow, table, extras, fr, chunk, collect)
        fr.imported += held
        if span and not fr.replaced:  # rows only added: the span widens by theirs, no scan of the table
            spans.widen(con, table.name, "SELECT * FROM chk WHERE __reason IS NULL", run=lambda q: checks.sql(con, q, **arrow))
            if held:
                spans.widen(con, table.name, f"SELECT * FROM {NEW_TICKETS}", run=con.sql)
        else:  # rows replaced (an old one may have been the first or last): the transaction's end rescans
            spans.forget(con, table.name)
        if table.name in sentiment_store.SOURCES:  # the texts written: their verdicts are refreshed
            sentiment_store.collect(con, table.name, "SELECT * FROM chk WHERE __reason IS NULL",
                                    run=lambda q: checks.sql(con, q, **arrow))
        if new_tickets and table.name == "messages" and aside:
            con.execute(f"""INSERT INTO {NEW_MESSAGES} SELECT {derive.MESSAGE_COLUMNS} FROM chk c
                WHERE __reason IS NULL AND EXISTS (SELECT 1 FROM {NEW_TICKETS} n WHERE n.ticket_id = c.ticket_id)""")
        if not chunk:
            con.execute("DROP TABLE chk")
    con.execute("INSERT OR REPLACE INTO imported VALUES (?, current_timestamp)", [table.name])
    return kept


def _hold_new_tickets(con) -> int:
    """Moves the checked tickets whose ticket_id is not stored from chk to NEW_TICKETS (a lookup of
    their ids in the stored tickets); returns how many."""
    # an inner join first: DuckDB builds on the checked rows and skips the stored row groups outside
    # their ids' range (an anti join would build on every stored ticket)
    con.execute("""CREATE OR REPLACE TEMP TABLE stored_ids AS SELECT c.ticket_id FROM chk c
        JOIN tickets s ON s.ticket_id = c.ticket_id WHERE c.__reason IS NULL""")
    con.execute(f"""CREATE TEMP TABLE {NEW_TICKETS} AS SELECT * FROM chk c WHERE __reason IS NULL
        AND NOT EXISTS (SELECT 1 FROM stored_ids s WHERE s.ticket_id = c.ticket_id)""")
    con.execute("DROP TABLE stored_ids")
    held = con.execute(f"SELECT count(*) FROM {NEW_TICKETS}").fetchall()[0][0]
    if held:
        con.execute(f"DELETE FROM chk WHERE __reason IS NULL AND ticket_id IN (SELECT ticket_id FROM {NEW_TICKETS})")
    return held


def _upsert(con, arrow: dict, table: Table, extras: list[str], fr: FileResult, chunk: bool,
            collect: bool = True) -> None:
    cols = table.names + extras
    collist = ", ".join(quote(c) for c in cols)
    valid = f"(SELECT {collist} FROM chk WHERE __reason IS NULL)"
    n_valid = checks.sql(con, f"SELECT count(*) FROM {valid}", **arrow).fetchall()[0][0]
    if not n_valid:
        return
    touch = collect and table.name in DERIVED_FROM  # the callers made TOUCHED; they refresh and drop it
    journal = changes.active(con)  # daily rollups are kept: the days and tickets this write changes

    def record(rows: str) -> None:
        changes.record(con, table.name, rows, run=lambda q, p: checks.sql(con, q, p, **arrow))
    if _empty(con, table.name):
        if journal:
            record(f"SELECT * FROM {valid}")
        if touch:
            checks.sql(con, f"INSERT INTO {TOUCHED} SELECT DISTINCT ticket_id FROM {valid}", **arrow)
        checks.sql(con, f"INSERT INTO {table.name} ({collist}) SELECT {collist} FROM {valid}", **arrow)
        fr.imported = n_valid
        return
    stored = set(table_columns(con, table.name))
    same = " AND ".join(f"v.{quote(c)} IS NOT DISTINCT FROM s.{quote(c)}" for c in cols if c in stored)
    keys = ", ".join(f"v.{quote(k)}" for k in table.key)
    matched = f"SELECT {keys}, ({same}) AS same FROM {valid} v JOIN {table.name} s ON {checks.key_match('v', 's', table.key)}"
    if chunk:  # like chk: not a temp table per chunk of a stream
        arrow = dict(arrow, matched=checks.to_arrow(con, matched, **arrow))
    else:
        checks.sql(con, f"CREATE OR REPLACE TEMP TABLE matched AS {matched}", **arrow)
    existing, unchanged = checks.sql(con, "SELECT count(*), count(*) FILTER (WHERE same) FROM matched",
                               **arrow).fetchall()[0]
    if touch:  # the tickets of the rows replaced (a message may move to another ticket) and inserted
        checks.sql(con, f"""INSERT INTO {TOUCHED} SELECT DISTINCT s.ticket_id FROM {table.name} s
            JOIN matched m ON {checks.key_match('m', 's', table.key)} WHERE NOT m.same""", **arrow)
        checks.sql(con, f"""INSERT INTO {TOUCHED} SELECT DISTINCT v.ticket_id FROM {valid} v
            WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.same AND {checks.key_match('m', 'v', table.key)})""", **arrow)
    if journal:  # the old rows replaced and the rows written
        if existing > unchanged:
            record(f"SELECT s.* FROM {table.name} s JOIN matched m ON {checks.key_match('m', 's', table.key)} WHERE NOT m.same")
        record(f"SELECT * FROM {valid} v WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.same AND "
               f"{checks.key_match('m', 'v', table.key)})")
    if existing > unchanged:  # rows that changed (a scan of the whole table, so only then)
        checks.sql(con, f"""DELETE FROM {table.name} s WHERE EXISTS (
            SELECT 1 FROM matched m WHERE NOT m.same AND {checks.key_match('m', 's', table.key)})""", **arrow)
    if unchanged:
        checks.sql(con, f"""INSERT INTO {table.name} ({collist}) SELECT {collist} FROM {valid} v
            WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.same AND {checks.key_match('m', 'v', table.key)})""", **arrow)
    else:
        checks.sql(con, f"INSERT INTO {table.name} ({collist}) SELECT {collist} FROM {valid}", **arrow)
    if not chunk:
        con.execute("DROP TABLE matched")
    fr.imported, fr.replaced, fr.unchanged = n_valid - existing, existing - unchanged, unchanged


def arrow_ingest(con, table_name: str, data: pa.Table, source: str, tz: str = "UTC", agents=None,
                 instants: tuple | None = None) -> FileResult:
    """Import rows already in memory (API ingest, connectors), in the caller's transaction.
    instants: the workspace's valid range (config [instants]; None = the default)."""
    fr = FileResult(source, table_name)
    lines = pa.array(range(1, data.num_rows + 1), pa.int64())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCHED} (ticket_id VARCHAR)")
    _load(con, TABLES[table_name], readers.Loaded(data, lines, "item"), fr, tz, agents=agents, instants=instants)
    if table_name in DERIVED_FROM:
        derive.refresh(con)  # the tickets in TOUCHED
    if sentiment_store.needs_refresh(con, {table_name}):
        sentiment_store.refresh(con)
    spans.save(con, {table_name})
    con.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
    con.execute("DROP TABLE IF EXISTS chk")
    return fr
