"""Hostile input (issue 12, import side): one odd cell or header rejects only the row or file at
fault, located, and never poisons the store or turns a number into a wrong one."""
from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_bad_input import (
    BAD_BASE,
    GOOD,
    assert_good_rows_kept,
    assert_located,
    import_with_bad_row,
    only_entry,
    stored,
)

from conftest import run as cli
from conftest import said

TS = "2026-10-01T10:00:00Z"


def strict_json(text: str):
    """json.loads refusing NaN and Infinity, which are not JSON."""
    def no(c):
        raise ValueError(f"not JSON: {c}")
    return json.loads(text, parse_constant=no)


# -- 1. instants outside the valid range ------------------------------------------------------

OUTSIDE = ["1000-01-01T00:00:00Z", "0001-01-01", "-infinity", "infinity", "10000-01-01",
           "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z"]


@pytest.mark.parametrize("value", OUTSIDE)
def test_instant_outside_the_range_is_quarantined_and_later_imports_work(ws, value):
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at=value))
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 3, "created_at")
    assert said(e["reason"], "is out of range (expected an instant from 1970-01-01 to before 2100-01-01 UTC"), e
    assert_good_rows_kept(ws, "tickets")
    # the store stays usable: another import, business-hours KPIs and the store's bounds all work
    ws.write("calls", GOOD["calls"])
    r = cli(ws, "import", str(ws.data / "calls.csv"))
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    assert ws.kpi("first_response_time", "--option", "hours=business")


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z"])
def test_instants_on_the_range_edges_are_kept(ws, value):
    ws.write("tickets", [GOOD["tickets"][0], dict(BAD_BASE["tickets"], created_at=value)])
    ws.load()
    assert ws.quarantine() == []
    assert stored(ws, "tickets") == [("T1",), ("TX",)]


def test_a_date_outside_the_range_is_quarantined(ws):
    import_with_bad_row(ws, "spend", dict(BAD_BASE["spend"], period_start="0001-01-01"))
    e = only_entry(ws)
    assert_located(e, "spend", "csv", 3, "period_start")
    assert "out of range" in e["reason"]


def test_a_parquet_timestamp_outside_the_range_is_quarantined(ws):
    import datetime as dt
    path = ws.data / "tickets.parquet"
    pq.write_table(pa.table({"ticket_id": ["T1", "T2"],
                             "created_at": pa.array([dt.datetime(2026, 10, 1), dt.datetime(1000, 1, 1)],
                                                    pa.timestamp("us"))}), path)
    ws.load()
    e = only_entry(ws)
    assert_located(e, "tickets", "parquet", 2, "created_at", kind="row")
    assert stored(ws, "tickets") == [("T1",)]


def test_the_range_is_configurable(ws, tmp_path):
    cfg = tmp_path / "servicekpi.toml"
    cfg.write_text('[instants]\nearliest = "2020-01-01"\nlatest = "2030-01-01"\n', encoding="utf-8")
    ws.write("tickets", [GOOD["tickets"][0], dict(BAD_BASE["tickets"], created_at="2019-12-31T23:00:00Z")])
    r = cli(ws, "import", str(ws.data), "--config", str(cfg))
    assert r.exit_code == 0, r.stdout + r.stderr
    e = only_entry(ws)
    assert said(e["reason"], "expected an instant from 2020-01-01 to before 2030-01-01 UTC"), e


def test_a_bad_range_in_the_config_is_a_located_error(ws, tmp_path):
    cfg = tmp_path / "servicekpi.toml"
    cfg.write_text('[instants]\nearliest = "2030-01-01"\nlatest = "2020-01-01"\n', encoding="utf-8")
    ws.write("tickets", GOOD["tickets"])
    r = cli(ws, "import", str(ws.data), "--config", str(cfg))
    assert r.exit_code == 1
    assert said(r.stderr, "key instants: expected earliest before latest"), r.stderr


# -- 2. NaN and infinities in number columns --------------------------------------------------

NUMBER_COLUMNS = [("calls", "talk_seconds"), ("calls", "hold_seconds"), ("calls", "wrap_seconds"),
                  ("surveys", "score"), ("surveys", "scale_max"), ("orders", "amount"),
                  ("orders", "gross_margin"), ("spend", "amount"), ("quality_reviews", "score"),
                  ("quality_reviews", "max_score"), ("activity", "value"),
                  ("tickets", "reopen_count"), ("tickets", "agent_replies"), ("tickets", "agents_involved")]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity"])
@pytest.mark.parametrize("table,column", NUMBER_COLUMNS, ids=[f"{t}.{c}" for t, c in NUMBER_COLUMNS])
def test_non_finite_numbers_are_quarantined(ws, table, column, value):
    import_with_bad_row(ws, table, dict(BAD_BASE[table], **{column: value}))
    e = only_entry(ws)
    assert_located(e, table, "csv", 3, column)
    assert e["reason"] == f"'{value}' is not a finite number (NaN and infinities are not accepted)", e
    assert_good_rows_kept(ws, table)


def test_a_parquet_nan_is_quarantined(ws):
    path = ws.data / "calls.parquet"
    pq.write_table(pa.table({"call_id": ["C1", "C2"], "entered_at": [TS, TS],
                             "talk_seconds": pa.array([240.0, float("nan")], pa.float64())}), path)
    ws.load()
    e = only_entry(ws)
    assert_located(e, "calls", "parquet", 2, "talk_seconds", kind="row")
    assert stored(ws, "calls") == [("C1",)]


def poison(ws, sql: str) -> None:
    """A store imported before non-finite values were rejected."""
    con = duckdb.connect(str(ws.db))
    try:
        con.execute(sql)
    finally:
        con.close()


def test_a_nan_already_stored_makes_aht_unknown_not_zero(ws):
    ws.write("calls", [
        {"call_id": "C1", "entered_at": TS, "answered_at": "2026-10-01T10:00:30Z", "talk_seconds": "240"},
        {"call_id": "C2", "entered_at": TS, "answered_at": "2026-10-01T10:00:40Z", "talk_seconds": "60"},
    ])
    ws.load()
    # (240 + 60) / 2 answered calls -> 150 s
    assert ws.value("aht", "--from", "2026-10-01", "--to", "2026-10-31") == 150.0
    poison(ws, "UPDATE calls SET talk_seconds = 'NaN'::DOUBLE WHERE call_id = 'C2'")
    row, = ws.kpi("aht", "--from", "2026-10-01", "--to", "2026-10-31")
    assert row["value"] is None, row  # unknown, never 0.0
    assert "NaN or infinite" in row["note"]


def test_an_infinite_amount_already_stored_gives_valid_json(ws):
    ws.write("customers", GOOD["customers"])
    ws.write("orders", GOOD["orders"])
    ws.load()
    args = ("kpi", "clv", "--option", "model=simple", "--option", "lifespan_years=3", "--from", "2026-10-01",
            "--to", "2026-10-31", "--format", "json", "--as-of", "2027-01-01T00:00:00Z")
    # 12 months to October: revenue 10.5 over 2 orders by 2 buyers -> 5.25 x 1 order a year x 3 years = 15.75
    assert [row["value"] for row in strict_json(cli(ws, *args).stdout)] == [15.75]
    poison(ws, "UPDATE orders SET amount = 'inf'::DOUBLE WHERE order_id = 'O1'")
    r = cli(ws, *args)
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = strict_json(r.stdout)  # was Infinity, which is not JSON
    assert [row["value"] for row in rows] == [None], rows


@pytest.mark.parametrize("value", ["inf", "nan", "-Infinity"])
def test_calc_refuses_a_non_finite_input(ws, value):
    r = cli(ws, "calc", "clv", "--option", "model=simple", "--order_value", value, "--orders_per_year", "5",
            "--lifespan_years", "3")
    assert r.exit_code == 2
    assert said(r.stderr, f"--order_value '{value}' is not a finite number"), r.stderr


# -- 3. one cell or header must not abort the import ------------------------------------------

@pytest.mark.parametrize("value,reason", [
    ("inf", "'inf' is not a finite number (NaN and infinities are not accepted)"),
    ("nan", "'nan' is not a finite number (NaN and infinities are not accepted)"),
    ("1" * 30, f"'{'1' * 30}' is too large a whole number (expected at most 18 digits)"),
    ("1e30", "'1e30' is too large a whole number (expected at most 18 digits)"),
    ("-99999999999999999999", "'-99999999999999999999' is too large a whole number (expected at most 18 digits)"),
])
def test_reopen_count_that_cannot_be_an_integer_rejects_only_its_row(ws, value, reason):
    ws.write("calls", GOOD["calls"])  # another file of the same import
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], reopen_count=value))
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 3, "reopen_count")
    assert e["reason"] == reason
    assert_good_rows_kept(ws, "tickets")
    assert_good_rows_kept(ws, "calls")


def test_a_long_integer_is_stored_exactly(ws):
    # 17 digits: through a double it would read 12345678901234568
    ws.write("tickets", [dict(GOOD["tickets"][0], reopen_count="12345678901234567")])
    ws.load()
    assert stored(ws, "tickets", ("reopen_count",)) == [("12345678901234567",)]


def test_header_case_matches_canonical_columns(ws):
    (ws.data / "tickets.csv").write_text(
        "Ticket_Id,CREATED_AT,Channel,AGENT_ID,Region\nT1,2026-10-01T10:00:00Z,Email,A1,north\n", encoding="utf-8")
    ws.load()
    assert stored(ws, "tickets", ("ticket_id", "channel", "agent_id", "Region")) == [("T1", "email", "A1", "north")]


def test_an_extra_keeps_its_stored_spelling(ws):
    (ws.data / "tickets.csv").write_text("ticket_id,created_at,Region\nT1,2026-10-01T10:00:00Z,north\n",
                                         encoding="utf-8")
    ws.load()
    (ws.data / "tickets.csv").write_text("ticket_id,created_at,region\nT1,2026-10-01T10:00:00Z,south\n",
                                         encoding="utf-8")
    r = ws.load()
    assert said(r.stdout + r.stderr, "replaced 1"), r.stdout
    assert stored(ws, "tickets", ("ticket_id", "Region")) == [("T1", "south")]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_header_repeated_in_another_case_rejects_only_its_file(ws, fmt):
    ws.write("calls", GOOD["calls"])
    rows = [{"ticket_id": "T1", "created_at": TS, "channel": "email", "Channel": "chat"}]
    ws.write("tickets", rows, fmt=fmt)
    r = cli(ws, "import", str(ws.data))
    assert r.exit_code == 1
    assert said(r.stderr, f"tickets.{fmt}: {'line'} 1: columns 'channel' and 'Channel' are the same name "
                          "(column names are matched ignoring case); rename or remove one"), r.stderr
    assert_good_rows_kept(ws, "calls")


def test_a_corrupt_parquet_file_is_a_located_file_rejection(ws):
    ws.write("calls", GOOD["calls"])
    path = ws.data / "tickets.parquet"
    n = 2000
    pq.write_table(pa.table({"ticket_id": [f"T{i}" for i in range(n)], "created_at": [TS] * n}), path,
                   compression="snappy", use_dictionary=False)
    raw = bytearray(path.read_bytes())
    for i in range(200, 1200):  # the data pages; the footer (schema) stays readable
        raw[i] = 0xFF
    path.write_bytes(bytes(raw))
    pq.read_schema(path)  # still passes the reader's first look
    r = cli(ws, "import", str(ws.data))
    assert r.exit_code == 1, r.stdout + r.stderr + r.exception
    assert said(r.stderr, "tickets.parquet: cannot read as Parquet:"), r.stderr
    assert_good_rows_kept(ws, "calls")


# -- 4. the validator's internal names are not the user's -----------------------------------

def test_columns_named_like_validator_internals_are_plain_extras(ws):
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z", "r_ticket_id": "zzz", "t_created_at":
         "2026-10-01T15:00:00", "r_created_at": "x"},
        {"ticket_id": "T2", "created_at": "2026-10-01T11:00:00Z", "r_ticket_id": "zzz", "t_created_at": "",
         "r_created_at": "y"},
    ])
    ws.load()
    assert ws.quarantine() == []
    assert stored(ws, "tickets", ("ticket_id", "created_at", "r_ticket_id", "t_created_at")) == [
        ("T1", "2026-10-01 10:00:00", "zzz", "2026-10-01T15:00:00"), ("T2", "2026-10-01 11:00:00", "zzz", None)]


@pytest.mark.parametrize("name,why", [
    ("bad\x00name", "a column name with control characters is not usable"),
    ("tab\tname", "a column name with control characters is not usable"),
    ("has_messages", "the store uses this name itself"),
    ("__line", "the store uses this name itself"),
    ("__B_created_at", "the store uses this name itself"),
    ("x" * 300, "a column name longer than 255 characters is not usable"),
])
def test_unusable_column_names_are_ignored_with_a_reason(ws, name, why):
    rows = [dict(GOOD["tickets"][0], **{name: "1"}), dict(GOOD["tickets"][1], **{name: "2"})]
    ws.write("tickets", rows, fmt="jsonl")
    r = ws.load()
    assert said(r.stdout + r.stderr, f"ignored ({why})"), r.stdout + r.stderr
    assert_good_rows_kept(ws, "tickets")
    assert ws.quarantine() == []
