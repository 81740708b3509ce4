"""A Parquet file is decoded once, by the import itself; only when one fails to decode is the import
rolled back and run again with every Parquet file decoded first (ingest/load.py, transaction()), so a
corrupt file is still one located file rejection and the other files' rows are kept."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from servicekpi.core.agents import AgentRules
from servicekpi.ingest import headers, load
from servicekpi.store import db as store

TS = "2026-10-01T10:00:00Z"


def write_tickets(path, n: int, corrupt: bool = False) -> None:
    pq.write_table(pa.table({"ticket_id": [f"T{i}" for i in range(n)], "created_at": [TS] * n,
                             "agent_id": ["SIP/1127-0001"] * n}),
                   path, compression="snappy", use_dictionary=False)
    if corrupt:
        raw = bytearray(path.read_bytes())
        for i in range(200, 1200):  # the data pages; the footer (schema) stays readable
            raw[i] = 0xFF
        path.write_bytes(bytes(raw))


def write_calls(path) -> None:
    # K2's entered_at is not an instant: quarantined, in both runs alike
    pq.write_table(pa.table({"call_id": ["K1", "K2"], "entered_at": [TS, "not a time"]}), path)


@pytest.fixture
def checks(monkeypatch):
    """The files headers.check_parquet decoded before the import read them."""
    seen: list[str] = []
    real = headers.check_parquet

    def check(path):
        seen.append(path.name)
        real(path)
    monkeypatch.setattr(headers, "check_parquet", check)
    return seen


def stores_rows(con) -> dict:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("tickets", "calls")} | {
        "quarantine": con.execute("SELECT table_name, source, line, \"column\", reason FROM quarantine "
                                  "ORDER BY ALL").fetchall()}


def test_good_parquet_files_are_not_decoded_before_the_import(tmp_path, checks):
    data = tmp_path / "data"
    data.mkdir()
    write_tickets(data / "tickets.parquet", 3)
    write_calls(data / "calls.parquet")
    con = store.connect(tmp_path / "s.duckdb")
    result = load.run(con, data)
    assert result.committed and checks == []
    assert (result.total("imported"), result.total("rejected")) == (3 + 1, 1)
    con.close()


@pytest.mark.parametrize("agents", [None, AgentRules(rules=("channel",))])
def test_a_corrupt_file_rolls_back_and_is_rejected_in_a_checked_import(tmp_path, checks, agents):
    data = tmp_path / "data"
    data.mkdir()
    write_calls(data / "calls.parquet")
    write_tickets(data / "tickets.parquet", 2000, corrupt=True)
    con = store.connect(tmp_path / "s.duckdb")
    result = load.run(con, data, agents=agents)
    # the first pass failed on tickets.parquet and was rolled back; the second decoded both files first
    assert sorted(checks) == ["calls.parquet", "tickets.parquet"]
    assert result.committed
    [bad] = result.file_errors
    assert bad.source.endswith("tickets.parquet") and bad.error.startswith("cannot read as Parquet:")
    assert (result.total("imported"), result.total("rejected")) == (1, 1)  # K1 kept; K2 quarantined once
    got = stores_rows(con)
    con.close()
    # the same store as an import that checks every file first (how every import ran before)
    checked = store.connect(tmp_path / "checked.duckdb")
    items = [(str(f), name, error, (lambda f=f: load.readers.read(f, None)))
             for f, name, error in load.plan(data, None)]
    again = load._transaction(checked, items, False, "UTC", None, False, None, agents, None, precheck=True)
    assert again.committed and [f.error for f in again.file_errors] == [bad.error]
    assert stores_rows(checked) == got
    assert got["tickets"] == [] and [r[0] for r in got["calls"]] == ["K1"]
    checked.close()
