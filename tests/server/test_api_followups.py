"""GET /api/followups and POST /api/followups/{id}/done: roles, agent isolation, the audit trail."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "followups"))
from api_support import ASOF, bearer, make_tokens  # noqa: E402
from test_followups import FEEDBACK, MESSAGES, SURVEYS, TICKETS  # noqa: E402

from conftest import Workspace  # noqa: E402
from servicekpi.server.app import create_app  # noqa: E402


@pytest.fixture
def api(tmp_path):
    ws = Workspace(tmp_path)
    for table, rows in (("tickets", TICKETS), ("messages", MESSAGES), ("surveys", SURVEYS), ("feedback", FEEDBACK)):
        ws.write(table, rows)
    ws.load()
    secrets = make_tokens(ws.db)
    with TestClient(create_app(ws.db), raise_server_exceptions=False) as client:
        yield client, secrets


def ids(client, secret, **params):
    r = client.get("/api/followups", params={"as_of": ASOF, **params}, headers=bearer(secret))
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["rows"]]


def test_manager_sees_the_whole_queue(api):
    client, tok = api
    assert ids(client, tok["manager"]) == ["feedback:F2", "survey:R7", "survey:R3", "survey:R4"]
    assert ids(client, tok["viewer"]) == ["feedback:F2", "survey:R7", "survey:R3", "survey:R4"]


def test_agents_see_only_their_own(api):
    client, tok = api
    assert ids(client, tok["agent"]) == ["survey:R3", "survey:R4"]  # a1: T3, T4
    assert ids(client, tok["agent_a2"]) == ["survey:R7"]  # a2: T5
    assert ids(client, tok["agent_a2"], all="true") == ["survey:R7", "survey:R2"]


@pytest.mark.parametrize("role", ["viewer", "agent", "ingest"])
def test_only_managers_and_admins_mark(api, role):
    client, tok = api
    r = client.post("/api/followups/survey:R3/done", json={"note": "x"}, headers=bearer(tok[role]))
    assert r.status_code == 403 and role in r.json()["error"]
    assert "survey:R3" in ids(client, tok["manager"])


def test_without_a_token(api):
    client, _ = api
    assert client.get("/api/followups").status_code == 401
    assert client.post("/api/followups/survey:R3/done", json={}).status_code == 401


def test_manager_marks_and_it_is_audited(api):
    client, tok = api
    r = client.post("/api/followups/survey:R3/done", json={"note": "called back"}, headers=bearer(tok["manager"]))
    assert r.status_code == 200, r.text
    assert (r.json()["marked_by"], r.json()["role"], r.json()["note"]) == ("test-manager", "manager", "called back")
    assert "survey:R3" not in ids(client, tok["manager"])
    rows = client.get("/api/followups", params={"all": "true"}, headers=bearer(tok["admin"])).json()["rows"]
    mine = next(x for x in rows if x["id"] == "survey:R3")
    assert (mine["followed_up_by"], mine["marked_by"]) == ("marked", "test-manager")
    again = client.post("/api/followups/survey:R3/done", json={}, headers=bearer(tok["admin"]))
    assert again.status_code == 409 and "already marked" in again.json()["error"]


@pytest.mark.parametrize("item,status", [("survey:R5", 404), ("nothing", 400)])
def test_mark_errors(api, item, status):
    client, tok = api
    r = client.post(f"/api/followups/{item}/done", json={}, headers=bearer(tok["admin"]))
    assert r.status_code == status and r.json()["ok"] is False
