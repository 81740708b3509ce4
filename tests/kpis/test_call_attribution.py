"""Attribution that does not mislead (issue 13 item 6): a call's team from [queues] (queue -> team),
the linked ticket's team as the fallback; call KPIs without a per-agent meaning say so by agent."""
from __future__ import annotations

import pytest

from conftest import Workspace, from_template

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def call(cid, queue, answered=True, agent=None, ticket=None):
    return {"call_id": cid, "entered_at": "2026-10-05T10:00:00Z",
            "answered_at": "2026-10-05T10:00:20Z" if answered else None, "ended_at": "2026-10-05T10:05:00Z",
            "outcome": "answered" if answered else "abandoned", "queue": queue, "agent_id": agent,
            "talk_seconds": 280 if answered else None, "ticket_id": ticket}


def _build(ws: Workspace) -> None:
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-05T09:00:00Z", "team": "blue", "agent_id": "a2"}])
    ws.write("calls", [
        call("K1", "support", agent="a1"), call("K2", "support", answered=False),  # support -> red by [queues]
        call("K3", "support", agent="a1", ticket="T1"),  # the map wins over the ticket's team
        call("K4", "sales", agent="a2", ticket="T1"),  # sales is not mapped: the linked ticket's team, blue
        call("K5", "sales", answered=False),  # not mapped, no ticket: no team
    ])
    ws.load()


@pytest.fixture
def calls(tmp_path) -> Workspace:
    ws = from_template(tmp_path, "call-attribution", _build)
    (ws.root / "servicekpi.toml").write_text('[queues]\nsupport = "red"\n', encoding="utf-8")
    return ws


def by(rows, dim):
    return {r[dim]: r for r in rows}


def test_a_calls_team_comes_from_its_queue_then_its_ticket(calls):
    rows = by(calls.kpi("calls_offered", *OCT, "--dim", "team"), "team")
    # red: K1 K2 K3 (queue support); blue: K4 (ticket T1); none: K5
    assert {t: r["value"] for t, r in rows.items()} == {"red": 3, "blue": 1, None: 1}
    # abandonment by team now separates the teams: red 1 of 3 abandoned, blue 0 of 1
    aband = by(calls.kpi("abandonment_rate", *OCT, "--dim", "team"), "team")
    assert (aband["red"]["numerator"], aband["red"]["denominator"]) == (1, 3)
    # without [queues] only the linked ticket gives a team: K3 and K4 are blue, the rest have none
    (calls.root / "servicekpi.toml").write_text("", encoding="utf-8")
    plain = by(calls.kpi("calls_offered", *OCT, "--dim", "team"), "team")
    assert {t: r["value"] for t, r in plain.items()} == {"blue": 2, None: 3}


@pytest.mark.parametrize("kpi", ["abandonment_rate", "answered_call_rate", "call_service_level"])
def test_rates_without_a_per_agent_meaning_say_so(calls, kpi):
    rows = calls.kpi(kpi, *OCT, "--dim", "agent_id")
    assert rows and all(r["value"] is None and r["note"].startswith("not attributable to an agent") for r in rows)
    one = calls.kpi(kpi, *OCT, "--where", "agent_id=a1")
    assert one[0]["value"] is None and one[0]["note"].startswith("not attributable to an agent")
    # by team or in total the rate is there: 2 of 5 calls abandoned
    total = calls.kpi("abandonment_rate", *OCT)[0]
    assert (total["numerator"], total["denominator"]) == (2, 5)


def test_aht_by_agent_is_still_per_agent(calls):
    rows = by(calls.kpi("aht", *OCT, "--dim", "agent_id"), "agent_id")
    assert rows["a1"]["value"] == 280.0 and "note" not in rows["a1"]  # K1, K3: 280 s each
