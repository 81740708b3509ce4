"""The CLI next to a running server: a real `servicekpi serve` on loopback, and kpi, report, token create
and import run through it (cli/remote.py), compared with the direct answers and with the API.

Starting a real server process costs ~2-3 s: this is the only test that does (the issue's quality bar)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import run

ASOF = "2026-12-01T00:00:00Z"
TICKETS = [{"ticket_id": f"T{i}", "created_at": f"2026-{m:02d}-10T10:00:00Z", "channel": "email", "agent_id": "a1"}
           for i, m in enumerate([9, 10, 10, 11, 11, 11])]
MORE = [{"ticket_id": "T9", "created_at": "2026-11-20T10:00:00Z", "channel": "chat", "agent_id": "a2"}]


def nov(rows) -> int:
    return next(r["value"] for r in rows if r["period_start"].startswith("2026-11"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port, path, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def start(ws, port):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2] / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "servicekpi", "serve", "--port", str(port), "--db", str(ws.db)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    note = ws.db.with_name(ws.db.name + ".serve.json")
    for _ in range(300):
        if note.exists():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=1).close()
                return proc
            except OSError:
                pass
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start in 30 s")


def test_kpi_report_token_and_import_run_through_a_live_server(ws, tmp_path):
    ws.write("tickets", TICKETS)
    ws.load()
    query = ("kpi", "ticket_volume", "--by", "month", "--format", "json", "--as-of", ASOF)
    direct = run(ws, *query)
    assert direct.exit_code == 0, direct.stderr
    bad_direct = run(ws, "kpi", "ticket_volume", "--by", "fortnight", "--as-of", ASOF)
    port = free_port()
    proc = start(ws, port)
    try:
        key = ws.db.with_name(ws.db.name + ".serve.key")
        assert key.stat().st_mode & 0o777 == 0o600  # only the owner reads the local key

        served = run(ws, *query)  # the store is locked by the server: this goes through it
        assert (served.exit_code, served.stdout) == (0, direct.stdout), served.stderr + served.exception
        # Sep 1, Oct 2, Nov 3 tickets: the months of TICKETS
        assert [r["value"] for r in json.loads(served.stdout) if r["value"]][-3:] == [1, 2, 3]
        bad = run(ws, "kpi", "ticket_volume", "--by", "fortnight", "--as-of", ASOF)  # same usage error, same code
        assert (bad.exit_code, bad.stderr) == (bad_direct.exit_code, bad_direct.stderr) and bad.exit_code == 2

        made = run(ws, "token", "create", "--role", "viewer", "--name", "wall")
        assert made.exit_code == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        assert api(port, f"/api/kpis/ticket_volume?by=month&as_of={ASOF}", token) == json.loads(direct.stdout)

        out = tmp_path / "r.html"
        rep = run(ws, "report", "--out", str(out), "--month", "2026-11", "--as-of", ASOF)
        assert rep.exit_code == 0, rep.stderr
        assert out.stat().st_size > 1000 and "ticket" in out.read_text(encoding="utf-8").lower()

        extra = tmp_path / "more"
        extra.mkdir()
        ws.data = extra
        ws.write("tickets", MORE)
        imp = run(ws, "import", str(extra))
        assert imp.exit_code == 0, imp.stderr
        rows = api(port, f"/api/kpis/ticket_volume?by=month&as_of={ASOF}", token)
        assert nov(rows) == 4  # November: 3 tickets + T9; the server's cache was dropped by the write
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not key.exists()  # the key goes with the server
    after = run(ws, *query)  # and direct again: November has 4
    assert nov(json.loads(after.stdout)) == 4


def test_a_stale_note_is_removed_not_blamed(ws):
    ws.write("tickets", TICKETS)
    ws.load()
    note = ws.db.with_name(ws.db.name + ".serve.json")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    note.write_text(json.dumps({"pid": dead.pid, "url": "http://127.0.0.1:1", "port": 1}), encoding="utf-8")
    r = run(ws, "kpi", "ticket_volume", "--as-of", ASOF)
    assert r.exit_code == 0 and "held" not in r.stderr
    assert not note.exists()
