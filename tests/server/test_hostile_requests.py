"""Malformed requests get a 4xx in the one error shape, never a 500 (issue 12, item 7 and 10b).

Each case was a measured 500 before: the exception it raised is written beside it."""
from __future__ import annotations

import pytest
from api_support import bearer, fresh  # noqa: F401 - fixture
from test_errors import shaped

TV = "/api/kpis/ticket_volume"
OK_ROW = '"ticket_id":"x","created_at":"2026-10-01T00:00:00Z"'

READS = [  # (id, path, params, status)
    ("tz-300-chars", TV, {"tz": "A" * 300}, 400),  # OSError: File name too long (tzdata lookup)
    ("tz-nul", TV, {"tz": "Europe/\0Paris"}, 400),
    ("as_of-9999", TV, {"as_of": "9999-12-31"}, 400),  # OverflowError in periods.build
    ("as_of-0001", TV, {"as_of": "0001-01-01T00:00:00Z"}, 400),
    ("from-0001", TV, {"from": "0001-01-01", "by": "year"}, 400),
    ("where-26-digits", TV, {"where": "reopen_count=" + "9" * 26}, 400),  # ibis SignatureValidationError
    ("rows-offset-26-digits", TV + "/rows", {"offset": "9" * 26}, 400),  # duckdb ConversionException INT128
    ("quarantine-offset-26-digits", "/api/quarantine", {"offset": "9" * 26}, 400),
]


@pytest.mark.parametrize("path,params,status", [c[1:] for c in READS], ids=[c[0] for c in READS])
def test_malformed_query_is_a_4xx(fresh, path, params, status):
    body = shaped(fresh.client.get(path, params=params, headers=bearer(fresh.tokens["admin"])), status)
    assert "internal error" not in body["error"]


BODIES = [  # (id, body, words of the error)
    ("integer-over-4300-digits", b'[{' + OK_ROW.encode() + b',"reopen_count":' + b"9" * 5000 + b'}]',
     "too long"),  # ValueError: Exceeds the limit (4300 digits)
    ("array-nested-past-recursion", b"[" * 20_000 + b"]" * 20_000, "nested too deeply"),  # RecursionError
    ("ndjson-nested-past-recursion", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nested too deeply"),
    ("nul-in-key", b'[{' + OK_ROW.encode() + b',"a\\u0000b":"1"}]', "NUL"),  # duckdb BinderException
    ("lone-surrogate-value", b'[{"ticket_id":"\\ud800","created_at":"2026-10-01T00:00:00Z"}]',
     "surrogate"),  # UnicodeEncodeError
    ("lone-surrogate-key", b'[{' + OK_ROW.encode() + b',"\\udc00":"1"}]', "surrogate"),
    ("lone-surrogate-nested", b'[{' + OK_ROW.encode() + b',"tags":["\\udfff"]}]', "surrogate"),
    ("duplicate-key", b'[{"ticket_id":"x","ticket_id":"y","created_at":"2026-10-01T00:00:00Z"}]',
     "appears twice"),  # was silently last-wins: one ticket "y" stored
    ("duplicate-key-ndjson", b'{' + OK_ROW.encode() + b',"channel":"a","channel":"b"}\n', "appears twice"),
]


@pytest.mark.parametrize("content,words", [c[1:] for c in BODIES], ids=[c[0] for c in BODIES])
def test_malformed_ingest_body_is_a_400_and_stores_nothing(fresh, content, words):
    r = fresh.client.post("/api/ingest/tickets", content=content, headers=bearer(fresh.tokens["ingest"]))
    assert words in shaped(r, 400)["error"]
    rows = fresh.client.get("/api/kpis/ticket_volume/rows", params={"where": "ticket_id=x"},
                            headers=bearer(fresh.tokens["admin"])).json()
    assert rows["total"] == 0


def test_duplicate_key_names_the_key_and_the_line(fresh):
    body = b'{' + OK_ROW.encode() + b'}\n{' + OK_ROW.encode() + b',"team":"a","team":"b"}\n'
    r = fresh.client.post("/api/ingest/tickets", content=body, headers=bearer(fresh.tokens["ingest"]))
    assert shaped(r, 400)["error"].startswith("NDJSON line 2: the key 'team' appears twice")


def test_year_out_of_python_range_in_a_body_is_never_a_500(fresh):
    # 0001-01-01 made the business-hours table overflow (OverflowError, 500). The import side
    # quarantines out-of-range instants; until then the server refuses the body as a whole.
    body = b'[{"ticket_id":"x","created_at":"0001-01-01T00:00:00Z"}]'
    r = fresh.client.post("/api/ingest/tickets", content=body, headers=bearer(fresh.tokens["ingest"]))
    assert r.status_code != 500, r.text
    assert r.status_code == 400 or r.json()["rejected"] == 1
