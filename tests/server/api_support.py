"""A small store behind a test server, with one token per role (tests/server/*)."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import Workspace
from servicekpi.server import tokens
from servicekpi.server.app import create_app
from servicekpi.store import db as store

ASOF = "2027-01-01T00:00:00Z"
ROLES = tokens.ROLES

TICKETS = [
    # Europe/Bucharest is UTC+3 until 25 Oct 2026, UTC+2 after: local hours are written beside each
    {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "channel": "email", "category": "technical",  # Thu 12h
     "team": "red", "agent_id": "a1", "customer_id": "C1", "customer_tier": "business",
     "first_response_at": "2026-10-01T09:30:00Z", "resolved_at": "2026-10-01T11:00:00Z"},
    {"ticket_id": "T2", "created_at": "2026-10-02T14:00:00Z", "channel": "chat", "category": "shipping",  # Fri 17h
     "team": "blue", "agent_id": "a2", "customer_id": "C2", "customer_tier": "enterprise",
     "first_response_at": "2026-10-02T15:00:00Z"},
    {"ticket_id": "T3", "created_at": "2026-10-05T09:10:00Z", "channel": "email", "category": "technical",  # Mon 12h
     "team": "red", "agent_id": "a1", "customer_id": "C3", "customer_tier": "freemium",
     "resolved_at": "2026-10-06T09:00:00Z"},
    {"ticket_id": "T4", "created_at": "2026-11-03T16:00:00Z", "channel": "phone", "category": "return",  # Tue 18h
     "team": "blue", "agent_id": "a2", "customer_id": "C1", "customer_tier": "business",
     "resolved_at": "2026-11-03T17:00:00Z"},
    {"ticket_id": "T5", "created_at": "2026-11-10T07:30:00Z", "channel": "email", "category": "shipping",  # Tue 9h
     "team": "red", "agent_id": "a1", "customer_id": "C2", "customer_tier": "enterprise"},
]
CUSTOMERS = [
    {"customer_id": "C1", "acquired_at": "2025-01-01T00:00:00Z", "tier": "business"},
    {"customer_id": "C2", "acquired_at": "2025-06-01T00:00:00Z", "tier": "enterprise",
     "churned_at": "2026-10-20T00:00:00Z"},
    {"customer_id": "C3", "acquired_at": "2026-10-01T00:00:00Z", "tier": "freemium"},
]
SURVEYS = [
    {"response_id": "R1", "survey": "csat", "score": 5, "responded_at": "2026-10-01T12:00:00Z", "ticket_id": "T1"},
    {"response_id": "R2", "survey": "csat", "score": 2, "responded_at": "2026-10-03T12:00:00Z", "ticket_id": "T2"},
    {"response_id": "R3", "survey": "csat", "score": 4, "responded_at": "2026-11-04T12:00:00Z", "ticket_id": "T4"},
]
CONFIG = 'timezone = "Europe/Bucharest"\n'


def build_store(root: Path) -> Workspace:
    """The small store through the CLI import (as users build theirs), and one token per role."""
    ws = Workspace(root)
    (root / "servicekpi.toml").write_text(CONFIG, encoding="utf-8")
    ws.write("tickets", TICKETS)
    ws.write("customers", CUSTOMERS)
    ws.write("surveys", SURVEYS)
    ws.load()
    return ws


def make_tokens(db: Path) -> dict[str, str]:
    con = store.connect(db)
    tokens.ensure(con)
    secrets = {}
    for role in ROLES:
        _, secrets[role] = tokens.create(con, role, "a1" if role == "agent" else None, f"test-{role}")
    _, secrets["agent_a2"] = tokens.create(con, "agent", "a2", "test-agent-a2")
    con.close()
    return secrets


def bearer(secret: str | None) -> dict:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(db: Path, **kw):
    """The app under a real uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn
    app = create_app(db, **kw)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("uvicorn did not start in 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


# -- fixtures (imported by the test modules: a second conftest.py would shadow tests/conftest.py) ---

def _server(root, **kw):
    from types import SimpleNamespace

    from fastapi.testclient import TestClient
    ws = build_store(root)
    secrets = make_tokens(ws.db)
    app = create_app(ws.db, **kw)
    return SimpleNamespace(ws=ws, app=app, client=TestClient(app, raise_server_exceptions=False), tokens=secrets)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """Shared by a module's read-only tests: do not write through it."""
    s = _server(tmp_path_factory.mktemp("srv"))
    with s.client:
        yield s


@pytest.fixture
def fresh(tmp_path):
    """A server of its own (body limit 64 KiB), for tests that write."""
    s = _server(tmp_path, max_body=64 * 1024)
    with s.client:
        yield s
