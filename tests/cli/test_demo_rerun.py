"""Re-running `servicekpi demo` keeps the store's API tokens (issue 13 item 12); `serve` on a busy
port exits 4 with a clear message."""
from __future__ import annotations

import socket

from typer.testing import CliRunner

from servicekpi.cli.app import app
from servicekpi.cli.commands import demo as demo_mod
from servicekpi.server import tokens
from servicekpi.store import db as store


def test_rerunning_the_demo_keeps_the_tokens(tmp_path, monkeypatch):
    # the reports are another test's (tests/report): here only the store's rebuild matters
    monkeypatch.setattr(demo_mod, "demo_reports", lambda *a, **k: None)
    runner = CliRunner()
    out = tmp_path / "demo"
    out.mkdir()
    db = out / "servicekpi.duckdb"  # a previous demo's store, with the tokens its user made
    con = store.connect(db)
    tokens.ensure(con)
    _, secret = tokens.create(con, "manager", None, "boss")
    revoked, _ = tokens.create(con, "viewer", None, "old")
    tokens.revoke(con, revoked["id"])
    con.close()
    again = runner.invoke(app, ["demo", "--out", str(out), "--tickets", "300"])  # ~10 s: the real rebuild
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "kept the previous store's 2 API token(s) (1 active" in again.stderr
    con = store.connect(db, read_only=True)
    ident = tokens.verify(secret, tokens.active(con))
    assert ident is not None and ident.name == "boss" and ident.role == "manager"
    assert [t["name"] for t in tokens.listing(con, include_revoked=True) if t["revoked_at"]] == ["old"]
    con.close()


def test_serve_on_a_busy_port_exits_4(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = CliRunner().invoke(app, ["serve", "--port", str(port), "--db", str(tmp_path / "s.duckdb")])
    assert r.exit_code == 4, r.stdout + r.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in r.stderr
    assert "choose another with --port" in r.stderr
