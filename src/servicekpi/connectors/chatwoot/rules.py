"""Chatwoot -> tickets (one per conversation), messages, surveys.

Two inputs (docs/connectors/chatwoot.md):
  * a folder of API JSON answers (Application API v1, one account):
      conversations.json           GET /api/v1/accounts/{a}/conversations (pages may be concatenated)
      messages.json                GET /api/v1/accounts/{a}/conversations/{id}/messages, all conversations
      csat_survey_responses.json   GET /api/v1/accounts/{a}/csat_survey_responses
  * --dsn postgresql://... : the Chatwoot database itself, read only (chatwoot_db.py).

Times: the API gives epoch seconds (absolute); the database has `timestamp without time zone` in UTC.
Both are written with a 'Z'; any other time without an offset is read as UTC (source_tz).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted, s, table
from servicekpi.ingest.load import Batch

# app/models/conversation.rb: enum status { open: 0, resolved: 1, pending: 2, snoozed: 3 }
STATUS_ENUM = {0: "open", 1: "resolved", 2: "pending", 3: "snoozed"}
STATUS = {"open": "open", "resolved": "resolved", "pending": "pending", "snoozed": "on_hold"}
# enum priority { low: 0, medium: 1, high: 2, urgent: 3 }
PRIORITY_ENUM = {0: "low", 1: "medium", 2: "high", 3: "urgent"}
PRIORITY = {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent"}
# app/models/message.rb: enum message_type { incoming: 0, outgoing: 1, activity: 2, template: 3 }
MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
# inboxes.channel_type -> canonical channel
CHANNELS = {
    "Channel::WebWidget": "chat", "Channel::Email": "email", "Channel::Api": "api",
    "Channel::FacebookPage": "social", "Channel::Instagram": "social", "Channel::TwitterProfile": "social",
    "Channel::Tiktok": "social", "Channel::Whatsapp": "whatsapp", "Channel::Telegram": "telegram",
    "Channel::Line": "line", "Channel::Sms": "sms", "Channel::TwilioSms": "sms", "Channel::Voice": "phone",
}
BOT_SENDERS = {"agentbot", "agent_bot", "captain::assistant", "captain_assistant", "captainassistant"}
# the activity message Chatwoot writes when a conversation is resolved (config/locales/en.yml,
# conversations.activity.status.resolved / auto_resolved): "Conversation was marked resolved by ..."
RESOLVED_ACTIVITY = re.compile(r"\bresolved\b", re.IGNORECASE)

TICKET_COLUMNS = ["ticket_id", "created_at", "channel", "priority", "status", "customer_id", "agent_id", "team",
                  "first_response_at", "resolved_at", "reopen_count", "inbox"]
MESSAGE_COLUMNS = ["message_id", "ticket_id", "sent_at", "author", "agent_id", "public"]
SURVEY_COLUMNS = ["response_id", "survey", "score", "scale_min", "scale_max", "responded_at", "ticket_id",
                  "customer_id", "agent_id", "comment"]


@dataclass
class Source:
    """Rows read from the API files or the database, before mapping (one shape for both)."""
    name: str  # file or dsn table, for locating rows
    conversations: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    csat: list[dict] = field(default_factory=list)
    resolutions: dict[str, list] = field(default_factory=lambda: defaultdict(list))  # key -> resolve instants
    files: dict[str, str] = field(default_factory=dict)  # kind -> source name
    fallback_label: str = "last_activity_at"
    notes: list[str] = field(default_factory=list)


def iso(v) -> str | None:
    """Epoch seconds, a datetime (naive = UTC) or an ISO string -> ISO text; 0/None = missing."""
    if v is None or v == "" or v == 0:
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        return dt.datetime.fromtimestamp(v, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds" if v.microsecond else "seconds") + "Z"
    if isinstance(v, str) and v.strip().isdigit():
        return iso(int(v))
    return str(v)  # passed through: the engine parses it or quarantines it




def convert(path: Path | None, *, mapping: Path | None = None, dsn: str | None = None) -> Converted:
    if mapping is not None:
        raise ConnectorError("--mapping is for --source csv (or freshdesk); Chatwoot needs none")
    if dsn is not None:
        if path is not None:
            raise ConnectorError("give either a PATH of Chatwoot API files or --dsn, not both")
        from servicekpi.connectors.chatwoot.db import read
        return build(read(dsn))
    if path is None or not path.is_dir():
        raise ConnectorError(f"{path}: expected a folder holding conversations.json, messages.json and "
                             f"csat_survey_responses.json (Chatwoot API answers), or --dsn postgresql://...")
    return build(read_api(path))


# -- API files -------------------------------------------------------------------------------------

def _records(data) -> list:
    """Unwrap {"data": {"payload": [...]}}, {"payload": [...]}, arrays and arrays of pages."""
    if isinstance(data, dict):
        for key in ("data", "payload"):
            if key in data:
                return _records(data[key])
        return [data]
    if isinstance(data, list):
        out = []
        for x in data:
            if isinstance(x, list) or (isinstance(x, dict) and ("payload" in x or "data" in x)):
                out.extend(_records(x))
            else:
                out.append(x)
        return out
    return [data]


def _load(path: Path) -> list:
    try:
        return _records(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConnectorError(f"{path}: not readable JSON ({e})") from None


def _sender_type(m: dict) -> str | None:
    t = m.get("sender_type") or (m.get("sender") or {}).get("type")
    return t.lower() if isinstance(t, str) else None


def read_api(path: Path) -> Source:
    files = {f.stem.lower(): f for f in path.iterdir() if f.suffix.lower() == ".json"}
    if "conversations" not in files:
        raise ConnectorError(f"{path}: conversations.json is missing "
                             f"(GET /api/v1/accounts/{{account_id}}/conversations)")
    src = Source(str(path))
    notes = src.notes
    known = {"conversations", "messages", "csat_survey_responses"}
    for stem in sorted(set(files) - known):
        notes.append(f"{files[stem].name} ignored (expected conversations, messages, csat_survey_responses)")
    accounts = set()
    for c in _load(files["conversations"]):
        if not isinstance(c, dict):
            src.conversations.append({"key": None})
            continue
        meta = c.get("meta") or {}
        accounts.add(c.get("account_id"))
        src.conversations.append({
            "key": s(c.get("id")), "created_at": c.get("created_at"), "status": c.get("status"),
            "priority": c.get("priority"), "channel_type": meta.get("channel"),
            "contact_id": (meta.get("sender") or {}).get("id"), "assignee_id": (meta.get("assignee") or {}).get("id"),
            "team": (meta.get("team") or {}).get("name"), "inbox_id": c.get("inbox_id"),
            "first_reply_created_at": c.get("first_reply_created_at"),
            "fallback_resolved_at": c.get("last_activity_at") or c.get("timestamp"),
        })
    if len(accounts - {None}) > 1:
        notes.append(f"conversations of {len(accounts - {None})} accounts in one folder: display ids may collide "
                     f"(export one account per folder)")
    src.files["conversations"] = str(files["conversations"])
    if "messages" in files:
        src.files["messages"] = str(files["messages"])
        for m in _load(files["messages"]):
            if not isinstance(m, dict):
                src.messages.append({"id": None})
                continue
            key = s(m.get("conversation_id"))
            mtype = m.get("message_type")
            src.messages.append({"id": m.get("id"), "key": key, "message_type": mtype,
                                 "private": m.get("private"), "sender_type": _sender_type(m),
                                 "sender_id": m.get("sender_id") or (m.get("sender") or {}).get("id"),
                                 "created_at": m.get("created_at")})
            if mtype in (2, "activity") and RESOLVED_ACTIVITY.search(str(m.get("content") or "")):
                src.resolutions[key].append(iso(m.get("created_at")))
    if "csat_survey_responses" in files:
        src.files["csat"] = str(files["csat_survey_responses"])
        for r in _load(files["csat_survey_responses"]):
            if not isinstance(r, dict):
                src.csat.append({"id": None})
                continue
            src.csat.append({"id": r.get("id"), "key": s(r.get("conversation_id")), "rating": r.get("rating"),
                             "feedback": r.get("feedback_message"),
                             "contact_id": (r.get("contact") or {}).get("id") or r.get("contact_id"),
                             "agent_id": (r.get("assigned_agent") or {}).get("id") or r.get("assigned_agent_id"),
                             "created_at": r.get("created_at")})
    return src


# -- mapping (API and database alike) --------------------------------------------------------------

def _enum(v, numbers: dict, names: dict):
    if isinstance(v, int) and not isinstance(v, bool):
        v = numbers.get(v, v)
    if isinstance(v, str):
        return names.get(v.strip().lower(), v)  # unknown: passed through, the engine quarantines it
    return s(v)


def author(m: dict, counts: Counter) -> tuple[str, str | None, bool]:
    """(author, agent_id, public) of one Chatwoot message."""
    mtype = m.get("message_type")
    mtype = MESSAGE_TYPES.get(mtype, mtype) if isinstance(mtype, int) else mtype
    sender = m.get("sender_type")
    private = bool(m.get("private"))
    if mtype == "activity":  # status changes, assignments, labels: events, never replies
        counts["activity"] += 1
        return "system", None, False
    if private:
        counts["private"] += 1
    if mtype == "incoming":
        return "customer", None, not private
    if mtype == "template":  # CSAT prompts, pre-chat forms: written by Chatwoot
        counts["bot"] += 1
        return "bot", None, not private
    if mtype == "outgoing":
        if sender == "user":
            return "agent", s(m.get("sender_id")), not private
        counts["bot"] += 1  # an agent bot, Captain, or no sender (greeting, auto-reply, automation)
        return "bot", None, not private
    counts["unknown_type"] += 1
    return f"message_type {mtype}", None, not private  # quarantined: not customer/agent/bot/system


def build(src: Source) -> Converted:
    out = Converted(source_tz="UTC")
    out.notes.extend(src.notes)
    counts: Counter = Counter()
    tickets, lines = [], []
    for n, c in enumerate(src.conversations, 1):
        status = _enum(c.get("status"), STATUS_ENUM, STATUS)
        if c.get("status") in ("snoozed", 3):
            counts["snoozed"] += 1
        done = sorted(x for x in src.resolutions.get(c.get("key"), []) if x)
        resolved = None
        if status == "resolved":
            if done:
                resolved = done[-1]
            else:
                resolved = iso(c.get("fallback_resolved_at"))
                counts["fallback"] += 1
        channel_type = c.get("channel_type")
        channel = CHANNELS.get(channel_type)
        if channel is None and channel_type:
            counts[f"channel {channel_type}"] += 1
            channel = str(channel_type).replace("Channel::", "").lower()
        tickets.append({
            "ticket_id": c.get("key"), "created_at": iso(c.get("created_at")), "channel": channel,
            "priority": _enum(c.get("priority"), PRIORITY_ENUM, PRIORITY), "status": status,
            "customer_id": s(c.get("contact_id")), "agent_id": s(c.get("assignee_id")), "team": s(c.get("team")),
            "first_response_at": iso(c.get("first_reply_created_at")), "resolved_at": resolved,
            # each resolve that did not end the conversation was followed by a reopen
            "reopen_count": str(max(len(done) - (1 if status == "resolved" else 0), 0)),
            "inbox": s(c.get("inbox_id")),
        })
        lines.append(c.get("line", n))
    out.batches.append(Batch("tickets", src.files.get("conversations", src.name), table(tickets, TICKET_COLUMNS),
                             lines, src.files.get("line_kind", "item")))
    if src.messages or "messages" in src.files:
        rows, lines = [], []
        for n, m in enumerate(src.messages, 1):
            who, agent, public = author(m, counts)
            rows.append({"message_id": s(m.get("id")), "ticket_id": m.get("key"), "sent_at": iso(m.get("created_at")),
                         "author": who, "agent_id": agent, "public": "true" if public else "false"})
            lines.append(m.get("line", n))
        out.batches.append(Batch("messages", src.files.get("messages", src.name), table(rows, MESSAGE_COLUMNS),
                                 lines, src.files.get("line_kind", "item")))
    if src.csat or "csat" in src.files:
        rows, lines = [], []
        for n, r in enumerate(src.csat, 1):
            rows.append({"response_id": s(r.get("id")), "survey": "csat", "score": s(r.get("rating")),
                         "scale_min": "1", "scale_max": "5", "responded_at": iso(r.get("created_at")),
                         "ticket_id": r.get("key"), "customer_id": s(r.get("contact_id")),
                         "agent_id": s(r.get("agent_id")), "comment": s(r.get("feedback"))})
            lines.append(r.get("line", n))
        out.batches.append(Batch("surveys", src.files.get("csat", src.name), table(rows, SURVEY_COLUMNS), lines,
                                 src.files.get("line_kind", "item")))
    _notes(out, counts, src.fallback_label)
    return out


def _notes(out: Converted, counts: Counter, fallback_label: str) -> None:
    if counts["snoozed"]:
        out.notes.append(f"{counts['snoozed']} snoozed conversation(s) imported with status on_hold")
    if counts["fallback"]:
        out.notes.append(f"{counts['fallback']} resolved conversation(s) without a resolve event: resolved_at is "
                         f"their {fallback_label}")
    for k, v in sorted(counts.items()):
        if k.startswith("channel "):
            out.notes.append(f"{v} conversation(s) from inbox type {k[8:]} (no channel mapping) imported with "
                             f"channel {k[8:].replace('Channel::', '').lower()}")
    if counts["bot"]:
        out.notes.append(f"{counts['bot']} message(s) by bots, automations or templates kept as author bot "
                         f"(not replies)")
    if counts["private"]:
        out.notes.append(f"{counts['private']} private note(s) kept as non-public messages (not replies)")
    if counts["activity"]:
        out.notes.append(f"{counts['activity']} activity message(s) kept as author system (not replies)")
