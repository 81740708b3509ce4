"""Import: every format, idempotent upserts, --strict, normalisation, extras, --table, transactions."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run as cli
from conftest import said
from servicekpi.ingest import load, readers
from servicekpi.store import db as store
from servicekpi.store import derive

# -- a small operation, with its KPIs computed by hand -----------------------------------------

TICKETS = [
    {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "channel": "email",
     "resolved_at": "2026-10-01T13:00:00Z", "customer_id": "007", "reopen_count": "0", "fcr_eligible": "true"},
    {"ticket_id": "T2", "created_at": "2026-10-02T10:00:00Z", "channel": "chat", "customer_id": "C2",
     "reopen_count": "1", "fcr_eligible": "false"},
    {"ticket_id": "T3", "created_at": "2026-10-03T08:00:00Z", "channel": "email",
     "resolved_at": "2026-10-03T10:00:00Z", "excluded": "true"},
]
MESSAGES = [
    {"message_id": "M1", "ticket_id": "T1", "sent_at": "2026-10-01T09:00:00Z", "author": "customer"},
    {"message_id": "M2", "ticket_id": "T1", "sent_at": "2026-10-01T09:30:00Z", "author": "agent", "agent_id": "A1"},
    {"message_id": "M3", "ticket_id": "T2", "sent_at": "2026-10-02T10:00:00Z", "author": "customer"},
    {"message_id": "M4", "ticket_id": "T2", "sent_at": "2026-10-02T11:00:00Z", "author": "agent", "agent_id": "A2",
     "public": "false"},
    {"message_id": "M5", "ticket_id": "T2", "sent_at": "2026-10-02T12:00:00Z", "author": "agent", "agent_id": "A2"},
]
SURVEYS = [
    {"response_id": "R1", "survey": "csat", "score": "5", "responded_at": "2026-10-01T14:00:00Z", "ticket_id": "T1"},
    {"response_id": "R2", "survey": "csat", "score": "2", "responded_at": "2026-10-02T14:00:00Z"},
    {"response_id": "R3", "survey": "nps", "score": "10", "responded_at": "2026-10-02T14:00:00Z"},
    {"response_id": "R4", "survey": "nps", "score": "3", "responded_at": "2026-10-02T15:00:00Z"},
    {"response_id": "R5", "survey": "nps", "score": "8", "responded_at": "2026-10-02T15:00:00Z"},
]
CALLS = [
    {"call_id": "K1", "entered_at": "2026-10-01T10:00:00Z", "answered_at": "2026-10-01T10:00:20Z",
     "talk_seconds": "200", "hold_seconds": "30", "wrap_seconds": "70.5", "resolved": "yes"},
    {"call_id": "K2", "entered_at": "2026-10-01T11:00:00Z"},
]
DATA = {"tickets": TICKETS, "messages": MESSAGES, "surveys": SURVEYS, "calls": CALLS}

# T3 is excluded; T1 and T2 remain.
EXPECTED = {
    "ticket_volume": 2,
    # first replies: T1 09:30-09:00 = 30 min; T2 12:00-10:00 = 120 min (M4 is an internal note) -> 150/2
    "first_response_time": 75.0,
    # T1 resolved after 4 h; T2 unresolved -> 4/1
    "avg_resolution_time": 4.0,
    # 1 resolved of 2
    "resolution_rate": 50.0,
    # csat satisfied = score >= 4: R1 only of R1, R2 -> 1/2
    "csat": 50.0,
    # nps: promoter R3, detractor R4, passive R5 -> (1 - 1)/3 * 100
    "nps": 0.0,
    # K1: 200 + 30 + 70.5 = 300.5 s over 1 answered call
    "aht": 300.5,
    # K2 unanswered of 2 offered
    "abandonment_rate": 50.0,
    "calls_offered": 2,
}

TS_COLS = {"created_at", "resolved_at", "sent_at", "responded_at", "entered_at", "answered_at"}
NUM_COLS = {"score": float, "talk_seconds": float, "hold_seconds": float, "wrap_seconds": float,
            "reopen_count": int}
BOOL_COLS = {"excluded", "fcr_eligible", "public", "resolved"}


def to_native(col: str, v):
    """A string cell as the natively typed value a spreadsheet or Parquet writer would hold."""
    if v is None:
        return None
    if col in TS_COLS:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    if col in NUM_COLS:
        return NUM_COLS[col](v)
    if col in BOOL_COLS:
        return v.lower() in ("true", "yes", "1")
    return v


def columns(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def write(ws, table: str, rows: list[dict], fmt: str) -> Path:
    cols = columns(rows)
    if fmt in ("csv", "jsonl"):
        return ws.write(table, rows, fmt)
    if fmt == "json":
        path = ws.data / f"{table}.json"
        path.write_text(json.dumps(rows, indent=1))
        return path
    if fmt.startswith("parquet"):
        path = ws.data / f"{table}.parquet"
        if fmt == "parquet":
            data = pa.table({c: pa.array([r.get(c) for r in rows], pa.string()) for c in cols})
        else:
            arrays = {}
            for c in cols:
                vals = [to_native(c, r.get(c)) for r in rows]
                if c in TS_COLS:
                    arrays[c] = pa.array(vals, pa.timestamp("us", tz="UTC"))
                else:
                    arrays[c] = pa.array(vals)
            data = pa.table(arrays)
        pq.write_table(data, path)
        return path
    if fmt.startswith("xlsx"):
        import openpyxl
        path = ws.data / f"{table}.xlsx"
        wb = openpyxl.Workbook()
        sh = wb.active
        sh.title = table
        sh.append(cols)
        for r in rows:
            if fmt == "xlsx":
                sh.append([r.get(c) for c in cols])
            else:  # native cells; naive datetimes are read in the workspace zone (UTC)
                cells = []
                for c in cols:
                    v = to_native(c, r.get(c))
                    if isinstance(v, dt.datetime):
                        v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
                    cells.append(v)
                sh.append(cells)
        wb.save(path)
        return path
    raise ValueError(fmt)


def write_all(ws, fmt: str, data: dict = DATA) -> None:
    for table, rows in data.items():
        write(ws, table, rows, fmt)






def open_store(ws):
    try:
        return duckdb.connect(str(ws.db), read_only=True)
    except duckdb.ConnectionException:
        return duckdb.connect(str(ws.db))


def query(ws, sql: str, params=()) -> list[tuple]:
    con = open_store(ws)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def snapshot(ws) -> dict[str, list]:
    """Every user table of the store, sorted, for before/after comparisons."""
    con = open_store(ws)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        out = {}
        for n in names:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [n]).fetchall()]
            keep = [c for c in cols if c not in ("quarantined_at", "imported_at", "applied_at")]
            sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in keep)
            rows = con.execute(f'SELECT {sel} FROM "{n}"').fetchall()
            out[n] = (keep, sorted(rows, key=lambda r: [str(x) for x in r]))
        return out
    finally:
        con.close()


def values(ws, kpis=tuple(EXPECTED)) -> dict:
    rows = ws.kpi(*kpis)
    return {r["kpi"]: r["value"] for r in rows}


# -- formats --------------------------------------------------------------------------------------

FORMATS = ["csv", "jsonl", "json", "parquet", "parquet_typed", "xlsx", "xlsx_typed"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_the_same_kpis(ws, fmt):
    write_all(ws, fmt)
    r = ws.load()
    assert "imported 15, replaced 0, unchanged 0, rejected 0 rows" in r.stdout
    assert ws.quarantine() == []
    got = values(ws)
    for k, v in EXPECTED.items():
        assert got[k] == pytest.approx(v), (k, got[k])


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_stores_the_same_rows(ws, fmt):
    write_all(ws, fmt)
    ws.load()
    con = open_store(ws)
    try:
        tickets = con.execute("SELECT ticket_id, created_at, channel, resolved_at, customer_id, reopen_count, "
                              "fcr_eligible, excluded FROM tickets ORDER BY 1").fetchall()
        calls = con.execute("SELECT call_id, talk_seconds, wrap_seconds, resolved FROM calls ORDER BY 1").fetchall()
    finally:
        con.close()
    assert tickets == [
        ("T1", dt.datetime(2026, 10, 1, 9), "email", dt.datetime(2026, 10, 1, 13), "007", 0, True, False),
        ("T2", dt.datetime(2026, 10, 2, 10), "chat", None, "C2", 1, False, False),
        ("T3", dt.datetime(2026, 10, 3, 8), "email", dt.datetime(2026, 10, 3, 10), None, 0, True, True),
    ]
    assert calls == [("K1", 200.0, 70.5, True), ("K2", 0.0, 0.0, None)]


@pytest.mark.parametrize("first,second", [("csv", "jsonl"), ("jsonl", "parquet"), ("xlsx", "csv"),
                                          ("parquet_typed", "json")])
def test_same_rows_in_another_format_are_unchanged(ws, first, second):
    write_all(ws, first)
    ws.load()
    for p in list(ws.data.iterdir()):
        p.unlink()
    write_all(ws, second)
    r = ws.load()
    assert "imported 0, replaced 0, unchanged 15, rejected 0 rows" in r.stdout


def test_a_single_file_imports(ws):
    path = write(ws, "surveys", SURVEYS, "csv")
    r = ws.load(path)
    assert "imported 5," in r.stdout
    assert ws.value("nps") == 0.0


# -- idempotence and replacement -------------------------------------------------------------------

BAD_TICKET = {"ticket_id": "TB", "created_at": "someday"}


def test_reimporting_the_same_data_changes_nothing(ws):
    write_all(ws, "csv", dict(DATA, tickets=TICKETS + [BAD_TICKET]))
    first = ws.load()
    assert "imported 15, replaced 0, unchanged 0, rejected 1 rows" in first.stdout
    kpis, q, snap = values(ws), ws.quarantine(), snapshot(ws)
    second = ws.load()
    assert "imported 0, replaced 0, unchanged 15" in second.stdout
    assert values(ws) == kpis
    assert ws.quarantine() == q
    assert len(q) == 1
    assert snapshot(ws) == snap


def test_reimporting_bad_rows_from_another_path_does_not_duplicate_quarantine(ws):
    write(ws, "tickets", TICKETS + [BAD_TICKET], "csv")
    ws.load()
    other = ws.root / "again"
    other.mkdir()
    (other / "tickets.csv").write_bytes((ws.data / "tickets.csv").read_bytes())
    ws.load(other)
    assert len(ws.quarantine()) == 1


def test_a_changed_row_replaces_the_stored_one(ws):
    write_all(ws, "csv")
    ws.load()
    changed = [dict(TICKETS[0], channel="phone", resolved_at="2026-10-01T11:00:00Z"), TICKETS[1], TICKETS[2]]
    write(ws, "tickets", changed, "csv")
    r = ws.load(ws.data / "tickets.csv")
    assert "imported 0, replaced 1, unchanged 2, rejected 0 rows" in r.stdout
    assert query(ws, "SELECT channel, resolved_at FROM tickets WHERE ticket_id = 'T1'") == [
        ("phone", dt.datetime(2026, 10, 1, 11))]
    assert query(ws, "SELECT count(*) FROM tickets") == [(3,)]
    assert ws.value("avg_resolution_time") == 2.0  # 11:00 - 09:00
    by = {r["channel"]: r["value"] for r in ws.kpi("ticket_volume", "--dim", "channel")}
    assert by == {"phone": 1, "chat": 1}


def test_replacement_replaces_the_whole_row(ws):
    write(ws, "tickets", TICKETS, "csv")
    ws.load()
    write(ws, "tickets", [{"ticket_id": "T1", "created_at": TICKETS[0]["created_at"]}], "csv")
    r = ws.load()
    assert "replaced 1" in r.stdout
    assert query(ws, "SELECT channel, resolved_at, customer_id FROM tickets WHERE ticket_id = 'T1'") == [
        (None, None, None)]


def test_new_and_changed_rows_are_counted_apart(ws):
    write(ws, "surveys", SURVEYS[:3], "csv")
    ws.load()
    write(ws, "surveys", [SURVEYS[0], dict(SURVEYS[1], score="4"), SURVEYS[2], SURVEYS[3], SURVEYS[4]], "csv")
    r = ws.load()
    assert "imported 2, replaced 1, unchanged 2, rejected 0 rows" in r.stdout
    assert query(ws, "SELECT count(*) FROM surveys") == [(5,)]


def test_changed_messages_recompute_derived_facts(ws):
    write_all(ws, "csv")
    ws.load()
    # M2 now comes an hour later: T1's first reply 10:30 -> 90 min; (90 + 120) / 2 = 105
    for p in list(ws.data.iterdir()):
        p.unlink()
    write(ws, "messages", [dict(MESSAGES[1], sent_at="2026-10-01T10:30:00Z")], "csv")
    r = ws.load()
    assert "replaced 1" in r.stdout
    assert ws.value("first_response_time") == pytest.approx(105.0)


# -- exit codes and --strict ----------------------------------------------------------------------

def test_plain_import_with_rejected_rows_exits_0(ws):
    write(ws, "tickets", TICKETS + [BAD_TICKET], "csv")
    r = cli(ws, "import", str(ws.data))
    assert r.exit_code == 0
    assert "rejected 1 rows" in r.stdout
    assert ws.value("ticket_volume") == 2


def test_strict_stores_nothing_when_a_row_is_invalid(ws):
    write_all(ws, "csv", dict(DATA, tickets=TICKETS + [BAD_TICKET]))
    r = cli(ws, "import", str(ws.data), "--strict")
    assert r.exit_code != 0
    assert said(r.stderr, "--strict")
    assert said(r.stderr, "tickets.csv line 5, column created_at: 'someday' is not a timestamp")
    assert "imported" not in r.stdout
    for table in ("tickets", "messages", "surveys", "calls", "quarantine"):
        assert query(ws, f"SELECT count(*) FROM {table}") == [(0,)], table
    row = ws.kpi("ticket_volume")[0]
    assert row["value"] is None and row["note"].startswith("unavailable")


def test_strict_keeps_the_store_as_it_was(ws):
    write_all(ws, "csv")
    ws.load()
    before = snapshot(ws)
    write(ws, "tickets", [dict(TICKETS[0], channel="sms"), {"ticket_id": "T4", "created_at": "2026-10-05T00:00:00Z"},
                          dict(BAD_TICKET)], "csv")
    r = cli(ws, "import", str(ws.data / "tickets.csv"), "--strict")
    assert r.exit_code != 0
    assert snapshot(ws) == before


def test_strict_prints_the_first_reasons(ws):
    bad = [{"ticket_id": f"B{i}", "created_at": f"bad{i}"} for i in range(8)]
    write(ws, "tickets", TICKETS[:1] + bad, "csv")
    r = cli(ws, "import", str(ws.data), "--strict")
    assert r.exit_code != 0
    assert said(r.stderr, "line 3, column created_at: 'bad0' is not a timestamp")
    assert said(r.stderr, "line 4, column created_at: 'bad1'")


def test_strict_with_a_file_error_stores_nothing(ws):
    write(ws, "tickets", TICKETS, "csv")
    (ws.data / "calls.csv").write_bytes(b"")
    r = cli(ws, "import", str(ws.data), "--strict")
    assert r.exit_code != 0
    assert said(r.stderr, "calls.csv")
    assert query(ws, "SELECT count(*) FROM tickets") == [(0,)]


def test_strict_with_valid_data_imports(ws):
    write_all(ws, "csv")
    r = cli(ws, "import", str(ws.data), "--strict")
    assert r.exit_code == 0, r.stderr
    assert "imported 15" in r.stdout
    assert ws.value("ticket_volume") == 2


# -- normalisation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [" Email ", "EMAIL", "email", "eMail  "])
def test_channel_is_lower_cased_and_trimmed(ws, raw):
    write(ws, "tickets", [dict(TICKETS[0], channel=raw), dict(TICKETS[1], channel="email")], "csv")
    ws.load()
    assert query(ws, "SELECT DISTINCT channel FROM tickets") == [("email",)]
    by = ws.kpi("ticket_volume", "--dim", "channel")
    assert [(r["channel"], r["value"]) for r in by] == [("email", 2)]


@pytest.mark.parametrize("table,column,raw,expected", [
    ("messages", "author", " Agent ", "agent"),
    ("tickets", "priority", "HIGH", "high"),
    ("tickets", "status", " On_Hold", "on_hold"),
    ("surveys", "survey", " NPS ", "nps"),
    ("calls", "channel", "Chat", "chat"),
    ("self_service", "kind", " KB_View ", "kb_view"),
    ("spend", "kind", "Marketing", "marketing"),
    ("quality_reviews", "criterion", " Tone ", "tone"),
    ("activity", "kind", "Feature_Use", "feature_use"),
])
def test_enumerations_are_normalised(ws, table, column, raw, expected):
    base = {
        "messages": {"message_id": "M1", "ticket_id": "T1", "sent_at": "2026-10-01T10:00:00Z", "author": "agent"},
        "tickets": {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z"},
        "surveys": {"response_id": "R1", "survey": "nps", "score": "9", "responded_at": "2026-10-01T09:00:00Z"},
        "calls": {"call_id": "K1", "entered_at": "2026-10-01T09:00:00Z"},
        "self_service": {"event_id": "E1", "occurred_at": "2026-10-01T09:00:00Z", "kind": "kb_view"},
        "spend": {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": "5", "kind": "sales"},
        "quality_reviews": {"review_id": "Q1", "reviewed_at": "2026-10-01T09:00:00Z", "criterion": "x",
                            "score": "1", "max_score": "2"},
        "activity": {"customer_id": "C1", "occurred_at": "2026-10-01T09:00:00Z", "kind": "login"},
    }[table]
    if table == "messages":
        write(ws, "tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z"}], "csv")
    write(ws, table, [dict(base, **{column: raw})], "csv")
    ws.load()
    assert ws.quarantine() == []
    assert query(ws, f'SELECT "{column}" FROM {table}') == [(expected,)]


def test_an_upper_case_agent_message_counts_as_a_reply(ws):
    msgs = [dict(m, author=m["author"].upper()) for m in MESSAGES]
    write_all(ws, "csv", dict(DATA, messages=msgs))
    ws.load()
    assert ws.value("first_response_time") == pytest.approx(75.0)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "xlsx", "parquet"])
def test_ids_stay_strings(ws, fmt):
    rows = [{"ticket_id": "007", "created_at": "2026-10-01T09:00:00Z", "customer_id": "0042", "agent_id": "1e3"},
            {"ticket_id": "7", "created_at": "2026-10-01T09:00:00Z", "customer_id": "42.0"}]
    write(ws, "tickets", rows, fmt)
    ws.load()
    assert query(ws, "SELECT ticket_id, customer_id, agent_id FROM tickets ORDER BY ticket_id") == [
        ("007", "0042", "1e3"), ("7", "42.0", None)]
    assert ws.value("ticket_volume", "--where", "customer_id=0042") == 1


def test_messages_find_a_ticket_by_its_string_id(ws):
    write(ws, "tickets", [{"ticket_id": "007", "created_at": "2026-10-01T09:00:00Z"}], "csv")
    write(ws, "messages", [{"message_id": "001", "ticket_id": "007", "sent_at": "2026-10-01T09:00:00Z",
                            "author": "customer"}], "jsonl")
    ws.load()
    assert ws.quarantine() == []
    assert query(ws, "SELECT message_id, ticket_id FROM messages") == [("001", "007")]


BOOLS = [("true", True), ("TRUE", True), ("True", True), ("1", True), ("yes", True), ("YES", True),
         ("y", True), ("Y", True), ("false", False), ("False", False), ("0", False), ("no", False),
         ("No", False), ("n", False), ("N", False), (" yes ", True)]


@pytest.mark.parametrize("raw,value", BOOLS)
def test_booleans(ws, raw, value):
    write(ws, "tickets", [dict(TICKETS[0], excluded=raw), dict(TICKETS[1], excluded="no")], "csv")
    ws.load()
    assert ws.quarantine() == []
    assert query(ws, "SELECT excluded FROM tickets WHERE ticket_id = 'T1'") == [(value,)]
    assert ws.value("ticket_volume") == (1 if value else 2)


@pytest.mark.parametrize("fmt", ["jsonl", "json", "xlsx_typed", "parquet_typed"])
def test_native_booleans(ws, fmt):
    rows = [dict(TICKETS[0], excluded="true"), dict(TICKETS[1], excluded="false")]
    if fmt in ("jsonl", "json"):
        rows = [dict(r, excluded=(r["excluded"] == "true")) for r in rows]
        path = ws.data / f"tickets.{fmt}"
        text = json.dumps(rows) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in rows)
        path.write_text(text)
    else:
        write(ws, "tickets", rows, fmt)
    ws.load()
    assert query(ws, "SELECT ticket_id, excluded FROM tickets ORDER BY 1") == [("T1", True), ("T2", False)]


def test_defaults_fill_missing_values(ws):
    write(ws, "tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z"}], "csv")
    write(ws, "calls", [{"call_id": "K1", "entered_at": "2026-10-01T09:00:00Z"}], "csv")
    write(ws, "surveys", [{"response_id": "R1", "survey": "ces", "score": "7", "responded_at": "2026-10-01T09:00:00Z"}],
          "csv")
    ws.load()
    assert query(ws, "SELECT reopen_count, fcr_eligible, excluded FROM tickets") == [(0, True, False)]
    assert query(ws, "SELECT channel, talk_seconds, hold_seconds, wrap_seconds FROM calls") == [("phone", 0, 0, 0)]
    assert query(ws, "SELECT scale_min, scale_max FROM surveys") == [(1, 7)]


# -- extra columns --------------------------------------------------------------------------------

def test_unknown_extra_columns_are_kept(ws):
    rows = [dict(TICKETS[0], region="EU"), dict(TICKETS[1], region="US"), dict(TICKETS[2], region="EU")]
    write(ws, "tickets", rows, "csv")
    r = ws.load()
    assert "imported 3" in r.stdout
    assert query(ws, "SELECT ticket_id, region FROM tickets ORDER BY 1") == [("T1", "EU"), ("T2", "US"), ("T3", "EU")]
    # ignored by the KPIs, yet usable as a dimension
    assert ws.value("ticket_volume") == 2
    by = {r["region"]: r["value"] for r in ws.kpi("ticket_volume", "--dim", "region")}
    assert by == {"EU": 1, "US": 1}
    # re-import: unchanged; a later file without the column still imports
    assert "unchanged 3" in ws.load().stdout
    write(ws, "tickets", [{"ticket_id": "T9", "created_at": "2026-10-04T00:00:00Z"}], "csv")
    assert "imported 1" in ws.load().stdout


def test_extra_columns_in_jsonl_and_parquet(ws):
    write(ws, "surveys", [dict(SURVEYS[0], language="ro")], "jsonl")
    write(ws, "calls", [dict(CALLS[0], carrier="acme")], "parquet")
    ws.load()
    assert query(ws, "SELECT language FROM surveys") == [("ro",)]
    assert query(ws, "SELECT carrier FROM calls") == [("acme",)]


def test_extra_column_with_a_spaced_name_is_kept(ws):
    write(ws, "tickets", [dict(TICKETS[0], **{"Customer Segment": "smb"})], "csv")
    ws.load()
    con = open_store(ws)
    try:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'tickets'").fetchall()]
    finally:
        con.close()
    assert "Customer Segment" in cols


def test_extra_column_is_kept_in_the_quarantined_raw_row(ws):
    write(ws, "tickets", [dict(BAD_TICKET, note="call back")], "csv")
    ws.load()
    raw = json.loads(ws.quarantine()[0]["raw"])
    assert raw["note"] == "call back"


# -- --table ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["export-2026-10.csv", "Tickets (1).jsonl", "calls.csv"])
def test_table_option_names_the_table_of_a_single_file(ws, name):
    path = ws.root / name
    rows = TICKETS
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, columns(rows))
            w.writeheader()
            w.writerows(rows)
    r = cli(ws, "import", str(path), "--table", "tickets")
    assert r.exit_code == 0, r.stderr
    assert "imported 3" in r.stdout
    assert ws.value("ticket_volume") == 2
    assert query(ws, "SELECT count(*) FROM calls") == [(0,)]


def test_table_option_with_an_unknown_table(ws):
    path = write(ws, "tickets", TICKETS, "csv")
    r = cli(ws, "import", str(path), "--table", "ticket")
    assert r.exit_code != 0
    assert said(r.stderr, "did you mean tickets")
    assert query(ws, "SELECT count(*) FROM tickets") == [(0,)]


# -- time zones -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,utc", [
    ("2026-10-01 12:00:00", dt.datetime(2026, 10, 1, 9)),          # EEST, +03:00
    ("2026-12-01T12:00:00", dt.datetime(2026, 12, 1, 10)),         # EET, +02:00
    ("2026-10-25 03:30:00", dt.datetime(2026, 10, 25, 0, 30)),     # occurs twice: the earlier instant
    ("2026-10-01T12:00:00Z", dt.datetime(2026, 10, 1, 12)),        # an offset wins over the source zone
    ("2026-10-01T12:00:00-04:00", dt.datetime(2026, 10, 1, 16)),
])
def test_source_tz_reads_naive_times(ws, raw, utc):
    write(ws, "tickets", [{"ticket_id": "T1", "created_at": raw}], "csv")
    ws.load(None, "--source-tz", "Europe/Bucharest")
    assert ws.quarantine() == []
    assert query(ws, "SELECT created_at FROM tickets") == [(utc,)]


def test_workspace_timezone_reads_naive_times(ws):
    (ws.db.parent / "servicekpi.toml").write_text('timezone = "Asia/Tokyo"\n')
    write(ws, "tickets", [{"ticket_id": "T1", "created_at": "2026-10-01 09:00:00"}], "csv")
    ws.load()
    assert query(ws, "SELECT created_at FROM tickets") == [(dt.datetime(2026, 10, 1, 0),)]


def test_unknown_source_tz_is_a_usage_error(ws):
    write(ws, "tickets", TICKETS, "csv")
    r = cli(ws, "import", str(ws.data), "--source-tz", "Mars/Olympus")
    assert r.exit_code == 2
    assert said(r.stderr, "Mars/Olympus")


# -- transactions -------------------------------------------------------------------------------------

class Interrupt:
    def __init__(self):
        self.calls = 0

    def __call__(self, *a, **k):
        self.calls += 1
        raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["derive.refresh", "second file"])
def test_an_interrupted_import_leaves_the_store_as_before(ws, monkeypatch, where):
    write_all(ws, "csv")
    ws.load()
    before = snapshot(ws)
    for p in list(ws.data.iterdir()):
        p.unlink()
    # a new ticket, a changed one, a new extra column, a bad row and messages
    write(ws, "tickets", [dict(TICKETS[0], channel="sms", region="EU"), dict(TICKETS[1], region="US"),
                          {"ticket_id": "T4", "created_at": "2026-10-06T00:00:00Z"}, BAD_TICKET], "csv")
    write(ws, "messages", [{"message_id": "M9", "ticket_id": "T4", "sent_at": "2026-10-06T01:00:00Z",
                            "author": "agent"}], "csv")
    interrupt = Interrupt()
    if where == "derive.refresh":
        monkeypatch.setattr(derive, "refresh", interrupt)
    else:
        real = readers.read

        def read(path, encoding=None):
            if Path(path).stem == "messages":
                interrupt()
            return real(path, encoding)
        monkeypatch.setattr(readers, "read", read)
    con = store.connect(ws.db)
    try:
        with pytest.raises(KeyboardInterrupt):
            load.run(con, ws.data)
    finally:
        con.close()
    assert interrupt.calls == 1
    monkeypatch.undo()
    assert snapshot(ws) == before
    assert values(ws) == pytest.approx(EXPECTED)
    # and the store still takes the import
    assert "imported 2, replaced 2" in ws.load().stdout


def test_import_result_counts(ws):
    write_all(ws, "csv", dict(DATA, tickets=TICKETS + [BAD_TICKET]))
    con = store.connect(ws.db)
    try:
        result = load.run(con, ws.data)
    finally:
        con.close()
    assert result.committed
    assert (result.total("imported"), result.total("rejected")) == (15, 1)
    by_table = {f.table: (f.imported, f.rejected) for f in result.files}
    assert by_table == {"tickets": (3, 1), "messages": (5, 0), "surveys": (5, 0), "calls": (2, 0)}


def test_tables_import_separately(ws):
    write(ws, "calls", CALLS, "csv")
    ws.load()
    assert ws.value("aht") == pytest.approx(300.5)
    row = ws.kpi("ticket_volume")[0]
    assert row["value"] is None and row["note"].startswith("unavailable")
    # tickets later, in their own import: the calls stay
    for p in list(ws.data.iterdir()):
        p.unlink()
    write(ws, "tickets", TICKETS, "csv")
    ws.load()
    assert ws.value("ticket_volume") == 2
    assert ws.value("calls_offered") == 2
