"""`servicekpi staffing` and `servicekpi forecast` through the CLI: fields, formats, errors, data."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from servicekpi.analysis import staffing as S

FIELDS = {"model", "agents", "scheduled_agents", "service_level", "service_level_answered", "asa_seconds",
          "occupancy", "wait_probability", "abandon_probability", "calls", "interval_seconds", "aht_seconds",
          "target_percent", "threshold_seconds", "patience_seconds", "shrinkage_percent", "max_occupancy_percent"}
REF = ("staffing", "--calls", "100", "--interval", "30m", "--aht", "180", "--target", "80/20")


def staffing(ws, *args):
    r = ws.cli(*args)
    assert r.exit_code == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_reference_case_json(ws):
    [row] = staffing(ws, *REF, "--format", "json")
    assert FIELDS <= set(row)
    # 14 agents, SL 88.8%, ASA 7.84 s, occupancy 10/14 = 71.4%; default cap 85% echoed
    assert (row["model"], row["agents"], row["scheduled_agents"]) == ("erlang_c", 14, 14)
    assert round(row["service_level"], 1) == 88.8 and round(row["asa_seconds"], 2) == 7.84
    assert round(row["occupancy"], 1) == 71.4 and row["max_occupancy_percent"] == 85.0
    assert row["abandon_probability"] is None and row["erlangs"] == 10.0


def test_shrinkage_and_patience(ws):
    [row] = staffing(ws, *REF, "--patience", "120", "--agents", "12", "--shrinkage", "25", "--format", "json")
    # Erlang A at 12 agents; 12 / (1 - 0.25) = 16 scheduled
    assert row["model"] == "erlang_a" and row["agents"] == 12 and row["scheduled_agents"] == 16
    assert round(row["abandon_probability"], 2) == 6.16 and round(row["service_level"], 2) == 82.56
    assert row["patience_seconds"] == 120.0 and row["agents_given"] is True


def test_capacity_refused_with_a_clear_message(ws):
    r = ws.cli(*REF, "--agents", "10")
    assert r.exit_code == 1
    assert "Error: a load of 10 Erlangs on 10 agents is at or above capacity" in r.stderr


def test_zero_calls_zero_agents(ws):
    [row] = staffing(ws, "staffing", "--calls", "0", "--aht", "180", "--format", "json")
    assert row["agents"] == 0 and row["scheduled_agents"] == 0 and row["service_level"] == 100.0


def test_occupancy_cap_given(ws):
    [row] = staffing(ws, *REF, "--max-occupancy", "70", "--format", "json")
    assert row["agents"] == 15 and row["max_occupancy_percent"] == 70.0     # ceil(10 / 0.7)


def test_csv_and_table(ws):
    r = ws.cli(*REF, "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(r.stdout)))
    assert FIELDS <= set(row) and row["agents"] == "14"
    t = ws.cli(*REF)
    assert "erlang_c" in t.stdout and "occupancy cap 85%" in t.stdout


@pytest.mark.parametrize("args,message", [
    (("--target", "80"), "--target '80' is not PERCENT/SECONDS"),
    (("--format", "xml"), "--format 'xml' is not one of: json, table, csv"),
    (("--interval", "half"), "--interval 'half' is not a duration"),
])
def test_usage_errors(ws, args, message):
    r = ws.cli(*REF, *args)
    assert r.exit_code == 2 and message in r.stderr


def _call(cid, entered, wait, talk=None, abandoned=False, hold=None, wrap=None, queue="support"):
    t0 = dt.datetime.fromisoformat(entered)
    end = t0 + dt.timedelta(seconds=wait)
    row = {"call_id": cid, "entered_at": entered + "Z", "queue": queue}
    if abandoned:
        row.update(ended_at=end.isoformat() + "Z", outcome="abandoned")
    else:
        row.update(answered_at=end.isoformat() + "Z", talk_seconds=talk, hold_seconds=hold, wrap_seconds=wrap,
                   outcome="answered", ended_at=(end + dt.timedelta(seconds=talk)).isoformat() + "Z")
    return row


CALLS = [  # Europe/Bucharest is UTC+3 until 2026-10-25: 06:10Z is Monday 09:10 local
    _call("c1", "2026-10-05T06:10:00", 10, 100, hold=20, wrap=30),   # handle 150
    _call("c2", "2026-10-05T06:12:00", 30, 200),                     # handle 200
    _call("c3", "2026-10-05T06:15:00", 60, abandoned=True),
    _call("c4", "2026-10-05T06:20:00", 0, 250),                      # handle 250
    _call("c5", "2026-10-12T06:20:00", 20, 100),                     # handle 100
    _call("c6", "2026-10-12T06:25:00", 40, abandoned=True),
    _call("c7", "2026-10-11T23:30:00", 5, 120, queue="sales"),       # Sunday 23:30Z = Monday 02:30 local
]


def test_from_data_weekday_interval_table(ws):
    ws.write("calls", CALLS)
    ws.load()
    out = staffing(ws, "staffing", "--from-data", "--from", "2026-10-05", "--to", "2026-10-18", "--dim", "queue",
                   "--tz", "Europe/Bucharest", "--format", "json")
    assert out["tz"] == "Europe/Bucharest" and out["by"] == "halfhour"
    rows = {(r["queue"], r["weekday"], r["interval_start"]): r for r in out["rows"]}
    assert set(rows) == {("support", "mon", "09:00"), ("sales", "mon", "02:30")}
    mon = rows[("support", "mon", "09:00")]
    # 6 calls over the 2 Mondays -> 3 per half hour; AHT (150 + 200 + 250 + 100) / 4 = 175 s;
    # patience = waiting time of everyone (10+30+60+0+20+40 = 160 s) / 2 abandons = 80 s -> Erlang A
    assert (mon["calls"], mon["aht_seconds"], mon["patience_seconds"]) == (3.0, 175.0, 80.0)
    assert mon["model"] == "erlang_a"
    assert mon["agents"] == S.plan(3.0, 1800, 175.0, 20, 0.8, patience=80.0)["agents"]
    # no abandons in sales: no patience estimate, so Erlang C; 1 call over 2 Mondays = 0.5
    sales = rows[("sales", "mon", "02:30")]
    assert sales["model"] == "erlang_c" and sales["calls"] == 0.5 and sales["patience_seconds"] is None


def test_from_data_by_hour_and_erlang_c(ws):
    ws.write("calls", CALLS)
    ws.load()
    out = staffing(ws, "staffing", "--from-data", "--by", "hour", "--model", "erlang_c", "--tz", "UTC",
                   "--from", "2026-10-05", "--to", "2026-10-18", "--format", "json")
    rows = {(r["weekday"], r["interval_start"]): r for r in out["rows"]}
    # in UTC: Monday 06:00 holds the 6 support calls; Sunday 23:00 the sales call
    assert set(rows) == {("mon", "06:00"), ("sun", "23:00")}
    assert rows[("mon", "06:00")]["model"] == "erlang_c" and rows[("mon", "06:00")]["interval_seconds"] == 3600


def test_from_data_without_calls(ws):
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z"}])
    ws.load()
    r = ws.cli("staffing", "--from-data")
    assert r.exit_code == 1 and "needs the calls table, which was never imported" in r.stderr


def _tickets(days: int, start=dt.date(2026, 1, 5)):
    """Tickets with a known weekly pattern: Monday 9 ... Sunday 3, plus a small deterministic wobble."""
    pattern = [9, 8, 7, 7, 6, 3, 3]
    rows, n = [], 0
    for d in range(days):
        day = start + dt.timedelta(days=d)
        for k in range(pattern[day.weekday()] + (d * 7919) % 3 - 1):
            n += 1
            rows.append({"ticket_id": f"T{n}", "created_at": f"{day}T{9 + k % 8:02d}:00:00Z",
                         "channel": "email" if k % 3 else "chat"})
    return rows


def test_forecast_cli(ws, tmp_path):
    ws.write("tickets", _tickets(140))          # 2026-01-05 .. 2026-05-24 (20 full weeks)
    ws.load()
    (tmp_path / "servicekpi.toml").write_text('timezone = "UTC"\n[business_hours]\nholidays = ["2026-06-01"]\n'
                                              'holiday_country = "GB"\n')
    r = ws.cli("forecast", "ticket_volume", "--by", "day", "--horizon", "14", "--backtest", "--format", "json",
               "--config", str(tmp_path / "servicekpi.toml"))
    assert r.exit_code == 0, r.stdout + r.stderr
    f = json.loads(r.stdout)
    assert f["kpi"] == "ticket_volume" and f["history"]["to"] == "2026-05-24"
    assert f["rows"][0]["period_start"] == "2026-05-25" and len(f["rows"]) == 14   # after the last day with data
    assert set(f["backtest"]) == {"seasonal_naive", "ets", "theta"}
    assert f["model"] in f["backtest"]
    for row in f["rows"]:
        assert row["lo95"] <= row["lo80"] <= row["value"] <= row["hi80"] <= row["hi95"]
    marked = {row["period_start"]: row["holiday"] for row in f["rows"] if row["holiday"]}
    # GB's Spring Bank Holiday (last Monday of May 2026: the 25th) by its name from the holidays package;
    # the listed 2026-06-01 has no name in the config, so it is named after its calendar
    assert marked == {"2026-05-25": "Spring Bank Holiday", "2026-06-01": "holiday (default)"}
    assert f["rows"][0]["holidays"] == [{"date": "2026-05-25", "name": "Spring Bank Holiday", "calendar": "default"}]
    assert f["rows"][1]["holiday"] is None and "holidays" not in f["rows"][1]


def _weekly_calls() -> list[dict]:
    """12 weeks, 2026-01-05 (Mon) .. 2026-03-29 (Sun): sales 2 calls each weekday (10 a week), support
    1 call on Mondays and Thursdays (2 a week)."""
    rows = []
    for d in range(84):
        day = dt.date(2026, 1, 5) + dt.timedelta(days=d)
        for queue, k in (("sales", 2 if day.weekday() < 5 else 0), ("support", 1 if day.weekday() in (0, 3) else 0)):
            for i in range(k):
                rows.append(_call(f"{queue}{d}-{i}", f"{day}T10:{i:02d}:00", 5, 60, queue=queue))
    return rows


def test_forecast_calls_offered_by_week_and_queue(ws, tmp_path):
    ws.write("calls", _weekly_calls())
    ws.load()
    (tmp_path / "servicekpi.toml").write_text('timezone = "UTC"\n[business_hours]\nholidays = ["2026-04-08"]\n')
    r = ws.cli("forecast", "calls_offered", "--by", "week", "--horizon", "3", "--dim", "queue", "--format", "json",
               "--config", str(tmp_path / "servicekpi.toml"))
    assert r.exit_code == 0, r.stdout + r.stderr
    f = json.loads(r.stdout)
    # the history ends with the week of 2026-03-23, long before today: the forecast starts the week after
    assert f["history"] == {"from": "2026-01-05", "to": "2026-03-23", "periods": 12}
    got = {(row["queue"], row["period_start"]): row["value"] for row in f["rows"]}
    # flat weekly series: 10 and 2 calls every week ahead
    assert got == {(q, w): v for q, v in (("sales", 10.0), ("support", 2.0))
                   for w in ("2026-03-30", "2026-04-06", "2026-04-13")}
    assert f["model"] == {"sales": "seasonal_naive", "support": "seasonal_naive"}
    # 12 weeks are too few for 3 folds of 3 weeks (season 1: 1 + 9 + 14 = 24 periods): each value says why
    assert f["backtest"] == {"sales": None, "support": None}
    assert set(f["backtest_note"]) == {"sales", "support"}
    assert f["backtest_note"]["sales"].startswith("too little history for a 3-fold backtest of 3 periods")
    # the listed holiday falls in the week of 2026-04-06: the week row names it with its date
    marked = {(row["queue"], row["period_start"]): row["holiday"] for row in f["rows"] if row["holiday"]}
    assert marked == {("sales", "2026-04-06"): "2026-04-08 holiday (default)",
                      ("support", "2026-04-06"): "2026-04-08 holiday (default)"}


def test_forecast_csv_and_table_with_a_holiday(ws, tmp_path):
    # a forecast row holding a holiday once broke the flat formats (its `holidays` list of objects)
    ws.write("calls", _weekly_calls())
    ws.load()
    (tmp_path / "servicekpi.toml").write_text('timezone = "UTC"\n[business_hours]\nholidays = ["2026-04-08"]\n')
    args = ("forecast", "calls_offered", "--by", "week", "--horizon", "2", "--config", str(tmp_path / "servicekpi.toml"))
    r = ws.cli(*args, "--format", "csv")
    assert r.exit_code == 0, r.stdout + r.stderr + repr(r.exception)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    # 12 calls a week (10 sales + 2 support)
    assert [(x["period_start"], x["value"], x["holiday"]) for x in rows] == [
        ("2026-03-30", "12.0", ""), ("2026-04-06", "12.0", "2026-04-08 holiday (default)")]
    t = ws.cli(*args, "--format", "table")
    assert t.exit_code == 0 and "2026-04-08 holiday (default)" in t.stdout


def test_forecast_unknown_kpi(ws):
    r = ws.cli("forecast", "nps")
    assert r.exit_code == 2 and "forecast covers ticket_volume, calls_offered" in r.stderr


def test_staffing_with_forecast_scales_the_week(ws):
    # 10 full weeks (2026-01-05 .. 2026-03-15): every day 4 calls at 10:00-10:29 UTC except Mondays with 8
    rows, n = [], 0
    for d in range(70):
        day = dt.date(2026, 1, 5) + dt.timedelta(days=d)
        for k in range(8 if day.weekday() == 0 else 4):
            n += 1
            rows.append(_call(f"k{n}", f"{day}T10:{k * 3:02d}:00", 5, 180))
    ws.write("calls", rows)
    ws.load()
    out = staffing(ws, "staffing", "--from-data", "--forecast", "--tz", "UTC", "--format", "json")
    # an exactly repeating week: 32 calls a week, forecast 32 for the week of 2026-03-16 -> scale 1
    assert out["forecast"]["week_start"] == "2026-03-16" and out["forecast"]["calls"] == {"all": 32.0}
    mon = next(r for r in out["rows"] if r["weekday"] == "mon")
    assert mon["calls"] == 8.0 and mon["interval_start"] == "10:00"
    r = ws.cli("staffing", "--calls", "5", "--aht", "180", "--forecast")
    assert r.exit_code == 2 and "--forecast needs --from-data" in r.stderr
    # a later week: the third after the last week with data (2026-03-09), same repeating volume
    out = staffing(ws, "staffing", "--from-data", "--forecast", "--week", "3", "--tz", "UTC", "--format", "json")
    assert out["forecast"]["week_start"] == "2026-03-30" and out["forecast"]["calls"] == {"all": 32.0}
    r = ws.cli("staffing", "--from-data", "--week", "2")
    assert r.exit_code == 2 and "--week needs --forecast" in r.stderr
    r = ws.cli("staffing", "--from-data", "--forecast", "--week", "53")
    assert r.exit_code == 1 and "between 1 and 52" in r.stderr


def test_forecast_week_picks_that_weeks_values(monkeypatch):
    # the forecast rows of weeks 1..3 differ: --week 2 must take week 2's (30 calls) against a history
    # of 20 calls a week -> scale 30 / 20 = 1.5
    from servicekpi.analysis import forecast_staffing as FS
    weeks = {"2026-03-16": 25.0, "2026-03-23": 30.0, "2026-03-30": 40.0}
    fake = {"model": "ets", "rows": [{"period_start": w, "value": v} for w, v in weeks.items()]}
    monkeypatch.setattr(FS, "build", lambda engine, kpi, by, horizon, dim, tz: {**fake, "rows": fake["rows"][:horizon]})
    monkeypatch.setattr(FS, "Engine", lambda con, cfg: None)
    slot = type("Slot", (), {"value": None, "calls": 10.0})
    scale, note = FS.weekly_scale(None, None, "UTC", {"slots": [slot, slot]}, None, week=2)
    assert scale == {None: 1.5} and note["week_start"] == "2026-03-23" and note["calls"] == {"all": 30.0}


def test_from_data_tickets_for_async_channels(ws):
    ws.write("tickets", [
        {"ticket_id": "E1", "created_at": "2026-10-05T09:05:00Z", "channel": "email"},
        {"ticket_id": "E2", "created_at": "2026-10-05T09:40:00Z", "channel": "email"},
        {"ticket_id": "E3", "created_at": "2026-10-12T09:10:00Z", "channel": "email"},
        {"ticket_id": "S1", "created_at": "2026-10-12T09:15:00Z", "channel": "email", "excluded": "true"},  # spam
    ])
    ws.load()
    r = ws.cli("staffing", "--from-data", "--source", "tickets")
    assert r.exit_code == 2 and "--source tickets needs --aht SECONDS" in r.stderr
    out = staffing(ws, "staffing", "--from-data", "--source", "tickets", "--aht", "600", "--by", "hour",
                   "--target", "80/3600", "--dim", "channel", "--tz", "UTC", "--from", "2026-10-05",
                   "--to", "2026-10-18", "--format", "json")
    [row] = out["rows"]
    # 3 tickets (the excluded one left out) over 2 Mondays in the 09:00 hour -> 1.5 an hour; AHT as given
    assert (row["channel"], row["weekday"], row["interval_start"]) == ("email", "mon", "09:00")
    assert row["calls"] == 1.5 and row["aht_seconds"] == 600.0 and row["model"] == "erlang_c"
    assert row["agents"] == S.plan(1.5, 3600, 600.0, 3600, 0.8)["agents"]
