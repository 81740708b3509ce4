"""Freshdesk (API v2 JSON) -> tickets, messages, surveys.

Inputs, in one folder (docs/connectors/freshdesk.md):
  tickets.json               GET /api/v2/tickets?include=stats (pages may be concatenated)
  conversations.json         GET /api/v2/tickets/{id}/conversations, all tickets in one array
                             (or an object {ticket_id: [conversations]})
  satisfaction_ratings.json  GET /api/v2/surveys/satisfaction_ratings
  agents.json (optional)     GET /api/v2/agents: outgoing public conversations by anyone else are bot
Optional --mapping TOML: [freshdesk] bot_user_ids, rating_points, [freshdesk.survey_points].

Freshdesk API v2 times are UTC with a 'Z'; a time without an offset is read as UTC (source_tz).
Nothing is dropped silently: unknown codes are reported in notes or passed through so that the
engine quarantines the row with its file, item number and reason.
"""
from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted, s, table
from servicekpi.ingest.load import Batch

# Ticket status codes (Freshdesk API v2, "Ticket properties": 2 Open, 3 Pending, 4 Resolved, 5 Closed).
STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
# Priority codes (1 Low, 2 Medium, 3 High, 4 Urgent).
PRIORITY = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
# Source codes (1 Email, 2 Portal, 3 Phone, 7 Chat, 9 Feedback Widget, 10 Outbound Email).
SOURCE = {1: "email", 2: "web_form", 3: "phone", 7: "chat", 9: "web_form", 10: "email"}
OUTBOUND_EMAIL = 10
# Satisfaction rating values (Freshdesk API v2, "Satisfaction Ratings"): one value set for every
# survey; a 3-point survey uses 103/100/-103, a 5-point one 103/102/100/-102/-103, a 7-point one all.
RATING_VALUES = {
    3: (-103, 100, 103),
    5: (-103, -102, 100, 102, 103),
    7: (-103, -102, -101, 100, 101, 102, 103),
}

TICKET_COLUMNS = ["ticket_id", "created_at", "channel", "category", "priority", "status", "customer_id",
                  "agent_id", "team", "first_response_at", "resolved_at", "reopen_count", "excluded"]
MESSAGE_COLUMNS = ["message_id", "ticket_id", "sent_at", "author", "agent_id", "public"]
SURVEY_COLUMNS = ["response_id", "survey", "score", "scale_min", "scale_max", "responded_at", "ticket_id",
                  "customer_id", "agent_id", "comment"]



def read_items(path: Path) -> list[dict]:
    """A saved API answer: an array, pages of arrays, or an object wrapping the array."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConnectorError(f"{path}: not readable JSON ({e})") from None
    return flatten(data, path)


def flatten(data, path: Path) -> list:
    if isinstance(data, dict):
        for key in ("payload", "data", "results", "tickets", "conversations", "satisfaction_ratings", "agents"):
            if key in data:
                return flatten(data[key], path)
        raise ConnectorError(f"{path}: expected a JSON array of records (or an object holding one)")
    if not isinstance(data, list):
        raise ConnectorError(f"{path}: expected a JSON array of records")
    if data and all(isinstance(x, list) for x in data):  # concatenated pages
        return [item for page in data for item in page]
    return data



def load_mapping(mapping: Path | None, section: str) -> dict:
    if mapping is None:
        return {}
    try:
        cfg = tomllib.loads(mapping.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConnectorError(f"{mapping}: not a readable TOML mapping ({e})") from None
    return cfg.get(section, {})


def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None) -> Converted:
    if dsn is not None:
        raise ConnectorError("--dsn is for --source chatwoot; Freshdesk is read from its API JSON files")
    if path is None or not path.is_dir():
        raise ConnectorError(f"{path}: expected a folder holding tickets.json, conversations.json "
                             f"and satisfaction_ratings.json (Freshdesk API v2 answers)")
    opts = load_mapping(mapping, "freshdesk")
    bots = {str(b) for b in opts.get("bot_user_ids", [])}
    points = opts.get("rating_points", 7)
    survey_points = {str(k): v for k, v in opts.get("survey_points", {}).items()}
    for p in [points, *survey_points.values()]:
        if p not in RATING_VALUES:
            raise ConnectorError(f"{mapping}: rating_points {p!r} is not 3, 5 or 7")
    out = Converted(source_tz="UTC")
    files = {f.stem.lower(): f for f in path.iterdir() if f.suffix.lower() == ".json"}
    if "tickets" not in files:
        raise ConnectorError(f"{path}: tickets.json is missing (GET /api/v2/tickets?include=stats)")
    known = {"tickets", "conversations", "satisfaction_ratings", "agents"}
    for stem in sorted(set(files) - known):
        out.notes.append(f"{files[stem].name} ignored (expected tickets, conversations, satisfaction_ratings, agents)")
    agents = None
    if "agents" in files:
        agents = {str(a.get("id")) for a in read_items(files["agents"]) if isinstance(a, dict)}
    conversations = read_items_by_ticket(files["conversations"]) if "conversations" in files else []
    talked = {s(c.get("ticket_id")) for c in conversations if isinstance(c, dict)}
    _tickets(read_items(files["tickets"]), files["tickets"], talked, out)
    if "conversations" in files:
        _conversations(conversations, files["conversations"], bots, agents, out)
    if "satisfaction_ratings" in files:
        _ratings(read_items(files["satisfaction_ratings"]), files["satisfaction_ratings"], points,
                 survey_points, out)
    return out


def read_items_by_ticket(path: Path) -> list[dict]:
    """Conversations as one array, pages, or {ticket_id: [conversation, ...]}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConnectorError(f"{path}: not readable JSON ({e})") from None
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()) \
            and "conversations" not in data:
        return [dict(c, ticket_id=c.get("ticket_id", k)) if isinstance(c, dict) else c
                for k, v in data.items() for c in v]
    return flatten(data, path)


def _status(ticket: dict, counts: Counter) -> str | None:
    code = ticket.get("status")
    if code in STATUS:
        return STATUS[code]
    if code is None:
        return None
    counts[code] += 1
    return "pending"  # custom statuses ("Waiting on customer", "Waiting on third party", ...)


def _tickets(items: list, path: Path, talked: set, out: Converted) -> None:
    rows, lines, openers, opener_lines = [], [], [], []
    custom_status: Counter = Counter()
    other_source: Counter = Counter()
    excluded = no_resolution = 0
    for n, t in enumerate(items, 1):
        if not isinstance(t, dict):
            rows.append({"ticket_id": None})  # quarantined: missing ticket_id, located at item n
            lines.append(n)
            continue
        stats = t.get("stats") or {}
        status = _status(t, custom_status)
        source = t.get("source")
        channel = SOURCE.get(source)
        if channel is None and source is not None:
            other_source[source] += 1
            channel = f"freshdesk_source_{source}"
        resolved = None
        if status in ("resolved", "closed"):
            resolved = stats.get("resolved_at") or stats.get("closed_at")
            no_resolution += resolved is None
        priority = t.get("priority")
        gone = bool(t.get("spam")) or bool(t.get("deleted"))
        excluded += gone
        tid = s(t.get("id"))
        rows.append({
            "ticket_id": tid,
            "created_at": s(t.get("created_at")),
            "channel": channel,
            "category": s(t.get("type")),
            "priority": PRIORITY.get(priority, s(priority)),  # an unknown code is quarantined
            "status": status,
            "customer_id": s(t.get("requester_id")),
            "agent_id": s(t.get("responder_id")),
            "team": s(t.get("group_id")),
            "first_response_at": s(stats.get("first_responded_at")),
            "resolved_at": s(resolved),
            # stats.reopened_at is the last reopen only: a reopened ticket counts once (a lower bound)
            "reopen_count": "1" if stats.get("reopened_at") else "0",
            "excluded": "true" if gone else "false",
        })
        lines.append(n)
        if tid not in talked:
            continue  # no conversations here: first_response_at comes from stats
        # the ticket's description is its opening message (the conversations API leaves it out)
        outbound = source == OUTBOUND_EMAIL
        openers.append({"message_id": f"{tid}:description" if tid else None, "ticket_id": tid,
                        "sent_at": s(t.get("created_at")), "author": "agent" if outbound else "customer",
                        "agent_id": s(t.get("responder_id")) if outbound else None, "public": "true"})
        opener_lines.append(n)
    out.batches.append(Batch("tickets", str(path), table(rows, TICKET_COLUMNS), lines))
    if openers:
        out.batches.append(Batch("messages", f"{path} (descriptions)", table(openers, MESSAGE_COLUMNS),
                                 opener_lines))
    for code, k in sorted(custom_status.items(), key=lambda x: str(x[0])):
        out.notes.append(f"{k} ticket(s) with custom status {code} imported as pending")
    for code, k in sorted(other_source.items(), key=lambda x: str(x[0])):
        out.notes.append(f"{k} ticket(s) with source {code} (not a documented source code) "
                         f"imported with channel freshdesk_source_{code}")
    if excluded:
        out.notes.append(f"{excluded} spam or deleted ticket(s) kept with excluded = true")
    if no_resolution:
        out.notes.append(f"{no_resolution} resolved or closed ticket(s) without stats.resolved_at or "
                         f"stats.closed_at left unresolved (import them with include=stats)")


def _conversations(items: list, path: Path, bots: set[str], agents: set[str] | None, out: Converted) -> None:
    rows, lines = [], []
    counts: Counter = Counter()
    for n, c in enumerate(items, 1):
        if not isinstance(c, dict):
            rows.append({"message_id": None})
            lines.append(n)
            continue
        user = s(c.get("user_id"))
        private = bool(c.get("private"))
        if c.get("incoming"):
            author, agent = "customer", None
        elif user in bots or (agents is not None and user not in agents):
            author, agent = "bot", None
            counts["bot"] += 1
        else:
            author, agent = "agent", user
        if private:
            counts["private"] += 1
        rows.append({"message_id": s(c.get("id")), "ticket_id": s(c.get("ticket_id")),
                     "sent_at": s(c.get("created_at")), "author": author, "agent_id": agent,
                     "public": "false" if private else "true"})
        lines.append(n)
    out.batches.append(Batch("messages", str(path), table(rows, MESSAGE_COLUMNS), lines))
    if counts["private"]:
        out.notes.append(f"{counts['private']} private note(s) kept as non-public messages (not replies)")
    if counts["bot"]:
        out.notes.append(f"{counts['bot']} outgoing conversation(s) by a bot or non-agent user kept as "
                         f"author bot (not replies)")


def _ratings(items: list, path: Path, points: int, survey_points: dict, out: Converted) -> None:
    rows, lines = [], []
    other_questions = 0
    for n, r in enumerate(items, 1):
        if not isinstance(r, dict):
            rows.append({"response_id": None})
            lines.append(n)
            continue
        ratings = r.get("ratings") or {}
        other_questions += sum(1 for k in ratings if k != "default_question")
        p = survey_points.get(s(r.get("survey_id")), points)
        raw = ratings.get("default_question")
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw)
        values = RATING_VALUES[p]
        # the rating's position on its survey's scale: 1 (most unhappy) .. p (most happy); a value
        # outside the survey's set (e.g. a legacy 1/2/3, which a 1..p check would take as a score)
        # becomes a text the engine rejects as not a number, so it is quarantined with the reason
        score = (str(values.index(raw) + 1) if raw in values else
                 None if raw is None else
                 f"{raw} (not a rating value of a {p}-point Freshdesk survey: {', '.join(map(str, values))})")
        rows.append({"response_id": s(r.get("id")), "survey": "csat", "score": score, "scale_min": "1",
                     "scale_max": str(p), "responded_at": s(r.get("created_at")),
                     "ticket_id": s(r.get("ticket_id")), "customer_id": s(r.get("user_id")),
                     "agent_id": s(r.get("agent_id")), "comment": s(r.get("feedback"))})
        lines.append(n)
    out.batches.append(Batch("surveys", str(path), table(rows, SURVEY_COLUMNS), lines))
    if other_questions:
        out.notes.append(f"{other_questions} answer(s) to custom survey questions other than default_question "
                         f"not imported (only the default question is CSAT)")
