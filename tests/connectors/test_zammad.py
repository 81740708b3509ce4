"""Zammad connector, REST API v1 JSON -> canonical tables.

Fixture (tests/connectors/data/zammad/, October 2026 UTC; tickets.json is two pages):
  1 expand=true form, email, closed, owner 3, group Support: customer 09:00, internal note 09:10,
    System auto-reply 09:15, agent 3 email 09:30, an article with sender_id 9 (quarantined);
    history new->open 09:30, open->closed 11:00
  2 id form, web, closed, owner 4, group_id 2 (Billing in groups.json): customer 08:00, agent 4 08:45,
    customer 10:00, agent 10:20; history new->closed 09:00, closed->open 10:00, open->closed 12:00
  3 custom state 'waiting for parts' (state_type pending reminder), phone, owner 1 (nobody): customer
    10:00, agent public note 10:20 (type note: not a communication), agent email 10:50
  4 merged (excluded): customer 09:00, the 'merged' note 09:05
  5 created_at 'not a date' (quarantined); article 901 on ticket 999 (quarantined)
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "zammad"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")


def load(ws, path: Path = DATA, *extra: str):
    r = run(ws, "import", str(path), "--source", "zammad", *extra)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def per(ws, kpi: str, dim: str) -> dict:
    return {r[dim]: r["value"] for r in ws.kpi(kpi, *OCT, "--dim", dim)}


def test_first_response_skips_internal_system_and_note_articles(ws):
    load(ws)
    assert per(ws, "first_response_time", "ticket_id") == {
        "1": 30.0,  # 09:00 -> agent email 09:30 (internal note 09:10, System 09:15 are not replies)
        "2": 45.0,  # 08:00 -> 08:45
        "3": 50.0,  # 10:00 -> 10:50 (the public note at 10:20 is not a communication)
    }
    # (30 + 45 + 50) / 3 = 41.667 minutes; ticket 4 is merged (excluded)
    assert ws.value("first_response_time", *OCT) == pytest.approx(125 / 3)


def test_resolution_and_reopens_from_the_history(ws):
    load(ws)
    # 1: 09:00 -> last close 11:00 = 2 h; 2: 08:00 -> last close 12:00 = 4 h (not the first close 09:00);
    # (2 + 4) / 2 = 3 h; 3 is pending
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(3.0)
    # closed 2 of 3 counted tickets
    assert ws.value("resolution_rate", *OCT) == pytest.approx(200 / 3)
    # 1: one reply, no reopen -> first contact; 2: two replies and closed->open once -> not: 1 of 2
    assert ws.value("fcr_rate", *OCT) == pytest.approx(50.0)


def test_ticket_columns(ws):
    load(ws)
    rows = ws.kpi("ticket_volume", *OCT, "--dim", "ticket_id")
    assert {r["ticket_id"] for r in rows} == {"1", "2", "3"}  # 4 merged, excluded; 5 quarantined
    import duckdb
    con = duckdb.connect(str(ws.db), read_only=True)
    got = con.execute("SELECT ticket_id, status, channel, priority, agent_id, team, reopen_count, excluded "
                      "FROM tickets ORDER BY 1").fetchall()
    replies = con.execute("SELECT ticket_id, author, public, count(*) FROM messages GROUP BY ALL ORDER BY ALL")
    replies = replies.fetchall()
    con.close()
    assert got == [
        ("1", "closed", "email", "normal", "3", "Support", 0, False),
        ("2", "closed", "web_form", "high", "4", "Billing", 1, False),  # ids only: groups.json names group 2
        ("3", "pending", "phone", "low", None, "Support", 0, False),  # owner 1 is nobody
        ("4", "closed", "email", "normal", None, "Support", 0, True),  # merged
    ]
    assert replies == [
        ("1", "agent", False, 1), ("1", "agent", True, 1), ("1", "customer", True, 1), ("1", "system", True, 1),
        ("2", "agent", True, 2), ("2", "customer", True, 2),
        ("3", "agent", False, 1), ("3", "agent", True, 1), ("3", "customer", True, 1),
        ("4", "agent", False, 1), ("4", "customer", True, 1)]


def test_notes(ws):
    r = load(ws)
    for text in ("zammad: 1 merged ticket(s) kept with excluded=true",
                 "zammad: 1 System article(s) kept as author system (not replies)",
                 "zammad: 1 internal article(s) kept as non-public messages (not replies)",
                 "zammad: 2 public note(s) kept as non-public messages"):
        assert said(r.stderr, text), text


def test_bad_records_are_quarantined_with_location(ws):
    r = load(ws)
    q = {(Path(x["source"]).name, x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert set(q) == {("tickets.json", 5, "created_at"), ("articles.json", 5, "author"),
                      ("articles.json", 15, "ticket_id")}
    assert "'not a date' is not a timestamp" in q[("tickets.json", 5, "created_at")]
    assert "'unknown sender 9' is not one of: customer, agent, bot, system" in q[("articles.json", 5, "author")]
    assert "ticket '999' is not in tickets" in q[("articles.json", 15, "ticket_id")]
    # 4 tickets + 13 articles stored, nothing valid lost
    assert said(r.stdout, "imported 17, replaced 0, unchanged 0, rejected 3 rows")


def test_reimport_is_idempotent(ws):
    load(ws)
    again = load(ws)
    assert said(again.stdout, "imported 0, replaced 0, unchanged 17, rejected 3 rows")
    assert len(ws.quarantine()) == 3


def test_a_reopen_in_a_later_export_replaces_the_ticket(ws, tmp_path):
    load(ws)
    folder = tmp_path / "zm"
    shutil.copytree(DATA, folder)
    pages = json.loads((folder / "tickets.json").read_text())
    t1 = pages[0][0]
    t1.update(state="open", state_id=2, updated_at="2026-10-09T08:00:00.000Z")  # the customer wrote again
    (folder / "tickets.json").write_text(json.dumps(pages))
    hist = json.loads((folder / "ticket_history_1.json").read_text())
    hist["history"].append({"id": 1010, "o_id": 1, "created_by_id": 10, "created_at": "2026-10-09T08:00:00.000Z",
                            "object": "Ticket", "type": "updated", "attribute": "state",
                            "value_from": "closed", "value_to": "open"})
    (folder / "ticket_history_1.json").write_text(json.dumps(hist))
    r = load(ws, folder)
    assert said(r.stdout, "imported 0, replaced 1, unchanged 16")
    # only ticket 2 is resolved now: 4 h
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(4.0)
    assert per(ws, "ticket_volume", "status") == {"closed": 1, "open": 1, "pending": 1}


def test_states_by_id_without_ticket_states_json(ws, tmp_path):
    """Without ticket_states.json the seeded state ids and names decide; a custom state is unknown."""
    folder = tmp_path / "zm"
    shutil.copytree(DATA, folder)
    (folder / "ticket_states.json").unlink()
    r = run(ws, "import", str(folder), "--source", "zammad")
    assert said(r.stderr, "zammad: 1 ticket(s) with a state not in ticket_states.json nor Zammad's seeded states")
    q = [(Path(x["source"]).name, x["line"], x["column"]) for x in ws.quarantine()]
    assert ("tickets.json", 3, "status") in q  # 'waiting for parts' (page 1, item 3)
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(3.0)  # the seeded 'closed' still works


@pytest.mark.parametrize("args, message", [
    (["--mapping", "m.toml"], "--source zammad reads a folder of REST API JSON files"),
])
def test_wrong_options(ws, args, message):
    r = run(ws, "import", str(DATA), "--source", "zammad", *args)
    assert r.exit_code == 2  # a usage error
    assert said(r.stderr, message)


def test_missing_tickets_is_an_error(ws, tmp_path):
    r = run(ws, "import", str(tmp_path), "--source", "zammad")
    assert r.exit_code == 1
    assert said(r.stderr, "tickets.json is missing (GET /api/v1/tickets?expand=true)")
