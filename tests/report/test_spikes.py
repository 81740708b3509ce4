"""Spike detection: median + k x MAD of the trailing window, hand-computed."""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from servicekpi.analysis.spikes import detect, history_start, spikes
from servicekpi.core.config import Config
from servicekpi.core.spike_size import ANY, SpikeSize
from servicekpi.engine.query import Engine

NO_MINIMUM = ("--min-rise", "0", "--min-ratio", "1")  # small hand-made volumes: the bare k x MAD rule


def test_flags_a_volume_above_median_plus_k_mad():
    # i=3: history 10,12,11 -> median 11, |dev| 1,1,0 -> MAD 1 -> threshold 14; 13 is not above
    # i=4: history 10,12,11,13 -> median 11.5, |dev| 1.5,.5,.5,1.5 -> MAD 1.0 -> 14.5; 12 is not
    # i=5: history 10,12,11,13,12 -> median 12, |dev| 2,0,1,1,0 -> MAD 1 -> 15; 30 is a spike
    assert detect({"a": [10, 12, 11, 13, 12, 30]}) == [("a", 5, 30, 12.0, 15.0)]


@pytest.mark.parametrize("k, flagged", [(3.0, True), (4.0, False)])
def test_k_sets_the_threshold(k, flagged):
    # history 10,12,11,13,12: median 12, MAD 1 -> threshold 12 + k; 16 > 15 but not > 16
    found = detect({"a": [10, 12, 11, 13, 12, 16]}, k=k)
    assert found == ([("a", 5, 16, 12.0, 12.0 + k)] if flagged else [])


@pytest.mark.parametrize("last, flagged", [(9, True), (8, False)])
def test_zero_mad_floors_the_scale_at_one_ticket(last, flagged):
    # history 5,5,5: median 5, MAD 0 -> scale max(0, 1) = 1 -> threshold 5 + 3 = 8 (strictly above)
    assert detect({"a": [5, 5, 5, last]}) == ([("a", 3, last, 5.0, 8.0)] if flagged else [])


def test_needs_three_preceding_periods():
    # index 2 has only two periods before it: never judged, however large
    assert detect({"a": [1, 1, 100]}) == []
    # index 3 has three: median 1, MAD 0 -> threshold 4
    assert detect({"a": [1, 1, 1, 100]}) == [("a", 3, 100, 1.0, 4.0)]


def test_window_limits_the_history():
    # window 3: history 20,20,20 -> median 20, MAD 0 -> threshold 23; 26 is a spike
    # window 6: history 10,10,10,20,20,20 -> median 15, |dev| all 5 -> MAD 5 -> 30; 26 is not
    # (the step up to 20 at index 3 is a spike with either window; only index 6 differs)
    counts = {"a": [10, 10, 10, 20, 20, 20, 26]}
    assert [s for s in detect(counts, window=3) if s[1] == 6] == [("a", 6, 26, 20.0, 23.0)]
    assert [s for s in detect(counts, window=6) if s[1] == 6] == []


def test_periods_before_the_data_begin_are_not_history():
    # the dimension has no tickets at all in periods 0-3: history starts at period 4, so period 4
    # (5 tickets after "zeros") is not a spike; period 7: history 5,5,5 -> threshold 8 -> 20 is
    counts = {"a": [0, 0, 0, 0, 5, 5, 5, 20], "b": [0, 0, 0, 0, 1, 1, 1, 1]}
    assert detect(counts) == [("a", 7, 20, 5.0, 8.0)]


def test_a_new_value_arriving_in_force_is_a_spike():
    # "new" has zeros while "a" has tickets: history 0,0,0,0 -> threshold 3 -> 9 is a spike
    assert detect({"a": [5, 5, 5, 5, 5], "new": [0, 0, 0, 0, 9]}) == [("new", 4, 9, 0.0, 3.0)]


def test_rejects_a_window_too_short_to_judge():
    with pytest.raises(ValueError, match="window"):
        detect({"a": [1, 2, 3]}, window=2)


def test_history_start_goes_back_whole_periods():
    assert history_start(dt.date(2026, 7, 15), "month", 6) == dt.date(2026, 1, 1)
    assert history_start(dt.date(2026, 7, 15), "week", 2) == dt.date(2026, 6, 29)  # Monday 13 July - 2 weeks


def _volume_store(ws):
    """'return': 2 tickets a month January-June 2026 and 10 in July; 'billing': 3 every month."""
    rows, n = [], 0
    for month in range(1, 8):
        for cat, count in (("return", 10 if month == 7 else 2), ("billing", 3)):
            for i in range(count):
                n += 1
                rows.append({"ticket_id": f"t{n}", "created_at": f"2026-{month:02d}-{10 + i:02d}T10:00:00Z",
                             "channel": "email", "category": cat})
    ws.write("tickets", rows)
    ws.load()


def test_spikes_judge_the_first_period_of_a_range_with_earlier_history(ws):
    _volume_store(ws)
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        found = spikes(Engine(con, Config(spike_size=ANY)), dt.date(2026, 7, 1), dt.date(2026, 7, 31),
                       asof=dt.datetime(2026, 8, 1))
    finally:
        con.close()
    # July 'return': history January-June 2,2,2,2,2,2 -> median 2, MAD 0 -> threshold 2 + 3 = 5;
    # 10 > 5, size 10 / 2 = 5.0; index 0 = the first (only) period of the range
    assert [(s.dim, s.value, s.period, s.volume, s.baseline, s.threshold, s.size) for s in found] == [
        ("category", "return", 0, 10, 2.0, 5.0, 5.0)]


def test_spikes_command_json(ws):
    _volume_store(ws)
    r = ws.cli("spikes", "--from", "2026-05-01", "--to", "2026-07-31", "--format", "json",
               "--as-of", "2026-08-01T00:00:00Z", *NO_MINIMUM)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == [{"period_start": "2026-07-01", "dim": "category", "value": "return",
                                     "volume": 10, "baseline": 2.0, "threshold": 5.0, "size": 5.0,
                                     # 10 tickets against 6 x 2 baseline ones; no channel or subject: nothing grew
                                     "causes": {"tickets": 10, "baseline_tickets": 12, "channel": [], "words": []}}]


def test_spikes_command_as_of_hides_later_tickets(ws):
    _volume_store(ws)
    # as of 10 July 10:30 only 1 July 'return' ticket exists: 1 is not above 5
    r = ws.cli("spikes", "--from", "2026-07-01", "--to", "2026-07-31", "--format", "json",
               "--as-of", "2026-07-10T10:30:00Z")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == []


def test_spikes_command_rejects_a_short_window(ws):
    _volume_store(ws)
    r = ws.cli("spikes", "--window", "2")
    assert r.exit_code == 2
    assert "Error: --window must be at least 3 periods and --k not negative" in r.stderr


# -- the minimum size (issue 13 item 9) ------------------------------------------------------------

def test_a_spike_needs_the_minimum_rise_and_ratio():
    least = SpikeSize(min_rise=20, min_ratio=1.4)
    # SMS: history 172 x 5 -> median 172, MAD 0 -> threshold 175; 177 > 175 but rises 5 tickets,
    # 1.03x: not a spike with the minimum, a spike without it
    assert detect({"sms": [172] * 5 + [177]}, least=least) == []
    assert detect({"sms": [172] * 5 + [177]}) == [("sms", 5, 177, 172.0, 175.0)]
    # 100 -> 150: rise 50 >= 20 but 1.5x >= 1.4 -> a spike; 100 -> 130: rise 30 but 1.3x -> not
    assert detect({"a": [100] * 5 + [150]}, least=least) == [("a", 5, 150, 100.0, 103.0)]
    assert detect({"a": [100] * 5 + [130]}, least=least) == []
    # 2 -> 10: 5x but rises 8 tickets < 20 -> not; 0 -> 25: the zero baseline passes the ratio
    assert detect({"a": [2] * 5 + [10]}, least=least) == []
    assert detect({"a": [0] * 5 + [25], "b": [1] * 6}, least=least) == [("a", 5, 25, 0.0, 3.0)]


def test_the_minimum_comes_from_the_config_and_the_command_line(ws):
    _volume_store(ws)  # July 'return': 10 against a baseline of 2 (rise 8, 5x)
    args = ("spikes", "--from", "2026-07-01", "--to", "2026-07-31", "--format", "json",
            "--as-of", "2026-08-01T00:00:00Z")
    assert json.loads(ws.cli(*args).stdout) == []  # default minimum rise 20 tickets: 8 is too small
    assert [s["volume"] for s in json.loads(ws.cli(*args, "--min-rise", "8").stdout)] == [10]
    assert json.loads(ws.cli(*args, "--min-rise", "8", "--min-ratio", "5.1").stdout) == []  # 10/2 = 5 < 5.1
    (ws.root / "servicekpi.toml").write_text("[spikes]\nmin_rise = 5\nmin_ratio = 2\n", encoding="utf-8")
    assert [s["volume"] for s in json.loads(ws.cli(*args).stdout)] == [10]
    bad = ws.cli("spikes", "--min-ratio", "0.5")
    assert bad.exit_code == 2 and "--min-ratio must be at least 1" in bad.stderr
    (ws.root / "servicekpi.toml").write_text("[spikes]\nmin_ratio = 0.9\n", encoding="utf-8")
    r = ws.cli(*args)
    assert r.exit_code != 0 and "spikes.min_ratio: expected a number of at least 1" in r.stderr
