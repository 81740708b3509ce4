"""One error shape everywhere: {"ok": false, "error": "...", "errors": [...], "status": N}."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api_support import ASOF, bearer, srv  # noqa: F401 - fixture
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
