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
"""
from __future__ import annotations

import csv
import datetime as dt
import heapq
import pickle
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from servicekpi.connectors import ConnectorError, Converted
from servicekpi.ingest.load import Batch

END_UNANSWERED = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout", "EXITEMPTY": "exit_empty",
                  "EXITWITHKEY": "exit_key"}
COMPLETE = {"COMPLETEAGENT", "COMPLETECALLER"}
TRANSFERS = {"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
LOGIN = {"AGENTLOGIN", "AGENTCALLBACKLOGIN"}
LOGOFF = {"AGENTLOGOFF", "AGENTCALLBACKLOGOFF"}
# known events that make no canonical row (counted in the notes)
INFO_EVENTS = {"RINGNOANSWER", "RINGCANCELED", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "QUEUESTART",
               "CONFIGRELOAD", "DID", "INFO", "AGENTDUMP", "SYSCOMPAT", "JOINEMPTY", "JOINUNAVAIL",
               "PENALTY", "KEYPRESS"}
# order of events logged in the same second (a table export may be sorted by time only)
RANK = {"ENTERQUEUE": 0, "RINGNOANSWER": 1, "CONNECT": 2}
WAIT_TOLERANCE = 1  # seconds: the log's second-resolution timestamps vs Asterisk's own holdtime
SHOW = 10  # how many located examples a note lists
CHUNK = 100_000
SORT_RUN = 100_000  # table-export events sorted in memory at a time (more: merged from sorted temp files)
SPILL_BLOCK = 1_000  # events per block of a sorted run on disk (one block of each run is in memory)
VISIT_WINDOW = 86_400  # seconds of log time a finished call's visit count is kept (to number a re-entry)

CALL_COLS = ["call_id", "entered_at", "answered_at", "ended_at", "outcome", "queue", "agent_id", "talk_seconds"]
SESSION_COLS = ["agent_id", "login_at", "logout_at", "queue"]


@dataclass
class Event:
    source: str
    line: int
    time: str | None  # the source's text
    secs: float | None  # for ordering and durations; None = unreadable
    out: str | None  # the canonical timestamp text
    callid: str
    queue: str
    agent: str
    event: str
    data: list[str]
    text: str = ""  # the source line, for messages


@dataclass
class Call:
    key: str
    first: Event
    entered: Event
    answered: Event | None = None
    agent: str | None = None
    bad_line: tuple[str, int] | None = None  # where an unreadable value came from


@dataclass
class Session:
    agent: str
    login: Event
    tokens: set = field(default_factory=set)
    queues: set = field(default_factory=set)


class Rows:
    """Canonical rows per (table, source file); a full chunk is taken out as soon as it is complete."""

    def __init__(self, chunk: int | None = None):
        self.chunk = chunk or CHUNK
        self.pending: dict[tuple[str, str], tuple[dict[str, list], list[int]]] = {}
        self.full: list[Batch] = []  # chunks ready to hand to the import

    def add(self, table: str, source: str, line: int, row: dict, cols: list[str]) -> None:
        cols_, lines = self.pending.setdefault((table, source), ({c: [] for c in cols}, []))
        for c in cols:
            cols_[c].append(row.get(c))
        lines.append(line)
        if len(lines) >= self.chunk:
            self._flush((table, source))

    def _flush(self, key) -> None:
        cols, lines = self.pending.pop(key)
        self.full.append(Batch(key[0], key[1], pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()}),
                               pa.array(lines, pa.int64()), "line"))

    def take(self, last: bool = False) -> list[Batch]:
        """The complete chunks (last: everything left, calls before agent_sessions)."""
        if last:
            for key in sorted(self.pending, key=lambda k: k[0] != "calls"):
                self._flush(key)
        out, self.full = self.full, []
        return out


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None,
            chunk: int | None = None) -> Converted:
    """Checks the path now; the log is read as the returned batches are consumed (a stream of chunks of
    `chunk` rows): only the calls and sessions still open are kept in memory. The notes are complete
    once the stream is exhausted."""
    if path is None or dsn:
        raise ConnectorError("--source asterisk reads a queue_log file or folder: give its PATH (no --dsn)")
    if mapping:
        raise ConnectorError("--source asterisk takes no --mapping (the queue_log layout is fixed)")
    files, skipped = _files(Path(path))
    total = sum(f.stat().st_size for f in files)
    notes: list[str] = []
    # epochs carry Z; naive table-export times: --source-tz, else the workspace zone
    return Converted(batches=_stream(files, skipped, notes, chunk, total), notes=notes)


def _stream(files: list[Path], skipped: list[str], notes: list[str], chunk: int | None,
            total: int) -> Iterator[Batch]:
    state = Reader(chunk)
    state.skipped = skipped
    done = 0
    for f in files:
        size = f.stat().st_size
        for ev in _events(f):
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


def _files(path: Path) -> tuple[list[Path], list[str]]:
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
    return sorted(files, key=lambda p: (_first_secs(p), p.name)), empty


def _first_secs(path: Path) -> float:
    if _is_table_export(_first_line(path)):  # in any order: its earliest time (no need to sort it)
        return min((ev.secs for ev in _table_rows(path) if ev.secs is not None), default=float("inf"))
    for ev in _events(path):
        if ev.secs is not None:
            return ev.secs
    return float("inf")


def _is_table_export(first: str) -> bool:
    names = {n.strip().strip('"').lower() for n in next(csv.reader([first]), [])}
    return {"time", "event"} <= names and ("queuename" in names or "queue" in names)


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8-sig", errors="strict", newline="") as f:
            return f.readline()
    except (OSError, UnicodeDecodeError) as e:
        raise ConnectorError(f"{path}: cannot read the file ({e})") from None


def _events(path: Path) -> Iterator[Event]:
    first = _first_line(path)
    if not first.strip():
        if path.stat().st_size == 0:
            raise ConnectorError(f"{path}: the file is empty (0 bytes)")
    if _is_table_export(first):
        yield from _table_events(path)
    else:
        yield from _pipe_events(path)


def _pipe_events(path: Path) -> Iterator[Event]:
    src = str(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for n, text in enumerate(f, start=1):
            text = text.rstrip("\r\n")
            if not text.strip():
                continue
            parts = text.split("|")
            yield _event(src, n, parts[0], parts[1:5], parts[5:], text)


def _table_rows(path: Path) -> Iterator[Event]:
    """The DB export's rows as events, in file order."""
    src = str(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f)
        header = [h.strip().lower() for h in next(reader)]
        col = {h: i for i, h in enumerate(header)}
        q = "queuename" if "queuename" in col else "queue"
        missing = [c for c in ("callid", "agent") if c not in col]
        if missing:
            raise ConnectorError(f"{src} line 1: column(s) {', '.join(missing)} missing (expected time, callid, "
                                 f"queuename, agent, event, data1..data5 or data)")
        datacols = sorted((h for h in col if re.fullmatch(r"data\d+", h)), key=lambda h: int(h[4:]))
        last = reader.line_num
        for row in reader:
            n, last = last + 1, reader.line_num
            if not any(c.strip() for c in row):
                continue

            def get(name):
                i = col.get(name)
                return row[i].strip() if i is not None and i < len(row) else ""
            if datacols:
                data = [get(h) for h in datacols]
                joined = "|".join(data).split("|")  # a data5 may hold the rest, pipes included
                while joined and joined[-1] == "":
                    joined.pop()
                data = joined
            else:
                data = get("data").split("|") if get("data") else []
            yield _event(src, n, get("time"), [get("callid"), get(q), get("agent"), get("event")], data,
                         ",".join(row))


def _table_events(path: Path) -> Iterator[Event]:
    """The DB export ordered by time (an export may be in any order; an unreadable time keeps its place after
    the previous event), in bounded memory: an external merge sort. Runs of SORT_RUN events are sorted in
    memory; when there is more than one, each goes to a temporary file and the files are merged."""
    def keyed() -> Iterator[tuple]:
        last_secs = float("-inf")
        for e in _table_rows(path):
            last_secs = e.secs if e.secs is not None else last_secs
            yield (last_secs, RANK.get(e.event, 3), e.line), e  # lines are unique: a total order

    runs: list = []
    run: list[tuple] = []
    try:
        for item in keyed():
            run.append(item)
            if len(run) >= SORT_RUN:
                runs.append(_spill(sorted(run, key=_first)))
                run = []
        run.sort(key=_first)
        if not runs:
            yield from (e for _, e in run)
            return
        runs.append(_spill(run))
        run = []
        for _, e in heapq.merge(*(_unspill(f) for f in runs), key=_first):
            yield e
    finally:
        for f in runs:
            f.close()


def _first(item: tuple):
    return item[0]


def _spill(run: list[tuple]):
    """A sorted run written to an anonymous temporary file (deleted when closed), in blocks."""
    f = tempfile.TemporaryFile()
    for i in range(0, len(run), SPILL_BLOCK):
        pickle.dump(run[i:i + SPILL_BLOCK], f, protocol=pickle.HIGHEST_PROTOCOL)
    f.seek(0)
    return f


def _unspill(f) -> Iterator[tuple]:
    while True:
        try:
            block = pickle.load(f)
        except EOFError:
            return
        yield from block


_DAYS: dict[int, str] = {}
EPOCH = re.compile(r"^\d{9,11}(\.\d+)?$")
OFFSET = re.compile(r"([zZ]|[+-]\d\d(:?\d\d)?)$")


def _time(raw: str) -> tuple[float | None, str | None]:
    """(seconds for ordering and durations, canonical text); (None, raw) when unreadable."""
    raw = raw.strip()
    if raw.isdigit() and 9 <= len(raw) <= 11:  # the usual whole-second epoch, formatted without datetime
        secs = int(raw)
        day, rem = divmod(secs, 86400)
        date = _DAYS.get(day)
        if date is None:
            date = _DAYS[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()
        h, rem = divmod(rem, 3600)
        return float(secs), f"{date}T{h:02d}:{rem // 60:02d}:{rem % 60:02d}Z"
    if EPOCH.match(raw):
        secs = float(raw)
        t = dt.datetime.fromtimestamp(secs, dt.timezone.utc)
        return secs, t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond:06d}" if t.microsecond else "") + "Z"
    try:
        t = dt.datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        return None, raw or None
    if t.tzinfo is None:  # a naive datetime: durations in its own wall clock; the import applies the zone
        return (t - dt.datetime(1970, 1, 1)).total_seconds(), raw
    if len(raw) > 3 and re.search(r"[+-]\d\d$", raw):  # PostgreSQL's "+02" -> "+02:00" for the import
        raw = raw + ":00"
    return t.timestamp(), raw


def _event(src: str, line: int, time: str, head: list[str], data: list[str], text: str) -> Event:
    if len(head) < 4:
        head = head + [""] * (4 - len(head))
    callid, queue, agent, event = head
    secs, out = _time(time)
    return Event(src, line, time, secs, out, callid.strip(), queue.strip(), agent.strip(), event.strip().upper(),
                 [d.strip() for d in data], text)


def _num(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class Reader:
    def __init__(self, chunk: int | None = None):
        self.open: dict[str, Call] = {}
        # visits per callid:queue (a re-entry is #2, ...), in two generations of VISIT_WINDOW seconds of log
        # time: a caller that left a queue more than a window or two ago is forgotten (bounded memory)
        self.visits: Counter = Counter()
        self.old_visits: Counter = Counter()
        self.generation: float | None = None
        self.sessions: dict[str, Session] = {}
        self.rows = Rows(chunk)
        self.read = 0  # characters of the current file read so far (for the progress bar)
        self.counts: Counter = Counter()
        self.unknown: dict[str, list] = {}
        self.problems: dict[str, list] = {}  # kind -> [count, the first SHOW texts]
        self.skipped: list[str] = []

    def problem(self, kind: str, text: str) -> None:
        entry = self.problems.setdefault(kind, [0, []])
        entry[0] += 1
        if len(entry[1]) < SHOW:
            entry[1].append(text)

    # ---- events ------------------------------------------------------------------------
    def feed(self, ev: Event) -> None:
        self.counts[ev.event] += 1
        if not ev.event or not ev.time or (not ev.callid and not ev.queue):
            return self.malformed(ev, "expected epoch|callid|queue|agent|EVENT|data...")
        e = ev.event
        if e == "ENTERQUEUE":
            return self.enter(ev)
        if e == "CONNECT":
            return self.connect(ev)
        if e in COMPLETE or e in TRANSFERS or e in END_UNANSWERED:
            return self.end(ev)
        if e in LOGIN or e == "ADDMEMBER":
            return self.login(ev, "*login" if e in LOGIN else ev.queue)
        if e in LOGOFF or e == "REMOVEMEMBER":
            return self.logoff(ev, "*login" if e in LOGOFF else ev.queue)
        if e in INFO_EVENTS:
            return
        self.unknown.setdefault(e, (ev.source, ev.line))

    def malformed(self, ev: Event, expected: str) -> None:
        self.counts["(unreadable)"] += 1
        self.counts[ev.event] -= 1
        where = f"{Path(ev.source).name} line {ev.line}"
        shown = ev.text if len(ev.text) <= 60 else ev.text[:57] + "..."
        self.problem("unreadable", f"{where}: '{shown}' ({expected})")
        # a row of its own (a call_id that cannot collide), so the import quarantines the line
        self.rows.add("calls", ev.source, ev.line,
                      {"call_id": f"unreadable queue_log {where}", "entered_at": None}, CALL_COLS)

    def key(self, ev: Event) -> str:
        base = f"{ev.callid}:{ev.queue}"
        n = self.visits.get(base) or self.old_visits.get(base, 0)
        return base if n <= 1 else f"{base}#{n}"

    def enter(self, ev: Event) -> None:
        base = f"{ev.callid}:{ev.queue}"
        if ev.secs is not None and (self.generation is None or ev.secs - self.generation > VISIT_WINDOW):
            self.new_generation(ev.secs)
        if base not in self.visits and base in self.old_visits:
            self.visits[base] = self.old_visits.pop(base)
        if base in self.open or f"{base}#{self.visits[base]}" in self.open:
            old = self.open.pop(self.key(ev))
            self.problem("reentered", f"{old.key} (line {old.entered.line}) entered again at line {ev.line} "
                                      f"before it ended: the first visit is left out")
        self.visits[base] += 1
        k = self.key(ev)
        call = Call(k, ev, ev)
        if ev.secs is None:
            call.bad_line = (ev.source, ev.line)
        self.open[k] = call

    def new_generation(self, secs: float) -> None:
        """Forget the visits of the generation before last, keeping those of the calls still open."""
        keep = {f"{c.first.callid}:{c.first.queue}" for c in self.open.values()}
        self.old_visits = Counter({b: n for b, n in self.old_visits.items() if b in keep})
        self.old_visits.update(self.visits)
        self.visits = Counter()
        self.generation = secs

    def find(self, ev: Event) -> Call | None:
        call = self.open.get(self.key(ev))
        if call is None:
            self.counts["(before the log starts)"] += 1
            self.problem("orphan", f"{Path(ev.source).name} line {ev.line}: {ev.event} for {ev.callid}:{ev.queue}")
        return call

    def connect(self, ev: Event) -> None:
        call = self.find(ev)
        if call is None:
            return
        call.answered = ev
        call.agent = ev.agent or None
        if ev.secs is None and call.bad_line is None:
            call.bad_line = (ev.source, ev.line)

    def end(self, ev: Event) -> None:
        call = self.find(ev)
        if call is None:
            return
        del self.open[call.key]
        e = ev.event
        row = {"call_id": call.key, "entered_at": call.entered.out, "queue": call.entered.queue or None,
               "ended_at": ev.out}
        bad = call.bad_line
        if ev.secs is None and bad is None:
            bad = (ev.source, ev.line)
        if e in END_UNANSWERED:
            row["outcome"] = END_UNANSWERED[e]
            if call.answered is not None:
                self.problem("odd", f"{call.key}: {e} at line {ev.line} after CONNECT at line {call.answered.line}")
                row.update(answered_at=call.answered.out, agent_id=call.agent)
        else:
            data = ev.data
            if e == "ATTENDEDTRANSFER":
                hold, talk = (data[-3], data[-2]) if len(data) >= 4 else (None, None)
            elif e in TRANSFERS:
                hold, talk = (data[2], data[3]) if len(data) >= 4 else (None, None)
            else:
                hold, talk = (data[0], data[1]) if len(data) >= 2 else (None, None)
            row["outcome"] = "transferred" if e in TRANSFERS else "answered"
            row["agent_id"] = call.agent or ev.agent or None
            talk_n = _num(talk)
            if talk is None:
                self.problem("fields", f"{Path(ev.source).name} line {ev.line}: {e} without holdtime|calltime "
                                       f"fields: talk_seconds left empty")
            elif talk_n is None:
                bad = bad or (ev.source, ev.line)
            row["talk_seconds"] = talk
            if call.answered is not None:
                row["answered_at"] = call.answered.out
            elif talk_n is not None and ev.secs is not None:
                # no CONNECT in the log: the answer was calltime seconds before the end
                row["answered_at"] = _out_like(ev, ev.secs - talk_n)
                self.problem("noconnect", f"{call.key}: {e} at line {ev.line} without CONNECT: "
                                          f"answered_at = end - calltime")
            self.check_wait(call, ev, hold)
        src, line = bad if bad else (call.first.source, call.first.line)
        self.rows.add("calls", src, line, row, CALL_COLS)

    def check_wait(self, call: Call, ev: Event, hold: str | None) -> None:
        h = _num(hold)
        if call.answered is None or h is None or call.answered.secs is None or call.entered.secs is None:
            return
        waited = call.answered.secs - call.entered.secs
        if abs(waited - h) > WAIT_TOLERANCE:
            self.problem("wait", f"{call.key}: answered_at - entered_at = {_fmt(waited)} s but {ev.event} "
                                 f"(line {ev.line}) says holdtime {_fmt(h)} s")

    # ---- sessions ------------------------------------------------------------------------
    def login(self, ev: Event, token: str) -> None:
        agent = ev.agent
        if not agent or agent.upper() == "NONE":
            return self.problem("fields", f"{Path(ev.source).name} line {ev.line}: {ev.event} without an agent")
        s = self.sessions.get(agent)
        if s is None:
            s = self.sessions[agent] = Session(agent, ev)
        s.tokens.add(token)
        if token != "*login" or (ev.queue and ev.queue.upper() != "NONE"):
            s.queues.add(ev.queue)

    def logoff(self, ev: Event, token: str) -> None:
        s = self.sessions.get(ev.agent)
        if s is None or token not in s.tokens:
            self.counts["(logoff before the log starts)"] += 1
            return self.problem("orphan_session", f"{Path(ev.source).name} line {ev.line}: {ev.event} for "
                                                  f"{ev.agent} without a login in this log")
        s.tokens.discard(token)
        if not s.tokens:
            del self.sessions[ev.agent]
            self.session_row(s, ev)

    def session_row(self, s: Session, logoff: Event | None) -> None:
        row = {"agent_id": s.agent, "login_at": s.login.out, "logout_at": logoff.out if logoff else None,
               "queue": next(iter(s.queues)) if len(s.queues) == 1 else None}
        line = (s.login.source, s.login.line)
        if logoff is not None and logoff.secs is None and s.login.secs is not None:
            line = (logoff.source, logoff.line)
        self.rows.add("agent_sessions", line[0], line[1], row, SESSION_COLS)

    # ---- end of the log ---------------------------------------------------------------------
    def finish(self) -> list[str]:
        notes = [f"{name}: empty file (0 bytes), skipped" for name in self.skipped]
        for s in list(self.sessions.values()):
            self.session_row(s, None)
        if self.sessions:
            notes.append(f"{len(self.sessions)} agent session(s) still logged in when the log ends "
                         f"(imported without logout_at): {_list(sorted(self.sessions))}")
        if self.open:
            calls = sorted(self.open.values(), key=lambda c: (c.first.source, c.first.line))
            notes.append(f"{len(calls)} call(s) still open when the log ends, left out (importing the continued "
                         f"log adds them): " + _list(f"{c.key} (line {c.first.line})" for c in calls))
        ring = self.counts.get("RINGNOANSWER", 0)
        if ring:
            notes.append(f"{ring} RINGNOANSWER event(s): ring attempts of an agent, not calls")
        pauses = sum(self.counts.get(e, 0) for e in ("PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL"))
        if pauses:
            notes.append(f"{pauses} PAUSE/UNPAUSE event(s) not imported: agent_sessions has no pause column "
                         f"(logged-in time includes paused time)")
        other = {e: n for e, n in self.counts.items() if e in INFO_EVENTS and e not in
                 ("RINGNOANSWER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL") and n}
        if other:
            notes.append("other known events, no canonical row: " + ", ".join(f"{e} {n}" for e, n in sorted(other.items())))
        if self.unknown:
            notes.append(f"{len(self.unknown)} unknown event type(s) skipped: " + ", ".join(
                f"{e} x{self.counts[e]} (first at {Path(s).name} line {n})" for e, (s, n) in sorted(self.unknown.items())))
        text = {
            "unreadable": "unreadable line(s), quarantined",
            "orphan": "event(s) for calls not open in this log (entered the queue before the log starts: import "
                      "the earlier log in the same folder; or already ended), not imported",
            "orphan_session": "logoff(s) without a login in this log, no session made",
            "wait": "call(s) whose timestamps disagree with Asterisk's holdtime (queue wait) by more than "
                    f"{WAIT_TOLERANCE} s; the timestamps are kept",
            "reentered": "call(s) that entered the same queue again before ending",
            "noconnect": "answered call(s) without CONNECT",
            "odd": "unanswered ending(s) after CONNECT (kept as answered)",
            "fields": "event(s) missing fields",
        }
        for kind, (n, shown) in self.problems.items():
            more = f" (+{n - len(shown)} more)" if n > len(shown) else ""
            notes.append(f"{n} {text[kind]}: {'; '.join(shown)}{more}")
        return notes


def _out_like(ev: Event, secs: float) -> str:
    """A timestamp secs, written like ev's (epoch -> Z; naive stays naive)."""
    t = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=secs)
    text = t.isoformat(sep=" " if " " in (ev.out or "") else "T")
    if ev.out and ev.out.endswith("Z"):
        return text + "Z"
    if ev.out and OFFSET.search(ev.out) and ev.time and not EPOCH.match(ev.time.strip()):
        aware = dt.datetime.fromisoformat(ev.out)
        return dt.datetime.fromtimestamp(secs, aware.tzinfo).isoformat()
    return text


def _list(items) -> str:
    items = list(items)
    more = f" (+{len(items) - SHOW} more)" if len(items) > SHOW else ""
    return "; ".join(items[:SHOW]) + more
