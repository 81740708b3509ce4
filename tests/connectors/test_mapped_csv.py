"""`--source csv --mapping FILE` (issue 5, section 5), end to end through `servicekpi import`.

The shipped examples (docs/connectors/examples/*) are imported as they are and their KPIs checked by hand;
tests/connectors/data/mapped/ holds a survey export with bad values.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from conftest import run, said

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "connectors" / "examples"
DATA = Path(__file__).parent / "data" / "mapped"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def imp(ws, path: Path, mapping: Path, *extra: str):
    r = run(ws, "import", str(path), "--source", "csv", "--mapping", str(mapping), *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def rows(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def mapping(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


# ---- the shipped examples ------------------------------------------------------------------

@pytest.fixture
def call_center(ws):
    d = EXAMPLES / "call-center"
    r = imp(ws, d / "calls.csv", d / "mapping.toml")
    # 6 calls + 3 ratings (ID0001, ID0002, ID0004)
    assert said(r.stdout, "imported 9, replaced 0, unchanged 0, rejected 0 rows")
    assert said(r.stderr, "3 row(s) without 'Satisfaction rating' make no surveys row")
    return ws


@pytest.mark.parametrize("kpi, args, expected", [
    ("calls_offered", (), 6),
    # ID0003 and ID0006 not answered: 2 / 6
    ("abandonment_rate", (), 2 / 6 * 100),
    # speed of answer 20, 75, 45, 110 s -> 250 / 4 = 62.5 s (answered_at = entered_at + speed)
    ("avg_wait_time", (), 62.5),
    # talk 0:04:00 + 0:06:30 + 0:02:30 + 0:10:00 = 240 + 390 + 150 + 600 = 1380 s / 4 = 345 s
    ("aht", (), 345),
    # answered within 60 s: 20 and 45 -> 2 / 6 offered
    ("call_service_level", (), 2 / 6 * 100),
    # answered calls with Resolved Y: ID0001, ID0004, ID0005 of 4 -> 75%
    ("first_call_resolution", (), 75.0),
    # ratings 5, 3, 4: satisfied (4-5 on 1-5) 2 of 3
    ("csat", (), 2 / 3 * 100),
])
def test_call_center_example(call_center, kpi, args, expected):
    assert call_center.value(kpi, *OCT, *args) == pytest.approx(expected)


def test_call_center_times_date_plus_time_in_london(call_center):
    # 01/10/2026 09:12:30 in London (BST, UTC+1) -> 08:12:30 UTC; answered 20 s later
    got = rows(call_center, "SELECT entered_at, answered_at, outcome, topic FROM calls WHERE call_id = 'ID0001'")
    assert [(str(a), str(b), c, d) for a, b, c, d in got] == [
        ("2026-10-01 08:12:30", "2026-10-01 08:12:50", "answered", "Billing")]
    # an unanswered call has no answer time and no agent, whatever the sheet says
    assert rows(call_center, "SELECT answered_at, agent_id, outcome FROM calls WHERE call_id = 'ID0003'") == [
        (None, None, "abandoned")]


def test_surveymonkey_example(ws):
    d = EXAMPLES / "surveymonkey-csat"
    r = imp(ws, d / "responses.csv", d / "mapping.yaml")
    assert said(r.stdout, "imported 6, replaced 0, unchanged 0, rejected 0 rows")
    # answers 5, 4, 3, 1, 5, 2: satisfied (4-5) 3 of 6 = 50%; mean 20 / 6
    assert ws.value("csat", *OCT) == pytest.approx(50.0)
    assert ws.value("csat_mean", *OCT) == pytest.approx(20 / 6)
    # 10/01/2026 09:11:40 AM New York (EDT, UTC-4) -> 13:11:40 UTC; the second header row is skipped;
    # a comment spanning two lines stays one answer, located at the line it starts on
    got = rows(ws, "SELECT response_id, responded_at, ticket_id FROM surveys ORDER BY responded_at LIMIT 1")
    assert [(a, str(b), c) for a, b, c in got] == [("114800000001", "2026-10-01 13:11:40", "T-1001")]
    assert rows(ws, "SELECT comment FROM surveys WHERE response_id = '114800000006'") == [
        ("The agent was kind,\nbut the answer was wrong",)]


def test_google_forms_nps_example(ws):
    d = EXAMPLES / "google-forms-nps"
    r = imp(ws, d / "responses.csv", d / "mapping.toml")
    assert said(r.stdout, "imported 10, replaced 0, unchanged 0, rejected 0 rows")
    # scores 10 9 8 7 6 3 10 9 0 8: promoters (9-10) 4, detractors (0-6) 3 of 10 -> (4 - 3) / 10 x 100 = 10
    assert ws.value("nps", *OCT) == pytest.approx(10.0)
    # 10/1/2026 9:15:22 in Berlin (CEST, UTC+2) -> 07:15:22 UTC
    got = rows(ws, "SELECT responded_at FROM surveys WHERE score = 0")
    assert str(got[0][0]) == "2026-10-08 06:05:00"


def test_ticket_log_example(ws):
    d = EXAMPLES / "ticket-log"
    r = imp(ws, d, d / "mapping.toml")  # the folder: the mapping file itself is not data
    assert said(r.stdout, "imported 5, replaced 0, unchanged 0, rejected 0 rows")
    # T-5 is spam (excluded): 4 tickets count
    assert ws.value("ticket_volume", *OCT) == 4
    # T-1 and T-2 closed of 4 -> 50%
    assert ws.value("resolution_rate", *OCT) == pytest.approx(50.0)
    # first reply after 30, 5 and 120 minutes (T-4 has none) -> 155 / 3 minutes
    assert ws.value("first_response_time", *OCT) == pytest.approx(155 / 3)
    # T-1 09:00 -> 13:00 = 4 h; T-2 10:30 -> next day 10:30 = 24 h -> 14 h
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(14.0)
    # Excel serial 46296.375 = 2026-10-01 09:00 in Bucharest (EEST, UTC+3) = 06:00 UTC
    got = rows(ws, "SELECT created_at, channel, priority, status, excluded FROM tickets WHERE ticket_id = 'T-1'")
    assert [(str(a), *rest) for a, *rest in got] == [("2026-10-01 06:00:00", "email", "normal", "closed", False)]
    assert rows(ws, "SELECT status FROM tickets WHERE ticket_id = 'T-4'") == [("pending",)]


def test_reimport_is_idempotent(call_center):
    d = EXAMPLES / "call-center"
    r = imp(call_center, d / "calls.csv", d / "mapping.toml")
    assert said(r.stdout, "imported 0, replaced 0, unchanged 9, rejected 0 rows")


# ---- bad values: quarantined with the original file and line, valid rows kept -----------------

def test_bad_values_quarantined_with_file_and_line(ws):
    # survey_export.csv (lines 2-7 = A-1..A-6) feeds tickets, csat and nps surveys:
    #   line 4 A-3 opened '31/02/2026 10:00' (no such date)          -> tickets.created_at quarantined
    #   line 5 A-4 satisfaction 'So-so' is not in the map             -> surveys.score quarantined (csat)
    #              channel 'Fax' not in the map: kept as it is ('fax'), listed in the notes
    #   line 6 A-5 no answers: no surveys rows (counted)
    #   line 7 A-6 opened 29/03/2026 01:30 does not exist in London (clocks went 01:00 -> 02:00)
    #              -> tickets.created_at quarantined; its nps 12 is out of 0..10 -> quarantined
    r = imp(ws, DATA / "survey_export.csv", DATA / "survey_export.toml")
    # tickets 4 of 6, csat 4 of 5, nps 4 of 5
    assert said(r.stdout, "imported 12, replaced 0, unchanged 0, rejected 4 rows")
    q = {(Path(x["source"]).name, x["line"], x["column"]) for x in ws.quarantine()}
    assert q == {("survey_export.csv", 4, "created_at"), ("survey_export.csv", 7, "created_at"),
                 ("survey_export.csv", 5, "score"), ("survey_export.csv", 7, "score")}
    assert said(r.stderr, "files[0].tables[0].columns.created_at: does not match '%d/%m/%Y %H:%M' -- 1 value(s): "
                          "line 4 '31/02/2026 10:00'")
    assert said(r.stderr, "files[0].tables[0].columns.created_at: does not exist in Europe/London (skipped by a "
                          "DST change) -- 1 value(s): line 7 '29/03/2026 01:30'")
    assert said(r.stderr, "files[0].tables[1].columns.score: not in the map (passed on as they are) -- 1 value(s): "
                          "line 5 'So-so'")
    assert said(r.stderr, "files[0].tables[0].columns.channel: not in the map")
    assert rows(ws, "SELECT channel FROM tickets WHERE ticket_id = 'A-4'") == [("fax",)]
    # csat 5, 4 ('satisfied' matches 'Satisfied': maps ignore case), 2, 3 -> 2 of 4 satisfied = 50%
    assert ws.value("csat", "--from", "2026-03-01", "--to", "2026-10-31") == pytest.approx(50.0)
    # nps 10, 7, 3, 9 -> promoters 2, detractors 1 of 4 -> 25
    assert ws.value("nps", "--from", "2026-03-01", "--to", "2026-10-31") == pytest.approx(25.0)


def test_expression_with_a_bad_operand_is_quarantined(ws, tmp_path):
    (tmp_path / "calls.csv").write_text("id,start,soa,talk\n"
                                        "c1,2026-10-01 09:00:00,30,1:00\n"
                                        "c2,2026-10-01 09:10:00,abc,2:00\n"
                                        "c3,2026-10-01 09:20:00,15,1:xx\n")
    m = mapping(tmp_path, """
        [[files]]
        [[files.tables]]
        table = "calls"
        [files.tables.columns]
        call_id = "id"
        entered_at = "start"
        answered_at = { expr = "entered_at + soa seconds" }
        talk_seconds = { column = "talk", duration = "h:mm:ss" }
        """)
    r = imp(ws, tmp_path / "calls.csv", m)
    assert said(r.stdout, "imported 1, replaced 0, unchanged 0, rejected 2 rows")
    q = {(x["line"], x["column"]) for x in ws.quarantine()}
    assert q == {(3, "answered_at"), (4, "talk_seconds")}
    assert said(r.stderr, "[soa] 'abc' is neither a number nor a time")
    # c1: 1:00 is M:SS = 60 s talk; answered 30 s after entering; naive times read in UTC (no zone given)
    got = rows(ws, "SELECT talk_seconds, epoch(answered_at - entered_at), entered_at FROM calls")
    assert [(a, b, str(c)) for a, b, c in got] == [(60, 30, "2026-10-01 09:00:00")]


# ---- mapping features ------------------------------------------------------------------------

def test_naive_times_without_a_zone_follow_source_tz(ws, tmp_path):
    (tmp_path / "s.csv").write_text("id,when,score\nr1,05/10/2026 14:00,9\n")
    m = mapping(tmp_path, """
        [[files]]
        date_format = "%d/%m/%Y %H:%M"
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "nps" }
        score = "score"
        responded_at = "when"
        """)
    imp(ws, tmp_path / "s.csv", m, "--source-tz", "Asia/Tokyo")
    # 14:00 in Tokyo (UTC+9) -> 05:00 UTC
    assert str(rows(ws, "SELECT responded_at FROM surveys")[0][0]) == "2026-10-05 05:00:00"


def test_naive_times_without_any_zone_follow_the_workspace_time_zone(ws, tmp_path):
    (tmp_path / "s.csv").write_text("id,when,score\nr1,05/10/2026 14:00,9\n")
    m = mapping(tmp_path, """
        [[files]]
        date_format = "%d/%m/%Y %H:%M"
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "nps" }
        score = "score"
        responded_at = "when"
        """)
    (ws.root / "servicekpi.toml").write_text('timezone = "Europe/Bucharest"\n')  # found beside the store
    imp(ws, tmp_path / "s.csv", m)
    # 14:00 in Bucharest (EEST, UTC+3 on 5 October) -> 11:00 UTC
    assert str(rows(ws, "SELECT responded_at FROM surveys")[0][0]) == "2026-10-05 11:00:00"


@pytest.mark.parametrize("value, fmt, expected", [
    ("10/05/2026 02:30 PM", "%m/%d/%Y %I:%M %p", "2026-10-05 14:30:00"),  # US
    ("05.10.2026 14:30", "%d.%m.%Y %H:%M", "2026-10-05 14:30:00"),        # German
    ("46300.6041666667", "excel", "2026-10-05 14:30:00"),                 # Excel serial: 46300 + 14.5/24
    ("1791210600", "epoch", "2026-10-05 14:30:00"),                       # Unix seconds (UTC)
    ("2026-10-05T16:30:00+02:00", "iso", "2026-10-05 14:30:00"),          # an offset wins over any zone
])
def test_date_formats(ws, tmp_path, value, fmt, expected):
    (tmp_path / "s.csv").write_text(f'id,when,score\nr1,"{value}",4\n')
    m = mapping(tmp_path, f"""
        [[files]]
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = {{ value = "csat" }}
        score = "score"
        responded_at = {{ column = "when", format = "{fmt}" }}
        """)
    imp(ws, tmp_path / "s.csv", m)
    assert str(rows(ws, "SELECT responded_at FROM surveys")[0][0]) == expected


def test_value_maps_constants_defaults_other_and_line_template(ws, tmp_path):
    (tmp_path / "t.csv").write_text("when,how,vip,mistake\n"
                                    "2026-10-01 10:00,Phone,Y,\n"
                                    "2026-10-01 11:00,Pigeon,N,Oui\n"
                                    "2026-10-01 12:00,,,Non\n")
    m = mapping(tmp_path, """
        [[files]]
        [[files.tables]]
        table = "tickets"
        [files.tables.columns]
        ticket_id = { template = "sheet-{_line}" }
        created_at = "when"
        channel = { column = "how", map = { phone = "phone" }, other = "other", default = "unknown" }
        customer_tier = { column = "vip", map = { Y = "enterprise", N = "freemium" } }
        fcr_eligible = { column = "mistake", map = { Oui = false, Non = true } }
        team = { value = "Level 1" }
        """)
    imp(ws, tmp_path / "t.csv", m)
    assert rows(ws, "SELECT ticket_id, channel, customer_tier, fcr_eligible, team FROM tickets ORDER BY 1") == [
        ("sheet-2", "phone", "enterprise", True, "Level 1"),   # empty fcr_eligible -> its default, true
        ("sheet-3", "other", "freemium", False, "Level 1"),    # 'Pigeon' is not in the map -> other
        ("sheet-4", "unknown", None, True, "Level 1"),         # empty -> default; empty stays empty
    ]


def test_several_files_one_mapping_and_a_file_no_entry_matches(ws, tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    (d / "tickets.csv").write_text("Id,Created\nk1,2026-10-01 09:00\nk2,2026-10-02 09:00\n")
    (d / "csat.csv").write_text("Ticket,Rating,At\nk1,thumbs up,2026-10-01 10:00\nk2,thumbs down,2026-10-02 10:00\n")
    (d / "notes.csv").write_text("a,b\n1,2\n")
    m = mapping(tmp_path, """
        files:
          - match: "tickets*.csv"
            tables:
              - table: tickets
                columns: { ticket_id: Id, created_at: Created }
          - match: "csat*.csv"
            tables:
              - table: surveys
                columns:
                  response_id: { template: "csat-{Ticket}" }
                  survey: { value: csat }
                  score: { column: Rating, map: { thumbs up: 1, thumbs down: 0 } }
                  scale_min: { value: 0 }
                  scale_max: { value: 1 }
                  responded_at: At
                  ticket_id: Ticket
        """, "m.yaml")
    r = imp(ws, d, m)
    assert said(r.stdout, "imported 4, replaced 0, unchanged 0, rejected 0 rows")
    assert said(r.stderr, "notes.csv: matches no [[files]] entry of m.yaml")
    # a thumbs survey is csat 0-1: 1 of 2 satisfied
    assert ws.value("csat", *OCT) == pytest.approx(50.0)


def test_xlsx_with_a_sheet(ws, tmp_path):
    import datetime as dt

    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Readme"
    sh = wb.create_sheet("Calls")
    sh.append(["Call", "Start", "Wait", "Talk (min)"])
    sh.append(["x1", dt.datetime(2026, 10, 1, 9, 0), 12, 3.5])
    sh.append(["x2", dt.datetime(2026, 10, 1, 9, 30), None, None])
    wb.save(tmp_path / "calls.xlsx")
    m = mapping(tmp_path, """
        [[files]]
        sheet = "Calls"
        [[files.tables]]
        table = "calls"
        [files.tables.columns]
        call_id = "Call"
        entered_at = "Start"
        answered_at = { expr = "entered_at + Wait seconds" }
        talk_seconds = { column = "Talk (min)", duration = "minutes" }
        """)
    imp(ws, tmp_path / "calls.xlsx", m)
    # x1: waited 12 s, talked 3.5 min = 210 s; x2 not answered
    got = rows(ws, "SELECT call_id, epoch(answered_at - entered_at), talk_seconds FROM calls ORDER BY 1")
    assert got == [("x1", 12, 210), ("x2", None, 0)]


# ---- mapping errors: located, all at once ---------------------------------------------------------

def test_mapping_errors_are_located(ws, tmp_path):
    (tmp_path / "s.csv").write_text("id,score\n1,5\n")
    m = mapping(tmp_path, """
        timezone = "Mars/Olympus"
        [[files]]
        delimeter = ";"
        [[files.tables]]
        table = "survey"
        [[files.tables]]
        table = "calls"
        [files.tables.columns]
        call_id = "id"
        entered = "when"
        talk_seconds = { column = "t", duration = "fortnights" }
        answered_at = { expr = "entered_at + + seconds" }
        queue = { column = "q", value = "x" }
        """)
    r = run(ws, "import", str(tmp_path / "s.csv"), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    for part in [
        "m.toml: timezone: 'Mars/Olympus' is not an IANA time zone",
        "m.toml: files[0].delimeter: unknown key; did you mean delimiter?",
        "m.toml: files[0].tables[0].table: 'survey' is not a canonical table; did you mean surveys",
        "m.toml: files[0].tables[1].columns.entered: not a column of calls; did you mean entered_at",
        "m.toml: files[0].tables[1].columns.talk_seconds.duration: 'fortnights' is not a duration unit",
        "m.toml: files[0].tables[1].columns.answered_at.expr: unexpected '+'",
        "m.toml: files[0].tables[1].columns.queue: give exactly one of column, value, template, date, expr "
        "(found: column, value)",
    ]:
        assert said(r.stderr, part), (part, r.stderr)


def test_required_column_unmapped(ws, tmp_path):
    (tmp_path / "s.csv").write_text("id,score\n1,5\n")
    m = mapping(tmp_path, """
        [[files]]
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        score = "score"
        """)
    r = run(ws, "import", str(tmp_path / "s.csv"), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    assert said(r.stderr, "m.toml: files[0].tables[0].columns: table surveys needs survey, responded_at (map a "
                          "source column, or give a constant")


def test_source_column_missing_from_the_header(ws, tmp_path):
    (tmp_path / "s.csv").write_text("id,score,at\n1,5,2026-10-01\n")
    m = mapping(tmp_path, """
        [[files]]
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "csat" }
        score = "Score (1-5)"
        responded_at = "at"
        """)
    r = run(ws, "import", str(tmp_path / "s.csv"), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    assert said(r.stderr, "s.csv: column 'Score (1-5)' named by m.toml files[0].tables[0].columns.score.column is "
                          "not in the header (the header has: id, score, at)")


@pytest.mark.parametrize("name, text, expected", [
    ("m.toml", "files = [\n", "m.toml: not valid TOML"),
    ("m.yaml", "files:\n  - match: [unclosed\n", "m.yaml: not valid YAML"),
    ("m.json", "{}", "m.json: a mapping file is .toml, .yaml or .yml"),
])
def test_unreadable_mapping_files(ws, tmp_path, name, text, expected):
    (tmp_path / "s.csv").write_text("id\n1\n")
    m = mapping(tmp_path, text, name)
    r = run(ws, "import", str(tmp_path / "s.csv"), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    assert said(r.stderr, expected)


def test_mapping_is_required(ws, tmp_path):
    (tmp_path / "s.csv").write_text("id\n1\n")
    r = run(ws, "import", str(tmp_path / "s.csv"), "--source", "csv")
    assert r.exit_code == 2  # usage
    assert said(r.stderr, "--source csv needs --mapping FILE")


def test_expressions_on_made_columns_and_bare_source_names(ws, tmp_path):
    # handle 7.5 min = 450 s; talk 0:05:00 = 300 s -> wrap = 450 - 300 = 150 s;
    # the date + time column with AM/PM: 10/01/2026 02:05 PM in UTC
    (tmp_path / "c.csv").write_text("Id,Day,At,Talk,Handle (min)\nq1,10/01/2026,02:05 PM,0:05:00,7.5\n",
                                    encoding="cp1252")
    m = mapping(tmp_path, """
        [[files]]
        encoding = "cp1252"
        [[files.tables]]
        table = "calls"
        [files.tables.columns]
        call_id = "Id"
        entered_at = { date = "Day", time = "At", format = "%m/%d/%Y" }
        talk_seconds = { column = "Talk", duration = "h:mm:ss" }
        wrap_seconds = { expr = "handle_min minutes - talk_seconds" }
        ended_at = { expr = "entered_at + (talk_seconds + wrap_seconds) seconds" }
        """)
    imp(ws, tmp_path / "c.csv", m)
    got = rows(ws, "SELECT entered_at, talk_seconds, wrap_seconds, epoch(ended_at - entered_at) FROM calls")
    # ended 300 + 150 = 450 s after entering
    assert [(str(a), b, c, d) for a, b, c, d in got] == [("2026-10-01 14:05:00", 300, 150, 450)]


def test_undecodable_file_says_which_encoding_to_set(ws, tmp_path):
    (tmp_path / "s.csv").write_bytes("id,score,at\nr1,5,2026-10-01 café\n".encode("cp1252"))
    m = mapping(tmp_path, """
        [[files]]
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "csat" }
        score = "score"
        responded_at = "at"
        """)
    r = run(ws, "import", str(tmp_path / "s.csv"), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1
    assert said(r.stderr, "s.csv: not valid utf-8-sig at byte")
    assert said(r.stderr, "set `encoding` in files[0]")


def test_a_file_the_mapping_does_not_fit_is_rejected_the_others_go_in(ws, tmp_path):
    d = tmp_path / "export"
    d.mkdir()
    (d / "week1.csv").write_text("id,score,at\nw1,5,2026-10-01 10:00\n")
    (d / "week2.csv").write_text("id,rating,at\nw2,4,2026-10-08 10:00\n")  # the tool renamed a column
    m = mapping(tmp_path, """
        [[files]]
        match = "week*.csv"
        [[files.tables]]
        table = "surveys"
        [files.tables.columns]
        response_id = "id"
        survey = { value = "csat" }
        score = "score"
        responded_at = "at"
        """)
    r = run(ws, "import", str(d), "--source", "csv", "--mapping", str(m))
    assert r.exit_code == 1  # said, after week1 went in
    assert said(r.stderr, "Error: week2.csv: column 'score' named by m.toml files[0].tables[0].columns.score.column "
                          "is not in the header (the header has: id, rating, at)")
    assert said(r.stdout, "imported 1, replaced 0, unchanged 0, rejected 0 rows")
    assert rows(ws, "SELECT response_id FROM surveys") == [("w1",)]
