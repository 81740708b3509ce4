"""Asterisk queue_log stored as a database table, in the layouts reporting tools use (issue 15, item 1).

The raw log tests/connectors/data/asterisk/queue_log (11 calls, 2 sessions; see test_asterisk.py) is written
again in each layout; every layout must give the same calls and sessions as the pipe log:
- data1..data5: Asterisk's realtime table (epoch `time`);
- param1..param3 + htime/ttime/entpos/expos: `uid, date_time (epoch), callid, queue_name, type (the agent), event,
  param1..3, entpos, expos, htime, ttime, time`, where `time` is a local wall time rounded to the minute (in
  +02:00): the epoch must be preferred, or every call would move by two hours and lose its seconds;
- any other layout, named in [asterisk.columns] of a --mapping TOML.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import duckdb
import pytest

from conftest import Workspace, run, said

DATA = Path(__file__).parent / "data" / "asterisk"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
LINES = [ln.split("|") for ln in (DATA / "queue_log").read_text().splitlines() if ln.strip()]


def _csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def data_table() -> str:
    rows = [p[:5] + (p[5:9] + ["|".join(p[9:])] + [""] * 5)[:5] for p in LINES]
    random.Random(7).shuffle(rows)  # a table export comes in any order
    return _csv(["time", "callid", "queuename", "agent", "event", "data1", "data2", "data3", "data4", "data5"], rows)


def hold_talk(event: str, data: list[str]) -> tuple[str, str]:
    if event in ("COMPLETEAGENT", "COMPLETECALLER"):
        return data[0], data[1]
    if event in ("TRANSFER", "BLINDTRANSFER"):
        return data[2], data[3]
    if event == "ATTENDEDTRANSFER":
        return data[-3], data[-2]
    if event == "CONNECT":
        return data[0], ""
    return "", ""


def param_table() -> str:
    rows = []
    for uid, p in enumerate(LINES, start=1):
        epoch, callid, queue, agent, event, data = p[0], p[1], p[2], p[3], p[4], p[5:]
        htime, ttime = hold_talk(event, data)
        entpos = data[2] if event == "ENTERQUEUE" and len(data) > 2 else ""
        expos = data[0] if event in ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY") else ""
        local = dt.datetime.fromtimestamp(int(epoch), dt.timezone(dt.timedelta(hours=2)))
        rounded = local.replace(second=0, tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
        rows.append([uid, epoch, callid, queue, agent, event, *(data + ["", "", ""])[:3], entpos, expos, htime,
                     ttime, rounded])
    return _csv(["uid", "date_time", "callid", "queue_name", "type", "event", "param1", "param2", "param3",
                 "entpos", "expos", "htime", "ttime", "time"], rows)


def custom_table() -> str:
    rows = [[p[4], p[0], p[1], p[3], p[2], "|".join(p[5:])] for p in LINES]
    return _csv(["Verb", "TS", "Uniqueid", "Member", "Q", "Fields"], rows)


MAPPING = """
[asterisk.columns]
time = "ts"
callid = "uniqueid"
queue = "q"
agent = "member"
event = "verb"
data = "fields"
"""


def calls_and_sessions(root: Path, path: Path, *extra: str) -> tuple[list, list]:
    ws = Workspace(root)
    r = run(ws, "import", str(path), "--source", "asterisk", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        calls = con.execute("SELECT call_id, entered_at, answered_at, ended_at, outcome, queue, agent_id, "
                            "talk_seconds, hold_seconds FROM calls ORDER BY call_id").fetchall()
        sessions = con.execute("SELECT agent_id, login_at, logout_at, queue FROM agent_sessions "
                               "ORDER BY agent_id").fetchall()
    finally:
        con.close()
    return calls, sessions


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipe")
    return calls_and_sessions(root, DATA / "queue_log")


def test_reference_is_the_documented_log(reference):
    calls, sessions = reference
    assert len(calls) == 11 and len(sessions) == 2
    # talk 300 + 240 + 120 + 120 + 240 + 180 + 240 = 1440 s over the 7 answered calls
    assert sum(c[7] or 0 for c in calls) == 1440


@pytest.mark.parametrize("name, text, extra", [
    ("data_table.csv", data_table, ()),
    ("param_table.csv", param_table, ()),
    ("custom.csv", custom_table, ("--mapping", "MAPPING")),
])
def test_every_layout_gives_the_same_calls_and_sessions(tmp_path, reference, name, text, extra):
    f = tmp_path / name
    f.write_text(text())
    if extra:
        (tmp_path / "columns.toml").write_text(MAPPING)
        extra = ("--mapping", str(tmp_path / "columns.toml"))
    (tmp_path / "ws").mkdir()
    assert calls_and_sessions(tmp_path / "ws", f, *extra) == reference


def test_param_layout_reads_talk_from_ttime_not_param2(tmp_path):
    # a COMPLETEAGENT whose param columns are empty: htime/ttime carry the fields by meaning
    f = tmp_path / "q.csv"
    f.write_text("uid,date_time,callid,queue_name,type,event,param1,param2,param3,entpos,expos,htime,ttime,time\n"
                 "1,1790845800,c1,sales,NONE,ENTERQUEUE,,555,1,1,,,,2026-10-01 11:10:00\n"
                 "2,1790845820,c1,sales,SIP/1001,CONNECT,20,c1.2,3,,,20,,2026-10-01 11:10:00\n"
                 "3,1790845920,c1,sales,SIP/1001,COMPLETEAGENT,,,,,,20,100,2026-10-01 11:12:00\n")
    (tmp_path / "ws").mkdir()
    calls, _ = calls_and_sessions(tmp_path / "ws", f)
    assert [(c[0], c[4], c[6], c[7]) for c in calls] == [("c1:sales", "answered", "SIP/1001", 100)]


def test_complete_without_fields_is_unknown_talk_not_zero(tmp_path):
    # issue 15, item 2: COMPLETECALLER without holdtime|calltime -> talk_seconds NULL, AHT leaves it out
    log = tmp_path / "queue_log"
    log.write_text("1790845800|c1|sales|NONE|ENTERQUEUE||555|1\n"
                   "1790845810|c1|sales|Agent/1|CONNECT|10|c1.2|2\n"
                   "1790845910|c1|sales|Agent/1|COMPLETECALLER|10|100|1\n"
                   "1790846000|c2|sales|NONE|ENTERQUEUE||556|1\n"
                   "1790846010|c2|sales|Agent/1|CONNECT|10|c2.2|2\n"
                   "1790846310|c2|sales|Agent/1|COMPLETECALLER\n")
    ws = Workspace(tmp_path)
    r = run(ws, "import", str(log), "--source", "asterisk")
    assert r.exit_code == 0, r.stderr
    assert said(r.stderr, "COMPLETECALLER without holdtime|calltime fields: talk_seconds unknown")
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        assert con.execute("SELECT call_id, talk_seconds FROM calls ORDER BY 1").fetchall() == [
            ("c1:sales", 100), ("c2:sales", None)]
    finally:
        con.close()
    # AHT = 100 s over the 1 call with a known talk time (not (100 + 0) / 2 = 50)
    rows = ws.kpi("aht", *OCT)
    assert rows[0]["value"] == pytest.approx(100.0)
    assert rows[0]["note"] == "1 answered calls with unknown talk_seconds left out"


def test_header_of_no_known_layout_rejects_the_file_exit_1(ws, tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("stamp,uniq,queue,who,what,a,b\n1790845800,c1,sales,NONE,ENTERQUEUE,,555\n")
    r = run(ws, "import", str(f), "--source", "asterisk")
    assert r.exit_code == 1
    assert said(r.stderr, "export.csv line 1: the header (stamp, uniq, queue, who, what, a, b) matches no known "
                          "queue_log layout, the file is not imported. Known layouts: time, callid, queuename")
    assert said(r.stderr, "[asterisk.columns]")
    assert said(r.stderr, "param1..param3, htime, ttime, entpos, expos")


def test_mapping_naming_a_column_the_header_lacks(ws, tmp_path):
    f = tmp_path / "custom.csv"
    f.write_text(custom_table())
    m = tmp_path / "columns.toml"
    m.write_text(MAPPING.replace('"q"', '"queue_name"'))
    r = run(ws, "import", str(f), "--source", "asterisk", "--mapping", str(m))
    assert r.exit_code == 1
    assert said(r.stderr, "custom.csv line 1: column(s) 'queue_name' named by [asterisk.columns] are not in the "
                          "header (the header has: verb, ts, uniqueid, member, q, fields)")


def test_mapping_without_the_section_or_with_unknown_keys(ws, tmp_path):
    m = tmp_path / "m.toml"
    m.write_text("[files]\n")
    r = run(ws, "import", str(DATA / "queue_log"), "--source", "asterisk", "--mapping", str(m))
    assert r.exit_code == 1 and said(r.stderr, "--source asterisk reads an [asterisk.columns] section")
    m.write_text(MAPPING + 'talk_time = "x"\n')
    r = run(ws, "import", str(DATA / "queue_log"), "--source", "asterisk", "--mapping", str(m))
    assert r.exit_code == 1 and said(r.stderr, "[asterisk.columns]: unknown key(s) talk_time")


def test_epoch_preferred_over_a_rounded_local_time_whatever_the_column_order(tmp_path, reference):
    # `datetime` (local wall time in +02:00, rounded to the minute) is listed before `time` (the epoch):
    # each row's epoch is read, so the calls are the pipe log's to the second
    rows = []
    for p in LINES:
        local = dt.datetime.fromtimestamp(int(p[0]), dt.timezone(dt.timedelta(hours=2)))
        rows.append([local.replace(second=0, tzinfo=None).isoformat(sep=" "), p[0], *p[1:5],
                     *(p[5:9] + ["|".join(p[9:])] + [""] * 5)[:5]])
    f = tmp_path / "two_times.csv"
    f.write_text(_csv(["datetime", "time", "callid", "queuename", "agent", "event", "data1", "data2", "data3",
                       "data4", "data5"], rows))
    (tmp_path / "ws").mkdir()
    assert calls_and_sessions(tmp_path / "ws", f) == reference
