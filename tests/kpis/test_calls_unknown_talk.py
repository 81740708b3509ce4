"""Unknown talk time is not zero (issue 15, item 2): an answered call whose talk_seconds is missing is left out
of AHT and occupancy, counted in a note; hold_seconds and wrap_seconds keep their default 0."""
from __future__ import annotations

import duckdb
import pytest

from conftest import one

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")

# U1 answered talk 300 hold 60 wrap 40 = 400     U2 answered talk 200 (hold, wrap default 0) = 200
# U3 answered, talk_seconds empty (unknown)      U4 abandoned (no talk: not in AHT either way)
CALLS = [
    {"call_id": "U1", "entered_at": "2026-10-01T10:00:00Z", "answered_at": "2026-10-01T10:00:30Z",
     "talk_seconds": 300, "hold_seconds": 60, "wrap_seconds": 40, "agent_id": "a1"},
    {"call_id": "U2", "entered_at": "2026-10-01T11:00:00Z", "answered_at": "2026-10-01T11:00:10Z",
     "talk_seconds": 200, "agent_id": "a1"},
    {"call_id": "U3", "entered_at": "2026-10-01T12:00:00Z", "answered_at": "2026-10-01T12:00:20Z",
     "talk_seconds": "", "hold_seconds": 30, "agent_id": "a1"},
    {"call_id": "U4", "entered_at": "2026-10-01T13:00:00Z", "ended_at": "2026-10-01T13:00:09Z",
     "outcome": "abandoned"},
]


@pytest.fixture
def calls(ws):
    ws.write("calls", CALLS)
    ws.write("agent_sessions", [{"agent_id": "a1", "login_at": "2026-10-01T09:00:00Z",
                                 "logout_at": "2026-10-01T10:00:00Z"}])
    ws.load()
    return ws


def test_missing_talk_seconds_is_stored_null_and_hold_wrap_default_0(calls):
    con = duckdb.connect(str(calls.db), read_only=True)
    try:
        got = con.execute("SELECT call_id, talk_seconds, hold_seconds, wrap_seconds FROM calls ORDER BY 1").fetchall()
    finally:
        con.close()
    assert got == [("U1", 300, 60, 40), ("U2", 200, 0, 0), ("U3", None, 30, 0), ("U4", None, 0, 0)]


def test_aht_leaves_unknown_talk_out_and_says_how_many(calls):
    row = one(calls, "aht", *OCT)
    # (400 + 200) / 2 known = 300 s; counting U3 as 0 would give 600 / 3 = 200 s
    assert row["value"] == pytest.approx(300.0)
    assert row["note"] == "1 answered calls with unknown talk_seconds left out"


def test_occupancy_leaves_unknown_talk_out_and_says_how_many(calls):
    row = one(calls, "occupancy", *OCT)
    # handle 400 + 200 = 600 s (U3 left out, its hold 30 s too) / logged-in 3600 s = 16.67%
    assert row["value"] == pytest.approx(600 / 3600 * 100)
    assert row["note"] == "1 answered calls with unknown talk_seconds left out"


def test_no_note_when_every_talk_time_is_known(ws):
    ws.write("calls", CALLS[:2])
    ws.load()
    row = one(ws, "aht", *OCT)
    assert row["value"] == pytest.approx(300.0) and not row.get("note")
