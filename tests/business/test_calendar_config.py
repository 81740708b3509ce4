"""Business-hours config (issue 3, section 1): one test per validation error, and the default calendar.

Each invalid file must stop `servicekpi kpi first_response_time --option hours=business --config F`
with exit code 1 and a located message on stderr: the file, the key, and what was expected.
"""
from __future__ import annotations

import pytest

YEAR = ("--from", "2026-01-01", "--to", "2026-12-31")
BUSINESS = ("--option", "hours=business")
VALID_DAY = 'mon = "09:00-17:00"\n'


def run_bad(ws, text: str):
    """Write bad.toml, run the KPI with it; return the error text (stdout + stderr)."""
    path = ws.root / "bad.toml"
    path.write_text('timezone = "Europe/Bucharest"\n' + text, encoding="utf-8")
    r = ws.cli("kpi", "first_response_time", *BUSINESS, "--config", str(path))
    message = r.stdout + r.stderr
    assert r.exit_code == 1, (r.exit_code, message)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)  # no traceback
    assert "Traceback" not in message, message
    assert message.startswith("Error: "), message
    assert str(path) in message, message  # the file
    return message


def located(message: str, key: str, *expected: str):
    assert f"key {key}" in message, (key, message)
    for e in expected:
        assert e in message, (e, message)


# --------------------------------------------------------------------------------------
# one test per validation error
# --------------------------------------------------------------------------------------

def test_bad_range_text(ws):
    m = run_bad(ws, '[business_hours]\nmon = "9am-5pm"\n')
    located(m, "business_hours.mon", "9am-5pm", "HH:MM-HH:MM")


def test_bad_range_text_in_a_multi_range_day(ws):
    m = run_bad(ws, '[business_hours]\ntue = "08:00-12:00,13:00-1700"\n')
    located(m, "business_hours.tue", "13:00-1700", "HH:MM-HH:MM")


def test_backwards_range(ws):
    m = run_bad(ws, '[business_hours]\nwed = "17:00-09:00"\n')
    located(m, "business_hours.wed", "17:00-09:00", "forwards", "00:00-24:00")


def test_range_past_midnight(ws):
    m = run_bad(ws, '[business_hours]\nthu = "09:00-24:30"\n')
    located(m, "business_hours.thu", "09:00-24:30", "00:00-24:00")


def test_minutes_out_of_range(ws):
    m = run_bad(ws, '[business_hours]\nfri = "09:75-17:00"\n')
    located(m, "business_hours.fri", "09:75-17:00")


def test_overlapping_ranges(ws):
    m = run_bad(ws, '[business_hours]\nmon = "08:00-12:00,11:00-17:00"\n')
    located(m, "business_hours.mon", "overlap")


def test_bad_holiday_date(ws):
    m = run_bad(ws, '[business_hours]\n' + VALID_DAY + 'holidays = ["2026-12-25", "2026-13-01"]\n')
    located(m, "business_hours.holidays", "YYYY-MM-DD")


def test_holidays_not_a_list(ws):
    m = run_bad(ws, '[business_hours]\n' + VALID_DAY + 'holidays = "2026-12-25"\n')
    located(m, "business_hours.holidays", "expected a list")


def test_unknown_holiday_country(ws):
    m = run_bad(ws, '[business_hours]\n' + VALID_DAY + 'holiday_country = "XX"\n')
    located(m, "business_hours.holiday_country", "'XX'", "country code")


def test_unknown_key_in_the_default_calendar(ws):
    m = run_bad(ws, '[business_hours]\n' + VALID_DAY + 'monday = "09:00-17:00"\n')
    located(m, "business_hours.monday", "unknown key", "mon", "holidays", "timezone")


def test_unknown_key_in_a_named_calendar(ws):
    m = run_bad(ws, '[calendars.us]\ntimezone = "America/New_York"\n' + VALID_DAY + 'opens = "08:00"\n')
    located(m, "calendars.us.opens", "unknown key", "expected one of", "queues", "teams", "channels")


def test_bad_calendar_timezone(ws):
    m = run_bad(ws, '[calendars.us]\ntimezone = "America/Nowhere"\n' + VALID_DAY)
    located(m, "calendars.us.timezone", "America/Nowhere", "IANA")


def test_bad_default_calendar_timezone(ws):
    m = run_bad(ws, '[business_hours]\ntimezone = "Mars/Olympus"\n' + VALID_DAY)
    located(m, "business_hours.timezone", "Mars/Olympus", "IANA")


def test_named_calendar_not_a_table(ws):
    m = run_bad(ws, '[calendars]\nus = "09:00-17:00"\n')
    located(m, "calendars.us", "expected a table")


def test_teams_not_a_list(ws):
    m = run_bad(ws, '[calendars.us]\ntimezone = "America/New_York"\n' + VALID_DAY + 'teams = "us_team"\n')
    located(m, "calendars.us.teams", "expected a list")


@pytest.mark.parametrize("key", ["channels", "queues"])
def test_channels_and_queues_not_lists_of_names(ws, key):
    m = run_bad(ws, f'[calendars.us]\n{VALID_DAY}{key} = ["ok", 3]\n')
    located(m, f"calendars.us.{key}", "expected a list")


def test_calendars_not_a_table(ws):
    m = run_bad(ws, 'calendars = "us"\n')
    located(m, "calendars", "expected a table")


def test_business_hours_not_a_table(ws):
    m = run_bad(ws, 'business_hours = "09:00-17:00"\n')
    located(m, "business_hours", "expected a table")


# --------------------------------------------------------------------------------------
# valid configs
# --------------------------------------------------------------------------------------

def test_native_toml_dates_are_accepted_as_holidays(ws):
    """holidays = [2026-10-16] (a TOML date, not a string) closes that day too."""
    path = ws.root / "ok.toml"
    path.write_text('timezone = "UTC"\n[business_hours]\nfri = "09:00-17:00"\nmon = "09:00-17:00"\n'
                    'holidays = [2026-10-16]\n', encoding="utf-8")
    # Fri 2026-10-16 10:00Z (a holiday) .. Mon 2026-10-19 10:30Z: Mon 09:00-10:30 = 90 minutes
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-16T10:00:00Z",
                          "first_response_at": "2026-10-19T10:30:00Z"}])
    ws.load(None, "--config", str(path))
    assert ws.value("first_response_time", *BUSINESS, *YEAR, "--config", str(path)) == 90


def test_default_calendar_without_business_hours_is_weekdays_nine_to_five_in_workspace_zone(ws):
    """No [business_hours]: Monday to Friday 09:00-17:00 in the workspace time zone (Europe/Bucharest).

    T1: Fri 2026-10-23 13:30Z = 16:30 EEST (30 min to closing); the weekend and the DST change
        (Sun 25 Oct, EEST -> EET) are closed; Mon 2026-10-26 07:15Z = 09:15 EET (15 min).
        -> 45 minutes. (Read in UTC it would be Fri 13:30-17:00 = 210 minutes.)
    T2: created Sat 2026-10-24 09:00Z, answered Mon 2026-10-26 06:59:30Z = 08:59:30 EET -> 0.
    T3: created Mon 2026-10-26 15:00Z = 17:00 EET (closing), answered Tue 27 07:00:20Z = 09:00:20 EET
        -> 20 seconds = 1/3 minute.
    T4: Wed 2026-10-28 05:00Z = 07:00 EET .. Wed 16:00Z = 18:00 EET -> the whole day, 480 minutes."""
    path = ws.root / "servicekpi.toml"
    path.write_text('timezone = "Europe/Bucharest"\n', encoding="utf-8")
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-10-23T13:30:00Z", "first_response_at": "2026-10-26T07:15:00Z"},
        {"ticket_id": "T2", "created_at": "2026-10-24T09:00:00Z", "first_response_at": "2026-10-26T06:59:30Z"},
        {"ticket_id": "T3", "created_at": "2026-10-26T15:00:00Z", "first_response_at": "2026-10-27T07:00:20Z"},
        {"ticket_id": "T4", "created_at": "2026-10-28T05:00:00Z", "first_response_at": "2026-10-28T16:00:00Z"},
    ])
    ws.load(None, "--config", str(path))
    rows = ws.kpi("first_response_time", *BUSINESS, "--dim", "ticket_id", *YEAR, "--config", str(path))
    got = {r["ticket_id"]: r["value"] for r in rows}
    want = {"T1": 45, "T2": 0, "T3": 1 / 3, "T4": 480}
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert abs(got[k] - v) < 1e-9, (k, got[k], v)
    # the same file found beside the store (servicekpi.toml) without --config
    store_dir = ws.db.parent
    assert path.parent == store_dir
    rows = ws.kpi("first_response_time", *BUSINESS, *YEAR)
    assert abs(rows[0]["value"] - (45 + 0 + 1 / 3 + 480) / 4) < 1e-9


def test_default_calendar_without_any_config_is_weekdays_nine_to_five_utc(ws):
    """No config file at all: workspace UTC, Mon-Fri 09:00-17:00 UTC.
    Sat 2026-06-06 12:00Z .. Mon 2026-06-08 09:30Z -> 30 minutes;
    Mon 2026-06-08 16:59:45Z .. Tue 2026-06-09 09:00:15Z -> 15 s + 15 s = 0.5 minute."""
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-06-06T12:00:00Z", "first_response_at": "2026-06-08T09:30:00Z"},
        {"ticket_id": "T2", "created_at": "2026-06-08T16:59:45Z", "first_response_at": "2026-06-09T09:00:15Z"},
    ])
    ws.load()
    rows = ws.kpi("first_response_time", *BUSINESS, "--dim", "ticket_id", *YEAR)
    assert {r["ticket_id"]: r["value"] for r in rows} == {"T1": 30, "T2": 0.5}
