"""The server under faults (issue 12, item 8): an invalidated DuckDB database answers 503 and
stops the server; a failing cursor leaks no engine slot; the serve.json note goes on SIGTERM and a
note of a dead pid is stale. DuckDB's invalidation is simulated by the exception it raises
(duckdb.FatalException, "database has been invalidated because of a previous fatal error")."""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time

import duckdb
from api_support import bearer, build_store, free_port, fresh  # noqa: F401 - fixture
from test_errors import shaped

from servicekpi.cli.commands.serve import holder, note_path

INVALID = "FATAL Error: Failed: database has been invalidated because of a previous fatal error"


def _empty_pool(state, cursor):
    state._pool, state._made = queue.LifoQueue(), 0
    state.cursor = cursor


def test_invalidated_database_answers_503_and_stops_the_server(fresh):
    state, stops = fresh.app.state.sk, []
    state.on_invalidated = lambda: stops.append(1)

    def broken():
        raise duckdb.FatalException(INVALID)
    _empty_pool(state, broken)
    body = shaped(fresh.client.get("/api/kpis/ticket_volume", headers=bearer(fresh.tokens["viewer"])), 503)
    assert "invalidated" in body["error"] and "restart" in body["error"]
    assert state._made == 0  # the slot went back
    assert stops == [1]
    # every later request, reads and writes, gets the same 503 (not 500, not a 60 s hang)
    shaped(fresh.client.get("/api/dims", headers=bearer(fresh.tokens["viewer"])), 503)
    r = fresh.client.post("/api/ingest/tickets", json=[{"ticket_id": "x", "created_at": "2026-10-01T00:00:00Z"}],
                          headers=bearer(fresh.tokens["ingest"]))
    shaped(r, 503)
    assert stops == [1]
    state.invalidated = None  # let the fixture close the store


def test_a_failing_cursor_leaks_no_engine_slot(fresh):
    state = fresh.app.state.sk
    real, fails = state.cursor, {"n": state.pool_size + 2}

    def flaky():
        if fails["n"] > 0:
            fails["n"] -= 1
            raise RuntimeError("cannot create a cursor")
        return real()
    _empty_pool(state, flaky)
    for _ in range(state.pool_size + 2):
        shaped(fresh.client.get("/api/dims", headers=bearer(fresh.tokens["viewer"])), 500)
    assert state._made == 0
    started = time.monotonic()
    assert fresh.client.get("/api/dims", headers=bearer(fresh.tokens["viewer"])).status_code == 200
    assert time.monotonic() - started < 10  # before: every slot leaked, the request waited 60 s for 503


def test_serve_note_is_removed_on_sigterm(tmp_path):
    ws = build_store(tmp_path)
    note = note_path(ws.db)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-m", "servicekpi", "serve", "--port", str(free_port()),
                             "--db", str(ws.db)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while not note.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "the server did not start"
            time.sleep(0.1)
        assert json.loads(note.read_text())["pid"] == proc.pid
        time.sleep(1.5)  # into uvicorn's loop
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not note.exists()  # before: uvicorn re-raised SIGTERM and the note stayed


def test_a_note_of_a_dead_pid_is_stale(tmp_path):
    db = tmp_path / "s.duckdb"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    note_path(db).write_text(json.dumps({"pid": dead.pid, "url": "http://127.0.0.1:9"}), encoding="utf-8")
    assert "running servicekpi server" not in holder(db)
    note_path(db).write_text(json.dumps({"pid": os.getpid(), "url": "http://127.0.0.1:9"}), encoding="utf-8")
    assert f"pid {os.getpid()}" in holder(db)
