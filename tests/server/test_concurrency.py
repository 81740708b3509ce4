"""One writer, concurrent readers: a burst of ingests and queries against a live server loses
nothing and never shows part of a batch; CLI commands on a served store run through the server."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from api_support import ASOF, bearer, build_store, free_port, live_server, make_tokens, wait_for

BATCH = 20
WRITERS, BATCHES = 2, 6
READERS = 3
BASE = 5  # tickets in the store before the burst
SRC = Path(__file__).parents[2] / "src"


def batch(w: int, b: int) -> list[dict]:
    return [{"ticket_id": f"W{w}-B{b}-{i}", "created_at": f"2026-11-{10 + w:02d}T{b:02d}:{i:02d}:00Z",
             "channel": "chat", "agent_id": "a1" if i % 2 else "a2"} for i in range(BATCH)]


def test_burst_of_ingests_and_queries(tmp_path):
    ws = build_store(tmp_path)
    secrets = make_tokens(ws.db)
    seen: list[int] = []
    errors: list[str] = []
    answers: list[dict] = []
    done = threading.Event()

    with live_server(ws.db) as url:
        def writer(w):
            with httpx.Client(base_url=url, headers=bearer(secrets["ingest"]), timeout=120) as c:
                for b in range(BATCHES):
                    r = c.post("/api/ingest/tickets", json=batch(w, b), headers={"Idempotency-Key": f"{w}-{b}"})
                    if r.status_code != 200:
                        errors.append(f"ingest {w}-{b}: {r.status_code} {r.text}")
                    else:
                        answers.append(r.json())

        def reader(n):
            with httpx.Client(base_url=url, headers=bearer(secrets["viewer"]), timeout=120) as c:
                while not done.is_set():
                    if n % 2:
                        r = c.get("/api/kpis/ticket_volume", params={"as_of": ASOF})
                        value = r.json()[0]["value"] if r.status_code == 200 else None
                    else:
                        r = c.get("/api/kpis/ticket_volume/rows", params={"as_of": ASOF, "limit": 0})
                        value = r.json()["total"] if r.status_code == 200 else None
                    if value is None:
                        errors.append(f"query: {r.status_code} {r.text}")
                    else:
                        seen.append(value)
                    time.sleep(0.01)

        readers = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join(timeout=300)
        # a retry of one batch, from two clients at once, stores nothing twice
        with httpx.Client(base_url=url, headers=bearer(secrets["ingest"]), timeout=120) as c:
            retry = [None, None]

            def again(i):
                retry[i] = c.post("/api/ingest/tickets", json=batch(0, 0), headers={"Idempotency-Key": "0-0"})
            both = [threading.Thread(target=again, args=(i,)) for i in range(2)]
            for t in both:
                t.start()
            for t in both:
                t.join()
        done.set()
        for t in readers:
            t.join(timeout=120)
        with httpx.Client(base_url=url, headers=bearer(secrets["admin"]), timeout=120) as c:
            final = c.get("/api/kpis/ticket_volume", params={"as_of": ASOF}).json()[0]["value"]
            by_agent = c.get("/api/kpis/ticket_volume", params={"as_of": ASOF, "dim": "agent_id"}).json()

    assert errors == []
    assert len(answers) == WRITERS * BATCHES and all(a["imported"] == BATCH for a in answers)
    assert [r.json()["imported"] for r in retry] == [BATCH, BATCH]
    assert all(r.headers["idempotent-replayed"] == "true" for r in retry)
    assert final == BASE + WRITERS * BATCHES * BATCH  # nothing lost, nothing twice
    assert sum(r["value"] for r in by_agent) == final
    assert seen, "the readers ran"
    partial = [v for v in seen if (v - BASE) % BATCH]
    assert partial == [], "a query saw part of a batch"
    assert len({v for v in seen}) > 1 or seen[0] == final


def start_server(db, port):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "servicekpi", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def cli(*args, timeout=60, cwd=None):
    t0 = time.monotonic()
    env = dict(os.environ, PYTHONPATH=str(SRC))  # this tree's code, whatever the folder it runs in
    r = subprocess.run([sys.executable, "-m", "servicekpi", *args], capture_output=True, text=True,
                       timeout=timeout, cwd=cwd, env=env)
    return r, time.monotonic() - t0


def test_cli_commands_on_a_served_store_run_through_the_server(tmp_path):
    """A real `servicekpi serve` process and real CLI processes: import and kpi go through the server
    (issue 13: the CLI next to a running dashboard); only the demo, which deletes the store, refuses."""
    ws = build_store(tmp_path)
    secrets = make_tokens(ws.db)
    port = free_port()
    server = start_server(ws.db, port)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/openapi.json", timeout=60)
        note = json.loads((tmp_path / "store.duckdb.serve.json").read_text())
        assert note == {"pid": server.pid, "url": f"http://127.0.0.1:{port}", "port": port}
        more = tmp_path / "more"
        more.mkdir()
        ticket = {"ticket_id": "CLI-1", "created_at": "2026-11-09T10:00:00Z", "channel": "email"}
        (more / "tickets.jsonl").write_text(json.dumps(ticket) + "\n", encoding="utf-8")
        r, _ = cli("import", str(more), "--db", str(ws.db))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        r, _ = cli("kpi", "ticket_volume", "--db", str(ws.db), "--format", "json", "--as-of", ASOF)
        assert r.returncode == 0, r.stderr
        api = httpx.get(f"http://127.0.0.1:{port}/api/kpis/ticket_volume", params={"as_of": ASOF},
                        headers=bearer(secrets["viewer"]), timeout=60).json()
        # the CLI's answer is the server's, and holds the imported ticket: BASE + 1
        assert json.loads(r.stdout)[0]["value"] == api[0]["value"] == BASE + 1
        # --out - writes to stdout through the server too (it wrote a file named "-" in the server's folder)
        r, _ = cli("export", "tickets", "--format", "csv", "--out", "-", "--db", str(ws.db), "--as-of", ASOF,
                   cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0].startswith("\ufeffticket_id,") and len(lines) == 1 + BASE + 1  # BOM + header, BASE + CLI-1
        assert any(line.startswith("CLI-1,") for line in lines)
        assert not (tmp_path / "-").exists()
        r, _ = cli("kpi", "ticket_volum", "--db", str(ws.db))  # a usage error keeps its exit code through the server
        assert r.returncode == 2 and "ticket_volume" in r.stderr
        # the demo recreates its store: it must not delete the file from under the server
        inode = ws.db.stat().st_ino
        r, _ = cli("demo", "--out", str(tmp_path / "demo"), "--db", str(ws.db), "--tickets", "50")
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stderr.startswith(f"Error: the store {ws.db} is held by a running servicekpi server")
        assert "servicekpi demo --out OTHER" in r.stderr.replace("\n", " ") and "Traceback" not in r.stderr
        assert ws.db.stat().st_ino == inode and not (tmp_path / "demo" / "data").exists()
        # the server is unharmed and takes data through its API too
        pushed = httpx.post(f"http://127.0.0.1:{port}/api/ingest/tickets", headers=bearer(secrets["ingest"]),
                            json=batch(0, 0), timeout=60)
        assert pushed.status_code == 200 and pushed.json()["imported"] == BATCH
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert not (tmp_path / "store.duckdb.serve.json").exists()
    assert not (tmp_path / "store.duckdb.serve.key").exists()
    r, _ = cli("kpi", "ticket_volume", "--db", str(ws.db), "--format", "json", "--as-of", ASOF)
    # what the CLI import and the API stored is there, directly again: BASE + CLI-1 + BATCH
    assert r.returncode == 0 and json.loads(r.stdout)[0]["value"] == BASE + 1 + BATCH
