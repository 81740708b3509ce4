"""Read Zendesk Support API JSON pages, as a user saves them, into a Source.

Each file is one response page; its top-level key says what it holds: tickets (incremental
export), ticket_metrics, comments, audits, satisfaction_ratings, users, groups, schedules,
holidays. A comments or holidays page does not name its ticket or schedule: the id is taken
from the file name (comments_123.json, 123-comments.json) or its folder (123/comments.json).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from servicekpi.connectors.zendesk.rules import Item, Source, instant, keep, s

KINDS = ("tickets", "ticket_metrics", "comments", "audits", "satisfaction_ratings", "users", "groups",
         "schedules", "holidays")


def _id_from_name(path: Path) -> str | None:
    for part in (path.stem, path.parent.name):
        found = re.findall(r"\d+", part)
        if found:
            return found[-1]
    return None


def load(path: Path, src: Source) -> tuple[str, list] | None:
    """(kind, records) of one page, or None with a note when the file is not a Zendesk page."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as e:
        src.notes.append(f"Error: {path}: not valid UTF-8 at byte {e.start}; file not read")
        return None
    except json.JSONDecodeError as e:
        src.notes.append(f"Error: {path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); file not read")
        return None
    kinds = [k for k in KINDS if isinstance(doc, dict) and isinstance(doc.get(k), list)]
    if len(kinds) != 1:
        keys = ", ".join(list(doc)[:8]) if isinstance(doc, dict) else type(doc).__name__
        src.notes.append(f"{path}: not a Zendesk API page (expected one list among: {', '.join(KINDS)}; "
                         f"found: {keys or 'nothing'}); file not read")
        return None
    return kinds[0], doc[kinds[0]]


def _via(record: dict) -> str | None:
    via = record.get("via")
    return via.get("channel") if isinstance(via, dict) else None


def read(files: list[Path]) -> Source:
    src = Source(line_kind="item")
    pages = [(p, *page) for p in files if (page := load(p, src)) is not None]
    pages.sort(key=lambda x: (KINDS.index(x[1]), str(x[0])))
    schedules: dict[str, dict] = {}
    for path, kind, records in pages:
        for n, r in enumerate(records, start=1):
            if not isinstance(r, dict):
                src.notes.append(f"{path} item {n}: not a JSON object; left out")
                continue
            item = Item(r, str(path), n)
            if kind == "tickets":
                r["via_channel"] = _via(r)
                keep(src, item)
                if isinstance(r.get("tags"), list) and s(r.get("id")):
                    src.tags[s(r["id"])] = {str(x).lower() for x in r["tags"]}
            elif kind == "users" and s(r.get("id")):
                src.users[s(r["id"])] = (s(r.get("role")) or "").lower()
            elif kind == "groups" and s(r.get("id")):
                src.groups[s(r["id"])] = s(r.get("name")) or s(r["id"])
            elif kind == "ticket_metrics" and s(r.get("ticket_id")):
                old = src.metrics.get(s(r["ticket_id"]))
                if old is None or (instant(r.get("updated_at")) or instant("1970-01-01")) >= \
                        (instant(old.get("updated_at")) or instant("1970-01-01")):
                    src.metrics[s(r["ticket_id"])] = r
            elif kind == "comments":
                if n == 1 and r.get("ticket_id") is None and _id_from_name(path) is None:
                    src.notes.append(f"{path}: a comments page names no ticket; put the ticket id in the file "
                                     "name (comments_123.json) or its folder (123/comments.json)")
                src.comments.append(Item({"id": r.get("id"), "ticket_id": r.get("ticket_id") or _id_from_name(path),
                                          "created_at": r.get("created_at"), "author_id": r.get("author_id"),
                                          "public": r.get("public"), "via_channel": _via(r)}, str(path), n))
            elif kind == "audits":
                _audit(src, r, str(path), n)
            elif kind == "satisfaction_ratings":
                src.ratings.append(item)
            elif kind == "schedules" and s(r.get("id")):
                schedules[s(r["id"])] = {"id": s(r["id"]), "name": s(r.get("name")) or s(r["id"]),
                                         "time_zone": s(r.get("time_zone")),
                                         "intervals": [(i.get("start_time"), i.get("end_time"))
                                                       for i in r.get("intervals") or [] if isinstance(i, dict)]}
            elif kind == "holidays":
                src.holidays.append({"schedule_id": s(r.get("schedule_id")) or _id_from_name(path),
                                     "name": s(r.get("name")), "start_date": s(r.get("start_date")),
                                     "end_date": s(r.get("end_date"))})
    src.schedules = list(schedules.values())
    _dedupe_comments(src)
    return src


def _audit(src: Source, audit: dict, source: str, n: int) -> None:
    """Comment events become comments; status Create/Change events the status history."""
    tid = s(audit.get("ticket_id"))
    at = audit.get("created_at")
    for e in audit.get("events") or []:
        if not isinstance(e, dict):
            continue
        kind = e.get("type")
        if kind in ("Comment", "VoiceComment"):
            src.comments.append(Item({"id": e.get("id"), "ticket_id": tid, "created_at": e.get("created_at") or at,
                                      "author_id": e.get("author_id", audit.get("author_id")),
                                      "public": e.get("public"), "via_channel": _via(e) or _via(audit)},
                                     source, n))
        elif kind in ("Create", "Change") and e.get("field_name") == "status":
            t = instant(at)
            if t is not None and tid and s(e.get("value")):
                src.status_history.setdefault(tid, []).append((t, s(e["value"])))


def _dedupe_comments(src: Source) -> None:
    """A comment saved both in a comments page and in an audit is one message."""
    seen: set[str] = set()
    kept, twice = [], 0
    for item in src.comments:
        cid = s(item.data.get("id"))
        if cid is not None and cid in seen:
            twice += 1
            continue
        if cid is not None:
            seen.add(cid)
        kept.append(item)
    if twice:
        src.notes.append(f"{twice} comment(s) found in both comments and audits pages: each kept once")
    src.comments = kept
