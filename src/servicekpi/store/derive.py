"""Facts derived from messages at import time (data-format.md, "Order and replies").

Per ticket: first reply, number of replies, agents among replies, message counts.
Per reply: the instant its wait started (avg_response_time), or NULL for a follow-up.

Every fact of a ticket depends on that ticket's row and messages only, so an import recomputes
only the tickets it touched: it collects their ids in the temp table TOUCHED, which refresh(con)
reads; without that table (after a migration, or refresh(con, ALL)) every ticket is rebuilt.

Tickets an import adds (not stored before it) are held back in NEW and inserted once with their
facts; their messages can only be the import's own (a stored message's ticket is stored), which it
keeps in NEW_MESSAGES, so their facts read no stored row. Only the stored tickets it touched (a
replaced ticket, a late message) are read back from the stored messages, replies and waits.
"""
from __future__ import annotations

TOUCHED = "touched_tickets"  # the import's touched ticket ids (ingest/load.py fills it)
ALL = ""  # refresh(con, ALL): every ticket, whatever was collected
NEW = "new_tickets"  # tickets an import adds, checked, held back and inserted by refresh (refresh_new)
NEW_MESSAGES = "new_messages"  # the messages of NEW's tickets, when the store held messages before the import
OLD = "old_touched"  # the stored tickets among TOUCHED (refresh_added)
MESSAGE_COLUMNS = "ticket_id, sent_at, author, agent_id, message_id, public"  # what ORDERED reads

# one sort: every window shares the partition and order. A reply is a public agent message that is not
# the first; grp counts the replies up to each message (the running count of public agent messages,
# less the first message's own)
ORDERED = """
CREATE OR REPLACE TEMP TABLE msg_ordered AS
SELECT ticket_id, sent_at, author, agent_id, (pa AND pos > 1) AS is_reply, running - first_pa::INT AS grp
FROM (
  SELECT ticket_id, sent_at, author, agent_id, pa,
         row_number() OVER w AS pos,
         sum(pa::INT) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running,
         first_value(pa) OVER w AS first_pa
  FROM (SELECT ticket_id, sent_at, author, agent_id, message_id,
               (coalesce(public, TRUE) AND author = 'agent') AS pa
        FROM ({source}))
  WINDOW w AS (PARTITION BY ticket_id
               ORDER BY sent_at, CASE author WHEN 'customer' THEN 0 ELSE 1 END, message_id))
"""

REPLIES = """
INSERT INTO replies
SELECT r.ticket_id, r.sent_at,
       CASE WHEN r.grp = 1 THEN t.created_at ELSE w.first_customer END AS start_at,
       r.agent_id, r.grp, {ticket_columns}
FROM msg_ordered r
JOIN tickets t ON t.ticket_id = r.ticket_id
LEFT JOIN (SELECT ticket_id, grp, min(sent_at) AS first_customer FROM msg_ordered
           WHERE author = 'customer' GROUP BY ALL) w
  ON w.ticket_id = r.ticket_id AND w.grp = r.grp - 1
WHERE r.is_reply
"""

WAITS = """
INSERT INTO waits
SELECT w.ticket_id, w.start_at, r.sent_at AS replied_at, {ticket_columns}
FROM (SELECT ticket_id, grp, min(sent_at) AS start_at FROM msg_ordered
      WHERE author = 'customer' AND grp >= 1 GROUP BY ALL) w
JOIN tickets t ON t.ticket_id = w.ticket_id
LEFT JOIN msg_ordered r ON r.ticket_id = w.ticket_id AND r.is_reply AND r.grp = w.grp + 1
"""

# agents among replies: the distinct non-null ids of each ticket's short list (a count(DISTINCT) is a
# second aggregation over every (ticket, agent) pair and a join back: 1.7 -> 1.25 CPU s at 1M tickets)
FACT_ROWS = """SELECT ticket_id,
             min(sent_at) FILTER (WHERE is_reply) AS frt,
             count(*) FILTER (WHERE is_reply) AS n_replies,
             NULLIF(list_unique(list(agent_id) FILTER (WHERE is_reply)), 0) AS n_agents,
             count(*) FILTER (WHERE author = 'customer') AS n_customer,
             count(*) AS n_all
      FROM msg_ordered GROUP BY ticket_id"""

FACTS = f"""
UPDATE tickets SET has_messages = TRUE, msg_first_response_at = f.frt, msg_agent_replies = f.n_replies,
       msg_agents_involved = f.n_agents, msg_customer = f.n_customer, msg_all = f.n_all
FROM ({FACT_ROWS}) f
WHERE tickets.ticket_id = f.ticket_id
"""

# a store's first tickets, inserted with their facts (refresh_new): no UPDATE of rows just written
INSERT_NEW = f"""
INSERT INTO tickets ({{columns}}, has_messages, msg_first_response_at, msg_agent_replies, msg_agents_involved,
                     msg_customer, msg_all)
SELECT {{t_columns}}, f.ticket_id IS NOT NULL, f.frt, f.n_replies, f.n_agents, f.n_customer, f.n_all
FROM {{new}} t LEFT JOIN ({FACT_ROWS}) f ON f.ticket_id = t.ticket_id
"""

CLEAR = """
UPDATE tickets SET has_messages = FALSE, msg_first_response_at = NULL, msg_agent_replies = NULL,
       msg_agents_involved = NULL, msg_customer = NULL, msg_all = NULL
WHERE has_messages IS DISTINCT FROM FALSE{only}
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = tickets.ticket_id)
"""


# the ticket columns copied onto replies, so replies slice like their tickets
REPLY_TICKET_COLUMNS = ("channel", "category", "priority", "status", "customer_id", "customer_tier",
                        "agent_id", "team", "excluded")

def _quote(name: str) -> str:  # as db.quote (db imports this module)
    return '"' + name.replace('"', '""') + '"'


def _has_column(con, table: str, column: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_columns() WHERE table_name = ? AND column_name = ? "
                            "AND NOT internal", [table, column]).fetchall()[0][0])


def _has_waits(con) -> bool:
    """Stores before schema 4 get waits when they migrate."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'waits'")
                .fetchall()[0][0])


def _exists(con, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                            [table]).fetchall()[0][0])


def refresh(con, tickets: str | None = None) -> int:
    """Recompute the derived facts (inside the caller's transaction): replies, waits, msg_* facts.

    tickets: a table with a ticket_id column: only those tickets are recomputed; ALL: every
    ticket; None: the tickets in TOUCHED when an import collected them in this connection (those
    of the rows it inserted or replaced, with the old ticket of a message moved to another), else
    every ticket (the set is unknown: a migration). The result is the same either way. With None,
    tickets an import held back in NEW are inserted too (refresh_new, refresh_added).
    Returns how many stored tickets were recomputed from the stored messages (not those inserted)."""
    if tickets is None and _exists(con, NEW):
        return refresh_added(con) if _exists(con, NEW_MESSAGES) else refresh_new(con)
    if tickets is None:
        tickets = TOUCHED if _exists(con, TOUCHED) else ALL
    return _refresh(con, f"SELECT DISTINCT ticket_id FROM {tickets}" if tickets else ALL)


def _new(con) -> tuple[str, list[str]]:
    """NEW's valid rows and their columns (NEW's rows with a __reason are rejected ones; its
    __-prefixed columns are the checker's)."""
    columns = [r[0] for r in con.execute(f"DESCRIBE {NEW}").fetchall() if not r[0].startswith("__")]
    return f"(SELECT * FROM {NEW} WHERE __reason IS NULL)", columns


def refresh_new(con) -> int:
    """A store's first tickets (its tickets and messages were empty), checked by an import into NEW,
    inserted with their msg_* facts from the stored messages (all the import's), which are derived:
    the store is then what inserting them and refresh(con, ALL) give, one write cheaper."""
    return _refresh(con, None, _new(con), "messages")


def refresh_added(con) -> int:
    """Tickets an import adds to a store that held messages: NEW's, inserted with their facts from
    their messages in NEW_MESSAGES (no stored row read), and the stored tickets in TOUCHED,
    recomputed from the stored messages. The same store as inserting NEW and refresh(con, TOUCHED)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {OLD} AS SELECT DISTINCT ticket_id FROM {TOUCHED} o
        WHERE NOT EXISTS (SELECT 1 FROM {NEW} n WHERE n.ticket_id = o.ticket_id)""")
    old = con.execute(f"SELECT count(*) FROM {OLD}").fetchall()[0][0]
    _refresh(con, f"SELECT ticket_id FROM {OLD}" if old else None, _new(con), NEW_MESSAGES)
    con.execute(f"DROP TABLE {OLD}")
    return old


def _refresh(con, old: str | None, new: tuple[str, list[str]] | None = None, messages: str = "messages") -> int:
    """old: the query of the stored tickets recomputed (ALL: every one; None: none); new: NEW's valid
    rows and columns, inserted with their facts from the relation `messages` (their messages).
    Returns how many stored tickets were recomputed."""
    only = f" WHERE ticket_id IN ({old})" if old else ""
    sources = [f"SELECT {MESSAGE_COLUMNS} FROM {messages}"] if new else []
    if old is not None:
        sources.append(f"SELECT {MESSAGE_COLUMNS} FROM messages{only}")
    con.execute(ORDERED.format(source=" UNION ALL ".join(sources)))
    copied = list(REPLY_TICKET_COLUMNS)
    if _has_column(con, "tickets", "queue"):  # an extra column that picks a business calendar
        copied.append("queue")
        for table in ("replies", "waits"):
            if _has_column(con, table, "ticket_id"):
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS queue VARCHAR")
    # where replies and waits find their tickets' columns: the held-back ones, the stored ones, or both
    # (a column the held-back rows lack, such as a queue the store has and this file not, is NULL)
    pick = ["ticket_id", "created_at", *copied]
    held = f"SELECT {', '.join(c if c in new[1] else f'NULL AS {c}' for c in pick)} FROM {new[0]}" if new else ""
    if new and old is not None:
        source = f"({held} UNION ALL SELECT {', '.join(pick)} FROM tickets{only}) t"
    else:
        source = f"({held}) t" if new else "tickets t"
    columns = ", ".join(f"t.{c}" for c in copied)
    waits = _has_waits(con)
    if old is not None:
        con.execute(f"DELETE FROM replies{only}")
        if waits:
            con.execute(f"DELETE FROM waits{only}")
    con.execute(REPLIES.replace("INSERT INTO replies", f"INSERT INTO replies (ticket_id, sent_at, start_at, "
                                f"reply_agent_id, ordinal, {', '.join(copied)})")
                .replace("JOIN tickets t", f"JOIN {source}").format(ticket_columns=columns))
    if waits:
        con.execute(WAITS.replace("INSERT INTO waits", f"INSERT INTO waits (ticket_id, start_at, replied_at, "
                                  f"{', '.join(copied)})")
                    .replace("JOIN tickets t", f"JOIN {source}").format(ticket_columns=columns))
    if old is not None:
        _update_facts(con, old, only, new is not None)
    if new:
        names = [_quote(c) for c in new[1]]
        con.execute(INSERT_NEW.format(columns=", ".join(names), t_columns=", ".join(f"t.{n}" for n in names),
                                      new=new[0]))
    con.execute("DROP TABLE msg_ordered")
    if old is None:
        return 0
    return con.execute(f"SELECT count(*) FROM ({old})" if old else "SELECT count(*) FROM tickets").fetchall()[0][0]


def _update_facts(con, old: str, only: str, with_new: bool) -> None:
    """The stored tickets' msg_* facts (old: their query, ALL for every one), before NEW's are
    inserted; with_new: msg_ordered holds NEW's tickets too, left out of the UPDATE's join."""
    stored = ', "__b_first_response_at" = NULL' if _has_column(con, "tickets", "__b_first_response_at") else ""
    # tickets whose messages all went (moved to another ticket): only a ticket that had messages can
    # be one, so the anti-join over all messages runs only when such tickets exist (not on a first import).
    # Before FACTS, which sets has_messages on the others: the two touch disjoint tickets.
    had = f"SELECT 1 FROM tickets WHERE has_messages IS DISTINCT FROM FALSE{' AND ticket_id IN (' + old + ')' if old else ''}"
    if con.execute(f"SELECT count(*) FROM ({had} LIMIT 1)").fetchall()[0][0]:
        con.execute(CLEAR.replace("msg_all = NULL", "msg_all = NULL" + stored)
                    .format(only=f"\n  AND ticket_id IN ({old})" if old else ""))
    facts = FACTS.replace("msg_all = f.n_all", "msg_all = f.n_all" + stored)  # business_store refills
    if with_new:
        facts = facts.replace("FROM msg_ordered GROUP BY", f"FROM msg_ordered{only} GROUP BY")
    con.execute(facts)
