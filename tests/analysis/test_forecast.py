"""Forecast candidates, the rolling-origin backtest and the model rule, on series with known seasonality."""
import numpy as np
import pytest

from servicekpi.analysis import forecast as F


def weekly_series(n=364, seed=3):
    """Weekly pattern + slow trend + noise: ETS/Theta should beat seasonal naive, which copies the noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.05 * t + 25 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 6, n)


def test_seasonal_naive_by_hand():
    y = np.array([1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17], dtype=float)
    f = F.seasonal_naive(y, 9, 7)
    # repeats the last week, then wraps: 11..17, 11, 12
    assert f["mean"].tolist() == [11, 12, 13, 14, 15, 16, 17, 11, 12]
    # seasonal differences are all 10 -> sigma 10; step 1..7 spread 10, step 8+ 10 * sqrt(2)
    assert f["hi-80"][0] == pytest.approx(11 + 1.2815515655 * 10)
    assert f["hi-95"][7] == pytest.approx(11 + 1.959963985 * 10 * np.sqrt(2))


def test_mase_scale_by_hand():
    # |y[t] - y[t-1]| = 1, 2, 3 -> mean 2
    assert F.mase_scale(np.array([0.0, 1, 3, 6]), 1) == 2.0
    assert F.mase_scale(np.array([5.0, 5, 5]), 1) is None        # a flat history has no scale


@pytest.mark.parametrize("scores,chosen", [
    ({"seasonal_naive": {"mase": 1.0}, "ets": {"mase": 0.9}, "theta": {"mase": 0.95}}, "ets"),       # 0.9 <= 0.9
    ({"seasonal_naive": {"mase": 1.0}, "ets": {"mase": 0.91}, "theta": {"mase": 0.95}}, "seasonal_naive"),
    ({"seasonal_naive": {"mase": 1.0}, "ets": {"mase": 0.8}, "theta": {"mase": 0.7}}, "theta"),
    ({"seasonal_naive": {"mase": None}, "ets": {"mase": 0.5}}, "seasonal_naive"),
])
def test_model_rule(scores, chosen):
    assert F.choose(scores) == chosen


def test_backtest_reproducible_and_beats_seasonal_naive():
    y = weekly_series()
    first = F.backtest(y, 28, 7)
    assert first == F.backtest(y, 28, 7)
    assert first["seasonal_naive"]["folds"] == 3
    best = min(first["ets"]["mase"], first["theta"]["mase"])
    assert best <= 0.9 * first["seasonal_naive"]["mase"], first
    f = F.forecast_series(y, "day", 28)
    assert f["model"] in ("ets", "theta") and f["model"] == F.choose(first)
    assert len(f["mean"]) == 28
    assert np.all(f["lo95"] <= f["lo80"]) and np.all(f["lo80"] <= f["mean"]) and np.all(f["mean"] <= f["hi80"])
    assert np.all(f["hi80"] <= f["hi95"])
    # the weekly shape carries into the forecast: the peak weekday stays the peak
    assert int(np.argmax(f["mean"][:7])) == int(np.argmax(y[-7:]))


def test_pure_weekly_pattern_keeps_seasonal_naive():
    # a seasonal random walk y[t] = y[t-7] + noise: seasonal naive is the best forecast, so no model beats
    # it by 10% and seasonal naive is used and named
    rng = np.random.default_rng(1)
    y = np.zeros(280)
    y[:7] = [90, 80, 70, 70, 60, 30, 30]
    for t in range(7, 280):
        y[t] = y[t - 7] + rng.normal(0, 5)
    f = F.forecast_series(y, "day", 14)
    assert f["model"] == "seasonal_naive", f["backtest"]


def test_short_history_falls_back_with_a_note():
    f = F.forecast_series(np.arange(20, dtype=float), "day", 14)
    assert f["model"] == "seasonal_naive" and f["backtest"] is None and "too little history" in f["backtest_note"]


def test_weekly_grain_season():
    assert F.season_for("week", 60, 4) == 1 and F.season_for("week", 120, 4) == 52 and F.season_for("day", 10, 1) == 7


def test_counts_never_negative():
    y = np.r_[np.zeros(60), np.ones(3) * 50].astype(float)
    f = F.forecast_series(y, "day", 14)
    assert np.all(f["lo95"] >= 0) and np.all(f["mean"] >= 0)
