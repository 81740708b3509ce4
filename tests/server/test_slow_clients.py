"""Slow clients (issue 12, item 8): headers or a body that trickle in get 408 and the connection is
closed within [server] header_timeout_s / body_timeout_s; normal requests are unaffected.

Real sockets against a real uvicorn on loopback, built with the options `servicekpi serve` uses
(server.limits.uvicorn_options). Before: uvicorn 0.55 has no read timeout, and a connection sending
one header byte a second was held as long as it kept sending (2,000 of them for 60 s)."""
from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
from api_support import CONFIG, bearer, build_store, free_port, make_tokens

from servicekpi.core.config import ConfigError
from servicekpi.server.app import create_app, settings

HEADER_S, BODY_S = 2.0, 2.0
SLACK = 3.0  # the loaded CI machine: a deadline may fire this much late, never early


@contextlib.contextmanager
def _live(app):
    import uvicorn

    from servicekpi.server.limits import uvicorn_options
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           **uvicorn_options(app.state.sk)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        assert time.time() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("slow")
    ws = build_store(root)
    (root / "servicekpi.toml").write_text(CONFIG + f"[server]\nheader_timeout_s = {HEADER_S}\n"
                                                   f"body_timeout_s = {BODY_S}\nkeep_alive_s = 5\n",
                                          encoding="utf-8")
    secrets = make_tokens(ws.db)
    with _live(create_app(ws.db)) as port:
        yield SimpleNamespace(port=port, tokens=secrets)


def _trickle(port: int, data: bytes, every: float, cap: float, head: bytes = b"",
             quiet_after: float | None = None) -> tuple[bytes, float, int]:
    """Send `head` at once, then `data` one byte each `every` seconds (none after `quiet_after`
    seconds) until the server answers and closes (or `cap` seconds pass). Returns (all it answered,
    seconds from the first trickled byte to the close, bytes trickled); the seconds are None when the
    connection was still open at `cap`."""
    sock = socket.create_connection(("127.0.0.1", port))
    answer, sent = b"", 0
    try:
        if head:
            sock.sendall(head)
        started = time.monotonic()
        while time.monotonic() - started < cap:
            if sent < len(data) and (quiet_after is None or time.monotonic() - started < quiet_after):
                sock.sendall(data[sent:sent + 1])
                sent += 1
            readable, _, _ = select.select([sock], [], [], every)
            if readable:
                chunk = sock.recv(65536)
                if not chunk:
                    return answer, time.monotonic() - started, sent
                answer += chunk
        return answer, None, sent
    finally:
        sock.close()


def _shaped_408(answer: bytes) -> dict:
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert b"connection: close" in head.lower()
    doc = json.loads(payload)
    assert doc["ok"] is False and doc["status"] == 408 and doc["errors"] == []
    return doc


def test_slowloris_headers_are_cut_at_the_header_timeout(live):
    request = b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 40 + b"\r\n\r\n"
    answer, closed_after, sent = _trickle(live.port, request, every=1.0, cap=HEADER_S + 3 * SLACK)
    assert closed_after is not None, f"still open after {sent} bytes at one a second"  # before: held
    assert HEADER_S - 1.0 <= closed_after <= HEADER_S + SLACK
    assert sent < len(request)  # cut before the headers were complete
    assert "header_timeout_s" in _shaped_408(answer)["error"]


def test_a_silent_connection_is_closed_at_the_header_timeout(live):
    answer, closed_after, _ = _trickle(live.port, b"", every=0.25, cap=HEADER_S + 3 * SLACK)
    assert closed_after is not None and closed_after <= HEADER_S + SLACK
    _shaped_408(answer)


def test_slow_headers_on_a_kept_alive_connection_are_cut(live):
    # the first request is answered at once; uvicorn's keep-alive timer stops at the next byte, so
    # before this change the second request's headers could then trickle for ever
    first = b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    second = b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"b" * 40 + b"\r\n\r\n"
    answer, closed_after, sent = _trickle(live.port, second, every=1.0, cap=HEADER_S + 3 * SLACK, head=first)
    assert answer.startswith(b"HTTP/1.1 ")
    assert closed_after is not None and closed_after <= HEADER_S + SLACK
    assert sent < len(second)
    assert answer.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 408" in answer


def test_a_slow_body_gets_408_in_the_error_shape(live):
    row = json.dumps([{"ticket_id": "SLOW1", "created_at": "2026-12-15T09:00:00Z"}]).encode()
    head = (f"POST /api/ingest/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            f"{live.tokens['ingest']}\r\nContent-Type: application/json\r\nContent-Length: {len(row)}\r\n\r\n").encode()
    # quiet for the last second before the deadline: uvicorn closes right after the 408, and a body
    # byte arriving in that instant, unread, would make the kernel reset the connection
    answer, closed_after, sent = _trickle(live.port, row, every=0.5, cap=BODY_S + 3 * SLACK, head=head,
                                          quiet_after=BODY_S - 1.0)
    assert closed_after is not None, f"still open after {sent} body bytes"
    assert closed_after <= BODY_S + SLACK and sent < len(row)
    assert "body_timeout_s" in _shaped_408(answer)["error"]
    with httpx.Client(base_url=f"http://127.0.0.1:{live.port}") as client:  # nothing of it was stored
        got = client.get("/api/kpis/ticket_volume", params={"from": "2026-12-01", "to": "2026-12-31"},
                         headers=bearer(live.tokens["admin"]))
    assert got.status_code == 200, got.text
    # no December ticket in the store: December is after the last record, still the one of 2026-11-10
    # (SLOW1 would have made it 2026-12-15 and December's count 1)
    assert [(r["value"], r.get("note")) for r in got.json()] == [
        (None, "no data: after the last record of tickets (2026-11-10)")], got.text


def test_normal_requests_are_unaffected(live):
    rows = [{"ticket_id": f"N{i}", "created_at": "2026-10-01T09:00:00Z", "channel": "email"} for i in range(200)]
    with httpx.Client(base_url=f"http://127.0.0.1:{live.port}", timeout=60) as client:
        for _ in range(3):  # one kept-alive connection, pauses shorter than keep_alive_s
            assert client.get("/api/me", headers=bearer(live.tokens["viewer"])).status_code == 200
            time.sleep(0.5)
        pushed = client.post("/api/ingest/tickets", json=rows, headers=bearer(live.tokens["ingest"]))
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["imported"] == 200
        # a body sent in chunks, each well inside the deadline: the waits add up to about 1.2 s < 2 s
        def chunks():
            data = json.dumps(rows[:10]).encode()
            for i in range(0, len(data), len(data) // 4 + 1):
                time.sleep(0.3)
                yield data[i:i + len(data) // 4 + 1]
        chunked = client.post("/api/ingest/tickets", content=chunks(),
                              headers={**bearer(live.tokens["ingest"]), "Content-Type": "application/json"})
        assert chunked.status_code == 200, chunked.text


def test_the_timeouts_are_checked_in_the_config():
    ok = settings(SimpleNamespace(raw={"server": {"header_timeout_s": 3, "body_timeout_s": 30.5}}, source=None))
    assert (ok["header_timeout_s"], ok["body_timeout_s"], ok["keep_alive_s"]) == (3.0, 30.5, 5.0)
    for bad in (0, -1, "10", True, 3601):
        with pytest.raises(ConfigError, match="header_timeout_s"):
            settings(SimpleNamespace(raw={"server": {"header_timeout_s": bad}}, source=None))


def test_serve_runs_uvicorn_with_the_deadlines(tmp_path, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from servicekpi.cli.app import app as cli
    from servicekpi.server.slow import HeaderDeadlineProtocol
    ws = build_store(tmp_path)
    (tmp_path / "servicekpi.toml").write_text(CONFIG + "[server]\nheader_timeout_s = 7\nkeep_alive_s = 3\n",
                                              encoding="utf-8")
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    result = CliRunner().invoke(cli, ["serve", "--db", str(ws.db), "--port", str(free_port())])
    assert result.exit_code == 0, result.output
    assert issubclass(seen["http"], HeaderDeadlineProtocol) and seen["http"].header_timeout == 7.0
    assert seen["timeout_keep_alive"] == 3.0 and seen["limit_concurrency"] == 256
