"""An HTTP JSON client and sync state for the API syncs of HubSpot, LiveAgent and Zammad.

The client sends the credential in one header (HubSpot: Authorization Bearer; LiveAgent: apikey),
never follows redirects (the credential stays on base_url), waits Retry-After on 429 (and on a
503 that has one), retries network errors and 5xx with exponential backoff, and redacts the
credential from every message. State rows go into zendesk_sync's sync_state table, one row per
(source, account, stream), written in the same transaction as the rows they follow.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import httpx

from servicekpi.connectors.zendesk.sync import STATE_DDL, NotFound, SyncError, retry_after


def sleep(seconds: float) -> None:
    """The pause between attempts; tests replace it so that they do not wait."""
    time.sleep(seconds)


@dataclass
class Client:
    base_url: str
    headers: dict = field(repr=False)  # the credential header(s)
    vendor: str = "the API"
    refused: str = "check the credential"  # what to say on 401/403
    credential: str = "credential"  # its name in messages (Zammad: token)
    retry_default: float = 10.0  # seconds to wait on a 429 without a readable Retry-After
    sleep: Callable[[float], None] = sleep
    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_limited: int = 20
    timeout: float = 60.0
    requests: int = 0
    waited: float = 0.0

    def __post_init__(self):
        self.base_url = self.base_url.rstrip("/")
        self._secrets = [v.split(" ", 1)[-1] for v in self.headers.values() if v]
        self._http = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                  headers={"Accept": "application/json", "User-Agent": "servicekpi-sync",
                                           **self.headers})

    def close(self) -> None:
        self._http.close()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def get(self, path: str, params: dict | None = None):
        return self.request("GET", path, params=params)

    def get_with_headers(self, path: str, params: dict | None = None):
        """(JSON answer, response headers): for APIs that put the next page's cursor in a header."""
        return self.exchange("GET", path, params=params)

    def post(self, path: str, body: dict):
        return self.request("POST", path, json=body)

    def request(self, method: str, path: str, **kw):
        """The JSON answer (an object or an array) of one request, after waits and retries."""
        return self.exchange(method, path, **kw)[0]

    def exchange(self, method: str, path: str, **kw):
        """(JSON answer, response headers) of one request, after waits and retries."""
        url = self.base_url + path
        failures = limited = 0
        while True:
            self.requests += 1
            problem = None
            try:
                r = self._http.request(method, url, **kw)
            except httpx.RequestError as e:
                problem = f"{type(e).__name__}: {self.redact(str(e)).rstrip('.') or 'no response'}"
            else:
                if r.status_code == 429 or (r.status_code == 503 and "retry-after" in r.headers):
                    limited += 1
                    if limited > self.max_limited:
                        raise SyncError(f"{method} {path}: still rate limited (HTTP {r.status_code}) after "
                                        f"{self.max_limited} waits; run the sync again later")
                    self._pause(retry_after(r.headers.get("retry-after"), default=self.retry_default))
                    continue
                if r.status_code in (401, 403):
                    raise SyncError(f"{method} {path}: HTTP {r.status_code}: {self.vendor} refused the "
                                    f"{self.credential}; {self.refused}")
                if r.status_code == 404:
                    raise NotFound(f"{method} {path}: HTTP 404 (not found)")
                if 400 <= r.status_code < 500:
                    raise SyncError(f"{method} {path}: HTTP {r.status_code}: {self.redact(r.text[:200])}")
                if r.status_code >= 500:
                    problem = f"HTTP {r.status_code}"
                else:
                    try:
                        return r.json(), r.headers
                    except ValueError:
                        problem = "the response is not JSON (cut short?)"
            failures += 1
            if failures > self.retries:
                raise SyncError(f"{method} {path}: {problem}; gave up after {failures} attempts")
            self._pause(min(self.backoff * 2 ** (failures - 1), self.max_backoff))

    def _pause(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)


# -- state (the sync_state table shared with zendesk_sync) ------------------------------------

def ensure_state(con) -> None:
    con.execute(STATE_DDL)


def cursor_of(con, source: str, account: str, stream: str) -> str | None:
    row = con.execute("SELECT cursor FROM sync_state WHERE source = ? AND account = ? AND stream = ?",
                      [source, account, stream]).fetchall()
    return row[0][0] if row else None


def state_rows(con, source: str, account: str) -> dict[str, dict]:
    cur = con.execute("SELECT stream, cursor, records, note FROM sync_state WHERE source = ? AND account = ?",
                      [source, account])
    return {r[0]: dict(zip(("stream", "cursor", "records", "note"), r)) for r in cur.fetchall()}


def save_state(con, source: str, account: str, stream: str, cursor: str | None, records: int,
               note: str | None = None) -> None:
    old = con.execute("SELECT records FROM sync_state WHERE source = ? AND account = ? AND stream = ?",
                      [source, account, stream]).fetchall()
    con.execute("DELETE FROM sync_state WHERE source = ? AND account = ? AND stream = ?", [source, account, stream])
    con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, ?, ?, current_timestamp)",
                [source, account, stream, cursor, (old[0][0] or 0 if old else 0) + records, note])
