"""`servicekpi sync zammad` against a local stub of Zammad's REST API (127.0.0.1 only).

The stub serves the tickets, articles and histories of tests/connectors/data/zammad (see
test_zammad.py) through the endpoints the sync reads: ticket_states, groups, tickets/search
(query updated_at:[X TO *], sort_by updated_at asc, page/per_page, expand=true),
ticket_articles/by_ticket/{id} and ticket_history/{id}. It checks `Authorization: Token token=...`
on every request and can answer a request with a fault (429 with Retry-After, 500).
Ticket updated_at order: 1 (10-05), 2 (10-06), 3 (10-07), 4 (10-08), 5 (10-09, bad created_at).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from conftest import run, said
from servicekpi.connectors import zammad_sync as zs

DATA = Path(__file__).parent / "data" / "zammad"
TOKEN = "zmTok-41c7e2a9b3d5-SECRET"  # noqa: S105 - a test token the stub accepts
ENV = "ZAMMAD_SYNC_TEST_TOKEN"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
DOCS = Path(__file__).parents[2] / "docs" / "connectors" / "zammad.md"


class Stub:
    def __init__(self):
        self.tickets = [t for page in json.loads((DATA / "tickets.json").read_text()) for t in page]
        self.articles: dict[int, list] = {}
        for a in json.loads((DATA / "articles.json").read_text()):
            self.articles.setdefault(a["ticket_id"], []).append(a)
        self.history = {t["id"]: json.loads((DATA / f"ticket_history_{t['id']}.json").read_text())
                        if (DATA / f"ticket_history_{t['id']}.json").exists() else {"history": [], "assets": {}}
                        for t in self.tickets}
        self.states = json.loads((DATA / "ticket_states.json").read_text())
        self.groups = json.loads((DATA / "groups.json").read_text())
        self.faults: dict[str, list] = {}
        self.log: list[tuple[str, dict, str | None]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle(self, h) -> None:
        parts = urlsplit(h.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.log.append((parts.path, q, h.headers.get("Authorization")))
        action = self.faults[parts.path].pop(0) if self.faults.get(parts.path) else None
        if action is not None:
            return self.send(h, action[0], {"error": "fault"}, action[1])
        if h.headers.get("Authorization") != f"Token token={TOKEN}":
            return self.send(h, 401, {"error": "Invalid token!"})
        body = self.route(parts.path, q)
        return self.send(h, 404, {"error": "Couldn't find Ticket"}) if body is None else self.send(h, 200, body)

    def send(self, h, code, body, headers=None) -> None:
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def paged(self, items: list, q: dict) -> list:
        page, per = int(q.get("page", 1)), int(q.get("per_page", 100))
        return items[(page - 1) * per: page * per]

    def route(self, path: str, q: dict):
        if path == "/api/v1/ticket_states":
            return self.paged(self.states, q)
        if path == "/api/v1/groups":
            return self.paged(self.groups, q)
        if path == "/api/v1/tickets/search":
            assert q["sort_by"] == "updated_at" and q["order_by"] == "asc" and q["expand"] == "true"
            since = q["query"].removeprefix("updated_at:[").removesuffix(" TO *]")
            found = sorted((t for t in self.tickets if t["updated_at"] >= since), key=lambda t: t["updated_at"])
            return self.paged(found, q)
        parts = path.strip("/").split("/")
        if parts[:4] == ["api", "v1", "ticket_articles", "by_ticket"]:
            return self.articles.get(int(parts[4]), [])
        if parts[:3] == ["api", "v1", "ticket_history"]:
            return self.history.get(int(parts[3]))
        return None

    def searches(self) -> list[str]:
        return [f"{q['query']} p{q['page']}" for p, q, _ in self.log if p == "/api/v1/tickets/search"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.close()


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(zs, "sleep", waits.append)
    return waits


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv(ENV, TOKEN)


def sync(ws, stub, *extra):
    return run(ws, "sync", "zammad", "--url", stub.url, "--token-env", ENV, "--per-page", "2", *extra)


def stored(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_pages_rate_limit_and_an_incremental_second_sync(ws, stub, slept, token):
    # page 1 is served; the first request for page 2 is rate limited
    stub.faults["/api/v1/tickets/search"] = [None, (429, {"Retry-After": "7"})]

    first = sync(ws, stub)
    assert first.exit_code == 0, first.stdout + first.stderr
    assert slept == [7]  # the Retry-After
    start = "updated_at:[1970-01-01T00:00:00Z TO *]"
    # pages of 2: [1, 2] [3, 4] (429, asked again) [5]
    assert stub.searches() == [f"{start} p1", f"{start} p2", f"{start} p2", f"{start} p3"]
    assert all(auth in (f"Token token={TOKEN}",) for _, _, auth in stub.log)
    assert said(first.stdout, "3 ticket page(s), 5 ticket(s); imported 17, replaced 0, unchanged 0, rejected 2 rows")
    assert stored(ws, "SELECT cursor FROM sync_state WHERE source = 'zammad' AND stream = 'tickets'") == [
        ("2026-10-09T09:00:00.000Z",)]
    # ticket 5 (bad created_at) and article 105 (sender 9) are quarantined, each located at its endpoint
    assert sorted((q["source"].removeprefix(stub.url), q["line"], q["column"]) for q in ws.quarantine()) == [
        ("/api/v1/ticket_articles/by_ticket/1", 5, "author"),
        ("/api/v1/tickets/search?query=updated_at:[1970-01-01T00:00:00Z TO *]&page=3", 1, "created_at")]
    # (30 + 45 + 50) / 3 minutes; (2 + 4) / 2 hours, as in the file import
    assert ws.value("first_response_time", *OCT) == pytest.approx(125 / 3)
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(3.0)

    # ticket 3 is closed on 10-10 08:00: only it (and 5, in the cursor's own second) is read again
    t3 = next(t for t in stub.tickets if t["id"] == 3)
    t3.update(state="closed", state_id=4, last_close_at="2026-10-10T08:00:00.000Z",
              updated_at="2026-10-10T08:00:00.000Z")
    stub.history[3]["history"].append({"id": 3002, "o_id": 3, "created_by_id": 3, "object": "Ticket",
                                       "type": "updated", "attribute": "state",
                                       "created_at": "2026-10-10T08:00:00.000Z",
                                       "value_from": "waiting for parts", "value_to": "closed"})
    before = len(stub.log)
    second = sync(ws, stub)
    assert second.exit_code == 0, second.stdout + second.stderr
    asked = [f"{q['query']} p{q['page']}" for p, q, _ in stub.log[before:] if p == "/api/v1/tickets/search"]
    # a full page of 2 (5, then 3) is followed by an empty page 2
    assert asked == ["updated_at:[2026-10-09T09:00:00.000Z TO *] p1", "updated_at:[2026-10-09T09:00:00.000Z TO *] p2"]
    assert said(second.stdout, "2 ticket page(s), 2 ticket(s); imported 0, replaced 1, unchanged 3, rejected 1 rows")
    assert len(ws.quarantine()) == 2  # ticket 5 again: not a second entry
    # t3: 10-07 10:00 -> 10-10 08:00 = 70 h; (2 + 4 + 70) / 3 = 25.333 h
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(76 / 3)
    assert stored(ws, "SELECT count(*), count(DISTINCT ticket_id) FROM tickets") == [(4, 4)]
    assert stored(ws, "SELECT count(*), count(DISTINCT message_id) FROM messages") == [(13, 13)]

    third = sync(ws, stub)  # nothing changed: re-sync is idempotent
    assert said(third.stdout, "imported 0, replaced 0")


def test_a_failure_keeps_the_pages_before_and_resumes(ws, stub, slept, token):
    stub.faults["/api/v1/ticket_history/3"] = [(500, {})] * 6  # page 2 cannot be completed
    first = sync(ws, stub)
    assert first.exit_code == 1
    assert slept == [1, 2, 4, 8, 16]
    assert said(first.stderr, "Error: GET /api/v1/ticket_history/3: HTTP 500; gave up after 6 attempts. The sync "
                              "stopped there")
    assert stored(ws, "SELECT ticket_id FROM tickets ORDER BY 1") == [("1",), ("2",)]
    assert stored(ws, "SELECT cursor FROM sync_state WHERE source = 'zammad' AND stream = 'tickets'") == [
        ("2026-10-06T12:00:00.000Z",)]
    second = sync(ws, stub)
    assert second.exit_code == 0, second.stderr
    # resumed from ticket 2's updated_at (inclusive): [2, 3] [4, 5] and an empty third page
    assert said(second.stdout, "3 ticket page(s), 4 ticket(s)")
    assert stored(ws, "SELECT count(*) FROM tickets") == [(4,)]
    assert ws.value("first_response_time", *OCT) == pytest.approx(125 / 3)


def test_since_starts_there(ws, stub, slept, token):
    r = sync(ws, stub, "--since", "2026-10-07")
    assert r.exit_code == 0, r.stderr
    assert stub.searches()[0] == "updated_at:[2026-10-07T00:00:00Z TO *] p1"
    assert stored(ws, "SELECT ticket_id FROM tickets ORDER BY 1") == [("3",), ("4",)]


def test_refused_token_stops_at_once_and_is_never_printed(ws, stub, slept, monkeypatch):
    monkeypatch.setenv(ENV, TOKEN + "-revoked")
    r = sync(ws, stub)
    assert r.exit_code == 1
    assert said(r.stderr, "Error: GET /api/v1/ticket_states: HTTP 401: Zammad refused the token")
    assert slept == [] and len(stub.log) == 1
    assert TOKEN not in r.stdout + r.stderr
    assert TOKEN.encode() not in ws.db.read_bytes()


@pytest.mark.parametrize("args, message", [
    (("--token-env", TOKEN), "--token-env takes the NAME of an environment variable"),
    (("--token-env", "NOT_SET_ANYWHERE"), "environment variable NOT_SET_ANYWHERE is not set or empty"),
    (("--token-env", ENV, "--since", "31/01/2026"), "--since '31/01/2026' is not a date or time"),
])
def test_usage_errors(ws, token, monkeypatch, args, message):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    r = run(ws, "sync", "zammad", "--url", "https://support.example.org", *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert said(r.stderr, "Error: " + message)


def test_plain_http_is_refused_off_loopback(ws, token):
    r = run(ws, "sync", "zammad", "--url", "http://support.example.org", "--token-env", ENV)
    assert r.exit_code == 2
    assert said(r.stderr, "would send the API token unencrypted")


def test_client_repr_hides_the_token():
    client = zs.Client("https://support.example.org", TOKEN)
    assert TOKEN not in repr(client)
    assert client.redact(f"echo {TOKEN}") == "echo ***"
    client.close()


def test_the_command_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for part in ("servicekpi sync zammad", "`--url", "`--token-env", "`--since", "`--per-page", zs.SEARCH,
                 "/api/v1/ticket_articles/by_ticket/{id}", "/api/v1/ticket_history/{id}", "Retry-After",
                 "Token token=", "sync_state"):
        assert part in text, part


def test_agent_aliases_apply_to_the_synced_rows(ws, stub, slept, token):
    # the workspace's [agents] (issue 15 item 3) in the sync as in the file import: user 3 -> alice
    (ws.root / "servicekpi.toml").write_text('[agents]\n[agents.aliases]\n"3" = "alice"\n')
    assert sync(ws, stub).exit_code == 0
    ids = stored(ws, "SELECT DISTINCT agent_id FROM messages WHERE agent_id IS NOT NULL ORDER BY 1")
    assert ids == [("4",), ("alice",)]
