"""Read routes: the same rows as the CLI, the records behind them, the catalog, dims, heatmap,
agent isolation, names checked against the catalog and values bound, scorecard/spikes/reports."""
from __future__ import annotations

import json

import pytest
from api_support import ASOF, bearer, build_store, make_tokens, srv  # noqa: F401 - fixture
from fastapi.testclient import TestClient

from conftest import run
from servicekpi.catalog import LANGS, catalog
from servicekpi.server.app import create_app

CLI_QUERIES = [
    ["ticket_volume", "--by", "month"],
    ["ticket_volume", "--by", "month", "--dim", "channel"],
    ["first_response_time", "--by", "week", "--where", "team=red", "--from", "2026-10-01", "--to", "2026-10-31"],
    ["csat", "--dim", "channel"],
    ["churn_rate", "--by", "month", "--from", "2026-10-01", "--to", "2026-11-30"],
    ["avg_ticket_count", "--option", "per=week", "--tz", "UTC"],
    ["resolution_rate", "--by", "month", "--dim", "team", "--dim", "channel"],
    ["ticket_volume", "csat", "--by", "quarter", "--where", "channel=EMAIL"],
    ["backlog", "--by", "day", "--from", "2026-10-30", "--to", "2026-11-02"],
    ["first_response_time", "--option", "hours=business", "--by", "month"],
    ["sla_first_response_met", "--dim", "agent_id"],
]
FLAGS = {"--by": "by", "--dim": "dim", "--where": "where", "--from": "from", "--to": "to", "--option": "option",
         "--tz": "tz", "--as-of": "as_of"}


def api_params(args: list[str]) -> tuple[str, list[tuple[str, str]]]:
    ids = [a for a in args[:next((i for i, a in enumerate(args) if a.startswith("--")), len(args))]]
    rest = args[len(ids):]
    return ",".join(ids), [(FLAGS[rest[i]], rest[i + 1]) for i in range(0, len(rest), 2)] + [("as_of", ASOF)]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """CLI answers first (the server then holds the store), then the server over the same store."""
    ws = build_store(tmp_path_factory.mktemp("pair"))
    expected = []
    for args in CLI_QUERIES:
        r = run(ws, "kpi", *args, "--format", "json", "--as-of", ASOF)
        assert r.exit_code == 0, r.stdout + r.stderr
        expected.append(json.loads(r.stdout))
    secrets = make_tokens(ws.db)
    with TestClient(create_app(ws.db)) as client:
        yield client, secrets, expected


@pytest.mark.parametrize("i", range(len(CLI_QUERIES)), ids=[" ".join(q) for q in CLI_QUERIES])
def test_kpi_rows_equal_the_cli_json(pair, i):
    client, secrets, expected = pair
    ids, params = api_params(CLI_QUERIES[i])
    for _ in range(2):  # the second time through a pooled engine's compiled-SQL cache
        r = client.get(f"/api/kpis/{ids}", params=params, headers=bearer(secrets["viewer"]))
        assert r.status_code == 200, r.text
        assert r.json() == expected[i]
    assert expected[i], "the CLI answered rows"


def get(srv, path, role="viewer", **params):
    return srv.client.get(path, params={"as_of": ASOF, **params}, headers=bearer(srv.tokens[role]))


def test_catalog_lists_every_kpi_with_labels_in_every_language(srv):
    r = get(srv, "/api/kpis")
    assert r.status_code == 200
    kpis = {k["id"]: k for k in r.json()["kpis"]}
    assert set(kpis) == set(catalog().kpis)
    tv = kpis["ticket_volume"]
    assert set(tv["labels"]) == set(LANGS) and tv["labels"]["en"] == "Ticket volume" and tv["labels"]["zh"] == "工单量"
    assert tv["unit"] == "count" and tv["direction"] == "neutral" and tv["available"] is True
    assert {"channel", "team", "agent_id", "customer_tier", "category"} <= set(tv["dimensions"])
    assert "agent_id" not in kpis["churn_rate"]["dimensions"]
    assert kpis["avg_ticket_count"]["options"][0]["name"] == "per"
    assert kpis["nps"]["available"] is True and kpis["calls_offered"]["available"] is False


def test_agent_catalog_lists_only_kpis_with_an_agent_dimension(srv):
    ids = {k["id"] for k in get(srv, "/api/kpis", role="agent").json()["kpis"]}
    assert "ticket_volume" in ids and "csat" in ids
    assert not ids & {"churn_rate", "clv", "cac", "new_customers", "repurchase_rate"}


def test_rows_are_paginated_with_the_total(srv):
    pages = [get(srv, "/api/kpis/ticket_volume/rows", limit=2, offset=o).json() for o in (0, 2, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [len(p["rows"]) for p in pages] == [2, 2, 1]
    assert [r["ticket_id"] for p in pages for r in p["rows"]] == ["T1", "T2", "T3", "T4", "T5"]
    one = get(srv, "/api/kpis/ticket_volume/rows", where="channel=email", by="month").json()
    assert [r["ticket_id"] for r in one["rows"]] == ["T1", "T3", "T5"] and one["total"] == 3
    # the records keep their ids; `values` names them in every language, as the charts do
    assert {r["channel"] for r in one["rows"]} == {"email"}
    assert one["values"]["channel"]["email"]["en"] == "Email"
    assert set(one["values"]["channel"]["email"]) == {"en", "zh", "ro", "th"}
    assert one["values"]["channel"]["email"]["zh"] != "email"
    assert "ticket_id" not in one["values"]  # keys are not labelled


# -- agent isolation ---------------------------------------------------------------------------

def total(rows):
    return sum(r["value"] or 0 for r in rows)


def test_agent_sees_only_its_own_numbers(srv):
    r = get(srv, "/api/kpis/ticket_volume", role="agent")
    assert r.status_code == 200 and total(r.json()) == 3  # T1, T3, T5 are a1's
    by_agent = get(srv, "/api/kpis/ticket_volume", role="agent", dim="agent_id").json()
    assert {row["agent_id"] for row in by_agent} == {"a1"}
    other = get(srv, "/api/kpis/ticket_volume", role="agent_a2").json()
    assert total(other) == 2  # T2, T4


def test_agent_asking_for_another_agents_rows_gets_none(srv):
    r = get(srv, "/api/kpis/ticket_volume/rows", role="agent", where="agent_id=a2")
    assert r.status_code == 200 and r.json()["rows"] == [] and r.json()["total"] == 0
    assert total(get(srv, "/api/kpis/ticket_volume", role="agent", where="agent_id=a2").json()) == 0
    both = get(srv, "/api/kpis/ticket_volume/rows", role="agent", where=["agent_id=a2", "agent_id=a1"]).json()
    assert {row["agent_id"] for row in both["rows"]} == {"a1"}
    mine = get(srv, "/api/kpis/ticket_volume/rows", role="agent").json()
    assert [row["ticket_id"] for row in mine["rows"]] == ["T1", "T3", "T5"]


@pytest.mark.parametrize("kpi", ["churn_rate", "new_customers", "clv", "cac", "repurchase_rate", "ticket_volume,crr"])
def test_agent_gets_403_on_kpis_without_an_agent_dimension(srv, kpi):
    for path in (f"/api/kpis/{kpi}", f"/api/kpis/{kpi.split(',')[-1]}/rows"):
        r = get(srv, path, role="agent")
        assert r.status_code == 403, (path, r.text)
        assert "agent" in r.json()["error"]


def test_agent_dims_and_heatmap_are_its_own(srv):
    dims = get(srv, "/api/dims", role="agent").json()["dims"]
    assert dims["agent_id"] == ["a1"] and dims["team"] == ["red"]
    assert get(srv, "/api/heatmap", role="agent").json()["total"] == 3


# -- names against the catalog, values bound -------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"where": "channel; DROP TABLE tickets; --=x"},
    {"dim": "agent_id) OR 1=1 --"},
    {"dim": "\"tickets\""},
    {"by": "month; DELETE FROM tickets"},
    {"option": "stat=1; DROP TABLE tickets"},
])
def test_malicious_names_are_refused(srv, params):
    r = get(srv, "/api/kpis/first_response_time", **params)
    assert r.status_code == 400, r.text
    assert total(get(srv, "/api/kpis/ticket_volume").json()) == 5  # nothing dropped


@pytest.mark.parametrize("value", ["x' OR '1'='1", "email' --", "'; DROP TABLE tickets; --", "%", "a1\\"])
def test_malicious_values_are_bound_literals(srv, value):
    r = get(srv, "/api/kpis/ticket_volume", where=f"channel={value}")
    assert r.status_code == 200 and total(r.json()) == 0
    rows = get(srv, "/api/kpis/ticket_volume/rows", where=f"agent_id={value}").json()
    assert rows["total"] == 0
    assert total(get(srv, "/api/kpis/ticket_volume").json()) == 5


def test_a_value_of_the_wrong_type_is_a_400(srv):
    r = get(srv, "/api/kpis/resolution_rate", where="reopen_count=many")
    assert r.status_code in (400,), r.text


@pytest.mark.parametrize("path,params,status,says", [
    ("/api/kpis/ticket_volumes", {}, 404, "did you mean ticket_volume"),
    ("/api/kpis/ticket_volume", {"by": "fortnight"}, 400, "unknown period"),
    ("/api/kpis/ticket_volume", {"from": "2026-13-01"}, 400, "is not a date"),
    ("/api/kpis/ticket_volume", {"tz": "Mars/Olympus"}, 400, "IANA"),
    ("/api/kpis/ticket_volume", {"where": "channel"}, 400, "key=value"),
    ("/api/kpis/ticket_volume", {"as_of": "yesterday"}, 400, "not a timestamp"),
    ("/api/kpis/csat", {"dim": "colour"}, 400, "cannot be sliced by 'colour'"),
    ("/api/heatmap", {"kpi": "csat"}, 400, "not a count of events"),
])
def test_bad_queries_say_what_is_wrong(srv, path, params, status, says):
    r = get(srv, path, **params)
    assert r.status_code == status, r.text
    assert says in r.json()["error"]


# -- dashboard helpers -----------------------------------------------------------------------------

def test_dims_list_the_stored_values(srv):
    dims = get(srv, "/api/dims").json()["dims"]
    assert dims["channel"] == ["chat", "email", "phone"]
    assert dims["team"] == ["blue", "red"] and dims["agent_id"] == ["a1", "a2"]
    assert dims["customer_tier"] == ["business", "enterprise", "freemium"]
    assert dims["category"] == ["return", "shipping", "technical"]


def test_heatmap_counts_by_local_weekday_and_hour(srv):
    h = get(srv, "/api/heatmap").json()
    cells = h["cells"]
    assert h["tz"] == "Europe/Bucharest" and h["total"] == 5
    # UTC+3 in October, UTC+2 from 25 Oct: T1 Thu 12h, T2 Fri 17h, T3 Mon 12h, T4 Tue 18h, T5 Tue 9h
    assert (cells[3][12], cells[4][17], cells[0][12], cells[1][18], cells[1][9]) == (1, 1, 1, 1, 1)
    october = get(srv, "/api/heatmap", **{"from": "2026-10-01", "to": "2026-10-31"}).json()
    assert october["total"] == 3
    utc = get(srv, "/api/heatmap", tz="UTC", where="channel=email").json()
    assert utc["cells"][3][9] == 1 and utc["cells"][1][7] == 1 and utc["total"] == 3


# -- scorecard, spikes, reports ----------------------------------------------------------------------

def test_scorecard_of_a_month(srv):
    r = get(srv, "/api/scorecard", month="2026-10")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period_start"] == "2026-10-01" and body["period_end"] == "2026-10-31"
    csat = next(x for x in body["rows"] if x["kpi"] == "csat")
    assert (csat["value"], csat["numerator"], csat["denominator"]) == (50.0, 1, 2)  # R1 5 satisfied, R2 2 not
    # display strings beside the raw values (core/display.py); the raw keys are unchanged
    assert csat["display"]["value"] == "50.0%" and csat["display"]["status"] == "missed"  # default target 80%
    zh = next(x for x in get(srv, "/api/scorecard", month="2026-10", lang="zh").json()["rows"] if x["kpi"] == "csat")
    assert zh["display"]["status"] == "未达标" and zh["value"] == 50.0


def test_kpi_rows_carry_display_strings_when_a_language_is_asked(srv):
    """Issue 13: the dashboard shows values by the one formatter (core/display.py); the raw keys stay."""
    oct_ = {"from": "2026-10-01", "to": "2026-10-31", "by": "month", "dim": "team"}
    plain = get(srv, "/api/kpis/first_response_time", **oct_).json()
    assert all("display" not in r for r in plain)  # without lang: exactly the CLI's JSON
    rows = {r["team"]: r for r in get(srv, "/api/kpis/first_response_time", lang="en", **oct_).json()}
    # October FRT: red T1 09:00 -> 09:30 = 30 min (T3 unanswered); blue T2 14:00 -> 15:00 = 60 min
    assert (rows["red"]["value"], rows["red"]["unit"]) == (30.0, "minutes")
    assert rows["red"]["display"] == {"value": "30 min", "team": "Red"}
    assert rows["blue"]["display"]["value"] == "1 hr"
    zh = {r["team"]: r for r in get(srv, "/api/kpis/first_response_time", lang="zh", **oct_).json()}
    assert zh["red"]["display"]["value"] == "30分钟" and zh["red"]["value"] == 30.0
    assert get(srv, "/api/kpis/first_response_time", lang="fr").status_code == 400


def test_spikes_answer(srv):
    r = get(srv, "/api/spikes", **{"from": "2026-07-01", "to": "2026-11-30"})
    assert r.status_code == 200, r.text
    assert r.json()["spikes"] == [] and r.json()["dim"] == "category"


@pytest.mark.parametrize("fmt,magic", [("html", b"<!"), ("xlsx", b"PK"), ("pdf", b"%P")])
def test_viewer_downloads_reports(srv, fmt, magic):
    r = get(srv, f"/api/reports/2026-11.{fmt}", lang="ro")
    assert r.status_code == 200, r.text[:300]
    assert r.content[:2].upper() == magic.upper()
    assert "attachment" in r.headers["content-disposition"]


def test_report_names_are_checked(srv):
    assert get(srv, "/api/reports/2026-11.docx").status_code == 404
    assert get(srv, "/api/reports/2026-13.html").status_code == 400
    assert get(srv, "/api/reports/2026-11.html", lang="fr").status_code == 400
