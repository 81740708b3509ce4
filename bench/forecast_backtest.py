"""Rolling-origin backtest of the forecast candidates on seeded synthetic daily series.

50 series x 730 days, weekly + yearly pattern + trend + noise; 3 folds x 28 days; MASE scaled by the
in-sample seasonal naive(7). Prints mean MASE / MAPE per candidate, how often each is chosen, time per fit.
Run: PYTHONPATH=src python bench/forecast_backtest.py"""
import time

import numpy as np

from servicekpi.analysis import forecast as F


def series(i: int, n: int = 730) -> np.ndarray:
    rng = np.random.default_rng(1000 + i)
    t = np.arange(n)
    level = rng.uniform(40, 400)
    week = rng.uniform(0.1, 0.4) * level * np.sin(2 * np.pi * (t + rng.integers(7)) / 7)
    year = rng.uniform(0.05, 0.2) * level * np.sin(2 * np.pi * t / 365.25)
    return np.maximum(level + week + year + rng.uniform(-0.05, 0.1) * t + rng.normal(0, 0.08 * level, n), 0)


def main(count: int = 50) -> None:
    F.predict("ets", series(0)[:100], 28, 7)          # warm the JIT outside the timing
    F.predict("theta", series(0)[:100], 28, 7)
    scores = {name: [] for name in F.CANDIDATES}
    mapes = {name: [] for name in F.CANDIDATES}
    took = {name: 0.0 for name in F.CANDIDATES}
    chosen = {name: 0 for name in F.CANDIDATES}
    for i in range(count):
        y = series(i)
        bt = {}
        for name in F.CANDIDATES:
            t = time.perf_counter()
            bt.update(F.backtest(y, 28, 7, names=(name,)))
            took[name] += (time.perf_counter() - t) / F.FOLDS
            scores[name].append(bt[name]["mase"])
            mapes[name].append(bt[name]["mape"])
        chosen[F.choose(bt)] += 1
    for name in F.CANDIDATES:
        print(f"{name:15s} MASE {np.mean(scores[name]):.3f}  MAPE {np.mean(mapes[name]):.2f}%  "
              f"{1000 * took[name] / count:.1f} ms a fit  chosen {chosen[name]}/{count}")


if __name__ == "__main__":
    main()
