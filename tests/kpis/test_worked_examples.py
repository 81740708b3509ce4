"""Worked examples from the literature (kpis.md, "each must be a test").

Each example is realised twice: as events (written, imported through the CLI and
queried with `kpi`) and as plain totals given to `calc`. Both must give the
published number.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from servicekpi.cli.app import app

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def calc(name, *args):
    r = CliRunner().invoke(app, ["calc", name, *args, "--format", "json"])
    assert r.exit_code == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["kpi"] == name
    return out


def only(rows):
    assert len(rows) == 1, rows
    return rows[0]


def oct_ts(i, hour=10):
    """A distinct instant in October 2026 for row i."""
    return f"2026-10-{1 + i % 28:02d}T{hour:02d}:{(i // 28) % 60:02d}:{i % 60:02d}Z"


# -- FCR: 100 issues received, 80 solved on first contact: 80% (basis received) -----------------


def test_fcr_80_of_100_received(ws):
    tickets = []
    for i in range(100):
        t = {"ticket_id": f"T{i}", "created_at": oct_ts(i), "reopen_count": 0}
        if i < 70:    # solved with one reply
            t.update(resolved_at=oct_ts(i, 12), agent_replies=1)
        elif i < 80:  # solved with no reply (still a first-contact resolution)
            t.update(resolved_at=oct_ts(i, 12), agent_replies=0)
        elif i < 90:  # solved, but after three replies
            t.update(resolved_at=oct_ts(i, 12), agent_replies=3)
        else:         # not solved
            t.update(agent_replies=1)
        tickets.append(t)
    ws.write("tickets", tickets)
    ws.load()
    row = only(ws.kpi("fcr_rate", *OCT, "--option", "basis=received"))
    # first-contact resolutions 70 + 10 = 80 of 100 tickets received -> 80%
    assert (row["numerator"], row["denominator"]) == (80, 100)
    assert row["value"] == pytest.approx(80.0)
    out = calc("fcr_rate", "--first_contact", "80", "--total", "100")
    assert out["value"] == pytest.approx(80.0)


# -- AHT: 1,000 minutes over 100 calls: 10 minutes (600 s) --------------------------------------


def test_aht_1000_minutes_over_100_calls(ws):
    calls = []
    for i in range(100):
        # talk 400, 450, 500, 550, 600 (mean 500) + hold 50 + wrap 50 -> mean 600 s
        calls.append({"call_id": f"C{i}", "entered_at": oct_ts(i), "answered_at": oct_ts(i, 11),
                      "talk_seconds": 400 + 50 * (i % 5), "hold_seconds": 50, "wrap_seconds": 50})
    for i in range(5):  # unanswered calls have no handle time and are not in the mean
        calls.append({"call_id": f"U{i}", "entered_at": oct_ts(i, 15)})
    ws.write("calls", calls)
    ws.load()
    row = only(ws.kpi("aht", *OCT))
    # sum = 100 x 500 + 100 x 50 + 100 x 50 = 60,000 s = 1,000 min over 100 answered calls = 600 s
    assert (row["numerator"], row["denominator"]) == (60000, 100)
    assert row["value"] == pytest.approx(600.0)
    assert row["unit"] == "seconds"
    out = calc("aht", "--talk_seconds", "50000", "--hold_seconds", "5000", "--wrap_seconds", "5000",
               "--calls", "100")
    assert out["value"] == pytest.approx(600.0)


# -- NPS: 50/40/10 -> 40; 80% promoters / 15% detractors -> 65; 70/20/10 answers -> 60 ---------------


@pytest.mark.parametrize("promoters, passives, detractors, expected", [
    (50, 40, 10, 40.0),   # 50% - 10% = 40
    (80, 5, 15, 65.0),    # 80% - 15% = 65
    (70, 20, 10, 60.0),   # (70 - 10) / 100 = 60
])
def test_nps_worked_examples(ws, promoters, passives, detractors, expected):
    scores = ([9 + i % 2 for i in range(promoters)]         # 9, 10
              + [7 + i % 2 for i in range(passives)]        # 7, 8
              + [i % 7 for i in range(detractors)])         # 0..6
    ws.write("surveys", [{"response_id": f"N{i}", "survey": "nps", "score": s, "responded_at": oct_ts(i)}
                         for i, s in enumerate(scores)])
    ws.load()
    row = only(ws.kpi("nps", *OCT))
    assert (row["numerator"], row["denominator"]) == (promoters - detractors, 100)
    assert row["value"] == pytest.approx(expected)
    out = calc("nps", "--promoters", str(promoters), "--passives", str(passives),
               "--detractors", str(detractors))
    assert out["value"] == pytest.approx(expected)
    assert (out["numerator"], out["denominator"]) == (promoters - detractors, 100)


# -- CSAT: 30 positive of 50: 60%. 100 answered, 43 answer 4 and 29 answer 5: 72% -------------------


def test_csat_30_positive_of_50(ws):
    # thumbs survey (0-1): 30 thumbs up, 20 thumbs down
    ws.write("surveys", [{"response_id": f"S{i}", "survey": "csat", "score": 1 if i < 30 else 0,
                          "scale_min": 0, "scale_max": 1, "responded_at": oct_ts(i)} for i in range(50)])
    ws.load()
    row = only(ws.kpi("csat", *OCT))
    # 30 / 50 = 60%
    assert (row["numerator"], row["denominator"], row["value"]) == (30, 50, pytest.approx(60.0))
    assert calc("csat", "--satisfied", "30", "--total", "50")["value"] == pytest.approx(60.0)


def test_csat_43_fours_29_fives_of_100(ws):
    scores = [4] * 43 + [5] * 29 + [1 + i % 3 for i in range(28)]  # the other 28 answer 1, 2 or 3
    ws.write("surveys", [{"response_id": f"S{i}", "survey": "csat", "score": s, "responded_at": oct_ts(i)}
                         for i, s in enumerate(scores)])
    ws.load()
    row = only(ws.kpi("csat", *OCT))
    # satisfied = 4 or 5 on 1-5 = 43 + 29 = 72 of 100 -> 72%
    assert (row["numerator"], row["denominator"], row["value"]) == (72, 100, pytest.approx(72.0))
    assert calc("csat", "--satisfied", "72", "--total", "100")["value"] == pytest.approx(72.0)


# -- CRR: S=100, E=90, N=15: 75%. S=200, E=200, N=20: 90%. Simple: 1,000 to 800: 80% --------------


def customers_for(start, churned, new):
    """`start` customers active before October 2026, `churned` of them leave in October,
    `new` customers join in October and stay."""
    rows = []
    for i in range(start):
        rows.append({"customer_id": f"old{i}", "acquired_at": "2025-06-01T00:00:00Z",
                     "churned_at": oct_ts(i) if i < churned else None})
    for i in range(new):
        rows.append({"customer_id": f"new{i}", "acquired_at": oct_ts(i, 8), "churned_at": None})
    return rows


@pytest.mark.parametrize("start, churned, new, options, expected, num", [
    # S = 100, 25 leave, N = 15 join: E = 75 + 15 = 90 -> (90 - 15) / 100 = 75%
    (100, 25, 15, (), 75.0, 75),
    # S = 200, 20 leave, N = 20 join: E = 200 -> (200 - 20) / 200 = 90%
    (200, 20, 20, (), 90.0, 180),
    # simple: S = 1,000, 200 leave, none join: E = 800 -> 800 / 1,000 = 80%
    (1000, 200, 0, ("--option", "method=simple"), 80.0, 800),
])
def test_crr_worked_examples(ws, start, churned, new, options, expected, num):
    ws.write("customers", customers_for(start, churned, new))
    ws.load()
    row = only(ws.kpi("crr", *OCT, *options))
    assert (row["numerator"], row["denominator"]) == (num, start)
    assert row["value"] == pytest.approx(expected)
    end = start - churned + new
    out = calc("crr", *options, "--start", str(start), "--end", str(end), "--new", str(new))
    assert out["value"] == pytest.approx(expected)


def test_crr_simple_differs_from_standard_when_customers_join(ws):
    # 1,000 at start, 250 leave, 50 join: E = 800 -> simple 800/1000 = 80%; standard (800-50)/1000 = 75%
    ws.write("customers", customers_for(1000, 250, 50))
    ws.load()
    assert ws.value("crr", *OCT, "--option", "method=simple") == pytest.approx(80.0)
    assert ws.value("crr", *OCT) == pytest.approx(75.0)
    assert calc("crr", "--option", "method=simple", "--start", "1000", "--end", "800",
                "--new", "50")["value"] == pytest.approx(80.0)


# -- Churn: 20 lost of 250 at start: 8%. 100 customers, 50 left 12 months later: 50% ---------------


def test_churn_20_of_250(ws):
    ws.write("customers", customers_for(250, 20, 10))
    ws.load()
    row = only(ws.kpi("churn_rate", *OCT))
    # L = 20, S = 250 (the 10 joiners are not at the start) -> 8%
    assert (row["numerator"], row["denominator"], row["value"]) == (20, 250, pytest.approx(8.0))
    assert calc("churn_rate", "--lost", "20", "--start", "250")["value"] == pytest.approx(8.0)


def test_churn_50_of_100_over_a_year(ws):
    rows = [{"customer_id": f"c{i}", "acquired_at": "2025-03-01T00:00:00Z",
             "churned_at": f"2026-{1 + i % 12:02d}-15T00:00:00Z" if i < 50 else None} for i in range(100)]
    ws.write("customers", rows)
    ws.load()
    row = only(ws.kpi("churn_rate", "--by", "year", "--from", "2026-01-01", "--to", "2026-12-31"))
    # S = 100 at 2026-01-01, L = 50 left during 2026 -> 50%
    assert row["period_start"] == "2026-01-01"
    assert (row["numerator"], row["denominator"], row["value"]) == (50, 100, pytest.approx(50.0))
    assert calc("churn_rate", "--lost", "50", "--start", "100")["value"] == pytest.approx(50.0)


# -- Abandonment: 20 abandoned of 100 calls: 20% --------------------------------------------------


def test_abandonment_20_of_100(ws):
    calls = [{"call_id": f"C{i}", "entered_at": oct_ts(i),
              "answered_at": oct_ts(i, 11) if i >= 20 else None,
              "outcome": "answered" if i >= 20 else "abandoned"} for i in range(100)]
    ws.write("calls", calls)
    ws.load()
    row = only(ws.kpi("abandonment_rate", *OCT))
    # 20 not answered of 100 offered -> 20%
    assert (row["numerator"], row["denominator"], row["value"]) == (20, 100, pytest.approx(20.0))
    assert calc("abandonment_rate", "--abandoned", "20", "--offered", "100")["value"] == pytest.approx(20.0)


# -- Average wait: 500 minutes of waiting over 200 answered calls: 2.5 minutes (150 s) ---------------


def test_average_wait_500_minutes_over_200_calls(ws):
    calls = []
    start = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.timezone.utc)
    for i in range(200):
        wait = 100 if i % 2 else 200  # 100 x 100 s + 100 x 200 s = 30,000 s = 500 min
        entered = start + dt.timedelta(minutes=37 * i)
        answered = entered + dt.timedelta(seconds=wait)
        calls.append({"call_id": f"C{i}", "entered_at": entered.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "answered_at": answered.strftime("%Y-%m-%dT%H:%M:%SZ"), "talk_seconds": 60})
    for i in range(10):  # unanswered calls do not wait "into" the mean
        calls.append({"call_id": f"U{i}", "entered_at": oct_ts(i, 20)})
    ws.write("calls", calls)
    ws.load()
    row = only(ws.kpi("avg_wait_time", *OCT))
    # 30,000 s / 200 answered = 150 s
    assert row["value"] == pytest.approx(150.0)
    assert row["denominator"] == 200
    assert row["numerator"] == pytest.approx(30000)
    out = calc("avg_wait_time", "--wait_seconds", "30000", "--answered", "200")
    assert out["value"] == pytest.approx(150.0)


# -- CAC: 10,000 spent, 20,000 customers acquired: 0.50 ----------------------------------------------


def test_cac_10000_over_20000(ws):
    customers = [{"customer_id": f"c{i}", "acquired_at": f"2026-10-{1 + i % 31:02d}T"
                  f"{(i // 31) % 24:02d}:{(i // 744) % 60:02d}:00Z"} for i in range(20000)]
    ws.write("customers", customers)
    ws.write("spend", [{"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": 6000,
                        "kind": "marketing"},
                       {"period_start": "2026-10-01", "period_end": "2026-10-31", "amount": 4000,
                        "kind": "sales"}])
    ws.load()
    row = only(ws.kpi("cac", *OCT))
    # (6,000 + 4,000) / 20,000 = 0.5
    assert row["denominator"] == 20000
    assert row["numerator"] == pytest.approx(10000)
    assert row["value"] == pytest.approx(0.5)
    assert calc("cac", "--spend", "10,000", "--new", "20,000")["value"] == pytest.approx(0.5)


# -- CLV simple: order value 50 x 5 orders a year x 3 years: 750 --------------------------------------


def test_clv_simple_50_x_5_x_3(ws):
    customers, orders = [], []
    for c in range(4):
        customers.append({"customer_id": f"c{c}", "acquired_at": "2025-01-01T00:00:00Z"})
        for k, amount in enumerate([40, 60, 50, 45, 55]):  # 5 orders a year, mean 50
            orders.append({"order_id": f"o{c}-{k}", "customer_id": f"c{c}",
                           "ordered_at": f"2026-{2 + 2 * k:02d}-{10 + c:02d}T10:00:00Z", "amount": amount})
    ws.write("customers", customers)
    ws.write("orders", orders)
    ws.load()
    got = ws.value("clv", "--from", "2026-01-01", "--to", "2026-12-31",
                   "--option", "model=simple", "--option", "lifespan_years=3")
    # AOV = 4 x 250 / 20 = 50; orders per customer = 20 / 4 = 5; 50 x 5 x 3 = 750
    assert got == pytest.approx(750.0)
    out = calc("clv", "--option", "model=simple", "--order_value", "50", "--orders_per_year", "5",
               "--lifespan_years", "3")
    assert out["value"] == pytest.approx(750.0)


# -- Complaint resolution: filed Monday, resolved Wednesday: 2 days (48 h) -----------------------------


def test_complaint_filed_monday_resolved_wednesday(ws):
    ws.write("tickets", [
        # a complaint ticket opened Monday 2026-10-05 09:00, resolved Wednesday 2026-10-07 09:00
        {"ticket_id": "T1", "created_at": "2026-10-05T09:00:00Z", "category": "complaint",
         "resolved_at": "2026-10-07T09:00:00Z"},
        # a ticket opened Sunday, the complaint filed (escalated) Monday 09:00, resolved Wednesday 09:00
        {"ticket_id": "T2", "created_at": "2026-10-04T15:00:00Z", "category": "shipping",
         "escalated_at": "2026-10-05T09:00:00Z", "resolved_at": "2026-10-07T09:00:00Z"},
        # not a complaint: not counted
        {"ticket_id": "T3", "created_at": "2026-10-01T09:00:00Z", "category": "technical",
         "resolved_at": "2026-10-09T09:00:00Z"},
    ])
    ws.load()
    row = only(ws.kpi("complaint_resolution_time", *OCT))
    # both complaints: Monday 09:00 -> Wednesday 09:00 = 48 h; mean 48 h over 2
    assert row["value"] == pytest.approx(48.0)
    assert row["denominator"] == 2
    assert row["unit"] == "hours"
    assert calc("complaint_resolution_time", "--total_hours", "48", "--complaints", "1")["value"] == \
        pytest.approx(48.0)
