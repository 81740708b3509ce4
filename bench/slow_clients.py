"""Slow clients against `servicekpi serve` (docs/security.md, "Slow clients").

    python bench/slow_clients.py                       # 500 connections, header deadline 10 s
    python bench/slow_clients.py --connections 2000 --header-timeout 5 --seconds 30

Two servers run on loopback over the same small store: the app under uvicorn with the options
`serve` uses (server.limits.uvicorn_options: the header deadline) and, as the baseline, the same app
under plain uvicorn (uvicorn's own defaults have no read timeout). Each gets N connections that
send a request's headers one byte a second (slowloris). Prints, every few seconds, how many of the
connections each server still holds, and at the end how long a normal request took while they were
held. Exit 1 if the guarded server held any slow connection past the deadline plus 3 s.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))

REQUEST = b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"


def start(app, guarded: bool) -> tuple[int, object]:
    import uvicorn
    from api_support import free_port

    from servicekpi.server.limits import uvicorn_options
    port = free_port()
    options = uvicorn_options(app.state.sk) if guarded else {"limit_concurrency": 10_000}
    if guarded:
        options["limit_concurrency"] = 10_000  # measure the deadline, not the connection cap
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", **options))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return port, server


async def slowloris(port: int, held: list, index: int, stop: float) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        held[index] = False
        return
    sent = 0
    try:
        while time.monotonic() < stop:
            if sent < len(REQUEST):
                writer.write(REQUEST[sent:sent + 1])
                sent += 1
                await writer.drain()
            try:
                if not await asyncio.wait_for(reader.read(65536), 1.0) and reader.at_eof():
                    break
            except asyncio.TimeoutError:
                continue
        else:
            return  # still open at the end
    except (ConnectionError, OSError):
        pass
    held[index] = False
    writer.close()


async def attack(ports: dict, n: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    held = {name: [True] * n for name in ports}
    tasks = [asyncio.create_task(slowloris(port, held[name], i, stop)) for name, port in ports.items()
             for i in range(n)]
    start_at, timeline, normal = time.monotonic(), [], {}
    while time.monotonic() < stop:
        await asyncio.sleep(2.5)
        timeline.append((time.monotonic() - start_at, {name: sum(h) for name, h in held.items()}))
        print(f"{timeline[-1][0]:5.1f} s  " + "  ".join(f"{k}: {v} held" for k, v in timeline[-1][1].items()),
              flush=True)
        if not normal and timeline[-1][0] > seconds / 2:
            async with httpx.AsyncClient(timeout=30) as client:
                for name, port in ports.items():
                    t = time.monotonic()
                    r = await client.get(f"http://127.0.0.1:{port}/api/me")
                    normal[name] = (r.status_code, time.monotonic() - t)
    await asyncio.gather(*tasks)
    return {"timeline": timeline, "normal": normal}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--header-timeout", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=25)
    a = ap.parse_args()
    from api_support import CONFIG, build_store

    from servicekpi.server.app import create_app
    root = Path(tempfile.mkdtemp(prefix="sk-slow-"))
    ws = build_store(root)
    (root / "servicekpi.toml").write_text(CONFIG + f"[server]\nheader_timeout_s = {a.header_timeout}\n",
                                          encoding="utf-8")
    guarded, _ = start(create_app(ws.db), True)
    # the baseline needs its own store: one process may hold a DuckDB file for writing once
    base_root = Path(tempfile.mkdtemp(prefix="sk-slow-base-"))
    base_ws = build_store(base_root)
    plain, _ = start(create_app(base_ws.db), False)
    print(f"{a.connections} slowloris connections per server, one header byte a second, {a.seconds:g} s; "
          f"header deadline {a.header_timeout:g} s")
    out = asyncio.run(attack({"serve": guarded, "plain uvicorn": plain}, a.connections, a.seconds))
    late = [held["serve"] for t, held in out["timeline"] if t > a.header_timeout + 3]
    end = out["timeline"][-1][1]
    print(f"held at the end: serve {end['serve']} of {a.connections}, plain uvicorn {end['plain uvicorn']} "
          f"of {a.connections} (ratio serve/plain {end['serve'] / max(end['plain uvicorn'], 1):.3f})")
    for name, (status, secs) in out["normal"].items():
        print(f"a normal request meanwhile on {name}: {status} in {secs * 1000:.0f} ms")
    return 1 if any(late) else 0


if __name__ == "__main__":
    sys.exit(main())
