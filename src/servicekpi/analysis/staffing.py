"""Staffing from queueing models: Erlang C (M/M/n) and Erlang A (M/M/n+M, exponential patience).

Pure computations, no I/O. Erlang B comes from the stable recursion B(n) = A·B(n-1) / (n + A·B(n-1)),
B(0) = 1 (no factorials: it works at thousands of Erlangs). Conventions (docs/operations.md):
service_level is over offered calls (an abandon is a failure), service_level_answered over answered
calls, asa_seconds over answered calls, occupancy is agent time busy with answered calls."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

EPS = 1e-9          # relative margin: a load of 9.999999999999998 on 10 agents is still refused
TAIL = 1e-15        # Erlang A queue tail: stop when a state's probability falls below this share


class StaffingError(ValueError):
    """Inputs that admit no finite staffing (load at or above capacity, unreachable target)."""


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of n servers offered a Erlangs."""
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def stable(n: int, a: float) -> bool:
    """n agents can serve a Erlangs without an ever-growing queue (with a float margin)."""
    return n - a > EPS * max(1.0, a)


@dataclass
class Result:
    model: str
    agents: int
    service_level: float            # share 0..1 over offered calls
    service_level_answered: Optional[float]
    asa_seconds: float
    occupancy: float
    wait_probability: float
    abandon_probability: Optional[float]


def _erlang_c_from_b(n: int, a: float, b: float, aht: float, threshold: float) -> Result:
    if n == 0 and a == 0:
        return Result("erlang_c", 0, 1.0, 1.0, 0.0, 0.0, 0.0, None)
    if not stable(n, a):
        raise StaffingError(f"a load of {a:g} Erlangs on {n} agents is at or above capacity: the queue grows "
                            f"without bound (Erlang C needs more than {a:g} agents)")
    c = n * b / (n - a * (1 - b))
    sl = 1 - c * math.exp(-(n - a) * threshold / aht)
    return Result("erlang_c", n, sl, sl, c * aht / (n - a), a / n, c, None)


def erlang_c(n: int, a: float, aht: float, threshold: float) -> Result:
    """M/M/n with n agents, a Erlangs offered, mean handle time aht and the SL threshold (seconds)."""
    return _erlang_c_from_b(n, a, erlang_b(n, a), aht, threshold)


def _tail(n: int, lam: float, mu: float, theta: float) -> np.ndarray:
    """p[j] ∝ P(n + j calls in the system), j >= 0, relative to P(n) = 1 (birth-death ratios)."""
    chunks, last, j0 = [], 1.0, 0
    while True:
        j = np.arange(j0 + 1, j0 + 4097, dtype=float)
        part = last * np.cumprod(lam / (n * mu + j * theta))
        chunks.append(part)
        last, j0 = float(part[-1]), j0 + 4096
        total = 1.0 + sum(float(c.sum()) for c in chunks)
        if (lam < n * mu + j0 * theta and last < TAIL * total) or not np.isfinite(total):
            break
        if j0 > 4_000_000:
            raise StaffingError("the Erlang A queue is too long to compute (patience far too long for the load)")
    return np.concatenate([[1.0], *chunks])


def erlang_a(n: int, a: float, aht: float, threshold: float, patience: float) -> Result:
    """M/M/n+M: exponential patience with mean `patience` seconds. A caller who finds j others waiting
    moves up at rate n·mu + (position-1)·theta and abandons at rate theta; answered within the threshold
    is computed by uniformization of that caller's chain; ASA over answered from its Laplace transform."""
    if a == 0:
        return Result("erlang_a", n, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    mu, theta = 1.0 / aht, 1.0 / patience
    lam = a * mu
    b = erlang_b(n, a)                           # P(n) relative to P(0..n)
    p = b * _tail(n, lam, mu, theta)             # P(n + j) relative to P(0..n); p[0] = B
    norm = 1.0 + float(p[1:].sum())
    arrive = p / norm                            # PASTA: an arrival finds n + j in the system
    wait = float(arrive.sum())
    nu = n * mu + np.arange(len(p)) * theta      # rate out of position m = j + 1 other than own abandon
    ratio = nu / (nu + theta)
    served = np.cumprod(ratio)                   # P(answered | j ahead) = prod_{m<=j+1} nu_m / (nu_m + theta)
    mean_w = served * np.cumsum(1.0 / (nu + theta))   # E[V·1{answered}] = L(theta)·sum 1/(nu_m + theta)
    answered = (1 - wait) + float((arrive * served).sum())
    abandon = 1 - answered
    asa = float((arrive * mean_w).sum()) / answered if answered > 0 else float("nan")
    within = (1 - wait) + _answered_within(arrive, nu, theta, threshold)
    return Result("erlang_a", n, within, within / answered if answered > 0 else None, asa,
                  a * answered / n if n else 0.0, wait, abandon)


def _answered_within(start: np.ndarray, nu: np.ndarray, theta: float, t: float) -> float:
    """P(answered by time t) for a caller starting at position j+1 with weight start[j] (uniformization)."""
    if t <= 0 or not start.any() or nu[0] == 0:
        return 0.0
    if theta * t > 40:       # a waiting caller abandons by t with probability >= 1 - e^-40: all are settled
        return float((start * np.cumprod(nu / (nu + theta))).sum())
    rate = float(nu[-1] + theta)
    lt = rate * t
    kmax = int(lt + 12 * math.sqrt(lt) + 30)
    ks = np.arange(kmax + 1)
    logw = -lt + ks * math.log(lt) - np.array([math.lgamma(k + 1) for k in ks])
    w = np.exp(logw)
    move, stay = nu / rate, 1 - (nu + theta) / rate
    u, served, total = start.astype(float).copy(), 0.0, 0.0
    for k in range(kmax + 1):
        total += w[k] * served
        served += u[0] * move[0]
        shifted = np.zeros_like(u)
        shifted[:-1] = u[1:] * move[1:]
        u = u * stay + shifted
    return total


def offered_load(calls: float, interval_seconds: float, aht: float) -> float:
    return calls * aht / interval_seconds


def evaluate(n: int, a: float, aht: float, threshold: float, patience: Optional[float]) -> Result:
    return erlang_c(n, a, aht, threshold) if patience is None else erlang_a(n, a, aht, threshold, patience)


def required(a: float, aht: float, threshold: float, target: float, max_occupancy: float,
             patience: Optional[float] = None) -> Result:
    """The fewest agents with service_level >= target and occupancy <= max_occupancy (shares 0..1)."""
    if a == 0:
        return evaluate(0, 0.0, aht, threshold, patience)
    if target >= 1:
        raise StaffingError("a service level of 100% needs unlimited agents; give a target below 100")
    meets = lambda r: r.service_level >= target - 1e-12 and r.occupancy <= max_occupancy + 1e-12  # noqa: E731
    if patience is None:
        n = math.floor(a)
        b = erlang_b(n, a)
        while True:
            if stable(n, a):
                r = _erlang_c_from_b(n, a, b, aht, threshold)
                if meets(r):
                    return r
            n += 1
            b = a * b / (n + a * b)
            if n > 10 * a + 1000:
                raise StaffingError("no staffing up to 10x the load meets the target")
    lo, hi = 0, max(1, math.ceil(a))            # Erlang A: SL and occupancy improve with n; bisect
    while not meets(erlang_a(hi, a, aht, threshold, patience)):
        lo, hi = hi, hi * 2
        if hi > 10 * a + 2000:
            raise StaffingError("no staffing up to 10x the load meets the target")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(erlang_a(mid, a, aht, threshold, patience)) else (mid, hi)
    return erlang_a(hi, a, aht, threshold, patience) if not meets(erlang_a(lo, a, aht, threshold, patience)) \
        else erlang_a(lo, a, aht, threshold, patience)


def scheduled(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that `agents` remain after shrinkage (share 0..1, below 1)."""
    if not 0 <= shrinkage < 1:
        raise StaffingError("shrinkage must be at least 0% and below 100%")
    return math.ceil(agents / (1 - shrinkage) - 1e-9)


DEFAULT_MAX_OCCUPANCY = 0.85        # a common planning cap; echoed in every row
MAX_ERLANGS = 100_000               # bounds the work of one request (the recursion is linear in agents)


def plan(calls: float, interval_seconds: float, aht: float, threshold: float, target: float,
         agents: Optional[int] = None, patience: Optional[float] = None, shrinkage: float = 0.0,
         max_occupancy: float = DEFAULT_MAX_OCCUPANCY) -> dict:
    """One output row: the staffing fields (percent, seconds) and the inputs echoed back."""
    if calls < 0 or interval_seconds <= 0 or aht <= 0 or threshold < 0:
        raise StaffingError("calls must be >= 0, the interval and AHT > 0 and the threshold >= 0")
    if not 0 < target <= 1 or not 0 < max_occupancy <= 1:
        raise StaffingError("the target and the occupancy cap must be above 0% and at most 100%")
    if patience is not None and patience < 1:
        raise StaffingError("patience must be at least 1 second")
    a = offered_load(calls, interval_seconds, aht)
    if a > MAX_ERLANGS or (agents or 0) > 10 * MAX_ERLANGS:
        raise StaffingError(f"a load of {a:g} Erlangs is beyond the {MAX_ERLANGS:,} this command computes; "
                            f"split the queue or check the units (calls per interval, AHT in seconds)")
    if agents is None:
        r = required(a, aht, threshold, target, max_occupancy, patience)
    else:
        if agents < 0:
            raise StaffingError("--agents must be 0 or more")
        r = evaluate(agents, a, aht, threshold, patience) if a > 0 else evaluate(agents, 0.0, aht, threshold, patience)
    pct = lambda x: None if x is None else round(float(x) * 100, 4)  # noqa: E731
    return {"model": r.model, "agents": r.agents, "scheduled_agents": scheduled(r.agents, shrinkage),
            "service_level": pct(r.service_level), "service_level_answered": pct(r.service_level_answered),
            "asa_seconds": round(float(r.asa_seconds), 4), "occupancy": pct(r.occupancy),
            "wait_probability": pct(r.wait_probability), "abandon_probability": pct(r.abandon_probability),
            "meets_target": bool(r.service_level >= target - 1e-12 and r.occupancy <= max_occupancy + 1e-12),
            "erlangs": round(a, 6), "calls": calls, "interval_seconds": interval_seconds, "aht_seconds": aht,
            "target_percent": round(target * 100, 6), "threshold_seconds": threshold,
            "patience_seconds": patience, "shrinkage_percent": round(shrinkage * 100, 6),
            "max_occupancy_percent": round(max_occupancy * 100, 6), "agents_given": agents is not None}
