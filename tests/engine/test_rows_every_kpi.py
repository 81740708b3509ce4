"""`servicekpi rows ID` and GET /api/kpis/{id}/rows work for every KPI of the catalog, on a
generated store holding every table (backlog and clv crashed before), and agree with each other."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import ASOF
from servicekpi.catalog import LANGS, catalog, texts
from servicekpi.cli.app import app
from servicekpi.ingest import load
from servicekpi.sample.generate import generate
from servicekpi.server import tokens
from servicekpi.server.app import create_app
from servicekpi.store import db as store

RANGE = ("--by", "month", "--from", "2026-09-01", "--to", "2026-10-31", "--as-of", ASOF)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("rows-all")
    generate(root / "data", tickets=300, seed=5, months=3, end=dt.date(2026, 11, 1))
    con = store.connect(root / "store.duckdb")
    load.run(con, root / "data")
    tokens.ensure(con)
    _, secret = tokens.create(con, "manager", None, "rows-test")
    con.close()
    return root / "store.duckdb", secret


@pytest.fixture(scope="module")
def api(sample, tmp_path_factory):
    db, secret = sample
    copy = tmp_path_factory.mktemp("rows-api") / "store.duckdb"
    shutil.copyfile(db, copy)  # the server holds its store; the CLI tests read the original
    client = TestClient(create_app(copy), raise_server_exceptions=False)
    with client:
        yield client, secret


@pytest.mark.parametrize("kid", sorted(catalog().kpis))
def test_rows_of_every_kpi_through_the_cli_and_the_api(sample, api, kid):
    db, _ = sample
    r = CliRunner().invoke(app, ["rows", kid, *RANGE, "--limit", "5", "--format", "json", "--db", str(db)])
    assert r.exit_code == 0, r.stdout + r.stderr
    cli_rows = json.loads(r.stdout)
    client, secret = api
    a = client.get(f"/api/kpis/{kid}/rows", params={"by": "month", "from": "2026-09-01", "to": "2026-10-31",
                                                     "as_of": ASOF, "limit": 5},
                   headers={"Authorization": f"Bearer {secret}"})
    assert a.status_code == 200, a.text
    body = a.json()
    assert body["rows"] == cli_rows
    # every column has a readable label in the four languages (the drawer's and the CLI table's heads)
    assert [c["id"] for c in body["columns"]] == list(dict.fromkeys(k for r in cli_rows for k in r))
    for c in body["columns"]:
        assert c["id"] in texts()["column"], c["id"]
        assert set(c["labels"]) == set(LANGS) and all(c["labels"].values()), c
    assert f"{len(cli_rows)} of {body['total']} record(s)" in r.stderr
