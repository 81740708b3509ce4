"""The vectorised CSV mapping (Maker.vblock, and the pyarrow reader _fast_rows) against the row-by-row
reference (csv_mapping.files.VECTOR = False: the csv module and Maker.block): the same batches (file, line, every
value) and the same notes (each problem, its count and its first lines), on generated messy files with
bad cells, DST gaps, quoted line breaks, short and blank rows, and on the shipped examples.
"""
from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

from servicekpi.connectors import csv_mapping
from servicekpi.connectors.csv_mapping import files as mapped_files

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "connectors" / "examples"


def rows_of(batches) -> list[tuple]:
    out = []
    for b in batches:
        lines = b.lines.to_pylist() if isinstance(b.lines, pa.Array) else list(b.lines)
        for line, row in zip(lines, b.data.to_pylist()):
            out.append((b.table, b.source, line, b.line_kind, tuple(sorted(row.items()))))
    return out


def both(monkeypatch, path: Path, mapping: Path, chunk: int | None = None, fast_min: int = 0):
    """(reference rows, notes), (vector rows, notes)."""
    got = []
    for vector in (False, True):
        monkeypatch.setattr(mapped_files, "VECTOR", vector)
        monkeypatch.setattr(mapped_files, "FAST_MIN_BYTES", fast_min)
        conv = csv_mapping.convert(path, mapping=mapping, chunk=chunk)
        rows = rows_of(conv.batches)
        got.append((rows, list(conv.notes)))
    return got


def check(monkeypatch, path, mapping, **kw):
    (ref, ref_notes), (vec, vec_notes) = both(monkeypatch, path, mapping, **kw)
    assert len(vec) == len(ref)
    for a, b in zip(ref, vec):
        assert a == b
    assert vec_notes == ref_notes
    return ref, ref_notes


# ---- a generated messy call-center sheet ----------------------------------------------------------

DATES = ["01/10/2026", "1/10/2026", "31/02/2026", "29/03/2026", "25/10/2026", "", "  ", "yesterday", "01/13/2026",
         "28/02/2026", "30/06/2026", "01-10-2026", "46300", "01/10/2026 10:00"]
CLOCKS = ["09:12:30", "9:12:30", "01:30:00", "01:30", "25:00:00", "", "0.5", "02:30 PM", "23:59:59", "12:00:60",
          "00:00:00", "xx"]
SOA = ["20", "0", "75", "", "abc", "12.5", "1e3", "-5", " 7 ", "0.1", "nan", "inf", "100000000000000"]
TALK = ["0:04:00", "4:00", "1:2:3", "", "x", "-1:00", "0:04:35.5", "12", "0:00:00", "100:00:00", "1:60"]
RATING = ["5", "4", "1", "", "Extremely satisfied", "so-so", "3", "0", "very"]
ISO = ["2026-10-01T09:00:00", "2026-10-01 09:00", "2026-10-01T09:00:00Z", "2026-10-01T09:00z", "2026-10-01Z", "2026-10-01T09:00:00+02:00",
       "2026-03-29 01:30:00", "2026-10-25 01:30:00", "2026-13-01", "2026-10-01", "", "46300.5", "1791210600",
       "2026-10-01 09:00:00.250000", "0099-01-01 00:00:00"]


def messy(path: Path, n: int, seed: int) -> None:
    r = random.Random(seed)
    out = ["Call Id,Agent,Date,Time,Topic,Answered (Y/N),Resolved (Y/N),Speed of answer in seconds,"
           "AvgTalkDuration,Satisfaction rating,Closed,Comment\n"]
    for i in range(n):
        k = r.random()
        if k < 0.01:
            out.append("\n")
            continue
        if k < 0.02:
            out.append(",,,,,,,,,,,\n")
            continue
        if k < 0.025:
            out.append("   \n")
            continue
        if k < 0.03:
            out.append(f"S{i},Dan,01/10/2026\n")  # a short row
            continue
        comment = r.choice(["", "fine", '"said ""hi"", then left"', '"two\nlines"', "x" * 5, '"a, b"'])
        cells = [f"ID{i:05d}" if r.random() > 0.02 else "", r.choice(["Diane", "Becky", "", "  Greg  "]),
                 r.choice(DATES) if r.random() < 0.3 else f"{r.randrange(1, 29):02d}/{r.randrange(1, 13):02d}/2026",
                 r.choice(CLOCKS) if r.random() < 0.3 else
                 f"{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}",
                 r.choice(["Billing", "Tech", ""]), r.choice(["Y", "N", "y", "", "maybe", " Y "]),
                 r.choice(["Y", "N", ""]), r.choice(SOA) if r.random() < 0.3 else str(r.randrange(300)),
                 r.choice(TALK) if r.random() < 0.3 else f"0:{r.randrange(60):02d}:{r.randrange(60):02d}",
                 r.choice(RATING), r.choice(ISO), comment]
        out.append(",".join(cells) + ("\r\n" if r.random() < 0.1 else "\n"))
    path.write_text("".join(out))


MESSY = """
timezone = "Europe/London"
[[files]]
date_format = "%d/%m/%Y"
[[files.tables]]
table = "calls"
[files.tables.columns]
call_id = { template = "{Call Id}", default = "none" }
entered_at = { date = "Date", time = "Time" }
answered_at = { expr = "entered_at + [Speed of answer in seconds] seconds", when = { column = "Answered (Y/N)", in = ["Y"] } }
ended_at = { expr = "answered_at + talk_seconds seconds" }
outcome = { column = "Answered (Y/N)", map = { Y = "answered", N = "abandoned" } }
agent_id = { column = "Agent", when = { column = "Answered (Y/N)", in = ["Y"] } }
talk_seconds = { column = "AvgTalkDuration", duration = "h:mm:ss" }
wrap_seconds = { expr = "(ended_at - entered_at) - talk_seconds / 2" }
hold_seconds = { column = "Speed of answer in seconds", duration = "minutes" }
resolved = "Resolved (Y/N)"
channel = { value = "phone" }
[files.tables.extras]
topic = "Topic"
line = { template = "row-{_line}" }
[[files.tables]]
table = "spend"
[files.tables.columns]
period_start = { column = "Closed", format = "%Y-%m-%d %H:%M:%S" }
period_end = { date = "Date", time = "Time" }
amount = { expr = "[Speed of answer in seconds] * 2 + 0.25" }
kind = { value = "tools" }
[[files.tables]]
table = "surveys"
when_present = ["Satisfaction rating"]
[files.tables.columns]
response_id = { template = "csat-{Call Id}" }
survey = { value = "csat" }
score = { column = "Satisfaction rating", map = { "Extremely satisfied" = 5, "1" = 1, "3" = 3, "4" = 4, "5" = 5 } }
responded_at = { date = "Date", time = "Time", time_format = "%H:%M:%S" }
agent_id = "Agent"
comment = "Comment"
[files.tables.extras]
closed_iso = "Closed"
"""

ISO_MAPPING = """
[[files]]
[[files.tables]]
table = "tickets"
[files.tables.columns]
ticket_id = "Call Id"
created_at = "Closed"
first_response_at = { expr = "created_at + [Speed of answer in seconds] minutes" }
resolved_at = { expr = "[Closed] + 1 hours" }
channel = { column = "Topic", map = { billing = "email" }, other = "web" }
[files.tables.extras]
ratio = { expr = "[Speed of answer in seconds] / speed_of_answer_in_seconds" }
gap = { expr = "resolved_at - created_at" }
[files.tables.columns.escalated_at]
column = "Closed"
format = ["%Y-%m-%d %H:%M:%S", "iso", "excel", "epoch"]
"""


@pytest.mark.parametrize("text", [MESSY, ISO_MAPPING], ids=["london", "iso"])
@pytest.mark.parametrize("chunk, fast_min", [(None, 0), (None, 1 << 40), (97, 0)])
def test_messy_file_vector_equals_row_by_row(monkeypatch, tmp_path, text, chunk, fast_min):
    f = tmp_path / "calls.csv"
    messy(f, 3000, seed=5)
    m = tmp_path / "m.toml"
    m.write_text(textwrap.dedent(text))
    ref, notes = check(monkeypatch, f, m, chunk=chunk, fast_min=fast_min)
    assert len(ref) > 2000 and len(notes) > 5  # the file has bad cells, and they are noted


def test_arrow_reader_blocks_and_line_numbers(monkeypatch, tmp_path):
    """Small pyarrow blocks: most parsed by pyarrow, those with a quoted line break, a short row or a long
    line by the csv module, each resuming at a record boundary; lines as the csv module counts them."""
    monkeypatch.setattr(mapped_files, "BLOCK_BYTES", 300)
    f = tmp_path / "calls.csv"
    messy(f, 2000, seed=9)
    m = tmp_path / "m.toml"
    m.write_text(textwrap.dedent(MESSY))
    parsed = []
    real = mapped_files._arrow_block

    def counted(*a):
        got = real(*a)
        parsed.append(got is not None)
        return got
    monkeypatch.setattr(mapped_files, "_arrow_block", counted)
    check(monkeypatch, f, m, chunk=50)
    assert any(parsed) and not all(parsed)


def test_arrow_reader_cp1252_semicolons_skip_rows(monkeypatch, tmp_path):
    f = tmp_path / "t.csv"
    rows = ["Export of 2026\n", "\n", "Ref;Opened;Owner;Status\n", "(second header);;;\n"]
    rows += [f"T-{i};{46296 + i / 7:.6f};Zoë;{'Open' if i % 3 else 'Closed'}\n" for i in range(500)]
    rows.insert(100, ";;;\n")
    rows.insert(200, '"T-x";"46300,5";"Andr\u00e9";Open\n')
    f.write_bytes("".join(rows).encode("cp1252"))
    m = tmp_path / "m.toml"
    m.write_text(textwrap.dedent("""
        timezone = "Europe/Bucharest"
        [[files]]
        delimiter = ";"
        encoding = "cp1252"
        skip_rows = 1
        skip_after_header = 1
        date_format = "excel"
        [[files.tables]]
        table = "tickets"
        [files.tables.columns]
        ticket_id = "Ref"
        created_at = "Opened"
        agent_id = "Owner"
        status = { column = "Status", map = { Open = "open", Closed = "closed" } }
        """))
    ref, notes = check(monkeypatch, f, m)
    assert ref[0][2] == 5 and dict(ref[0][4])["agent_id"] == "Zoë"


@pytest.mark.parametrize("example", ["call-center", "ticket-log", "surveymonkey-csat", "google-forms-nps"])
def test_examples_vector_equals_row_by_row(monkeypatch, example):
    d = EXAMPLES / example
    data = next(p for p in d.iterdir() if p.suffix == ".csv")
    mapping = next(p for p in d.iterdir() if p.name.startswith("mapping"))
    check(monkeypatch, data, mapping)
    check(monkeypatch, data, mapping, chunk=2)


def test_us_dates_and_epochs(monkeypatch, tmp_path):
    r = random.Random(3)
    f = tmp_path / "s.csv"
    lines = ["id,end,ms,score\n"]
    for i in range(800):
        h = r.randrange(0, 13)
        end = r.choice([f"{r.randrange(1, 13):02d}/{r.randrange(1, 29):02d}/2026 {h:02d}:{r.randrange(60):02d}:"
                        f"{r.randrange(60):02d} {r.choice(['AM', 'PM', 'pm'])}", "3/8/2026 02:30:00 AM",
                        "03/08/2026 02:30:00 AM", "11/01/2026 01:30:00 AM", "bad", ""])
        ms = r.choice([str(r.randrange(1_700_000_000_000, 1_800_000_000_000)), "", "12.5", "99999999999999"])
        lines.append(f"r{i},{end},{ms},{r.randrange(1, 6)}\n")
    f.write_text("".join(lines))
    m = tmp_path / "m.toml"
    m.write_text(textwrap.dedent("""
        timezone = "America/New_York"
        [[files]]
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "csat" }
        score = "score"
        responded_at = { column = "end", format = "%m/%d/%Y %I:%M:%S %p" }
        [files.tables.extras]
        waited = { expr = "responded_at - [end]" }
        [[files.tables]]
        table = "feedback"
        [files.tables.columns]
        feedback_id = "id"
        source = { value = "email" }
        received_at = { column = "ms", format = "epoch_ms" }
        replied_at = { expr = "received_at + 90 minutes" }
        """))
    check(monkeypatch, f, m)


def test_csv_syntax_error_half_way_same_rows_and_error(monkeypatch, tmp_path):
    """A field over the csv module's limit: the pyarrow reader leaves that block to the csv module, which
    stops there as in the reference (rows before it kept, an Error note with the line)."""
    f = tmp_path / "s.csv"
    good = "".join(f"r{i},{i % 5 + 1},2026-10-01 10:{i % 60:02d}\n" for i in range(300))
    f.write_text("id,score,at\n" + good + f"bad,\"{'x' * 200_000}\",2026-10-01 12:00\n" + good)
    m = tmp_path / "m.toml"
    m.write_text(textwrap.dedent("""
        [[files]]
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "csat" }
        score = "score"
        responded_at = "at"
        """))
    monkeypatch.setattr(mapped_files, "BLOCK_BYTES", 2000)
    ref, notes = check(monkeypatch, f, m, chunk=40)
    assert len(ref) == 300 and any("cannot parse as CSV" in n and "line 302" in n for n in notes)


YAML_MAPPING = """
timezone: Asia/Kolkata
date_format: ["%Y-%m-%d %H:%M", "%d.%m.%Y"]
files:
  - tables:
      - table: tickets
        columns:
          ticket_id: { template: "t-{id}-{_line}" }
          created_at: { column: at, default: "2026-01-01 00:00" }
          status: { column: st, map: { o: open, c: closed, x: null }, default: open }
          priority: { value: P1, map: { p1: urgent } }
          escalated_at: { value: "2026-02-30 10:00" }
          reopen_count: { template: "{n}" }
          agent_replies: { column: n, when: { column: st, not_in: [x] } }
          first_response_at: { expr: "created_at + n minutes", when: { column: n } }
          resolved_at: { date: d, time: t, format: "%d.%m.%Y", time_format: "%H:%M" }
          agent_id: { column: id, when: { column: st, in: [O] } }
        extras:
          age: { expr: "resolved_at - created_at" }
          bad: { expr: "n / (n - n)" }
          twice: { expr: "[n] * 2 + [id]" }
"""


def test_defaults_maps_to_empty_when_and_constants(monkeypatch, tmp_path):
    r = random.Random(4)
    rows = ["id,id,at,st,n,d,t\n"]
    for i in range(600):
        rows.append(",".join([
            r.choice(["a", "b", "", "7"]), "dup", r.choice(["2026-10-01 10:00", "01.10.2026", "", "2026-10-01T10:00",
                                                            "bad", f"2026-10-{r.randrange(1, 29):02d} "
                                                                   f"{r.randrange(24):02d}:{r.randrange(60):02d}"]),
            r.choice(["o", "c", "x", "", "q", "O"]), r.choice(["1", "2.5", "", "-3", "x", "0"]),
            r.choice(["01.10.2026", "31.09.2026", "", "1.10.2026"]), r.choice(["10:00", "24:00", "", "7:5", "10:00:00"]),
        ]) + "\n")
    f = tmp_path / "t.csv"
    f.write_text("".join(rows))
    m = tmp_path / "m.yaml"
    m.write_text(textwrap.dedent(YAML_MAPPING))
    ref, notes = check(monkeypatch, f, m)
    check(monkeypatch, f, m, chunk=37)
    assert len(ref) == 600 and any("divides by zero" in n for n in notes)
