"""Read a Chatwoot PostgreSQL database (db/schema.rb of chatwoot/chatwoot), read only.

Tables read (only these columns):
  conversations (id, account_id, display_id, inbox_id, team_id, status, priority, contact_id, assignee_id,
                 created_at, updated_at, first_reply_created_at)
  inboxes (id, channel_type), teams (id, name)
  messages (id, conversation_id, message_type, private, sender_type, sender_id, created_at)
  csat_survey_responses (id, conversation_id, rating, feedback_message, contact_id, assigned_agent_id, created_at)
  reporting_events (conversation_id, name = 'conversation_resolved', event_end_time, created_at)

Chatwoot stores `timestamp without time zone` in UTC; rows are located by their primary key ("id 42").
The session is READ ONLY and every value in a query is bound, never formatted into the SQL.
"""
from __future__ import annotations

from servicekpi.connectors import ConnectorError
from servicekpi.connectors.chatwoot.rules import Source, iso

CONVERSATIONS = """
SELECT c.id, c.account_id, c.display_id, c.status, c.priority, c.created_at, c.updated_at, c.contact_id,
       c.assignee_id, c.first_reply_created_at, c.inbox_id, i.channel_type, t.name
FROM conversations c
LEFT JOIN inboxes i ON i.id = c.inbox_id
LEFT JOIN teams t ON t.id = c.team_id
ORDER BY c.id
"""
MESSAGES = """
SELECT id, conversation_id, message_type, private, sender_type, sender_id, created_at
FROM messages ORDER BY id
"""
CSAT = """
SELECT id, conversation_id, rating, feedback_message, contact_id, assigned_agent_id, created_at
FROM csat_survey_responses ORDER BY id
"""
RESOLUTIONS = """
SELECT conversation_id, coalesce(event_end_time, created_at)
FROM reporting_events WHERE name = %s
"""
CHUNK = 10_000


def describe(dsn: str) -> str:
    """The database without credentials, for messages and the quarantine's source."""
    from psycopg.conninfo import conninfo_to_dict
    try:
        d = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - an unparsable DSN is reported, never echoed (it may hold a password)
        raise ConnectorError("--dsn is not a valid PostgreSQL connection string "
                             "(expected postgresql://user@host:port/database)") from None
    host = d.get("host") or "localhost"
    port = f":{d['port']}" if d.get("port") else ""
    return f"postgresql://{host}{port}/{d.get('dbname', '')}"


def _rows(conn, name: str, sql: str, params=()):
    with conn.cursor(name=f"servicekpi_{name}") as cur:
        cur.itersize = CHUNK
        cur.execute(sql, params)
        yield from cur


def read(dsn: str) -> Source:
    import psycopg
    where = describe(dsn)
    try:
        conn = psycopg.connect(dsn, connect_timeout=10)
    except psycopg.Error as e:
        raise ConnectorError(f"cannot connect to {where}: {str(e).strip()}") from None
    src = Source(where, fallback_label="updated_at")
    src.files = {"conversations": f"{where} conversations", "messages": f"{where} messages",
                 "csat": f"{where} csat_survey_responses", "line_kind": "id"}
    try:
        conn.read_only = True
        with conn.transaction():
            convs = list(_rows(conn, "conversations", CONVERSATIONS))
            several = len({r[1] for r in convs}) > 1
            keys = {r[0]: (f"{r[1]}:{r[2]}" if several else str(r[2])) for r in convs}
            for (cid, _acct, _disp, status, priority, created, updated, contact, assignee, first_reply, inbox,
                 channel_type, team) in convs:
                src.conversations.append({
                    "line": cid, "key": keys[cid], "created_at": created, "status": status, "priority": priority,
                    "channel_type": channel_type, "contact_id": contact, "assignee_id": assignee, "team": team,
                    "inbox_id": inbox, "first_reply_created_at": first_reply, "fallback_resolved_at": updated})
            for cid, at in _rows(conn, "resolutions", RESOLUTIONS, ("conversation_resolved",)):
                if cid in keys and at is not None:
                    src.resolutions[keys[cid]].append(iso(at))
            for mid, cid, mtype, private, sender_type, sender_id, created in _rows(conn, "messages", MESSAGES):
                src.messages.append({
                    "line": mid, "id": mid, "key": keys.get(cid, f"conversation id {cid}"), "message_type": mtype,
                    "private": private, "sender_type": sender_type.lower() if sender_type else None,
                    "sender_id": sender_id, "created_at": created})
            for rid, cid, rating, feedback, contact, agent, created in _rows(conn, "csat", CSAT):
                src.csat.append({"line": rid, "id": rid, "key": keys.get(cid, f"conversation id {cid}"),
                                 "rating": rating, "feedback": feedback, "contact_id": contact, "agent_id": agent,
                                 "created_at": created})
    except psycopg.Error as e:
        raise ConnectorError(f"{where}: cannot read the Chatwoot tables: {str(e).strip()}") from None
    finally:
        conn.close()
    if several:
        src.notes.append("several Chatwoot accounts: ticket ids are account_id:display_id")
    return src

