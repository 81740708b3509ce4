"""CSV mapping options for the files people really have (issue 15, item 4): a table-level row filter
(`when` on [[files.tables]]), partial value maps (`else = "keep"`), survey scores that mean "no answer"
(`no_answer = [0]`), and out-of-range messages that show the value as written. Each is run through the
row-by-row reference and the vectorised path (pyarrow reader included): the same rows and notes."""
from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from conftest import run, said
from servicekpi.connectors import ConnectorError, csv_mapping
from servicekpi.connectors.csv_mapping import files as mapped_files

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")

# one row per call; a rating 0 = no rating (unanswered calls carry 0 too)
SHEET = """\
Call Id,Date,Answered (Y/N),Priority,Satisfaction rating
C1,2026-10-01 09:00:00,Y,medium,5
C2,2026-10-01 10:00:00,N,high,0
C3,2026-10-01 11:00:00,Y,Low,0
C4,2026-10-01 12:00:00,Y,URGENT,2
C5,2026-10-01 13:00:00,N,medium,0
"""

SURVEYS = """\
[[files]]
[[files.tables]]
table = "surveys"
{table_extra}
[files.tables.columns]
response_id = {{ template = "csat-{{Call Id}}" }}
survey = {{ value = "csat" }}
score = {score}
responded_at = "Date"
"""


def write(tmp_path: Path, mapping: str, sheet: str = SHEET) -> tuple[Path, Path]:
    (tmp_path / "calls.csv").write_text(sheet)
    (tmp_path / "m.toml").write_text(textwrap.dedent(mapping))
    return tmp_path / "calls.csv", tmp_path / "m.toml"


def convert_both(monkeypatch, data: Path, mapping: Path) -> tuple[list, list[str]]:
    """(rows, notes) by the reference and by the vectorised path (pyarrow reader): must be equal."""
    got = []
    for vector in (False, True):
        monkeypatch.setattr(mapped_files, "VECTOR", vector)
        monkeypatch.setattr(mapped_files, "FAST_MIN_BYTES", 0)
        conv = csv_mapping.convert(data, mapping=mapping)
        rows = [(b.table, line, tuple(sorted(r.items()))) for b in conv.batches
                for line, r in zip(b.lines.to_pylist(), b.data.to_pylist())]
        got.append((rows, list(conv.notes)))
    assert got[0] == got[1]
    return got[0]


def scores(rows) -> dict[int, str]:
    return {line: dict(r)["score"] for _, line, r in rows}


def test_table_when_filters_rows(monkeypatch, tmp_path):
    data, m = write(tmp_path, SURVEYS.format(table_extra='when = { column = "Answered (Y/N)", in = ["Y"] }',
                                            score='"Satisfaction rating"'))
    rows, notes = convert_both(monkeypatch, data, m)
    # C1, C3, C4 answered (lines 2, 4, 5); C2 and C5 (lines 3, 6) make no survey row
    assert scores(rows) == {2: "5", 4: "0", 5: "2"}
    assert notes == ["calls.csv: 2 row(s) make no surveys row: 'Answered (Y/N)' not in (Y) (when)"]


def test_table_when_not_in_and_any_value(monkeypatch, tmp_path):
    data, m = write(tmp_path, SURVEYS.format(table_extra='when = { column = "Answered (Y/N)", not_in = ["n"] }',
                                            score='"Satisfaction rating"'))
    rows, notes = convert_both(monkeypatch, data, m)
    assert sorted(scores(rows)) == [2, 4, 5]  # "n" matches N (case folded)
    assert notes == ["calls.csv: 2 row(s) make no surveys row: 'Answered (Y/N)' in (n) (when)"]


def test_no_answer_scores_make_no_row(monkeypatch, tmp_path):
    data, m = write(tmp_path, SURVEYS.format(table_extra="",
                                            score='{ column = "Satisfaction rating", no_answer = [0] }'))
    rows, notes = convert_both(monkeypatch, data, m)
    # the three 0s (C2, C3, C5) make no row; 5 and 2 stay
    assert scores(rows) == {2: "5", 5: "2"}
    assert notes == ["calls.csv: 3 row(s) make no surveys row: 'Satisfaction rating' is a no-answer score (0) "
                     "(no_answer)"]


def test_without_no_answer_a_zero_is_quarantined_showing_0_not_0_0(ws, tmp_path):
    data, m = write(tmp_path, SURVEYS.format(table_extra='when = { column = "Answered (Y/N)", in = ["Y"] }',
                                            score='"Satisfaction rating"'))
    r = run(ws, "import", str(data), "--source", "csv", "--mapping", str(m))
    assert said(r.stdout, "imported 2, replaced 0, unchanged 0, rejected 1 rows")  # C1, C4; C3 rated 0
    q = run(ws, "quarantine")
    assert said(q.stdout, "'0' is out of range (expected")
    assert "'0.0'" not in q.stdout


def test_filters_and_no_answer_together_give_the_kpi(ws, tmp_path):
    data, m = write(tmp_path, SURVEYS.format(
        table_extra='when = { column = "Answered (Y/N)", in = ["Y"] }',
        score='{ column = "Satisfaction rating", no_answer = [0] }'))
    r = run(ws, "import", str(data), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 0 and said(r.stdout, "imported 2, replaced 0, unchanged 0, rejected 0 rows")
    # ratings 5 and 2: satisfied (4-5) 1 of 2 = 50%; counting C3's 0 as an answer would be 1 of 3
    assert ws.value("csat", *OCT) == pytest.approx(50.0)


TICKETS = """\
[[files]]
[[files.tables]]
table = "tickets"
[files.tables.columns]
ticket_id = "Call Id"
created_at = "Date"
priority = {priority}
"""


def test_partial_map_else_keep_keeps_other_values_without_notes(monkeypatch, tmp_path):
    data, m = write(tmp_path, TICKETS.format(priority='{ column = "Priority", map = { medium = "normal" }, '
                                                      'else = "keep" }'))
    rows, notes = convert_both(monkeypatch, data, m)
    # medium -> normal; high, Low, URGENT kept as written (the import lower-cases enums)
    assert [dict(r)["priority"] for _, _, r in rows] == ["normal", "high", "Low", "URGENT", "normal"]
    assert notes == []


def test_partial_map_without_else_notes_each_value(monkeypatch, tmp_path):
    data, m = write(tmp_path, TICKETS.format(priority='{ column = "Priority", map = { medium = "normal" } }'))
    rows, notes = convert_both(monkeypatch, data, m)
    assert [dict(r)["priority"] for _, _, r in rows] == ["normal", "high", "Low", "URGENT", "normal"]
    assert len(notes) == 1 and "not in the map (passed on as they are) -- 3 value(s)" in notes[0]


def test_partial_map_imports_and_lowercases(ws, tmp_path):
    data, m = write(tmp_path, TICKETS.format(priority='{ column = "Priority", map = { medium = "normal" }, '
                                                      'else = "keep" }'))
    r = run(ws, "import", str(data), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 0 and said(r.stdout, "imported 5, replaced 0, unchanged 0, rejected 0 rows")
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        got = con.execute("SELECT ticket_id, priority FROM tickets ORDER BY 1").fetchall()
    finally:
        con.close()
    assert got == [("C1", "normal"), ("C2", "high"), ("C3", "low"), ("C4", "urgent"), ("C5", "normal")]


@pytest.mark.parametrize("mapping, message", [
    (TICKETS.format(priority='{ column = "Priority", map = { medium = "normal" }, else = "drop" }'),
     "files[0].tables[0].columns.priority.else: 'drop' is not an else rule (expected \"keep\""),
    (TICKETS.format(priority='{ column = "Priority", else = "keep" }'),
     "columns.priority.else: `else = \"keep\"` is for source values missing from `map`; give a `map`"),
    (TICKETS.format(priority='{ column = "Priority", map = { a = "low" }, other = "high", else = "keep" }'),
     "give `other` (one value for everything outside the map) or `else = \"keep\"`, not both"),
    (SURVEYS.format(table_extra="", score='{ column = "Satisfaction rating", no_answer = "zero" }'),
     "columns.score.no_answer: expected a list of numbers (e.g. [0]), not 'zero'"),
    (SURVEYS.format(table_extra="", score='{ value = 3, no_answer = [0] }'),
     "columns.score.no_answer: no_answer is for a number read from a source column"),
    (SURVEYS.format(table_extra='when = { in = ["Y"] }', score='"Satisfaction rating"'),
     "files[0].tables[0].when: expected { column = \"...\", in = [...] }"),
])
def test_option_errors_are_located(tmp_path, mapping, message):
    data, m = write(tmp_path, mapping)
    with pytest.raises(ConnectorError) as e:
        csv_mapping.convert(data, mapping=m)
    assert message in str(e.value)


def test_table_when_column_missing_from_the_header(tmp_path):
    data, m = write(tmp_path, SURVEYS.format(table_extra='when = { column = "Answered", in = ["Y"] }',
                                            score='"Satisfaction rating"'))
    with pytest.raises(ConnectorError) as e:
        csv_mapping.convert(data, mapping=m)
    assert "column 'Answered' named by m.toml files[0].tables[0].when.column is not in the header" in str(e.value)
