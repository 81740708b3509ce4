"""`servicekpi calc`: a KPI's own finishing formula on plain totals (no events needed).

Every KPI with a `Calc` in the catalog has a hand-computed case here; errors exit 2
with a message that names what is wrong.
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from servicekpi.catalog import catalog
from servicekpi.cli.app import app


def run(*args):
    return CliRunner().invoke(app, ["calc", *args])


def calc(name, *args):
    r = run(name, *args, "--format", "json")
    assert r.exit_code == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"kpi", "value", "unit", "numerator", "denominator"}
    assert out["kpi"] == name
    return out


def inputs(**kw):
    out = []
    for k, v in kw.items():
        out += [f"--{k}", str(v)]
    return out


# (kpi, options, inputs, value, numerator, denominator); numerator/denominator None = not checked
CASES = [
    # -- tickets
    ("ticket_volume", {}, inputs(tickets=42), 42, None, None),                      # a count: 42
    ("avg_ticket_count", {}, inputs(tickets=70, days=7), 10.0, 70, 7),             # 70 / 7 days = 10
    ("avg_ticket_count", {"per": "week"}, inputs(tickets=70, days=7), 70.0, 70, 1),  # 70 / (7/7 weeks)
    # per month: 70 / (7 / 30.436875) = 304.36875 (a month = 365.2425 / 12 days)
    ("avg_ticket_count", {"per": "month"}, inputs(tickets=70, days=7), 304.36875, 70, None),
    ("first_response_time", {}, inputs(total_minutes=90, tickets=3), 30.0, 90, 3),    # 90 / 3 = 30 min
    ("avg_response_time", {}, inputs(total_minutes=50, replies=4), 12.5, 50, 4),      # 50 / 4 = 12.5 min
    ("avg_resolution_time", {}, inputs(total_hours=100, tickets=8), 12.5, 100, 8),    # 100 / 8 = 12.5 h
    ("complaint_resolution_time", {}, inputs(total_hours=96, complaints=2), 48.0, 96, 2),  # 96 / 2 = 48 h
    ("resolution_rate", {}, inputs(resolved=45, tickets=60), 75.0, 45, 60),          # 45 / 60 = 75%
    ("resolved_unresolved_ratio", {}, inputs(resolved=45, unresolved=15), 3.0, 45, 15),  # 45 / 15 = 3
    ("fcr_rate", {}, inputs(first_contact=30, total=40), 75.0, 30, 40),              # 30 / 40 = 75%
    ("single_agent_resolution_rate", {}, inputs(single_agent=18, resolved=24), 75.0, 18, 24),  # 75%
    ("interactions_per_ticket", {}, inputs(interactions=25, tickets=10), 2.5, 25, 10),  # 25 / 10 = 2.5
    ("channel_share", {}, inputs(channel_tickets=30, tickets=120), 25.0, 30, 120),   # 30 / 120 = 25%
    ("kb_helpfulness", {}, inputs(helpful=30, not_helpful=10), 75.0, 30, 40),        # 30 / (30 + 10)
    # 25 / (25 + 75) = 25%
    ("self_service_rate", {}, inputs(self_service_resolutions=25, tickets=75), 25.0, 25, 100),
    # -- calls
    ("calls_offered", {}, inputs(calls=300), 300, None, None),                       # a count: 300
    ("answered_call_rate", {}, inputs(answered=270, offered=300), 90.0, 270, 300),   # 270 / 300 = 90%
    ("abandonment_rate", {}, inputs(abandoned=30, offered=300), 10.0, 30, 300),      # 30 / 300 = 10%
    ("call_service_level", {}, inputs(within_threshold=240, offered=300), 80.0, 240, 300),  # 80%
    ("avg_wait_time", {}, inputs(wait_seconds=900, answered=20), 45.0, 900, 20),     # 900 / 20 = 45 s
    # (3000 + 600 + 900) / 10 = 450 s
    ("aht", {}, inputs(talk_seconds=3000, hold_seconds=600, wrap_seconds=900, calls=10), 450.0, 4500, 10),
    ("first_call_resolution", {}, inputs(resolved=70, answered=100), 70.0, 70, 100),  # 70%
    # 21,600 / 28,800 = 75%
    ("occupancy", {}, inputs(handle_seconds=21600, logged_in_seconds=28800), 75.0, 21600, 28800),
    # -- surveys
    ("csat", {}, inputs(satisfied=8, total=10), 80.0, 8, 10),                        # 8 / 10 = 80%
    ("csat_mean", {}, inputs(total_score=42, answers=10), 4.2, 42, 10),              # 42 / 10 = 4.2
    ("nps", {}, inputs(promoters=6, passives=3, detractors=1), 50.0, 5, 10),         # (6 - 1) / 10 = 50
    ("nps", {}, inputs(promoters=1, passives=1, detractors=3), -40.0, -2, 5),        # (1 - 3) / 5 = -40
    ("ces", {}, inputs(total_score=55, answers=10), 5.5, 55, 10),                    # 55 / 10 = 5.5
    ("ces_agree", {}, inputs(agree=3, answers=4), 75.0, 3, 4),                       # 3 / 4 = 75%
    # -- customers
    ("crr", {}, inputs(start=100, end=90, new=15), 75.0, 75, 100),                   # (90 - 15) / 100
    ("crr", {"method": "simple"}, inputs(start=100, end=90, new=15), 90.0, 90, 100),  # 90 / 100
    ("churn_rate", {}, inputs(lost=5, start=40), 12.5, 5, 40),                       # 5 / 40 = 12.5%
    ("new_customers", {}, inputs(new=12), 12, None, None),                           # a count: 12
    ("referral_rate", {}, inputs(referred=3, new=12), 25.0, 3, 12),                  # 3 / 12 = 25%
    ("cac", {}, inputs(spend=5000, new=40), 125.0, 5000, 40),                        # 5000 / 40 = 125
    ("repurchase_rate", {}, inputs(repeat_customers=30, customers=120), 25.0, 30, 120),  # 25%
    # clv: simple 50 x 5 x 3 = 750
    ("clv", {}, inputs(order_value=50, orders_per_year=5, lifespan_years=3), 750.0, None, None),
    ("clv", {"model": "simple"}, inputs(order_value=20, orders_per_year=6, lifespan_years=2.5), 300.0, None, None),
    # cac_adjusted: 300 x 4 - 200 = 1000
    ("clv", {"model": "cac_adjusted"}, inputs(annual_revenue=300, lifespan_years=4, cac=200), 1000.0, None, None),
    # historical: 1300 / 20 = 65
    ("clv", {"model": "historical"}, inputs(margin_total=1300, customers=20), 65.0, 1300, 20),
    # predictive: 0.5 x 80 x 24 = 960
    ("clv", {"model": "predictive"}, inputs(monthly_orders=0.5, order_value=80, lifespan_months=24), 960.0, None, None),
    ("engagement_score", {}, inputs(total_score=240, customers=4), 60.0, 240, 4),    # 240 / 4 = 60
    # -- quality
    ("iqs", {}, inputs(total_percent=255, reviews=3), 85.0, 255, 3),                 # 255 / 3 = 85%
    ("feedback_response_rate", {}, inputs(replied=9, received=12), 75.0, 9, 12),     # 9 / 12 = 75%
]


def _opts(options):
    out = []
    for k, v in options.items():
        out += ["--option", f"{k}={v}"]
    return out


@pytest.mark.parametrize("kpi, options, args, value, num, den", CASES,
                         ids=[f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items()) or 'default'}-{i}"
                              for i, c in enumerate(CASES)])
def test_calc(kpi, options, args, value, num, den):
    out = calc(kpi, *_opts(options), *args)
    assert out["value"] == pytest.approx(value)
    assert out["unit"] == catalog().kpis[kpi].unit
    if num is not None:
        assert out["numerator"] == pytest.approx(num)
    if den is not None:
        assert out["denominator"] == pytest.approx(den)


def test_every_kpi_with_a_calc_has_a_case():
    with_calc = {k for k, v in catalog().kpis.items() if v.calc is not None}
    assert with_calc == {c[0] for c in CASES}


def test_every_clv_model_has_a_case():
    models = {c[1].get("model", "simple") for c in CASES if c[0] == "clv"}
    assert models == {"simple", "cac_adjusted", "historical", "predictive"}


def test_counts_have_no_numerator_or_denominator():
    # counts are not ratios: numerator and denominator are null
    out = calc("ticket_volume", "--tickets", "7")
    assert (out["value"], out["numerator"], out["denominator"]) == (7, None, None)


def test_nps_numerator_is_promoters_minus_detractors():
    # 50 / 40 / 10: numerator 50 - 10 = 40, denominator 100 answers -> 40 points
    out = calc("nps", "--promoters", "50", "--passives", "40", "--detractors", "10")
    assert (out["value"], out["numerator"], out["denominator"], out["unit"]) == (40.0, 40, 100, "points")


def test_inputs_accept_equals_and_thousands_separators():
    # --spend=10,000 and --new 20,000 -> 10,000 / 20,000 = 0.5
    assert calc("cac", "--spend=10,000", "--new", "20,000")["value"] == pytest.approx(0.5)


def test_table_output_shows_value_and_fraction():
    r = run("csat", "--satisfied", "3", "--total", "4")
    assert r.exit_code == 0, r.stdout + r.stderr
    # 3 / 4 = 75%
    assert "75" in r.stdout and "percent" in r.stdout


# -- empty denominators: null, never 0, infinity or an error -------------------------------------------


@pytest.mark.parametrize("kpi, options, args", [
    ("csat", {}, inputs(satisfied=0, total=0)),
    ("csat_mean", {}, inputs(total_score=0, answers=0)),
    ("nps", {}, inputs(promoters=0, passives=0, detractors=0)),
    ("ces", {}, inputs(total_score=0, answers=0)),
    ("ces_agree", {}, inputs(agree=0, answers=0)),
    ("crr", {}, inputs(start=0, end=5, new=5)),
    ("crr", {"method": "simple"}, inputs(start=0, end=5, new=5)),
    ("churn_rate", {}, inputs(lost=0, start=0)),
    ("referral_rate", {}, inputs(referred=0, new=0)),
    ("cac", {}, inputs(spend=1000, new=0)),
    ("repurchase_rate", {}, inputs(repeat_customers=0, customers=0)),
    ("clv", {"model": "historical"}, inputs(margin_total=0, customers=0)),
    ("engagement_score", {}, inputs(total_score=0, customers=0)),
    ("iqs", {}, inputs(total_percent=0, reviews=0)),
    ("feedback_response_rate", {}, inputs(replied=0, received=0)),
    ("resolution_rate", {}, inputs(resolved=0, tickets=0)),
    ("resolved_unresolved_ratio", {}, inputs(resolved=5, unresolved=0)),
    ("avg_ticket_count", {}, inputs(tickets=5, days=0)),
    ("first_response_time", {}, inputs(total_minutes=0, tickets=0)),
    ("avg_resolution_time", {}, inputs(total_hours=0, tickets=0)),
    ("fcr_rate", {}, inputs(first_contact=0, total=0)),
    ("kb_helpfulness", {}, inputs(helpful=0, not_helpful=0)),
    ("self_service_rate", {}, inputs(self_service_resolutions=0, tickets=0)),
    ("abandonment_rate", {}, inputs(abandoned=0, offered=0)),
    ("avg_wait_time", {}, inputs(wait_seconds=0, answered=0)),
    ("aht", {}, inputs(talk_seconds=0, hold_seconds=0, wrap_seconds=0, calls=0)),
    ("occupancy", {}, inputs(handle_seconds=100, logged_in_seconds=0)),
])
def test_empty_denominator_gives_null(kpi, options, args):
    assert calc(kpi, *_opts(options), *args)["value"] is None


def test_zero_numerator_with_a_denominator_is_zero():
    # 0 satisfied of 4 answers is a real 0%, not null
    assert calc("csat", "--satisfied", "0", "--total", "4")["value"] == 0.0


# -- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typo, near", [("npss", "nps"), ("csta", "csat"), ("churn_rat", "churn_rate")])
def test_unknown_kpi_exits_2_and_suggests_the_nearest(typo, near):
    r = run(typo, "--x", "1")
    assert r.exit_code == 2
    assert typo in r.stderr
    assert "did you mean" in r.stderr and near in r.stderr


def test_kpi_without_calc_is_refused():
    # backlog is a state at the period end: it has no calc form
    r = run("backlog", "--tickets", "3")
    assert r.exit_code == 2
    assert "backlog" in r.stderr


@pytest.mark.parametrize("args, missing", [
    (["nps", "--promoters", "5", "--passives", "3"], ["--detractors"]),
    (["csat", "--total", "10"], ["--satisfied"]),
    (["crr", "--start", "100"], ["--end", "--new"]),
    (["clv", "--option", "model=historical", "--margin_total", "100"], ["--customers"]),
    (["clv", "--order_value", "50"], ["--orders_per_year", "--lifespan_years"]),
    (["aht", "--talk_seconds", "10", "--calls", "1"], ["--hold_seconds", "--wrap_seconds"]),
])
def test_missing_input_exits_2_and_names_it(args, missing):
    r = run(*args)
    assert r.exit_code == 2
    for name in missing:
        assert name in r.stderr


def test_unknown_input_exits_2():
    r = run("csat", "--satisfied", "1", "--total", "2", "--totl", "3")
    assert r.exit_code == 2
    assert "totl" in r.stderr


def test_non_numeric_input_exits_2():
    r = run("csat", "--satisfied", "many", "--total", "2")
    assert r.exit_code == 2
    assert "many" in r.stderr


def test_unknown_option_exits_2():
    r = run("crr", "--option", "methd=simple", "--start", "1", "--end", "1", "--new", "0")
    assert r.exit_code == 2
    assert "methd" in r.stderr and "method" in r.stderr


def test_bad_option_value_exits_2():
    r = run("clv", "--option", "model=magic", "--order_value", "1")
    assert r.exit_code == 2
    assert "magic" in r.stderr
