"""One error shape everywhere: {"ok": false, "error": "...", "errors": [...], "status": N}."""
from __future__ import annotations

import pytest
from api_support import ASOF, bearer, srv  # noqa: F401 - fixture
from fastapi.testclient import TestClient
from test_auth_matrix import EXAMPLES, ROUTES


def shaped(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"ok", "error", "errors", "status"}, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"] and isinstance(body["errors"], list)
    return body


# per route, a request that fails for a reason of its own (besides authentication)
ROUTE_ERRORS = {
    ("POST", "/api/local/run"): ("/api/local/run", None, {}, {"argv": ["kpi", "nps"]}, 401),  # no local key
    ("POST", "/api/session"): ("/api/session", None, {}, {"tok": "x"}, 422),
    ("DELETE", "/api/session"): ("/api/session", None, {}, None, None),  # cookie without CSRF: in the test
    ("GET", "/api/me"): ("/api/me", None, {}, None, 401),
    ("GET", "/api/kpis"): ("/api/kpis", "ingest", {}, None, 403),
    ("GET", "/api/kpis/{kpi_id}"): ("/api/kpis/nps", "viewer", {"by": "hour"}, None, 400),
    ("GET", "/api/kpis/{kpi_id}/rows"): ("/api/kpis/nps/rows", "viewer", {"limit": "-1"}, None, 422),
    ("GET", "/api/dims"): ("/api/dims", "ingest", {}, None, 403),
    ("GET", "/api/heatmap"): ("/api/heatmap", "viewer", {"kpi": "nope"}, None, 404),
    ("GET", "/api/scorecard"): ("/api/scorecard", "viewer", {"month": "2026-1"}, None, 400),
    ("GET", "/api/spikes"): ("/api/spikes", "viewer", {"window": "zero"}, None, 422),
    ("GET", "/api/reports/{name}"): ("/api/reports/2026-11.txt", "viewer", {}, None, 404),
    ("POST", "/api/ingest/{table}"): ("/api/ingest/tickets", "ingest", {}, [{"ticket_id": "x"}], 422),
    ("GET", "/api/quarantine"): ("/api/quarantine", "admin", {"table": "nope"}, None, 404),
    ("GET", "/api/tokens"): ("/api/tokens", "manager", {}, None, 403),
    ("POST", "/api/tokens"): ("/api/tokens", "admin", {}, {"role": "boss"}, 400),
    ("DELETE", "/api/tokens/{ref}"): ("/api/tokens/nobody", "admin", {}, None, 404),
    ("GET", "/api/followups"): ("/api/followups", "viewer", {"since": "2026-13-01"}, None, 400),
    ("POST", "/api/followups/{item_id}/done"): ("/api/followups/survey:R9/done", "manager", {}, {}, 404),
    ("GET", "/api/staffing"): ("/api/staffing", "manager", {"calls": 100, "aht": 180, "interval": 1800,
                                                            "agents": 10}, None, 400),
    ("GET", "/api/forecast"): ("/api/forecast", "manager", {"kpi": "nps"}, None, 400),
    ("GET", "/api/leaderboard"): ("/api/leaderboard", "viewer", {"sort": "nope"}, None, 400),
    ("GET", "/api/alerts"): ("/api/alerts", "viewer", {}, None, 403),  # no parameters: only the role can fail
    ("GET", "/api/export/tickets"): ("/api/export/tickets", "viewer", {"format": "pdf"}, None, 422),
}


def test_every_route_has_an_error_case():
    assert set(ROUTE_ERRORS) == set(EXAMPLES) == {(m, p) for m, p, _ in ROUTES}


@pytest.mark.parametrize("method,path", sorted(ROUTE_ERRORS), ids=[f"{m} {p}" for m, p in sorted(ROUTE_ERRORS)])
def test_error_shape_on_every_route(srv, method, path):
    url, role, params, body, status = ROUTE_ERRORS[(method, path)]
    # 1. without a token (the public sign-in: with a wrong one)
    auth_body = {"token": "skt_wrong"} if path == "/api/session" and method == "POST" else body
    shaped(srv.client.request(method, EXAMPLES[(method, path)][0], json=auth_body), 401)
    # 2. a wrong method on the same path
    other = "PATCH"
    shaped(srv.client.request(other, url, headers=bearer(srv.tokens["admin"])), 405)
    # 3. its own failure
    if status is None:  # DELETE /api/session: signed in by cookie, without the CSRF header
        srv.client.post("/api/session", json={"token": srv.tokens["viewer"]})
        try:
            shaped(srv.client.delete("/api/session"), 403)
        finally:
            srv.client.cookies.clear()
        return
    headers = bearer(srv.tokens[role]) if role else {}
    shaped(srv.client.request(method, url, params=params, json=body, headers=headers), status)


def test_unknown_api_path_is_a_shaped_404(srv):
    body = shaped(srv.client.get("/api/nothing/here"), 404)
    assert "no route /api/nothing/here" in body["error"]
    assert shaped(srv.client.post("/api"), 404)


def test_405_names_the_allowed_methods(srv):
    r = srv.client.put("/api/kpis/nps", headers=bearer(srv.tokens["admin"]))
    assert "allowed: GET" in shaped(r, 405)["error"] and r.headers["allow"] == "GET"


def test_validation_errors_list_every_problem(srv):
    r = srv.client.get("/api/kpis/nps/rows", params={"limit": "x", "offset": "-3"}, headers=bearer(srv.tokens["viewer"]))
    body = shaped(r, 422)
    assert {e["where"] for e in body["errors"]} == {"limit", "offset"}


def test_a_crash_is_a_shaped_500_without_details(srv, monkeypatch):
    from servicekpi.server.routes import kpis
    monkeypatch.setattr(kpis.qry, "build", lambda *a, **k: 1 / 0)
    body = shaped(srv.client.get("/api/kpis/nps", headers=bearer(srv.tokens["viewer"])), 500)
    assert "ZeroDivision" not in body["error"]


def test_missing_dashboard_is_a_shaped_503(srv, tmp_path):
    from servicekpi.server.app import Dashboard
    app = srv.app
    dash = Dashboard(app, tmp_path / "static")
    client = TestClient(dash)
    body = shaped(client.get("/"), 503)
    assert "npm run build" in body["error"]


def test_security_headers(srv):
    r = srv.client.get("/api/kpis", headers=bearer(srv.tokens["viewer"]))
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_dashboard_serves_the_built_app_and_its_client_side_paths(tmp_path):
    from api_support import build_store

    from servicekpi.server.app import create_app
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>servicekpi</title>", encoding="utf-8")
    (static / "assets" / "app.js").write_text("console.log(1)", encoding="utf-8")
    ws = build_store(tmp_path)
    with TestClient(create_app(ws.db, static_dir=static)) as client:
        check_dashboard(client)


def check_dashboard(client):
    home = client.get("/")
    assert home.status_code == 200 and "<title>servicekpi</title>" in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert "<title>servicekpi</title>" in client.get("/view/kpis").text  # a client-side route
    shaped(client.get("/assets/missing.js"), 404)
    shaped(client.post("/"), 405)
    shaped(client.get("/api/kpis/x/y/z"), 404)


def test_a_crash_keeps_the_connection_usable(tmp_path, monkeypatch, caplog):
    """Regression (load benchmark): every ingest crashed (a NameError in a half-edited module) and
    the client saw 500s and "connection reset by peer": after a 500 the server closed the
    connection the client then reused. Now the 500 is shaped, logged, and the connection stays."""
    import json
    import socket

    from api_support import build_store, live_server, make_tokens

    from servicekpi.server import push as ingest

    def broken(items):
        raise NameError("name 'cell' is not defined")
    monkeypatch.setattr(ingest, "to_arrow", broken)
    ws = build_store(tmp_path)
    secret = make_tokens(ws.db)["ingest"]
    body = json.dumps([{"ticket_id": "X1", "created_at": "2026-11-20T10:00:00Z"}]).encode()
    request = (f"POST /api/ingest/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    with live_server(ws.db) as base, caplog.at_level("ERROR", logger="servicekpi.server"):
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            answers = []
            for _ in range(3):  # the same connection, request after request
                sock.sendall(request)
                answers.append(read_response(sock))
    for status, headers, payload in answers:
        assert status == 500 and headers.get("connection") != "close"
        assert json.loads(payload) == {"ok": False, "error": "internal error (the server log has the details)",
                                       "errors": [], "status": 500}
        assert "nosniff" in headers.get("x-content-type-options", "")
    crashes = [r for r in caplog.records if r.name == "servicekpi.server" and r.exc_info]
    assert len(crashes) == 3 and "NameError" in caplog.text and "POST /api/ingest/tickets" in caplog.text


def read_response(sock) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 response with a Content-Length from the socket (b"" from a closed one fails)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    size = int(headers["content-length"])
    while len(rest) < size:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:size]
