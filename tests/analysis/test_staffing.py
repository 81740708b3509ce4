"""Erlang C and Erlang A against the reference case, an Erlang B table, edge cases and a simulation."""
import time

import pytest
from queue_sim import simulate

from servicekpi.analysis import staffing as S

# 100 calls per 30 min at AHT 180 s: A = 100 * 180 / 1800 = 10 Erlangs (in floats 9.999999999999998
# when computed as an arrival rate over a service rate: (100 / 1800) / (1 / 180))
A = S.offered_load(100, 1800, 180)


def test_reference_case_14_agents():
    # the fewest agents with SL >= 80% in 20 s; C(14, 10) = 0.17413, SL = 1 - C e^{-(14-10)20/180} = 0.88835,
    # ASA = C * 180 / (14 - 10) = 7.836 s, occupancy 10 / 14 = 71.43%
    r = S.required(A, 180, 20, 0.80, 1.0)
    assert r.model == "erlang_c" and r.agents == 14
    assert r.wait_probability == pytest.approx(0.17413, abs=5e-6)
    assert r.service_level == pytest.approx(0.88835, abs=5e-6)
    assert r.asa_seconds == pytest.approx(7.836, abs=5e-4)
    assert r.occupancy == pytest.approx(10 / 14)


def test_13_agents_miss_the_target():
    # C(13, 10) = 0.2853, SL = 1 - 0.2853 e^{-60/180} = 79.56%, ASA = 0.2853 * 180 / 3 = 17.12 s, occupancy 10/13
    r = S.erlang_c(13, A, 180, 20)
    assert r.wait_probability == pytest.approx(0.2853, abs=5e-5)
    assert r.service_level == pytest.approx(0.7956, abs=5e-5)
    assert r.asa_seconds == pytest.approx(17.12, abs=5e-3)
    assert r.occupancy == pytest.approx(0.769, abs=5e-4)


@pytest.mark.parametrize("trunks,erlangs", [(10, 4.46), (20, 12.03), (50, 37.90), (100, 84.06)])
def test_erlang_b_table_at_one_percent_blocking(trunks, erlangs):
    # published Erlang B table: the load that gives 1% blocking; +-0.005 E brackets it
    assert S.erlang_b(trunks, erlangs - 0.01) < 0.01 < S.erlang_b(trunks, erlangs + 0.01)
    assert S.erlang_b(trunks, erlangs) == pytest.approx(0.01, rel=0.01)


def test_erlang_b_small_by_hand():
    # B(1, 1) = 1 / 2; B(2, 1) = (1 * 1/2) / (2 + 1/2) = 0.2
    assert S.erlang_b(1, 1.0) == pytest.approx(0.5)
    assert S.erlang_b(2, 1.0) == pytest.approx(0.2)


def test_erlang_a_reference():
    # 12 agents, mean patience 120 s, same 10 Erlangs (three independent computations in the notes agree)
    r = S.erlang_a(12, A, 180, 20, 120)
    assert r.model == "erlang_a"
    assert r.wait_probability == pytest.approx(0.2798, abs=5e-5)
    assert r.abandon_probability == pytest.approx(0.0616, abs=5e-5)
    assert r.service_level == pytest.approx(0.8256, abs=5e-5)
    assert r.asa_seconds == pytest.approx(6.34, abs=0.01)      # exact 6.335
    # occupancy counts answered calls only: 10 * (1 - 0.0616) / 12
    assert r.occupancy == pytest.approx(10 * (1 - r.abandon_probability) / 12)
    assert r.service_level_answered == pytest.approx(r.service_level / (1 - r.abandon_probability))


def test_erlang_a_abandonment_matches_littles_law():
    # P(abandon) = theta * E[queue] / lambda, from the birth-death distribution directly
    import numpy as np
    n, mu, theta = 12, 1 / 180, 1 / 120
    lam = A * mu
    p = S.erlang_b(n, A) * S._tail(n, lam, mu, theta)
    eq = float((np.arange(len(p)) * p).sum()) / (1 + float(p[1:].sum()))
    assert S.erlang_a(n, A, 180, 20, 120).abandon_probability == pytest.approx(theta * eq / lam, rel=1e-9)


def test_erlang_a_long_patience_tends_to_erlang_c():
    c, a = S.erlang_c(14, A, 180, 20), S.erlang_a(14, A, 180, 20, 1e7)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, abs=1e-2)


def test_load_at_capacity_is_refused_despite_float_rounding():
    assert (100 / 1800) / (1 / 180) == 9.999999999999998
    for a in (A, (100 / 1800) / (1 / 180), 10.0, 10.5):
        with pytest.raises(S.StaffingError, match="at or above capacity"):
            S.erlang_c(10, a, 180, 20)


def test_zero_arrivals_need_no_agents():
    r = S.required(0.0, 180, 20, 0.8, 0.85)
    assert r.agents == 0 and r.service_level == 1.0 and r.occupancy == 0.0
    assert S.required(0.0, 180, 20, 0.8, 0.85, patience=60).agents == 0


def test_occupancy_cap_can_bind():
    # SL alone needs 14 agents (71.4% busy); a 70% cap needs ceil(10 / 0.7) = 15
    assert S.required(A, 180, 20, 0.8, 0.70).agents == 15


def test_unreachable_target():
    with pytest.raises(S.StaffingError, match="100%"):
        S.required(A, 180, 20, 1.0, 1.0)


@pytest.mark.parametrize("a", [1.0, 5.0, 25.0, 100.0, 400.0])
def test_required_is_the_fewest(a):
    r = S.required(a, 180, 20, 0.8, 1.0)
    assert r.service_level >= 0.8
    if S.stable(r.agents - 1, a):
        assert S.erlang_c(r.agents - 1, a, 180, 20).service_level < 0.8


def test_two_thousand_erlangs_in_milliseconds():
    t = time.perf_counter()
    r = S.required(2000.0, 180, 20, 0.8, 1.0)
    took = time.perf_counter() - t
    assert 2000 < r.agents < 2100 and r.service_level >= 0.8
    assert took < 0.05, took


def test_shrinkage():
    # 14 agents at 30% shrinkage: 14 / 0.7 = 20 scheduled; 0% -> 14
    assert S.scheduled(14, 0.30) == 20 and S.scheduled(14, 0.0) == 14
    assert S.scheduled(14, 0.25) == 19          # 18.67 -> 19


def test_simulation_reproduces_erlang_c_service_level():
    # 300,000 seeded calls at 14 agents: the simulated SL within 1.5 pp of the prediction 88.8%
    sim = simulate(14, 100 / 1800, 180, 20, 300_000, seed=11)
    assert sim["service_level"] == pytest.approx(S.required(A, 180, 20, 0.8, 1.0).service_level, abs=0.015)
    assert sim["abandon_probability"] == 0.0


def test_simulation_reproduces_erlang_a():
    sim = simulate(12, 100 / 1800, 180, 20, 300_000, patience=120, seed=5)
    r = S.erlang_a(12, A, 180, 20, 120)
    assert sim["service_level"] == pytest.approx(r.service_level, abs=0.015)
    assert sim["abandon_probability"] == pytest.approx(r.abandon_probability, abs=0.01)


def test_absurd_load_is_refused_not_computed():
    # 1e12 calls per 30 min at 180 s = 1e11 Erlangs: refused at once (a request must stay bounded)
    t = time.perf_counter()
    with pytest.raises(S.StaffingError, match="beyond the 100,000"):
        S.plan(1e12, 1800, 180, 20, 0.8)
    assert time.perf_counter() - t < 0.1


def test_long_threshold_short_patience_is_fast_and_consistent():
    # threshold 3600 s, patience 30 s: theta * t = 120, so everyone answered is answered within t
    t = time.perf_counter()
    r = S.erlang_a(9, A, 180, 3600, 30)
    assert time.perf_counter() - t < 0.5
    assert r.service_level == pytest.approx(1 - r.abandon_probability, abs=1e-12)
    assert r.service_level_answered == pytest.approx(1.0)
