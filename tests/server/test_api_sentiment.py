"""feedback_sentiment through the API: the CLI's numbers, the rows behind them, the catalog entry."""
from __future__ import annotations

import sys
from pathlib import Path

from api_support import ASOF, bearer, fresh, make_tokens  # noqa: F401 - fixture
from fastapi.testclient import TestClient

from conftest import Workspace
from servicekpi.server.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))
from test_feedback_sentiment import FEEDBACK, OCT, SURVEYS  # noqa: E402


def test_api_gives_the_cli_numbers_and_rows(tmp_path):
    both = Workspace(tmp_path)
    both.write("feedback", FEEDBACK)
    both.write("surveys", SURVEYS)
    both.load()
    expected = both.kpi("feedback_sentiment", *OCT)
    secrets = make_tokens(both.db)
    with TestClient(create_app(both.db)) as client:
        params = [("from", "2026-10-01"), ("to", "2026-10-31"), ("as_of", "2027-01-01T00:00:00Z")]
        r = client.get("/api/kpis/feedback_sentiment", params=params, headers=bearer(secrets["viewer"]))
        assert r.status_code == 200 and r.json() == expected
        r = client.get("/api/kpis/feedback_sentiment/rows", params=params, headers=bearer(secrets["viewer"]))
        body = r.json()
        assert r.status_code == 200 and body["total"] == 7
        assert {x["text_id"]: x["sentiment"] for x in body["rows"]}["surveys:S2"] == "positive"
        r = client.get("/api/kpis", headers=bearer(secrets["viewer"]))
        entry = next(k for k in r.json()["kpis"] if k["id"] == "feedback_sentiment")
        assert entry["available"] and entry["dimensions"] == ["origin", "language"]
        assert entry["options"][0]["default"] == "negative"


def test_feedback_posted_to_the_api_is_classified_at_ingest(fresh):
    # the fresh store has surveys R1-R3 without comments: no classified text before
    h = bearer(fresh.tokens["ingest"])
    body = [dict(r) for r in FEEDBACK[:3]]  # F1 F2 negative, F3 positive
    r = fresh.client.post("/api/ingest/feedback", json=body, headers=h)
    assert r.status_code == 200, r.text
    params = [("from", "2026-10-01"), ("to", "2026-10-31"), ("as_of", ASOF)]
    rows = fresh.client.get("/api/kpis/feedback_sentiment", params=params,
                            headers=bearer(fresh.tokens["viewer"])).json()
    # 2 negative of 3 classified -> 66.67
    assert [(x["numerator"], x["denominator"]) for x in rows] == [(2, 3)]
    assert abs(rows[0]["value"] - 200 / 3) < 1e-9
