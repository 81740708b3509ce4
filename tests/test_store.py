"""The store: a versioned schema with migrations; timestamps stored as naive UTC instants."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import release
from servicekpi.store import db as store

ASOF = "2027-01-01T00:00:00Z"


def cli(ws, *args: str):
    r = ws.cli(*args)
    out = SimpleNamespace(exit_code=r.exit_code, stdout=r.stdout, stderr=r.stderr)
    del r
    release()
    return out


def versions(path) -> list[int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    finally:
        con.close()


def column_types(con, table: str) -> dict[str, str]:
    return dict(con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
                            [table]).fetchall())


# -- version and migrations ------------------------------------------------------------------------

def test_a_new_store_carries_the_current_version(tmp_path):
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    try:
        assert store.SCHEMA_VERSION >= 2
        assert store.schema_version(con) == store.SCHEMA_VERSION
    finally:
        con.close()
    assert versions(path)[-1] == store.SCHEMA_VERSION


def test_the_cli_creates_a_versioned_store(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T00:00:00Z"}])
    ws.load()
    assert versions(ws.db)[-1] == store.SCHEMA_VERSION


def test_connecting_again_applies_nothing_twice(tmp_path):
    path = tmp_path / "s.duckdb"
    for _ in range(3):
        store.connect(path).close()
    assert versions(path) == sorted(set(versions(path)))
    assert versions(path)[-1] == store.SCHEMA_VERSION


def make_v1_store(path) -> None:
    """A store as version 1 left it, with data in it."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TIMESTAMP DEFAULT current_timestamp)")
    con.execute("CREATE TABLE imported (table_name VARCHAR PRIMARY KEY, imported_at TIMESTAMP)")
    store.MIGRATIONS[1](con)
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.execute("INSERT INTO imported VALUES ('tickets', TIMESTAMP '2026-10-05 00:00:00'), "
                "('messages', TIMESTAMP '2026-10-05 00:00:00')")
    con.execute("INSERT INTO tickets (ticket_id, created_at, channel, reopen_count, fcr_eligible, excluded) "
                "VALUES ('T1', TIMESTAMP '2026-10-01 09:00:00', 'email', 0, TRUE, FALSE), "
                "('T2', TIMESTAMP '2026-10-02 09:00:00', 'chat', 0, TRUE, FALSE)")
    con.execute("INSERT INTO messages VALUES ('M1', 'T1', TIMESTAMP '2026-10-01 09:00:00', 'customer', NULL, TRUE),"
                " ('M2', 'T1', TIMESTAMP '2026-10-01 09:45:00', 'agent', 'A', TRUE)")
    con.execute("INSERT INTO quarantine (table_name, source, line, line_kind, \"column\", reason, raw, fingerprint) "
                "VALUES ('tickets', 'old.csv', 3, 'line', 'created_at', 'old reason', '{}', 'fp')")
    con.close()


def test_connect_migrates_an_old_v1_store(tmp_path):
    path = tmp_path / "old.duckdb"
    make_v1_store(path)
    assert versions(path) == [1]
    con = store.connect(path)
    try:
        assert store.schema_version(con) == store.SCHEMA_VERSION
        for name in store.TICKET_FACTS:
            assert name in column_types(con, "tickets"), name
        assert column_types(con, "replies")  # the table v2 adds
        # the data survived the migration
        assert con.execute("SELECT ticket_id, channel FROM tickets ORDER BY 1").fetchall() == [
            ("T1", "email"), ("T2", "chat")]
        assert con.execute("SELECT count(*) FROM messages").fetchall() == [(2,)]
        assert con.execute("SELECT reason FROM quarantine").fetchall() == [("old reason",)]
    finally:
        con.close()
    assert versions(path) == list(range(1, store.SCHEMA_VERSION + 1))


@pytest.mark.parametrize("first", ["kpi", "quarantine", "import", "rows"])
def test_any_command_on_an_old_store_migrates_it(ws, first):
    make_v1_store(ws.db)
    ws.write("tickets", [{"ticket_id": "T3", "created_at": "2026-10-03T09:00:00Z"}])
    args = {"kpi": ["kpi", "ticket_volume", "--format", "json", "--as-of", ASOF],
            "quarantine": ["quarantine", "--format", "json"],
            "import": ["import", str(ws.data)],
            "rows": ["rows", "ticket_volume", "--format", "json", "--as-of", ASOF]}[first]
    r = cli(ws, *args)
    assert r.exit_code == 0, r.stderr
    assert versions(ws.db)[-1] == store.SCHEMA_VERSION


def test_an_old_store_keeps_working_after_migration(ws):
    make_v1_store(ws.db)
    ws.write("messages", [{"message_id": "M3", "ticket_id": "T2", "sent_at": "2026-10-02T09:00:00Z",
                           "author": "customer"},
                          {"message_id": "M4", "ticket_id": "T2", "sent_at": "2026-10-02T11:15:00Z",
                           "author": "agent", "agent_id": "A"}])
    ws.load()
    # messages re-derive every ticket: T1 45 min, T2 135 min -> 90
    assert ws.value("first_response_time") == pytest.approx(90.0)
    assert ws.value("ticket_volume") == 2


# -- timestamps ------------------------------------------------------------------------------------

TIMESTAMP_COLUMNS = {
    "tickets": ["created_at", "first_response_at", "resolved_at", "escalated_at"],
    "messages": ["sent_at"],
    "calls": ["entered_at", "answered_at", "ended_at"],
    "agent_sessions": ["login_at", "logout_at"],
    "surveys": ["responded_at"],
    "customers": ["acquired_at", "churned_at"],
    "orders": ["ordered_at"],
    "self_service": ["occurred_at"],
    "feedback": ["received_at", "replied_at"],
    "quality_reviews": ["reviewed_at"],
    "activity": ["occurred_at"],
}


@pytest.mark.parametrize("table", list(TIMESTAMP_COLUMNS))
def test_timestamps_are_stored_as_naive_timestamps(tmp_path, table):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        types = column_types(con, table)
    finally:
        con.close()
    for col in TIMESTAMP_COLUMNS[table]:
        assert types[col] == "TIMESTAMP", (col, types[col])


def test_spend_periods_are_dates(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        types = column_types(con, "spend")
    finally:
        con.close()
    assert types["period_start"] == "DATE" and types["period_end"] == "DATE"


def stored_created_at(ws):
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute("SELECT created_at FROM tickets").fetchall()[0][0]
    finally:
        con.close()


@pytest.mark.parametrize("raw,utc", [
    ("2026-10-03T09:15:00+02:00", dt.datetime(2026, 10, 3, 7, 15)),
    ("2026-10-03 09:15:00+02:00", dt.datetime(2026, 10, 3, 7, 15)),
    ("2026-10-03T09:15:00Z", dt.datetime(2026, 10, 3, 9, 15)),
    ("2026-10-03T09:15:00-05:00", dt.datetime(2026, 10, 3, 14, 15)),
    ("2026-10-03T09:15:00+05:30", dt.datetime(2026, 10, 3, 3, 45)),
    ("2026-10-03T09:15:00+0530", dt.datetime(2026, 10, 3, 3, 45)),
    ("2026-10-03T00:30:00+02:00", dt.datetime(2026, 10, 2, 22, 30)),
    ("2026-10-03T09:15:00.250+02:00", dt.datetime(2026, 10, 3, 7, 15, 0, 250000)),
    ("2026-10-03T09:15+02:00", dt.datetime(2026, 10, 3, 7, 15)),
    ("2026-10-03T09:15:00", dt.datetime(2026, 10, 3, 9, 15)),   # naive: the workspace zone, UTC by default
    ("2026-10-03 09:15:00", dt.datetime(2026, 10, 3, 9, 15)),
    ("2026-10-03T09:15", dt.datetime(2026, 10, 3, 9, 15)),
])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_timestamps_are_stored_as_utc_instants(ws, raw, utc, fmt):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": raw}], fmt=fmt)
    ws.load()
    assert ws.quarantine() == []
    got = stored_created_at(ws)
    assert got == utc
    assert got.tzinfo is None


def test_parquet_aware_timestamps_are_converted_to_utc(ws):
    paris = pa.array([dt.datetime(2026, 10, 3, 7, 15, tzinfo=dt.timezone.utc)], pa.timestamp("us", tz="Europe/Paris"))
    pq.write_table(pa.table({"ticket_id": ["T1"], "created_at": paris}), ws.data / "tickets.parquet")
    ws.load()
    assert stored_created_at(ws) == dt.datetime(2026, 10, 3, 7, 15)


def test_parquet_naive_timestamps_are_read_in_the_source_zone(ws):
    naive = pa.array([dt.datetime(2026, 10, 3, 9, 15)], pa.timestamp("us"))
    pq.write_table(pa.table({"ticket_id": ["T1"], "created_at": naive}), ws.data / "tickets.parquet")
    ws.load(None, "--source-tz", "Europe/Paris")
    assert stored_created_at(ws) == dt.datetime(2026, 10, 3, 7, 15)


def test_xlsx_datetime_cells_are_read_in_the_source_zone(ws):
    import openpyxl
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.append(["ticket_id", "created_at"])
    sh.append(["T1", dt.datetime(2026, 10, 3, 9, 15)])
    wb.save(ws.data / "tickets.xlsx")
    ws.load(None, "--source-tz", "Europe/Paris")
    assert stored_created_at(ws) == dt.datetime(2026, 10, 3, 7, 15)


def test_utc_instants_come_back_in_rows_output(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-03T09:15:00+02:00"}])
    ws.load()
    r = cli(ws, "rows", "ticket_volume", "--format", "json", "--as-of", ASOF)
    assert json.loads(r.stdout)[0]["created_at"].startswith("2026-10-03T07:15:00")


def test_instants_are_independent_of_the_process_time_zone(ws, monkeypatch):
    import time
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-03T09:15:00+02:00"},
                             {"ticket_id": "T2", "created_at": "2026-10-03T09:15:00"}])
        ws.load()
        con = duckdb.connect(str(ws.db), read_only=True)
        try:
            got = con.execute("SELECT created_at FROM tickets ORDER BY ticket_id").fetchall()
        finally:
            con.close()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert got == [(dt.datetime(2026, 10, 3, 7, 15),), (dt.datetime(2026, 10, 3, 9, 15),)]


def test_a_new_store_has_the_schema_an_old_one_migrates_to(tmp_path):
    # a new store runs every migration in one transaction; a v1 store one transaction per version:
    # the same tables, columns, types and versions
    def schema(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                               "WHERE NOT internal ORDER BY table_name, column_index").fetchall()
        finally:
            con.close()
    new, old = tmp_path / "new.duckdb", tmp_path / "old.duckdb"
    store.connect(new).close()
    make_v1_store(old)
    store.connect(old).close()
    assert schema(new) == schema(old) and len(schema(new)) > 50
    assert versions(new) == versions(old) == list(range(1, store.SCHEMA_VERSION + 1))
