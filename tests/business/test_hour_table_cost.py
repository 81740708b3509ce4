"""The hour table costs what its span needs (issue 12, item 1): the minutes are computed half a year
at a time, so a store holding one 1970 placeholder among 2026 data builds a 57-year table in bounded
memory, and the chunked table equals one computed whole."""
from __future__ import annotations

import datetime as dt
import tracemalloc

import duckdb
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


# -- sparse tables (only the chunks that hold instants; the rest counted per day) -------------------

def test_sparse_chunks_give_the_rows_of_the_whole_table(monkeypatch):
    # DST in two hemispheres (Lord Howe moves 30 minutes), holidays, a calendar open across
    # midnight, and small chunks so the skipped ones hold DST days, holidays and partial days
    cals = Calendars(default_calendar("America/New_York"), {
        "ro": business.parse_calendar("ro", {"mon": "08:00-12:00,13:00-17:00", "sat": "00:00-24:00",
                                             "sun": "01:00-04:00", "holiday_country": "RO",
                                             "timezone": "Europe/Bucharest"}, "UTC", "test"),
        "lh": business.parse_calendar("lh", {"mon": "00:00-24:00", "tue": "02:00-03:30", "sun": "00:00-24:00",
                                             "timezone": "Australia/Lord_Howe"}, "UTC", "test")})
    monkeypatch.setattr(business, "CHUNK_MINUTES", 60 * 24 * 3 + 60 * 7)
    span = (dt.date(2023, 1, 1), dt.date(2026, 12, 31))
    whole = cals._hour_table(*span)
    hours = whole["key"].to_numpy() % business.HOURS_PER_CALENDAR
    every = sorted(set((hours * 60 // business.CHUNK_MINUTES).tolist()))
    keep = frozenset(every[i] for i in range(0, len(every), 7))  # one chunk in 7
    sparse = cals._hour_table(*span, keep)
    assert 0 < sparse.num_rows < whole.num_rows / 5
    rows = {k: (c, m) for k, c, m in zip(*(whole[n].to_pylist() for n in ("key", "cum_s", "mask")))}
    for k, c, m in zip(*(sparse[n].to_pylist() for n in ("key", "cum_s", "mask"))):
        assert rows[k] == (c, m), k
    kept_hours = sparse["key"].to_numpy() % business.HOURS_PER_CALENDAR
    assert set((kept_hours * 60 // business.CHUNK_MINUTES).tolist()) == keep


NINE_TO_FIVE_UTC = 'timezone = "UTC"\n[business_hours]\n' + "".join(
    f'{d} = "09:00-17:00"\n' for d in ("mon", "tue", "wed", "thu", "fri"))


def _spy(monkeypatch) -> list:
    built = []
    real = Calendars.hour_table

    def spy(self, first, last, *chunks):
        table = real(self, first, last, *chunks)
        built.append((first, last, *(chunks or (None,)), table.num_rows))
        return table
    monkeypatch.setattr(Calendars, "hour_table", spy)
    return built


def test_a_1970_instant_among_2026_data_tables_a_few_chunks(ws, monkeypatch):
    built = _spy(monkeypatch)
    cfg = ws.root / "bh.toml"
    cfg.write_text(NINE_TO_FIVE_UTC, encoding="utf-8")
    ws.write("tickets", [
        # 1970-01-05 and 2026-10-05 are Mondays
        {"ticket_id": "OLD", "created_at": "1970-01-05T10:00:00Z", "resolved_at": "1970-01-05T12:00:00Z"},
        {"ticket_id": "A", "created_at": "2026-10-05T10:00:00Z", "resolved_at": "2026-10-06T11:00:00Z"},
        {"ticket_id": "B", "created_at": "2026-10-09T16:00:00Z", "resolved_at": "2026-10-12T10:00:00Z"}])
    ws.load(None, "--config", str(cfg))
    # the refresh tabled 1970's chunk and 2026's (two at most: October may straddle a chunk edge),
    # 4,368 hours each; the whole span is 1970-01-03 .. 2026-10-14, 498,000-odd hours
    assert built and max(rows for *_, rows in built) <= 3 * business.CHUNK_MINUTES // 60
    assert built[0][2] is not None and len(built[0][2]) <= 3
    got = dict((r[0], r[1:]) for r in duckdb.connect(str(ws.db), read_only=True).execute(
        'SELECT ticket_id, "__b_created_at", "__b_resolved_at" FROM tickets').fetchall())

    def b(day: str, open_seconds_that_day: int) -> int:
        # open seconds from the table's start (1970-01-03, two days before the first instant) to the
        # instant: 8 h on every weekday before its day (numpy's own weekday count), plus its day's part
        return 28800 * int(np.busday_count("1970-01-03", day)) + open_seconds_that_day
    assert got["OLD"] == (b("1970-01-05", 3600), b("1970-01-05", 10800))  # 09-10 and 09-12 open
    assert got["A"] == (b("2026-10-05", 3600), b("2026-10-06", 7200))
    assert got["B"] == (b("2026-10-09", 25200), b("2026-10-12", 3600))  # Fri 09-16; Mon 09-10
    # business durations: OLD 2 h; A Mon 10-17 + Tue 09-11 = 9 h; B Fri 16-17 + Mon 09-10 = 2 h
    assert [got[t][1] - got[t][0] for t in ("OLD", "A", "B")] == [7200, 32400, 7200]

    # the query path (another calendar: the stored seconds do not apply, the hour table is joined)
    eight = ws.root / "bh8.toml"
    eight.write_text(NINE_TO_FIVE_UTC.replace("09:00", "08:00"), encoding="utf-8")
    built.clear()
    # A: Mon 10-17 + Tue 08-11 = 10 h; B: Fri 16-17 + Mon 08-10 = 3 h; mean 6.5 h
    assert ws.value("avg_resolution_time", "--option", "hours=business", "--from", "2026-10-01",
                    "--to", "2026-10-31", "--config", str(eight)) == 6.5
    assert ws.value("avg_resolution_time", "--option", "hours=business", "--from", "1970-01-01",
                    "--to", "1970-01-31", "--config", str(eight)) == 2.0  # OLD: Mon 10-12
    assert built and max(rows for *_, rows in built) <= 3 * business.CHUNK_MINUTES // 60
