"""Connector output streamed as chunks: keys repeated across chunks are duplicates, nothing is dropped."""
from __future__ import annotations

import pyarrow as pa

from servicekpi.ingest.load import Batch, run_batches
from servicekpi.store import db as store


def chunk(source: str, rows: list[tuple[str, str]], first_line: int) -> Batch:
    data = pa.table({"ticket_id": [r[0] for r in rows], "created_at": [r[1] for r in rows]})
    return Batch("tickets", source, data, list(range(first_line, first_line + len(rows))), "line")


def test_a_stream_of_chunks_checks_keys_across_chunks(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")

    def stream():  # a generator: the loader cannot count the chunks in advance
        yield chunk("log", [("A", "2026-10-01T00:00:00Z"), ("B", "2026-10-01T01:00:00Z")], 1)
        yield chunk("log", [("C", "2026-10-01T02:00:00Z"), ("A", "2026-10-01T03:00:00Z")], 3)

    result = run_batches(con, stream())
    # 4 rows: A, B, C valid; the second A (line 4) repeats line 1's key -> quarantined
    assert (result.total("imported"), result.total("rejected")) == (3, 1)
    assert [r[0] for r in con.execute("SELECT ticket_id FROM tickets ORDER BY 1").fetchall()] == ["A", "B", "C"]
    q = con.execute("SELECT line, reason FROM quarantine").fetchall()
    assert q[0][0] == 4 and "duplicate ticket_id" in q[0][1] and "line 1" in q[0][1], q


def test_a_list_of_batches_is_imported_in_table_order(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    messages = Batch("messages", "m", pa.table({"message_id": ["m1"], "ticket_id": ["A"],
                                                 "sent_at": ["2026-10-01T00:05:00Z"], "author": ["customer"]}), [1])
    # messages listed before their ticket still find it: tickets are imported first
    result = run_batches(con, [messages, chunk("t", [("A", "2026-10-01T00:00:00Z")], 1)])
    assert (result.total("imported"), result.total("rejected")) == (2, 0)


def test_reasons_name_the_first_source_and_line_across_chunks_and_sources(tmp_path):
    """Within a chunk, the later line of a repeated key is the duplicate; across chunks and sources, the
    reason names the source and line where the key was first imported; a re-import of the same stream is
    unchanged (idempotent)."""
    con = store.connect(tmp_path / "s.duckdb")

    def stream():
        yield chunk("a.log", [("A", "2026-10-01T00:00:00Z"), ("A", "2026-10-01T00:30:00Z")], 1)  # A twice
        yield chunk("b.log", [("B", "2026-10-01T01:00:00Z"), ("A", "2026-10-01T03:00:00Z")], 7)
        yield chunk("a.log", [("B", "2026-10-01T04:00:00Z"), ("C", "bad time")], 20)

    result = run_batches(con, stream())
    assert (result.total("imported"), result.total("rejected")) == (2, 4)
    got = sorted(con.execute("SELECT source, line, \"column\", reason FROM quarantine").fetchall())
    assert got == [
        ("a.log", 2, "ticket_id", "duplicate ticket_id, first seen at line 1"),
        ("a.log", 20, "ticket_id", "duplicate ticket_id, first seen at b.log line 7"),
        ("a.log", 21, "created_at", "'bad time' is not a timestamp (expected ISO 8601, e.g. 2026-02-28T10:00:00Z)"),
        ("b.log", 8, "ticket_id", "duplicate ticket_id, first seen at a.log line 1"),
    ]
    again = run_batches(con, stream())
    assert (again.total("imported"), again.total("unchanged"), again.total("rejected")) == (0, 2, 4)
    assert con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 4  # not quarantined twice


def test_a_stream_keeps_no_table_or_view_per_chunk(tmp_path):
    """Bounded memory: DuckDB keeps what a transaction creates until it ends, so the chunks of a stream are
    staged and checked as Arrow tables, never as temp tables or registered views (only the keys seen and
    the touched tickets are tables, one each for the whole import). Messages are checked against their
    tickets in the same way."""
    con = store.connect(tmp_path / "s.duckdb")
    seen = []

    def objects():
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE temporary "
                                           "AND NOT internal").fetchall()}
        return tables | views

    def stream():
        for i in range(5):
            seen.append(objects())
            yield chunk("log", [(f"T{i}", "2026-10-01T00:00:00Z")], i + 1)
        seen.append(objects())
        yield Batch("messages", "m", pa.table({"message_id": ["m1", "m2"], "ticket_id": ["T1", "X"],
                                               "sent_at": ["2026-10-01T00:05:00Z", "2026-10-01T00:05:00Z"],
                                               "author": ["customer", "customer"]}), [1, 2], "line")
        seen.append(objects())

    result = run_batches(con, stream())
    assert (result.total("imported"), result.total("rejected")) == (6, 1)
    assert con.execute("SELECT reason FROM quarantine").fetchall() == [
        ("ticket 'X' is not in tickets (import the ticket in the same import or before)",)]
    assert all(s <= {"touched_tickets", "seen_tickets", "seen_sources", "seen_messages"} for s in seen), seen
    assert objects() == set()
