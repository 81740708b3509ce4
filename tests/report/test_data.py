"""The report's data equals what `servicekpi kpi` answers; reach, as-of and targets by hand."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from servicekpi.core import config as cfg_mod
from servicekpi.engine.query import Engine
from servicekpi.report import data
from servicekpi.report.i18n import period_label
from servicekpi.sample.generate import generate

ASOF = "2026-11-01T00:00:00Z"
ASOF_UTC = dt.datetime(2026, 11, 1)
FIRST, LAST = "2025-11-01", "2026-10-31"
CONFIG = '''timezone = "Europe/Bucharest"

[[sla]]
name = "urgent"
match = { priority = "urgent" }
first_response = "1h"
resolution = "8h"
'''


def sample_store(root: Path):
    """A generated operation (1,500 tickets, May-October 2026) in a Europe/Bucharest workspace
    with one SLA rule, imported through the CLI. Returns the conftest Workspace."""
    from conftest import from_template
    return from_template(root, "report-sample", _build_sample)


def _build_sample(ws) -> None:
    generate(ws.data, tickets=1500, seed=11, months=6, end=dt.date(2026, 11, 1))
    (ws.root / "servicekpi.toml").write_text(CONFIG, encoding="utf-8")
    ws.load()


def build(ws, month=dt.date(2026, 10, 1), asof=ASOF_UTC, lang="en", by="month"):
    cfg = cfg_mod.load(ws.root / "servicekpi.toml") if (ws.root / "servicekpi.toml").exists() else None
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return data.build(Engine(con, cfg), *data.month_range(month), by=by, lang=lang, asof=asof)
    finally:
        con.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    ws = sample_store(tmp_path_factory.mktemp("sample"))
    return ws, build(ws)


def same(a, b) -> bool:
    """Equal, up to the last bits of a float: DuckDB sums floats in parallel in no fixed order, so
    `servicekpi kpi engagement_score` itself can differ from run to run by ~1e-15 (relative)."""
    if a is None or b is None or isinstance(a, int) and isinstance(b, int):
        return a == b
    return a == pytest.approx(b, rel=1e-12, abs=0)


def by_key(rows, *dims):
    return {(r["kpi"], r["period_start"], *[r.get(d) for d in dims]): r for r in rows}


def test_twelve_months_ending_with_the_requested_one(sample):
    _, report = sample
    assert [p.start for p in report.periods] == [dt.date(2025, 11, 1), dt.date(2025, 12, 1)] + [
        dt.date(2026, m, 1) for m in range(1, 11)]
    assert report.periods[-1].end == dt.date(2026, 10, 31)
    assert report.periods[-1].label == period_label(dt.date(2026, 10, 1), "month", "en")
    assert report.tz == "Europe/Bucharest" and report.asof == ASOF_UTC and not any(report.partial)


def test_tracker_values_equal_the_kpi_command(sample):
    ws, report = sample
    ids = [s.kpi for s in report.series]
    assert {"csat", "nps", "first_response_time", "aht", "crr", "ticket_volume"} <= set(ids)
    assert "sla_at_risk" not in ids and "channel_share" not in ids
    rows = by_key(ws.kpi(*ids, "--by", "month", "--from", FIRST, "--to", LAST, asof=ASOF))
    for s in report.series:
        for p, v, n, d in zip(report.periods, s.values, s.numerators, s.denominators):
            r = rows[(s.kpi, p.start.isoformat())]
            assert same(v, r["value"]) and same(n, r["numerator"]) and same(d, r["denominator"]), (s.kpi, p.start)
            assert type(v) is type(r["value"])  # counts stay integers, like the command's JSON


def test_every_kpi_with_data_has_a_row(sample):
    ws, report = sample
    ids = [k for k in data.kpi_order() if not k.startswith("sla_")]
    rows = ws.kpi(*ids, "--by", "month", "--from", FIRST, "--to", LAST, asof=ASOF)
    with_data = {r["kpi"] for r in rows if r["value"] is not None}
    assert {s.kpi for s in report.series} == with_data


def test_by_channel_equals_the_kpi_command_sliced_by_channel(sample):
    ws, report = sample
    ids = sorted({s.kpi for series in report.by_channel.values() for s in series})
    assert "csat" in ids and "aht" in ids and "cac" not in ids  # cac cannot be sliced by channel
    rows = by_key(ws.kpi(*ids, "--by", "month", "--dim", "channel", "--from", FIRST, "--to", LAST, asof=ASOF),
                  "channel")
    for channel, series in report.by_channel.items():
        for s in series:
            for p, v in zip(report.periods, s.values):
                r = rows.get((s.kpi, p.start.isoformat(), None if channel == "(none)" else channel))
                assert same(v, r["value"] if r else None), (channel, s.kpi, p.start)


def test_by_team_when_tickets_carry_teams(sample):
    ws, report = sample
    assert report.agent_dim == "team"
    rows = by_key(ws.kpi("first_response_time", "--by", "month", "--dim", "team", "--from", FIRST, "--to", LAST,
                         asof=ASOF), "team")
    team, series = next(iter(report.by_agent.items()))
    frt = next(s for s in series if s.kpi == "first_response_time")
    assert frt.values == [rows[("first_response_time", p.start.isoformat(), team)]["value"] for p in report.periods]


def test_agent_rows_are_the_leaderboard_of_the_last_month(sample):
    # the "By team and agent" sheet's agent rows (issue 13 item 7): the last month's per-agent board,
    # every value equal to `servicekpi kpi ID --dim agent_id` for October
    ws, report = sample
    assert report.agents and report.agents["rows"] and report.agents["from"] == "2026-10-01"
    rows = by_key(ws.kpi("csat", "--dim", "agent_id", "--from", "2026-10-01", "--to", LAST, asof=ASOF), "agent_id")
    for r in report.agents["rows"]:
        cell = r["values"]["csat"]
        want = rows.get(("csat", None, r["agent_id"]))
        assert same(cell["value"], want["value"] if want else None), r["agent_id"]
        assert r["team"] is not None


def test_the_html_report_lists_the_agents_as_the_leaderboard_does(sample):
    """The HTML (and PDF) report has the XLSX's agent rows under the teams, equal to `servicekpi
    leaderboard` for October 2026: each value, its n and the team average through the one formatter,
    small samples marked "few"; the heads translated."""
    import json
    import re
    from html import unescape

    from servicekpi.core import display
    from servicekpi.report import html

    ws, report = sample
    page = html.render(report)
    assert '<section id="agents">' in page
    part = page.split('<section id="agents">', 1)[1].split("</section>", 1)[0]
    heads = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", part)]
    assert heads == ["agent", "team", "Tickets handled", "FRT", "AHT", "CSAT", "FCR", "QA score"]
    r = ws.cli("leaderboard", "--from", "2026-10-01", "--to", LAST, "--as-of", ASOF, "--format", "json")
    assert r.exit_code == 0, r.stderr
    board = json.loads(r.stdout)
    rows = re.findall(r'<tr data-agent="(.*?)">(.*?)</tr>', part)
    assert [a for a, _ in rows] == [b["agent_id"] for b in board["rows"]] and len(rows) > 1  # same order
    shown = {"seconds": lambda v: display.value(v, "seconds", "en", length="narrow"),
             "percent": lambda v: display.value(v, "percent"), "count": lambda v: display.value(v, "count")}
    for (agent, cells), want in zip(rows, board["rows"]):
        for col in board["columns"]:
            cell = re.search(rf'<td data-col="{col["id"]}"[^>]*>(.*?)</td>', cells).group(1)
            text = unescape(re.sub(r"<[^>]+>", " ", cell))
            v = want["values"][col["id"]]
            fmt = shown[col["unit"]]
            assert text.split()[0] == (fmt(v["value"]).split()[0] if v["value"] is not None else "—"), (agent, col)
            if v["n"] is not None:
                assert f"n {display.value(v['n'], 'count')}" in text, (agent, col)
            if v["team_avg"] is not None:
                assert f"team average {fmt(v['team_avg'])}" in " ".join(text.split()), (agent, col)
            assert ("few" in text.split()) == bool(v["small_sample"]), (agent, col)
    zh = html.render(dataclasses.replace(report, lang="zh"))
    zh_part = zh.split('<section id="agents">', 1)[1].split("</section>", 1)[0]
    assert "<th>处理工单数</th>" in zh_part and "团队平均" in zh_part and "客服人员，2026-10-01" in zh_part


def test_sla_series_when_policies_exist(sample):
    ws, report = sample
    # no rule sets a next-response target, so sla_next_response_met has no data and no row;
    # sla_at_risk is the state at the as-of instant, not a period's measure
    assert [s.kpi for s in report.sla] == ["sla_first_response_met", "sla_resolution_met", "sla_breaches"]
    rows = by_key(ws.kpi("sla_resolution_met", "--by", "month", "--from", FIRST, "--to", LAST, asof=ASOF))
    met = next(s for s in report.sla if s.kpi == "sla_resolution_met")
    assert met.values == [rows[("sla_resolution_met", p.start.isoformat())]["value"] for p in report.periods]


def test_volume_equals_ticket_volume_by_category(sample):
    ws, report = sample
    rows = by_key(ws.kpi("ticket_volume", "--by", "month", "--dim", "category", "--from", FIRST, "--to", LAST,
                         asof=ASOF), "category")
    category = next(v for v in report.volume if v.dim == "category")
    assert category.counts  # the generator writes categories
    # months before the first ticket are no data (null) for the kpi command; the volume table counts
    # them 0 (a report over the CLI or API starts at the data anyway: data.cut_to_data)
    for value, counts in category.counts.items():
        assert counts == [rows[("ticket_volume", p.start.isoformat(), value)]["value"] or 0 for p in report.periods]
    totals = [sum(c[i] for c in category.counts.values()) for i in range(12)]
    volume = next(s for s in report.series if s.kpi == "ticket_volume")
    assert totals == [v or 0 for v in volume.values]


def test_targets_from_the_defaults(sample):
    _, report = sample
    csat = next(s for s in report.series if s.kpi == "csat")
    # no [targets] table: the sourced default CSAT 80 with an at-risk band of 5
    assert (csat.target, csat.at_risk) == (80.0, 5.0)
    for v, st in zip(csat.values, csat.status):
        assert st == ("no_data" if v is None else "met" if v >= 80 else "at_risk" if v >= 75 else "missed")


# -- small hand-built stores ---------------------------------------------------------------------

def _small(ws, extra_tickets=(), extra_surveys=()):
    (ws.root / "servicekpi.toml").write_text('timezone = "Europe/Bucharest"\n[targets.csat]\nvalue = 80\n'
                                             'at_risk = 5\n', encoding="utf-8")
    tickets = [
        {"ticket_id": "t1", "created_at": "2026-10-30T10:00:00Z", "channel": "email", "category": "return",
         "resolved_at": "2026-11-02T10:00:00Z"},
        # 21:58 UTC on 31 October is 23:58 in Bucharest (EET, UTC+2 since 25 October)
        {"ticket_id": "t2", "created_at": "2026-10-31T21:58:00Z", "channel": "chat", "category": "return"},
        *extra_tickets]
    # CSAT: 5, 5, 4 satisfied, 2 not -> 3 / 4 = 75% (target 80, band 5 -> at risk)
    surveys = [{"response_id": f"s{i}", "survey": "csat", "score": s, "responded_at": "2026-10-20T12:00:00Z"}
               for i, s in enumerate((5, 5, 4, 2))] + list(extra_surveys)
    ws.write("tickets", tickets)
    ws.write("surveys", surveys)
    ws.load()


# local midnight at the start of 1 November in Bucharest
SMALL_ASOF = dt.datetime(2026, 10, 31, 22, 0)


def test_reach_is_the_latest_event_in_local_time_as_of(ws):
    _small(ws, extra_tickets=[{"ticket_id": "t3", "created_at": "2026-10-31T22:30:00Z"}])
    report = build(ws, asof=SMALL_ASOF)
    # t3 (00:30 local on 1 November) is after the as-of instant and does not count
    # 12:00 UTC on 20 October is 15:00 in Bucharest (EEST, UTC+3 until 25 October)
    assert report.reach == {"surveys": dt.datetime(2026, 10, 20, 15, 0), "tickets": dt.datetime(2026, 10, 31, 23, 58)}


def test_status_against_a_config_target(ws):
    _small(ws)
    csat = next(s for s in build(ws, asof=SMALL_ASOF).series if s.kpi == "csat")
    assert (csat.values[-1], csat.numerators[-1], csat.denominators[-1]) == (75.0, 3, 4)
    assert (csat.target, csat.at_risk, csat.status[-1], csat.status[0]) == (80.0, 5.0, "at_risk", "no_data")


def test_as_of_reproduces_a_past_report_after_later_imports(ws):
    _small(ws)
    before = build(ws, asof=SMALL_ASOF)
    # later: t2 gets resolved, new tickets and answers arrive, all after the as-of instant
    ws.write("tickets", [{"ticket_id": "t2", "created_at": "2026-10-31T21:58:00Z", "channel": "chat",
                          "category": "return", "resolved_at": "2026-11-03T08:00:00Z"},
                         {"ticket_id": "t9", "created_at": "2026-11-04T08:00:00Z", "channel": "chat"}])
    ws.write("surveys", [{"response_id": "s9", "survey": "csat", "score": 1, "responded_at": "2026-11-04T09:00:00Z"}])
    ws.load()
    after = build(ws, asof=SMALL_ASOF)
    assert dataclasses.asdict(after) == dataclasses.asdict(before)
    later = build(ws, month=dt.date(2026, 11, 1), asof=dt.datetime(2026, 12, 1))
    assert later.reach["tickets"] == dt.datetime(2026, 11, 4, 10, 0)  # the new data does show after it


def test_week_periods_for_a_range(ws):
    _small(ws)
    cfg = cfg_mod.load(ws.root / "servicekpi.toml")
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        report = data.build(Engine(con, cfg), dt.date(2026, 10, 14), dt.date(2026, 10, 31), by="week",
                            asof=SMALL_ASOF)
    finally:
        con.close()
    # Wed 14 Oct is inside the week of Mon 12 Oct (clipped, partial); then 19 and 26 October
    assert [(p.start, p.end) for p in report.periods] == [
        (dt.date(2026, 10, 14), dt.date(2026, 10, 18)), (dt.date(2026, 10, 19), dt.date(2026, 10, 25)),
        (dt.date(2026, 10, 26), dt.date(2026, 10, 31))]
    assert report.partial == [True, False, True]  # the last week ends on Sunday 1 November
    volume = next(s for s in report.series if s.kpi == "ticket_volume")
    assert volume.values == [None, None, 2]  # the weeks before the first ticket are no data, not 0


def test_sla_series_with_the_default_policy_too(ws):
    _small(ws)  # no [[sla]]: the default policy (first response 24 h, resolution 72 h) applies
    report = build(ws, asof=SMALL_ASOF)
    breaches = next(s for s in report.sla if s.kpi == "sla_breaches")
    # October: t1 (30 Oct 10:00 UTC, no reply) is past its 24 h first-response target at the as-of
    # (31 Oct 22:00 UTC, 36 h later); t2 (21:58 UTC, 2 min old) is not -> 1 breach
    assert breaches.values[-1] == 1


def test_by_agent_shows_the_names_of_the_agents_table(ws):
    # issue 15 item 3: tickets with agents but no team -> the by-agent section; a1 has a name, a2 none
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-10-05T09:00:00Z", "agent_id": "a1"},
        {"ticket_id": "T2", "created_at": "2026-10-06T09:00:00Z", "agent_id": "a1"},
        {"ticket_id": "T3", "created_at": "2026-10-07T09:00:00Z", "agent_id": "a2"},
    ])
    ws.write("agents", [{"agent_id": "a1", "name": "Ana Pop"}, {"agent_id": "a2", "name": ""}])
    ws.load()
    report = build(ws)
    assert report.agent_dim == "agent_id"
    # ordered by ticket volume (a1 2, a2 1); a2 has no name, so its id is shown alone
    assert list(report.by_agent) == ["Ana Pop (a1)", "a2"]
    volume = next(s for s in report.by_agent["Ana Pop (a1)"] if s.kpi == "ticket_volume")
    assert volume.values[-1] == 2
    # the agents table names people; it has no "complete through" date in the report's reach list
    assert set(report.reach) == {"tickets"}


def test_the_catalog_and_the_sla_kpis_are_one_engine_query(sample, monkeypatch):
    """The report's unsliced KPIs, SLA ones included, come from one engine query (one statement
    per KPI group); the other queries are the sliced ones (channel, team) and the volume's."""
    ws, report = sample
    asked = []
    real = Engine.evaluate
    monkeypatch.setattr(Engine, "evaluate", lambda self, q: asked.append(q) or real(self, q))
    again = build(ws)
    unsliced = [q for q in asked if not q.dims]
    assert len(unsliced) == 1 and {"sla_resolution_met", "first_response_time"} <= set(unsliced[0].kpis)
    assert [s.kpi for s in again.sla] == [s.kpi for s in report.sla]
    assert [s.values for s in again.series] == [s.values for s in report.series]
