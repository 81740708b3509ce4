"""HubSpot Service Hub (CRM v3 + Conversations v3 JSON) -> tickets, messages, surveys.

Inputs, in one folder (docs/connectors/hubspot.md), each a saved API answer (one page
{"results": [...], "paging": ...}, a list of pages, or a plain array of records):
  tickets.json               GET /crm/v3/objects/tickets (or POST .../tickets/search) with properties
  pipelines.json (optional)  GET /crm/v3/pipelines/tickets: stage metadata.ticketState OPEN/CLOSED
  threads.json (optional)    GET /conversations/v3/conversations/threads
  messages.json (optional)   GET /conversations/v3/conversations/threads/{threadId}/messages, as
                             {threadId: page or [messages]} (or records carrying threadId)
  feedback_submissions.json  GET /crm/v3/objects/feedback_submissions with properties
Optional --mapping TOML: [hubspot.stages] stage id = canonical status; [hubspot.scales] csat/nps/ces.

Times carry an offset (ISO 8601 with Z); none is changed here: rows go to the engine as given,
and a bad value is quarantined there with its file, item number, column and reason.
"""
from __future__ import annotations

import json
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from servicekpi.connectors import ConnectorError, Converted, s, table
from servicekpi.ingest.load import Batch

# HubSpot's default "Support Pipeline" (id 0): 1 New, 2 Waiting on contact, 3 Waiting on us, 4 Closed.
DEFAULT_STAGES = {"1": "open", "2": "pending", "3": "open", "4": "closed"}
STATE = {"OPEN": "open", "CLOSED": "closed"}  # pipelines API: stage metadata.ticketState
RESOLVED = ("resolved", "closed")
PRIORITY = {"LOW": "low", "MEDIUM": "normal", "HIGH": "high", "URGENT": "urgent"}
CHANNEL = {"EMAIL": "email", "CHAT": "chat", "PHONE": "phone", "FORM": "web_form"}
# survey type -> (canonical survey, default scale): CSAT 0 unhappy, 1 neutral, 2 happy; NPS 0-10; CES 1-7
SURVEYS = {"CSAT": ("csat", (0, 2)), "NPS": ("nps", (0, 10)), "CES": ("ces", (1, 7))}
# actor id prefixes (Conversations API actors): A- agent (user), V- visitor, E- email, B- bot,
# I- integration, S- system
ACTOR = {"A": "agent", "V": "customer", "E": "customer", "B": "bot", "I": "bot", "S": "system"}
MESSAGE_TYPES = ("MESSAGE", "COMMENT", "WELCOME_MESSAGE")

TICKET_COLUMNS = ["ticket_id", "created_at", "channel", "category", "priority", "status", "customer_id",
                  "agent_id", "resolved_at", "excluded"]
MESSAGE_COLUMNS = ["message_id", "ticket_id", "sent_at", "author", "agent_id", "public"]
SURVEY_COLUMNS = ["response_id", "survey", "score", "scale_min", "scale_max", "responded_at", "ticket_id",
                  "customer_id", "comment"]
FILES = ("tickets", "pipelines", "threads", "messages", "feedback_submissions")


@dataclass
class Options:
    stages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGES))
    scales: dict[str, tuple[float, float]] = field(default_factory=lambda: {k: v for k, v in SURVEYS.values()})
    mapped: set[str] = field(default_factory=set)  # stages named in the mapping: they win over pipelines.json


def options(mapping: Path | None) -> Options:
    opts = Options()
    if mapping is None:
        return opts
    try:
        cfg = tomllib.loads(Path(mapping).read_text(encoding="utf-8")).get("hubspot", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConnectorError(f"{mapping}: not a readable TOML mapping ({e})") from None
    for stage, status in (cfg.get("stages") or {}).items():
        if not isinstance(status, str):
            raise ConnectorError(f"{mapping}, key hubspot.stages.{stage}: expected a status such as \"resolved\"")
        opts.stages[str(stage)] = status.strip().lower()
        opts.mapped.add(str(stage))
    for name, scale in (cfg.get("scales") or {}).items():
        if name not in opts.scales or not (isinstance(scale, list) and len(scale) == 2 and scale[0] < scale[1]):
            raise ConnectorError(f"{mapping}, key hubspot.scales.{name}: expected csat, nps or ces = [min, max]")
        opts.scales[name] = (scale[0], scale[1])
    return opts


def records(doc, path: str) -> list:
    """The records of a saved answer: a page, a list of pages or a plain array."""
    if isinstance(doc, dict) and isinstance(doc.get("results"), list):
        return doc["results"]
    if isinstance(doc, list):
        if doc and all(isinstance(p, dict) and isinstance(p.get("results"), list) for p in doc):
            return [r for p in doc for r in p["results"]]
        return doc
    raise ConnectorError(f"{path}: expected a HubSpot answer: {{\"results\": [...]}}, a list of them, or an array")


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ConnectorError(f"{path}: not valid UTF-8 at byte {e.start}") from None
    except json.JSONDecodeError as e:
        raise ConnectorError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def messages_by_thread(doc, path: str) -> list[tuple[str | None, dict | object]]:
    if isinstance(doc, dict) and "results" not in doc:
        return [(str(tid), m) for tid, page in doc.items() for m in records(page, f"{path} thread {tid}")]
    return [(s(m.get("threadId")) if isinstance(m, dict) else None, m) for m in records(doc, path)]


def convert(path, *, mapping=None, dsn=None) -> Converted:
    if dsn is not None:
        raise ConnectorError("--dsn is for --source chatwoot; HubSpot is read from its API JSON files")
    if path is None or not Path(path).is_dir():
        raise ConnectorError(f"{path}: expected a folder holding tickets.json (GET /crm/v3/objects/tickets), and "
                             "optionally pipelines.json, threads.json, messages.json, feedback_submissions.json")
    path = Path(path)
    files = {f.stem.lower(): f for f in path.iterdir() if f.suffix.lower() == ".json"}
    if not files.keys() & {"tickets", "threads", "feedback_submissions"}:
        raise ConnectorError(f"{path}: no tickets.json, threads.json or feedback_submissions.json here")
    docs = {k: (read_json(files[k]), str(files[k])) for k in FILES if k in files}
    out = build(docs, options(mapping))
    for stem in sorted(set(files) - set(FILES)):
        out.notes.append(f"{files[stem].name} ignored (expected {', '.join(f + '.json' for f in FILES)})")
    return out


def build(docs: dict[str, tuple[object, str]], opts: Options) -> Converted:
    """docs: kind -> (parsed JSON, source label). One mapping for files and the live sync."""
    out = Converted(source_tz="UTC")
    stages = dict(opts.stages)
    if "pipelines" in docs:
        doc, label = docs["pipelines"]
        for p in records(doc, label):
            for st in (p.get("stages") or []) if isinstance(p, dict) else []:
                state = STATE.get(str((st.get("metadata") or {}).get("ticketState", "")).upper())
                sid = s(st.get("id"))
                if state and sid and sid not in opts.mapped and \
                        (stages.get(sid) in RESOLVED) != (state == "closed"):  # keep a finer default (pending)
                    stages[sid] = state
    tickets: set[str] = set()
    if "tickets" in docs:
        _tickets(*docs["tickets"], stages, tickets, out)
    if "threads" in docs or "messages" in docs:
        _conversations(docs.get("threads"), docs.get("messages"), tickets, out)
    if "feedback_submissions" in docs:
        _surveys(*docs["feedback_submissions"], opts, out)
    return out


def _tickets(doc, label: str, stages: dict, seen: set, out: Converted) -> None:
    rows, lines = [], []
    unknown: Counter = Counter()
    archived = 0
    for n, t in enumerate(records(doc, label), 1):
        p = t.get("properties") or {} if isinstance(t, dict) else {}
        if not isinstance(t, dict) or not isinstance(p, dict):
            rows.append({"ticket_id": None})  # quarantined as missing ticket_id, at item n
            lines.append(n)
            continue
        stage = s(p.get("hs_pipeline_stage"))
        status = stages.get(stage) if stage else None
        if stage and status is None:
            unknown[stage] += 1
            status = f"{stage} (a pipeline stage not in the stage map)"  # quarantined with this reason
        tid = s(t.get("id")) or s(p.get("hs_object_id"))
        seen.add(tid)
        gone = bool(t.get("archived"))
        archived += gone
        priority, source = s(p.get("hs_ticket_priority")), s(p.get("source_type"))
        rows.append({
            "ticket_id": tid,
            "created_at": s(p.get("createdate")) or s(t.get("createdAt")),
            "channel": CHANNEL.get(source.upper(), source.lower()) if source else None,
            "category": s(p.get("hs_ticket_category")),
            "priority": PRIORITY.get(priority.upper(), priority) if priority else None,
            "status": status,
            "customer_id": None,
            "agent_id": s(p.get("hubspot_owner_id")),
            "resolved_at": s(p.get("closed_date")) if status in RESOLVED else None,
            "excluded": "true" if gone else "false",
        })
        lines.append(n)
    out.batches.append(Batch("tickets", label, table(rows, TICKET_COLUMNS), lines))
    for stage, k in sorted(unknown.items()):
        out.notes.append(f"{k} ticket(s) in pipeline stage {stage}, which the stage map does not know: quarantined "
                         f"(add pipelines.json, or {stage} = \"open\" / \"resolved\" under [hubspot.stages])")
    if archived:
        out.notes.append(f"{archived} archived ticket(s) kept with excluded = true")


def _conversations(threads, messages, tickets: set, out: Converted) -> None:
    ticket_of: dict[str, str] = {}
    rows, lines = [], []
    if threads is not None:
        doc, label = threads
        for n, th in enumerate(records(doc, label), 1):
            if not isinstance(th, dict) or s(th.get("id")) is None:
                rows.append({"ticket_id": None})
                lines.append(n)
                continue
            linked = s((th.get("threadAssociations") or {}).get("associatedTicketId"))
            tid = linked or f"thread-{s(th['id'])}"
            ticket_of[s(th["id"])] = tid
            if linked is None:  # a conversation never turned into a ticket is a ticket of its own
                closed = str(th.get("status", "")).upper() == "CLOSED"
                rows.append({"ticket_id": tid, "created_at": s(th.get("createdAt")), "channel": "chat",
                             "status": "resolved" if closed else "open", "customer_id": s(th.get("associatedContactId")),
                             "agent_id": s(th.get("assignedTo")), "excluded": "true" if th.get("archived") else "false",
                             "resolved_at": s(th.get("closedAt")) if closed else None})
                lines.append(n)
        if rows:
            out.batches.append(Batch("tickets", f"{label} (threads without a ticket)", table(rows, TICKET_COLUMNS),
                                     lines))
            out.notes.append(f"{len(rows)} conversation thread(s) without an associated ticket imported as tickets "
                             "thread-<id> (channel chat)")
    if messages is None:
        return
    doc, label = messages
    rows, lines = [], []
    skipped: Counter = Counter()
    for n, (thread, m) in enumerate(messages_by_thread(doc, label), 1):
        if not isinstance(m, dict):
            rows.append({"message_id": None})
            lines.append(n)
            continue
        kind = str(m.get("type", "")).upper()
        if kind not in MESSAGE_TYPES:
            skipped[kind or "(none)"] += 1  # status changes and assignments are events, not messages
            continue
        thread = thread or s(m.get("threadId"))
        author, agent = _author(m)
        public = kind != "COMMENT"
        if kind == "WELCOME_MESSAGE":
            author, agent = "bot", None
        rows.append({"message_id": s(m.get("id")), "ticket_id": ticket_of.get(thread, thread and f"thread-{thread}"),
                     "sent_at": s(m.get("createdAt")), "author": author, "agent_id": agent,
                     "public": "true" if public else "false"})
        lines.append(n)
    out.batches.append(Batch("messages", label, table(rows, MESSAGE_COLUMNS), lines))
    if skipped:
        out.notes.append("thread events that are not messages left out: "
                         + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))


def _author(m: dict) -> tuple[str | None, str | None]:
    """(author, agent id) from the first sender's actorId prefix; a missing sender: by direction."""
    senders = m.get("senders") or []
    actor = s(senders[0].get("actorId")) if senders and isinstance(senders[0], dict) else None
    if actor and "-" in actor:
        prefix, _, rest = actor.partition("-")
        author = ACTOR.get(prefix.upper())
        if author is None:
            return f"unknown: actor {actor} (expected an A-, V-, E-, B-, I- or S- actor id)", None
        return author, rest if author == "agent" else None
    direction = str(m.get("direction", "")).upper()
    if direction == "INCOMING":
        return "customer", None
    return None, None  # quarantined: no author


def _surveys(doc, label: str, opts: Options, out: Converted) -> None:
    rows, lines = [], []
    other: Counter = Counter()
    for n, r in enumerate(records(doc, label), 1):
        p = r.get("properties") or {} if isinstance(r, dict) else {}
        if not isinstance(r, dict) or not isinstance(p, dict):
            rows.append({"response_id": None})
            lines.append(n)
            continue
        kind = (s(p.get("hs_survey_type")) or "").upper()
        if kind not in SURVEYS:
            other[kind or "(none)"] += 1  # CUSTOM and KNOWLEDGE surveys have no canonical scale
            continue
        survey = SURVEYS[kind][0]
        lo, hi = opts.scales[survey]
        ticket = s(p.get("hs_ticket_id"))
        assoc = ((r.get("associations") or {}).get("tickets") or {}).get("results") or []
        if ticket is None and assoc and isinstance(assoc[0], dict):
            ticket = s(assoc[0].get("id"))
        rows.append({"response_id": s(r.get("id")), "survey": survey, "score": s(p.get("hs_value")),
                     "scale_min": s(lo), "scale_max": s(hi),
                     "responded_at": s(p.get("hs_submission_timestamp")) or s(p.get("hs_createdate")),
                     "ticket_id": ticket, "customer_id": s(p.get("hs_contact_id")), "comment": s(p.get("hs_content"))})
        lines.append(n)
    out.batches.append(Batch("surveys", label, table(rows, SURVEY_COLUMNS), lines))
    if other:
        out.notes.append("feedback submissions of other survey types not imported (only CSAT, NPS and CES have a "
                         "scale): " + ", ".join(f"{k} {v}" for k, v in sorted(other.items())))
