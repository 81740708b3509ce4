"""Zendesk: the Support API's JSON (zendesk_api) or the Fivetran schema (zendesk_fivetran) -> canonical tables.

Both readers fill one neutral `Source`; this module applies the mapping rules once
(docs/connectors/zendesk.md): statuses, channels, agent vs end-user by role, public vs
private comments, the last solve and the reopens from the status history, CSAT good/bad.
Times: the API's carry an offset; Fivetran's naive times are UTC (source_tz "UTC").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from servicekpi.connectors import ConnectorError, Converted
from servicekpi.ingest.load import Batch

STATUS = {"new": "open", "open": "open", "pending": "pending", "hold": "on_hold", "on-hold": "on_hold",
          "on_hold": "on_hold", "solved": "resolved", "closed": "closed"}
SOLVED = ("solved", "closed")
# via.channel values with a canonical name; any other value is kept as Zendesk spells it
CHANNELS = {"voice": "phone", "web": "web_form", "twitter": "social", "facebook": "social"}
AGENT_ROLES = ("admin", "agent")
# comments added by triggers, automations and answer bots are not agent replies
BOT_CHANNELS = {"rule", "automation", "answer_bot", "answer_bot_for_agents", "answer_bot_for_sdk",
                "answer_bot_for_slack", "answer_bot_for_web_widget", "answer_bot_api"}
SYSTEM_USER = "-1"  # Zendesk's own user on system comments
GOOD = ("good", "good_with_comment", "good_without_comment")
BAD = ("bad", "bad_with_comment", "bad_without_comment")
NOT_ANSWERS = ("offered", "unoffered")
MERGED_TAG = "closed_by_merge"


@dataclass
class Item:
    """One source record with where it came from."""
    data: dict
    source: str
    line: int


@dataclass
class Source:
    """What a reader found, in Zendesk's own terms (ids as strings, times as given)."""
    tickets: dict[str, Item] = field(default_factory=dict)  # latest version per ticket id
    users: dict[str, str] = field(default_factory=dict)  # user id -> role
    groups: dict[str, str] = field(default_factory=dict)  # group id -> name
    comments: list[Item] = field(default_factory=list)  # id, ticket_id, created_at, author_id, public, via
    status_history: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)
    metrics: dict[str, dict] = field(default_factory=dict)  # ticket id -> ticket_metrics record
    ratings: list[Item] = field(default_factory=list)
    tags: dict[str, set[str]] = field(default_factory=dict)
    schedules: list[dict] = field(default_factory=list)  # id, name, time_zone, intervals [(start, end)]
    holidays: list[dict] = field(default_factory=list)  # schedule_id, name, start_date, end_date
    notes: list[str] = field(default_factory=list)
    line_kind: str = "item"
    superseded: int = 0  # older versions of tickets seen in several pages or rows


def s(v) -> str | None:
    """A Zendesk id or value as a string (ids are integers in JSON); empty -> None."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    return text or None


def instant(text) -> dt.datetime | None:
    """An ISO 8601 time as a naive UTC datetime; a naive time is UTC (Fivetran)."""
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def keep(src: Source, item: Item) -> None:
    """The latest version of a ticket (by updated_at; on a tie, the later file or line)."""
    tid = s(item.data.get("id"))
    if tid is None:  # passed on without an id, so that it is quarantined with its location
        src.tickets[f"\0{item.source}:{item.line}"] = item
        return
    old = src.tickets.get(tid)
    if old is not None:
        src.superseded += 1
        new_t, old_t = instant(item.data.get("updated_at")), instant(old.data.get("updated_at"))
        if old_t is not None and (new_t is None or new_t < old_t):
            return
    src.tickets[tid] = item


def convert(path, *, mapping=None, dsn=None) -> Converted:
    if dsn is not None or mapping is not None:
        raise ConnectorError("--source zendesk reads a folder of files; it takes no --dsn or --mapping")
    if path is None:
        raise ConnectorError("--source zendesk needs a PATH: a folder of Support API JSON pages or Fivetran tables")
    path = Path(path)
    if not path.exists():
        raise ConnectorError(f"{path}: no such file or folder")
    from servicekpi.connectors.zendesk import api as zendesk_api
    from servicekpi.connectors.zendesk import fivetran as zendesk_fivetran
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    api = [p for p in files if p.suffix.lower() == ".json"]
    fivetran = [p for p in files if zendesk_fivetran.table_of(p)]
    if api and fivetran:
        raise ConnectorError(f"{path}: holds both Support API JSON ({api[0].name}) and Fivetran tables "
                             f"({fivetran[0].name}); import each layout from its own folder")
    if fivetran:
        src = zendesk_fivetran.read(files)
    elif api:
        src = zendesk_api.read(api)
    else:
        raise ConnectorError(f"{path}: no Zendesk data here (expected Support API JSON pages such as tickets.json, "
                             "or Fivetran tables such as ticket.csv / ticket_data.csv)")
    return build(src)


def build(src: Source) -> Converted:
    out = Converted(source_tz="UTC", notes=list(src.notes))
    rows: dict[tuple[str, str], list[tuple[dict, int]]] = {}

    def add(table: str, item: Item, row: dict) -> None:
        rows.setdefault((table, item.source), []).append((row, item.line))

    if src.superseded:
        out.notes.append(f"{src.superseded} older version(s) of tickets seen again in later pages or rows: "
                         "the latest updated_at kept")
    deleted, merged, unsolved = [], [], []
    for tid, item in src.tickets.items():
        row = ticket_row(src, tid, item)
        if row.pop("_deleted"):
            deleted.append(tid)
        if row.pop("_merged"):
            merged.append(tid)
        if row.pop("_no_solve"):
            unsolved.append(tid)
        add("tickets", item, row)
    if deleted:
        out.notes.append(f"{len(deleted)} deleted ticket(s) kept with excluded=true: {_ids(deleted)}")
    if merged:
        out.notes.append(f"{len(merged)} ticket(s) closed by a merge kept with excluded=true: {_ids(merged)}")
    if unsolved:
        out.notes.append(f"{len(unsolved)} solved or closed ticket(s) have no solve in a status history "
                         f"(audits, ticket_field_history) nor ticket_metrics.solved_at: resolved_at left empty, "
                         f"so they count as unresolved: {_ids(unsolved)}")
    unknown: set[str] = set()
    for item in _first_comments_first(src.comments):
        add("messages", item, message_row(src, item, unknown))
    if unknown:
        out.notes.append(f"{len(unknown)} comment author(s) not in users and not the ticket's requester "
                         f"(role unknown; their comments are quarantined): {_ids(sorted(unknown))}")
    offered = 0
    for item in src.ratings:
        row = rating_row(item)
        if row is None:
            offered += 1
        else:
            add("surveys", item, row)
    if offered:
        out.notes.append(f"{offered} satisfaction rating(s) offered or unoffered but not answered: not surveys")
    for (table, source), pairs in rows.items():
        names = list(dict.fromkeys(k for r, _ in pairs for k in r))
        data = pa.table({n: pa.array([r.get(n) for r, _ in pairs], pa.string()) for n in names})
        out.batches.append(Batch(table, source, data, [line for _, line in pairs], src.line_kind))
    if src.schedules or src.holidays:
        from servicekpi.connectors.zendesk.schedules import calendars
        out.calendars, notes = calendars(src.schedules, src.holidays)
        out.notes += notes
    return out


def _ids(ids: list[str], most: int = 10) -> str:
    return ", ".join(ids[:most]) + (f" and {len(ids) - most} more" if len(ids) > most else "")


def ticket_row(src: Source, tid: str, item: Item) -> dict:
    t = item.data
    raw_status = (s(t.get("status")) or "").lower()
    tags = src.tags.get(tid, set())
    deleted = raw_status == "deleted" or s(t.get("_fivetran_deleted")) in ("true", "TRUE", "True")
    merged = MERGED_TAG in tags
    resolved_at, reopens = None, None
    history = sorted(src.status_history.get(tid, []))
    metric = src.metrics.get(tid, {})
    if history:
        reopens = str(reopen_count(history))
        if raw_status in SOLVED:
            resolved_at = last_solve(history)
    else:
        if metric.get("reopens") is not None:
            reopens = s(metric["reopens"])
        if raw_status in SOLVED and metric.get("solved_at"):
            resolved_at = s(metric["solved_at"])
    group = s(t.get("group_id"))
    return {
        "ticket_id": s(t.get("id")),
        "created_at": s(t.get("created_at")),
        "channel": channel(t.get("via_channel")),
        "priority": s(t.get("priority")),
        # deleted: no canonical status; an unknown status is passed on and quarantined
        "status": None if deleted else STATUS.get(raw_status, s(t.get("status"))),
        "customer_id": s(t.get("requester_id")),
        "agent_id": s(t.get("assignee_id")),
        "team": src.groups.get(group, group) if group else None,
        "resolved_at": resolved_at,
        "reopen_count": reopens,
        "excluded": "true" if deleted or merged else "false",
        "_deleted": deleted, "_merged": merged and not deleted,
        "_no_solve": raw_status in SOLVED and resolved_at is None and not (deleted or merged),
    }


def channel(via) -> str | None:
    v = s(via)
    return CHANNELS.get(v.lower(), v.lower()) if v else None


def reopen_count(history: list[tuple[dt.datetime, str]]) -> int:
    """Times the status left solved/closed for an unsolved status (repeated rows are one state)."""
    n, prev = 0, None
    for _, status in history:
        status = status.lower()
        if prev in SOLVED and status not in SOLVED:
            n += 1
        prev = status
    return n


def last_solve(history: list[tuple[dt.datetime, str]]) -> str | None:
    """The last change to solved (closed when the ticket was closed without a solve), as UTC ISO text."""
    for wanted in ("solved", "closed"):
        times = [t for t, status in history if status.lower() == wanted]
        if times:
            return max(times).isoformat() + "Z"
    return None


def _first_comments_first(comments: list[Item]) -> list[Item]:
    """Mark each ticket's opening comment (earliest, then lowest id): the description."""
    first: dict[str, tuple] = {}
    for i, item in enumerate(comments):
        c = item.data
        key = (instant(c.get("created_at")) or dt.datetime.max, _num_id(c.get("id")), i)
        tid = s(c.get("ticket_id"))
        if tid is not None and (tid not in first or key < first[tid]):
            first[tid] = key
    opening = {v[2] for v in first.values()}
    for i, item in enumerate(comments):
        item.data["_opening"] = i in opening
    return comments


def _num_id(v) -> tuple:
    text = s(v) or ""
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def message_row(src: Source, item: Item, unknown: set[str]) -> dict:
    c = item.data
    tid = s(c.get("ticket_id"))
    author_id = s(c.get("author_id"))
    ticket = src.tickets.get(tid)
    requester = s(ticket.data.get("requester_id")) if ticket else None
    role = src.users.get(author_id) if author_id else None
    via = (s(c.get("via_channel")) or "").lower()
    if via in BOT_CHANNELS:
        author = "bot"
    elif author_id == SYSTEM_USER:
        author = "system"
    elif c.get("_opening") and author_id is not None and author_id == requester:
        author = "customer"  # the description by the requester is the customer's message
    elif role is not None:
        author = "agent" if role.lower() in AGENT_ROLES else "customer"
    elif author_id is not None and author_id == requester:
        author = "customer"
    else:
        unknown.add(author_id or "(none)")
        author = f"unknown: user {author_id} has no role in users" if author_id else None
    public = s(c.get("public"))
    return {
        "message_id": s(c.get("id")),
        "ticket_id": tid,
        "sent_at": s(c.get("created_at")),
        "author": author,
        "agent_id": author_id if author == "agent" else None,
        "public": public.lower() if public else None,
    }


def rating_row(item: Item) -> dict | None:
    r = item.data
    score = (s(r.get("score")) or "").lower()
    if score in NOT_ANSWERS:
        return None
    value = "1" if score in GOOD else "0" if score in BAD else s(r.get("score"))
    return {
        "response_id": s(r.get("id")),
        "survey": "csat",
        "score": value,  # anything but good/bad is passed on and quarantined as not a number
        "scale_min": "0",
        "scale_max": "1",
        "responded_at": s(r.get("updated_at")) or s(r.get("created_at")),
        "ticket_id": s(r.get("ticket_id")),
        "customer_id": s(r.get("requester_id")),
        "agent_id": s(r.get("assignee_id")),
        "comment": s(r.get("comment")),
    }
