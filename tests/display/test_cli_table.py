"""The CLI table reads numbers as people do (core/display.py); --format json and csv keep raw values."""
from __future__ import annotations

import json

from conftest import run, said

# team "technical" answered after 85 min (5,100 s = 1 h 25 min), team "l2" after 1,440 min (a day)
TICKETS = [
    {"ticket_id": "T1", "created_at": "2026-10-05T09:00:00Z", "team": "technical", "channel": "web_form",
     "first_response_at": "2026-10-05T10:25:00Z"},
    {"ticket_id": "T2", "created_at": "2026-10-06T09:00:00Z", "team": "l2", "channel": "sms",
     "first_response_at": "2026-10-07T09:00:00Z"},
]
ASOF = "2026-11-01T00:00:00Z"


def test_table_durations_labels_and_raw_json(ws):
    ws.write("tickets", TICKETS)
    ws.load()
    (ws.root / "servicekpi.toml").write_text('[labels.team]\nl2 = "Level 2"\n', encoding="utf-8")
    args = ("kpi", "first_response_time", "--by", "month", "--dim", "team", "--as-of", ASOF,
            "--config", str(ws.root / "servicekpi.toml"))
    r = run(ws, *args)
    assert r.exit_code == 0, r.stdout + r.stderr
    # a team id is prettified ("Technical", not the category's "Technical issue"); the config names l2
    assert said(r.stdout, "Technical") and "Technical issue" not in r.stdout and said(r.stdout, "Level 2")
    assert said(r.stdout, "1 hr 25 min") and said(r.stdout, "24 hr") and "1,440.0" not in r.stdout  # the numerator (minutes) stays a number
    raw = json.loads(run(ws, *args, "--format", "json").stdout)
    assert sorted((x["team"], x["value"]) for x in raw if x["value"] is not None) == [("l2", 1440.0), ("technical", 85.0)]
    csv = run(ws, *args, "--format", "csv").stdout
    assert "technical" in csv and "85.0" in csv


def test_channel_labels_and_the_missing_value(ws):
    ws.write("tickets", TICKETS + [{"ticket_id": "T3", "created_at": "2026-10-07T09:00:00Z"}])
    ws.load()
    r = run(ws, "kpi", "ticket_volume", "--by", "month", "--dim", "channel", "--as-of", ASOF)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert said(r.stdout, "Web form") and said(r.stdout, "SMS") and said(r.stdout, "(not set)")
