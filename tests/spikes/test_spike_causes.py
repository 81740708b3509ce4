"""Spike causes: the channels, categories and words whose share grew in a spike (hand-computed)."""
from __future__ import annotations

import json

import pytest

from conftest import ASOF, Workspace
from servicekpi.analysis.spike_causes import grown, summary, tokens
from servicekpi.core.spike_size import ANY

# ten tickets against five: too small for the default minimum size (20 tickets, 1.4x); these tests
# are about the causes, so they judge by the bare k x MAD rule
NO_MINIMUM = ("--min-rise", "0", "--min-ratio", "1")
NO_MINIMUM_TOML = "[spikes]\nmin_rise = 0\nmin_ratio = 1\n"

MONTHS = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]


def dataset():
    tickets, n = [], 0

    def add(month, day, category, channel, subject, **extra):
        nonlocal n
        n += 1
        tickets.append({"ticket_id": f"T{n}", "created_at": f"{month}-{day:02d}T10:00:00Z", "category": category,
                        "channel": channel, "subject": subject, **extra})
    for m in MONTHS:  # baseline: 2 shipping tickets a month by email, 5 technical by chat
        add(m, 3, "shipping", "email", "Where is my order?")
        add(m, 4, "shipping", "email", "where is my order")
        for d in range(5):
            add(m, 10 + d, "technical", "chat", "login error")
    for d in range(8):  # October: 8 shipping tickets by chat about a delayed package
        add("2026-10", 5 + d, "shipping", "chat", f"Package delayed #{1000 + d}")
    add("2026-10", 20, "shipping", "email", "Where is my order")
    add("2026-10", 21, "shipping", "email", "where is my order")
    add("2026-10", 22, "shipping", "chat", "refund refund", excluded="true")  # left out, as in ticket_volume
    for d in range(5):
        add("2026-10", 10 + d, "technical", "chat", "login error")
    # comments on three of the delayed tickets, one on a baseline ticket: "courier" 3/10 now, 1/12 before
    surveys = [{"response_id": f"S{i}", "survey": "csat", "score": 1, "responded_at": "2026-10-20T10:00:00Z",
                "ticket_id": tickets[-10 - i]["ticket_id"], "comment": "the courier lost it"} for i in range(3)]
    surveys.append({"response_id": "S9", "survey": "csat", "score": 2, "responded_at": "2026-05-20T10:00:00Z",
                    "ticket_id": tickets[0]["ticket_id"], "comment": "courier late"})
    return tickets, surveys


@pytest.fixture
def ws(tmp_path):
    ws = Workspace(tmp_path)
    tickets, surveys = dataset()
    ws.write("tickets", tickets)
    ws.write("surveys", surveys)
    ws.load()
    return ws


def test_spike_lists_what_grew(ws):
    r = ws.cli("spikes", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json", "--as-of", ASOF, *NO_MINIMUM)
    assert r.exit_code == 0, r.stdout + r.stderr
    spikes = json.loads(r.stdout)
    # shipping: history 2,2,2,2,2,2 -> median 2, MAD 0 -> scale 1, threshold 5; October 10 > 5
    assert [(s["value"], s["volume"]) for s in spikes] == [("shipping", 10)]
    c = spikes[0]["causes"]
    # 10 October tickets (the excluded one left out) against 6 x 2 = 12 baseline tickets
    assert (c["tickets"], c["baseline_tickets"]) == (10, 12)
    # chat: 8 of 10 = 80% against 0 of 12 = 0% -> +80 pp; email 2/10 = 20% against 100%: fell, not listed
    assert c["channel"] == [{"value": "chat", "count": 8, "share": 80.0, "baseline_count": 0,
                             "baseline_share": 0.0, "change_pp": 80.0}]
    assert "category" not in c  # the spike's own dimension
    # delayed and package: 8/10 = 80% (+80 pp); courier (survey comments) 3/10 = 30% against 1/12 = 8.33%
    # -> +21.67 pp; "lost" 3/10 against 0 -> +30 pp; "late" 0 now; "where" 2/10 against 12/12 fell;
    # "is", "my" are stopwords; "#1000" numbers are left out; only the top 3 are listed
    assert [(w["value"], w["count"], w["baseline_count"], w["change_pp"]) for w in c["words"]] == [
        ("delayed", 8, 0, 80.0), ("package", 8, 0, 80.0), ("lost", 3, 0, 30.0)]
    table = ws.cli("spikes", "--from", "2026-10-01", "--to", "2026-10-31", "--as-of", ASOF, *NO_MINIMUM)
    assert "chat 80% (was 0%, 8 of 10)" in table.stdout.replace("\n", "")


def test_channel_spike_lists_categories(ws):
    r = ws.cli("spikes", "--from", "2026-10-01", "--to", "2026-10-31", "--dim", "channel", "--format", "json",
               "--as-of", ASOF, *NO_MINIMUM)
    spikes = json.loads(r.stdout)
    # chat: 5 a month before, 13 in October (8 shipping + 5 technical): median 5, MAD 0 -> threshold 8
    assert [(s["value"], s["volume"]) for s in spikes] == [("chat", 13)]
    # shipping 8/13 = 61.54% against 0/30 -> +61.54 pp; technical 5/13 = 38.46% against 100%: fell
    assert spikes[0]["causes"]["category"] == [{"value": "shipping", "count": 8, "share": 61.54, "baseline_count": 0,
                                                "baseline_share": 0.0, "change_pp": 61.54}]


def test_no_baseline_gives_a_null_share():
    # 2 of 4 tickets mention "outage", 1 "login"; no baseline ticket at all -> shares only, ranked by share
    out = grown([{"outage"}, {"outage", "login"}, set(), set()], [], min_count=1)
    assert out == [{"value": "outage", "count": 2, "share": 50.0, "baseline_count": 0, "baseline_share": None,
                    "change_pp": None},
                   {"value": "login", "count": 1, "share": 25.0, "baseline_count": 0, "baseline_share": None,
                    "change_pp": None}]


def test_courier_ranks_by_growth_and_small_counts_are_left_out():
    # now 4 tickets: courier in 3 (75%), late in 2; before 4 tickets: courier in 2 (50%)
    now = [{"courier", "late"}, {"courier", "late"}, {"courier"}, set()]
    base = [{"courier"}, {"courier"}, set(), set()]
    # courier +25 pp (3 >= 3 tickets); late has 2 tickets < MIN_COUNT 3: left out
    assert [(r["value"], r["change_pp"]) for r in grown(now, base)] == [("courier", 25.0)]
    # with a floor of 1, late (50% against 0%: +50 pp) ranks first
    assert [(r["value"], r["change_pp"]) for r in grown(now, base, min_count=1)] == [("late", 50.0), ("courier", 25.0)]


def test_tokens_per_language():
    assert tokens("Where is my ORDER #123? Ș") == {"where", "order"}
    assert tokens("Coletul nu a ajuns și este întârziat") == {"coletul", "ajuns", "întârziat"}
    assert summary(None) == ""


def test_report_spike_lists_show_causes(ws):
    import datetime as dt

    from servicekpi.core.config import Config
    from servicekpi.engine.query import Engine
    from servicekpi.report import data, html
    from servicekpi.store import db as store
    con = store.connect(ws.db, read_only=True)
    rep = data.build(Engine(con, Config(spike_size=ANY)), dt.date(2026, 1, 1), dt.date(2026, 10, 31), "month", "en",
                     dt.datetime(2027, 1, 1))
    found = [s for v in rep.volume for s in v.spikes if s.value == "shipping"]
    assert found and found[0].causes["channel"][0]["value"] == "chat"
    assert "What grew: channel Chat 80% (was 0%, 8 of 10); words delayed 80%" in html.render(rep)
    from openpyxl import load_workbook

    from servicekpi.report import xlsx
    path = ws.root / "r.xlsx"
    xlsx.write(rep, path)
    cells = [c.value for sheet in load_workbook(path) for row in sheet.iter_rows() for c in row]
    assert "channel Chat 80% (was 0%, 8 of 10); words delayed 80% (was 0%, 8 of 10), package 80% (was 0%, 8 of 10), " \
           "lost 30% (was 0%, 3 of 10)" in cells
    con.close()


def test_api_spikes_carry_causes(ws):
    from fastapi.testclient import TestClient

    from servicekpi.server import tokens
    from servicekpi.server.app import create_app
    from servicekpi.store import db as store
    (ws.root / "servicekpi.toml").write_text(NO_MINIMUM_TOML, encoding="utf-8")
    con = store.connect(ws.db)
    tokens.ensure(con)
    _, secret = tokens.create(con, "viewer", None, "v")
    con.close()
    with TestClient(create_app(ws.db)) as client:
        r = client.get("/api/spikes", params={"from": "2026-10-01", "to": "2026-10-31", "as_of": ASOF},
                       headers={"Authorization": f"Bearer {secret}"})
        zh = client.get("/api/spikes", params={"from": "2026-10-01", "to": "2026-10-31", "as_of": ASOF,
                                               "lang": "zh"}, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200, r.text
    (spike,) = r.json()["spikes"]
    # counts and the category as people read them (core/display.py), beside the raw values
    assert spike["display"]["volume"] == f"{spike['volume']:,}" and spike["display"]["label"] == "Shipping"
    assert zh.json()["spikes"][0]["display"]["label"] == "配送"
    assert spike["causes"]["channel"][0] == {"value": "chat", "count": 8, "share": 80.0, "baseline_count": 0,
                                             "baseline_share": 0.0, "change_pp": 80.0}
