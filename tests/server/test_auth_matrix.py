"""The role x route matrix, whole: every route x every role, and without a token; sessions and CSRF."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import ASOF, ROLES, bearer, fresh, srv  # noqa: F401 - fixtures

from servicekpi.server import auth

DOCS = Path(__file__).parents[2] / "docs" / "server.md"
TICKET = [{"ticket_id": "M1", "created_at": "2026-11-20T10:00:00Z", "channel": "email", "agent_id": "a1"}]

# one valid request per route: (path, query params, JSON body)
EXAMPLES = {
    ("POST", "/api/session"): ("/api/session", {}, {"token": "from-role"}),
    ("DELETE", "/api/session"): ("/api/session", {}, None),
    ("GET", "/api/me"): ("/api/me", {}, None),
    ("GET", "/api/kpis"): ("/api/kpis", {}, None),
    ("GET", "/api/kpis/{kpi_id}"): ("/api/kpis/ticket_volume", {"by": "month", "as_of": ASOF}, None),
    ("GET", "/api/kpis/{kpi_id}/rows"): ("/api/kpis/ticket_volume/rows", {"as_of": ASOF}, None),
    ("GET", "/api/dims"): ("/api/dims", {}, None),
    ("GET", "/api/heatmap"): ("/api/heatmap", {"as_of": ASOF}, None),
    ("GET", "/api/scorecard"): ("/api/scorecard", {"month": "2026-10", "as_of": ASOF}, None),
    ("GET", "/api/spikes"): ("/api/spikes", {"from": "2026-07-01", "to": "2026-11-30", "as_of": ASOF}, None),
    ("GET", "/api/reports/{name}"): ("/api/reports/2026-11.html", {"as_of": ASOF}, None),
    ("POST", "/api/ingest/{table}"): ("/api/ingest/tickets", {}, TICKET),
    ("GET", "/api/quarantine"): ("/api/quarantine", {}, None),
    ("GET", "/api/tokens"): ("/api/tokens", {}, None),
    ("POST", "/api/tokens"): ("/api/tokens", {}, {"role": "viewer"}),
    ("DELETE", "/api/tokens/{ref}"): ("/api/tokens/no-such-token", {}, None),
    ("GET", "/api/followups"): ("/api/followups", {"as_of": ASOF}, None),
    ("POST", "/api/followups/{item_id}/done"): ("/api/followups/survey:R2/done", {}, {"note": "called"}),
    ("GET", "/api/staffing"): ("/api/staffing", {"calls": 100, "aht": 180}, None),
    ("GET", "/api/forecast"): ("/api/forecast", {"kpi": "ticket_volume", "horizon": 7}, None),
    ("GET", "/api/alerts"): ("/api/alerts", {}, None),
    ("GET", "/api/leaderboard"): ("/api/leaderboard", {"from": "2026-10-01", "to": "2026-11-30", "as_of": ASOF}, None),
    ("GET", "/api/export/tickets"): ("/api/export/tickets", {"from": "2026-10-01", "to": "2026-11-30", "as_of": ASOF},
                                     None),
    ("POST", "/api/local/run"): ("/api/local/run", {}, {"argv": ["list"]}),  # no role: the local key only
}


def routes():
    import tempfile

    from servicekpi.server.app import create_app
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp) / "s.duckdb")
        found = auth.matrix(app)
        app.state.sk.close()
    return found


ROUTES = routes()
CASES = [(m, p, perm, role) for m, p, perm in ROUTES for role in (*ROLES, None)]


def test_every_route_has_an_example_and_a_permission():
    assert {(m, p) for m, p, _ in ROUTES} == set(EXAMPLES)


def call(srv, method, path, role, params, body):
    if body == {"token": "from-role"}:
        body = {"token": srv.tokens[role] if role else "skt_wrong"}
    headers = {**bearer(srv.tokens[role] if role else None), "Content-Type": "application/json"}
    srv.client.cookies.clear()  # a case is its token alone: the POST /api/session case leaves a session cookie
    return srv.client.request(method, path, params=params, headers=headers,
                              content=None if body is None else json.dumps(body))


@pytest.mark.parametrize("method,path,perm,role", CASES, ids=[f"{m} {p} {r or 'no-token'}" for m, p, _, r in CASES])
def test_role_matrix(srv, method, path, perm, role):
    url, params, body = EXAMPLES[(method, path)]
    r = call(srv, method, url, role, params, body)
    if role is None:
        assert r.status_code == 401, r.text
    elif role in auth.PERMISSIONS[perm]:
        assert r.status_code not in (401, 403), r.text
        assert r.status_code < 500, r.text
    else:
        assert r.status_code == 403, r.text
        assert role in r.json()["error"]


def test_docs_publish_the_matrix(srv):
    assert auth.matrix_markdown(srv.app) in DOCS.read_text(encoding="utf-8")


def test_bad_bearer_tokens_are_401(srv):
    for header in ({"Authorization": "Bearer skt_nope"}, {"Authorization": "Basic abc"},
                   {"Authorization": "Bearer "}, {"Authorization": srv.tokens["admin"]}):
        r = srv.client.get("/api/kpis", headers=header)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_openapi_and_docs_are_served(srv):
    spec = srv.client.get("/api/openapi.json").json()
    assert spec["paths"]["/api/quarantine"]["get"]["x-roles"] == ["admin", "manager"]
    assert srv.client.get("/api/docs").status_code == 200


# -- cookie sessions and CSRF -------------------------------------------------------------------------

def sign_in(s, role):
    r = s.client.post("/api/session", json={"token": s.tokens[role]})
    assert r.status_code == 200, r.text
    return r


def test_sign_in_sets_a_strict_http_only_cookie(fresh):
    r = sign_in(fresh, "manager")
    body = r.json()
    assert body["ok"] is True and body["role"] == "manager" and body["agent_id"] is None and body["csrf"]
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("sk_session=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    sid = fresh.client.cookies["sk_session"]
    assert sid not in fresh.tokens.values()
    import duckdb  # the id is stored only as a hash
    con = fresh.app.state.sk.cursor()
    stored = [r[0] for r in con.execute("SELECT id_hash FROM api_sessions").fetchall()]
    assert sid not in stored and len(stored) == 1 and isinstance(duckdb.__version__, str)
    me = fresh.client.get("/api/me").json()
    assert me == {"ok": True, "role": "manager", "agent_id": None, "name": "test-manager",
                  "token_id": me["token_id"], "csrf": body["csrf"]}


def test_cookie_is_secure_over_https(fresh):
    from fastapi.testclient import TestClient
    with TestClient(fresh.app, base_url="https://testserver") as c:
        r = c.post("/api/session", json={"token": fresh.tokens["viewer"]})
    assert "Secure" in r.headers["set-cookie"]


def test_cookie_sessions_read_like_a_bearer_token_with_the_same_role(fresh):
    sign_in(fresh, "agent")
    assert fresh.client.get("/api/kpis/ticket_volume/rows").json()["total"] == 3
    assert fresh.client.get("/api/quarantine").status_code == 403
    assert fresh.client.get("/api/kpis/churn_rate").status_code == 403


def test_state_changing_cookie_requests_need_the_csrf_token(fresh):
    csrf = sign_in(fresh, "manager").json()["csrf"]
    r = fresh.client.post("/api/ingest/tickets", json=TICKET)
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["error"]
    r = fresh.client.post("/api/ingest/tickets", json=TICKET, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = fresh.client.post("/api/ingest/tickets", json=TICKET, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["imported"] == 1
    assert fresh.client.delete("/api/session").status_code == 403  # signing out needs it too
    assert fresh.client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    fresh.client.cookies.clear()
    assert fresh.client.get("/api/me").status_code == 401


def test_signed_out_session_id_no_longer_works(fresh):
    csrf = sign_in(fresh, "viewer").json()["csrf"]
    sid = fresh.client.cookies["sk_session"]
    fresh.client.delete("/api/session", headers={"X-CSRF-Token": csrf})
    fresh.client.cookies.set("sk_session", sid)
    assert fresh.client.get("/api/me").status_code == 401


def test_bearer_requests_need_no_csrf(fresh):
    r = fresh.client.post("/api/ingest/tickets", json=TICKET, headers=bearer(fresh.tokens["ingest"]))
    assert r.status_code == 200


def test_wrong_token_cannot_sign_in(fresh):
    r = fresh.client.post("/api/session", json={"token": "skt_guess"})
    assert r.status_code == 401 and "set-cookie" not in r.headers


def test_revoking_a_token_ends_its_sessions_and_bearer_use(fresh):
    sign_in(fresh, "viewer")
    assert fresh.client.get("/api/me").status_code == 200
    admin = bearer(fresh.tokens["admin"])
    assert fresh.client.delete("/api/tokens/test-viewer", headers=admin).status_code == 200
    assert fresh.client.get("/api/me").status_code == 401
    assert fresh.client.get("/api/kpis", headers=bearer(fresh.tokens["viewer"])).status_code == 401


def test_admin_creates_tokens_over_the_api(fresh):
    admin = bearer(fresh.tokens["admin"])
    r = fresh.client.post("/api/tokens", json={"role": "agent", "agent_id": "a2", "name": "desk"}, headers=admin)
    assert r.status_code == 200 and r.json()["token"].startswith("skt_")
    rows = fresh.client.get("/api/kpis/ticket_volume/rows", headers=bearer(r.json()["token"])).json()["rows"]
    assert {x["agent_id"] for x in rows} == {"a2"}
    listed = fresh.client.get("/api/tokens", headers=admin).json()["tokens"]
    assert "desk" in {t["name"] for t in listed} and all("hash" not in t and "token" not in t for t in listed)
    bad = fresh.client.post("/api/tokens", json={"role": "agent"}, headers=admin)
    assert bad.status_code == 400 and "--agent-id" in bad.json()["error"]


# -- POST /api/local/run: the store owner's local key, from loopback ----------------------------------

def test_local_run_needs_the_local_key_from_loopback(fresh):
    from servicekpi.server import local
    state = fresh.app.state.sk
    state.local_key_hash = local.digest("right-key")
    state.local_runner = lambda argv: (3, b"out " + " ".join(argv).encode(), b"err")
    body = {"argv": ["kpi", "nps"]}
    admin = fresh.client.post("/api/local/run", json=body, headers=bearer(fresh.tokens["admin"]))
    assert admin.status_code == 403 and "local key" in admin.json()["error"]  # even admin tokens
    # the test client's address is "testclient", not loopback: the right key is still refused
    far = fresh.client.post("/api/local/run", json=body, headers={local.KEY_HEADER: "right-key"})
    assert far.status_code == 403 and "loopback" in far.json()["error"]


def test_local_run_answers_the_command_s_code_and_output(fresh):
    import base64

    from fastapi.testclient import TestClient

    from servicekpi.server import local
    state = fresh.app.state.sk
    state.local_key_hash = local.digest("right-key")
    state.local_runner = lambda argv: (3, b"out " + " ".join(argv).encode(), b"err")
    with TestClient(fresh.app, client=("127.0.0.1", 5000)) as near:
        wrong = near.post("/api/local/run", json={"argv": ["list"]}, headers={local.KEY_HEADER: "wrong-key"})
        assert wrong.status_code == 401 and "does not match" in wrong.json()["error"]
        r = near.post("/api/local/run", json={"argv": ["kpi", "nps"]}, headers={local.KEY_HEADER: "right-key"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["code"] == 3 and got["ok"] is False
    assert base64.b64decode(got["stdout"]) == b"out kpi nps" and base64.b64decode(got["stderr"]) == b"err"


def test_api_docs_load_nothing_from_a_cdn(srv):
    # issue 13 item 4: Swagger UI's script and style are served by the server (swagger-ui-bundle);
    # offline a CDN page is blank, and the docs' CSP would block any other origin anyway
    import re
    page = srv.client.get("/api/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/api/docs/assets/") for u in urls), urls
    assert "cdn" not in page.text.lower()
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for u in urls:
        asset = srv.client.get(u)
        assert asset.status_code == 200 and len(asset.content) > 100, u
    assert "SwaggerUIBundle" in srv.client.get("/api/docs/assets/swagger-ui-bundle.js").text
