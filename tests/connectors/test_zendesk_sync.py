"""`servicekpi sync zendesk` against a local stub of Zendesk's API (127.0.0.1 only).

The stub serves the documented payloads: the cursor-based incremental ticket export
(tickets + metric_sets sideload, after_cursor, end_of_stream), the cursor-based incremental
user export, groups, ticket audits with cursor pagination (links.next, meta.has_more),
satisfaction ratings, users/show_many. It checks the basic auth of every request and can
inject faults: a 429 with Retry-After, a 500, a dropped connection.

The account (UTC):
  ticket 1  requester 200, email. 09:00 opened by 200 (public); 09:30 agent 100 private note;
            10:15 agent 100 public reply; 11:00 solved. Rated bad.
  ticket 2  requester 201, web. 03-03 09:00 opened; 09:20 agent 101 public reply (version 1: open);
            03-06 09:00 solved (version 2, later in the stream).
  ticket 3  agent 100 opens it for 202 on 03-04 09:00 (public); 09:30 202 answers; 09:45 100 replies.
  ticket 4  requester 200, chat. 03-05 10:00 opened; 10:05 agent 100 replies and solves. Rated good.
  ticket 5  requester 202. 03-06 08:00 opened; no reply; survey offered, not answered.
  ticket 6  deleted.
The stream, in updated_at order, two per page: [1, 2v1] [3, 4] [5, 2v2] [6].
"""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from conftest import run, said
from servicekpi.connectors.zendesk import sync as zs

EMAIL = "ops@example.org"
TOKEN = "zdTok-7f3a91c2e5b8d4aa-SECRET"  # noqa: S105 - a test token the stub accepts
ENV = "ZD_SYNC_TEST_TOKEN"
MARCH = ("--from", "2026-03-01", "--to", "2026-03-31")
DOCS = Path(__file__).parents[2] / "docs" / "connectors" / "zendesk-sync.md"


def Z(day: int, hm: str) -> str:
    return f"2026-03-{day:02d}T{hm}:00Z"


def audit(aid, tid, at, author, events):
    return {"id": aid, "ticket_id": tid, "created_at": at, "author_id": author,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}}, "events": events}


def comment(cid, author, public, body="..."):
    return {"id": cid, "type": "Comment", "author_id": author, "body": body, "public": public, "attachments": []}


def status(eid, value, kind="Change"):
    return {"id": eid, "type": kind, "field_name": "status", "value": value}


def ticket(tid, created, updated, st, requester, channel="email", assignee=100, rating=None):
    return {"id": tid, "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json", "created_at": created,
            "updated_at": updated, "status": st, "requester_id": requester, "submitter_id": requester,
            "assignee_id": assignee, "group_id": 10, "priority": "normal", "subject": f"ticket {tid}",
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}, "tags": [],
            "satisfaction_rating": rating or {"score": "unoffered"}}


VERSIONS = [
    ticket(1, Z(2, "09:00"), Z(2, "11:00"), "solved", 200, rating={"id": 9001, "score": "bad", "comment": "slow"}),
    ticket(2, Z(3, "09:00"), Z(3, "09:20"), "open", 201, "web", assignee=101),
    ticket(3, Z(4, "09:00"), Z(4, "09:45"), "pending", 202, "email"),
    ticket(4, Z(5, "10:00"), Z(5, "10:05"), "solved", 200, "chat", rating={"id": 9002, "score": "good"}),
    ticket(5, Z(6, "08:00"), Z(6, "08:00"), "new", 202, rating={"score": "offered"}),
    ticket(2, Z(3, "09:00"), Z(6, "09:00"), "solved", 201, "web", assignee=101),
    ticket(6, Z(1, "08:00"), Z(6, "10:00"), "deleted", 201),
]
AUDITS = {  # the audits as they are when fetched (a ticket's full history so far)
    1: [audit(101, 1, Z(2, "09:00"), 200, [comment(1001, 200, True), status(1101, "new", "Create")]),
        audit(102, 1, Z(2, "09:30"), 100, [comment(1002, 100, False)]),
        audit(103, 1, Z(2, "10:15"), 100, [comment(1003, 100, True), status(1103, "pending")]),
        audit(104, 1, Z(2, "11:00"), 100, [status(1104, "solved")])],
    2: [audit(201, 2, Z(3, "09:00"), 201, [comment(2001, 201, True), status(2101, "new", "Create")]),
        audit(202, 2, Z(3, "09:20"), 101, [comment(2002, 101, True), status(2102, "open")]),
        audit(203, 2, Z(6, "09:00"), 101, [status(2103, "solved")])],
    3: [audit(301, 3, Z(4, "09:00"), 100, [comment(3001, 100, True), status(3101, "open", "Create")]),
        audit(302, 3, Z(4, "09:30"), 202, [comment(3002, 202, True)]),
        audit(303, 3, Z(4, "09:45"), 100, [comment(3003, 100, True), status(3103, "pending")])],
    4: [audit(401, 4, Z(5, "10:00"), 200, [comment(4001, 200, True), status(4101, "new", "Create")]),
        audit(402, 4, Z(5, "10:05"), 100, [comment(4002, 100, True), status(4102, "solved")])],
    5: [audit(501, 5, Z(6, "08:00"), 202, [comment(5001, 202, True), status(5101, "new", "Create")])],
}
USERS = [  # the incremental user export, in updated_at order
    {"id": 100, "role": "agent", "updated_at": "2025-01-01T00:00:00Z", "name": "Ana"},
    {"id": 101, "role": "admin", "updated_at": "2025-01-02T00:00:00Z", "name": "Ben"},
    {"id": 200, "role": "end-user", "updated_at": Z(2, "09:00"), "name": "Carol"},
    {"id": 201, "role": "end-user", "updated_at": Z(3, "09:00"), "name": "Dan"},
    {"id": 202, "role": "end-user", "updated_at": Z(4, "09:00"), "name": "Eve"},
]
RATINGS = {9001: {"id": 9001, "ticket_id": 1, "score": "bad", "comment": "slow", "requester_id": 200,
                  "assignee_id": 100, "group_id": 10, "created_at": Z(2, "11:00"), "updated_at": Z(2, "12:00")},
           9002: {"id": 9002, "ticket_id": 4, "score": "good", "comment": None, "requester_id": 200,
                  "assignee_id": 100, "group_id": 10, "created_at": Z(5, "10:05"), "updated_at": Z(5, "11:00")}}


def epoch(text: str) -> int:
    import datetime as dt
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class Stub:
    """Zendesk's API on 127.0.0.1. faults: path -> actions taken by the next requests, in order:
    ("status", code, headers), ("raw", body bytes), "drop" or None (served normally); broken: paths
    whose every request drops the connection."""

    def __init__(self):
        self.faults: dict[str, list] = {}
        self.broken: set[str] = set()
        self.log: list[tuple[str, dict]] = []
        self.final_cursor = True  # False: the last page of a stream has after_cursor null
        self.auth = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        self.log.append((path, query))
        action = self.faults[path].pop(0) if self.faults.get(path) else None
        if path in self.broken or action == "drop":
            import socket
            h.connection.shutdown(socket.SHUT_RDWR)  # no response at all
            h.close_connection = True
            return
        if action is not None and action[0] == "raw":  # a body cut short
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.end_headers()
            h.wfile.write(action[1])
            return
        if action is not None:
            _, code, headers = action
            return self.send(h, code, {"error": "fault"}, headers)
        if h.headers.get("Authorization") != self.auth:
            return self.send(h, 401, {"error": "Couldn't authenticate you"})
        body = self.route(path, query)
        return self.send(h, 404, {"error": "RecordNotFound"}) if body is None else self.send(h, 200, body)

    def send(self, h, code: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def stream(self, items: list, key: str, query: dict, size: int = 2) -> dict:
        if "cursor" in query:
            start = int(query["cursor"].lstrip("tu"))
        else:
            start = next((i for i, x in enumerate(items) if epoch(x["updated_at"]) >= int(query["start_time"])),
                         len(items))
        end = min(start + size, len(items))
        after = f"{key[0]}{end}" if self.final_cursor or end < len(items) else None
        return {key: items[start:end], "after_cursor": after, "before_cursor": None,
                "after_url": f"{self.url}/api/v2/incremental/{key}/cursor.json?cursor={key[0]}{end}",
                "end_of_stream": end >= len(items)}

    def route(self, path: str, q: dict):
        if path == "/api/v2/incremental/tickets/cursor.json":
            page = self.stream(VERSIONS, "tickets", q)
            page["metric_sets"] = [{"id": 70000 + t["id"], "ticket_id": t["id"], "reopens": 0, "replies": 1,
                                    "updated_at": t["updated_at"]} for t in page["tickets"]]
            return page
        if path == "/api/v2/incremental/users/cursor.json":
            return self.stream(USERS, "users", q)
        if path == "/api/v2/groups.json":
            return {"groups": [{"id": 10, "name": "Support"}], "next_page": None, "count": 1}
        if path == "/api/v2/users/show_many.json":
            ids = {int(i) for i in q["ids"].split(",")}
            return {"users": [u for u in USERS if u["id"] in ids]}
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "v2", "tickets"] and parts[4:] == ["audits.json"]:
            audits = AUDITS.get(int(parts[3]))
            if audits is None:
                return None
            size = 2  # small pages, so that links.next is followed
            start = int(q.get("page[after]", 0))
            more = start + size < len(audits)
            nxt = f"{self.url}{path}?page[size]={size}&page[after]={start + size}" if more else None
            return {"audits": audits[start:start + size], "links": {"next": nxt},
                    "meta": {"has_more": more, "after_cursor": str(start + size)}}
        if parts[:3] == ["api", "v2", "satisfaction_ratings"]:
            r = RATINGS.get(int(parts[3].removesuffix(".json")))
            return None if r is None else {"satisfaction_rating": r}
        return None

    def requests(self, path: str) -> list[dict]:
        return [q for p, q in self.log if p == path]

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
    return run(ws, "sync", "zendesk", "--subdomain", "acme", "--email", EMAIL, "--token-env", ENV,
               "--base-url", stub.url, *extra)


def stored(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def cursor(ws, stream: str) -> str | None:
    rows = stored(ws, f"SELECT cursor FROM sync_state WHERE account = 'acme' AND stream = '{stream}'")
    return rows[0][0] if rows else None


def assert_no_token(ws, *outputs: str) -> None:
    b64 = base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
    for text in outputs:
        assert TOKEN not in text and b64 not in text
    assert TOKEN.encode() not in ws.db.read_bytes()
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE data_type = 'VARCHAR'").fetchall()
        for table, col in cols:
            hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE "{col}" LIKE ? OR "{col}" LIKE ?',
                               [f"%{TOKEN}%", f"%{b64}%"]).fetchall()[0][0]
            assert hits == 0, (table, col)
    finally:
        con.close()


# -- the scenario of the issue: pages, a 429, a network failure, then a resume ------------------

def test_sync_survives_faults_and_resumes_without_loss_or_duplicates(ws, stub, slept, token, caplog):
    caplog.set_level("DEBUG")
    stub.faults["/api/v2/groups.json"] = [("status", 500, {})]  # one 500: retried after 1 s
    # the second ticket page is rate limited once
    stub.faults["/api/v2/incremental/tickets/cursor.json"] = [None, ("status", 429, {"Retry-After": "7"})]
    stub.broken.add("/api/v2/tickets/5/audits.json")  # the third page cannot be completed


    first = sync(ws, stub)
    assert first.exit_code == 1, first.stdout + first.stderr
    # waits: 1 s after the 500; the 7 s Retry-After; then 1, 2, 4, 8, 16 s before giving up (6 attempts)
    assert slept == [1, 7, 1, 2, 4, 8, 16]
    assert len(stub.requests("/api/v2/tickets/5/audits.json")) == 6
    assert said(first.stderr, "Error: GET " + stub.url + "/api/v2/tickets/5/audits.json: RemoteProtocolError")
    assert said(first.stderr, "gave up after 6 attempts. The sync stopped there; everything before it is stored "
                              "with its cursor: run the same command again to resume.")
    # pages 1 and 2 are stored (tickets 1, 2v1, 3, 4), page 3 is not; the cursor is after page 2
    assert stored(ws, "SELECT ticket_id, status FROM tickets ORDER BY ticket_id") == [
        ("1", "resolved"), ("2", "open"), ("3", "pending"), ("4", "resolved")]
    assert cursor(ws, "tickets") == "t4"
    assert cursor(ws, "users") == "u5"
    assert stored(ws, "SELECT note FROM sync_state WHERE stream = 'run'")[0][0].startswith("GET ")

    stub.broken.clear()
    second = sync(ws, stub)  # the network is back
    assert second.exit_code == 0, second.stdout + second.stderr
    asked = [q.get("cursor", "start " + q.get("start_time", "?"))
             for q in stub.requests("/api/v2/incremental/tickets/cursor.json")]
    # run 1: the start, page 2 (429), page 2 again, page 3 (its audits failed); run 2 resumes at page 3
    assert asked == ["start 0", "t2", "t2", "t4", "t4", "t6"]
    assert stub.requests("/api/v2/incremental/users/cursor.json")[-1] == {"cursor": "u5"}
    assert said(second.stdout, "synced acme: 2 ticket page(s), 3 ticket version(s), 0 user(s)")
    assert cursor(ws, "tickets") == "t7"

    third = sync(ws, stub)  # nothing changed since
    assert third.exit_code == 0, third.stdout + third.stderr
    assert said(third.stdout, "1 ticket page(s), 0 ticket version(s), 0 user(s); imported 0, replaced 0")

    # exactly six tickets; ticket 2 is the later, solved version; 6 is deleted and excluded
    assert stored(ws, "SELECT ticket_id, status, channel, team, excluded FROM tickets ORDER BY ticket_id") == [
        ("1", "resolved", "email", "Support", False), ("2", "resolved", "web_form", "Support", False),
        ("3", "pending", "email", "Support", False), ("4", "resolved", "chat", "Support", False),
        ("5", "open", "email", "Support", False), ("6", None, "email", "Support", True)]
    # 3 + 2 + 3 + 2 + 1 comments, each once
    assert stored(ws, "SELECT count(*), count(DISTINCT message_id) FROM messages") == [(11, 11)]
    assert stored(ws, "SELECT author, public, count(*) FROM messages GROUP BY ALL ORDER BY ALL") == [
        ("agent", False, 1), ("agent", True, 5), ("customer", True, 5)]
    assert stored(ws, "SELECT response_id, score FROM surveys ORDER BY 1") == [("9001", 0.0), ("9002", 1.0)]
    assert ws.quarantine() == []
    # first reply: t1 09:00 -> 10:15 = 75 min (the 09:30 note is private); t2 09:00 -> 09:20 = 20;
    # t3 opened by agent 100, so its reply is the second public agent comment: 09:00 -> 09:45 = 45;
    # t4 10:00 -> 10:05 = 5; t5 has none. Mean (75 + 20 + 45 + 5) / 4 = 36.25 minutes
    assert ws.value("first_response_time", *MARCH) == pytest.approx(36.25)
    # resolution: t1 09:00 -> 11:00 = 2 h; t2 03-03 09:00 -> 03-06 09:00 = 72 h; t4 5 min = 1/12 h;
    # mean (2 + 72 + 1/12) / 3 = 24.69444 h
    assert ws.value("avg_resolution_time", *MARCH) == pytest.approx((2 + 72 + 1 / 12) / 3)
    # csat: 1 good of 2 answers (ticket 5's survey was only offered) -> 50 %
    assert ws.value("csat", *MARCH) == pytest.approx(50.0)
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert_no_token(ws, first.stdout, first.stderr, second.stdout, second.stderr, third.stdout, third.stderr, logs)


def test_page_rows_and_cursor_are_one_transaction(ws, stub, slept, token, monkeypatch):
    from servicekpi.store import derive
    calls = {"n": 0}
    original = derive.refresh

    def refresh(con):  # the import of the second ticket page fails just before its commit
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(con)
    monkeypatch.setattr(derive, "refresh", refresh)
    r = sync(ws, stub)
    assert r.exit_code == 1
    assert said(r.stderr, "Error: RuntimeError: disk full")
    # page 1 stored with its cursor; page 2 neither its rows nor its cursor
    assert stored(ws, "SELECT ticket_id FROM tickets ORDER BY 1") == [("1",), ("2",)]
    assert cursor(ws, "tickets") == "t2"
    monkeypatch.setattr(derive, "refresh", original)
    again = sync(ws, stub)
    assert again.exit_code == 0, again.stderr
    assert stub.requests("/api/v2/incremental/tickets/cursor.json")[2] == {"cursor": "t2", "include": "metric_sets"}
    assert stored(ws, "SELECT count(*), count(DISTINCT ticket_id) FROM tickets") == [(6, 6)]


def test_since_starts_the_export_there(ws, stub, slept, token):
    r = sync(ws, stub, "--since", "2026-03-05")
    assert r.exit_code == 0, r.stdout + r.stderr
    # 2026-03-05T00:00:00Z = 1767225600 (2026-01-01) + (31 + 28 + 4) days * 86400 = 1772668800
    assert stub.requests("/api/v2/incremental/tickets/cursor.json")[0] == {"start_time": "1772668800",
                                                                            "include": "metric_sets"}
    assert stub.requests("/api/v2/incremental/users/cursor.json")[0] == {"start_time": "1772668800"}
    # versions updated on or after 03-05: 4, 5, 2v2, 6; tickets 1 and 3 not pulled
    assert stored(ws, "SELECT ticket_id FROM tickets ORDER BY 1") == [("2",), ("4",), ("5",), ("6",)]
    # no user changed since 03-05: the comment authors' roles came from users/show_many
    assert stub.requests("/api/v2/users/show_many.json")
    # first reply: t2 20 min, t4 5 min -> (20 + 5) / 2 = 12.5
    assert ws.value("first_response_time", *MARCH) == pytest.approx(12.5)
    assert ws.quarantine() == []


def test_since_restarts_a_stream_that_has_a_cursor(ws, stub, slept, token):
    assert sync(ws, stub).exit_code == 0
    assert cursor(ws, "tickets") == "t7"
    again = sync(ws, stub, "--since", "2026-03-06T08:30:00Z")
    assert again.exit_code == 0, again.stderr
    # 2026-03-06T08:30Z = 1772668800 + 86400 + 8.5 * 3600 = 1772785800: versions 2v2 and 6
    assert stub.requests("/api/v2/incremental/tickets/cursor.json")[-1] == {"start_time": "1772785800",
                                                                             "include": "metric_sets"}
    assert said(again.stdout, "1 ticket page(s), 2 ticket version(s)")
    assert said(again.stdout, "imported 0, replaced 0, unchanged")
    assert stored(ws, "SELECT count(*) FROM tickets") == [(6,)]


def test_a_stream_without_a_final_cursor_resumes_from_its_start_time(ws, stub, slept, token):
    stub.final_cursor = False
    assert sync(ws, stub, "--since", "2026-03-06T08:30:00Z").exit_code == 0
    # 2026-03-06T08:30Z = 1772668800 (03-05) + 86400 + 8.5 * 3600 = 1772785800
    assert cursor(ws, "tickets") == "start_time:1772785800"
    again = sync(ws, stub)
    assert again.exit_code == 0, again.stderr
    assert stub.requests("/api/v2/incremental/tickets/cursor.json")[-1] == {"start_time": "1772785800",
                                                                             "include": "metric_sets"}
    assert said(again.stdout, "imported 0, replaced 0")


def test_refused_credentials_stop_at_once_without_the_token(ws, stub, slept, monkeypatch):
    monkeypatch.setenv(ENV, TOKEN + "-revoked")
    r = sync(ws, stub)
    assert r.exit_code == 1
    assert said(r.stderr, f"Error: GET {stub.url}/api/v2/groups.json: HTTP 401: Zendesk refused the credentials; "
                          "check --email and the API token in the --token-env variable")
    assert slept == [] and len(stub.log) == 1
    assert "-revoked" not in r.stderr + r.stdout
    assert_no_token(ws, r.stdout, r.stderr)


@pytest.mark.parametrize("args, env, message", [
    (("--token-env", TOKEN), {}, "--token-env takes the NAME of an environment variable"),
    (("--token-env", "NOT_SET_ANYWHERE"), {}, "environment variable NOT_SET_ANYWHERE is not set or empty"),
    (("--token-env", ENV, "--since", "31/01/2026"), {ENV: TOKEN}, "--since '31/01/2026' is not a date or time"),
    (("--token-env", ENV, "--since", "2999-01-01"), {ENV: TOKEN}, "--since '2999-01-01' is not in the past"),
    (("--token-env", ENV, "--base-url", "http://zendesk.example.org"), {ENV: TOKEN},
     "--base-url 'http://zendesk.example.org' would send the API token unencrypted; use https"),
])
def test_usage_errors(ws, monkeypatch, args, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    r = run(ws, "sync", "zendesk", "--subdomain", "acme", "--email", EMAIL, *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert said(r.stderr, "Error: " + message)
    assert TOKEN not in r.stdout + r.stderr


def test_subdomain_must_be_the_first_part_of_the_address(ws, token):
    r = run(ws, "sync", "zendesk", "--subdomain", "acme.zendesk.com", "--email", EMAIL, "--token-env", ENV)
    assert r.exit_code == 2
    assert said(r.stderr, "Error: --subdomain 'acme.zendesk.com' is not a Zendesk subdomain (give the first part "
                          "of the address: acme for https://acme.zendesk.com)")


def test_a_comment_whose_author_has_no_role_is_quarantined_with_its_endpoint(ws, stub, slept, token, monkeypatch):
    # user 999 is in no user export and show_many does not know it: its comment cannot be attributed
    monkeypatch.setitem(AUDITS, 5, AUDITS[5] + [audit(502, 5, Z(6, "08:10"), 999, [comment(5002, 999, True)])])
    r = sync(ws, stub)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert stub.requests("/api/v2/users/show_many.json")[-1] == {"ids": "999"}
    assert said(r.stderr, "zendesk: 1 comment author(s) not in users and not the ticket's requester")
    rows = ws.quarantine()
    assert [(q["table"], q["source"], q["line"], q["column"]) for q in rows] == [
        ("messages", f"{stub.url}/api/v2/tickets/5/audits.json", 2, "author")]
    assert stored(ws, "SELECT count(*) FROM messages") == [(11,)]  # the 11 others
    assert said(r.stdout, "rejected 1 rows")


# -- the client on its own ---------------------------------------------------------------------

@pytest.mark.parametrize("value, seconds", [("7", 7), ("0", 0), ("2.5", 2.5), (None, 60), ("soon", 60),
                                            ("Thu, 01 Jan 1970 00:00:00 GMT", 0)])
def test_retry_after(value, seconds):
    assert zs.retry_after(value) == seconds


@pytest.mark.parametrize("fault", [("status", 500, {}), ("status", 502, {}), "drop", ("raw", b'{"groups": [{"id"'),
                                   ("status", 503, {"Retry-After": "1"})])
def test_a_passing_fault_is_retried_once(stub, fault):
    waits = []
    stub.faults["/api/v2/groups.json"] = [fault]
    client = zs.Client(stub.url, EMAIL, TOKEN, sleep=waits.append)
    assert client.get("/api/v2/groups.json")["groups"] == [{"id": 10, "name": "Support"}]
    assert waits == [1] and client.requests == 2


def test_rate_limit_has_a_bound(stub):
    waits = []
    stub.faults["/api/v2/groups.json"] = [("status", 429, {"Retry-After": "3"})] * 4
    client = zs.Client(stub.url, EMAIL, TOKEN, sleep=waits.append, max_limited=3)
    with pytest.raises(zs.SyncError, match=r"still rate limited \(HTTP 429\) after 3 waits"):
        client.get("/api/v2/groups.json")
    assert waits == [3, 3, 3]


def test_backoff_is_bounded(stub):
    waits = []
    stub.broken.add("/api/v2/groups.json")
    client = zs.Client(stub.url, EMAIL, TOKEN, sleep=waits.append, retries=8, backoff=1, max_backoff=10)
    with pytest.raises(zs.SyncError, match="gave up after 9 attempts"):
        client.get("/api/v2/groups.json")
    assert waits == [1, 2, 4, 8, 10, 10, 10, 10]


def test_next_links_to_another_host_are_not_followed(stub):
    client = zs.Client(stub.url, EMAIL, TOKEN, sleep=lambda s: None)
    with pytest.raises(zs.SyncError, match="not followed"):
        client.get("https://elsewhere.example.org/api/v2/groups.json")
    assert stub.log == []


def test_client_repr_and_errors_hide_the_token(stub):
    client = zs.Client(stub.url, EMAIL, TOKEN)
    assert TOKEN not in repr(client)
    assert client.redact(f"echo {TOKEN}") == "echo ***"


def test_the_command_and_its_options_are_documented():
    text = DOCS.read_text(encoding="utf-8")
    assert "servicekpi sync zendesk" in text
    for option in ("--subdomain", "--email", "--token-env", "--since", "--db", "--config", "--base-url"):
        assert f"`{option}" in text, option
    for endpoint in (zs.TICKETS, zs.USERS, "/api/v2/tickets/{id}/audits.json", "/api/v2/satisfaction_ratings/{id}",
                     "/api/v2/users/show_many.json", "/api/v2/groups.json", "sync_state", "Retry-After"):
        assert endpoint in text, endpoint


def test_sync_applies_the_workspace_agent_aliases(ws, stub, slept, token):
    # [agents] aliases: assignee 101 is the same person as agent "ana" (as an import would apply them)
    (ws.root / "servicekpi.toml").write_text('[agents]\naliases = { "101" = "ana" }\n', encoding="utf-8")
    r = sync(ws, stub)
    assert r.exit_code == 0, r.stdout + r.stderr
    agents = {a for (a,) in stored(ws, "SELECT DISTINCT agent_id FROM tickets WHERE agent_id IS NOT NULL")}
    assert "ana" in agents and "101" not in agents
