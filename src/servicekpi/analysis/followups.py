"""The follow-up queue: unhappy answers and negative feedback that no later contact followed up.

Items (each with an id "survey:<response_id>" or "feedback:<feedback_id>"):
- NPS detractors (score 0-6) and dissatisfied CSAT answers (below the catalog's satisfied rule:
  the top-2 box on scales of 5+ points, the top score below, so thumbs down on 0-1);
- feedback whose text is negative (negative.classify_feedback: the sentiment interface).
Survey answers on excluded tickets are left out, as in the KPIs.

An item is followed up by the first of, after it was received and not after the as-of instant:
- `agent_reply`: a reply on the linked ticket (the replies table: public agent messages; bot
  messages and internal notes are not replies, data-format.md "Order and replies");
- `new_ticket`: a ticket of the same customer created later (not excluded);
- `feedback_reply`: the feedback's replied_at;
- `marked`: a manager marked it followed up (table followup_marks, append-only: who, role, when, note).

Without messages imported, agent replies cannot be seen: the result carries a note.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from servicekpi.analysis import negative
from servicekpi.store.db import imported_tables

MARKS = """CREATE TABLE IF NOT EXISTS followup_marks (
    item_id VARCHAR, marked_at TIMESTAMP, marked_by VARCHAR, role VARCHAR, note VARCHAR)"""

LATER_TICKET = """(SELECT min(n.created_at) FROM tickets n
    WHERE n.customer_id = i.customer_id AND n.ticket_id IS DISTINCT FROM i.ticket_id
      AND n.created_at > i.at AND n.created_at <= ? AND NOT coalesce(n.excluded, FALSE))"""

SURVEYS = f"""WITH i AS (
  SELECT 'survey:' || s.response_id AS id, s.survey AS kind, s.score, s.scale_min, s.scale_max,
         s.responded_at AS at, coalesce(s.customer_id, t.customer_id) AS customer_id, s.ticket_id,
         coalesce(s.agent_id, t.agent_id) AS agent_id, coalesce(s.channel, t.channel) AS channel,
         s.comment AS comment
  FROM surveys s LEFT JOIN tickets t ON t.ticket_id = s.ticket_id
  WHERE {negative.UNHAPPY} AND s.responded_at >= ? AND s.responded_at <= ? AND NOT coalesce(t.excluded, FALSE))
SELECT i.*,
  (SELECT min(r.sent_at) FROM replies r WHERE r.ticket_id = i.ticket_id AND r.sent_at > i.at
     AND r.sent_at <= ?) AS agent_reply,
  {LATER_TICKET} AS new_ticket,
  NULL::TIMESTAMP AS feedback_reply
FROM i"""

FEEDBACK = f"""WITH i AS (
  SELECT 'feedback:' || f.feedback_id AS id, 'feedback' AS kind, {{rating}} AS score, NULL AS scale_min,
         NULL AS scale_max, f.received_at AS at, f.customer_id, NULL::VARCHAR AS ticket_id,
         NULL::VARCHAR AS agent_id, f.source AS channel, f.text AS comment, f.replied_at
  FROM feedback f WHERE f.received_at >= ? AND f.received_at <= ?)
SELECT i.id, i.kind, i.score, i.scale_min, i.scale_max, i.at, i.customer_id, i.ticket_id, i.agent_id,
  i.channel, i.comment, NULL::TIMESTAMP AS agent_reply, {LATER_TICKET} AS new_ticket,
  CASE WHEN i.replied_at <= ? THEN i.replied_at END AS feedback_reply
FROM i"""

FIELDS = ("id", "kind", "score", "scale_min", "scale_max", "at", "customer_id", "ticket_id", "agent_id",
          "channel", "comment", "agent_reply", "new_ticket", "feedback_reply")
HOW = ("agent_reply", "new_ticket", "feedback_reply")


class FollowupError(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _has_marks(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'followup_marks'")
                .fetchall()[0][0])


def marks(con, item_id: str | None = None) -> list[dict]:
    """The audit trail, oldest first."""
    if not _has_marks(con):
        return []
    cond, params = ("WHERE item_id = ?", [item_id]) if item_id else ("", [])
    cur = con.execute(f"SELECT item_id, marked_at, marked_by, role, note FROM followup_marks {cond} "
                      f"ORDER BY marked_at, item_id", params)
    return [dict(zip(("id", "marked_at", "marked_by", "role", "note"), r)) for r in cur.fetchall()]


def _age(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def _local(t: dt.datetime | None, tz: str) -> str | None:
    return None if t is None else t.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(tz)).isoformat()


def items(con, asof: dt.datetime, since: dt.datetime | None = None, tz: str = "UTC",
          agent: str | None = None, include_done: bool = False, item_id: str | None = None) -> dict:
    """{"rows": [...], "notes": [...]}: the queue, oldest first (asof, since: naive UTC)."""
    imported = imported_tables(con)
    lo = since or dt.datetime(1900, 1, 1)
    notes, found = [], []
    if "surveys" in imported:
        found += con.execute(SURVEYS, [lo, asof, asof, asof]).fetchall()
    if "feedback" in imported:
        rating = "f.rating" if "rating" in negative.columns(con, "feedback") else "NULL::DOUBLE"
        for r in con.execute(FEEDBACK.format(rating=rating), [lo, asof, asof, asof]).fetchall():
            if negative.classify_feedback(r[10], r[2]) == "negative":
                found.append(r)
    if not {"surveys", "feedback"} & imported:
        notes.append("unavailable: neither surveys nor feedback were imported")
    if "messages" not in imported:
        notes.append("messages were never imported: agent replies cannot be seen, so only new tickets, "
                     "feedback replies and marks count as follow-ups")
    marked = {}
    for m in marks(con):
        if m["marked_at"] <= asof:
            marked.setdefault(m["id"], m)
    rows = []
    for r in sorted(found, key=lambda r: (r[5], r[0])):
        rec = dict(zip(FIELDS, r))
        if item_id is not None and rec["id"] != item_id:
            continue
        if agent is not None and rec["agent_id"] != agent:
            continue
        done = [(rec[h], h) for h in HOW if rec[h] is not None]
        if rec["id"] in marked:
            done.append((marked[rec["id"]]["marked_at"], "marked"))
        first = min(done) if done else None
        if first and not include_done:
            continue
        age = (asof - rec["at"]).total_seconds()
        scale = None if rec["scale_min"] is None else f"{rec['scale_min']:g}-{rec['scale_max']:g}"
        row = {"id": rec["id"], "kind": rec["kind"], "customer_id": rec["customer_id"],
               "ticket_id": rec["ticket_id"], "agent_id": rec["agent_id"], "channel": rec["channel"],
               "score": rec["score"], "scale": scale, "comment": rec["comment"],
               "received_at": _local(rec["at"], tz), "age_days": round(age / 86400, 2), "age": _age(age)}
        if include_done:
            row["followed_up_by"] = first[1] if first else None
            row["followed_up_at"] = _local(first[0], tz) if first else None
            if first and first[1] == "marked":
                m = marked[rec["id"]]
                row.update(marked_by=m["marked_by"], note=m["note"])
        rows.append(row)
    return {"rows": rows, "notes": notes}


def mark(con, item_id: str, by: str, role: str, note: str | None, now: dt.datetime, tz: str = "UTC") -> dict:
    """Record that item_id was followed up (inside the caller's transaction). The item must be in
    the queue (an unhappy answer or negative feedback); a second mark is refused (409)."""
    if not item_id.startswith(("survey:", "feedback:")):
        raise FollowupError(f"'{item_id}' is not a follow-up id (expected survey:<response_id> or "
                            f"feedback:<feedback_id>, as listed by servicekpi followups)")
    if not items(con, now, tz=tz, include_done=True, item_id=item_id)["rows"]:
        raise FollowupError(f"no follow-up item '{item_id}': it is not an NPS detractor, a dissatisfied "
                            f"CSAT answer or negative feedback in this store", 404)
    con.execute(MARKS)
    for m in marks(con, item_id):
        raise FollowupError(f"'{item_id}' was already marked followed up by {m['marked_by']} at "
                            f"{_local(m['marked_at'], tz)}", 409)
    con.execute("INSERT INTO followup_marks VALUES (?, ?, ?, ?, ?)", [item_id, now, by, role, note])
    return {"id": item_id, "marked_at": _local(now, tz), "marked_by": by, "role": role, "note": note}
