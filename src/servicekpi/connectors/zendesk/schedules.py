"""Zendesk business-hours schedules and holidays -> calendars in the workspace config shape.

Zendesk names time zones the Rails way ("Pacific Time (US & Canada)"); ZONES maps them to
IANA names (the ActiveSupport::TimeZone names). A schedule interval is minutes from Sunday
00:00 of a local week (Fivetran start_time/end_time, API intervals start_time/end_time).
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # Zendesk's week starts on Sunday
CONFIG_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

ZONES = {
    'International Date Line West': 'Etc/GMT+12',
    'Midway Island': 'Pacific/Midway',
    'American Samoa': 'Pacific/Pago_Pago',
    'Samoa': 'Pacific/Apia',
    'Hawaii': 'Pacific/Honolulu',
    'Alaska': 'America/Juneau',
    'Pacific Time (US & Canada)': 'America/Los_Angeles',
    'Tijuana': 'America/Tijuana',
    'Mountain Time (US & Canada)': 'America/Denver',
    'Arizona': 'America/Phoenix',
    'Chihuahua': 'America/Chihuahua',
    'Mazatlan': 'America/Mazatlan',
    'Central Time (US & Canada)': 'America/Chicago',
    'Saskatchewan': 'America/Regina',
    'Guadalajara': 'America/Mexico_City',
    'Mexico City': 'America/Mexico_City',
    'Monterrey': 'America/Monterrey',
    'Central America': 'America/Guatemala',
    'Eastern Time (US & Canada)': 'America/New_York',
    'Indiana (East)': 'America/Indiana/Indianapolis',
    'Bogota': 'America/Bogota',
    'Lima': 'America/Lima',
    'Quito': 'America/Lima',
    'Atlantic Time (Canada)': 'America/Halifax',
    'Caracas': 'America/Caracas',
    'La Paz': 'America/La_Paz',
    'Santiago': 'America/Santiago',
    'Newfoundland': 'America/St_Johns',
    'Brasilia': 'America/Sao_Paulo',
    'Buenos Aires': 'America/Argentina/Buenos_Aires',
    'Montevideo': 'America/Montevideo',
    'Georgetown': 'America/Guyana',
    'Puerto Rico': 'America/Puerto_Rico',
    'Greenland': 'America/Godthab',
    'Mid-Atlantic': 'Atlantic/South_Georgia',
    'Azores': 'Atlantic/Azores',
    'Cape Verde Is.': 'Atlantic/Cape_Verde',
    'Dublin': 'Europe/Dublin',
    'Edinburgh': 'Europe/London',
    'Lisbon': 'Europe/Lisbon',
    'London': 'Europe/London',
    'Casablanca': 'Africa/Casablanca',
    'Monrovia': 'Africa/Monrovia',
    'UTC': 'Etc/UTC',
    'Belgrade': 'Europe/Belgrade',
    'Bratislava': 'Europe/Bratislava',
    'Budapest': 'Europe/Budapest',
    'Ljubljana': 'Europe/Ljubljana',
    'Prague': 'Europe/Prague',
    'Sarajevo': 'Europe/Sarajevo',
    'Skopje': 'Europe/Skopje',
    'Warsaw': 'Europe/Warsaw',
    'Zagreb': 'Europe/Zagreb',
    'Brussels': 'Europe/Brussels',
    'Copenhagen': 'Europe/Copenhagen',
    'Madrid': 'Europe/Madrid',
    'Paris': 'Europe/Paris',
    'Amsterdam': 'Europe/Amsterdam',
    'Berlin': 'Europe/Berlin',
    'Bern': 'Europe/Zurich',
    'Zurich': 'Europe/Zurich',
    'Rome': 'Europe/Rome',
    'Stockholm': 'Europe/Stockholm',
    'Vienna': 'Europe/Vienna',
    'West Central Africa': 'Africa/Algiers',
    'Bucharest': 'Europe/Bucharest',
    'Cairo': 'Africa/Cairo',
    'Helsinki': 'Europe/Helsinki',
    'Kyiv': 'Europe/Kyiv',
    'Riga': 'Europe/Riga',
    'Sofia': 'Europe/Sofia',
    'Tallinn': 'Europe/Tallinn',
    'Vilnius': 'Europe/Vilnius',
    'Athens': 'Europe/Athens',
    'Istanbul': 'Europe/Istanbul',
    'Minsk': 'Europe/Minsk',
    'Jerusalem': 'Asia/Jerusalem',
    'Harare': 'Africa/Harare',
    'Pretoria': 'Africa/Johannesburg',
    'Kaliningrad': 'Europe/Kaliningrad',
    'Moscow': 'Europe/Moscow',
    'St. Petersburg': 'Europe/Moscow',
    'Volgograd': 'Europe/Volgograd',
    'Samara': 'Europe/Samara',
    'Kuwait': 'Asia/Kuwait',
    'Riyadh': 'Asia/Riyadh',
    'Nairobi': 'Africa/Nairobi',
    'Baghdad': 'Asia/Baghdad',
    'Tehran': 'Asia/Tehran',
    'Abu Dhabi': 'Asia/Dubai',
    'Muscat': 'Asia/Muscat',
    'Baku': 'Asia/Baku',
    'Tbilisi': 'Asia/Tbilisi',
    'Yerevan': 'Asia/Yerevan',
    'Kabul': 'Asia/Kabul',
    'Ekaterinburg': 'Asia/Yekaterinburg',
    'Islamabad': 'Asia/Karachi',
    'Karachi': 'Asia/Karachi',
    'Tashkent': 'Asia/Tashkent',
    'Chennai': 'Asia/Kolkata',
    'Kolkata': 'Asia/Kolkata',
    'Mumbai': 'Asia/Kolkata',
    'New Delhi': 'Asia/Kolkata',
    'Kathmandu': 'Asia/Kathmandu',
    'Astana': 'Asia/Almaty',
    'Dhaka': 'Asia/Dhaka',
    'Sri Jayawardenepura': 'Asia/Colombo',
    'Almaty': 'Asia/Almaty',
    'Novosibirsk': 'Asia/Novosibirsk',
    'Rangoon': 'Asia/Rangoon',
    'Bangkok': 'Asia/Bangkok',
    'Hanoi': 'Asia/Bangkok',
    'Jakarta': 'Asia/Jakarta',
    'Krasnoyarsk': 'Asia/Krasnoyarsk',
    'Beijing': 'Asia/Shanghai',
    'Chongqing': 'Asia/Chongqing',
    'Hong Kong': 'Asia/Hong_Kong',
    'Urumqi': 'Asia/Urumqi',
    'Kuala Lumpur': 'Asia/Kuala_Lumpur',
    'Singapore': 'Asia/Singapore',
    'Taipei': 'Asia/Taipei',
    'Perth': 'Australia/Perth',
    'Irkutsk': 'Asia/Irkutsk',
    'Ulaanbaatar': 'Asia/Ulaanbaatar',
    'Seoul': 'Asia/Seoul',
    'Osaka': 'Asia/Tokyo',
    'Sapporo': 'Asia/Tokyo',
    'Tokyo': 'Asia/Tokyo',
    'Yakutsk': 'Asia/Yakutsk',
    'Darwin': 'Australia/Darwin',
    'Adelaide': 'Australia/Adelaide',
    'Canberra': 'Australia/Melbourne',
    'Melbourne': 'Australia/Melbourne',
    'Sydney': 'Australia/Sydney',
    'Brisbane': 'Australia/Brisbane',
    'Hobart': 'Australia/Hobart',
    'Vladivostok': 'Asia/Vladivostok',
    'Guam': 'Pacific/Guam',
    'Port Moresby': 'Pacific/Port_Moresby',
    'Magadan': 'Asia/Magadan',
    'Srednekolymsk': 'Asia/Srednekolymsk',
    'Solomon Is.': 'Pacific/Guadalcanal',
    'New Caledonia': 'Pacific/Noumea',
    'Fiji': 'Pacific/Fiji',
    'Kamchatka': 'Asia/Kamchatka',
    'Marshall Is.': 'Pacific/Majuro',
    'Auckland': 'Pacific/Auckland',
    'Wellington': 'Pacific/Auckland',
    "Nuku'alofa": 'Pacific/Tongatapu',
    'Tokelau Is.': 'Pacific/Fakaofo',
    'Chatham Is.': 'Pacific/Chatham',
}


def zone(name: str | None) -> str | None:
    """The IANA zone of a Zendesk time zone name (an IANA name is kept); None if unknown."""
    if not name:
        return None
    name = name.strip()
    iana = ZONES.get(name, name)
    try:
        ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return iana


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def week_ranges(intervals) -> tuple[dict[str, str], list[str]]:
    """Intervals in minutes of the week -> {"mon": "08:00-12:00,13:00-17:00", ...}; problems as text."""
    per_day: dict[str, list[tuple[int, int]]] = {}
    problems = []
    for start, end in intervals:
        try:
            start, end = int(start), int(end)
        except (TypeError, ValueError):
            problems.append(f"interval {start}-{end} is not minutes")
            continue
        if not 0 <= start < end <= 7 * 1440:
            problems.append(f"interval {start}-{end} is not within one week (0-10080 minutes from Sunday 00:00)")
            continue
        while start < end:  # split at midnights
            day, offset = divmod(start, 1440)
            stop = min(end, (day + 1) * 1440)
            per_day.setdefault(WEEK[day], []).append((offset, stop - day * 1440))
            start = stop
    out = {}
    for d in CONFIG_DAYS:
        ranges = sorted(per_day.get(d, []))
        merged: list[list[int]] = []
        for a, b in ranges:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if merged:
            out[d] = ",".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in merged)
    return out, problems


def _dates(start: str | None, end: str | None) -> list[str]:
    first = dt.date.fromisoformat(str(start)[:10])
    last = dt.date.fromisoformat(str(end or start)[:10])
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _key(name: str, taken: set[str], sid: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or f"zendesk_{sid}"
    if key in taken:
        key = f"{key}_{sid}"
    taken.add(key)
    return key


def calendars(schedules: list[dict], holidays: list[dict]) -> tuple[dict, list[str]]:
    """({calendar name: [calendars.NAME] table}, notes)."""
    out: dict[str, dict] = {}
    notes: list[str] = []
    by_id: dict[str, str] = {}
    taken: set[str] = set()
    for sch in schedules:
        sid, name = sch["id"], sch.get("name") or sch["id"]
        iana = zone(sch.get("time_zone"))
        if iana is None:
            notes.append(f"schedule {sid} ({name}): time zone '{sch.get('time_zone')}' is not a Zendesk or IANA "
                         "time zone; no calendar made")
            continue
        days, problems = week_ranges(sch.get("intervals") or [])
        for p in problems:
            notes.append(f"schedule {sid} ({name}): {p}; left out")
        key = _key(name, taken, sid)
        out[key] = {"timezone": iana, **days}
        by_id[sid] = key
    orphans: dict[str, int] = {}
    for h in holidays:
        key = by_id.get(h.get("schedule_id") or "")
        if key is None:
            orphans[h.get("schedule_id") or "(none)"] = orphans.get(h.get("schedule_id") or "(none)", 0) + 1
            continue
        try:
            days = _dates(h.get("start_date"), h.get("end_date"))
        except ValueError:
            notes.append(f"holiday '{h.get('name')}' of schedule {h.get('schedule_id')}: dates "
                         f"'{h.get('start_date')}'..'{h.get('end_date')}' are not YYYY-MM-DD; left out")
            continue
        have = out[key].setdefault("holidays", [])
        have += [d for d in days if d not in have]
    for sid, n in orphans.items():
        notes.append(f"{n} holiday(s) of schedule {sid}, which is not among the schedules read: left out")
    for body in out.values():
        if "holidays" in body:
            body["holidays"].sort()
    return out, notes
