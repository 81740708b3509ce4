"""Bad input: every rule of data-format.md rejects the row into quarantine, located and explained,
while the valid rows of the same file are kept; file-level problems reject the whole file only."""
from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from conftest import run as cli
from conftest import said

TS = "2026-10-01T10:00:00Z"
LATER = "2026-10-01T12:00:00Z"
EARLIER = "2026-09-30T10:00:00Z"

# two valid rows per table; the bad row of a test goes between them (csv line 3)
GOOD: dict[str, list[dict]] = {
    "tickets": [
        {"ticket_id": "T1", "created_at": TS, "channel": "email", "resolved_at": LATER},
        {"ticket_id": "T2", "created_at": TS, "channel": "chat"},
    ],
    "messages": [
        {"message_id": "M1", "ticket_id": "T1", "sent_at": TS, "author": "customer"},
        {"message_id": "M2", "ticket_id": "T1", "sent_at": LATER, "author": "agent", "agent_id": "A1"},
    ],
    "calls": [
        {"call_id": "C1", "entered_at": TS, "answered_at": "2026-10-01T10:00:30Z",
         "ended_at": "2026-10-01T10:05:00Z", "talk_seconds": "240"},
        {"call_id": "C2", "entered_at": TS},
    ],
    "agent_sessions": [
        {"agent_id": "A1", "login_at": TS, "logout_at": LATER},
        {"agent_id": "A2", "login_at": TS},
    ],
    "surveys": [
        {"response_id": "R1", "survey": "csat", "score": "5", "responded_at": TS},
        {"response_id": "R2", "survey": "nps", "score": "9", "responded_at": TS},
    ],
    "customers": [
        {"customer_id": "K1", "acquired_at": TS, "churned_at": LATER},
        {"customer_id": "K2", "acquired_at": TS},
    ],
    "orders": [
        {"order_id": "O1", "customer_id": "K1", "ordered_at": TS, "amount": "10.5", "gross_margin": "0.4"},
        {"order_id": "O2", "customer_id": "K2", "ordered_at": TS, "amount": "0"},
    ],
    "spend": [
        {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": "100", "kind": "marketing"},
        {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": "50", "kind": "sales"},
    ],
    "self_service": [
        {"event_id": "E1", "occurred_at": TS, "kind": "kb_view"},
        {"event_id": "E2", "occurred_at": TS, "kind": "bot_resolved"},
    ],
    "feedback": [
        {"feedback_id": "F1", "received_at": TS, "replied_at": LATER, "text": "thanks"},
        {"feedback_id": "F2", "received_at": TS},
    ],
    "quality_reviews": [
        {"review_id": "Q1", "reviewed_at": TS, "criterion": "courtesy", "score": "4", "max_score": "5"},
        {"review_id": "Q1", "reviewed_at": TS, "criterion": "accuracy", "score": "3", "max_score": "5"},
    ],
    "activity": [
        {"customer_id": "K1", "occurred_at": TS, "kind": "login", "value": "1"},
        {"customer_id": "K2", "occurred_at": TS, "kind": "login"},
    ],
}

# a valid row with a key of its own, which each case breaks in one way
BAD_BASE: dict[str, dict] = {
    "tickets": {"ticket_id": "TX", "created_at": TS},
    "messages": {"message_id": "MX", "ticket_id": "T2", "sent_at": LATER, "author": "customer"},
    "calls": {"call_id": "CX", "entered_at": TS},
    "agent_sessions": {"agent_id": "AX", "login_at": TS},
    "surveys": {"response_id": "RX", "survey": "csat", "score": "4", "responded_at": TS},
    "customers": {"customer_id": "KX", "acquired_at": TS},
    "orders": {"order_id": "OX", "customer_id": "K1", "ordered_at": TS, "amount": "5"},
    "spend": {"period_start": "2026-11-01", "period_end": "2026-11-30", "amount": "10", "kind": "sales"},
    "self_service": {"event_id": "EX", "occurred_at": TS, "kind": "kb_view"},
    "feedback": {"feedback_id": "FX", "received_at": TS},
    "quality_reviews": {"review_id": "QX", "reviewed_at": TS, "criterion": "courtesy", "score": "1",
                        "max_score": "5"},
    "activity": {"customer_id": "KX", "occurred_at": TS, "kind": "feature_use"},
}

# keys as in data-format.md
KEYS = {
    "tickets": ("ticket_id",), "messages": ("message_id",), "calls": ("call_id",),
    "agent_sessions": ("agent_id", "login_at"), "surveys": ("response_id",), "customers": ("customer_id",),
    "orders": ("order_id",), "spend": ("period_start", "period_end", "kind"), "self_service": ("event_id",),
    "feedback": ("feedback_id",), "quality_reviews": ("review_id", "criterion"),
    "activity": ("customer_id", "occurred_at", "kind"),
}


# -- helpers ---------------------------------------------------------------------------------

def stored(ws, table: str, cols: tuple[str, ...] | None = None) -> list[tuple]:
    """Rows stored in `table` (key columns by default), sorted, as strings."""
    cols = cols or KEYS[table]
    con = open_store(ws)
    try:
        sel = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)
        return sorted(con.execute(f"SELECT {sel} FROM {table}").fetchall())
    finally:
        con.close()


def open_store(ws):
    """A connection to the store; the CLI's own connection may still be alive in this process
    (a failed command keeps its frames), so reuse its configuration when needed."""
    try:
        return duckdb.connect(str(ws.db), read_only=True)
    except duckdb.ConnectionException:
        return duckdb.connect(str(ws.db))






def good_keys(table: str) -> list[tuple]:
    """Key tuples of the GOOD rows, as the store renders them."""
    out = []
    for r in GOOD[table]:
        key = []
        for k in KEYS[table]:
            v = r[k]
            if k.endswith("_at"):
                v = v.replace("T", " ").replace("Z", "")
            key.append(v)
        out.append(tuple(key))
    return sorted(out)


def import_with_bad_row(ws, table: str, bad: dict, fmt: str = "csv", *extra: str):
    if table == "messages":
        ws.write("tickets", GOOD["tickets"])
    ws.write(table, [GOOD[table][0], bad, GOOD[table][1]], fmt=fmt)
    return ws.load(None, *extra)


def only_entry(ws) -> dict:
    q = ws.quarantine()
    assert len(q) == 1, q
    return q[0]


def assert_located(entry: dict, table: str, fmt: str, line: int, column: str, kind: str = "line") -> None:
    assert entry["table"] == table
    assert Path(entry["source"]).name == f"{table}.{fmt}", entry["source"]
    assert entry["line"] == line, entry
    assert entry["line_kind"] == kind, entry
    assert entry["column"] == column, entry


def assert_good_rows_kept(ws, table: str) -> None:
    assert stored(ws, table) == good_keys(table)


# -- row rules --------------------------------------------------------------------------------

BAD_VALUE = {"timestamp": "yesterday", "integer": "two", "number": "lots", "boolean": "maybe",
             "date": "31/10/2026"}
REASON = {
    "timestamp": ["'yesterday' is not a", "timestamp (expected ISO 8601"],
    "integer": ["'two' is not a", "integer (expected a whole number"],
    "number": ["'lots' is not a", "number (expected a number"],
    "boolean": ["'maybe' is not a", "boolean (expected true/false, 1/0, yes/no or y/n"],
    "date": ["'31/10/2026' is not a", "date (expected a date YYYY-MM-DD"],
}

# every typed column of data-format.md
TYPED = [
    ("tickets", "created_at", "timestamp"), ("tickets", "first_response_at", "timestamp"),
    ("tickets", "resolved_at", "timestamp"), ("tickets", "escalated_at", "timestamp"),
    ("tickets", "reopen_count", "integer"), ("tickets", "agent_replies", "integer"),
    ("tickets", "agents_involved", "integer"), ("tickets", "fcr_eligible", "boolean"),
    ("tickets", "excluded", "boolean"),
    ("messages", "sent_at", "timestamp"), ("messages", "public", "boolean"),
    ("calls", "entered_at", "timestamp"), ("calls", "answered_at", "timestamp"),
    ("calls", "ended_at", "timestamp"), ("calls", "talk_seconds", "number"),
    ("calls", "hold_seconds", "number"), ("calls", "wrap_seconds", "number"), ("calls", "resolved", "boolean"),
    ("agent_sessions", "login_at", "timestamp"), ("agent_sessions", "logout_at", "timestamp"),
    ("surveys", "score", "number"), ("surveys", "scale_min", "number"), ("surveys", "scale_max", "number"),
    ("surveys", "responded_at", "timestamp"),
    ("customers", "acquired_at", "timestamp"), ("customers", "churned_at", "timestamp"),
    ("orders", "ordered_at", "timestamp"), ("orders", "amount", "number"), ("orders", "gross_margin", "number"),
    ("spend", "period_start", "date"), ("spend", "period_end", "date"), ("spend", "amount", "number"),
    ("self_service", "occurred_at", "timestamp"),
    ("feedback", "received_at", "timestamp"), ("feedback", "replied_at", "timestamp"),
    ("quality_reviews", "reviewed_at", "timestamp"), ("quality_reviews", "score", "number"),
    ("quality_reviews", "max_score", "number"),
    ("activity", "occurred_at", "timestamp"), ("activity", "value", "number"),
]


@pytest.mark.parametrize("table,column,typ", TYPED, ids=[f"{t}.{c}" for t, c, _ in TYPED])
def test_wrong_type_is_quarantined(ws, table, column, typ):
    bad = dict(BAD_BASE[table], **{column: BAD_VALUE[typ]})
    r = import_with_bad_row(ws, table, bad)
    assert "rejected 1" in r.stdout
    e = only_entry(ws)
    assert_located(e, table, "csv", 3, column)
    for part in REASON[typ]:
        assert part in e["reason"], e["reason"]
    assert json.loads(e["raw"])[column] == BAD_VALUE[typ]
    assert_good_rows_kept(ws, table)


@pytest.mark.parametrize("value", ["2026-13-01T10:00:00Z", "2026-02-30 10:00:00", "2026-10-01T25:00:00",
                                   "10/01/2026 10:00", "1696154400", "2026-10-01T10:00:00 +02:00 extra"])
def test_malformed_timestamps_are_rejected(ws, value):
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at=value))
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 3, "created_at")
    assert "is not a timestamp (expected ISO 8601" in e["reason"]
    assert ws.value("ticket_volume") == 2


def test_impossible_offset_is_rejected(ws):
    # hour 99 is not an ISO 8601 offset; it must not silently move the instant by four days
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at="2026-10-01T10:00:00+99:00"))
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 3, "created_at")
    assert "is not a timestamp" in e["reason"]


def test_type_messages_read_as_english(ws):
    # "'two' is not an integer", not "is not a integer"
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], reopen_count="two"))
    assert "'two' is not an integer (expected a whole number" in only_entry(ws)["reason"]


REQUIRED = [
    ("tickets", "ticket_id"), ("tickets", "created_at"),
    ("messages", "message_id"), ("messages", "ticket_id"), ("messages", "sent_at"), ("messages", "author"),
    ("calls", "call_id"), ("calls", "entered_at"),
    ("agent_sessions", "agent_id"), ("agent_sessions", "login_at"),
    ("surveys", "response_id"), ("surveys", "survey"), ("surveys", "score"), ("surveys", "responded_at"),
    ("customers", "customer_id"), ("customers", "acquired_at"),
    ("orders", "order_id"), ("orders", "customer_id"), ("orders", "ordered_at"), ("orders", "amount"),
    ("spend", "period_start"), ("spend", "period_end"), ("spend", "amount"), ("spend", "kind"),
    ("self_service", "event_id"), ("self_service", "occurred_at"), ("self_service", "kind"),
    ("feedback", "feedback_id"), ("feedback", "received_at"),
    ("quality_reviews", "review_id"), ("quality_reviews", "reviewed_at"), ("quality_reviews", "criterion"),
    ("quality_reviews", "score"), ("quality_reviews", "max_score"),
    ("activity", "customer_id"), ("activity", "occurred_at"), ("activity", "kind"),
]


@pytest.mark.parametrize("table,column", REQUIRED, ids=[f"{t}.{c}" for t, c in REQUIRED])
def test_missing_required_value_is_quarantined(ws, table, column):
    import_with_bad_row(ws, table, dict(BAD_BASE[table], **{column: None}))
    e = only_entry(ws)
    assert_located(e, table, "csv", 3, column)
    assert "missing required value" in e["reason"]
    assert_good_rows_kept(ws, table)


@pytest.mark.parametrize("blank", ["   ", " "])
def test_blank_cell_counts_as_missing(ws, blank):
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at=blank))
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 3, "created_at")
    assert "missing required value" in e["reason"]


def test_json_null_counts_as_missing(ws):
    import_with_bad_row(ws, "surveys", dict(BAD_BASE["surveys"], score=None), "jsonl")
    e = only_entry(ws)
    assert_located(e, "surveys", "jsonl", 2, "score")
    assert "missing required value" in e["reason"]
    assert_good_rows_kept(ws, "surveys")


RANGE = [
    # (table, overrides, column, reason parts)
    ("tickets", {"reopen_count": "-1"}, "reopen_count", ["'-1'", "out of range", "at least 0"]),
    ("tickets", {"agent_replies": "-2"}, "agent_replies", ["'-2'", "out of range", "at least 0"]),
    ("tickets", {"agents_involved": "0"}, "agents_involved", ["'0'", "out of range", "at least 1"]),
    ("calls", {"talk_seconds": "-1"}, "talk_seconds", ["out of range", "at least 0"]),
    ("calls", {"hold_seconds": "-0.5"}, "hold_seconds", ["out of range", "at least 0"]),
    ("calls", {"wrap_seconds": "-30"}, "wrap_seconds", ["out of range", "at least 0"]),
    ("surveys", {"survey": "csat", "score": "6"}, "score", ["out of range", "csat"]),
    ("surveys", {"survey": "csat", "score": "0"}, "score", ["out of range", "csat"]),
    ("surveys", {"survey": "nps", "score": "11"}, "score", ["out of range", "nps"]),
    ("surveys", {"survey": "nps", "score": "-1"}, "score", ["out of range", "nps"]),
    ("surveys", {"survey": "ces", "score": "8"}, "score", ["out of range", "ces"]),
    ("surveys", {"survey": "ces", "score": "0"}, "score", ["out of range", "ces"]),
    ("surveys", {"survey": "csat", "score": "2", "scale_min": "0", "scale_max": "1"}, "score",
     ["out of range", "csat"]),
    ("surveys", {"survey": "csat", "score": "70", "scale_min": "0", "scale_max": "10"}, "score",
     ["out of range", "csat"]),
    ("surveys", {"survey": "csat", "score": "3", "scale_min": "5", "scale_max": "1"}, "scale_max",
     ["scale_min must be below scale_max"]),
    ("orders", {"amount": "-5"}, "amount", ["'-5", "out of range", "at least 0"]),
    ("orders", {"gross_margin": "1.2"}, "gross_margin", ["'1.2'", "out of range", "at most 1"]),
    ("orders", {"gross_margin": "-0.1"}, "gross_margin", ["out of range", "at least 0"]),
    ("spend", {"amount": "-1"}, "amount", ["out of range", "at least 0"]),
    ("quality_reviews", {"score": "6", "max_score": "5"}, "score", ["out of range", "max_score"]),
    ("quality_reviews", {"score": "-1"}, "score", ["out of range", "at least 0"]),
    ("quality_reviews", {"max_score": "0", "score": "0"}, "max_score", ["out of range", "greater than 0"]),
]


@pytest.mark.parametrize("table,over,column,parts", RANGE,
                         ids=[f"{t}.{c}={list(o.values())}" for t, o, c, _ in RANGE])
def test_out_of_range_is_quarantined(ws, table, over, column, parts):
    import_with_bad_row(ws, table, dict(BAD_BASE[table], **over))
    e = only_entry(ws)
    assert_located(e, table, "csv", 3, column)
    for p in parts:
        assert p in e["reason"], e["reason"]
    assert_good_rows_kept(ws, table)


@pytest.mark.parametrize("survey,lo,hi", [("csat", 1, 5), ("nps", 0, 10), ("ces", 1, 7)])
def test_survey_reason_names_the_scale(ws, survey, lo, hi):
    import_with_bad_row(ws, "surveys", dict(BAD_BASE["surveys"], survey=survey, score=str(hi + 1)))
    reason = only_entry(ws)["reason"]
    assert re.search(rf"\b{lo}(\.0)?\.\.{hi}(\.0)?\b", reason), reason


BOUNDARIES = [
    ("surveys", [{"survey": "csat", "score": "1"}, {"survey": "csat", "score": "5"},
                 {"survey": "nps", "score": "0"}, {"survey": "nps", "score": "10"},
                 {"survey": "ces", "score": "1"}, {"survey": "ces", "score": "7"},
                 {"survey": "csat", "score": "0", "scale_min": "0", "scale_max": "1"},
                 {"survey": "csat", "score": "1", "scale_min": "0", "scale_max": "1"},
                 {"survey": "CSAT", "score": "4.5"}]),
    ("orders", [{"amount": "0", "gross_margin": "0"}, {"amount": "1", "gross_margin": "1"}]),
    ("quality_reviews", [{"criterion": "a", "score": "5", "max_score": "5"},
                         {"criterion": "b", "score": "0", "max_score": "0.5"}]),
    ("tickets", [{"agents_involved": "1", "reopen_count": "0", "agent_replies": "0",
                  "resolved_at": TS, "first_response_at": TS, "escalated_at": TS}]),
    ("calls", [{"answered_at": TS, "ended_at": TS, "talk_seconds": "0", "hold_seconds": "0", "wrap_seconds": "0"}]),
    ("spend", [{"period_end": "2026-11-01", "period_start": "2026-11-01"}]),
    ("customers", [{"churned_at": TS}]),
    ("feedback", [{"replied_at": TS}]),
    ("agent_sessions", [{"logout_at": TS}]),
]


@pytest.mark.parametrize("table,variants", BOUNDARIES, ids=[t for t, _ in BOUNDARIES])
def test_values_on_the_boundary_are_kept(ws, table, variants):
    rows = []
    for i, over in enumerate(variants):
        row = dict(BAD_BASE[table], **over)
        key = KEYS[table][0]
        if table == "spend":
            row["kind"] = ["sales", "marketing"][i]
        elif table != "quality_reviews":  # those differ by criterion
            row[key] = f"{row[key]}{i}"
        rows.append(row)
    ws.write(table, rows)
    r = ws.load()
    assert ws.quarantine() == []
    assert f"imported {len(rows)}," in r.stdout
    assert len(stored(ws, table)) == len(rows)


END_BEFORE_START = [
    ("tickets", "resolved_at", "created_at", {"resolved_at": EARLIER}),
    ("tickets", "first_response_at", "created_at", {"first_response_at": EARLIER}),
    ("tickets", "escalated_at", "created_at", {"escalated_at": EARLIER}),
    ("calls", "answered_at", "entered_at", {"answered_at": EARLIER}),
    ("calls", "ended_at", "answered_at", {"answered_at": "2026-10-01T10:05:00Z", "ended_at": "2026-10-01T10:04:00Z"}),
    ("calls", "ended_at", "entered_at", {"ended_at": EARLIER}),
    ("agent_sessions", "logout_at", "login_at", {"logout_at": EARLIER}),
    ("customers", "churned_at", "acquired_at", {"churned_at": EARLIER}),
    ("spend", "period_end", "period_start", {"period_end": "2026-10-31"}),
    ("feedback", "replied_at", "received_at", {"replied_at": EARLIER}),
]


@pytest.mark.parametrize("table,end,start,over", END_BEFORE_START,
                         ids=[f"{t}.{e}<{s}" for t, e, s, _ in END_BEFORE_START])
def test_end_before_start_is_quarantined(ws, table, end, start, over):
    import_with_bad_row(ws, table, dict(BAD_BASE[table], **over))
    e = only_entry(ws)
    assert_located(e, table, "csv", 3, end)
    assert e["reason"].startswith(f"{end} "), e["reason"]
    assert f"is before {start}" in e["reason"]
    assert_good_rows_kept(ws, table)


def test_end_before_start_reason_shows_both_instants_in_utc(ws):
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at="2026-10-01T12:00:00+02:00",
                                            resolved_at="2026-10-01T09:59:00Z"))
    reason = only_entry(ws)["reason"]
    assert "2026-10-01 09:59:00" in reason and "2026-10-01 10:00:00" in reason, reason


ENUMS = [
    ("messages", "author", "robot", "customer, agent, bot, system"),
    ("surveys", "survey", "csatt", "csat, nps, ces"),
    ("tickets", "status", "done", "open, pending, on_hold, resolved, closed"),
    ("tickets", "priority", "critical", "low, normal, high, urgent"),
    ("calls", "channel", "email", "phone, chat"),
    ("calls", "outcome", "hung_up", "answered, abandoned"),
    ("spend", "kind", "ops", "sales, marketing"),
    ("self_service", "kind", "kb_click", "kb_view, article_helpful"),
]


@pytest.mark.parametrize("table,column,value,allowed", ENUMS, ids=[f"{t}.{c}" for t, c, _, _ in ENUMS])
def test_unknown_enum_value_is_quarantined(ws, table, column, value, allowed):
    import_with_bad_row(ws, table, dict(BAD_BASE[table], **{column: value.upper()}))
    e = only_entry(ws)
    assert_located(e, table, "csv", 3, column)
    assert f"'{value}' is not one of: " in e["reason"], e["reason"]
    assert allowed in e["reason"]
    assert_good_rows_kept(ws, table)


def test_message_for_unknown_ticket_is_quarantined(ws):
    r = import_with_bad_row(ws, "messages", dict(BAD_BASE["messages"], ticket_id="T9"))
    e = only_entry(ws)
    assert_located(e, "messages", "csv", 3, "ticket_id")
    assert "ticket 'T9' is not in tickets" in e["reason"]
    assert "import the ticket" in e["reason"]
    assert_good_rows_kept(ws, "messages")
    assert r.exit_code == 0


def test_message_may_reference_a_ticket_stored_by_an_earlier_import(ws):
    ws.write("tickets", GOOD["tickets"])
    ws.load()
    (ws.data / "tickets.csv").unlink()
    ws.write("messages", GOOD["messages"] + [BAD_BASE["messages"]])
    ws.load()
    assert ws.quarantine() == []
    assert stored(ws, "messages") == [("M1",), ("M2",), ("MX",)]


def test_message_of_a_rejected_ticket_is_rejected_too(ws):
    ws.write("tickets", [GOOD["tickets"][0], {"ticket_id": "T9", "created_at": "soon"}])
    ws.write("messages", GOOD["messages"] + [dict(BAD_BASE["messages"], ticket_id="T9")])
    ws.load()
    q = sorted(ws.quarantine(), key=lambda e: e["table"])
    assert [(e["table"], e["column"], e["line"]) for e in q] == [("messages", "ticket_id", 4),
                                                                  ("tickets", "created_at", 3)]
    assert stored(ws, "messages") == [("M1",), ("M2",)]


def test_message_before_its_ticket_is_quarantined(ws):
    import_with_bad_row(ws, "messages", dict(BAD_BASE["messages"], sent_at="2026-10-01T09:59:59Z"))
    e = only_entry(ws)
    assert_located(e, "messages", "csv", 3, "sent_at")
    assert "before its ticket's created_at" in e["reason"]
    assert "2026-10-01 10:00:00" in e["reason"]
    assert_good_rows_kept(ws, "messages")


def test_message_before_a_stored_ticket_is_quarantined(ws):
    ws.write("tickets", GOOD["tickets"])
    ws.load()
    (ws.data / "tickets.csv").unlink()
    ws.write("messages", [dict(BAD_BASE["messages"], sent_at=EARLIER)])
    ws.load()
    e = only_entry(ws)
    assert_located(e, "messages", "csv", 2, "sent_at")
    assert "before its ticket's created_at" in e["reason"]


@pytest.mark.parametrize("fmt,first,dup,kind", [("csv", 2, 4, "line"), ("jsonl", 1, 3, "line")])
def test_duplicate_id_within_one_import(ws, fmt, first, dup, kind):
    rows = [dict(GOOD["tickets"][0]), GOOD["tickets"][1], dict(GOOD["tickets"][0], channel="phone")]
    ws.write("tickets", rows, fmt=fmt)
    ws.load()
    e = only_entry(ws)
    assert_located(e, "tickets", fmt, dup, "ticket_id", kind)
    assert e["reason"] == f"duplicate ticket_id, first seen at {kind} {first}"
    # the first occurrence is the one kept
    assert stored(ws, "tickets", ("ticket_id", "channel")) == [("T1", "email"), ("T2", "chat")]


def test_every_further_duplicate_is_rejected(ws):
    rows = [GOOD["tickets"][0]] + [dict(GOOD["tickets"][0], channel=c) for c in ("chat", "sms", "web_form")]
    ws.write("tickets", rows)
    ws.load()
    q = ws.quarantine()
    assert sorted(e["line"] for e in q) == [3, 4, 5]
    assert {e["reason"] for e in q} == {"duplicate ticket_id, first seen at line 2"}
    assert ws.value("ticket_volume") == 1


def test_duplicate_id_in_json_array_names_the_item(ws):
    rows = [GOOD["surveys"][0], GOOD["surveys"][1], dict(GOOD["surveys"][0], score="1")]
    (ws.data / "surveys.json").write_text(json.dumps(rows, indent=2))
    ws.load()
    e = only_entry(ws)
    assert_located(e, "surveys", "json", 3, "response_id", "item")
    assert e["reason"] == "duplicate response_id, first seen at item 1"


COMPOSITE = [
    ("quality_reviews", dict(GOOD["quality_reviews"][0], score="1"), ["review_id", "criterion"]),
    ("quality_reviews", dict(GOOD["quality_reviews"][0], criterion=" Courtesy "), ["review_id", "criterion"]),
    ("agent_sessions", dict(GOOD["agent_sessions"][0], logout_at=None), ["agent_id", "login_at"]),
    ("agent_sessions", dict(GOOD["agent_sessions"][0], login_at="2026-10-01T12:00:00+02:00"),
     ["agent_id", "login_at"]),
    ("activity", dict(GOOD["activity"][0], value="3"), ["customer_id", "occurred_at", "kind"]),
    ("spend", dict(GOOD["spend"][0], amount="70"), ["period_start", "period_end", "kind"]),
]


@pytest.mark.parametrize("table,dup,key", COMPOSITE, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(COMPOSITE)])
def test_composite_key_duplicate(ws, table, dup, key):
    ws.write(table, GOOD[table] + [dup])
    ws.load()
    e = only_entry(ws)
    assert_located(e, table, "csv", 4, key[0])
    assert e["reason"].startswith("duplicate ")
    for k in key:
        assert k in e["reason"]
    assert e["reason"].endswith("first seen at line 2")
    assert_good_rows_kept(ws, table)


def test_same_review_with_other_criterion_is_not_a_duplicate(ws):
    rows = GOOD["quality_reviews"] + [dict(GOOD["quality_reviews"][0], criterion="tone")]
    ws.write("quality_reviews", rows)
    ws.load()
    assert ws.quarantine() == []
    assert len(stored(ws, "quality_reviews")) == 3


def test_duplicate_across_two_files_of_one_import(ws):
    # tickets.csv and tickets.jsonl in one folder are one import: T1 appears twice
    ws.write("tickets", GOOD["tickets"])
    ws.write("tickets", [dict(GOOD["tickets"][0], channel="phone")], fmt="jsonl")
    cli(ws, "import", str(ws.data))
    q = ws.quarantine()
    assert len(q) == 1, q
    assert q[0]["reason"].startswith("duplicate ticket_id, first seen at")
    assert ws.value("ticket_volume") == 2


def test_nonexistent_local_time_is_rejected(ws):
    # Europe/Bucharest jumps from 03:00 to 04:00 on 2026-03-29: 03:30 never happens
    ws.write("tickets", [GOOD["tickets"][0], dict(BAD_BASE["tickets"], created_at="2026-03-29 03:30:00"),
                         dict(GOOD["tickets"][1], created_at="2026-03-29 04:30:00")])
    ws.load(None, "--source-tz", "Europe/Bucharest")
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 3, "created_at")
    assert "does not exist" in e["reason"] and "offset" in e["reason"]
    assert_good_rows_kept(ws, "tickets")


def test_a_row_breaking_several_rules_is_quarantined_once(ws):
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at="x", reopen_count="-1", status="?"))
    e = only_entry(ws)
    assert e["line"] == 3


def test_rejection_is_reported_on_stderr_with_the_file(ws):
    r = import_with_bad_row(ws, "surveys", dict(BAD_BASE["surveys"], score="11"))
    assert said(r.stderr, "surveys.csv") and said(r.stderr, "1 row(s) rejected")
    assert "rejected 1 rows" in r.stdout


def test_quarantine_table_format_shows_location(ws):
    import_with_bad_row(ws, "surveys", dict(BAD_BASE["surveys"], score="11"))
    r = cli(ws, "quarantine")
    assert r.exit_code == 0
    assert "surveys" in r.stdout and "line 3" in r.stdout and "score" in r.stdout


def test_quarantine_json_has_the_contract_keys(ws):
    import_with_bad_row(ws, "tickets", dict(BAD_BASE["tickets"], created_at="nope"))
    e = only_entry(ws)
    assert {"table", "source", "line", "column", "reason", "raw"} <= set(e)
    assert json.loads(e["raw"]) == {"ticket_id": "TX", "created_at": "nope", "channel": None, "resolved_at": None}


# -- line numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("nl", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_csv_line_numbers_count_newlines_inside_quoted_values(ws, nl):
    lines = [
        "feedback_id,received_at,text",                          # 1
        f'F1,{TS},"first line{nl}second line{nl}third line"',    # 2-4
        "F2,not-a-time,ok",                                      # 5
        f'F3,{TS},"a ""quoted"" word, with a comma"',            # 6
        f'F4,{TS},"x{nl}{nl}y"',                                 # 7-9
        f'F5,bad,"starts here{nl}ends here"',                    # 10-11
        f"F6,{TS},z",                                            # 12
        "F7,,last",                                              # 13
    ]
    (ws.data / "feedback.csv").write_bytes((nl.join(lines) + nl).encode())
    ws.load()
    got = sorted((e["line"], e["column"]) for e in ws.quarantine())
    assert got == [(5, "received_at"), (10, "received_at"), (13, "received_at")]
    assert stored(ws, "feedback") == [("F1",), ("F3",), ("F4",), ("F6",)]
    texts = dict(stored(ws, "feedback", ("feedback_id", "text")))
    assert texts["F1"].splitlines() == ["first line", "second line", "third line"]


def test_csv_line_numbers_count_blank_lines(ws):
    text = ("ticket_id,created_at\n"   # 1
            f"T1,{TS}\n"               # 2
            "\n"                       # 3
            f"T2,{TS}\n"               # 4
            "T3,later\n")              # 5
    (ws.data / "tickets.csv").write_text(text)
    ws.load()
    e = only_entry(ws)
    assert_located(e, "tickets", "csv", 5, "created_at")


def test_jsonl_line_numbers_are_physical_lines(ws):
    rows = [GOOD["tickets"][0], None, GOOD["tickets"][1], None, None, dict(BAD_BASE["tickets"], created_at="x")]
    text = "".join((json.dumps(r) if r else "") + "\n" for r in rows)
    (ws.data / "tickets.jsonl").write_text(text)
    ws.load()
    e = only_entry(ws)
    assert_located(e, "tickets", "jsonl", 6, "created_at")
    assert_good_rows_kept(ws, "tickets")


def test_json_array_item_numbers(ws):
    rows = [GOOD["calls"][0], GOOD["calls"][1], dict(BAD_BASE["calls"], talk_seconds=-4),
            dict(BAD_BASE["calls"], call_id="CY", entered_at=None)]
    (ws.data / "calls.json").write_text(json.dumps(rows, indent=2))
    ws.load()
    got = sorted((e["line"], e["line_kind"], e["column"]) for e in ws.quarantine())
    assert got == [(3, "item", "talk_seconds"), (4, "item", "entered_at")]
    assert_good_rows_kept(ws, "calls")


def test_xlsx_row_numbers(ws):
    import openpyxl
    wb = openpyxl.Workbook()
    sh = wb.active
    sh.title = "surveys"
    sh.append(["response_id", "survey", "score", "responded_at"])      # row 1
    sh.append(["R1", "csat", 5, TS])                                     # row 2
    sh.append(["R2", "nps", 9, TS])                                      # row 3
    sh.append([None, None, None, None])                                  # row 4 (empty)
    sh.append(["R3", "nps", 12, TS])                                     # row 5
    sh.append(["R4", "ces", 3, "tomorrow"])                              # row 6
    wb.save(ws.data / "surveys.xlsx")
    ws.load()
    got = sorted((e["line"], e["line_kind"], e["column"], Path(e["source"]).name) for e in ws.quarantine())
    assert got == [(5, "row", "score", "surveys.xlsx"), (6, "row", "responded_at", "surveys.xlsx")]
    assert_good_rows_kept(ws, "surveys")


def test_parquet_row_numbers(ws):
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = [GOOD["orders"][0], dict(BAD_BASE["orders"], amount="-1"), GOOD["orders"][1]]
    cols = list(dict.fromkeys(k for r in rows for k in r))
    pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in cols}), ws.data / "orders.parquet")
    ws.load()
    e = only_entry(ws)
    assert_located(e, "orders", "parquet", 2, "amount", "row")
    assert_good_rows_kept(ws, "orders")


# -- file-level problems -----------------------------------------------------------------------

def write_other_good_file(ws) -> None:
    ws.write("calls", GOOD["calls"])


def assert_file_rejected(r, ws, name: str, *parts: str) -> None:
    assert r.exit_code == 1, r.stdout + r.stderr
    assert said(r.stderr, name), r.stderr
    for p in parts:
        assert said(r.stderr, p), r.stderr
    # the other file of the folder still went in
    assert stored(ws, "calls") == good_keys("calls")
    assert "1 file(s) rejected" in r.stdout


@pytest.mark.parametrize("table,drop", [("tickets", "created_at"), ("messages", "author"),
                                        ("surveys", "score"), ("quality_reviews", "max_score"),
                                        ("spend", "kind")])
def test_missing_required_column_rejects_the_file(ws, table, drop):
    write_other_good_file(ws)
    ws.write(table, [{k: v for k, v in r.items() if k != drop} for r in GOOD[table]])
    r = cli(ws, "import", str(ws.data))
    assert_file_rejected(r, ws, f"{table}.csv", drop, "missing")
    assert ws.quarantine() == []
    assert stored(ws, table) == []


def test_missing_required_column_in_jsonl(ws):
    write_other_good_file(ws)
    ws.write("surveys", [{k: v for k, v in r.items() if k != "responded_at"} for r in GOOD["surveys"]], "jsonl")
    r = cli(ws, "import", str(ws.data))
    assert_file_rejected(r, ws, "surveys.jsonl", "responded_at")


@pytest.mark.parametrize("ext", ["csv", "jsonl", "json", "parquet", "xlsx"])
def test_empty_file_is_rejected(ws, ext):
    write_other_good_file(ws)
    (ws.data / f"tickets.{ext}").write_bytes(b"")
    r = cli(ws, "import", str(ws.data))
    assert_file_rejected(r, ws, f"tickets.{ext}", "empty")
    assert stored(ws, "tickets") == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_wrong_encoding_is_rejected_then_imports_with_encoding(ws, fmt, encoding):
    write_other_good_file(ws)
    rows = [dict(GOOD["tickets"][0], team="Café"), dict(GOOD["tickets"][1], team="Crème brûlée")]
    path = ws.data / f"tickets.{fmt}"
    if fmt == "csv":
        text = "ticket_id,created_at,team\n" + "".join(f"{r['ticket_id']},{r['created_at']},{r['team']}\n"
                                                       for r in rows)
    elif fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False)
    path.write_bytes(text.encode(encoding))
    r = cli(ws, "import", str(ws.data))
    assert_file_rejected(r, ws, f"tickets.{fmt}", "--encoding", "UTF-8")
    assert stored(ws, "tickets") == []
    r = cli(ws, "import", str(path), "--encoding", encoding)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert stored(ws, "tickets", ("ticket_id", "team")) == [("T1", "Café"), ("T2", "Crème brûlée")]


def test_unknown_encoding_name_is_a_located_error(ws):
    ws.write("tickets", GOOD["tickets"])
    r = cli(ws, "import", str(ws.data / "tickets.csv"), "--encoding", "klingon-8")
    assert r.exit_code != 0
    assert said(r.stderr, "klingon-8") and said(r.stderr, "tickets.csv")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_utf8_with_bom_imports(ws, fmt):
    rows = [dict(GOOD["tickets"][0], team="Café"), GOOD["tickets"][1]]
    path = ws.write("tickets", rows, fmt="jsonl" if fmt == "jsonl" else "csv")
    if fmt == "json":
        path.unlink()
        path = ws.data / "tickets.json"
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    r = ws.load()
    assert "imported 2," in r.stdout
    assert ws.quarantine() == []
    assert stored(ws, "tickets", ("ticket_id", "team")) == [("T1", "Café"), ("T2", None)]


@pytest.mark.parametrize("name,suggest", [("ticket.csv", "tickets"), ("survey.jsonl", "surveys"),
                                          ("call.csv", "calls"), ("Orderz.csv", "orders"),
                                          ("quality_review.csv", "quality_reviews")])
def test_unknown_table_name_suggests_the_nearest(ws, name, suggest):
    write_other_good_file(ws)
    (ws.data / name).write_text("a,b\n1,2\n")
    r = cli(ws, "import", str(ws.data))
    assert_file_rejected(r, ws, name, "unknown table name", f"did you mean {suggest}")


def test_unknown_table_name_for_a_single_file(ws):
    path = ws.data / "export.csv"
    path.write_text("ticket_id,created_at\nT1,2026-10-01T10:00:00Z\n")
    r = cli(ws, "import", str(path))
    assert r.exit_code == 1
    assert said(r.stderr, "export.csv") and said(r.stderr, "unknown table name")
    assert said(r.stderr, "tickets")  # lists the valid names


@pytest.mark.parametrize("ext,content,part", [
    ("parquet", b"PAR1 this is not parquet", "Parquet"),
    ("xlsx", b"PK\x03\x04 not a workbook", "XLSX"),
    ("jsonl", b'{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z"}\n{"ticket_id": \n', "line 2"),
    ("json", b'[{"ticket_id": "T1"},', "JSON"),
    ("json", b'{"ticket_id": "T1"}', "array"),
])
def test_unreadable_file_is_rejected_with_its_name(ws, ext, content, part):
    write_other_good_file(ws)
    (ws.data / f"tickets.{ext}").write_bytes(content)
    r = cli(ws, "import", str(ws.data))
    assert_file_rejected(r, ws, f"tickets.{ext}", part)


def test_file_errors_and_row_errors_together(ws):
    write_other_good_file(ws)
    (ws.data / "ticket.csv").write_text("x\n1\n")
    ws.write("surveys", [GOOD["surveys"][0], dict(BAD_BASE["surveys"], score="99")])
    r = cli(ws, "import", str(ws.data))
    assert r.exit_code == 1
    assert "rejected 1 rows" in r.stdout
    assert stored(ws, "surveys") == [("R1",)]
    assert len(ws.quarantine()) == 1


def test_missing_path_is_an_error(ws):
    r = cli(ws, "import", str(ws.root / "nowhere"))
    assert r.exit_code == 1
    assert said(r.stderr, "nowhere")


def test_errors_are_not_hard_wrapped(ws):
    # stderr is often a log file: a located error must keep its path on one line
    deep = ws.data / ("a_rather_long_folder_name_" * 3)
    deep.mkdir()
    (deep / "ticket.csv").write_text("x\n1\n")
    r = cli(ws, "import", str(deep))
    assert r.exit_code == 1
    assert str(deep / "ticket.csv") in r.stderr, r.stderr
