"""Periods, time zones, ranges and timestamps (docs/kpi-contract.md "Query semantics",
docs/data-format.md "General rules"). Europe/Bucharest is UTC+3 in summer (EEST) and
UTC+2 in winter (EET); in 2026 the clocks change on 2026-03-29 (03:00 -> 04:00 local,
at 01:00Z) and 2026-10-25 (04:00 -> 03:00 local, at 01:00Z)."""
from __future__ import annotations

import datetime as dt

import pytest

BUC = "Europe/Bucharest"


def config(ws, tz: str = BUC) -> str:
    path = ws.root / "workspace.toml"
    path.write_text(f'timezone = "{tz}"\n', encoding="utf-8")
    return str(path)


def t(tid: str, created: str, **kw) -> dict:
    return {"ticket_id": tid, "created_at": created, **kw}


def tagged(*pairs: tuple[str, str]) -> list[dict]:
    """Tickets whose category is their own id, so category_volume shows where each one lands."""
    return [t(tid, created, category=tid) for tid, created in pairs]


def placement(rows: list[dict]) -> dict[str, str]:
    """ticket (category) -> period_start of the row counting it."""
    out = {}
    for r in rows:
        if r["value"]:
            assert r["value"] == 1, r
            out[r["category"]] = r["period_start"]
    return out


def starts(rows: list[dict]) -> list[tuple]:
    return [(r["period_start"], r["value"], r["partial"]) for r in rows]


# --------------------------------------------------------------------------------------
# month edges in a non-UTC zone, --tz over config
# --------------------------------------------------------------------------------------

def test_month_edge_depends_on_zone(ws):
    # 2026-10-31T22:30Z is 2026-11-01 00:30 in Bucharest (UTC+2 in winter)
    ws.write("tickets", [t("T1", "2026-10-31T22:30:00Z"), t("T2", "2026-10-31T21:59:59Z")])
    ws.load()
    args = ("--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")
    # UTC: both in October (November is after the last ticket: no data, issue 13 item 2)
    assert starts(ws.kpi("ticket_volume", *args, "--tz", "UTC")) == [
        ("2026-10-01", 2, False), ("2026-11-01", None, False)]
    # Bucharest: T2 is Oct 31 23:59:59 local -> October; T1 is Nov 1 00:30 -> November
    assert starts(ws.kpi("ticket_volume", *args, "--tz", BUC)) == [
        ("2026-10-01", 1, False), ("2026-11-01", 1, False)]


def test_config_timezone_sets_periods_and_tz_overrides_it(ws):
    cfg = config(ws)
    ws.write("tickets", [t("T1", "2026-10-31T22:30:00Z")])
    ws.load()
    args = ("--by", "month", "--from", "2026-10-01", "--to", "2026-11-30", "--config", cfg)
    # config timezone Bucharest -> November (October is before the only ticket: no data)
    assert [(r["period_start"], r["value"]) for r in ws.kpi("ticket_volume", *args)] == [
        ("2026-10-01", None), ("2026-11-01", 1)]
    # --tz UTC overrides the config -> October (November is after it: no data)
    assert [(r["period_start"], r["value"]) for r in ws.kpi("ticket_volume", *args, "--tz", "UTC")] == [
        ("2026-10-01", 1), ("2026-11-01", None)]


def test_march_month_edge_in_summer_time(ws):
    # 2026-03-31T21:30Z is 2026-04-01 00:30 in Bucharest (UTC+3 after the March change)
    ws.write("tickets", tagged(("a", "2026-03-31T21:30:00Z"), ("b", "2026-03-31T20:59:59Z")))
    ws.load()
    rows = ws.kpi("category_volume", "--by", "month", "--from", "2026-03-01", "--to", "2026-04-30", "--tz", BUC)
    # a -> April; b (23:59:59 local on Mar 31) -> March
    assert placement(rows) == {"a": "2026-04-01", "b": "2026-03-01"}


def test_resolution_rate_month_edge_in_zone(ws):
    ws.write("tickets", [
        t("T1", "2026-10-31T22:30:00Z", resolved_at="2026-11-01T10:00:00Z"),
        t("T2", "2026-10-15T10:00:00Z"),
    ])
    ws.load()
    rows = ws.kpi("resolution_rate", "--by", "month", "--from", "2026-10-01", "--to", "2026-11-30", "--tz", BUC)
    # Bucharest: October holds T2 only (unresolved) -> 0/1 = 0; November holds T1 (resolved) -> 1/1 = 100
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 0.0), ("2026-11-01", 100.0)]
    rows = ws.kpi("resolution_rate", "--by", "month", "--from", "2026-10-01", "--to", "2026-11-30", "--tz", "UTC")
    # UTC: October holds T1 and T2 -> 1/2 = 50; November nothing -> null
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-01", 50.0), ("2026-11-01", None)]


# --------------------------------------------------------------------------------------
# DST weeks and days
# --------------------------------------------------------------------------------------

OCT_WEEK_TICKETS = tagged(
    ("w1", "2026-10-18T21:30:00Z"),  # Bucharest Mon Oct 19 00:30 (EEST) ; UTC Sun Oct 18
    ("w2", "2026-10-25T21:30:00Z"),  # Bucharest Sun Oct 25 23:30 (EET, after the change)
    ("w3", "2026-10-25T22:30:00Z"),  # Bucharest Mon Oct 26 00:30 ; UTC Sun Oct 25
    ("w4", "2026-11-01T21:59:00Z"),  # Bucharest Sun Nov 1 23:59
    ("w5", "2026-11-01T22:00:00Z"),  # Bucharest Mon Nov 2 00:00 ; UTC Sun Nov 1
    ("w6", "2026-10-26T00:30:00Z"),  # Bucharest Mon Oct 26 02:30 ; UTC Mon Oct 26
)


def test_dst_week_october_bucharest(ws):
    ws.write("tickets", OCT_WEEK_TICKETS)
    ws.load()
    rows = ws.kpi("category_volume", "--by", "week", "--from", "2026-10-19", "--to", "2026-11-01", "--tz", BUC)
    # week of Oct 19 runs 2026-10-18T21:00Z .. 2026-10-25T22:00Z (169 h: the clocks go back on Oct 25)
    # week of Oct 26 runs 2026-10-25T22:00Z .. 2026-11-01T22:00Z
    assert placement(rows) == {"w1": "2026-10-19", "w2": "2026-10-19",
                               "w3": "2026-10-26", "w4": "2026-10-26", "w6": "2026-10-26"}
    assert {r["period_start"] for r in rows} == {"2026-10-19", "2026-10-26"}


def test_dst_week_october_utc(ws):
    ws.write("tickets", OCT_WEEK_TICKETS)
    ws.load()
    rows = ws.kpi("category_volume", "--by", "week", "--from", "2026-10-19", "--to", "2026-11-01", "--tz", "UTC")
    # UTC weeks: Oct 19 00:00Z .. Oct 26 00:00Z holds w2, w3; Oct 26 .. Nov 2 holds w4, w5, w6; w1 is before
    assert placement(rows) == {"w2": "2026-10-19", "w3": "2026-10-19",
                               "w4": "2026-10-26", "w5": "2026-10-26", "w6": "2026-10-26"}


def test_dst_day_october_has_25_hours(ws):
    ws.write("tickets", tagged(
        ("d1", "2026-10-24T20:59:59Z"),  # Oct 24 23:59:59 EEST
        ("d2", "2026-10-24T21:00:00Z"),  # Oct 25 00:00 EEST: first instant of Oct 25
        ("d3", "2026-10-25T00:30:00Z"),  # Oct 25 03:30 EEST (first 03:30)
        ("d4", "2026-10-25T01:30:00Z"),  # Oct 25 03:30 EET (second 03:30)
        ("d5", "2026-10-25T21:59:59Z"),  # Oct 25 23:59:59 EET: last instant of Oct 25
        ("d6", "2026-10-25T22:00:00Z"),  # Oct 26 00:00 EET
    ))
    ws.load()
    rows = ws.kpi("category_volume", "--by", "day", "--from", "2026-10-24", "--to", "2026-10-26", "--tz", BUC)
    assert placement(rows) == {"d1": "2026-10-24", "d2": "2026-10-25", "d3": "2026-10-25",
                               "d4": "2026-10-25", "d5": "2026-10-25", "d6": "2026-10-26"}
    rows = ws.kpi("ticket_volume", "--by", "day", "--from", "2026-10-24", "--to", "2026-10-26", "--tz", BUC)
    # Oct 24: d1; Oct 25 (25 h long): d2 d3 d4 d5; Oct 26: d6
    assert [(r["period_start"], r["value"]) for r in rows] == [
        ("2026-10-24", 1), ("2026-10-25", 4), ("2026-10-26", 1)]


def test_dst_march_day_and_week(ws):
    ws.write("tickets", tagged(
        ("m1", "2026-03-22T21:59:00Z"),  # Bucharest Sun Mar 22 23:59 EET
        ("m2", "2026-03-22T22:00:00Z"),  # Bucharest Mon Mar 23 00:00 EET
        ("m3", "2026-03-29T00:59:00Z"),  # Bucharest Sun Mar 29 02:59 EET (just before the change)
        ("m4", "2026-03-29T01:00:00Z"),  # Bucharest Sun Mar 29 04:00 EEST (the change)
        ("m5", "2026-03-29T20:59:00Z"),  # Bucharest Sun Mar 29 23:59 EEST
        ("m6", "2026-03-29T21:00:00Z"),  # Bucharest Mon Mar 30 00:00 EEST
        ("m7", "2026-03-29T21:30:00Z"),  # Bucharest Mon Mar 30 00:30 ; UTC Sun Mar 29
    ))
    ws.load()
    rows = ws.kpi("category_volume", "--by", "week", "--from", "2026-03-23", "--to", "2026-04-05", "--tz", BUC)
    # week of Mar 23 runs 2026-03-22T22:00Z .. 2026-03-29T21:00Z (167 h); m1 is before the range
    assert placement(rows) == {"m2": "2026-03-23", "m3": "2026-03-23", "m4": "2026-03-23",
                               "m5": "2026-03-23", "m6": "2026-03-30", "m7": "2026-03-30"}
    rows = ws.kpi("ticket_volume", "--by", "day", "--from", "2026-03-28", "--to", "2026-03-30", "--tz", BUC)
    # Mar 29 (23 h long, 2026-03-28T22:00Z .. 2026-03-29T21:00Z): m3 m4 m5; Mar 30: m6 m7
    assert [(r["period_start"], r["value"]) for r in rows] == [
        ("2026-03-28", 0), ("2026-03-29", 3), ("2026-03-30", 2)]
    rows = ws.kpi("category_volume", "--by", "week", "--from", "2026-03-23", "--to", "2026-04-05", "--tz", "UTC")
    # UTC weeks: m1 and m2 (Sunday Mar 22 in UTC) before; m3..m7 in the week of Mar 23 (ends Mar 30 00:00Z)
    assert placement(rows) == {k: "2026-03-23" for k in ("m3", "m4", "m5", "m6", "m7")}


def test_avg_ticket_count_over_dst_week_divides_by_seven_days(ws):
    ws.write("tickets", [t(f"T{i}", "2026-10-20T10:00:00Z") for i in range(14)])
    ws.load()
    rows = ws.kpi("avg_ticket_count", "--by", "week", "--from", "2026-10-19", "--to", "2026-10-25", "--tz", BUC)
    # 14 tickets over the 7 calendar days of the (169-hour) week -> 2 per day
    assert [(r["period_start"], r["value"]) for r in rows] == [("2026-10-19", 2.0)]


# --------------------------------------------------------------------------------------
# --by grains and --from/--to clipping
# --------------------------------------------------------------------------------------

@pytest.fixture
def spread(ws):
    ws.write("tickets", [
        t("A", "2026-09-30T12:00:00Z"),
        t("B", "2026-10-01T00:00:00Z"),
        t("C", "2026-10-02T12:00:00Z"),
        t("D", "2026-10-05T12:00:00Z"),
        t("E", "2026-10-12T00:00:00Z"),
        t("F", "2026-10-14T23:59:59Z"),
        t("G", "2026-10-15T00:00:00Z"),
        t("H", "2026-12-31T23:59:59Z"),
        t("I", "2027-01-01T00:00:00Z"),  # exactly at the default as-of: it exists
    ])
    ws.load()
    return ws


def test_by_day(spread):
    rows = spread.kpi("ticket_volume", "--by", "day", "--from", "2026-09-30", "--to", "2026-10-02")
    assert starts(rows) == [("2026-09-30", 1, False), ("2026-10-01", 1, False), ("2026-10-02", 1, False)]


def test_by_week_clipped(spread):
    rows = spread.kpi("ticket_volume", "--by", "week", "--from", "2026-10-01", "--to", "2026-10-14")
    # ISO weeks start Monday: Sep 28 (clipped to Oct 1-4: B, C), Oct 5 (full: D), Oct 12 (clipped to
    # Oct 12-14: E, F); A (Sep 30) and G (Oct 15) are outside the range
    assert starts(rows) == [("2026-09-28", 2, True), ("2026-10-05", 1, False), ("2026-10-12", 2, True)]


def test_by_week_across_the_new_year(spread):
    rows = spread.kpi("ticket_volume", "--by", "week", "--from", "2026-12-31", "--to", "2027-01-03")
    # 2027-01-01 is a Friday: its ISO week starts Monday 2026-12-28; clipped to Dec 31 - Jan 3: H, I
    assert starts(rows) == [("2026-12-28", 2, True)]


def test_by_month_clipped(spread):
    rows = spread.kpi("ticket_volume", "--by", "month", "--from", "2026-09-15", "--to", "2026-10-14")
    # September clipped to 15-30: A; October clipped to 1-14: B C D E F
    assert starts(rows) == [("2026-09-01", 1, True), ("2026-10-01", 5, True)]


def test_by_month_full_months_not_partial(spread):
    rows = spread.kpi("ticket_volume", "--by", "month", "--from", "2026-09-01", "--to", "2026-11-30")
    # September: A; October: B..G = 6; November: 0
    assert starts(rows) == [("2026-09-01", 1, False), ("2026-10-01", 6, False), ("2026-11-01", 0, False)]


def test_by_quarter(spread):
    rows = spread.kpi("ticket_volume", "--by", "quarter", "--from", "2026-07-01", "--to", "2026-12-31")
    # Q3: A; Q4: B..H = 7
    assert starts(rows) == [("2026-07-01", 1, False), ("2026-10-01", 7, False)]
    rows = spread.kpi("ticket_volume", "--by", "quarter", "--from", "2026-09-30", "--to", "2026-10-01")
    # Q3 clipped to Sep 30: A; Q4 clipped to Oct 1: B
    assert starts(rows) == [("2026-07-01", 1, True), ("2026-10-01", 1, True)]


def test_by_year(spread):
    rows = spread.kpi("ticket_volume", "--by", "year", "--from", "2026-01-01", "--to", "2027-12-31")
    # 2026: A..H = 8; 2027: I
    assert starts(rows) == [("2026-01-01", 8, False), ("2027-01-01", 1, False)]
    rows = spread.kpi("ticket_volume", "--by", "year", "--from", "2026-10-01", "--to", "2026-12-31")
    # 2026 clipped to Oct 1 - Dec 31: B..H = 7
    assert starts(rows) == [("2026-01-01", 7, True)]


def test_without_by_the_range_is_one_period(spread):
    rows = spread.kpi("ticket_volume", "--from", "2026-10-01", "--to", "2026-10-14")
    # B C D E F; one row, period_start null, not partial
    assert starts(rows) == [(None, 5, False)]


def test_without_range_covers_earliest_data_to_as_of(spread):
    # no --from/--to: A..I (I exactly at the as-of) -> 9
    assert spread.value("ticket_volume") == 9
    # as of 2026-10-12T00:00Z: A B C D E -> 5
    assert spread.value("ticket_volume", asof="2026-10-12T00:00:00Z") == 5


def test_range_dates_are_local_to_the_zone(spread):
    # --from/--to Oct 1..Oct 14 in Bucharest = 2026-09-30T21:00Z .. 2026-10-14T21:00Z:
    # B C D E (F at 23:59:59Z is Oct 15 local; A at Sep 30 12:00Z is before)
    assert spread.value("ticket_volume", "--from", "2026-10-01", "--to", "2026-10-14", "--tz", BUC) == 4


# --------------------------------------------------------------------------------------
# timestamps: offsets, naive local times, DST gaps and overlaps
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("created, instant", [
    ("2026-10-03T09:15:00+02:00", "2026-10-03T07:15:00Z"),  # explicit offset: absolute
    ("2026-10-03T09:15:00Z", "2026-10-03T09:15:00Z"),
    ("2026-10-03 09:15:00+03:00", "2026-10-03T06:15:00Z"),  # space separator with offset
    ("2026-10-03T09:15:00", "2026-10-03T06:15:00Z"),        # naive: Bucharest EEST (+3)
    ("2026-10-03 09:15:00", "2026-10-03T06:15:00Z"),        # naive with a space
    ("2026-12-03 09:15:00", "2026-12-03T07:15:00Z"),        # naive in winter: EET (+2)
])
def test_timestamps_with_and_without_offsets(ws, created, instant):
    cfg = config(ws)
    ws.write("tickets", [t("T1", created)])
    ws.load(None, "--config", cfg)
    # the ticket exists from `instant` on: one second before it the store holds no ticket yet (no
    # data: null, issue 13 item 2), at it 1
    at = dt.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    before = (at - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    args = ("--from", "2026-01-01", "--to", "2026-12-31")
    assert ws.value("ticket_volume", *args, asof=before) is None
    assert ws.value("ticket_volume", *args, asof=instant) == 1


def test_naive_time_without_config_is_utc(ws):
    ws.write("tickets", [t("T1", "2026-10-03 09:15:00")])
    ws.load()
    # default workspace time zone UTC: exists at 09:15:00Z, not at 09:14:59Z (no ticket yet: no data)
    assert ws.value("ticket_volume", "--from", "2026-10-01", "--to", "2026-10-31",
                    asof="2026-10-03T09:14:59Z") is None
    assert ws.value("ticket_volume", "--from", "2026-10-01", "--to", "2026-10-31",
                    asof="2026-10-03T09:15:00Z") == 1


def test_naive_time_read_in_workspace_zone_lands_in_november(ws):
    cfg = config(ws)
    # naive Nov 1 00:30 local = 2026-10-31T22:30Z
    ws.write("tickets", [t("T1", "2026-11-01 00:30:00")])
    ws.load(None, "--config", cfg)
    args = ("--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")
    # the month without the only ticket is before or after it: no data (issue 13 item 2)
    assert [(r["period_start"], r["value"]) for r in ws.kpi("ticket_volume", *args, "--config", cfg)] == [
        ("2026-10-01", None), ("2026-11-01", 1)]
    assert [(r["period_start"], r["value"]) for r in ws.kpi("ticket_volume", *args, "--tz", "UTC")] == [
        ("2026-10-01", 1), ("2026-11-01", None)]


def test_nonexistent_local_time_rejected_into_quarantine(ws):
    cfg = config(ws)
    ws.write("tickets", [
        t("T1", "2026-03-29 03:30:00"),  # skipped by the spring-forward change (03:00 -> 04:00): rejected
        t("T2", "2026-03-29 04:30:00"),  # exists: 01:30Z
        t("T3", "2026-03-29T03:30:00+03:00"),  # with an offset it is absolute: accepted (00:30Z)
    ])
    ws.load(None, "--config", cfg)
    q = ws.quarantine()
    assert len(q) == 1, q
    assert q[0]["column"] == "created_at"
    assert "T1" in q[0]["raw"]
    # T2 and T3 stored
    assert ws.value("ticket_volume", "--from", "2026-03-01", "--to", "2026-03-31") == 2


def test_nonexistent_local_time_not_duplicated_on_reimport(ws):
    cfg = config(ws)
    ws.write("tickets", [t("T1", "2026-03-29 03:30:00")])
    ws.load(None, "--config", cfg)
    ws.load(None, "--config", cfg)
    assert len(ws.quarantine()) == 1


def test_ambiguous_local_time_is_the_earlier_instant(ws):
    cfg = config(ws)
    # 03:30 on 2026-10-25 occurs twice in Bucharest: 00:30Z (EEST) and 01:30Z (EET) -> 00:30Z
    ws.write("tickets", [t("T1", "2026-10-25 03:30:00")])
    ws.load(None, "--config", cfg)
    assert ws.quarantine() == []
    args = ("--from", "2026-10-01", "--to", "2026-10-31")
    assert ws.value("ticket_volume", *args, asof="2026-10-25T00:29:59Z") is None  # no ticket yet: no data
    assert ws.value("ticket_volume", *args, asof="2026-10-25T00:30:00Z") == 1


def test_naive_resolution_time_across_the_autumn_change(ws):
    cfg = config(ws)
    # created 02:00 local (EEST, 23:00Z Oct 24), resolved 05:00 local (EET, 03:00Z): 4 h elapsed, not 3
    ws.write("tickets", [t("T1", "2026-10-25 02:00:00", resolved_at="2026-10-25 05:00:00")])
    ws.load(None, "--config", cfg)
    assert ws.value("avg_resolution_time", "--from", "2026-10-01", "--to", "2026-10-31",
                    "--config", cfg) == pytest.approx(4.0)
