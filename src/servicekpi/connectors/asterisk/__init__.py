"""Asterisk queue_log -> calls (+ agent_sessions).

Two inputs, detected from the first line of each file:
- the raw log Asterisk appends to /var/log/asterisk/queue_log: `epoch|callid|queue|agent|EVENT|data1|data2|...`;
- the database-table export as CSV (realtime `queue_log` table): a header with time, callid, queuename,
  agent, event and data1..data5 (or one `data` column holding the pipe-joined fields).

PATH is one file or a folder (rotated logs: queue_log, queue_log.1, ...); the files of a folder are read
as one log, in the order of their first event.

Streaming: convert() returns at once; the log is read as the import consumes the batches, and each call
(or session) is emitted once, in a chunk of CHUNK rows, when its ending event is read. Only the calls and
sessions still open are held in memory. The table export's rows may come in any order, so it is sorted first,
in bounded memory too: sorted runs of SORT_RUN events, spilled to temporary files and merged when there are
several.

Times: an epoch (the raw log, or a numeric `time` column) is UTC by definition and is written with `Z`.
A datetime string without an offset (the table export, e.g. `2026-10-01 09:15:02.123456`) is passed on
as it is, so the import reads it in --source-tz, else the workspace time zone; one with an offset is
absolute.

Event data layouts (Asterisk's queue_log documentation and app_queue.c):
  ENTERQUEUE(url|callerid)               CONNECT(holdtime|bridgedchanneluniqueid|ringtime)
  COMPLETEAGENT / COMPLETECALLER(holdtime|calltime|origposition)
  TRANSFER / BLINDTRANSFER(extension|context|holdtime|calltime|origposition)
  ATTENDEDTRANSFER(method|method-data...|holdtime|calltime|origposition) -- method-data has one field
      (BRIDGE, APP, THREEWAY) or two (LINK), so its numbers are read from the end
  ABANDON / EXITEMPTY / EXITWITHTIMEOUT(position|origposition|waittime)   EXITWITHKEY(key|position|...)
  AGENTLOGIN(channel)  AGENTLOGOFF(channel|logintime)  ADDMEMBER  REMOVEMEMBER  PAUSE  UNPAUSE ...

Modules: events (a line or row as an Event, times), table (the table export's header and rows), sort (the
external merge sort of a table export), calls (events made into calls and agent sessions, in chunks).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from servicekpi.connectors import ConnectorError, Converted, SourceUsageError
from servicekpi.connectors.asterisk.calls import Reader
from servicekpi.connectors.asterisk.events import Event, _pipe_events
from servicekpi.connectors.asterisk.sort import _table_events
from servicekpi.connectors.asterisk.table import _table_rows, columns_from, is_header, layout
from servicekpi.ingest.load import Batch


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None,
            chunk: int | None = None) -> Converted:
    """Checks the path and each table export's header now; the log is read as the returned batches are consumed
    (a stream of chunks of `chunk` rows): only the calls and sessions still open are kept in memory. The notes
    are complete once the stream is exhausted. mapping: a TOML file naming a table layout's columns."""
    if path is None or dsn:
        raise SourceUsageError("--source asterisk reads a queue_log file or folder: give its PATH (no --dsn)")
    cols = columns_from(mapping)
    files, skipped = _files(Path(path), cols)
    notes: list[str] = []
    readable = []
    for f in files:  # a header that matches no layout rejects its file whole (the other files still go in)
        first = _first_line(f)
        try:
            if is_header(first):
                layout(f, first, cols)
            readable.append(f)
        except ConnectorError as e:
            if len(files) == 1:
                raise
            notes.append(f"Error: {e}")
    if not readable:
        raise ConnectorError("\n".join(n.removeprefix("Error: ") for n in notes))
    total = sum(f.stat().st_size for f in readable)
    # epochs carry Z; naive table-export times: --source-tz, else the workspace zone
    return Converted(batches=_stream(readable, skipped, notes, chunk, total, cols), notes=notes)


def _stream(files: list[Path], skipped: list[str], notes: list[str], chunk: int | None,
            total: int, cols: dict | None = None) -> Iterator[Batch]:
    state = Reader(chunk)
    state.skipped = skipped
    done = 0
    for f in files:
        size = f.stat().st_size
        for ev in _events(f, cols):
            state.feed(ev)
            state.read += len(ev.text) + 1
            if state.rows.full:
                # progress: the characters read so far (bytes for ASCII logs), capped at the file's size
                for b in state.rows.take():
                    b.done_bytes, b.total_bytes = done + min(state.read, size), total
                    yield b
        done += size
        state.read = 0
    notes += state.finish()
    for b in state.rows.take(last=True):
        b.done_bytes, b.total_bytes = done, total
        yield b


def _files(path: Path, cols: dict | None = None) -> tuple[list[Path], list[str]]:
    """The files to read, in log order, and the empty ones of a folder (a freshly rotated log)."""
    if not path.exists():
        raise ConnectorError(f"{path}: no such file or folder")
    if path.is_file():
        return [path], []
    files = [p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")]
    empty = [p.name for p in files if p.stat().st_size == 0]
    files = [p for p in files if p.stat().st_size > 0]
    if not files:
        raise ConnectorError(f"{path}: no queue_log files here" + (" (only empty ones)" if empty else ""))
    return sorted(files, key=lambda p: (_first_secs(p, cols), p.name)), empty


def _first_secs(path: Path, cols: dict | None = None) -> float:
    first = _first_line(path)
    if is_header(first):  # in any order: its earliest time (no need to sort it)
        try:
            return min((ev.secs for ev in _table_rows(path, cols) if ev.secs is not None), default=float("inf"))
        except ConnectorError:  # no known layout: reported by convert
            return float("inf")
    for ev in _events(path):
        if ev.secs is not None:
            return ev.secs
    return float("inf")


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig", errors="strict", newline="") as f:
            return f.readline()
    except (OSError, UnicodeDecodeError) as e:
        raise ConnectorError(f"{path}: cannot read the file ({e})") from None


def _events(path: Path, cols: dict | None = None) -> Iterator[Event]:
    first = _first_line(path)
    if not first.strip():
        if path.stat().st_size == 0:
            raise ConnectorError(f"{path}: the file is empty (0 bytes)")
    if is_header(first):
        yield from _table_events(path, cols)
    else:
        yield from _pipe_events(path)
