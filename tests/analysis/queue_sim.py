"""A small seeded discrete-event simulation of a first-come-first-served call queue (M/M/n, with optional
exponential patience), independent of servicekpi.staffing, to validate its predictions.

Callers are taken in arrival order: the first agent to free up serves the first caller still waiting, so a
caller's would-be start is max(arrival, earliest free agent); they are answered if that wait is within
their patience, else they abandon and take no agent time (exact for FCFS with reneging)."""
from __future__ import annotations

import heapq

import numpy as np


def simulate(agents: int, calls_per_second: float, aht: float, threshold: float, n_calls: int,
             patience: float | None = None, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / calls_per_second, n_calls))
    service = rng.exponential(aht, n_calls)
    limit = rng.exponential(patience, n_calls) if patience else np.full(n_calls, np.inf)
    free = [0.0] * agents
    answered = within = waited = 0
    total_wait = 0.0
    warm = n_calls // 20                       # drop the first 5% (the empty start)
    for i in range(n_calls):
        t = arrivals[i]
        start = max(t, free[0])
        wait = start - t
        counted = i >= warm
        if wait <= limit[i]:
            heapq.heapreplace(free, start + service[i])
            if counted:
                answered += 1
                total_wait += wait
                within += wait <= threshold
                waited += wait > 0
        elif counted:
            waited += 1
    offered = n_calls - warm
    return {"service_level": within / offered, "asa_seconds": total_wait / answered,
            "abandon_probability": 1 - answered / offered, "wait_probability": waited / offered}
