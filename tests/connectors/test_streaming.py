"""Streaming connectors (issue 5: "a 1 GB queue_log or a 5M-row CSV imports in bounded memory"): asterisk and
csv hand their rows over in chunks as they read; small chunk sizes here stand for the real 100k rows.

What is pinned: convert() returns before the rows are read and the first chunk comes before the end of
the input; a call whose events straddle a chunk boundary is emitted once, complete; the chunked output
(and the import of it) equals the one-chunk output; a file that cannot be decoded is still rejected
whole (it is decoded once before any row is converted); a CSV syntax error half-way keeps the rows
before it and says so.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from conftest import Workspace, run, said
from servicekpi.connectors import asterisk, mapped

HERE = Path(__file__).parent
AST = HERE / "data" / "asterisk"
EXAMPLES = HERE.parents[1] / "docs" / "connectors" / "examples"

# A and B overlap: A enters, B enters, B ends, A connects and ends (lines 2 and 7 straddle chunks of 1 row)
OVERLAP = """\
1790845200|NONE|NONE|Agent/1001|AGENTLOGIN|PJSIP/1001
1790845800|A|sales|NONE|ENTERQUEUE||5550001|1
1790845805|B|sales|NONE|ENTERQUEUE||5550002|1
1790845830|B|sales|NONE|ABANDON|1|1|25
1790845840|A|sales|Agent/1001|CONNECT|40|A1|3
1790845900|C|sales|NONE|ENTERQUEUE||5550003|1
1790846140|A|sales|Agent/1001|COMPLETEAGENT|40|300|1
1790846150|C|sales|Agent/1001|CONNECT|250|C1|3
1790846200|C|sales|Agent/1001|COMPLETECALLER|250|50|1
1790852400|NONE|NONE|Agent/1001|AGENTLOGOFF|PJSIP/1001|7200
1790852500|D|sales|NONE|ENTERQUEUE||5550004|1
"""


def table_rows(batches) -> dict[str, list[tuple]]:
    """Every emitted row per table, with its source line, sorted."""
    out: dict[str, list] = {}
    for b in batches:
        lines = b.lines.to_pylist() if isinstance(b.lines, pa.Array) else list(b.lines)
        for line, row in zip(lines, b.data.to_pylist()):
            out.setdefault(b.table, []).append((b.source, line, tuple(sorted(row.items()))))
    return {t: sorted(r) for t, r in out.items()}


def fresh(tmp_path: Path, name: str):
    (tmp_path / name).mkdir()
    return Workspace(tmp_path / name)


def db_rows(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---- asterisk ------------------------------------------------------------------------------------

def test_asterisk_returns_before_reading_and_yields_before_the_end(tmp_path, monkeypatch):
    log = tmp_path / "queue_log"
    log.write_text(OVERLAP)
    read = []
    real = asterisk._pipe_events

    def counted(path):
        for ev in real(path):
            read.append(ev.line)
            if len(read) > 7:  # the rest of the file "cannot be read": only a lazy reader gets a chunk out
                raise RuntimeError("read too far")
            yield ev
    monkeypatch.setattr(asterisk, "_pipe_events", counted)
    conv = asterisk.convert(log, chunk=1)
    assert read == []  # nothing read yet
    first = next(iter(conv.batches))
    # B ends at line 4: its row is the first chunk, made from 4 lines of 11
    assert first.table == "calls" and first.data.column("call_id").to_pylist() == ["B:sales"]
    assert read == [1, 2, 3, 4]
    assert first.done_bytes is not None and 0 < first.done_bytes < first.total_bytes == log.stat().st_size


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_asterisk_chunks_neither_split_nor_repeat_calls(tmp_path, chunk):
    log = tmp_path / "queue_log"
    log.write_text(OVERLAP)
    whole = asterisk.convert(log)
    expected = table_rows(list(whole.batches))
    conv = asterisk.convert(log, chunk=chunk)
    batches = list(conv.batches)
    assert all(b.data.num_rows <= chunk for b in batches)
    got = table_rows(batches)
    assert got == expected
    # each call once, complete (A straddles B's chunk: entered line 2, ended line 7); D still open
    assert [dict(r[2])["call_id"] for r in got["calls"]] == ["A:sales", "B:sales", "C:sales"]
    a = dict(got["calls"][0][2])
    assert (a["entered_at"], a["answered_at"], a["ended_at"], a["talk_seconds"]) == \
        ("2026-10-01T09:10:00Z", "2026-10-01T09:10:40Z", "2026-10-01T09:15:40Z", "300")
    assert conv.notes == whole.notes
    assert said("\n".join(conv.notes), "1 call(s) still open when the log ends, left out")


@pytest.mark.parametrize("name", ["queue_log", "queue_log_table.csv"])
def test_asterisk_import_in_tiny_chunks_equals_one_chunk(ws, tmp_path, monkeypatch, name):
    r = run(ws, "import", str(AST / name), "--source", "asterisk")
    assert r.exit_code == 0, r.stderr
    sql = ("SELECT call_id, entered_at, answered_at, ended_at, outcome, queue, agent_id, talk_seconds "
           "FROM calls ORDER BY call_id")
    expected = db_rows(ws, sql)
    sessions = db_rows(ws, "SELECT agent_id, login_at, logout_at FROM agent_sessions ORDER BY 1, 2")
    monkeypatch.setattr(asterisk, "CHUNK", 2)
    small = fresh(tmp_path, "small")
    r2 = run(small, "import", str(AST / name), "--source", "asterisk")
    assert r2.exit_code == 0, r2.stderr
    assert said(r2.stdout, "rejected 0 rows")  # no key emitted twice (a repeat would be quarantined)
    assert db_rows(small, sql) == expected and len(expected) == 11
    assert db_rows(small, "SELECT agent_id, login_at, logout_at FROM agent_sessions ORDER BY 1, 2") == sessions


# ---- csv with a mapping ----------------------------------------------------------------------------

def write_mapping(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.toml"
    p.write_text(textwrap.dedent(text))
    return p


SURVEYS = """
    [[files]]
    [[files.tables]]
    table = "surveys"
    [files.tables.columns]
    response_id = "id"
    survey = { value = "csat" }
    score = "score"
    responded_at = "at"
    """


def test_csv_returns_before_reading_rows_and_yields_before_the_end(tmp_path, monkeypatch):
    f = tmp_path / "s.csv"
    f.write_text("id,score,at\n" + "".join(f"r{i},{i % 5 + 1},2026-10-01 10:{i:02d}\n" for i in range(10)))
    m = write_mapping(tmp_path, SURVEYS)
    real = mapped._csv_rows
    got = []

    def counted(*args):
        for item in real(*args):
            got.append(item)
            if len(got) > 1 + 4:  # header + 4 rows, then the file "cannot be read"
                raise RuntimeError("read too far")
            yield item
    monkeypatch.setattr(mapped, "_csv_rows", counted)
    conv = mapped.convert(f, mapping=m, chunk=3)
    assert len(got) == 1  # the header only (checked against the mapping now)
    stream = iter(conv.batches)
    first = next(stream)
    assert first.data.column("response_id").to_pylist() == ["r0", "r1", "r2"]
    assert first.lines.to_pylist() == [2, 3, 4]
    with pytest.raises(RuntimeError):
        next(stream)


@pytest.mark.parametrize("chunk", [1, 2, 4])
@pytest.mark.parametrize("example", ["call-center", "ticket-log"])
def test_csv_chunks_equal_one_chunk_and_keep_table_order(chunk, example):
    d = EXAMPLES / example
    data = next(p for p in d.iterdir() if p.suffix == ".csv")
    whole = mapped.convert(data, mapping=d / "mapping.toml")
    expected = table_rows(list(whole.batches))
    conv = mapped.convert(data, mapping=d / "mapping.toml", chunk=chunk)
    batches = list(conv.batches)
    assert table_rows(batches) == expected
    assert conv.notes == whole.notes
    lines = [line for b in batches if b.table == batches[0].table for line in b.lines.to_pylist()]
    assert lines == sorted(lines) and all(b.data.num_rows <= chunk for b in batches)
    # within each block of source rows, the tables come in dependency order (tickets before messages)
    order = ["tickets", "messages", "calls", "agent_sessions", "surveys"]
    for a, b in zip(batches, batches[1:]):
        if a.lines.to_pylist()[-1] >= b.lines.to_pylist()[0]:  # same block
            assert order.index(a.table) <= order.index(b.table)


def test_call_center_import_in_tiny_chunks_equals_one_chunk(ws, tmp_path, monkeypatch):
    d = EXAMPLES / "call-center"
    args = ("import", str(d / "calls.csv"), "--source", "csv", "--mapping", str(d / "mapping.toml"))
    assert run(ws, *args).exit_code == 0
    q = ["SELECT call_id, entered_at, answered_at, outcome, agent_id, talk_seconds FROM calls ORDER BY 1",
         "SELECT response_id, score, responded_at FROM surveys ORDER BY 1"]
    expected = [db_rows(ws, s) for s in q]
    monkeypatch.setattr(mapped, "CHUNK", 2)
    small = fresh(tmp_path, "small")
    r = run(small, *args)
    assert r.exit_code == 0 and said(r.stdout, "imported 9, replaced 0, unchanged 0, rejected 0 rows")
    assert [db_rows(small, s) for s in q] == expected


def test_csv_undecodable_late_in_the_file_is_rejected_whole(ws, tmp_path, monkeypatch):
    """The file is decoded once before its rows are converted: the bad byte on line 40 is found before the
    first chunk (2 rows) goes in, so none of the file's rows are imported; the other file is."""
    monkeypatch.setattr(mapped, "CHUNK", 2)
    d = tmp_path / "export"
    d.mkdir()
    good = "".join(f"a{i},5,2026-10-01 10:{i:02d}\n" for i in range(38))
    (d / "a.csv").write_bytes(("id,score,at\n" + good + "a38,4,2026-10-01 café\n").encode("cp1252"))
    (d / "b.csv").write_text("id,score,at\nb1,4,2026-10-02 10:00\n")
    m = write_mapping(tmp_path, SURVEYS)
    r = run(ws, "import", str(d), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    at = len(("id,score,at\n" + good + "a38,4,2026-10-01 caf").encode())
    assert said(r.stderr, f"Error: {d / 'a.csv'}: not valid utf-8-sig at byte {at}; set `encoding` in files[0]")
    assert db_rows(ws, "SELECT response_id FROM surveys") == [("b1",)]


def test_csv_syntax_error_half_way_keeps_the_rows_before_it(ws, tmp_path, monkeypatch):
    """A row the csv module cannot parse (a field over its 128 KiB limit) is found only when reached: the
    chunks before it are already in the import's transaction. They stay; an Error note says where the
    file stopped; the exit code is 1 and --strict stores nothing."""
    monkeypatch.setattr(mapped, "CHUNK", 1)
    f = tmp_path / "s.csv"
    f.write_text("id,score,at\nr1,5,2026-10-01 10:00\nr2,4,2026-10-01 11:00\n"
                 f"r3,\"{'x' * 200_000}\",2026-10-01 12:00\nr4,3,2026-10-01 13:00\n")
    m = write_mapping(tmp_path, SURVEYS)
    r = run(ws, "import", str(f), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    assert said(r.stderr, "cannot parse as CSV")
    assert said(r.stderr, "(the rows before it are imported, the rest of the file is not)")
    assert db_rows(ws, "SELECT response_id FROM surveys ORDER BY 1") == [("r1",), ("r2",)]
    strict = fresh(tmp_path, "strict")
    r = run(strict, "import", str(f), "--source", "csv", "--mapping", str(m), "--strict")
    assert r.exit_code == 1
    assert said(r.stderr, "--strict: nothing was stored")


def test_asterisk_re_entry_counts_kept_for_a_window_of_log_time(tmp_path, monkeypatch):
    """Re-entries are numbered from visit counts kept for one to two VISIT_WINDOWs of log time (bounded
    memory); here the window is 100 s. A re-enters 150 s after its first visit: #2. Y is open across
    two windows and keeps its count."""
    monkeypatch.setattr(asterisk, "VISIT_WINDOW", 100)
    log = tmp_path / "queue_log"
    log.write_text(
        "1790845800|A|sales|NONE|ENTERQUEUE||5550001|1\n"
        "1790845810|A|sales|NONE|ABANDON|1|1|10\n"
        "1790845820|Y|sales|NONE|ENTERQUEUE||5550009|1\n"
        "1790845950|X|sales|NONE|ENTERQUEUE||5550002|1\n"   # a new window
        "1790845960|A|sales|NONE|ENTERQUEUE||5550001|1\n"   # A again, 150 s later: the second offer
        "1790845970|A|sales|NONE|ABANDON|1|1|10\n"
        "1790846100|Z|sales|NONE|ENTERQUEUE||5550003|1\n"   # another window
        "1790846250|W|sales|NONE|ENTERQUEUE||5550004|1\n"   # and another
        "1790846260|Y|sales|Agent/1001|CONNECT|440|Y1|3\n"
        "1790846300|Y|sales|Agent/1001|COMPLETEAGENT|440|40|1\n")
    conv = asterisk.convert(log, chunk=1)
    got = [dict(r[2])["call_id"] for r in table_rows(conv.batches)["calls"]]
    assert got == ["A:sales", "Y:sales", "A:sales#2"]  # by first line


@pytest.mark.parametrize("run", [1, 2, 7])
def test_asterisk_table_export_sorted_in_runs_on_disk_equals_sorted_in_memory(tmp_path, monkeypatch, run):
    """The table export (newest first here) is put in time order by an external merge sort: sorted runs of
    SORT_RUN events in temporary files, merged. Tiny runs give the same events, rows and notes as one run."""
    src = AST / "queue_log_table.csv"
    whole_events = [(e.line, e.event) for e in asterisk._table_events(src)]
    whole = asterisk.convert(src)
    expected = table_rows(whole.batches)
    spilled = []
    real = asterisk._spill

    def counted(items):
        spilled.append(len(items))
        return real(items)
    monkeypatch.setattr(asterisk, "SORT_RUN", run)
    monkeypatch.setattr(asterisk, "SPILL_BLOCK", 2)
    monkeypatch.setattr(asterisk, "_spill", counted)
    assert [(e.line, e.event) for e in asterisk._table_events(src)] == whole_events
    assert sum(spilled) == len(whole_events) and max(spilled) <= run  # every event went through a file
    conv = asterisk.convert(src, chunk=2)
    assert table_rows(conv.batches) == expected and len(expected["calls"]) == 11
    assert conv.notes == whole.notes


def test_asterisk_table_export_shuffled_gives_the_same_calls(tmp_path, monkeypatch):
    """Any row order of the export gives the same calls and sessions (runs of 3 rows, merged)."""
    import random
    src = AST / "queue_log_table.csv"
    header, *rows = src.read_text().splitlines(keepends=True)
    random.Random(5).shuffle(rows)
    shuffled = tmp_path / "queue_log_table.csv"
    shuffled.write_text(header + "".join(rows))
    monkeypatch.setattr(asterisk, "SORT_RUN", 3)

    def content(batches):
        return {t: sorted((r[2] for r in rs), key=repr) for t, rs in table_rows(batches).items()}
    assert content(asterisk.convert(shuffled).batches) == content(asterisk.convert(src).batches)
