"""Zammad (REST API v1 JSON) -> tickets, messages (docs/connectors/zammad.md).

A folder of saved API answers:
  tickets*.json         GET /api/v1/tickets?expand=true (or tickets/search?expand=true), pages as arrays
  articles*.json        GET /api/v1/ticket_articles/by_ticket/{id}?expand=true, any number of tickets
  ticket_history*.json  GET /api/v1/ticket_history/{id}: {"history": [...], "assets": {...}}
  ticket_states.json    GET /api/v1/ticket_states (optional; custom states and their state_type_id)
  groups.json           GET /api/v1/groups (optional; group_id -> name when not expanded)
Both forms of a record are read: ids (state_id, group_id, sender_id, type_id) and expand=true names
(state, group, sender, type). Ids and names of the seeded records come from Zammad's db/seeds.
Times carry an offset ('Z'); a time without one is read as UTC.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted, SourceUsageError, s, table
from servicekpi.ingest.load import Batch

# db/seeds/ticket_state_types.rb
STATE_TYPES = {1: "new", 2: "open", 3: "pending reminder", 4: "pending action", 5: "closed", 6: "merged",
               7: "removed"}
# db/seeds/ticket_states.rb: state id -> (name, state type)
SEED_STATES = {1: ("new", "new"), 2: ("open", "open"), 3: ("pending reminder", "pending reminder"),
               4: ("closed", "closed"), 5: ("merged", "merged"), 6: ("removed", "removed"),
               7: ("pending close", "pending action")}
STATUS = {"new": "open", "open": "open", "pending reminder": "pending", "pending action": "pending",
          "closed": "closed", "merged": "closed", "removed": None}
EXCLUDED_TYPES = ("merged", "removed")
# db/seeds/ticket_article_senders.rb
SENDERS = {1: "agent", 2: "customer", 3: "system"}
# db/seeds/ticket_article_types.rb: id -> name; only 'note' has communication: false
ARTICLE_TYPES = {1: "email", 2: "sms", 3: "chat", 4: "fax", 5: "phone", 6: "twitter status",
                 7: "twitter direct-message", 8: "facebook feed post", 9: "facebook feed comment", 10: "note",
                 11: "web", 12: "telegram personal-message"}
NOT_COMMUNICATION = {"note"}
# db/seeds/ticket_priorities.rb: '1 low', '2 normal', '3 high'
PRIORITIES = {1: "low", 2: "normal", 3: "high"}
UNASSIGNED = "1"  # owner_id 1 is Zammad's "-" system user: nobody owns the ticket

TICKET_COLUMNS = ["ticket_id", "created_at", "channel", "category", "priority", "status", "customer_id",
                  "agent_id", "team", "first_response_at", "resolved_at", "reopen_count", "excluded", "number"]
MESSAGE_COLUMNS = ["message_id", "ticket_id", "sent_at", "author", "agent_id", "public"]


@dataclass
class Item:
    data: dict
    source: str
    line: int


@dataclass
class Source:
    """What a reader found, in Zammad's terms."""
    tickets: dict[str, Item] = field(default_factory=dict)  # latest version per ticket id
    articles: dict[str, Item] = field(default_factory=dict)  # by article id (first seen kept)
    history: dict[str, list[dict]] = field(default_factory=dict)  # ticket id -> state changes
    states: dict[str, tuple[str, str]] = field(default_factory=dict)  # state id -> (name, type)
    groups: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    superseded: int = 0
    unkeyed: int = 0


def _id(v) -> str | None:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return s(v.strip() if isinstance(v, str) else v)


def records(data) -> list:
    """An array, pages of arrays, or an object wrapping one (search answers without expand: assets)."""
    if isinstance(data, list):
        if data and all(isinstance(x, list) for x in data):
            return [r for page in data for r in page]
        return data
    if isinstance(data, dict):
        for key in ("history", "tickets", "articles", "records"):
            if isinstance(data.get(key), list) and (key != "tickets" or all(isinstance(x, dict) for x in data[key])):
                return data[key]
        assets = data.get("assets")
        if isinstance(assets, dict) and isinstance(assets.get("Ticket"), dict):
            return list(assets["Ticket"].values())
        return [data]
    return [data]


def _load(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConnectorError(f"{path}: not readable JSON ({e})") from None


def kind_of(path: Path) -> str | None:
    stem = path.stem.lower()
    for kind in ("ticket_history", "ticket_states", "articles", "tickets", "groups"):
        if stem.startswith(kind) or (kind == "articles" and stem.startswith("ticket_articles")):
            return kind
    return None


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None) -> Converted:
    if mapping is not None or dsn is not None:
        raise SourceUsageError("--source zammad reads a folder of REST API JSON files; it takes no --mapping or --dsn")
    if path is None or not Path(path).is_dir():
        raise ConnectorError(f"{path}: expected a folder holding tickets.json, articles.json and "
                             f"ticket_history_<id>.json (Zammad REST API answers)")
    src = Source()
    files = sorted(p for p in Path(path).iterdir() if p.suffix.lower() == ".json")
    if not any(kind_of(p) == "tickets" for p in files):
        raise ConnectorError(f"{path}: tickets.json is missing (GET /api/v1/tickets?expand=true)")
    order = ("ticket_states", "groups", "tickets", "articles", "ticket_history")
    for p in sorted(files, key=lambda p: (order.index(kind_of(p)) if kind_of(p) else 9, p.name)):
        kind = kind_of(p)
        if kind is None:
            src.notes.append(f"{p.name} ignored (expected tickets, articles, ticket_history, ticket_states, groups)")
            continue
        add(src, kind, records(_load(p)), str(p), _id_from_name(p))
    return build(src)


def _id_from_name(path: Path) -> str | None:
    found = re.findall(r"\d+", path.stem)
    return found[-1] if found else None


def add(src: Source, kind: str, items: list, source: str, ticket_hint: str | None = None) -> None:
    """Records of one answer into the Source (files and the live sync alike)."""
    for n, r in enumerate(items, start=1):
        if not isinstance(r, dict):
            r = {"_not_object": True}
        item = Item(r, source, n)
        if kind == "tickets":
            tid = _id(r.get("id"))
            if tid is None:
                src.unkeyed += 1
                src.tickets[f"\0{source}:{n}"] = item
                continue
            old = src.tickets.get(tid)
            if old is not None:
                src.superseded += 1
                if (s(r.get("updated_at")) or "") < (s(old.data.get("updated_at")) or ""):
                    continue
            src.tickets[tid] = item
        elif kind == "articles":
            aid = _id(r.get("id"))
            key = aid if aid is not None else f"\0{source}:{n}"
            if key not in src.articles:
                src.articles[key] = item
        elif kind == "ticket_history":
            if r.get("object") == "Ticket" and r.get("attribute") == "state" and r.get("type") == "updated":
                tid = _id(r.get("o_id")) or ticket_hint
                if tid:
                    src.history.setdefault(tid, []).append(r)
        elif kind == "ticket_states" and _id(r.get("id")):
            stype = r.get("state_type")  # expand=true gives the type's name
            if not isinstance(stype, str):
                stype = STATE_TYPES.get(r.get("state_type_id"))
            src.states[_id(r["id"])] = (s(r.get("name")) or "", (stype or "").lower())
        elif kind == "groups" and _id(r.get("id")):
            src.groups[_id(r["id"])] = s(r.get("name")) or _id(r["id"])


def state_type(src: Source, ticket: dict) -> str | None:
    sid = _id(ticket.get("state_id"))
    if sid in src.states:
        return src.states[sid][1]
    name = ticket.get("state")
    if isinstance(name, str):
        return type_of_name(src, name)
    if sid is not None and sid.isdigit() and int(sid) in SEED_STATES:
        return SEED_STATES[int(sid)][1]
    return None


def type_of_name(src: Source, name: str) -> str | None:
    """A state's name (history value_from/value_to, expand=true) -> its state type."""
    lowered = name.strip().lower()
    for sname, stype in src.states.values():
        if sname.lower() == lowered:
            return stype
    for sname, stype in SEED_STATES.values():
        if sname == lowered:
            return stype
    return None


def state_changes(src: Source, tid: str) -> list[tuple[str, str | None, str | None]]:
    """(time, type before, type after) per state change, in time order."""
    out = []
    for h in src.history.get(tid, []):
        before = type_of_name(src, s(h.get("value_from")) or "") if h.get("value_from") else None
        after = type_of_name(src, s(h.get("value_to")) or "") if h.get("value_to") else None
        out.append((s(h.get("created_at")) or "", before, after, _id(h.get("id")) or ""))
    out.sort(key=lambda x: (x[0], int(x[3]) if x[3].isdigit() else 0))
    return [(t, b, a) for t, b, a, _ in out]


def _priority(t: dict) -> str | None:
    name = t.get("priority")
    if isinstance(name, str):  # expand=true: '2 normal'
        return re.sub(r"^\d+\s+", "", name.strip()).lower() or None
    pid = t.get("priority_id")
    return PRIORITIES.get(pid, s(pid)) if pid is not None else None


def _channel(t: dict) -> str | None:
    name = t.get("create_article_type")
    if not isinstance(name, str):
        name = ARTICLE_TYPES.get(t.get("create_article_type_id"))
    if not name:
        return None
    name = name.lower()
    if name.startswith(("twitter", "facebook", "instagram")):
        return "social"
    if name.startswith("telegram"):
        return "telegram"
    if name.startswith("whatsapp"):
        return "whatsapp"
    return {"web": "web_form", "note": None}.get(name, name)


def ticket_row(src: Source, item: Item, counts: Counter) -> dict:
    t = item.data
    tid = _id(t.get("id"))
    stype = state_type(src, t)
    if stype is None and (t.get("state_id") is not None or t.get("state")):
        counts["unknown_state"] += 1
    changes = state_changes(src, tid) if tid else []
    # a reopen: the state left a closed-type state for an open one (merged/removed are not reopens)
    reopens = sum(1 for _, b, a in changes if b == "closed" and a not in ("closed", "merged", "removed", None))
    resolved = None
    if stype == "closed":
        closes = [when for when, _, a in changes if a == "closed"]
        resolved = s(t.get("last_close_at")) or (max(closes) if closes else None) or s(t.get("close_at"))
        if resolved is None:
            counts["no_close"] += 1
    owner = _id(t.get("owner_id"))
    group = _id(t.get("group_id"))
    team = t.get("group") if isinstance(t.get("group"), str) else src.groups.get(group, group) if group else None
    excluded = stype in EXCLUDED_TYPES
    if excluded:
        counts[stype] += 1
    status = STATUS.get(stype) if stype else s(t.get("state")) or s(t.get("state_id"))
    return {
        "ticket_id": tid,
        "created_at": s(t.get("created_at")),
        "channel": _channel(t),
        "category": s(t.get("category")),
        "priority": _priority(t),
        "status": status,
        "customer_id": _id(t.get("customer_id")),
        "agent_id": None if owner == UNASSIGNED else owner,
        "team": s(team),
        "first_response_at": s(t.get("first_response_at")),
        "resolved_at": resolved,
        "reopen_count": str(reopens) if tid else None,
        "excluded": "true" if excluded else "false",
        "number": s(t.get("number")),
    }


def message_row(item: Item, counts: Counter) -> dict:
    a = item.data
    sender = a.get("sender")
    sender = sender.lower() if isinstance(sender, str) else SENDERS.get(a.get("sender_id"))
    kind = a.get("type")
    kind = kind.lower() if isinstance(kind, str) else ARTICLE_TYPES.get(a.get("type_id"))
    internal = a.get("internal")
    internal = internal if isinstance(internal, bool) else str(internal).lower() in ("true", "1")
    public = not internal and kind not in NOT_COMMUNICATION
    if sender is None:
        author = f"unknown sender {s(a.get('sender_id')) or '(none)'}"  # quarantined with its location
    else:
        author = sender
    if author == "system":
        counts["system"] += 1
    elif internal:
        counts["internal"] += 1
    elif kind in NOT_COMMUNICATION:
        counts["note"] += 1
    return {
        "message_id": _id(a.get("id")),
        "ticket_id": _id(a.get("ticket_id")),
        "sent_at": s(a.get("created_at")),
        "author": author,
        "agent_id": _id(a.get("created_by_id")) if author == "agent" else None,
        "public": "true" if public else "false",
    }


def build(src: Source) -> Converted:
    out = Converted(source_tz="UTC", notes=list(src.notes))
    counts: Counter = Counter()
    groups: dict[tuple[str, str], tuple[list, list]] = {}

    def put(tbl: str, item: Item, row: dict) -> None:
        rows, lines = groups.setdefault((tbl, item.source), ([], []))
        rows.append(row)
        lines.append(item.line)

    for item in src.tickets.values():
        put("tickets", item, ticket_row(src, item, counts))
    for item in src.articles.values():
        put("messages", item, message_row(item, counts))
    for (tbl, source), (rows, lines) in groups.items():
        cols = TICKET_COLUMNS if tbl == "tickets" else MESSAGE_COLUMNS
        out.batches.append(Batch(tbl, source, table(rows, cols), lines, "item"))
    if src.superseded:
        out.notes.append(f"{src.superseded} older version(s) of tickets seen again: the latest updated_at kept")
    for what, text in (("merged", "merged ticket(s) kept with excluded=true"),
                       ("removed", "removed ticket(s) kept with excluded=true"),
                       ("no_close", "closed ticket(s) without last_close_at, close_at or a close in the history: "
                                    "resolved_at left empty"),
                       ("unknown_state", "ticket(s) with a state not in ticket_states.json nor Zammad's seeded "
                                         "states: status passed on (quarantined); export GET /api/v1/ticket_states"),
                       ("system", "System article(s) kept as author system (not replies)"),
                       ("internal", "internal article(s) kept as non-public messages (not replies)"),
                       ("note", "public note(s) kept as non-public messages (type note is not a communication "
                                "with the customer: not replies)")):
        if counts[what]:
            out.notes.append(f"{counts[what]} {text}")
    return out
