"""API ingest recomputes the days its batch changed in the store's daily rollups, in its transaction."""
from __future__ import annotations

from api_support import ASOF, bearer, build_store, make_tokens
from test_ingest import NEW, post

from servicekpi.server.app import create_app


def test_ingest_refreshes_the_rollup(tmp_path):
    from fastapi.testclient import TestClient
    ws = build_store(tmp_path)
    r = ws.cli("rollup", "--by", "channel")
    assert r.exit_code == 0, r.stdout + r.stderr
    tokens = make_tokens(ws.db)
    app = create_app(ws.db)
    with TestClient(app) as client:
        from types import SimpleNamespace
        s = SimpleNamespace(client=client, tokens=tokens)
        assert post(s, "tickets", NEW).status_code == 200
        def rolled(cur):  # the tickets counted in the rollup that holds ticket_volume
            import json
            spec = [json.loads(r[0]) for r in cur.execute("SELECT spec FROM sk_rollups").fetchall()
                    if "ticket_volume" in json.loads(r[0])["kpis"]][0]
            return cur.execute(f"SELECT sum(ticket_volume__n) FROM {spec['name']}").fetchall()[0][0]
        assert app.state.sk.write(rolled) == 5 + 2  # the store's 5 tickets and N1, N2 (2026-11-20/21)
        e = client.get("/api/kpis/ticket_volume", params={"as_of": ASOF, "by": "month"},
                       headers=bearer(tokens["admin"]))
        assert sum(x["value"] for x in e.json()) == 5 + 2
