"""Volume forecasts with a rolling-origin backtest: seasonal naive, ETS and Theta (statsforecast).

A model is used only if its backtest MASE is at most 0.9 x seasonal naive's; otherwise seasonal naive is
used and named. MASE is scaled by the in-sample MAE of seasonal naive on each fold's training part;
MAPE leaves out actual zeros (null when all are zero). statsforecast is imported lazily (it is slow to
import). Pure computations: series in, forecasts out."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

FOLDS = 3
ADVANTAGE = 0.9                  # a model must beat seasonal naive's MASE by 10% to be used
Z = {80: 1.2815515655446004, 95: 1.959963984540054}
CANDIDATES = ("seasonal_naive", "ets", "theta")


def season_for(by: str, n: int, horizon: int) -> int:
    """7 for days; 52 for weeks with two years of history plus the backtest, else 1 (plain naive)."""
    if by == "day":
        return 7
    return 52 if n >= 2 * 52 + FOLDS * horizon else 1


def seasonal_naive(y: np.ndarray, h: int, m: int) -> dict:
    m = min(m, len(y))
    k = np.arange(h)
    mean = y[len(y) - m + (k % m)]
    diffs = y[m:] - y[:-m]
    sigma = float(np.sqrt(np.mean(diffs ** 2))) if len(diffs) else 0.0
    spread = sigma * np.sqrt(k // m + 1)
    out = {"mean": mean.astype(float)}
    for lvl, z in Z.items():
        out[f"lo-{lvl}"], out[f"hi-{lvl}"] = mean - z * spread, mean + z * spread
    return out


def _model(name: str, m: int):
    from statsforecast.models import AutoETS, Theta
    if name == "ets":
        return AutoETS(season_length=m, model="ANA" if m > 1 else "ANN")
    return Theta(season_length=m)


def predict(name: str, y: np.ndarray, h: int, m: int) -> dict:
    if name == "seasonal_naive":
        return seasonal_naive(y, h, m)
    f = _model(name, m).forecast(y=y.astype(float), h=h, level=[80, 95])
    return {k: np.asarray(f[k], dtype=float) for k in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")}


def mase_scale(train: np.ndarray, m: int) -> Optional[float]:
    m = min(m, len(train) - 1)
    if m < 1:
        return None
    d = np.abs(train[m:] - train[:-m])
    return float(d.mean()) if len(d) and d.mean() > 0 else None


def backtest(y: np.ndarray, h: int, m: int, names=CANDIDATES) -> dict:
    """{name: {"mase", "mape", "folds"}} over FOLDS rolling origins, each forecasting h periods."""
    out = {}
    for name in names:
        errs, apes = [], []
        for f in range(FOLDS, 0, -1):
            cut = len(y) - f * h
            train, test = y[:cut], y[cut:cut + h]
            scale = mase_scale(train, m)
            if scale is None:
                continue
            try:
                pred = predict(name, train, h, m)["mean"]
            except Exception:  # noqa: BLE001 - a model that cannot fit this series is not a candidate
                errs = []
                break
            errs.append(np.abs(test - pred).mean() / scale)
            nz = test != 0
            apes.extend((np.abs(test - pred)[nz] / np.abs(test[nz])).tolist())
        out[name] = {"mase": round(float(np.mean(errs)), 4) if errs else None,
                     "mape": round(100 * float(np.mean(apes)), 3) if errs and apes else None,
                     "folds": len(errs)}
    return out


def choose(scores: dict) -> str:
    base = scores.get("seasonal_naive", {}).get("mase")
    best, best_mase = "seasonal_naive", None
    for name, s in scores.items():
        if name == "seasonal_naive" or s["mase"] is None or base is None:
            continue
        if s["mase"] <= ADVANTAGE * base and (best_mase is None or s["mase"] < best_mase):
            best, best_mase = name, s["mase"]
    return best


def forecast_series(y: np.ndarray, by: str, horizon: int, run_backtest: bool = True) -> dict:
    """{"model", "season", "backtest", "mean", "lo80", "hi80", "lo95", "hi95"} (counts clipped at 0)."""
    y = np.asarray(y, dtype=float)
    m = season_for(by, len(y), horizon)
    enough = len(y) >= m + FOLDS * horizon + max(2 * m, 14)
    scores = backtest(y, horizon, m) if run_backtest and enough else {}
    name = choose(scores) if scores else "seasonal_naive"
    f = predict(name, y, horizon, m)
    clip = lambda a: np.maximum(np.asarray(a, dtype=float), 0.0)  # noqa: E731 - volumes are never negative
    return {"model": name, "season": m, "backtest": scores or None,
            "backtest_note": None if scores or not run_backtest else
            f"too little history for a {FOLDS}-fold backtest of {horizon} periods; seasonal naive used",
            "mean": clip(f["mean"]), "lo80": clip(f["lo-80"]), "hi80": clip(f["hi-80"]),
            "lo95": clip(f["lo-95"]), "hi95": clip(f["hi-95"])}


def rnd(x: float) -> float:
    return round(float(x), 3) if math.isfinite(x) else None
