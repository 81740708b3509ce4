"""Business seconds stored at import (business_store.py): kept in step with the data on every
import, recomputed when the calendars change, and never used when they don't match the config.

Calendars here are in UTC so the arithmetic is plain. 2026-03-06 is a Friday, 2026-03-09 a Monday.
"""
from __future__ import annotations

import json

import duckdb

from servicekpi.core.config import load as load_config
from servicekpi.store import business as business_store

YEAR = ("--from", "2026-01-01", "--to", "2026-12-31")
BUSINESS = ("--option", "hours=business")
NINE_TO_FIVE = 'timezone = "UTC"\n[business_hours]\n' + "".join(f'{d} = "09:00-17:00"\n' for d in
                                                                  ("mon", "tue", "wed", "thu", "fri"))
EIGHT_TO_FIVE = NINE_TO_FIVE.replace("09:00-17:00", "08:00-17:00")


def config(ws, text: str, name: str = "bh.toml") -> str:
    path = ws.root / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def frt(ws, cfg: str, *extra: str):
    return ws.value("first_response_time", *BUSINESS, *YEAR, *extra, "--config", cfg)


def stamp_valid(ws, cfg: str) -> bool:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return business_store.origin(con, load_config(ws.root / cfg).business()) is not None
    finally:
        con.close()


def stored(ws, sql: str):
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def friday_ticket(ws, **extra):
    # created Fri 16:00, first response Mon 10:00
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-03-06T16:00:00Z",
                          "first_response_at": "2026-03-09T10:00:00Z", **extra}])


def test_import_stores_business_seconds_for_the_config(ws):
    cfg = config(ws, NINE_TO_FIVE)
    friday_ticket(ws)
    ws.load(None, "--config", cfg)
    assert stamp_valid(ws, cfg)
    # Fri 16:00-17:00 (3600 s) + Mon 09:00-10:00 (3600 s) = 7200 s apart on the business clock
    (diff,) = stored(ws, 'SELECT "__b_first_response_at" - "__b_created_at" FROM tickets')[0]
    assert diff == 7200
    assert frt(ws, cfg) == 120  # minutes


def test_changed_calendars_are_not_read_from_the_store_until_recomputed(ws):
    cfg = config(ws, NINE_TO_FIVE)
    friday_ticket(ws)
    ws.load(None, "--config", cfg)
    cfg8 = config(ws, EIGHT_TO_FIVE, "bh8.toml")
    assert not stamp_valid(ws, cfg8)
    # the lookup path: Fri 16:00-17:00 (60 min) + Mon 08:00-10:00 (120 min) = 180 min
    assert frt(ws, cfg8) == 180
    r = ws.cli("recompute", "--config", cfg8)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "recomputed" in r.stdout
    assert stamp_valid(ws, cfg8) and not stamp_valid(ws, cfg)
    (diff,) = stored(ws, 'SELECT "__b_first_response_at" - "__b_created_at" FROM tickets')[0]
    assert diff == 180 * 60
    assert frt(ws, cfg8) == 180
    assert frt(ws, cfg) == 120  # the old config now looks up again
    r = ws.cli("recompute", "--config", cfg8)
    assert "already up to date" in r.stdout


def test_an_earlier_reply_imported_later_moves_the_stored_first_response(ws):
    cfg = config(ws, NINE_TO_FIVE)
    ws.write("tickets", [{"ticket_id": "T2", "created_at": "2026-03-09T09:00:00Z"}])
    ws.write("messages", [
        {"message_id": "m1", "ticket_id": "T2", "sent_at": "2026-03-09T09:00:00Z", "author": "customer"},
        {"message_id": "m2", "ticket_id": "T2", "sent_at": "2026-03-09T11:00:00Z", "author": "agent"},
    ])
    ws.load(None, "--config", cfg)
    assert frt(ws, cfg) == 120  # Mon 09:00 -> 11:00
    (ws.data / "tickets.csv").unlink()
    ws.write("messages", [
        {"message_id": "m3", "ticket_id": "T2", "sent_at": "2026-03-09T09:30:00Z", "author": "agent"},
    ])
    ws.load(None, "--config", cfg)
    assert stamp_valid(ws, cfg)
    assert frt(ws, cfg) == 30  # Mon 09:00 -> 09:30, from the stored columns
    # replies: m3 answers the customer (09:00 -> 09:30); m2 is a follow-up with no wait
    rows = stored(ws, 'SELECT sent_at, "__b_sent_at" - "__b_start_at" FROM replies WHERE start_at IS NOT NULL')
    assert [r[1] for r in rows] == [1800]


def test_a_replaced_ticket_takes_its_new_calendar(ws):
    text = NINE_TO_FIVE + '[calendars.night]\ntimezone = "UTC"\nteams = ["night"]\n' + "".join(
        f'{d} = "00:00-06:00"\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    cfg = config(ws, text)
    friday_ticket(ws, team="day")
    ws.load(None, "--config", cfg)
    assert frt(ws, cfg) == 120
    friday_ticket(ws, team="night")
    ws.load(None, "--config", cfg)
    # night calendar, every day 00:00-06:00: Sat, Sun and Mon mornings = 3 x 6 h = 1080 min
    assert frt(ws, cfg) == 1080
    assert stamp_valid(ws, cfg)


def test_data_older_than_the_origin_recomputes_everything(ws):
    cfg = config(ws, NINE_TO_FIVE)
    friday_ticket(ws)
    ws.load(None, "--config", cfg)
    (origin,) = stored(ws, "SELECT origin FROM business_stamp")[0]
    # an older ticket: created Fri 2026-01-02 16:30, answered Mon 2026-01-05 09:15 -> 30 + 15 = 45 min
    ws.write("tickets", [{"ticket_id": "T0", "created_at": "2026-01-02T16:30:00Z",
                          "first_response_at": "2026-01-05T09:15:00Z"}])
    ws.load(None, "--config", cfg)
    (origin2,) = stored(ws, "SELECT origin FROM business_stamp")[0]
    assert origin2 < origin
    rows = ws.kpi("first_response_time", *BUSINESS, *YEAR, "--dim", "ticket_id", "--config", cfg)
    assert {r["ticket_id"]: r["value"] for r in rows} == {"T0": 45, "T1": 120}


def test_as_of_before_the_reply_leaves_the_ticket_unanswered(ws):
    cfg = config(ws, NINE_TO_FIVE)
    friday_ticket(ws)
    ws.load(None, "--config", cfg)
    # as of Sat the reply has not happened: no first response time (null, not a stale stored value)
    rows = ws.kpi("first_response_time", *BUSINESS, *YEAR, "--config", cfg, asof="2026-03-07T00:00:00Z")
    assert [r["value"] for r in rows if r["kpi"] == "first_response_time"] in ([], [None])


def test_rows_do_not_show_the_stored_columns(ws):
    cfg = config(ws, NINE_TO_FIVE)
    friday_ticket(ws)
    ws.load(None, "--config", cfg)
    r = ws.cli("rows", "first_response_time", *BUSINESS, *YEAR, "--format", "json", "--config", cfg,
               "--as-of", "2027-01-01T00:00:00Z")
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = json.loads(r.stdout)
    assert rows and all(not k.startswith("__") for row in rows for k in row)


def test_the_pending_view_shape_is_what_describe_says(tmp_path):
    # the compiled business-seconds query is keyed by sk_pending's columns and types, read from the
    # table's types (_shape) instead of a DESCRIBE per column: both must agree for every clock column
    # of a store holding every clock table (the generated sample: tickets, messages, calls)
    from servicekpi.ingest import load
    from servicekpi.sample.generate import generate
    from servicekpi.store import db as store
    generate(tmp_path / "data", tickets=40, seed=3, months=1)
    con = store.connect(tmp_path / "s.duckdb")
    load.run(con, tmp_path / "data")
    tables = business_store._tables(con)
    assert set(tables) == set(business_store.CLOCKS)
    types = business_store._types(con, tables)
    for table, cols in tables.items():
        keep = tuple(c for c in business_store.CALENDAR_COLUMNS if c in types[table])
        for col in cols:
            con.execute(f"CREATE OR REPLACE TEMP VIEW sk_pending AS SELECT rowid AS __rid, "
                        f"{business_store._instant(table, col)} AS __v{''.join(', ' + c for c in keep)} FROM {table}")
            described = tuple((r[0], r[1]) for r in con.execute("DESCRIBE sk_pending").fetchall())
            assert business_store._shape(None, table, col, keep, types[table]) == described, (table, col)  # no DESCRIBE
    con.close()
