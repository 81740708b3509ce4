"""The least a volume spike must be ([spikes] in the config; the rule is analysis/spikes.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpikeSize:
    """A spike is at least min_rise tickets above its baseline and at least min_ratio x the baseline
    (a zero baseline passes the ratio). Defaults chosen on the demo data: docs/spikes.md."""
    min_rise: float = 20.0
    min_ratio: float = 1.4

    def passes(self, volume: float, baseline: float) -> bool:
        return volume - baseline >= self.min_rise and (not baseline or volume / baseline >= self.min_ratio)


ANY = SpikeSize(0.0, 1.0)  # no minimum: the bare median + k x MAD rule
