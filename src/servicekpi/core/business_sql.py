"""Business time as portable Ibis expressions: a row's calendar key and B(t), the open seconds
before an instant, looked up in the hour table (calendars.py). The store (stored seconds) and the
engine (queries) both use these, so both compute the same value."""
from __future__ import annotations

import ibis

from servicekpi.core.calendars import HOURS_PER_CALENDAR


@ibis.udf.scalar.builtin
def bit_count(x: int) -> ibis.dtype("int8"):
    """Set bits of an integer (DuckDB and Spark SQL both have bit_count)."""


@ibis.udf.scalar.builtin
def epoch_ms(x: ibis.dtype("timestamp")) -> ibis.dtype("int64"):
    """Milliseconds since 1970-01-01 (DuckDB epoch_ms; Spark unix_millis)."""


@ibis.udf.scalar.builtin
def divide(a: ibis.dtype("int64"), b: ibis.dtype("int64")) -> ibis.dtype("int64"):
    """Integer division of non-negative integers (DuckDB divide, i.e. //; Spark div)."""


def calendar_key(t, cals):
    """The row's calendar (queue beats team beats channel beats the default), as its hour-key offset."""
    ids = {c.name: i for i, c in enumerate(cals.all)}
    cases = []
    for attr, col in (("queues", "queue"), ("teams", "team"), ("channels", "channel")):
        if col in t.columns:
            cases += [(t[col].isin(list(getattr(c, attr))), ids[c.name]) for c in cals.named.values()
                      if getattr(c, attr)]
    cal = ibis.cases(*cases, else_=0) if cases else ibis.literal(0)
    return cal.cast("int64") * HOURS_PER_CALENDAR


def business_seconds(t, hours, col: str):
    """t + __b_<col> = cum_s + 60 * open minutes of the hour before the instant's minute + the
    seconds into that minute when it is open; t has __cal (calendar_key), hours the hour table."""
    ms = epoch_ms(t[col])
    t = t.mutate(**{f"__ms_{col}": ms})
    h = hours.rename(**{f"__k_{col}": "key", f"__s_{col}": "cum_s", f"__m_{col}": "mask"})
    t = t.left_join(h, t["__cal"] + divide(t[f"__ms_{col}"], 3_600_000) == h[f"__k_{col}"])
    minute = divide(t[f"__ms_{col}"], 60_000) % 60
    mask = t[f"__m_{col}"]
    before = bit_count(mask & ((ibis.literal(1, "int64") << minute) - 1)).cast("int64") * 60
    into = ibis.ifelse(((mask >> minute) & 1) == 1, (t[f"__ms_{col}"] % 60_000) / 1000, 0)
    t = t.mutate(**{f"__b_{col}": t[f"__s_{col}"] + before + into})
    return t.drop(f"__ms_{col}", f"__k_{col}", f"__s_{col}", f"__m_{col}")
