"""Connector output streamed as chunks: keys repeated across chunks are duplicates, nothing is dropped."""
from __future__ import annotations

import pyarrow as pa

from servicekpi import store
from servicekpi.ingest.load import Batch, run_batches


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
