"""The hour table costs what its span needs (issue 12, item 1): the minutes are computed half a year
at a time, so a store holding one 1970 placeholder among 2026 data builds a 57-year table in bounded
memory, and the chunked table equals one computed whole."""
from __future__ import annotations

import datetime as dt
import tracemalloc

import numpy as np

from servicekpi.core import calendars as business
from servicekpi.core.calendars import Calendars, default_calendar


def test_a_57_year_span_builds_in_bounded_memory():
    cals = Calendars(default_calendar("Europe/Bucharest"))
    tracemalloc.start()
    table = cals._hour_table(dt.date(1970, 1, 1), dt.date(2026, 12, 1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # 1969-12-30 .. 2026-12-03: 20,792 days x 24 hours
    assert table.num_rows == 20792 * 24
    assert peak < 250e6, peak  # the minute arrays of the whole span took about 1.2 GB
    # Mon-Fri 09:00-17:00: every full week adds 5 x 8 h = 144,000 open seconds
    cum = table["cum_s"].to_numpy()
    assert cum[24 * 7 * 100] - cum[0] == 100 * 144000


def test_chunks_give_the_table_computed_whole(monkeypatch):
    cals = Calendars(default_calendar("America/New_York"),
                     {"ro": business.parse_calendar("ro", {"mon": "08:00-12:00,13:00-17:00", "sat": "00:00-24:00",
                                                           "holiday_country": "RO", "timezone": "Europe/Bucharest"},
                                                    "UTC", "test")})
    span = (dt.date(2025, 1, 1), dt.date(2026, 12, 31))  # two DST changes a year in both zones
    whole = cals._hour_table(*span)
    monkeypatch.setattr(business, "CHUNK_MINUTES", 60 * 24 * 3 + 60 * 7)  # chunks across day and DST edges
    chunked = cals._hour_table(*span)
    for name in ("key", "cum_s", "mask"):
        assert np.array_equal(whole[name].to_numpy(), chunked[name].to_numpy()), name
