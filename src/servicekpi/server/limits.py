"""How `servicekpi serve` runs uvicorn under hostile clients, and the serve.json note's life.

uvicorn's own defaults hold idle connections 5 s and accept any number of them: 2,000 slow
connections were held for 60 s. limit_concurrency answers 503 past that many open connections and
tasks; timeout_keep_alive drops an idle kept-alive connection. uvicorn (0.3x) has no timeout for a
request whose headers or body trickle in: put a reverse proxy in front for that (docs/security.md, "Server")."""
from __future__ import annotations

import os
import signal

UVICORN = {"timeout_keep_alive": 5, "limit_concurrency": 256, "backlog": 512,
           "h11_max_incomplete_event_size": 64 * 1024, "timeout_graceful_shutdown": 10}


def pid_alive(pid) -> bool:
    """Whether a process with this pid runs (a note whose pid is dead is stale)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def exit_on_sigterm() -> None:
    """SIGTERM -> SystemExit(143), so `finally` blocks (the note's removal) run. uvicorn restores this
    handler after its own shutdown and re-raises the signal into it; the default handler killed the
    process without unwinding, leaving <store>.serve.json behind."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
