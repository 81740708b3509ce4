"""Asterisk queue_log connector (issue 5, section 4), end to end through `servicekpi import --source asterisk`.

tests/connectors/data/asterisk/queue_log, all on 2026-10-01 (epochs, UTC); waits and talk by hand:
  call_id                 queue    ENTERQUEUE .. answer/end               outcome      wait  talk  agent
  1790845800.1:sales      sales    09:10:00 CONNECT 09:10:20 COMPLETEAGENT answered       20   300  Agent/1001
                                   (a RINGNOANSWER of Agent/1002 at 09:10:10 is a ring attempt, not a call)
  1790846400.3:sales      sales    09:20:00 ABANDON 09:20:45               abandoned       -     -
  1790847000.4:support    support  09:30:00 CONNECT 09:31:30 COMPLETECALLER answered      90   240  Agent/1002
  1790847600.6:sales      sales    09:40:00 EXITWITHTIMEOUT 09:43:00       timeout         -     -
  1790847600.6:support    support  09:43:00 (overflow: another offer) CONNECT 09:43:30 TRANSFER
                                   data 200|from-internal|30|120|1         transferred    30   120  Agent/1002
  1790848200.8:support    support  09:50:00 CONNECT 09:50:10 BLINDTRANSFER
                                   data 300|from-internal|10|120|1         transferred    10   120  Agent/1001
  1790848800.10:sales     sales    10:00:00 CONNECT 10:00:40 ATTENDEDTRANSFER
                                   data LINK|chan1|chan2|40|240|1          transferred    40   240  Agent/1001
  1790849400.12:sales     sales    10:10:00 EXITEMPTY 10:10:02             exit_empty      -     -
  1790850000.13:support   support  10:20:00 EXITWITHKEY 10:20:15           exit_key        -     -
  1790850600.14:sales     sales    10:30:00 CONNECT 10:31:00 COMPLETEAGENT answered       60   180  Agent/1001
                                   (holdtime says 45: reported, the timestamps are kept)
  1790851200.16:support   support  10:40:00 CONNECT 10:40:25 COMPLETECALLER answered      25   240  Agent/1002
offered 11; answered 7; unanswered 4 (abandoned, timeout, exit_empty, exit_key)
Sessions: Agent/1001 AGENTLOGIN 09:00 .. AGENTLOGOFF 11:00 = 7200 s;
          Agent/1002 ADDMEMBER sales 09:00 + support 09:01 .. REMOVEMEMBER both 11:00 = 7200 s (one session)
queue_log.part1 is its first 34 lines: it ends right after 1790851200.16 entered the queue.
queue_log_table.csv is the same log as the database-table export (naive datetimes, newest first).
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "asterisk"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def imp(ws, name: str, *extra: str):
    r = run(ws, "import", str(DATA / name), "--source", "asterisk", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def rows(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(params=["queue_log", "queue_log_table.csv"])
def full(ws, request):
    imp(ws, request.param)
    return ws


def test_calls_table(full):
    got = rows(full, "SELECT call_id, outcome, agent_id, talk_seconds, hold_seconds, "
                     "epoch(answered_at - entered_at) FROM calls ORDER BY entered_at, call_id")
    assert got == [
        ("1790845800.1:sales", "answered", "Agent/1001", 300, 0, 20),
        ("1790846400.3:sales", "abandoned", None, 0, 0, None),
        ("1790847000.4:support", "answered", "Agent/1002", 240, 0, 90),
        ("1790847600.6:sales", "timeout", None, 0, 0, None),
        ("1790847600.6:support", "transferred", "Agent/1002", 120, 0, 30),
        ("1790848200.8:support", "transferred", "Agent/1001", 120, 0, 10),
        ("1790848800.10:sales", "transferred", "Agent/1001", 240, 0, 40),
        ("1790849400.12:sales", "exit_empty", None, 0, 0, None),
        ("1790850000.13:support", "exit_key", None, 0, 0, None),
        ("1790850600.14:sales", "answered", "Agent/1001", 180, 0, 60),
        ("1790851200.16:support", "answered", "Agent/1002", 240, 0, 25),
    ]
    # an unanswered call ends when it left the queue: ABANDON 45 s after entering
    assert rows(full, "SELECT epoch(ended_at - entered_at) FROM calls WHERE call_id = '1790846400.3:sales'") == [(45,)]


@pytest.mark.parametrize("kpi, args, expected", [
    ("calls_offered", (), 11),
    # 4 unanswered of 11 offered = 36.36...%
    ("abandonment_rate", (), 4 / 11 * 100),
    # waits of the 7 answered: 20 + 90 + 30 + 10 + 40 + 60 + 25 = 275 s / 7 = 39.29 s
    ("avg_wait_time", (), 275 / 7),
    # talk 300 + 240 + 120 + 120 + 240 + 180 + 240 = 1440 s, hold 0, wrap 0 / 7 answered = 205.71 s
    ("aht", (), 1440 / 7),
    # answered within 60 s: 20, 30, 10, 40, 60, 25 -> 6 (90 is late) / 11 offered = 54.55%
    ("call_service_level", (), 6 / 11 * 100),
    # within 30 s: 20, 30, 10, 25 -> 4 / 11
    ("call_service_level", ("--option", "threshold_seconds=30"), 4 / 11 * 100),
    # caller_only: only ABANDON stays unanswered; timeout, exit_empty and exit_key leave offered -> 1 / 8
    ("abandonment_rate", ("--option", "abandon=caller_only"), 1 / 8 * 100),
    # handle 1440 s / logged-in 7200 + 7200 s = 10%
    ("occupancy", (), 10.0),
])
def test_kpis(full, kpi, args, expected):
    assert full.value(kpi, *OCT, *args) == pytest.approx(expected)


def test_agent_sessions(full):
    got = rows(full, "SELECT agent_id, login_at, logout_at, queue FROM agent_sessions ORDER BY agent_id")
    assert [(a, str(i), str(o), q) for a, i, o, q in got] == [
        ("Agent/1001", "2026-10-01 09:00:00", "2026-10-01 11:00:00", None),
        # member of sales and support: one session, no single queue
        ("Agent/1002", "2026-10-01 09:00:00", "2026-10-01 11:00:00", None),
    ]


def test_notes(ws):
    r = imp(ws, "queue_log")
    assert said(r.stderr, "1 RINGNOANSWER event(s): ring attempts of an agent, not calls")
    assert said(r.stderr, "1 unknown event type(s) skipped: VENDORSTATS x1 (first at queue_log line 31)")
    assert said(r.stderr, "1790850600.14:sales: answered_at - entered_at = 60 s but COMPLETEAGENT (line 30) "
                          "says holdtime 45 s")
    assert said(r.stderr, "2 PAUSE/UNPAUSE event(s) not imported")
    assert said(r.stdout, "imported 13, replaced 0, unchanged 0, rejected 0 rows")  # 11 calls + 2 sessions


def test_open_calls_left_out_then_added_by_the_continued_log(ws):
    r = imp(ws, "queue_log.part1")
    assert said(r.stderr, "1 call(s) still open when the log ends, left out (importing the continued log adds "
                          "them): 1790851200.16:support (line 34)")
    assert said(r.stderr, "2 agent session(s) still logged in when the log ends")
    # 10 calls ended within part 1; the sessions have no logout yet
    assert ws.value("calls_offered", *OCT) == 10
    assert rows(ws, "SELECT count(*) FROM agent_sessions WHERE logout_at IS NULL") == [(2,)]
    r = imp(ws, "queue_log")
    # the full log: the open call is new, the 10 ended calls are unchanged, both sessions get their logout
    assert said(r.stdout, "imported 1, replaced 2, unchanged 10, rejected 0 rows")
    assert ws.value("calls_offered", *OCT) == 11
    assert rows(ws, "SELECT count(*), count(DISTINCT call_id) FROM calls") == [(11, 11)]
    assert rows(ws, "SELECT count(*) FROM agent_sessions WHERE logout_at IS NULL") == [(0,)]
    assert ws.value("abandonment_rate", *OCT) == pytest.approx(4 / 11 * 100)
    r = imp(ws, "queue_log")  # once more: nothing changes
    assert said(r.stdout, "imported 0, replaced 0, unchanged 13, rejected 0 rows")


def test_rotated_logs_in_a_folder_are_one_log(ws, tmp_path):
    # queue_log.1 (older) ends mid-call; queue_log continues it; the folder is read in the order of first events
    lines = (DATA / "queue_log").read_text().splitlines(keepends=True)
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "queue_log.1").write_text("".join(lines[:34]))
    (folder / "queue_log").write_text("".join(lines[34:]))
    (folder / "queue_log.0").write_text("")  # rotated a moment ago: empty
    r = imp(ws, str(folder))
    assert "still open" not in r.stderr
    assert said(r.stderr, "queue_log.0: empty file (0 bytes), skipped")
    assert ws.value("calls_offered", *OCT) == 11
    # the call is located at its ENTERQUEUE, in the older file
    assert rows(ws, "SELECT count(*) FROM calls") == [(11,)]


def test_table_export_naive_times_read_in_source_tz(ws):
    # the export's datetimes have no offset: --source-tz Europe/Bucharest (UTC+3 in October) moves them 3 h
    imp(ws, "queue_log_table.csv", "--source-tz", "Europe/Bucharest")
    got = rows(ws, "SELECT entered_at, answered_at FROM calls WHERE call_id = '1790845800.1:sales'")
    assert [(str(a), str(b)) for a, b in got] == [("2026-10-01 06:10:00", "2026-10-01 06:10:20")]


def test_raw_log_epochs_are_utc_whatever_the_source_tz(ws):
    imp(ws, "queue_log", "--source-tz", "Europe/Bucharest")
    got = rows(ws, "SELECT entered_at FROM calls WHERE call_id = '1790845800.1:sales'")
    assert str(got[0][0]) == "2026-10-01 09:10:00"


def test_malformed_lines_quarantined_with_file_and_line(ws):
    # bad_queue_log: line 2 has no fields, line 4 an unreadable epoch (its call ABANDONs at line 5),
    # line 6 a calltime 'abc' (the call entered at line 1), line 9 is cut after the queue;
    # 1790845600.3 (lines 7-8) is valid and kept
    r = run(ws, "import", str(DATA / "bad_queue_log"), "--source", "asterisk")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert said(r.stderr, "2 unreadable line(s), quarantined: bad_queue_log line 2: 'garbage line without pipes'")
    assert said(r.stdout, "imported 1, replaced 0, unchanged 0, rejected 4 rows")
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert set(q) == {("bad_queue_log", 2, "entered_at"), ("bad_queue_log", 4, "entered_at"),
                      ("bad_queue_log", 6, "talk_seconds"), ("bad_queue_log", 9, "entered_at")}
    assert q[("bad_queue_log", 4, "entered_at")].startswith("'17908452xx' is not a timestamp")
    assert q[("bad_queue_log", 6, "talk_seconds")].startswith("'abc' is not a number")
    assert rows(ws, "SELECT call_id, outcome FROM calls") == [("1790845600.3:sales", "abandoned")]


def test_events_before_the_log_starts_are_reported(ws, tmp_path):
    log = tmp_path / "queue_log"
    log.write_text("1790845810|1790845700.1|sales|Agent/1001|CONNECT|10|x|2\n"
                   "1790845900|1790845700.1|sales|Agent/1001|COMPLETEAGENT|10|90|1\n"
                   "1790846000|1790846000.2|sales|NONE|ENTERQUEUE||555|1\n"
                   "1790846010|1790846000.2|sales|NONE|ABANDON|1|1|10\n")
    r = imp(ws, str(log))
    assert said(r.stderr, "2 event(s) for calls not open in this log (entered the queue before the log starts")
    assert said(r.stdout, "imported 1,")


def test_reentering_the_same_queue_is_a_new_offer(ws, tmp_path):
    # the caller is transferred back into sales after the first visit ended: call_id gets #2
    log = tmp_path / "queue_log"
    log.write_text("1790845800|1790845800.1|sales|NONE|ENTERQUEUE||555|1\n"
                   "1790845810|1790845800.1|sales|Agent/1001|CONNECT|10|x|2\n"
                   "1790845900|1790845800.1|sales|Agent/1001|TRANSFER|100|ctx|10|90|1\n"
                   "1790845905|1790845800.1|sales|NONE|ENTERQUEUE||555|1\n"
                   "1790845925|1790845800.1|sales|NONE|ABANDON|1|1|20\n")
    imp(ws, str(log))
    assert rows(ws, "SELECT call_id, outcome FROM calls ORDER BY entered_at") == [
        ("1790845800.1:sales", "transferred"), ("1790845800.1:sales#2", "abandoned")]


def test_no_such_path_and_no_mapping(ws):
    r = run(ws, "import", str(DATA / "nope"), "--source", "asterisk")
    assert r.exit_code == 1 and said(r.stderr, "nope: no such file or folder")
    r = run(ws, "import", str(DATA / "queue_log"), "--source", "asterisk", "--mapping", "m.toml")
    assert r.exit_code == 2 and said(r.stderr, "--source asterisk takes no --mapping")  # usage


def test_table_export_with_one_data_column_and_epoch_times(ws, tmp_path):
    # older realtime schemas keep one `data` column with the pipe-joined fields; time may be an epoch
    lines = [ln.split("|") for ln in (DATA / "queue_log").read_text().splitlines()]
    text = "time,callid,queuename,agent,event,data\n" + "".join(
        f'{p[0]},{p[1]},{p[2]},{p[3]},{p[4]},"{"|".join(p[5:])}"\n' for p in lines)
    (tmp_path / "queue_log.csv").write_text(text)
    imp(ws, str(tmp_path / "queue_log.csv"))
    # the same 11 calls: 4 unanswered of 11; waits 275 s over 7 answered
    assert ws.value("abandonment_rate", *OCT) == pytest.approx(4 / 11 * 100)
    assert ws.value("avg_wait_time", *OCT) == pytest.approx(275 / 7)
    assert ws.value("aht", *OCT) == pytest.approx(1440 / 7)
