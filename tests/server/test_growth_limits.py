"""Unbounded growth through the API (issue 12, item 5): extra columns per table are limited
(default 64, [server] max_extra_columns); the quarantine is paged in SQL."""
from __future__ import annotations

from api_support import bearer, fresh  # noqa: F401 - fixture
from test_errors import shaped

ROW = {"ticket_id": "x", "created_at": "2026-10-01T00:00:00Z"}


def test_65_extra_columns_are_refused_and_nothing_is_stored(fresh):
    r = fresh.client.post("/api/ingest/tickets", json=[{**ROW, **{f"x{i:03}": "1" for i in range(65)}}],
                          headers=bearer(fresh.tokens["ingest"]))
    error = shaped(r, 400)["error"]
    assert "the body adds 65 more beyond the canonical ones (limit 64" in error and "max_extra_columns" in error
    rows = fresh.client.get("/api/kpis/ticket_volume/rows", params={"where": "ticket_id=x"},
                            headers=bearer(fresh.tokens["admin"])).json()
    assert rows["total"] == 0


def test_64_extra_columns_are_taken(fresh):
    r = fresh.client.post("/api/ingest/tickets", json=[{**ROW, **{f"x{i:03}": "1" for i in range(64)}}],
                          headers=bearer(fresh.tokens["ingest"]))
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text


def test_quarantine_pages_in_sql(fresh):
    bad = [{"ticket_id": f"B{i}", "created_at": "not a time"} for i in range(5)]
    fresh.client.post("/api/ingest/tickets", json=bad, headers=bearer(fresh.tokens["ingest"]))
    page = fresh.client.get("/api/quarantine", params={"table": "tickets", "limit": 2, "offset": 1},
                            headers=bearer(fresh.tokens["admin"])).json()
    whole = fresh.client.get("/api/quarantine", params={"table": "tickets"},
                             headers=bearer(fresh.tokens["admin"])).json()
    assert page["total"] == whole["total"] >= 5
    assert page["rows"] == whole["rows"][1:3]
    assert fresh.client.get("/api/quarantine", params={"table": "calls"},
                            headers=bearer(fresh.tokens["admin"])).json()["total"] == 0


def test_an_answer_past_the_cell_bound_is_a_400_with_a_hint(fresh, monkeypatch):
    from servicekpi.server import query
    params = {"by": "day", "dim": "ticket_id", "from": "2026-10-01", "to": "2026-11-30",
              "as_of": "2027-01-01T00:00:00Z"}
    ok = fresh.client.get("/api/kpis/ticket_volume", params=params, headers=bearer(fresh.tokens["viewer"]))
    cells = sum(len(r) for r in ok.json())
    monkeypatch.setattr(query, "MAX_CELLS", cells - 1)
    params["tz"] = "UTC"  # another cache key
    error = shaped(fresh.client.get("/api/kpis/ticket_volume", params=params,
                                    headers=bearer(fresh.tokens["viewer"])), 400)["error"]
    assert f"more than the limit of {cells - 1}" in error and "larger grain" in error


def test_the_extra_column_limit_counts_what_the_table_already_holds(fresh):
    # 40 extras stored by a first body, then a body of 40 other extras: 80 in the table > 64
    first = fresh.client.post("/api/ingest/tickets", json=[{**ROW, **{f"a{i:03}": "1" for i in range(40)}}],
                              headers=bearer(fresh.tokens["ingest"]))
    assert first.status_code == 200 and first.json()["imported"] == 1, first.text
    second = fresh.client.post("/api/ingest/tickets",
                               json=[{**ROW, "ticket_id": "y", **{f"b{i:03}": "1" for i in range(40)}}],
                               headers=bearer(fresh.tokens["ingest"]))
    error = shaped(second, 400)["error"]
    assert "already holds 40 extra columns and the body adds 40 more" in error and "limit 64" in error
    # the stored ones are not new: the same 40 (in another case) plus 24 new ones reach 64 exactly
    third = fresh.client.post("/api/ingest/tickets",
                              json=[{**ROW, "ticket_id": "z", **{f"A{i:03}": "2" for i in range(40)},
                                     **{f"c{i:03}": "1" for i in range(24)}}],
                              headers=bearer(fresh.tokens["ingest"]))
    assert third.status_code == 200 and third.json()["imported"] == 1, third.text
    fourth = fresh.client.post("/api/ingest/tickets", json=[{**ROW, "ticket_id": "w", "d000": "1"}],
                               headers=bearer(fresh.tokens["ingest"]))
    assert "already holds 64 extra columns and the body adds 1 more" in shaped(fourth, 400)["error"]
