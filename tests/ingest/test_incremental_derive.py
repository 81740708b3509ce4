"""An import recomputes the derived facts of the tickets it touched only; the result must be exactly
what a full rebuild from the stored messages gives (replies, waits and the tickets' msg_* facts)."""
from __future__ import annotations

import pyarrow as pa
import pytest

from servicekpi.ingest.load import Batch, arrow_ingest, run_batches
from servicekpi.store import db as store
from servicekpi.store import derive

T = "2026-10-01T"


def tickets(*rows: tuple[str, str, str]) -> Batch:
    """(ticket_id, created_at hh:mm, channel)"""
    return Batch("tickets", "tickets", pa.table({
        "ticket_id": [r[0] for r in rows], "created_at": [f"{T}{r[1]}:00Z" for r in rows],
        "channel": [r[2] for r in rows]}), list(range(1, len(rows) + 1)))


def messages(*rows: tuple) -> Batch:
    """(message_id, ticket_id, sent_at hh:mm, author, agent_id)"""
    return Batch("messages", "messages", pa.table({
        "message_id": [r[0] for r in rows], "ticket_id": [r[1] for r in rows],
        "sent_at": [f"{T}{r[2]}:00Z" for r in rows], "author": [r[3] for r in rows],
        "agent_id": [r[4] for r in rows]}), list(range(1, len(rows) + 1)))


def snapshot(con) -> dict[str, list[tuple]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("replies", "waits", "tickets")}


def full_rebuild(con) -> dict[str, list[tuple]]:
    """What refresh(con) over the whole store gives, without keeping it."""
    con.execute("BEGIN")
    try:
        derive.refresh(con, derive.ALL)
        return snapshot(con)
    finally:
        con.execute("ROLLBACK")


STEPS = [
    # 1. first import: tickets, and messages for two of them
    [tickets(("T1", "09:00", "email"), ("T2", "09:10", "chat"), ("T3", "09:20", "email"),
             ("T4", "09:30", "phone")),
     messages(("m1", "T1", "09:01", "customer", None), ("m2", "T1", "09:05", "agent", "a1"),
              ("m3", "T2", "09:11", "customer", None), ("m4", "T2", "09:15", "agent", "a2"),
              ("m5", "T2", "09:20", "customer", None))],
    # 2. a new ticket with its messages; new messages for an old ticket (a follow-up and its reply)
    [tickets(("T5", "10:00", "chat")),
     messages(("m6", "T5", "10:01", "customer", None), ("m7", "T5", "10:02", "bot", None),
              ("m8", "T1", "10:30", "customer", None), ("m9", "T1", "10:40", "agent", "a3"))],
    # 3. replaced messages: a reply moves later and changes agent, one moves from T1 to T3;
    #    and a customer message after T2's reply (a wait, still open)
    [messages(("m4", "T2", "09:25", "agent", "a1"), ("m2", "T3", "09:40", "agent", "a1"),
              ("m13", "T2", "09:30", "customer", None))],
    # 4. a ticket replaced (its channel changes: replies and waits carry it), plus a new one without messages
    [tickets(("T2", "09:10", "social"), ("T6", "11:00", "email"))],
    # 5. the first messages of a ticket that had none, and an unchanged row (touches nothing)
    [messages(("m10", "T4", "09:45", "customer", None), ("m11", "T4", "09:50", "agent", "a2"),
              ("m12", "T4", "09:55", "agent", "a2"), ("m1", "T1", "09:01", "customer", None))],
]


@pytest.mark.parametrize("via", ["run_batches", "arrow_ingest"])
def test_incremental_imports_equal_one_full_rebuild(tmp_path, via):
    con = store.connect(tmp_path / "s.duckdb")
    for n, step in enumerate(STEPS, 1):
        if via == "run_batches":
            result = run_batches(con, step)
            assert result.committed and not result.total("rejected"), (n, result.files)
        else:  # the server's path: one table per request, in the caller's transaction
            for batch in step:
                con.execute("BEGIN")
                fr = arrow_ingest(con, batch.table, batch.data, batch.source)
                con.execute("COMMIT")
                assert not fr.rejected, (n, fr.reasons)
        incremental = snapshot(con)
        assert incremental == full_rebuild(con), f"after step {n}"

    # the scenario really moved things: the facts are the hand-computed ones
    facts = {r[0]: r[1:] for r in con.execute(
        "SELECT ticket_id, has_messages, msg_agent_replies, msg_agents_involved, msg_customer, msg_all "
        "FROM tickets").fetchall()}
    # T1: m1 customer, m8 customer, m9 agent (m2 moved to T3) -> 1 reply, 1 agent, 2 customer, 3 in all
    assert facts["T1"] == (True, 1, 1, 2, 3)
    # T3: m2 alone is the first message, so it is not a reply (pos 1) -> 0 replies, agents NULL
    assert facts["T3"] == (True, 0, None, 0, 1)
    # T4: m10 customer, m11 and m12 agent -> 2 replies by one agent
    assert facts["T4"] == (True, 2, 1, 1, 3)
    # T6: no messages
    assert facts["T6"] == (False, None, None, None, None)
    # T2's replies carry its new channel; its reply m4 moved to 09:25, after m5 (09:20)
    assert con.execute("SELECT channel, sent_at::VARCHAR, reply_agent_id FROM replies "
                       "WHERE ticket_id = 'T2'").fetchall() == [("social", "2026-10-01 09:25:00", "a1")]
    # its wait (m13, after the reply, unanswered) was made before the ticket changed: it carries "social" too
    assert con.execute("SELECT channel, start_at::VARCHAR, replied_at FROM waits WHERE ticket_id = 'T2'"
                       ).fetchall() == [("social", "2026-10-01 09:30:00", None)]


def test_a_rejected_batch_leaves_the_facts_alone(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    run_batches(con, STEPS[0])
    before = snapshot(con)
    # a message for an unknown ticket is quarantined: nothing is touched
    result = run_batches(con, [messages(("x1", "NOPE", "12:00", "agent", "a1"))])
    assert result.total("rejected") == 1
    assert snapshot(con) == before == full_rebuild(con)


def test_a_ticket_whose_messages_all_moved_has_none_left(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    # a first import (no messages before it: every ticket's facts rebuilt at once)
    assert run_batches(con, [tickets(("T1", "09:00", "email"), ("T2", "09:10", "chat")),
                             messages(("m1", "T1", "09:01", "customer", None),
                                      ("m2", "T1", "09:05", "agent", "a1"))]).committed
    facts = "SELECT ticket_id, has_messages, msg_agent_replies, msg_agents_involved, msg_customer, msg_all " \
            "FROM tickets ORDER BY ticket_id"
    # T1: m1 customer, m2 the agent's reply -> 1 reply by 1 agent, 1 customer message, 2 in all
    assert con.execute(facts).fetchall() == [("T1", True, 1, 1, 1, 2), ("T2", False, None, None, None, None)]
    # both messages now belong to T2: T1 keeps none, so its facts are cleared (has_messages false)
    assert run_batches(con, [messages(("m1", "T2", "09:11", "customer", None),
                                      ("m2", "T2", "09:15", "agent", "a1"))]).committed
    assert con.execute(facts).fetchall() == [("T1", False, None, None, None, None), ("T2", True, 1, 1, 1, 2)]
    assert con.execute("SELECT ticket_id FROM replies").fetchall() == [("T2",)]
    assert snapshot(con) == full_rebuild(con)


def test_agents_involved_counts_distinct_reply_agents_without_nulls(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    run_batches(con, [
        tickets(("T1", "09:00", "email"), ("T2", "09:00", "email"), ("T3", "09:00", "email")),
        messages(("a1", "T1", "09:01", "customer", None), ("a2", "T1", "09:02", "agent", "x"),
                 ("a3", "T1", "09:03", "agent", None), ("a4", "T1", "09:04", "agent", "x"),
                 ("a5", "T1", "09:05", "agent", "y"),
                 ("b1", "T2", "09:01", "customer", None), ("b2", "T2", "09:02", "agent", None),
                 ("c1", "T3", "09:01", "agent", "z"))])
    got = con.execute("SELECT ticket_id, msg_agent_replies, msg_agents_involved FROM tickets ORDER BY 1").fetchall()
    # T1: replies a2 (x), a3 (no agent), a4 (x), a5 (y): 4 replies, agents {x, y} = 2
    # T2: one reply without an agent: 1 reply, no agent known -> NULL (not 0)
    # T3: its only message is the first (not a reply): 0 replies, NULL agents
    assert got == [("T1", 4, 2), ("T2", 1, None), ("T3", 0, None)]
    con.close()
