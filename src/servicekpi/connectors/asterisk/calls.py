"""Events made into calls and agent sessions (Reader), emitted in chunks of canonical rows (Rows)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from servicekpi.connectors.asterisk.events import Event, _fmt, _num, _out_like
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
WAIT_TOLERANCE = 1  # seconds: the log's second-resolution timestamps vs Asterisk's own holdtime
SHOW = 10  # how many located examples a note lists
CHUNK = 100_000
VISIT_WINDOW = 86_400  # seconds of log time a finished call's visit count is kept (to number a re-entry)

CALL_COLS = ["call_id", "entered_at", "answered_at", "ended_at", "outcome", "queue", "agent_id", "talk_seconds"]
SESSION_COLS = ["agent_id", "login_at", "logout_at", "queue"]


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
            hold, talk = _hold_talk(ev)
            row["outcome"] = "transferred" if e in TRANSFERS else "answered"
            row["agent_id"] = call.agent or ev.agent or None
            talk_n = _num(talk)
            if talk is None:
                self.problem("fields", f"{Path(ev.source).name} line {ev.line}: {e} without holdtime|calltime "
                                       f"fields: talk_seconds unknown (left out of AHT and occupancy)")
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


def _list(items) -> str:
    items = list(items)
    more = f" (+{len(items) - SHOW} more)" if len(items) > SHOW else ""
    return "; ".join(items[:SHOW]) + more


def _hold_talk(ev: Event) -> tuple[str | None, str | None]:
    """An ending's holdtime and calltime: a table's htime/ttime columns, else the event's data fields."""
    if ev.talk is not None:
        return ev.hold, ev.talk
    data, e = ev.data, ev.event
    if e == "ATTENDEDTRANSFER":
        return (data[-3], data[-2]) if len(data) >= 4 else (None, None)
    if e in TRANSFERS:
        return (data[2], data[3]) if len(data) >= 4 else (None, None)
    return (data[0], data[1]) if len(data) >= 2 else (None, None)
