"""Failed sign-ins per client address: after `limit` failures within `window` seconds, POST
/api/session answers 429 (with Retry-After) without looking at the token, until the oldest of
those failures is `window` seconds old. Successful sign-ins and refused (429) attempts are not
counted. Kept in memory (a restart forgets), for at most `max_clients` addresses."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable


class FailureLimit:
    def __init__(self, limit: int = 5, window: float = 60.0, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.max_clients, self.clock = limit, window, max_clients, clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque] = OrderedDict()  # address -> failure instants

    def _recent(self, client: str, now: float) -> deque | None:
        found = self._failures.get(client)
        if found is not None:
            while found and found[0] <= now - self.window:
                found.popleft()
            if not found:
                del self._failures[client]
                return None
        return found

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it may try now."""
        with self._lock:
            now = self.clock()
            found = self._recent(client, now)
            if found is None or len(found) < self.limit:
                return None
            return max(1, math.ceil(found[-self.limit] + self.window - now))

    def failed(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            found = self._recent(client, now)
            if found is None:
                found = self._failures[client] = deque(maxlen=self.limit)
            found.append(now)
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:  # the least recently failing go first
                self._failures.popitem(last=False)
