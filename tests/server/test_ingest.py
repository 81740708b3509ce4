"""POST /api/ingest/{table}: import's validation, quarantine and upsert; Idempotency-Key; 413."""
from __future__ import annotations

import json

import pytest
from api_support import ASOF, bearer, fresh  # noqa: F401 - fixture

NEW = [
    {"ticket_id": "N1", "created_at": "2026-11-20T10:00:00Z", "channel": "Email ", "agent_id": "a1",
     "reopen_count": 0, "fcr_eligible": True},
    {"ticket_id": "N2", "created_at": "2026-11-21 11:00:00", "channel": "chat", "agent_id": "a2"},
]


def post(s, table, body, role="ingest", key=None, raw=False, headers=None):
    h = {**bearer(s.tokens[role]), **(headers or {})}
    if key is not None:
        h["Idempotency-Key"] = key
    if raw:
        return s.client.post(f"/api/ingest/{table}", content=body, headers=h)
    return s.client.post(f"/api/ingest/{table}", json=body, headers=h)


def volume(s) -> int:
    rows = s.client.get("/api/kpis/ticket_volume", params={"as_of": ASOF}, headers=bearer(s.tokens["admin"])).json()
    return sum(r["value"] for r in rows)


def quarantine(s) -> list[dict]:
    return s.client.get("/api/quarantine", headers=bearer(s.tokens["admin"])).json()["rows"]


def test_json_array_is_imported_with_counts(fresh):
    r = post(fresh, "tickets", NEW)
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "table": "tickets", "received": 2, "imported": 2, "replaced": 0,
                        "unchanged": 0, "rejected": 0, "reasons": [], "notes": []}
    assert volume(fresh) == 5 + 2
    rows = fresh.client.get("/api/kpis/ticket_volume/rows", params={"where": "channel=email", "as_of": ASOF},
                            headers=bearer(fresh.tokens["viewer"])).json()["rows"]
    assert "N1" in {x["ticket_id"] for x in rows}  # "Email " was lower-cased and trimmed as import does


def test_ndjson_replaces_and_counts_unchanged(fresh):
    post(fresh, "tickets", NEW)
    changed = dict(NEW[1], channel="phone")
    body = "\n".join(json.dumps(x) for x in (NEW[0], changed)) + "\n\n"
    r = post(fresh, "tickets", body.encode(), raw=True, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["replaced"], r.json()["unchanged"]) == (0, 1, 1)
    assert volume(fresh) == 7


def test_invalid_rows_go_to_quarantine_with_reasons(fresh):
    bad = [
        {"ticket_id": "B1", "created_at": "31/02/2026"},  # not a timestamp
        {"ticket_id": "B2", "created_at": "2026-11-01T10:00:00Z", "resolved_at": "2026-10-01T10:00:00Z"},
        {"ticket_id": "B3", "created_at": "2026-11-01T10:00:00Z"},
        {"ticket_id": "B3", "created_at": "2026-11-02T10:00:00Z"},  # duplicate key in one batch
    ]
    r = post(fresh, "tickets", bad, key="bad-1")
    body = r.json()
    assert r.status_code == 200 and (body["imported"], body["rejected"]) == (1, 3)
    assert len(body["reasons"]) == 3
    assert body["reasons"][0].startswith("api:test-ingest:bad-1 item 1, column created_at:")
    assert "item 2, column resolved_at" in body["reasons"][1]
    assert "item 4, column ticket_id: duplicate ticket_id, first seen at item 3" in body["reasons"][2]
    q = quarantine(fresh)
    assert [(x["line"], x["column"]) for x in q] == [(1, "created_at"), (2, "resolved_at"), (4, "ticket_id")]
    # the same bad rows again (another key): the quarantine does not grow
    post(fresh, "tickets", bad, key="bad-2")
    assert len(quarantine(fresh)) == 3


def test_idempotency_key_replays_the_first_answer_and_stores_nothing_twice(fresh):
    first = post(fresh, "tickets", NEW, key="k-1")
    again = post(fresh, "tickets", NEW, key="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.json()["imported"] == 2
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert volume(fresh) == 7
    con = fresh.app.state.sk.cursor()
    assert con.execute("SELECT count(*) FROM api_idempotency").fetchall()[0][0] == 1


def test_same_key_with_another_body_is_409(fresh):
    post(fresh, "tickets", NEW, key="k-2")
    r = post(fresh, "tickets", NEW[:1], key="k-2")
    assert r.status_code == 409 and "Idempotency-Key 'k-2'" in r.json()["error"]
    r = post(fresh, "surveys", [{"response_id": "Z", "survey": "csat", "score": 3,
                                 "responded_at": "2026-11-02T10:00:00Z"}], key="k-2")
    assert r.status_code == 409  # another table is another body
    assert volume(fresh) == 7


def test_keys_are_scoped_to_the_token(fresh):
    a = post(fresh, "tickets", NEW[:1], key="shared")
    b = post(fresh, "tickets", NEW[1:], role="manager", key="shared")
    assert a.status_code == b.status_code == 200
    assert a.json()["imported"] == b.json()["imported"] == 1
    assert volume(fresh) == 7


def test_a_failed_request_leaves_its_key_free(fresh):
    r = post(fresh, "tickets", [{"ticket_id": "X"}], key="k-3")  # created_at column missing
    assert r.status_code == 422 and "required column(s) missing: created_at" in r.json()["error"]
    assert post(fresh, "tickets", NEW, key="k-3").status_code == 200


def test_body_over_the_limit_is_413(fresh):
    big = [dict(NEW[0], ticket_id=f"L{i}", note="x" * 200) for i in range(400)]  # > 64 KiB
    r = post(fresh, "tickets", big)
    assert r.status_code == 413 and r.json()["status"] == 413
    assert "65536 bytes" in r.json()["error"]

    def chunks():  # streamed without a Content-Length
        for i in range(100):
            yield (json.dumps(dict(NEW[0], ticket_id=f"S{i}", note="y" * 1000)) + "\n").encode()
    r = fresh.client.post("/api/ingest/tickets", content=chunks(), headers=bearer(fresh.tokens["ingest"]))
    assert r.status_code == 413
    assert volume(fresh) == 5


def test_body_just_under_the_limit_is_taken(fresh):
    rows = [dict(NEW[0], ticket_id=f"U{i}") for i in range(300)]
    assert len(json.dumps(rows)) < 64 * 1024
    assert post(fresh, "tickets", rows).json()["imported"] == 300


@pytest.mark.parametrize("body,status,says", [
    (b"", 400, "empty"),
    (b"[]", 400, "no rows"),
    (b"[1, 2]", 400, "item 1 is not a JSON object"),
    (b"{\"ticket_id\": 1}\n{oops}\n", 400, "NDJSON line 2"),
    (b"[{\"ticket_id\": 1}", 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not UTF-8"),
])
def test_malformed_bodies(fresh, body, status, says):
    r = post(fresh, "tickets", body, raw=True)
    assert r.status_code == status and says in r.json()["error"], r.text


def test_unknown_table_is_404_with_a_suggestion(fresh):
    r = post(fresh, "ticket", NEW)
    assert r.status_code == 404 and "did you mean tickets" in r.json()["error"]


def test_messages_derive_first_response_through_the_api(fresh):
    post(fresh, "tickets", [{"ticket_id": "D1", "created_at": "2026-11-25T10:00:00Z", "agent_id": "a1"}])
    msgs = [{"message_id": "D1-1", "ticket_id": "D1", "sent_at": "2026-11-25T10:00:00Z", "author": "customer"},
            {"message_id": "D1-2", "ticket_id": "D1", "sent_at": "2026-11-25T10:45:00Z", "author": "agent",
             "agent_id": "a1"},
            {"message_id": "D1-3", "ticket_id": "NOPE", "sent_at": "2026-11-25T10:45:00Z", "author": "agent"}]
    r = post(fresh, "messages", msgs).json()
    assert (r["imported"], r["rejected"]) == (2, 1) and "is not in tickets" in r["reasons"][0]
    frt = fresh.client.get("/api/kpis/first_response_time", params={"where": "agent_id=a1", "as_of": ASOF,
                                                                     "from": "2026-11-25", "to": "2026-11-25"},
                           headers=bearer(fresh.tokens["viewer"])).json()
    assert frt[0]["value"] == 45.0  # 10:00 -> 10:45


def test_the_workspace_instant_range_applies_to_api_ingest(tmp_path):
    from api_support import build_store, make_tokens
    from fastapi.testclient import TestClient

    from servicekpi.server.app import create_app
    ws = build_store(tmp_path)  # its rows are from 2025-2026
    with open(tmp_path / "servicekpi.toml", "a", encoding="utf-8") as f:
        f.write('[instants]\nearliest = "2025-01-01"\nlatest = "2027-01-01"\n')
    secrets = make_tokens(ws.db)
    with TestClient(create_app(ws.db), raise_server_exceptions=False) as client:
        # 2024-06-01 is inside the default 1970..2100 range but outside this workspace's 2025..2027
        r = client.post("/api/ingest/tickets", headers=bearer(secrets["ingest"]), json=[
            {"ticket_id": "IN", "created_at": "2026-06-01T00:00:00Z"},
            {"ticket_id": "OUT", "created_at": "2024-06-01T00:00:00Z"}])
        a = r.json()
        assert r.status_code == 200 and (a["imported"], a["rejected"]) == (1, 1), a
        assert a["reasons"][0].startswith("api:test-ingest item 2, column created_at: "), a
        assert "from 2025-01-01 to before 2027-01-01" in a["reasons"][0], a
