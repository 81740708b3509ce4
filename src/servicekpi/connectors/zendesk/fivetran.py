"""Read the Fivetran Zendesk schema (one CSV per table: ticket.csv or ticket_data.csv, ...) into a Source.

Fivetran writes times without an offset; they are UTC.
"""
from __future__ import annotations

import csv
from pathlib import Path

from servicekpi.connectors.zendesk.rules import Item, Source, instant, keep, s
from servicekpi.ingest.readers import FileError

TABLES = ("ticket", "ticket_comment", "ticket_field_history", "user", "group", "schedule", "schedule_holiday",
          "satisfaction_rating", "ticket_tag")


def table_of(path: Path) -> str | None:
    """ticket.csv, ticket_data.csv (the dbt seed names) -> 'ticket'; anything else -> None."""
    if path.suffix.lower() != ".csv":
        return None
    stem = path.stem.strip().lower()
    stem = stem[:-5] if stem.endswith("_data") else stem
    return stem if stem in TABLES else None


def rows(path: Path):
    """(line number where the record starts, record) for each CSV record."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise FileError(str(path), "the file is empty")
            header = [h.strip().strip('"').lower() for h in header]
            start = reader.line_num + 1
            for rec in reader:
                if any(x.strip() for x in rec):
                    yield start, dict(zip(header, rec))
                start = reader.line_num + 1
    except UnicodeDecodeError as e:
        raise FileError(str(path), f"the file is not valid UTF-8 at byte {e.start}") from None


def _deleted(rec: dict) -> bool:
    return (rec.get("_fivetran_deleted") or "").strip().lower() == "true"


def read(files: list[Path]) -> Source:
    src = Source(line_kind="line")
    by_table: dict[str, list[Path]] = {}
    ignored = []
    for p in files:
        name = table_of(p)
        if name:
            by_table.setdefault(name, []).append(p)
        elif p.name not in ("LICENSE", "PROVENANCE.txt") and not p.name.startswith("."):
            ignored.append(p.name)
    if ignored:
        src.notes.append(f"Fivetran layout: {len(ignored)} file(s) not read (not a table the connector maps): "
                         f"{', '.join(ignored)}")
    for p in by_table.get("user", []):
        for _, r in rows(p):
            if s(r.get("id")):
                src.users[s(r["id"])] = (s(r.get("role")) or "").lower()
    for p in by_table.get("group", []):
        for _, r in rows(p):
            if s(r.get("id")) and not _deleted(r):
                src.groups[s(r["id"])] = s(r.get("name")) or s(r["id"])
    for p in by_table.get("ticket_tag", []):
        for _, r in rows(p):
            if s(r.get("ticket_id")) and s(r.get("tag")):
                src.tags.setdefault(s(r["ticket_id"]), set()).add(s(r["tag"]).lower())
    for p in by_table.get("ticket", []):
        for line, r in rows(p):
            r["via_channel"] = r.get("via_channel")
            keep(src, Item(r, str(p), line))
    for p in by_table.get("ticket_field_history", []):
        for _, r in rows(p):
            if (r.get("field_name") or "").strip().lower() == "status":
                t = instant(r.get("updated"))
                if t is not None and s(r.get("ticket_id")) and s(r.get("value")):
                    src.status_history.setdefault(s(r["ticket_id"]), []).append((t, s(r["value"])))
    for p in by_table.get("ticket_comment", []):
        for line, r in rows(p):
            src.comments.append(Item({"id": r.get("id"), "ticket_id": r.get("ticket_id"),
                                      "created_at": r.get("created"), "author_id": r.get("user_id"),
                                      "public": r.get("public"), "via_channel": r.get("via_channel")},
                                     str(p), line))
    for p in by_table.get("satisfaction_rating", []):
        for line, r in rows(p):
            src.ratings.append(Item(r, str(p), line))
    schedules: dict[str, dict] = {}
    for p in by_table.get("schedule", []):
        for _, r in rows(p):
            sid = s(r.get("id"))
            if not sid or _deleted(r):
                continue
            sch = schedules.setdefault(sid, {"id": sid, "name": s(r.get("name")) or sid,
                                             "time_zone": s(r.get("time_zone")), "intervals": []})
            try:
                sch["intervals"].append((int(float(r["start_time"])), int(float(r["end_time"]))))
            except (KeyError, ValueError):
                src.notes.append(f"{p} schedule {sid}: start_time/end_time "
                                 f"'{r.get('start_time')}'-'{r.get('end_time')}' are not minutes; interval left out")
    src.schedules = list(schedules.values())
    for p in by_table.get("schedule_holiday", []):
        for _, r in rows(p):
            if not _deleted(r):
                src.holidays.append({"schedule_id": s(r.get("schedule_id")), "name": s(r.get("name")),
                                     "start_date": s(r.get("start_date")), "end_date": s(r.get("end_date"))})
    return src
