"""LiveAgent (API v3 JSON) -> tickets, messages, calls.

Inputs, in one folder (docs/connectors/liveagent.md), each a saved API answer (an array, or a list
of pages):
  tickets.json            GET /api/v3/tickets
  messages.json           GET /api/v3/tickets/{ticketId}/messages, as {ticketId: [message groups]}
  agents.json (optional)  GET /api/v3/agents: tells agents from contacts in chats and calls
  calls.json (optional)   GET /api/v3/calls
Field names and codes are those of the API v3 models (QualityUnit/LiveAgent-api-python docs/):
Ticket.status, Ticket.channel_type, MessageGroup.type, Message.type, CallListItem.type. CallListItem
is camelCase on the wire (dateCreated, ticketId: models/call_list_item.py attribute_map).

Times: API v3 writes 'YYYY-MM-DD HH:MM:SS' without an offset; they are read in --source-tz (the
account's zone), else the workspace time zone. Bad values are passed on as given, so that the engine
quarantines the row with its file, item number, column and reason.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted, SourceUsageError, s, table
from servicekpi.ingest.load import Batch

# Ticket.status: I init, N new, T chatting, P calling, R resolved, X deleted, B spam, A answered,
# C open, W postponed
STATUS = {"I": "open", "N": "open", "T": "open", "P": "open", "R": "resolved", "A": "pending", "C": "open",
          "W": "on_hold"}
GONE = {"X": "deleted", "B": "spam"}
# Ticket.channel_type: E email, B contact button, M contact form, I invitation, C call, W call button,
# F facebook, A facebook message, T twitter, H weibo, J weibo private, D tencent, N tencent private,
# Q forum, S suggestion
CHANNEL = {"E": "email", "B": "chat", "M": "web_form", "I": "chat", "C": "phone", "W": "phone", "F": "social",
           "A": "social", "T": "social", "H": "social", "J": "social", "D": "social", "N": "social",
           "Q": "forum", "S": "suggestion"}
# MessageGroup.type, one message per group: 3 INCOMING_EMAIL, M OFFLINE_LEGACY, 5 OFFLINE (customer);
# 4 OUTGOING_EMAIL (agent reply); I INTERNAL, U INTERNAL_OFFLINE, Z INTERNAL_COLLAPSED, O FORWARD
# (internal notes and forwards to third parties: not replies); Q FORWARD_REPLY (a third party: system)
GROUP_AUTHOR = {"3": ("customer", True), "M": ("customer", True), "5": ("customer", True),
                "4": ("agent", True), "I": ("agent", False), "U": ("agent", False), "Z": ("agent", False),
                "O": ("agent", False), "Q": ("system", False)}
# groups whose messages are each a message: C CHAT, P CALL, V OUTGOING_CALL, 1 INTERNAL_CALL,
# F FACEBOOK, W TWITTER, Y RETWEET, 6 WHATSAPP, 7 RECEIVED_ANSWER
CONVERSATIONS = {"C", "P", "V", "1", "F", "W", "Y", "6", "7"}
INTERNAL_GROUPS = {"1"}
# Message.type inside them: M MESSAGE, Y MESSAGE_LEGACY, V VOICE (public); I INTERNAL, N NOTE,
# 1 VOICE_INTERNAL (internal); the rest (titles, headers, files, system lines, ...) are not messages
PUBLIC_MESSAGES = {"M", "Y", "V"}
INTERNAL_MESSAGES = {"I", "N", "1"}
RESOLVE = "R"

TICKET_COLUMNS = ["ticket_id", "created_at", "channel", "status", "customer_id", "agent_id", "team",
                  "resolved_at", "reopen_count", "excluded"]
MESSAGE_COLUMNS = ["message_id", "ticket_id", "sent_at", "author", "agent_id", "public"]
CALL_COLUMNS = ["call_id", "entered_at", "answered_at", "ended_at", "outcome", "channel", "talk_seconds",
                "ticket_id"]
FILES = ("tickets", "messages", "agents", "calls")


def records(doc, path: str) -> list:
    if isinstance(doc, list):
        if doc and all(isinstance(p, list) for p in doc):
            return [r for p in doc for r in p]
        return doc
    raise ConnectorError(f"{path}: expected a JSON array of records (a LiveAgent API v3 answer), or a list of pages")


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ConnectorError(f"{path}: not valid UTF-8 at byte {e.start}") from None
    except json.JSONDecodeError as e:
        raise ConnectorError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def convert(path, *, mapping=None, dsn=None) -> Converted:
    if dsn is not None or mapping is not None:
        raise SourceUsageError("--source liveagent reads a folder of API v3 JSON files; it takes no --dsn or --mapping")
    if path is None or not Path(path).is_dir():
        raise ConnectorError(f"{path}: expected a folder holding tickets.json (GET /api/v3/tickets), and optionally "
                             "messages.json, agents.json, calls.json")
    path = Path(path)
    files = {f.stem.lower(): f for f in path.iterdir() if f.suffix.lower() == ".json"}
    if not files.keys() & {"tickets", "calls"}:
        raise ConnectorError(f"{path}: no tickets.json or calls.json here")
    out = build({k: (read_json(files[k]), str(files[k])) for k in FILES if k in files})
    for stem in sorted(set(files) - set(FILES)):
        out.notes.append(f"{files[stem].name} ignored (expected {', '.join(f + '.json' for f in FILES)})")
    return out


def build(docs: dict[str, tuple[object, str]]) -> Converted:
    """docs: kind -> (parsed JSON, source label). One mapping for files and the live sync."""
    out = Converted(source_tz=None)
    agents = None
    if "agents" in docs:
        agents = {s(a.get("id")) for a in records(*docs["agents"]) if isinstance(a, dict)}
    tickets = {}
    if "tickets" in docs:
        doc, label = docs["tickets"]
        tickets = {s(t.get("id")): t for t in records(doc, label) if isinstance(t, dict)}
    reopens: dict[str, int] = {}
    if "messages" in docs:
        reopens = _messages(*docs["messages"], tickets, agents, out)
    if "tickets" in docs:
        _tickets(*docs["tickets"], reopens, out)
    if "calls" in docs:
        _calls(*docs["calls"], out)
    return out


def _tickets(doc, label: str, reopens: dict, out: Converted) -> None:
    rows, lines = [], []
    gone: Counter = Counter()
    for n, t in enumerate(records(doc, label), 1):
        if not isinstance(t, dict):
            rows.append({"ticket_id": None})
            lines.append(n)
            continue
        code = s(t.get("status"))
        if code in GONE:
            gone[GONE[code]] += 1
        status = STATUS.get(code) if code not in GONE else None
        if code and code not in STATUS and code not in GONE:
            status = f"{code} (not a LiveAgent ticket status code)"  # quarantined with this reason
        tid, channel = s(t.get("id")), s(t.get("channel_type"))
        rows.append({"ticket_id": tid, "created_at": s(t.get("date_created")),
                     "channel": CHANNEL.get(channel, channel), "status": status,
                     "customer_id": s(t.get("owner_contactid")), "agent_id": s(t.get("agentid")),
                     "team": s(t.get("departmentid")),
                     "resolved_at": s(t.get("date_resolved")) if code == "R" else None,
                     "reopen_count": s(reopens.get(tid)) if tid in reopens else None,
                     "excluded": "true" if code in GONE else "false"})
        lines.append(n)
    out.batches.append(Batch("tickets", label, table(rows, TICKET_COLUMNS), lines))
    if gone:
        out.notes.append("tickets kept with excluded = true: " + ", ".join(f"{v} {k}" for k, v in sorted(gone.items())))


def _messages(doc, label: str, tickets: dict, agents: set | None, out: Converted) -> dict[str, int]:
    if not isinstance(doc, dict):
        raise ConnectorError(f"{label}: expected {{ticketId: [message groups]}} (GET /api/v3/tickets/{{id}}/messages "
                             "per ticket)")
    rows, lines = [], []
    events: Counter = Counter()
    reopens: dict[str, int] = {}
    n = 0
    for tid, groups in doc.items():
        owner = s((tickets.get(str(tid)) or {}).get("owner_contactid"))
        timeline = []  # (datecreated, is a resolve) to count reopens
        for g in records(groups, f"{label} ticket {tid}"):
            n += 1
            if not isinstance(g, dict):
                rows.append({"message_id": None})
                lines.append(n)
                continue
            kind = s(g.get("type"))
            if s(g.get("status")) == "D":
                events["deleted groups"] += 1
                continue
            if kind in GROUP_AUTHOR:
                author, public = GROUP_AUTHOR[kind]
                rows.append({"message_id": s(g.get("id")), "ticket_id": str(tid), "sent_at": s(g.get("datecreated")),
                             "author": author, "agent_id": s(g.get("userid")) if author == "agent" else None,
                             "public": "true" if public else "false"})
                lines.append(n)
                timeline.append((s(g.get("datecreated")) or "", public))
            elif kind in CONVERSATIONS:
                for m in g.get("messages") or []:
                    mtype = s(m.get("type")) if isinstance(m, dict) else None
                    if mtype not in PUBLIC_MESSAGES and mtype not in INTERNAL_MESSAGES:
                        continue
                    public = mtype in PUBLIC_MESSAGES and kind not in INTERNAL_GROUPS
                    user = s(m.get("userid")) or s(g.get("userid"))
                    author = _who(user, owner, agents)
                    rows.append({"message_id": s(m.get("id")), "ticket_id": str(tid),
                                 "sent_at": s(m.get("datecreated")) or s(g.get("datecreated")),
                                 "author": author if public else "agent",
                                 "agent_id": user if (author == "agent" or not public) else None,
                                 "public": "true" if public else "false"})
                    lines.append(n)
                    timeline.append((s(m.get("datecreated")) or "", public))
            else:
                events[kind or "(none)"] += 1
                if kind == RESOLVE:
                    timeline.append((s(g.get("datecreated")) or "", RESOLVE))
        reopens[str(tid)] = _reopens(timeline)
    out.batches.append(Batch("messages", label, table(rows, MESSAGE_COLUMNS), lines))
    if events:
        out.notes.append("message groups that are events, not messages, left out (by MessageGroup.type): "
                         + ", ".join(f"{k} {v}" for k, v in sorted(events.items())))
    if agents is None and any(r.get("author") == "agent" for r in rows):
        out.notes.append("no agents.json: in chats and calls, anyone but the ticket's owner counts as an agent")
    return reopens


def _who(user: str | None, owner: str | None, agents: set | None) -> str | None:
    if user is not None and user == owner:
        return "customer"
    if agents is not None:
        return "agent" if user in agents else "customer" if user else None
    return "agent" if user else None  # quarantined without a user


def _reopens(timeline: list) -> int:
    """Resolves followed by a later public message (a new message reopens a resolved ticket)."""
    n, resolved = 0, False
    for _, what in sorted(timeline, key=lambda x: x[0]):
        if what == RESOLVE:
            resolved = True
        elif what is True and resolved:
            n, resolved = n + 1, False
    return n


def _seconds(a, b) -> str | None:
    try:
        x, y = (dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")) for v in (a, b))
    except (TypeError, ValueError):
        return None
    return f"{(y - x).total_seconds():g}"


# CallListItem on the wire (its attribute_map) -> the generated Python client's attribute, which its
# to_dict() writes: a saved answer may hold either spelling
CALL_ATTRIBUTES = {"ticketId": "ticket_id", "dateCreated": "date_created", "dateAnswered": "date_answered",
                   "dateFinished": "date_finished"}


def call_field(call: dict, wire: str) -> str | None:
    value = call.get(wire)
    return s(value if value is not None else call.get(CALL_ATTRIBUTES[wire]))


def _calls(doc, label: str, out: Converted) -> None:
    rows, lines = [], []
    left: Counter = Counter()
    for n, c in enumerate(records(doc, label), 1):
        if not isinstance(c, dict):
            rows.append({"call_id": None})
            lines.append(n)
            continue
        if s(c.get("type")) in ("O", "T"):  # outgoing and internal calls are not offered to a queue
            left["outgoing" if c.get("type") == "O" else "internal"] += 1
            continue
        answered, finished = call_field(c, "dateAnswered"), call_field(c, "dateFinished")
        talk = _seconds(answered, finished) if answered and finished else None
        rows.append({"call_id": s(c.get("id")), "entered_at": call_field(c, "dateCreated"), "answered_at": answered,
                     "ended_at": finished, "outcome": "answered" if answered else "abandoned", "channel": "phone",
                     "talk_seconds": talk, "ticket_id": call_field(c, "ticketId")})
        lines.append(n)
    out.batches.append(Batch("calls", label, table(rows, CALL_COLUMNS), lines))
    if left:
        out.notes.append("calls not offered to a queue left out: " + ", ".join(f"{v} {k}" for k, v in sorted(left.items())))
