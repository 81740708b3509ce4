"""GET /api/staffing and GET /api/forecast: values, errors, and the roles (200 / 401 / 403)."""
from __future__ import annotations

import pytest
from api_support import bearer, srv  # noqa: F401 - fixture

STAFF = {"calls": 100, "interval": 1800, "aht": 180, "target": "80/20"}


def get(srv, path, role, params):
    return srv.client.get(path, params=params, headers=bearer(srv.tokens[role] if role else None))


def test_staffing_reference_case(srv):
    r = get(srv, "/api/staffing", "manager", STAFF)
    assert r.status_code == 200, r.text
    [row] = r.json()["rows"]
    # 10 Erlangs: 14 agents, SL 88.8%, ASA 7.84 s, occupancy 71.4%, default cap 85% echoed
    assert row["agents"] == 14 and round(row["service_level"], 1) == 88.8
    assert round(row["asa_seconds"], 2) == 7.84 and row["max_occupancy_percent"] == 85.0


def test_staffing_capacity_is_a_400(srv):
    r = get(srv, "/api/staffing", "admin", {**STAFF, "agents": 10})
    assert r.status_code == 400 and "at or above capacity" in r.json()["error"]


def test_staffing_from_data_without_calls_table(srv):
    # the test store holds tickets, customers and surveys only
    r = get(srv, "/api/staffing", "admin", {"from_data": "true"})
    assert r.status_code == 404 and "needs the calls table, which was never imported" in r.json()["error"]


@pytest.mark.parametrize("role,status", [("admin", 200), ("manager", 200), ("viewer", 403), ("agent", 403),
                                         ("ingest", 403), (None, 401)])
def test_roles(srv, role, status):
    assert get(srv, "/api/staffing", role, STAFF).status_code == status
    assert get(srv, "/api/forecast", role, {"kpi": "ticket_volume", "horizon": 7}).status_code == status


def test_forecast_shape(srv):
    r = get(srv, "/api/forecast", "manager", {"kpi": "ticket_volume", "by": "day", "horizon": 7})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kpi"] == "ticket_volume" and len(body["rows"]) == 7
    assert {"period_start", "value", "lo80", "hi80", "lo95", "hi95"} <= set(body["rows"][0])
    assert body["rows"][0]["period_start"] > body["history"]["to"]


def test_forecast_unknown_kpi_is_400(srv):
    r = get(srv, "/api/forecast", "manager", {"kpi": "nps"})
    assert r.status_code == 400 and "forecast covers" in r.json()["error"]


def test_staffing_from_tickets(srv):
    # the test store's 5 tickets over 2026-10-01 .. 2026-11-10, in Europe/Bucharest: one row per local
    # weekday x hour holding a ticket (Thu 12h, Fri 17h, Mon 12h, Tue 18h, Tue 9h)
    r = get(srv, "/api/staffing", "manager", {"from_data": "true", "source": "tickets", "aht": 600, "by": "hour",
                                              "target": "80/3600"})
    assert r.status_code == 200, r.text
    got = {(row["weekday"], row["interval_start"]) for row in r.json()["rows"]}
    assert got == {("thu", "12:00"), ("fri", "17:00"), ("mon", "12:00"), ("tue", "18:00"), ("tue", "09:00")}
    assert get(srv, "/api/staffing", "manager", {"from_data": "true", "source": "tickets"}).status_code == 400


def test_staffing_scaled_to_a_forecast_week(srv):
    base = {"from_data": "true", "source": "tickets", "aht": 600, "by": "hour", "target": "80/3600"}
    one = get(srv, "/api/staffing", "manager", {**base, "forecast": "true"})
    two = get(srv, "/api/staffing", "manager", {**base, "forecast": "true", "week": 2})
    assert one.status_code == 200 and two.status_code == 200, one.text + two.text
    import datetime as dt
    w1, w2 = (dt.date.fromisoformat(r.json()["forecast"]["week_start"]) for r in (one, two))
    assert w1.weekday() == 0 and w2 - w1 == dt.timedelta(days=7)  # the week after the next one
    assert "forecast" not in get(srv, "/api/staffing", "manager", base).json()
    assert get(srv, "/api/staffing", "manager", {**base, "forecast": "true", "week": 53}).status_code in (400, 422)
