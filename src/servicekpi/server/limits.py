"""How `servicekpi serve` runs uvicorn under hostile clients, and the serve.json note's life.

uvicorn's own defaults hold idle connections 5 s and accept any number of them: 2,000 slow
connections were held for 60 s. limit_concurrency answers 503 past that many open connections and
tasks; timeout_keep_alive drops an idle kept-alive connection. uvicorn has no timeout for a request
whose headers or body trickle in: server/slow.py adds both (docs/security.md, "Server")."""
from __future__ import annotations

import os
import signal

UVICORN = {"limit_concurrency": 256, "backlog": 512, "h11_max_incomplete_event_size": 64 * 1024,
           "timeout_graceful_shutdown": 10}


def uvicorn_options(state) -> dict:
    """uvicorn.run / uvicorn.Config keywords for the app over `state`: the limits above, the kept-alive
    timeout and the header deadline from [server] (state.timeouts, set by create_app)."""
    from servicekpi.server.slow import header_deadline_protocol
    t = state.timeouts
    return {**UVICORN, "timeout_keep_alive": t["keep_alive_s"],
            "http": header_deadline_protocol(t["header_timeout_s"])}


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
