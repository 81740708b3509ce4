"""The server's result cache: KPI answers as JSON bytes, dropped by every committed write.

Key: the write generation + the normalised query + who asks (the role; an agent token's id and
agent_id, so an agent's rows never answer another token). State.write bumps the generation and
clears the cache after each write, committed or not, so no answer read before a write is served
after it. Bounded (LRU) in entries and in bytes (64 MiB). A query without as_of is evaluated at "now": its entry lives for NOW_TTL
seconds at most. Concurrent misses of one key compute it once (the others wait for that answer)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

from servicekpi.engine.query import Query
from servicekpi.server.tokens import Identity

NOW_TTL = 10  # seconds an answer computed at "now" (no as_of) may be served


def key(kind: str, q: Query, ident: Identity, *extra) -> tuple:
    who = (ident.role, ident.token_id, ident.agent_id) if ident.role == "agent" else (ident.role,)
    now = int(time.time() // NOW_TTL) if q.asof is None else None
    return (kind, who, tuple(q.kpis), q.by, tuple(q.dims), q.start, q.end,
            tuple(sorted((k, tuple(v)) for k, v in q.where.items())), tuple(sorted(q.options.items())),
            q.tz, q.asof, now, *extra)


class _Flight:
    def __init__(self):
        self.done = threading.Event()
        self.value: bytes | None = None
        self.error: BaseException | None = None


class ResultCache:
    def __init__(self, max_entries: int = 512, max_bytes: int = 64 * 1024 * 1024):
        self.max_entries, self.max_bytes, self.size = max_entries, max_bytes, 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, bytes] = OrderedDict()
        self._flights: dict[tuple, _Flight] = {}
        self.hits = self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, k: tuple, compute: Callable[[], bytes], current: Callable[[], tuple]) -> bytes:
        """The cached answer for k, else compute() (once for concurrent askers). k starts with the
        generation read before compute() opened its snapshot; current() gives the generation now:
        an answer is kept only if no write happened meanwhile."""
        with self._lock:
            if k in self._entries:
                self._entries.move_to_end(k)
                self.hits += 1
                return self._entries[k]
            flight = self._flights.get(k)
            lead = flight is None
            if lead:
                flight = self._flights[k] = _Flight()
                self.misses += 1
        if not lead:
            flight.done.wait()
            if flight.error is not None:  # the leader's error: compute our own (and raise it our own way)
                return compute()
            return flight.value
        try:
            flight.value = compute()
        except BaseException as e:
            flight.error = e
            raise
        finally:
            with self._lock:
                del self._flights[k]
                if flight.error is None and k[0] == current() and len(flight.value) <= self.max_bytes // 4:
                    old = self._entries.pop(k, None)  # an answer over a quarter of the budget is not kept
                    self.size += len(flight.value) - (len(old) if old is not None else 0)
                    self._entries[k] = flight.value
                    while len(self._entries) > self.max_entries or self.size > self.max_bytes:
                        self.size -= len(self._entries.popitem(last=False)[1])
            flight.done.set()
        return flight.value
