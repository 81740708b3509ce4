"""Customer and revenue KPIs (kpis.md "Customers and revenue").

S = active at period start, E = active at period end, N = acquired in the period,
L = active at start and churned in the period. Every dataset goes through import
and `kpi`; the expected numbers are worked out by hand in the comments.
"""
from __future__ import annotations

import re

import pytest

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
YEAR_2026 = ("--from", "2026-01-01", "--to", "2026-12-31")


def cust(cid, acquired, churned=None, **extra):
    row = {"customer_id": cid, "acquired_at": acquired, "churned_at": churned}
    row.update(extra)
    return row


def only(rows):
    assert len(rows) == 1, rows
    return rows[0]


# October 2026 = [2026-10-01T00:00Z, 2026-11-01T00:00Z)
CUSTOMERS = [
    cust("c1", "2026-01-01T00:00:00Z", tier="gold"),                          # S, E
    cust("c2", "2026-02-01T00:00:00Z", "2026-10-15T12:00:00Z", tier="gold"),  # S, L
    cust("c3", "2026-03-01T00:00:00Z", "2026-09-01T00:00:00Z"),               # gone before October
    cust("c4", "2026-10-05T08:00:00Z", referred_by="c1", tier="gold"),        # N, E, referred
    cust("c5", "2026-10-10T08:00:00Z", "2026-10-20T08:00:00Z"),               # N, not E, not L
    cust("c6", "2026-04-01T00:00:00Z", "2026-11-05T00:00:00Z"),               # S, E (churns after)
    cust("c7", "2026-11-10T00:00:00Z"),                                       # after October
    cust("c8", "2026-05-01T00:00:00Z", "2026-10-01T00:00:00Z"),               # S (churned_at = start), L
    cust("c9", "2026-10-01T00:00:00Z"),                                       # acquired at start: N, E, not S
]
# S = c1 c2 c6 c8 = 4; E = c1 c4 c6 c9 = 4; N = c4 c5 c9 = 3; L = c2 c8 = 2; referred N: c4 = 1


@pytest.mark.parametrize("kpi, options, value, num, den", [
    # crr = (E - N) / S = (4 - 3) / 4 = 25%
    ("crr", (), 25.0, 1, 4),
    # crr simple = E / S = 4 / 4 = 100%
    ("crr", ("--option", "method=simple"), 100.0, 4, 4),
    # churn_rate = L / S = 2 / 4 = 50%
    ("churn_rate", (), 50.0, 2, 4),
    # referral_rate = referred among N / N = 1 / 3
    ("referral_rate", (), 100 / 3, 1, 3),
])
def test_customer_ratios_october(ws, kpi, options, value, num, den):
    ws.write("customers", CUSTOMERS)
    ws.load()
    row = only(ws.kpi(kpi, *OCT, *options))
    assert row["value"] == pytest.approx(value)
    assert (row["numerator"], row["denominator"]) == (num, den)
    assert row["unit"] == "percent"


def test_new_customers_october(ws):
    ws.write("customers", CUSTOMERS)
    ws.load()
    row = only(ws.kpi("new_customers", *OCT))
    # N = c4, c5, c9 = 3 (c7 is November)
    assert row["value"] == 3
    assert row["unit"] == "count"
    assert row["numerator"] is None and row["denominator"] is None


def test_new_customers_by_month_counts_zero(ws):
    ws.write("customers", CUSTOMERS)
    ws.load()
    got = ws.kpi("new_customers", "--by", "month", "--from", "2026-09-01", "--to", "2026-12-31")
    # Sep 0, Oct 3 (c4 c5 c9), Nov 1 (c7), Dec 0 (counts with no events are 0)
    assert [(r["period_start"], r["value"]) for r in got] == [
        ("2026-09-01", 0), ("2026-10-01", 3), ("2026-11-01", 1), ("2026-12-01", 0)]


def test_crr_and_churn_by_month(ws):
    ws.write("customers", CUSTOMERS)
    ws.load()
    got = {(r["kpi"], r["period_start"]): r for r in
           ws.kpi("crr", "churn_rate", "--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")}
    # November: S = active at Nov 1 = c1 c4 c6 c9 = 4; E (Dec 1) = c1 c4 c9 c7 = 4; N = c7 = 1;
    # L = c6 = 1 -> crr = (4 - 1) / 4 = 75%; churn = 1 / 4 = 25%
    assert got[("crr", "2026-11-01")]["value"] == pytest.approx(75.0)
    assert got[("churn_rate", "2026-11-01")]["value"] == pytest.approx(25.0)
    # October as above: crr 25%, churn 50%
    assert got[("crr", "2026-10-01")]["value"] == pytest.approx(25.0)
    assert got[("churn_rate", "2026-10-01")]["value"] == pytest.approx(50.0)


def test_churn_after_as_of_has_not_happened(ws):
    ws.write("customers", CUSTOMERS)
    ws.load()
    # as of 2026-10-16: c5's churn (10-20) has not happened yet, c2's (10-15 12:00) has.
    # The range ends 10-15 (inclusive): period [10-01, 10-16).
    # S = c1 c2 c6 c8 = 4; L = c8 (10-01) + c2 (10-15 12:00) = 2 -> churn 50%
    # E (10-16) = c1 c4 c5 c6 c9 = 5; N = c4 c5 c9 = 3 -> crr (5 - 3) / 4 = 50%
    rng = ("--from", "2026-10-01", "--to", "2026-10-15")
    assert ws.value("churn_rate", *rng, asof="2026-10-16T00:00:00Z") == pytest.approx(50.0)
    assert ws.value("crr", *rng, asof="2026-10-16T00:00:00Z") == pytest.approx(50.0)
    # as of 2026-10-15T00:00Z c2 has not churned either: L = c8 = 1 -> 25%
    assert ws.value("churn_rate", *rng, asof="2026-10-15T00:00:00Z") == pytest.approx(25.0)


def test_customer_ratios_by_tier(ws):
    ws.write("customers", CUSTOMERS)
    ws.load()
    got = ws.kpi("churn_rate", *OCT, "--dim", "tier")
    # gold: S = c1 c2 = 2, L = c2 = 1 -> 50%; no tier: S = c6 c8 = 2, L = c8 = 1 -> 50%
    assert [(r["tier"], r["numerator"], r["denominator"]) for r in got] == [("gold", 1, 2), (None, 1, 2)]


def test_customer_ratios_empty_denominator_is_null(ws):
    # nobody active before 2026-10-01 and nobody acquired in September
    ws.write("customers", [cust("x", "2026-10-05T00:00:00Z")])
    ws.load()
    sep = ("--from", "2026-09-01", "--to", "2026-09-30")
    assert ws.value("crr", *sep) is None         # S = 0
    assert ws.value("churn_rate", *sep) is None  # S = 0
    assert ws.value("referral_rate", *sep) is None  # N = 0
    # before the first customer of the store: no data, not 0 (issue 13 item 2)
    assert ws.value("new_customers", *sep) is None


# -- cac -----------------------------------------------------------------------------------------


def spend(start, end, amount, kind="marketing"):
    return {"period_start": start, "period_end": end, "amount": amount, "kind": kind}


def test_cac_spreads_spend_over_its_days(ws):
    ws.write("customers", CUSTOMERS)
    ws.write("spend", [spend("2026-10-01", "2026-10-31", 3100)])
    ws.load()
    row = only(ws.kpi("cac", "--from", "2026-10-01", "--to", "2026-10-15"))
    # spend 3100 over 31 days = 100/day; 10-01..10-15 = 15 days -> 1500
    # N in [10-01, 10-16) = c4 c5 c9 = 3 -> 1500 / 3 = 500
    assert row["numerator"] == pytest.approx(1500)
    assert row["denominator"] == 3
    assert row["value"] == pytest.approx(500.0)
    assert row["unit"] == "currency"


def test_cac_whole_month_and_both_kinds(ws):
    ws.write("customers", CUSTOMERS)
    ws.write("spend", [spend("2026-10-01", "2026-10-31", 3100),
                       spend("2026-10-01", "2026-10-31", 900, "sales"),
                       spend("2026-09-01", "2026-09-30", 5000)])  # September: not October's
    ws.load()
    row = only(ws.kpi("cac", *OCT))
    # (3100 + 900) / N (c4 c5 c9 = 3) = 4000 / 3
    assert row["numerator"] == pytest.approx(4000)
    assert row["value"] == pytest.approx(4000 / 3)


def test_cac_spend_across_months(ws):
    ws.write("customers", CUSTOMERS)
    ws.write("spend", [spend("2026-10-01", "2026-11-30", 6100)])
    ws.load()
    got = ws.kpi("cac", "--by", "month", "--from", "2026-10-01", "--to", "2026-11-30")
    # 6100 over 61 days = 100/day: October 31 days = 3100 / N 3; November 30 days = 3000 / N (c7) 1
    assert [(r["period_start"], r["numerator"], r["denominator"]) for r in got] == [
        ("2026-10-01", pytest.approx(3100), 3), ("2026-11-01", pytest.approx(3000), 1)]
    assert got[0]["value"] == pytest.approx(3100 / 3)
    assert got[1]["value"] == pytest.approx(3000)


def test_cac_range_inside_a_spend_row(ws):
    ws.write("customers", CUSTOMERS)
    ws.write("spend", [spend("2026-10-01", "2026-10-31", 3100)])
    ws.load()
    row = only(ws.kpi("cac", "--from", "2026-10-05", "--to", "2026-10-20"))
    # 100/day x 16 days (10-05..10-20) = 1600; N in [10-05, 10-21) = c4 (10-05), c5 (10-10) = 2 -> 800
    assert row["numerator"] == pytest.approx(1600)
    assert row["denominator"] == 2
    assert row["value"] == pytest.approx(800.0)


def test_cac_without_new_customers_is_null(ws):
    ws.write("customers", CUSTOMERS)
    ws.write("spend", [spend("2026-12-01", "2026-12-31", 1000)])
    ws.load()
    row = only(ws.kpi("cac", "--from", "2026-12-01", "--to", "2026-12-31"))
    # spend 1000, N = 0 -> null, never infinity or an error
    assert row["value"] is None
    assert row["numerator"] == pytest.approx(1000)


# -- repurchase_rate -------------------------------------------------------------------------------


def order(oid, cid, at, amount=10, margin=None):
    return {"order_id": oid, "customer_id": cid, "ordered_at": at, "amount": amount, "gross_margin": margin}


ORDERS = [
    order("a1", "A", "2026-09-10T10:00:00Z"), order("a2", "A", "2026-10-05T10:00:00Z"),  # earlier before Oct
    order("b1", "B", "2026-10-02T10:00:00Z"), order("b2", "B", "2026-10-20T10:00:00Z"),  # earlier within Oct
    order("c1", "C", "2026-10-03T10:00:00Z"),                                            # first order only
    order("d1", "D", "2026-08-01T10:00:00Z"),                                            # no October order
    order("e1", "E", "2026-10-07T10:00:00Z"), order("e2", "E", "2026-10-07T10:00:00Z"),  # same instant
]


@pytest.mark.parametrize("options, num", [
    # customers with an October order: A B C E = 4; repeats: A (a1 earlier), B (b1 earlier than b2) = 2;
    # E's two orders share an instant, neither is strictly earlier -> 2 / 4 = 50%
    ((), 2),
    # prior=before_period: only A has an order before 2026-10-01 -> 1 / 4 = 25%
    (("--option", "prior=before_period"), 1),
])
def test_repurchase_rate(ws, options, num):
    ws.write("orders", ORDERS)
    ws.load()
    row = only(ws.kpi("repurchase_rate", *OCT, *options))
    assert (row["numerator"], row["denominator"]) == (num, 4)
    assert row["value"] == pytest.approx(100 * num / 4)
    assert row["unit"] == "percent"


def test_repurchase_rate_by_month(ws):
    ws.write("orders", ORDERS)
    ws.load()
    got = ws.kpi("repurchase_rate", "--by", "month", "--from", "2026-08-01", "--to", "2026-11-30")
    # Aug: D first order -> 0/1 = 0; Sep: A first order -> 0/1 = 0; Oct 2/4 = 50; Nov: none -> null
    assert [(r["period_start"], r["value"]) for r in got] == [
        ("2026-08-01", 0.0), ("2026-09-01", 0.0), ("2026-10-01", 50.0), ("2026-11-01", None)]


# -- clv -----------------------------------------------------------------------------------------

# 12 months ending at the end of 2026: [2026-01-01, 2027-01-01)
CLV_CUSTOMERS = [
    cust("X", "2025-01-01T00:00:00Z"),                          # active at 2026-01-01
    cust("Y", "2025-06-01T00:00:00Z"),                          # active
    cust("Z", "2025-03-01T00:00:00Z", "2026-06-01T00:00:00Z"),  # active, churns in the 12 months
    cust("W", "2025-02-01T00:00:00Z"),                          # active
    cust("V", "2026-05-01T00:00:00Z"),                          # acquired in the 12 months
    cust("U", "2024-01-01T00:00:00Z", "2025-12-01T00:00:00Z"),  # gone before the 12 months
]
# S12 = X Y Z W = 4; L12 = Z = 1 -> annual churn 1/4 -> lifespan 4 years; N12 = V = 1
CLV_ORDERS = [
    order("x0", "X", "2025-12-15T00:00:00Z", 1000, 0.5),  # before the 12 months: ignored
    order("x1", "X", "2026-02-01T00:00:00Z", 100, 0.5),   # margin 50
    order("x2", "X", "2026-07-01T00:00:00Z", 200, 0.25),  # margin 50
    order("y1", "Y", "2026-03-01T00:00:00Z", 60, 0.5),    # margin 30
    order("y2", "Y", "2026-09-01T00:00:00Z", 40),         # no margin: left out of historical
]
# revenue = 400, orders = 4, buyers = X Y = 2 -> AOV 100, orders per customer per year 2,
# annual revenue per customer 200; margin total = 130
CLV_SPEND = [spend("2026-01-01", "2026-12-31", 200)]  # CAC = 200 / N12 (1) = 200


@pytest.mark.parametrize("options, value", [
    # simple: 100 x 2 x 4 = 800
    ((), 800.0),
    (("--option", "model=simple"), 800.0),
    # simple with lifespan_years=3: 100 x 2 x 3 = 600
    (("--option", "lifespan_years=3"), 600.0),
    # cac_adjusted: 200 x 4 - 200 = 600
    (("--option", "model=cac_adjusted"), 600.0),
    # cac_adjusted, lifespan 1.5: 200 x 1.5 - 200 = 100
    (("--option", "model=cac_adjusted", "--option", "lifespan_years=1.5"), 100.0),
    # predictive: monthly orders 2/12 x AOV 100 x 48 months = 800
    (("--option", "model=predictive"), 800.0),
    # predictive, lifespan 1.5 years = 18 months: 2/12 x 100 x 18 = 300
    (("--option", "model=predictive", "--option", "lifespan_years=1.5"), 300.0),
    # historical: (50 + 50 + 30 + Y's unmargined 40 left out) / 2 customers with orders = 65
    (("--option", "model=historical"), 65.0),
])
def test_clv_models(ws, options, value):
    ws.write("customers", CLV_CUSTOMERS)
    ws.write("orders", CLV_ORDERS)
    ws.write("spend", CLV_SPEND)
    ws.load()
    row = only(ws.kpi("clv", *YEAR_2026, *options))
    assert row["value"] == pytest.approx(value)
    assert row["unit"] == "currency"


def test_clv_cac_adjusted_with_spend_in_several_rows(ws):
    ws.write("customers", CLV_CUSTOMERS)
    ws.write("orders", CLV_ORDERS)
    # the same 200 of spend, in two half-year rows and a row before the 12 months
    ws.write("spend", [spend("2026-01-01", "2026-06-30", 120), spend("2026-07-01", "2026-12-31", 80, "sales"),
                       spend("2025-01-01", "2025-12-31", 5000)])
    ws.load()
    # CAC over the 12 months = (120 + 80) / N12 (V) = 200; 200 x 4 - 200 = 600
    assert ws.value("clv", *YEAR_2026, "--option", "model=cac_adjusted") == pytest.approx(600.0)


def test_clv_historical_notes_orders_without_margin(ws):
    ws.write("customers", CLV_CUSTOMERS)
    ws.write("orders", CLV_ORDERS)
    ws.load()
    row = only(ws.kpi("clv", *YEAR_2026, "--option", "model=historical"))
    # margin total 130 over 2 customers with orders; y2 (1 order) has no margin
    assert (row["numerator"], row["denominator"]) == (pytest.approx(130), 2)
    assert re.search(r"\b1\b", row.get("note") or ""), row


def test_clv_zero_churn_gives_null(ws):
    ws.write("customers", [cust("X", "2025-01-01T00:00:00Z"), cust("Y", "2025-06-01T00:00:00Z")])
    ws.write("orders", CLV_ORDERS)
    ws.write("spend", CLV_SPEND)
    ws.load()
    # nobody churned in the 12 months: lifespan 1 / 0 has no finite value -> null, never infinity
    for model in ("simple", "cac_adjusted", "predictive"):
        assert ws.value("clv", *YEAR_2026, "--option", f"model={model}") is None, model
    # an explicit lifespan still gives a number: 100 x 2 x 2 = 400
    assert ws.value("clv", *YEAR_2026, "--option", "lifespan_years=2") == pytest.approx(400.0)


def test_clv_uses_the_12_months_ending_at_the_period_end(ws):
    ws.write("customers", [cust("P", "2024-01-01T00:00:00Z"), cust("Q", "2024-01-01T00:00:00Z")])
    ws.write("orders", [
        order("o1", "P", "2025-09-15T00:00:00Z", 1000),  # before 2025-10-01: outside
        order("o2", "P", "2025-11-01T00:00:00Z", 30),    # inside
        order("o3", "P", "2026-08-01T00:00:00Z", 50),    # inside
        order("o4", "Q", "2026-09-30T23:00:00Z", 40),    # inside
        order("o5", "Q", "2026-10-15T00:00:00Z", 5000),  # after the period end: outside
    ])
    ws.load()
    # Q3 2026 ends 2026-10-01 -> window [2025-10-01, 2026-10-01): orders 30 50 40
    # AOV = 120 / 3 = 40; orders per customer = 3 / 2 = 1.5; lifespan 2 -> 40 x 1.5 x 2 = 120
    got = ws.value("clv", "--from", "2026-07-01", "--to", "2026-09-30", "--option", "lifespan_years=2")
    assert got == pytest.approx(120.0)


# -- engagement_score --------------------------------------------------------------------------------

ENG_CUSTOMERS = [
    cust("A", "2026-01-01T00:00:00Z"),
    cust("B", "2026-02-01T00:00:00Z"),
    cust("C", "2026-03-01T00:00:00Z", "2026-10-20T00:00:00Z"),  # churns during October: still active in it
    cust("D", "2026-03-01T00:00:00Z", "2026-09-20T00:00:00Z"),  # gone before October
]


def act(cid, at, kind, value=None):
    return {"customer_id": cid, "occurred_at": at, "kind": kind, "value": value}


ENG_ACTIVITY = [
    act("A", "2026-10-02T10:00:00Z", "login", 4), act("A", "2026-10-03T10:00:00Z", "login", 6),
    act("A", "2026-10-04T10:00:00Z", "feature_use", 2),
    act("B", "2026-10-05T10:00:00Z", "login", 5),
    act("C", "2026-10-06T10:00:00Z", "feature_use"), act("C", "2026-10-07T10:00:00Z", "feature_use"),
    act("A", "2026-09-05T10:00:00Z", "login", 100),   # September: not October's
    act("D", "2026-09-05T10:00:00Z", "feature_use", 9),
]
# October values (value defaults to 1):
#   login:       A 10, B 5, C 0 -> p90 of [0, 5, 10] = 5 + 0.8 x 5 = 9
#   feature_use: A 2, B 0, C 2  -> p90 of [0, 2, 2] = 2
# shares min(1, v / p90): A login 1, feature 1; B login 5/9, feature 0; C login 0, feature 1


def test_engagement_score_default_weights(ws):
    ws.write("customers", ENG_CUSTOMERS)
    ws.write("activity", ENG_ACTIVITY)
    ws.load()
    row = only(ws.kpi("engagement_score", *OCT))
    # A = 100 x (1 + 1) / 2 = 100; B = 100 x (5/9) / 2 = 250/9; C = 100 x 1 / 2 = 50
    # mean = (100 + 250/9 + 50) / 3 = 1600/27 = 59.259...
    assert row["value"] == pytest.approx(1600 / 27)
    assert row["denominator"] == 3
    assert row["unit"] == "score"


def test_engagement_score_config_weights(ws, tmp_path):
    cfg = tmp_path / "w.toml"
    cfg.write_text("[engagement.weights]\nlogin = 2\nfeature_use = 1\n", encoding="utf-8")
    ws.write("customers", ENG_CUSTOMERS)
    ws.write("activity", ENG_ACTIVITY)
    ws.load()
    row = only(ws.kpi("engagement_score", *OCT, "--config", str(cfg)))
    # A = 100 x (2x1 + 1x1) / 3 = 100; B = 100 x (2 x 5/9) / 3 = 1000/27; C = 100 x 1 / 3 = 100/3
    # mean = (2700/27 + 1000/27 + 900/27) / 3 = 4600/81 = 56.79...
    assert row["value"] == pytest.approx(4600 / 81)


def test_engagement_score_zero_weight_drops_a_kind(ws, tmp_path):
    cfg = tmp_path / "w.toml"
    cfg.write_text("[engagement.weights]\nlogin = 1\nfeature_use = 0\n", encoding="utf-8")
    ws.write("customers", ENG_CUSTOMERS)
    ws.write("activity", ENG_ACTIVITY)
    ws.load()
    # only login counts: A 100, B 500/9, C 0 -> (100 + 500/9) / 3 = 1400/27
    assert ws.value("engagement_score", *OCT, "--config", str(cfg)) == pytest.approx(1400 / 27)
