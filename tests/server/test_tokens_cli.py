"""servicekpi token create|list|revoke and serve's options (through the CLI runner)."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from api_support import bearer

from conftest import run
from servicekpi.cli.commands.serve import is_loopback
from servicekpi.store import db as store

TOKEN = re.compile(r"^skt_[A-Za-z0-9_-]{43}$")
DOCS = Path(__file__).parents[2] / "docs" / "server.md"


def create(ws, *args):
    return run(ws, "token", "create", *args)


def test_create_prints_the_token_alone_on_the_last_line(ws):
    r = create(ws, "--role", "viewer", "--name", "wall")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.rstrip("\n").split("\n")
    assert TOKEN.match(lines[-1]), r.stdout
    assert re.match(r"created tok_[0-9a-f]{12} \(wall\): role viewer$", lines[0])
    assert "shown only now" in r.stderr


def test_only_the_hash_is_stored(ws):
    secret = create(ws, "--role", "agent", "--agent-id", "a7").stdout.rstrip().split("\n")[-1]
    con = store.connect(ws.db)
    try:
        rows = con.execute("SELECT * FROM api_tokens").fetchall()
        assert len(rows) == 1 and secret not in [str(v) for v in rows[0]]
        assert con.execute("SELECT hash, role, agent_id FROM api_tokens").fetchall()[0] == (
            hashlib.sha256(secret.encode()).hexdigest(), "agent", "a7")
    finally:
        con.close()


@pytest.mark.parametrize("args,says", [
    (["--role", "agent"], "an agent token needs --agent-id"),
    (["--role", "viewer", "--agent-id", "a1"], "--agent-id is only for --role agent"),
    (["--role", "boss"], "role 'boss' is not one of: admin, manager, viewer, agent, ingest"),
    (["--role", "viewer", "--name", " "], "--name must not be blank"),
])
def test_create_refuses_bad_arguments(ws, args, says):
    r = create(ws, *args)
    assert r.exit_code == 2 and r.stderr.startswith(f"Error: {says}"), r.stderr


def test_names_are_unique_among_active_tokens(ws):
    assert create(ws, "--role", "viewer", "--name", "wall").exit_code == 0
    r = create(ws, "--role", "viewer", "--name", "wall")
    assert r.exit_code == 2 and "already named 'wall'" in r.stderr
    assert run(ws, "token", "revoke", "wall").exit_code == 0
    assert create(ws, "--role", "viewer", "--name", "wall").exit_code == 0


def test_list_shows_no_secrets(ws):
    secret = create(ws, "--role", "manager", "--name", "ops").stdout.rstrip().split("\n")[-1]
    create(ws, "--role", "agent", "--agent-id", "a1")
    table = run(ws, "token", "list")
    assert table.exit_code == 0 and "ops" in table.stdout and "manager" in table.stdout
    listed = json.loads(run(ws, "token", "list", "--format", "json").stdout)
    assert [(t["name"], t["role"], t["agent_id"]) for t in listed] == [("ops", "manager", None), (None, "agent", "a1")]
    for out in (table.stdout, json.dumps(listed)):
        assert secret not in out and hashlib.sha256(secret.encode()).hexdigest() not in out


def test_revoke_by_id_or_name_and_the_api_refuses_it_after(ws):
    from fastapi.testclient import TestClient

    from servicekpi.server.app import create_app
    a = create(ws, "--role", "viewer", "--name", "first").stdout.rstrip().split("\n")
    b = create(ws, "--role", "viewer").stdout.rstrip().split("\n")
    token_id = re.search(r"tok_[0-9a-f]{12}", b[0]).group(0)
    assert run(ws, "token", "revoke", "first").stdout.strip() == f"revoked {re.search(r'tok_[0-9a-f]+', a[0]).group(0)} (first)"
    assert run(ws, "token", "revoke", token_id).exit_code == 0
    r = run(ws, "token", "revoke", "first")
    assert r.exit_code == 1 and "no active token has the id or name 'first'" in r.stderr
    assert json.loads(run(ws, "token", "list", "--format", "json").stdout) == []
    assert len(json.loads(run(ws, "token", "list", "--format", "json", "--revoked").stdout)) == 2
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z"}])
    ws.load()
    c = create(ws, "--role", "viewer").stdout.rstrip().split("\n")[-1]
    with TestClient(create_app(ws.db)) as client:
        assert client.get("/api/kpis", headers=bearer(a[-1])).status_code == 401
        assert client.get("/api/kpis", headers=bearer(b[-1])).status_code == 401
        assert client.get("/api/kpis", headers=bearer(c)).status_code == 200


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
                                       ("localhost", True), ("0.0.0.0", False), ("192.168.1.20", False),
                                       ("::", False), ("example.com", False)])
def test_loopback_hosts(host, loop):
    assert is_loopback(host) is loop


@pytest.fixture
def fake_uvicorn(monkeypatch):
    import uvicorn
    calls = []

    def fake_run(app, **kw):
        calls.append(kw)
        app.state.sk.close()
    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_serve_binds_loopback_by_default_quietly(ws, fake_uvicorn):
    r = run(ws, "serve")
    assert r.exit_code == 0, r.stderr
    assert fake_uvicorn[0]["host"] == "127.0.0.1" and fake_uvicorn[0]["port"] == 8000
    assert "WARNING" not in r.stderr and "http://127.0.0.1:8000/" in r.stderr
    assert not (ws.root / "store.duckdb.serve.json").exists()  # removed when the server stops


def test_serve_warns_loudly_off_loopback(ws, fake_uvicorn):
    r = run(ws, "serve", "--host", "0.0.0.0", "--port", "8123")
    assert r.exit_code == 0, r.stderr
    assert fake_uvicorn[0]["host"] == "0.0.0.0" and fake_uvicorn[0]["port"] == 8123
    assert "WARNING: servicekpi is listening on 0.0.0.0, not on loopback" in r.stderr.replace("\n", " ")
    assert "!" * 72 in r.stderr


@pytest.mark.parametrize("args,says", [(["--port", "0"], "--port 0 is not a TCP port"),
                                       (["--max-body-mb", "-1"], "--max-body-mb must be a positive number")])
def test_serve_refuses_bad_options(ws, fake_uvicorn, args, says):
    r = run(ws, "serve", *args)
    assert r.exit_code == 2 and says in r.stderr and fake_uvicorn == []


def test_serve_reports_a_bad_server_config(ws, fake_uvicorn):
    (ws.root / "servicekpi.toml").write_text("[server]\nmax_body_mb = 'big'\n", encoding="utf-8")
    r = run(ws, "serve")
    assert r.exit_code == 1 and "key server.max_body_mb: expected a positive number" in r.stderr


@pytest.mark.parametrize("word", ["servicekpi serve", "--host", "--port", "--db", "--config", "--max-body-mb",
                                  "token create", "token list", "token revoke", "--role", "--agent-id", "--name",
                                  "max_body_mb", "query_engines"])
def test_every_command_and_option_is_documented(word):
    assert word in DOCS.read_text(encoding="utf-8")
