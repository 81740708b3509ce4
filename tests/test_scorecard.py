"""The balanced scorecard (issue 3, section 4): the period defaults, value against target,
status, change against the previous period, perspectives, per-dimension targets, and the
`scorecard` command (registered here on a local Typer app until cli.py registers it)."""
from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from conftest import release
from servicekpi.analysis.scorecard import (
    PERSPECTIVE_ORDER,
    balanced_scorecard,
    build,
    last_complete_period,
    perspectives,
    previous_period,
    scorecard,
)
from servicekpi.catalog.targets import parse_targets
from servicekpi.cli.app import close_all
from servicekpi.cli.commands.scorecard import scorecard_command
from servicekpi.cli.common import guard_all
from servicekpi.core.config import Config
from servicekpi.engine.query import Engine, UsageError
from servicekpi.store import db as store

ASOF = dt.datetime(2027, 1, 10)  # naive UTC: the last complete month is December 2026
D = dt.date

# November: one email ticket answered after 60 min, resolved after 3 h.
# December: an email ticket answered after 120 min and resolved after 12 h, and a chat ticket
# answered after 30 min and resolved after 1 h.
TICKETS = [
    {"ticket_id": "T0", "created_at": "2026-11-10T09:00:00Z", "channel": "email",
     "first_response_at": "2026-11-10T10:00:00Z", "resolved_at": "2026-11-10T12:00:00Z"},
    {"ticket_id": "T1", "created_at": "2026-12-01T09:00:00Z", "channel": "email",
     "first_response_at": "2026-12-01T11:00:00Z", "resolved_at": "2026-12-01T21:00:00Z"},
    {"ticket_id": "T2", "created_at": "2026-12-02T09:00:00Z", "channel": "chat",
     "first_response_at": "2026-12-02T09:30:00Z", "resolved_at": "2026-12-02T10:00:00Z"},
]


def answers(survey, scores, day, prefix):
    return [{"response_id": f"{prefix}{i}", "survey": survey, "score": s, "responded_at": f"{day}T10:00:00Z"}
            for i, s in enumerate(scores)]


SURVEYS = (answers("csat", [5, 4, 2, 1], "2026-11-15", "n")      # November: 2 of 4 satisfied = 50%
           + answers("csat", [5, 5, 4, 4, 1], "2026-12-15", "d")  # December: 4 of 5 = 80%
           + answers("nps", [10, 10, 9, 7, 3], "2026-12-16", "p"))  # (3 promoters - 1 detractor) / 5 = 40
# December calls: handled 240+30+30 = 300 s and 400+50+50 = 500 s -> AHT 400 s; both answered
# within 60 s -> service level 100%, abandonment 0%
CALLS = [
    {"call_id": "K1", "entered_at": "2026-12-03T10:00:00Z", "answered_at": "2026-12-03T10:00:10Z",
     "talk_seconds": 240, "hold_seconds": 30, "wrap_seconds": 30},
    {"call_id": "K2", "entered_at": "2026-12-04T10:00:00Z", "answered_at": "2026-12-04T10:00:20Z",
     "talk_seconds": 400, "hold_seconds": 50, "wrap_seconds": 50},
]
# December: S = {C1, C3}, N = {C2}, E = {C1, C2}, L = {C3} -> crr (2-1)/2 = 50%, churn 1/2 = 50%
# November: S = E = {C1, C3}, N = L = {} -> crr 100%, churn 0%
CUSTOMERS = [
    {"customer_id": "C1", "acquired_at": "2026-06-01T00:00:00Z"},
    {"customer_id": "C2", "acquired_at": "2026-12-05T00:00:00Z"},
    {"customer_id": "C3", "acquired_at": "2026-06-01T00:00:00Z", "churned_at": "2026-12-20T00:00:00Z"},
]
SPEND = [{"period_start": "2026-12-01", "period_end": "2026-12-31", "amount": 1000, "kind": "marketing"}]
# IQS: November R0 5/5 -> 100; December R1 (4/5 + 3/5) / 2 criteria of weight 1 -> 70
REVIEWS = [
    {"review_id": "R0", "reviewed_at": "2026-11-20T10:00:00Z", "criterion": "accuracy", "score": 5, "max_score": 5},
    {"review_id": "R1", "reviewed_at": "2026-12-20T10:00:00Z", "criterion": "accuracy", "score": 4, "max_score": 5},
    {"review_id": "R1", "reviewed_at": "2026-12-20T10:00:00Z", "criterion": "tone", "score": 3, "max_score": 5},
]


@pytest.fixture
def shop(ws):
    ws.write("tickets", TICKETS)
    ws.write("surveys", SURVEYS)
    ws.write("calls", CALLS)
    ws.write("customers", CUSTOMERS)
    ws.write("spend", SPEND)
    ws.write("quality_reviews", REVIEWS)
    ws.load()
    return ws


@pytest.fixture
def engine(shop):
    con = store.connect(shop.db, read_only=True)
    yield Engine(con, Config())
    con.close()


def by_kpi(rows):
    return {r["kpi"]: r for r in rows}


# -- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize("asof, grain, tz, expected", [
    # mid-January: December is the last complete month
    (dt.datetime(2027, 1, 10, 15), "month", "UTC", (D(2026, 12, 1), D(2026, 12, 31))),
    # exactly at the start of January: December has just ended and is complete
    (dt.datetime(2027, 1, 1), "month", "UTC", (D(2026, 12, 1), D(2026, 12, 31))),
    # one second before: December is still running, November is the last complete month
    (dt.datetime(2026, 12, 31, 23, 59, 59), "month", "UTC", (D(2026, 11, 1), D(2026, 11, 30))),
    # 23:00 UTC on 31 December is 01:00 on 1 January in Bucharest (UTC+2): December is complete there
    (dt.datetime(2026, 12, 31, 23), "month", "Europe/Bucharest", (D(2026, 12, 1), D(2026, 12, 31))),
    # Thursday 10 December 2026: the week of Monday 30 November is the last complete ISO week
    (dt.datetime(2026, 12, 10, 12), "week", "UTC", (D(2026, 11, 30), D(2026, 12, 6))),
    # Monday 7 December 00:00: the week that just ended
    (dt.datetime(2026, 12, 7), "week", "UTC", (D(2026, 11, 30), D(2026, 12, 6))),
])
def test_last_complete_period(asof, grain, tz, expected):
    assert last_complete_period(asof, grain, tz) == expected


@pytest.mark.parametrize("start, end, grain, expected", [
    # a whole month: the previous calendar month, whatever its length (March -> February's 28 days)
    (D(2027, 3, 1), D(2027, 3, 31), "month", (D(2027, 2, 1), D(2027, 2, 28))),
    (D(2027, 1, 1), D(2027, 1, 31), "month", (D(2026, 12, 1), D(2026, 12, 31))),
    # a whole ISO week: the week before
    (D(2026, 11, 30), D(2026, 12, 6), "week", (D(2026, 11, 23), D(2026, 11, 29))),
    # any other range: the same number of days just before (15 days)
    (D(2026, 12, 1), D(2026, 12, 15), "month", (D(2026, 11, 16), D(2026, 11, 30))),
    # a month range given with grain week is just 31 days
    (D(2026, 12, 1), D(2026, 12, 31), "week", (D(2026, 10, 31), D(2026, 11, 30))),
])
def test_previous_period(start, end, grain, expected):
    assert previous_period(start, end, grain) == expected


# -- the scorecard --------------------------------------------------------------------------------


def test_default_period_is_the_last_complete_month(engine):
    card = build(engine, asof=ASOF)
    assert (card.start, card.end, card.previous) == (D(2026, 12, 1), D(2026, 12, 31),
                                                     (D(2026, 11, 1), D(2026, 11, 30)))
    assert card.complete
    row = by_kpi(card.rows)["csat"]
    assert (row["period_start"], row["period_end"], row["complete"]) == ("2026-12-01", "2026-12-31", True)


def test_values_against_the_default_targets(engine):
    rows = by_kpi(balanced_scorecard(engine, asof=ASOF))
    # csat 80% on the default 80% target -> met, flagged as default
    csat = rows["csat"]
    assert (csat["value"], csat["target"], csat["at_risk_band"], csat["target_default"], csat["status"]) == (
        80.0, 80.0, 5.0, True, "met")
    # nps 40 >= 0 -> met
    assert (rows["nps"]["value"], rows["nps"]["status"]) == (40.0, "met")
    # first response (120 + 30) / 2 = 75 min <= 1440 -> met (the main scorecard is not sliced:
    # the chat override of 10 min does not apply)
    frt = rows["first_response_time"]
    assert (frt["value"], frt["target"], frt["target_override"], frt["status"]) == (75.0, 1440.0, None, "met")
    assert "channel" not in frt
    # resolution (12 h + 1 h) / 2 = 6.5 h <= 72 h -> met
    assert (rows["avg_resolution_time"]["value"], rows["avg_resolution_time"]["status"]) == (6.5, "met")
    # AHT 400 s > 360 s with no band -> missed
    assert (rows["aht"]["value"], rows["aht"]["target"], rows["aht"]["status"]) == (400.0, 360.0, "missed")
    # churn 50% > 5% + band 2 -> missed; abandonment 0% <= 5% -> met; service level 100% >= 80% -> met
    assert (rows["churn_rate"]["value"], rows["churn_rate"]["status"]) == (50.0, "missed")
    assert (rows["abandonment_rate"]["value"], rows["abandonment_rate"]["status"]) == (0.0, "met")
    assert (rows["call_service_level"]["value"], rows["call_service_level"]["status"]) == (100.0, "met")
    # no default target: csat_mean, resolution_rate, crr, cac (1000 spent / 1 new customer)
    for kid, value in (("resolution_rate", 100.0), ("crr", 50.0), ("cac", 1000.0)):
        assert (rows[kid]["value"], rows[kid]["target"], rows[kid]["status"]) == (value, None, "no_target"), kid
        assert rows[kid]["target_default"] is None


def test_kpis_without_data_are_left_out(engine):
    rows = by_kpi(balanced_scorecard(engine, asof=ASOF))
    # ces has no answers, fcr_rate no known agent_replies, clv/repurchase need orders, occupancy
    # agent sessions, avg_response_time messages
    for kid in ("ces", "fcr_rate", "clv", "repurchase_rate", "occupancy", "avg_response_time"):
        assert kid not in rows, kid
    # sla_at_risk (the live list) is never on the scorecard
    assert "sla_at_risk" not in rows
    assert all(r["value"] is not None for r in rows.values())


def test_change_against_the_previous_period(engine):
    rows = by_kpi(balanced_scorecard(engine, asof=ASOF))
    # csat 50% in November -> 80%: +30 points, +30/50 = +60%
    csat = rows["csat"]
    assert csat["previous"] == 50.0
    assert csat["change"] == pytest.approx(30.0)
    assert csat["change_relative"] == pytest.approx(0.6)
    assert csat["trend"] == "better"
    # first response 60 min -> 75 min: +15 min, +15/60 = +25%, worse (lower is better)
    frt = rows["first_response_time"]
    assert (frt["previous"], frt["change"], frt["trend"]) == (60.0, 15.0, "worse")
    assert frt["change_relative"] == pytest.approx(0.25)
    # churn 0% -> 50%: +50 points, relative null because the previous value is 0
    churn = rows["churn_rate"]
    assert (churn["previous"], churn["change"], churn["change_relative"]) == (0.0, 50.0, None)
    # backlog 0 at the end of both months: change 0, relative null
    backlog = rows["backlog"]
    assert (backlog["value"], backlog["previous"], backlog["change"], backlog["change_relative"], backlog["trend"]) \
        == (0, 0, 0, None, "same")
    # nps had no answers in November: no previous value, no change
    nps = rows["nps"]
    assert (nps["previous"], nps["change"], nps["change_relative"], nps["trend"]) == (None, None, None, None)


def test_custom_kpis_computed_together_keep_their_own_numbers(engine):
    # crr, churn_rate, cac and iqs are each computed by their own query; batched in one statement
    # the engine once mixed their columns (crr's N with iqs's n)
    rows = by_kpi(balanced_scorecard(engine, asof=ASOF))
    # crr (E - N) / S = (2 - 1) / 2 -> numerator 1, denominator 2
    assert (rows["crr"]["value"], rows["crr"]["numerator"], rows["crr"]["denominator"]) == (50.0, 1, 2)
    # iqs December 70, November 100: -30 points, -30%
    iqs = rows["iqs"]
    assert (iqs["value"], iqs["previous"], iqs["status"]) == (pytest.approx(70.0), pytest.approx(100.0), "no_target")
    assert iqs["change_relative"] == pytest.approx(-0.3)


def test_rows_are_grouped_by_perspective(engine):
    rows = balanced_scorecard(engine, asof=ASOF)
    seen = [r["perspective"] for r in rows]
    # every perspective appears once, as one block, in the balanced-scorecard order
    assert list(dict.fromkeys(seen)) == ["customer", "process", "people", "financial"]
    assert seen == sorted(seen, key=PERSPECTIVE_ORDER.index)
    groups = {r["kpi"]: r["perspective"] for r in rows}
    assert {k for k, p in groups.items() if p == "customer"} == {"csat", "csat_mean", "nps", "crr", "churn_rate"}
    assert {k for k, p in groups.items() if p == "people"} == {"aht", "iqs"}
    assert {k for k, p in groups.items() if p == "financial"} == {"cac"}
    assert {"first_response_time", "avg_resolution_time", "backlog", "abandonment_rate",
            "sla_first_response_met"} <= {k for k, p in groups.items() if p == "process"}
    # within a perspective, the declared order
    customer = [r["kpi"] for r in rows if r["perspective"] == "customer"]
    assert customer == ["csat", "csat_mean", "nps", "crr", "churn_rate"]


def test_every_sla_kpi_but_the_live_list_is_in_process():
    process = perspectives()["process"]
    assert {"sla_first_response_met", "sla_next_response_met", "sla_resolution_met", "sla_breaches"} <= set(process)
    assert "sla_at_risk" not in process


def test_explicit_period_and_its_previous_month(engine):
    # November: csat 50% is 30 below 80, beyond the band of 5 -> missed; compared with October (no data)
    card = build(engine, D(2026, 11, 1), D(2026, 11, 30), "month", ASOF)
    assert card.previous == (D(2026, 10, 1), D(2026, 10, 31))
    csat = by_kpi(card.rows)["csat"]
    assert (csat["value"], csat["status"], csat["previous"]) == (50.0, "missed", None)


def test_custom_range_is_compared_with_the_same_number_of_days_before(engine):
    # 1-15 December (15 days) against 16-30 November; first response in December: T1 and T2 -> 75
    card = build(engine, D(2026, 12, 1), D(2026, 12, 15), "month", ASOF)
    assert card.previous == (D(2026, 11, 16), D(2026, 11, 30))
    frt = by_kpi(card.rows)["first_response_time"]
    # T0 (10 November) is outside 16-30 November: no previous value
    assert (frt["value"], frt["previous"]) == (75.0, None)


def test_weekly_scorecard(engine):
    # as of Thursday 3 December: the last complete week is Monday 23 - Sunday 29 November: no
    # tickets or answers; the week before, 16-22 November, had the November csat answers
    card = build(engine, by="week", asof=dt.datetime(2026, 12, 3, 12))
    assert (card.start, card.end, card.previous) == (D(2026, 11, 23), D(2026, 11, 29),
                                                     (D(2026, 11, 16), D(2026, 11, 22)))
    assert "csat" not in by_kpi(card.rows)
    # as of Thursday 10 December: the week of 30 November - 6 December holds T1 and T2
    card = build(engine, by="week", asof=dt.datetime(2026, 12, 10, 12))
    assert (card.start, card.end) == (D(2026, 11, 30), D(2026, 12, 6))
    assert by_kpi(card.rows)["first_response_time"]["value"] == 75.0


def test_config_targets_replace_the_defaults(engine):
    targets = parse_targets({"targets": {"first_response_time": {"value": 60, "at_risk": 15, "due": "2027-03-31"}}},
                            "servicekpi.toml")
    rows = by_kpi(balanced_scorecard(engine, asof=ASOF, targets=targets))
    frt = rows["first_response_time"]
    # 75 min is 15 over 60, within the band of 15 (its edge included) -> at risk
    assert (frt["target"], frt["at_risk_band"], frt["target_default"], frt["due"], frt["status"]) == (
        60.0, 15.0, False, "2027-03-31", "at_risk")
    # csat has no target in this config
    assert (rows["csat"]["target"], rows["csat"]["status"]) == (None, "no_target")


def test_per_dimension_override_applies_when_sliced(engine):
    targets = parse_targets({"targets": {"first_response_time": {
        "value": 60, "at_risk": 15, "by": {"channel": {"chat": 20, "email": 100}}}}}, "servicekpi.toml")
    card = build(engine, asof=ASOF, targets=targets, dims=["channel"])
    frt = {r["channel"]: r for r in card.rows if r["kpi"] == "first_response_time"}
    # chat: 30 min against 20, 10 over, within the inherited band of 15 -> at risk
    assert (frt["chat"]["value"], frt["chat"]["target"], frt["chat"]["target_override"], frt["chat"]["status"]) == (
        30.0, 20.0, "channel=chat", "at_risk")
    # email: 120 min against 100, 20 over the band of 15 -> missed; November email 60 -> +60 min, +100%
    email = frt["email"]
    assert (email["value"], email["target"], email["status"], email["previous"], email["change"]) == (
        120.0, 100.0, "missed", 60.0, 60.0)
    assert email["change_relative"] == pytest.approx(1.0)
    # chat had no November tickets
    assert frt["chat"]["previous"] is None
    # KPIs that cannot be sliced by channel are left out and named
    assert "crr" not in {r["kpi"] for r in card.rows}
    assert card.notes and "crr" in card.notes[0] and "cac" in card.notes[0]


def test_default_chat_target_applies_when_sliced_by_channel(engine):
    rows = [r for r in balanced_scorecard(engine, asof=ASOF, dims=["channel"]) if r["kpi"] == "first_response_time"]
    frt = {r["channel"]: r for r in rows}
    # chat 30 min against the default 10 (82% expect a reply within 10 minutes) -> missed
    assert (frt["chat"]["target"], frt["chat"]["target_default"], frt["chat"]["status"]) == (10.0, True, "missed")
    # email 120 min against 24 h -> met
    assert (frt["email"]["target"], frt["email"]["status"]) == (1440.0, "met")


def test_unknown_dimension_is_a_usage_error(engine):
    with pytest.raises(UsageError, match="unknown dimension 'chanel'; did you mean channel"):
        build(engine, asof=ASOF, dims=["chanel"])


def test_the_demo_month_by_month_scorecard_still_works(engine):
    table = scorecard(engine, ["csat", "nps"], D(2026, 11, 1), D(2026, 12, 31), ASOF)
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    # csat November 50.0%, December 80.0%
    assert "2026-11" in text and "2026-12" in text and "50.0%" in text and "80.0%" in text


# -- the command ---------------------------------------------------------------------------------

local = typer.Typer(add_completion=False)


@local.callback()
def _root(ctx: typer.Context):
    ctx.call_on_close(close_all)


local.command("scorecard")(scorecard_command)
guard_all(local)  # errors -> exit codes, as the real app does


def run(ws, *args: str):
    r = CliRunner().invoke(local, ["scorecard", *args, "--db", str(ws.db)])
    out = SimpleNamespace(exit_code=r.exit_code, stdout=r.stdout, stderr=r.stderr, exception=repr(r.exception))
    del r
    release()
    return out


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_command_json_is_the_scorecard(shop):
    r = run(shop, "--format", "json", "--as-of", "2027-01-10T00:00:00Z")
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = by_kpi(json.loads(r.stdout))
    assert (rows["csat"]["value"], rows["csat"]["status"], rows["csat"]["target_default"]) == (80.0, "met", True)
    assert rows["csat"]["period_start"] == "2026-12-01"
    assert rows["aht"]["perspective"] == "people"


def test_command_month_option(shop):
    r = run(shop, "--month", "2026-11", "--format", "json", "--as-of", "2027-01-10T00:00:00Z")
    assert r.exit_code == 0, r.stdout + r.stderr
    csat = by_kpi(json.loads(r.stdout))["csat"]
    # November: 50% -> missed
    assert (csat["period_start"], csat["period_end"], csat["value"], csat["status"]) == (
        "2026-11-01", "2026-11-30", 50.0, "missed")


def test_command_table_groups_by_perspective_with_statuses(shop):
    r = run(shop, "--as-of", "2027-01-10T00:00:00Z")
    assert r.exit_code == 0, r.stdout + r.stderr
    text = flat(r.stdout)
    for part in ("Balancedscorecard2026-12-01–2026-12-31", "Customer", "Internalprocess", "People", "Financial",
                 "met", "missed", "notarget", "≥80.0%(default)", "+30.0pp(+60.0%)"):
        assert part in text, part
    assert text.index("Customer") < text.index("Internalprocess") < text.index("People") < text.index("Financial")


def test_command_reads_targets_from_the_config(shop):
    path = shop.root / "servicekpi.toml"
    path.write_text("[targets.csat]\nvalue = 85\nat_risk = 10\n", encoding="utf-8")
    r = run(shop, "--format", "json", "--as-of", "2027-01-10T00:00:00Z", "--config", str(path))
    assert r.exit_code == 0, r.stdout + r.stderr
    rows = by_kpi(json.loads(r.stdout))
    # 80% is 5 below 85, within the band of 10 -> at risk; the defaults are replaced
    assert (rows["csat"]["target"], rows["csat"]["target_default"], rows["csat"]["status"]) == (85.0, False, "at_risk")
    assert rows["aht"]["status"] == "no_target"


def test_command_reports_an_invalid_target_with_its_location(shop):
    path = shop.root / "servicekpi.toml"
    path.write_text("[targets.csat]\nvalue = \"high\"\n", encoding="utf-8")
    r = run(shop, "--config", str(path))
    assert r.exit_code == 1
    assert flat(f"Error: {path}, key targets.csat.value: expected a number") in flat(r.stderr)


@pytest.mark.parametrize("args, message", [
    (["--month", "2026-13"], "--month '2026-13' is not a month (expected YYYY-MM, e.g. 2026-10)"),
    (["--from", "2026-12-01"], "give both --from and --to"),
    (["--month", "2026-12", "--from", "2026-12-01", "--to", "2026-12-31"], "give either --month or --from/--to"),
    (["--month", "2026-12", "--by", "week"], "--month picks a month"),
    (["--by", "day"], "--by 'day' is not one of: month, week"),
    (["--format", "csv"], "--format 'csv' is not one of: table, json"),
    (["--lang", "fr"], "--lang 'fr' is not one of: en, zh, ro, th"),
    (["--from", "2026-12-31", "--to", "2026-12-01"], "the period ends (2026-12-01) before it starts (2026-12-31)"),
    (["--from", "2026-12-01", "--to", "soon"], "--to 'soon' is not a date"),
    (["--dim", "chanel"], "unknown dimension 'chanel'; did you mean channel?"),
])
def test_command_usage_errors(shop, args, message):
    r = run(shop, *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert flat(message) in flat(r.stderr)


def test_a_whole_month_and_the_one_before_are_one_engine_query(engine, monkeypatch):
    """A monthly scorecard asks the engine once, by month over both months (one statement per
    KPI group), and every number equals what one query per period gives."""
    calls = []
    real = engine.evaluate
    monkeypatch.setattr(engine, "evaluate", lambda q: calls.append(q) or real(q))
    card = build(engine, by="month", asof=ASOF)
    assert len(calls) == 1 and calls[0].by == "month"
    assert (calls[0].start, calls[0].end) == (D(2026, 11, 1), D(2026, 12, 31))
    monkeypatch.undo()
    ids = [r["kpi"] for r in card.rows]
    from servicekpi.engine.query import Query
    dec = by_kpi(engine.evaluate(Query(kpis=ids, start=D(2026, 12, 1), end=D(2026, 12, 31), asof=ASOF)))
    nov = by_kpi(engine.evaluate(Query(kpis=ids, start=D(2026, 11, 1), end=D(2026, 11, 30), asof=ASOF)))
    for r in card.rows:
        assert (r["value"], r["numerator"], r["denominator"]) == tuple(dec[r["kpi"]][c] for c in
                                                                      ("value", "numerator", "denominator"))
        assert r["previous"] == nov[r["kpi"]]["value"]
    rows = by_kpi(card.rows)
    # csat December 4 of 5 = 80 against November 2 of 4 = 50; iqs 70 against 100
    assert (rows["csat"]["value"], rows["csat"]["previous"]) == (80.0, 50.0)
    assert (rows["iqs"]["value"], rows["iqs"]["previous"]) == (70.0, 100.0)


def test_command_table_reads_as_people_read_numbers(shop):
    """core/display.py in the scorecard table: durations in h/min/s, signed NPS, the config's currency."""
    path = shop.root / "servicekpi.toml"
    path.write_text('currency = "EUR"\n', encoding="utf-8")
    r = run(shop, "--as-of", "2027-01-10T00:00:00Z", "--config", str(path))
    assert r.exit_code == 0, r.stdout + r.stderr
    text = flat(r.stdout)
    # December FRT (120 + 30) / 2 = 75 min; November 60 min: +15 min (+25.0%)
    assert "1hr15min" in text and "+15min(+25.0%)" in text
    # AHT (300 + 500) / 2 = 400 s = 6 min 40 s against the default target 360 s = 6 min
    assert "6min40sec" in text and "≤6min(default)" in text
    # NPS (3 - 1) / 5 = +40.0 points; CAC 1000 spend / 1 new customer (C2) = €1,000.00
    assert "+40.0" in text and "€1,000.00" in text
    assert "currency" not in text


def test_display_fields_beside_the_raw_values(engine):
    from servicekpi.analysis.scorecard import display_fields
    rows = by_kpi(build(engine, asof=ASOF).rows)
    frt = display_fields(rows["first_response_time"], [], "zh")
    assert frt["value"] == "1小时 15分钟" and frt["previous"] == "1小时"  # 75 and 60 minutes
    nps = display_fields(rows["nps"], [], "en")
    assert nps["value"] == "+40.0" and nps["change"] is None  # no NPS answers in November
    sliced = build(engine, asof=ASOF, dims=["channel"]).rows
    chat = next(r for r in sliced if r["kpi"] == "first_response_time" and r["channel"] == "chat")
    assert display_fields(chat, ["channel"], "ro")["channel"] == "Chat"
    assert display_fields(chat, ["channel"], "zh")["channel"] == "在线聊天"


def test_plain_text_target_has_no_console_markup():
    """The weekly e-mail (delivery/schedules.py) writes targets with markup=False."""
    from servicekpi.analysis.scorecard import fmt_target
    row = {"target": 1440.0, "direction": "lower", "unit": "minutes", "due": None, "target_default": True}
    assert fmt_target(row, "en", None, markup=False) == "≤ 24 hr (default)"  # 1,440 min = a day
    assert fmt_target(row, "en") == "≤ 24 hr [dim](default)[/]"  # the console table dims it
