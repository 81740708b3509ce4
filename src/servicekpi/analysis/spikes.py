"""Volume spikes: one rule shared by the report, `servicekpi spikes` and the dashboard.

The rule (robust, no distribution assumed):

- For each dimension value (a category, a channel) and each period i, the *history* is the
  volumes of the `window` periods just before i (fewer at the start of the data).
- baseline = median(history); MAD = median(|x - baseline| for x in history), the plain median
  absolute deviation (no 1.4826 normal-consistency factor, so k counts MADs exactly).
- scale = max(MAD, 1): when at least half the history has the very same volume, MAD is 0 and
  any rise would be a "spike"; the floor of one ticket means a flat history flags a volume
  more than k tickets above it.
- threshold = baseline + k * scale; the period is a spike when volume > threshold (strictly).
- At least MIN_HISTORY (3) preceding periods are needed; periods with fewer are never flagged.
- A spike also needs a minimum size (SpikeSize, [spikes] in the config): the volume must be at
  least `min_rise` tickets above the baseline and at least `min_ratio` times it (a zero baseline
  passes the ratio). Without them a growing queue lists 1.03x "spikes" (SMS 177 against 172).
  Defaults 20 tickets and 1.4x, chosen on the demo data (docs/spikes.md says why).
- History starts at the first period in which the dimension has any volume at all (all
  values together): periods before the data begin are not zero-volume history. A value that
  first appears later does have zeros as history, so a new category arriving in force is
  flagged.

`size` is volume / baseline (inf when the baseline is 0).
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from servicekpi.core import periods as P
from servicekpi.core.periods import history_start  # noqa: F401 - part of the spike rule's API
from servicekpi.core.spike_size import ANY, SpikeSize
from servicekpi.engine.query import Engine, Query

MIN_HISTORY = 3


def size_rule(engine: Engine, min_rise: float | None = None, min_ratio: float | None = None) -> SpikeSize:
    """The configured minimum ([spikes] min_rise, min_ratio), with what the caller gave instead."""
    base = getattr(engine.config, "spike_size", None) or SpikeSize()
    return SpikeSize(base.min_rise if min_rise is None else float(min_rise),
                     base.min_ratio if min_ratio is None else float(min_ratio))


@dataclass
class Spike:
    dim: str  # category or channel
    value: str  # e.g. "returns"
    period: int  # index into Report.periods
    volume: int
    baseline: float  # trailing median
    threshold: float  # median + k * MAD
    size: float  # volume / baseline (None-safe: inf when the baseline is 0)
    causes: dict | None = None  # spike_causes.causes: the categories, channels and words that grew


def _median(xs: list[float]) -> float:
    return float(statistics.median(xs))


def detect(counts: dict[str, list[int]], k: float = 3.0, window: int = 6, least: SpikeSize = ANY
           ) -> list[tuple[str, int, int, float, float]]:
    """(value, index, volume, baseline, threshold) of every spike, by index then value.

    counts: dimension value -> volume per period (all lists the same length); least: the minimum size."""
    if k < 0:
        raise ValueError("k must not be negative")
    if window < MIN_HISTORY:
        raise ValueError(f"window must be at least {MIN_HISTORY} periods")
    n = max((len(v) for v in counts.values()), default=0)
    totals = [sum(v[i] for v in counts.values() if i < len(v)) for i in range(n)]
    first = next((i for i, t in enumerate(totals) if t), n)
    out = []
    for value, series in counts.items():
        for i in range(first + MIN_HISTORY, len(series)):
            history = series[max(first, i - window):i]
            baseline = _median(history)
            mad = _median([abs(x - baseline) for x in history])
            threshold = baseline + k * max(mad, 1.0)
            if series[i] > threshold and least.passes(series[i], baseline):
                out.append((value, i, series[i], baseline, threshold))
    out.sort(key=lambda s: (s[1], str(s[0])))
    return out


def size(volume: int, baseline: float) -> float:
    return volume / baseline if baseline else float("inf")


NONE = "(none)"  # the group of tickets without a value


def volume(engine: Engine, start: dt.date, end: dt.date, by: str = "month", dim: str = "category",
           asof: dt.datetime | None = None, where: dict | None = None) -> tuple[list, dict[str, list[int]]]:
    """(engine periods, {value: ticket_volume per period}), values by total volume, largest first."""
    rows = engine.evaluate(Query(kpis=["ticket_volume"], by=by, dims=[dim], start=start, end=end,
                                 where=dict(where or {}), tz=engine.config.timezone, asof=asof))
    periods = P.build(start, end, by, engine.config.timezone)
    index = {p.start.isoformat(): i for i, p in enumerate(periods)}
    counts: dict[str, list[int]] = {}
    for r in rows:
        if r.get("note", "").startswith("unavailable"):
            continue
        key = NONE if r.get(dim) is None else str(r[dim])
        counts.setdefault(key, [0] * len(periods))[index[r["period_start"]]] += int(r["value"] or 0)
    order = sorted(counts, key=lambda v: (-sum(counts[v]), v))
    return periods, {v: counts[v] for v in order}


def volume_with_spikes(engine: Engine, start: dt.date, end: dt.date, by: str = "month", dim: str = "category",
                       k: float = 3.0, window: int = 6, asof: dt.datetime | None = None,
                       where: dict | None = None, least: SpikeSize | None = None
                       ) -> tuple[dict[str, list[int]], list[Spike]]:
    """Volume per value over the periods of [start, end] and its spikes (Spike.period indexes them).

    The history reaches `window` whole periods before the one holding `start` (a second query),
    so the first periods of the range are judged too. least: the minimum size (default: the config's)."""
    periods, counts = volume(engine, start, end, by, dim, asof, where)
    first = P.floor(start, by)
    history, before = volume(engine, history_start(start, by, window), first - dt.timedelta(days=1), by, dim,
                             asof, where)
    offset, n = len(history), len(periods)
    joined = {v: before.get(v, [0] * offset) + counts.get(v, [0] * n) for v in [*counts, *before]}
    found = [Spike(dim, value, i - offset, vol, base, thr, size(vol, base))
             for value, i, vol, base, thr in detect(joined, k, window, least or size_rule(engine))
             if i >= offset]
    from servicekpi.analysis.spike_causes import attach  # what grew in each spike: categories, channels, words
    attach(engine, found, start, end, by, window, asof, where)
    return counts, found


def spikes(engine: Engine, start: dt.date, end: dt.date, by: str = "month", dim: str = "category",
           k: float = 3.0, window: int = 6, asof: dt.datetime | None = None,
           where: dict | None = None, least: SpikeSize | None = None) -> list[Spike]:
    """Spikes in the periods of [start, end] (see volume_with_spikes)."""
    return volume_with_spikes(engine, start, end, by, dim, k, window, asof, where, least)[1]
