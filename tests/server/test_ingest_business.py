"""Rows pushed through POST /api/ingest get their stored business seconds in the same write, so
hours=business keeps reading stored columns (business_store.py) while the server runs."""
from __future__ import annotations

from api_support import ASOF, bearer, fresh  # noqa: F401 - fixture

from servicekpi.store import business as business_store

# Default calendar: Mon-Fri 09:00-17:00 in Europe/Bucharest (UTC+2 in November).
# Created Fri 2026-11-20 14:00Z = 16:00 local; first response Mon 2026-11-23 08:30Z = 10:30 local:
# Fri 16:00-17:00 (60 min) + Mon 09:00-10:30 (90 min) = 150 min = 9000 s of business time.
PUSHED = [{"ticket_id": "N3", "created_at": "2026-11-20T14:00:00Z", "first_response_at": "2026-11-23T08:30:00Z",
           "channel": "email", "agent_id": "a1"}]


def test_pushed_ticket_has_stored_business_seconds(fresh):
    r = fresh.client.post("/api/ingest/tickets", json=PUSHED, headers=bearer(fresh.tokens["ingest"]))
    assert r.status_code == 200, r.text
    sk = fresh.app.state.sk
    with sk.engine() as eng:
        assert business_store.origin(eng.con, sk.cfg.business()) is not None
        (diff,) = eng.con.execute('SELECT "__b_first_response_at" - "__b_created_at" FROM tickets '
                                  "WHERE ticket_id = 'N3'").fetchall()[0]
    assert diff == 9000
    rows = fresh.client.get("/api/kpis/first_response_time",
                            params={"option": "hours=business", "dim": "ticket_id", "from": "2026-11-01",
                                    "to": "2026-11-30", "as_of": ASOF},
                            headers=bearer(fresh.tokens["viewer"])).json()
    assert {r["ticket_id"]: r["value"] for r in rows}["N3"] == 150
