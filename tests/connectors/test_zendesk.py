"""Zendesk connector: mapping rules, both layouts end to end, calendars, and `check zendesk`.

Fixtures: data/zendesk_api (Support API pages written from Zendesk's documented JSON),
data/zendesk_fivetran_own (the same tickets in the Fivetran schema, naive UTC times) and
data/zendesk_fivetran (a subset of Fivetran's Apache-2.0 dbt_zendesk seeds, unchanged).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import run, said
from servicekpi.connectors import ConnectorError
from servicekpi.connectors.calendars import FILE, write_calendars
from servicekpi.connectors.zendesk import rules as zd
from servicekpi.connectors.zendesk.schedules import week_ranges, zone
from servicekpi.core.calendars import parse_calendar

DATA = Path(__file__).parent / "data"
API = DATA / "zendesk_api"
OWN = DATA / "zendesk_fivetran_own"
SAMPLE = DATA / "zendesk_fivetran"
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")


def stored(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def tickets(ws) -> dict[str, dict]:
    cols = ("status", "channel", "team", "customer_id", "agent_id", "resolved_at", "reopen_count", "excluded",
            "created_at")
    return {r[0]: dict(zip(cols, r[1:])) for r in stored(ws, f"SELECT ticket_id, {', '.join(cols)} FROM tickets")}


def imported(ws, path: Path, *extra: str):
    r = run(ws, "import", str(path), "--source", "zendesk", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr
    return r


def rows_of(conv, table: str) -> list[dict]:
    return [r for b in conv.batches if b.table == table for r in b.data.to_pylist()]


def one_ticket(status: str, **extra) -> zd.Source:
    src = zd.Source()
    zd.keep(src, zd.Item({"id": 1, "created_at": "2026-03-02T09:00:00Z", "status": status, "requester_id": 200,
                          **extra}, "tickets.json", 1))
    return src


# -- mapping rules, one at a time ------------------------------------------------------------

@pytest.mark.parametrize("raw, status", [
    ("new", "open"), ("open", "open"), ("pending", "pending"), ("hold", "on_hold"), ("on-hold", "on_hold"),
    ("solved", "resolved"), ("closed", "closed"), ("Solved", "resolved"),
    ("escalated", "escalated"),  # unknown: passed on as is, so the engine quarantines it
])
def test_status_mapping(raw, status):
    row = rows_of(zd.build(one_ticket(raw)), "tickets")[0]
    assert row["status"] == status
    assert row["excluded"] == "false"


def test_deleted_ticket_is_kept_excluded_and_reported():
    conv = zd.build(one_ticket("deleted"))
    row = rows_of(conv, "tickets")[0]
    assert (row["ticket_id"], row["status"], row["excluded"]) == ("1", None, "true")
    assert any("1 deleted ticket(s) kept with excluded=true: 1" in n for n in conv.notes)


def test_ticket_closed_by_merge_is_excluded():
    src = one_ticket("closed")
    src.tags["1"] = {"closed_by_merge"}  # API ticket.tags or Fivetran ticket_tag
    conv = zd.build(src)
    row = rows_of(conv, "tickets")[0]
    assert row["excluded"] == "true" and row["status"] == "closed"
    assert any("1 ticket(s) closed by a merge kept with excluded=true: 1" in n for n in conv.notes)


@pytest.mark.parametrize("via, channel", [
    ("email", "email"), ("web", "web_form"), ("voice", "phone"), ("chat", "chat"), ("twitter", "social"),
    ("facebook", "social"), ("api", "api"), ("native_messaging", "native_messaging"), (None, None),
])
def test_via_channel_becomes_channel(via, channel):
    assert rows_of(zd.build(one_ticket("open", via_channel=via)), "tickets")[0]["channel"] == channel


T = dt.datetime


@pytest.mark.parametrize("history, reopens, last", [
    # new -> solved: one solve, no reopen
    ([(T(2026, 3, 2, 9), "new"), (T(2026, 3, 2, 12), "solved")], 0, "2026-03-02T12:00:00Z"),
    # solved, reopened (open), solved again: 1 reopen, the last solve counts
    ([(T(2026, 3, 2, 13), "new"), (T(2026, 3, 2, 14), "solved"), (T(2026, 3, 3, 9), "open"),
      (T(2026, 3, 4, 10), "solved")], 1, "2026-03-04T10:00:00Z"),
    # the same solve recorded twice (as in the Fivetran seeds) is one state, then closed: 0 reopens
    ([(T(2026, 3, 4, 9), "hold"), (T(2026, 3, 4, 10), "solved"), (T(2026, 3, 4, 10), "solved"),
      (T(2026, 3, 8, 10), "closed")], 0, "2026-03-04T10:00:00Z"),
    # closed without a solve: the close is the solve
    ([(T(2026, 3, 4, 9), "open"), (T(2026, 3, 5, 9), "closed")], 0, "2026-03-05T09:00:00Z"),
    # solved -> pending -> solved -> hold -> solved: 2 reopens
    ([(T(2026, 3, 1), "solved"), (T(2026, 3, 2), "pending"), (T(2026, 3, 3), "solved"), (T(2026, 3, 4), "hold"),
      (T(2026, 3, 5), "solved")], 2, "2026-03-05T00:00:00Z"),
])
def test_reopens_and_last_solve_from_status_history(history, reopens, last):
    assert zd.reopen_count(sorted(history)) == reopens
    assert zd.last_solve(sorted(history)) == last


def test_reopened_open_ticket_has_no_resolved_at():
    src = one_ticket("open")
    src.status_history["1"] = [(T(2026, 3, 3, 11), "solved"), (T(2026, 3, 3, 12), "open")]
    row = rows_of(zd.build(src), "tickets")[0]
    assert (row["resolved_at"], row["reopen_count"]) == (None, "1")


def test_metrics_are_the_fallback_without_status_history():
    src = one_ticket("solved")
    src.metrics["1"] = {"ticket_id": 1, "reopens": 2, "solved_at": "2026-03-03T10:00:00Z"}
    row = rows_of(zd.build(src), "tickets")[0]
    assert (row["resolved_at"], row["reopen_count"]) == ("2026-03-03T10:00:00Z", "2")
    src.status_history["1"] = [(T(2026, 3, 2, 12), "solved")]  # history wins when present
    row = rows_of(zd.build(src), "tickets")[0]
    assert (row["resolved_at"], row["reopen_count"]) == ("2026-03-02T12:00:00Z", "0")


def comment(cid, author, at, public=True, via=None):
    return zd.Item({"id": cid, "ticket_id": 1, "created_at": at, "author_id": author, "public": public,
                    "via_channel": via}, "comments_1.json", cid)


def test_author_from_role_requester_opening_bots_and_privacy():
    src = one_ticket("open", requester_id=100)  # an agent filed this ticket for themselves
    src.users.update({"100": "agent", "101": "admin", "200": "end-user"})
    src.comments = [
        comment(1, 100, "2026-03-02T09:00:00Z"),  # the description by the requester: customer, although an agent
        comment(2, 101, "2026-03-02T09:10:00Z", public=False),  # admin's internal note: agent, private
        comment(3, 100, "2026-03-02T09:20:00Z", via="rule"),  # trigger comment: bot
        comment(4, 101, "2026-03-02T09:30:00Z"),  # admin = agent, public
        comment(5, 200, "2026-03-02T09:40:00Z"),  # end-user: customer
        comment(6, 100, "2026-03-02T09:50:00Z"),  # the requester again, not the opening: by role, agent
        comment(7, -1, "2026-03-02T10:00:00Z"),  # Zendesk's system user
        comment(8, 999, "2026-03-02T10:10:00Z"),  # unknown user: passed with the reason, quarantined later
    ]
    got = {r["message_id"]: (r["author"], r["agent_id"], r["public"]) for r in rows_of(zd.build(src), "messages")}
    assert got == {
        "1": ("customer", None, "true"), "2": ("agent", "101", "false"), "3": ("bot", None, "true"),
        "4": ("agent", "101", "true"), "5": ("customer", None, "true"), "6": ("agent", "100", "true"),
        "7": ("system", None, "true"), "8": ("unknown: user 999 has no role in users", None, "true")}


def test_agent_opened_ticket_opening_comment_is_the_agents():
    src = one_ticket("open", requester_id=202)
    src.users.update({"100": "agent", "202": "end-user"})
    src.comments = [comment(1, 100, "2026-03-05T08:00:00Z"), comment(2, 100, "2026-03-05T09:00:00Z")]
    assert [r["author"] for r in rows_of(zd.build(src), "messages")] == ["agent", "agent"]


@pytest.mark.parametrize("score, value", [("good", "1"), ("bad", "0"), ("good_with_comment", "1"),
                                          ("bad_without_comment", "0"), ("great", "great")])
def test_satisfaction_good_bad_is_csat_0_1(score, value):
    src = zd.Source()
    src.ratings = [zd.Item({"id": 9, "score": score, "ticket_id": 1, "updated_at": "2026-03-02T13:00:00Z"}, "r", 1)]
    row = rows_of(zd.build(src), "surveys")[0]
    assert (row["survey"], row["score"], row["scale_min"], row["scale_max"]) == ("csat", value, "0", "1")


@pytest.mark.parametrize("score", ["offered", "unoffered"])
def test_offered_and_unoffered_are_not_answers(score):
    src = zd.Source()
    src.ratings = [zd.Item({"id": 9, "score": score, "ticket_id": 1}, "r", 1)]
    conv = zd.build(src)
    assert rows_of(conv, "surveys") == []
    assert any("1 satisfaction rating(s) offered or unoffered but not answered" in n for n in conv.notes)


def test_fivetran_naive_times_are_utc():
    assert zd.convert(OWN).source_tz == "UTC"
    assert zd.instant("2026-03-02 09:00:00") == T(2026, 3, 2, 9)
    assert zd.instant("2026-03-02T11:00:00+02:00") == T(2026, 3, 2, 9)


# -- Support API JSON end to end -------------------------------------------------------------

def test_api_import_maps_every_ticket(ws):
    r = imported(ws, API)
    # imported 6 tickets + 14 messages (15 comments, 1 quarantined) + 2 surveys = 22
    got = tickets(ws)
    assert set(got) == {"1", "2", "3", "4", "5", "6"}  # 7 (bad created_at) and 8 (bad status) are quarantined
    assert {k: (v["status"], v["channel"], v["team"], v["excluded"]) for k, v in got.items()} == {
        "1": ("resolved", "email", "Tier 1", False), "2": ("resolved", "web_form", "Billing", False),
        "3": ("pending", "phone", "Tier 1", False), "4": ("on_hold", "chat", "Tier 1", False),
        "5": (None, "email", "Tier 1", True), "6": ("closed", "email", "Tier 1", True)}
    # ticket 2 is in both incremental pages: the later one (updated 2026-03-04, solved) is kept
    assert got["2"]["resolved_at"] == T(2026, 3, 4, 10) and got["2"]["reopen_count"] == 1
    assert (got["1"]["customer_id"], got["1"]["agent_id"]) == ("200", "100")
    assert said(r.stderr, "1 deleted ticket(s) kept with excluded=true: 5")
    assert said(r.stderr, "1 ticket(s) closed by a merge kept with excluded=true: 6")
    assert said(r.stderr, "1 older version(s) of tickets seen again in later pages or rows: the latest updated_at kept")
    assert said(r.stderr, "2 comment(s) found in both comments and audits pages: each kept once")
    assert said(r.stderr, "2 satisfaction rating(s) offered or unoffered but not answered")
    assert said(r.stdout, "imported 22, replaced 0, unchanged 0, rejected 4 rows")


def test_api_bad_records_are_quarantined_with_their_location(ws):
    imported(ws, API)
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert q == {
        ("tickets-2.json", 5, "created_at"):
            "'yesterday' is not a timestamp (expected ISO 8601, e.g. 2026-02-28T10:00:00Z)",
        ("tickets-2.json", 6, "status"): "'escalated' is not one of: open, pending, on_hold, resolved, closed",
        ("audits-1.json", 6, "author"):
            "'unknown: user 999 has no role in users' is not one of: customer, agent, bot, system",
        ("satisfaction_ratings.json", 5, "score"): "'great' is not a number (expected a number, e.g. 4.5)",
    }


def test_api_messages_keep_public_and_private_apart(ws):
    imported(ws, API)
    msgs = {r[0]: r[1:] for r in stored(ws, "SELECT message_id, author, public, agent_id FROM messages")}
    assert msgs["1002"] == ("agent", False, "100")  # internal note
    assert msgs["1003"] == ("agent", True, "100")
    assert msgs["1001"] == ("customer", True, None)  # the description
    assert msgs["3002"] == ("bot", True, None)  # trigger comment (via.channel rule)
    assert msgs["4002"] == ("agent", False, "100")
    assert len(msgs) == 14  # 15 distinct comments (1001-1006, 2001-2004, 3001-3003, 4001-4002), 1006 quarantined


@pytest.mark.parametrize("path", [API, OWN], ids=["api", "fivetran"])
def test_first_reply_and_full_resolution_by_hand(ws, path):
    imported(ws, path)
    # first reply (Zendesk's definition: first public agent comment; an agent-opened ticket's second one):
    #   1: created 09:00, private note 09:30 is no reply, public reply 10:15 -> 75 min
    #   2: created 13:00, admin's public reply 14:00 -> 60 min
    #   3: opened by agent at 08:00 (api: trigger comment 08:20 is a bot), reply 09:00 -> 60 min
    #   4 (api only): only a private note -> no first reply
    #   mean (75 + 60 + 60) / 3 = 65.0
    assert ws.value("first_response_time", *MARCH) == pytest.approx(65.0)
    rows = json.loads(run(ws, "rows", "first_response_time", *MARCH, "--format", "json",
                          "--as-of", "2027-01-01T00:00:00Z").stdout)
    assert {r["ticket_id"]: r["first_response_at"] for r in rows} == {
        "1": "2026-03-02T10:15:00", "2": "2026-03-02T14:00:00", "3": "2026-03-05T09:00:00"}
    # full resolution, creation to the last solve:
    #   1: 09:00 -> 12:00 = 3 h; 2: 03-02 13:00 -> reopened -> last solve 03-04 10:00 = 45 h
    #   fivetran also 10: 08:00 -> 10:00 (solve recorded twice, closed later) = 2 h
    expected = (3 + 45) / 2 if path == API else (3 + 45 + 2) / 3  # 24.0 | 16.667
    assert ws.value("avg_resolution_time", *MARCH) == pytest.approx(expected)


def test_api_csat_from_good_and_bad(ws):
    imported(ws, API)
    # 9001 good -> 1, 9002 bad -> 0 on 0-1; 9003 offered and 9004 unoffered are no answers: 1 of 2 -> 50.0
    assert ws.value("csat", *MARCH) == pytest.approx(50.0)


def test_api_import_is_idempotent(ws):
    imported(ws, API)
    before = ws.quarantine()
    r = imported(ws, API)
    assert said(r.stdout, "imported 0, replaced 0, unchanged 22, rejected 4 rows")
    assert ws.quarantine() == before  # the same bad rows are not quarantined twice


def test_api_unreadable_page_is_reported_and_the_rest_imported(ws, tmp_path):
    folder = tmp_path / "pages"
    shutil.copytree(API, folder)
    (folder / "tickets-3.json").write_text('{"tickets": [', encoding="utf-8")
    (folder / "search.json").write_text('{"results": []}', encoding="utf-8")
    r = run(ws, "import", str(folder), "--source", "zendesk")
    assert r.exit_code == 1, r.stdout + r.stderr  # the rest is imported, but the unreadable page fails the run
    assert said(r.stderr, "tickets-3.json: not valid JSON (line 1, column 14")
    assert said(r.stderr, "search.json: not a Zendesk API page")
    assert len(tickets(ws)) == 6


# -- Fivetran layout -------------------------------------------------------------------------

def test_fivetran_own_fixture_statuses_reopens_and_tz(ws):
    # a workspace in Bucharest must not move Fivetran's naive (UTC) times
    (ws.root / "servicekpi.toml").write_text('timezone = "Europe/Bucharest"\n', encoding="utf-8")
    imported(ws, OWN)
    got = tickets(ws)
    assert got["1"]["created_at"] == T(2026, 3, 2, 9)  # 07:00 if it had been read as Bucharest time
    assert got["9"]["status"] == "open" and got["9"]["resolved_at"] is None and got["9"]["reopen_count"] == 1
    assert got["10"]["status"] == "closed" and got["10"]["resolved_at"] == T(2026, 3, 4, 10)
    assert got["10"]["reopen_count"] == 0
    assert got["11"]["excluded"] is True  # ticket_tag closed_by_merge
    assert got["3"]["channel"] == "phone"
    # satisfaction_rating: good + bad answered, offered not -> 50.0
    assert ws.value("csat", *MARCH) == pytest.approx(50.0)


def test_fivetran_sample_end_to_end(ws):
    r = imported(ws, SAMPLE)
    got = tickets(ws)
    assert len(got) == 9 + 1  # every ticket of ticket_data.csv (10 rows)
    assert {k: v["status"] for k, v in got.items()} == {
        "1595": None, "16988": "resolved", "14173": "closed", "11071": "closed", "1966": "closed",
        "11013": None, "1404": "closed", "4721": "closed", "6171": "closed", "6605": "closed"}
    assert {k for k, v in got.items() if v["excluded"]} == {"1595", "11013"}  # status deleted
    assert {k: v["channel"] for k, v in got.items() if v["channel"] != "email"} == {"1595": "web_form"}
    # 11071's field history: open, pending, on-hold, ..., open 2020-11-02, solved 2020-11-14 11:01:27,
    # closed 2020-11-15: never left solved -> 0 reopens; resolved_at = the solve
    assert got["11071"]["resolved_at"] == T(2020, 11, 14, 11, 1, 27)
    assert got["11071"]["reopen_count"] == 0
    # created 2020-08-28 18:06:36 -> solved 2020-11-14 11:01:27 = 77 d 16:54:51
    # = 1848 h + 16.914167 h = 1864.914167 h (the only ticket with a solve in the history)
    assert ws.value("avg_resolution_time", "--from", "2020-01-01", "--to", "2020-12-31") == \
        pytest.approx(1864.914167, abs=1e-5)
    # 8 tickets not excluded, 1 resolved -> 12.5 %; the other solved/closed ones have no history
    assert ws.value("ticket_volume", "--from", "2020-01-01", "--to", "2020-12-31") == 8
    assert ws.value("resolution_rate", "--from", "2020-01-01", "--to", "2020-12-31") == pytest.approx(12.5)
    assert said(r.stderr, "7 solved or closed ticket(s) have no solve in a status history")
    assert said(r.stderr, "2 deleted ticket(s) kept with excluded=true: 1595, 11013")
    # the sample's comments belong to tickets outside ticket_data and to users outside user_data:
    # all 20 are quarantined with a reason, none dropped
    q = [x for x in ws.quarantine() if x["table"] == "messages"]
    assert len(q) == 20 and all(x["line_kind"] == "line" for x in q)
    assert {x["line"] for x in q} == set(range(2, 22))
    assert said(r.stderr, "2 holiday(s) of schedule 360000, which is not among the schedules read: left out")
    r2 = imported(ws, SAMPLE)
    assert said(r2.stdout, "imported 0, replaced 0, unchanged 10, rejected 20 rows")


def test_fivetran_sample_schedule_becomes_a_calendar(ws):
    imported(ws, SAMPLE)
    text = (ws.root / FILE).read_text(encoding="utf-8")
    import tomllib
    body = tomllib.loads(text)["calendars"]["supportca"]
    # minutes from Sunday 00:00: 1920-2640 = Mon 08:00-20:00 ... 7680-8400 = Fri 08:00-20:00
    assert body == {"timezone": "America/Los_Angeles", **{d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu",
                                                                                     "fri")}}
    cal = parse_calendar("supportca", body, "UTC", "test")
    spans = cal.open_intervals(dt.date(2020, 11, 2), dt.date(2020, 11, 8))
    # Mon 2020-11-02 08:00 PST (after the DST end on Nov 1) = 16:00 UTC
    assert spans[0] == (T(2020, 11, 2, 16), T(2020, 11, 3, 4))
    # 5 days x 12 h = 3600 open minutes
    assert sum((b - a).total_seconds() for a, b in spans) / 60 == 3600


# -- calendars -------------------------------------------------------------------------------

def test_week_ranges_split_at_midnight_and_merge():
    # Sun 22:00 -> Mon 02:00 (1320-1560), Mon 09:00-12:00 + 12:00-13:00 (1980-2160, 2160-2220)
    days, problems = week_ranges([(1320, 1560), (1980, 2160), (2160, 2220), (10000, 10200)])
    assert days == {"mon": "00:00-02:00,09:00-13:00", "sun": "22:00-24:00"}
    assert problems == ["interval 10000-10200 is not within one week (0-10080 minutes from Sunday 00:00)"]


@pytest.mark.parametrize("name, iana", [("Pacific Time (US & Canada)", "America/Los_Angeles"),
                                        ("Bucharest", "Europe/Bucharest"), ("Europe/Paris", "Europe/Paris"),
                                        ("Atlantis", None)])
def test_zendesk_time_zone_names(name, iana):
    assert zone(name) == iana


def test_api_schedule_and_holidays_open_minutes(ws):
    imported(ws, API)
    import tomllib
    body = tomllib.loads((ws.root / FILE).read_text(encoding="utf-8"))["calendars"]["eu_support"]
    assert body["holidays"] == ["2026-04-13", "2026-12-24", "2026-12-25", "2026-12-26"]  # 24..26 inclusive
    cal = parse_calendar("eu_support", body, "UTC", "test")
    spans = cal.open_intervals(dt.date(2026, 4, 13), dt.date(2026, 4, 19))
    # Easter Monday closed; Tue-Fri 4 x 480 + Sat 10:00-12:00 120 = 2040 minutes
    assert sum((b - a).total_seconds() for a, b in spans) / 60 == 2040


def test_own_fivetran_schedule_split_ranges_and_holiday(ws):
    imported(ws, OWN)
    import tomllib
    body = tomllib.loads((ws.root / FILE).read_text(encoding="utf-8"))["calendars"]["us_support"]
    assert body["mon"] == "08:00-12:00,13:00-17:00" and "sat" not in body  # the Saturday row is _fivetran_deleted
    assert body["holidays"] == ["2026-07-03"]  # the deleted holiday is left out
    cal = parse_calendar("us_support", body, "UTC", "test")
    spans = cal.open_intervals(dt.date(2026, 6, 29), dt.date(2026, 7, 5))
    # Mon-Thu 4 x 8 h, Fri 3 July holiday -> 1920 minutes; Mon 08:00 EDT = 12:00 UTC
    assert sum((b - a).total_seconds() for a, b in spans) / 60 == 1920
    assert spans[0][0] == T(2026, 6, 29, 12)


def test_generated_calendar_works_as_business_hours(ws):
    imported(ws, API)
    import tomllib
    body = tomllib.loads((ws.root / FILE).read_text(encoding="utf-8"))["calendars"]["eu_support"]
    lines = ["[business_hours]"] + [f"{k} = {json.dumps(v)}" for k, v in body.items()]
    (ws.root / "servicekpi.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Bucharest is UTC+2 in March. 1: 11:00 -> 14:00 local = 3 business h;
    # 2: Mon 15:00 local -> Wed 12:00 local = Mon 2 h + Tue 8 h + Wed 3 h = 13 h; mean 8.0
    assert ws.value("avg_resolution_time", *MARCH, "--option", "hours=business") == pytest.approx(8.0)


def test_write_calendars_never_touches_the_config(tmp_path):
    config = tmp_path / "servicekpi.toml"
    config.write_text('[calendars.eu_support]\nmon = "10:00-11:00"\n', encoding="utf-8")
    cals = {"eu_support": {"timezone": "Europe/Bucharest", "mon": "09:00-17:00"},
            "broken": {"timezone": "Europe/Bucharest", "mon": "9-5"}}
    msg = write_calendars(cals, config, tmp_path / "store.duckdb")
    assert config.read_text(encoding="utf-8") == '[calendars.eu_support]\nmon = "10:00-11:00"\n'
    written = (tmp_path / FILE).read_text(encoding="utf-8")
    assert '[calendars.eu_support]\ntimezone = "Europe/Bucharest"\nmon = "09:00-17:00"\n' in written
    assert "broken" not in written
    assert "calendar left out: calendars.broken.mon: '9-5' is not a time range" in msg
    assert f"copy their [calendars.*] tables into {config}" in msg
    assert "already has calendar(s) named eu_support" in msg
    assert "written in" in msg
    assert "unchanged in" in write_calendars(cals, config, tmp_path / "store.duckdb")


# -- check zendesk ---------------------------------------------------------------------------

def test_check_finds_the_planted_disagreements(ws):
    imported(ws, API)
    r = run(ws, "check", "zendesk", str(API), "--format", "json")
    assert r.exit_code == 0, r.stdout + r.stderr
    got = {(x["ticket_id"], x["metric"]): x for x in json.loads(r.stdout)}
    # 1: Zendesk 75 / 181 vs servicekpi 75 / 180: within the 1-minute rounding tolerance
    assert set(got) == {("2", "full_resolution"), ("3", "first_reply"), ("4", "first_reply")}
    two = got[("2", "full_resolution")]
    # planted: Zendesk says 60 (the first solve); servicekpi 03-02 13:00 -> 03-04 10:00 = 2700
    assert (two["zendesk_minutes"], two["servicekpi_minutes"], two["difference"]) == (60, 2700, 2640)
    assert two["reason"].startswith("reopened 1 time(s)")
    three = got[("3", "first_reply")]
    # planted: Zendesk 20 (the trigger comment at 08:20); servicekpi 08:00 -> 09:00 = 60
    assert (three["zendesk_minutes"], three["servicekpi_minutes"], three["difference"]) == (20, 60, 40)
    assert "an agent opened the ticket" in three["reason"] and "1 bot/trigger/system comment(s)" in three["reason"]
    four = got[("4", "first_reply")]
    assert (four["zendesk_minutes"], four["servicekpi_minutes"]) == (5, None)
    assert four["reason"] == "no public agent reply found; 1 private agent note(s), never a reply in servicekpi"
    assert said(r.stderr, "compared 4 ticket(s) with Zendesk ticket_metrics: 3 disagreement(s)")


def test_check_table_output(ws):
    imported(ws, API)
    r = run(ws, "check", "zendesk", str(API))
    assert r.exit_code == 0, r.stderr
    assert said(r.stdout, "full_resolution") and said(r.stdout, "2640")


def test_check_agrees_when_metrics_match(ws, tmp_path):
    folder = tmp_path / "pages"
    shutil.copytree(API, folder)
    doc = json.loads((folder / "ticket_metrics.json").read_text(encoding="utf-8"))
    doc["ticket_metrics"] = [m for m in doc["ticket_metrics"] if m["ticket_id"] == 1]
    (folder / "ticket_metrics.json").write_text(json.dumps(doc), encoding="utf-8")
    imported(ws, folder)
    r = run(ws, "check", "zendesk", str(folder), "--format", "json")
    assert json.loads(r.stdout) == []


@pytest.mark.parametrize("args, message, code", [
    (("check", "zendesk", str(SAMPLE)), "no ticket_metrics pages found", 1),
    (("check", "zendesk", str(API), "--format", "xml"), "--format 'xml' is not one of: table, json", 2),
    (("check", "zendesk", str(API)), "no tickets imported yet", 1),
])
def test_check_errors(ws, args, message, code):
    r = run(ws, *args)
    assert r.exit_code == code
    assert said(r.stderr, f"Error: {message}") or said(r.stderr, message)


# -- folders that are not Zendesk data -------------------------------------------------------

def test_empty_or_mixed_folders_are_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConnectorError, match="no Zendesk data here"):
        zd.convert(empty)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(API / "users.json", mixed)
    shutil.copy(OWN / "ticket.csv", mixed)
    with pytest.raises(ConnectorError, match="both Support API JSON"):
        zd.convert(mixed)


def test_cli_reports_a_missing_folder(ws):
    r = run(ws, "import", str(ws.root / "nope"), "--source", "zendesk")
    assert r.exit_code == 1 and said(r.stderr, "Error:") and said(r.stderr, "no such file or folder")
