"""Fuzzing POST /api/ingest/tickets (issue 12, "a fuzz suite that stays"), CI-sized.

One server for the module (building a store per example cost seconds: bench/fuzz_ingest.py ran past
170 s at 30 examples). Each example writes under ticket ids of its own, so examples stay independent
on the shared store. Properties: never a 5xx; an error answer has the error shape; with a 200 every
row is accounted for (imported + replaced + unchanged + rejected = received), the untouched rows are
stored, and a rejection names its item, column and reason; re-posting the same body changes nothing.

SERVICEKPI_FUZZ_EXAMPLES (default 12 a property) runs longer sessions."""
from __future__ import annotations

import itertools
import json
import os

import pytest
from api_support import _server, bearer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SERVICEKPI_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# near the int64 edge (the open 500 of bench/fuzz_ingest.py), non-finite values and odd text
EDGES = st.sampled_from([9.2e18, 9.223372036854776e18, 2 ** 63 - 1, 2 ** 63, -(2 ** 63), 10 ** 30, "9.2e18",
                         "inf", "-Infinity", "nan", "1e400", "", " ", "\u0000x", "0x10", "1_000", "٣"])
CELLS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), EDGES,
                  st.text(max_size=30), st.lists(st.integers(), max_size=3))
COLUMNS = ["reopen_count", "created_at", "first_response_at", "channel", "status", "agent_replies",
           "priority", "team"]
_ids = itertools.count()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    s = _server(tmp_path_factory.mktemp("fuzz"), max_body=64 * 1024)
    with s.client:
        yield s


def _post(s, content: bytes):
    return s.client.post("/api/ingest/tickets", content=content, headers=bearer(s.tokens["ingest"]))


def _stored(s, tid: str) -> int:
    r = s.client.get("/api/kpis/ticket_volume/rows", params={"where": f"ticket_id={tid}"},
                     headers=bearer(s.tokens["admin"]))
    assert r.status_code == 200, r.text
    return r.json()["total"]


def _valid(n: int) -> list[dict]:
    # ids of one width: the byte mutations draw from a body of the same length every example
    return [{"ticket_id": f"Z{n:06d}-{i}", "created_at": f"2026-10-0{i + 1}T09:00:00Z", "channel": "email"}
            for i in range(3)]


@FUZZ
@given(data=st.data())
def test_mutated_bytes_never_5xx(shared, data):
    raw = bytearray(json.dumps(_valid(next(_ids))).encode())
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=6))
        elif len(raw) > 1:
            del raw[at]
    r = _post(shared, bytes(raw))
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["ok"] is False and r.json()["error"]


@FUZZ
@given(column=st.sampled_from(COLUMNS), cell=CELLS,
       extra=st.dictionaries(st.text(min_size=1, max_size=10), CELLS, max_size=3))
def test_mutated_cells_keep_valid_rows(shared, column, cell, extra):
    items = _valid(next(_ids))
    items[2] = {**items[2], **extra, column: cell}
    try:
        content = json.dumps(items, allow_nan=True).encode()
    except (TypeError, ValueError):
        return
    r = _post(shared, content)
    assert r.status_code < 500, r.text
    if r.status_code != 200:
        assert r.json()["ok"] is False and r.json()["error"]
        return
    a = r.json()
    assert a["imported"] + a["replaced"] + a["unchanged"] + a["rejected"] == 3, a
    assert a["rejected"] <= 1, a
    for reason in a["reasons"]:  # located: the item and the column, then why
        assert reason.startswith("api:test-ingest item 3, column "), reason
    for row in items[:2]:
        assert _stored(shared, row["ticket_id"]) == 1, (row, a)
    again = _post(shared, content).json()  # idempotent: nothing new, nothing replaced
    assert again["imported"] == again["replaced"] == 0, again
    assert again["rejected"] == a["rejected"], again


@pytest.mark.parametrize("value, stored", [
    (9.2e18, True),                  # 9200000000000000000 fits int64
    (2 ** 63 - 1, True),             # int64's largest
    (9.223372036854776e18, False),   # the double nearest 2**63: one past int64
    (2 ** 63, False),
    (10 ** 30, False),
    ("inf", False), ("nan", False),
])
def test_reopen_count_near_int64_is_stored_or_located(shared, value, stored):
    tid = f"R{next(_ids)}"
    r = _post(shared, json.dumps([{"ticket_id": tid, "created_at": "2026-10-01T09:00:00Z",
                                   "reopen_count": value}]).encode())
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["rejected"] == (0 if stored else 1), a
    if not stored:
        assert a["reasons"][0].startswith("api:test-ingest item 1, column reopen_count: "), a
    assert _stored(shared, tid) == (1 if stored else 0)
