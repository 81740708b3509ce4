"""Non-finite numbers (NaN, infinities) in a KPI's measures make its value unknown, never 0."""
from __future__ import annotations

import math


def unknown(measures: dict) -> bool:
    """True when a measure is NaN or infinite (a store imported before such values were rejected)."""
    return any(isinstance(v, float) and not math.isfinite(v) for v in measures.values())


NOTE = "unknown: a NaN or infinite value in the data (re-import the rows; such values are rejected now)"
