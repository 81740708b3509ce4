"""POST /api/session: a few failed sign-ins per client address a minute, then 429 with Retry-After."""
from __future__ import annotations

import pytest
from api_support import _server, fresh  # noqa: F401 - fixture
from fastapi.testclient import TestClient
from test_errors import shaped

from servicekpi.core.config import ConfigError
from servicekpi.server.app import create_app
from servicekpi.server.ratelimit import FailureLimit


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def limited(s, limit=5) -> Clock:
    clock = Clock()
    s.app.state.sk.sign_in_limit = FailureLimit(limit, clock=clock)
    return clock


def sign_in(client, token):
    return client.post("/api/session", json={"token": token})


def test_failures_then_429_in_the_error_shape_with_retry_after(fresh):
    clock = limited(fresh)
    for _ in range(5):
        shaped(sign_in(fresh.client, "skt_guess"), 401)
        clock.now += 1
    r = sign_in(fresh.client, "skt_guess")
    body = shaped(r, 429)
    assert "too many failed sign-ins" in body["error"]
    assert r.headers["retry-after"] == "55"  # the first failure leaves the minute in 55 s
    assert "set-cookie" not in r.headers
    # while refused, even the right token is not looked at
    r = sign_in(fresh.client, fresh.tokens["viewer"])
    shaped(r, 429)
    assert "set-cookie" not in r.headers
    # refused attempts are not counted: once the first failure is a minute old, one more try
    clock.now += 55
    assert sign_in(fresh.client, fresh.tokens["viewer"]).status_code == 200


def test_the_limit_is_per_client_address(fresh):
    limited(fresh)
    for _ in range(5):
        assert sign_in(fresh.client, "skt_guess").status_code == 401
    assert sign_in(fresh.client, "skt_guess").status_code == 429
    other = TestClient(fresh.app, client=("192.0.2.7", 40000))
    r = sign_in(other, fresh.tokens["manager"])
    assert r.status_code == 200 and r.json()["role"] == "manager"
    assert sign_in(other, "skt_guess").status_code == 401


def test_successful_sign_ins_are_not_limited(fresh):
    limited(fresh, limit=2)
    for _ in range(10):
        assert sign_in(fresh.client, fresh.tokens["viewer"]).status_code == 200
    assert sign_in(fresh.client, "skt_guess").status_code == 401  # failures still counted from zero


def test_bearer_routes_are_unaffected(fresh):
    limited(fresh, limit=1)
    assert sign_in(fresh.client, "skt_guess").status_code == 401
    assert sign_in(fresh.client, "skt_guess").status_code == 429
    r = fresh.client.get("/api/me", headers={"Authorization": f"Bearer {fresh.tokens['viewer']}"})
    assert r.status_code == 200


def test_the_default_and_the_config_key(tmp_path):
    s = _server(tmp_path)
    assert s.app.state.sk.sign_in_limit.limit == 5 and s.app.state.sk.sign_in_limit.window == 60
    s.app.state.sk.close()
    cfg = tmp_path / "servicekpi.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "[server]\nsign_in_failures = 2\n", encoding="utf-8")
    with TestClient(create_app(s.ws.db, cfg)) as client:
        for _ in range(2):
            assert sign_in(client, "skt_guess").status_code == 401
        assert sign_in(client, "skt_guess").status_code == 429
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("= 2", "= 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="sign_in_failures"):
        create_app(s.ws.db, cfg)


def test_failure_limit_window_and_bound():
    clock = Clock()
    lim = FailureLimit(limit=3, window=60, max_clients=2, clock=clock)
    for t in (0, 10, 20):
        clock.now = 1000 + t
        assert lim.retry_after("a") is None
        lim.failed("a")
    assert lim.retry_after("a") == 40  # the failure at +0 leaves the window at +60
    clock.now = 1000 + 60
    assert lim.retry_after("a") is None  # two failures left in the window
    lim.failed("a")
    assert lim.retry_after("a") == 10  # now the one at +10 is the oldest of the last three
    lim.failed("b")
    lim.failed("c")  # a third address: the least recently failing ("a") is forgotten
    assert set(lim._failures) == {"b", "c"}
    clock.now += 61
    assert lim.retry_after("b") is None and "b" not in lim._failures
