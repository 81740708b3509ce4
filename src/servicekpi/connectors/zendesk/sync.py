"""Live pull from Zendesk into the store: `servicekpi sync zendesk` (docs/connectors/zendesk-sync.md).

Streams, each resumed from its stored cursor:
- users: the cursor-based incremental user export (id and role only: agent vs end-user);
- tickets: the cursor-based incremental ticket export with the `metric_sets` sideload
  (ticket_metrics), and for every ticket of a page its audits (comments and the status history)
  and, when the ticket was rated good or bad, its satisfaction rating.

A ticket page is written as the Support API pages the zendesk connector reads (zendesk_api),
converted by it (zendesk.build: one mapping, not two) and imported by ingest.load.run_batches
(validation, quarantine, idempotent upsert). The page's cursor is written by the same
transaction as its rows, so a sync that stops at any point resumes without losing or
duplicating a ticket. A ticket seen again in a later page replaces its earlier version.

The API token only goes into the Authorization header; error messages are redacted.
"""
from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode, urlsplit

import httpx

from servicekpi.connectors.zendesk import api as zendesk_api
from servicekpi.connectors.zendesk import rules as zendesk
from servicekpi.core.errors import ConnectorError
from servicekpi.ingest import load

SOURCE = "zendesk"
TICKETS = "/api/v2/incremental/tickets/cursor.json"
USERS = "/api/v2/incremental/users/cursor.json"
STATE_DDL = """CREATE TABLE IF NOT EXISTS sync_state (
    source VARCHAR, account VARCHAR, stream VARCHAR, cursor VARCHAR, records BIGINT, note VARCHAR,
    updated_at TIMESTAMP)"""
# roles of the users seen so far: a comment's author decides agent vs customer in later syncs too
USERS_DDL = "CREATE TABLE IF NOT EXISTS sync_zendesk_users (account VARCHAR, user_id VARCHAR, role VARCHAR)"
NOT_ANSWERS = ("offered", "unoffered")


def sleep(seconds: float) -> None:
    """The pause between attempts; tests replace it so that they do not wait."""
    time.sleep(seconds)


class SyncError(ConnectorError):
    """The sync cannot go on (refused credentials, retries exhausted); what was complete is kept."""


class NotFound(SyncError):
    pass


@dataclass
class Client:
    """GET JSON from one Zendesk account with `{email}/token:{token}` basic auth.

    429 (and 503 with Retry-After): wait Retry-After seconds, up to `max_limited` times in a row.
    Network errors, 5xx and unreadable bodies: retry `retries` times after 1, 2, 4, ... seconds
    (at most `max_backoff`). Redirects are not followed: the credentials stay on base_url."""
    base_url: str
    email: str
    token: str = field(repr=False)
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
        user = f"{self.email}/token"
        self._secrets = [self.token, base64.b64encode(f"{user}:{self.token}".encode()).decode()]
        self._http = httpx.Client(auth=httpx.BasicAuth(user, self.token), timeout=self.timeout,
                                  follow_redirects=False,
                                  headers={"Accept": "application/json", "User-Agent": "servicekpi-sync"})

    def close(self) -> None:
        self._http.close()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith("/"):
            return self.base_url + path_or_url
        if _origin(path_or_url) != _origin(self.base_url):
            raise SyncError(f"Zendesk sent a next-page link to {_origin(path_or_url)}, not {self.base_url}: "
                            "not followed (the credentials are only sent to the account's own address)")
        return path_or_url

    def get(self, path_or_url: str, params: dict | None = None) -> dict:
        url = self.url(path_or_url)
        shown = url.split("?")[0]
        failures = limited = 0
        while True:
            self.requests += 1
            problem = None
            try:
                r = self._http.get(url, params=params)
            except httpx.RequestError as e:  # connection refused or dropped, timeout, bad encoding
                problem = f"{type(e).__name__}: {self.redact(str(e)).rstrip('.') or 'no response'}"
            else:
                if r.status_code == 429 or (r.status_code == 503 and "retry-after" in r.headers):
                    limited += 1
                    if limited > self.max_limited:
                        raise SyncError(f"GET {shown}: still rate limited (HTTP {r.status_code}) after "
                                        f"{self.max_limited} waits; run the sync again later")
                    self._pause(retry_after(r.headers.get("retry-after")))
                    continue
                if r.status_code in (401, 403):
                    raise SyncError(f"GET {shown}: HTTP {r.status_code}: Zendesk refused the credentials; check "
                                    "--email and the API token in the --token-env variable (Admin Center > Apps "
                                    "and integrations > APIs > Zendesk API; token access must be enabled)")
                if r.status_code == 404:
                    raise NotFound(f"GET {shown}: HTTP 404 (not found)")
                if 400 <= r.status_code < 500:
                    raise SyncError(f"GET {shown}: HTTP {r.status_code}: {self.redact(r.text[:200])}")
                if r.status_code >= 500:
                    problem = f"HTTP {r.status_code}"
                else:
                    try:
                        doc = r.json()
                    except ValueError:
                        problem = "the response is not JSON (cut short?)"
                    else:
                        if isinstance(doc, dict):
                            return doc
                        problem = "the response is not a JSON object"
            failures += 1
            if failures > self.retries:
                raise SyncError(f"GET {shown}: {problem}; gave up after {failures} attempts")
            self._pause(min(self.backoff * 2 ** (failures - 1), self.max_backoff))

    def _pause(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    def pages(self, path: str, key: str, params: dict | None = None) -> list:
        """Every record of a list endpoint, following cursor (links.next) or offset (next_page) links."""
        records: list = []
        url: str | None = path
        while url:
            doc = self.get(url, params)
            params = None  # the next link carries them
            records += doc.get(key) or []
            meta, links = doc.get("meta") or {}, doc.get("links") or {}
            url = links.get("next") if meta.get("has_more") else doc.get("next_page")
        return records


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def retry_after(value: str | None, default: float = 60.0) -> float:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110); missing or unreadable -> default."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


# -- state -------------------------------------------------------------------------------------

def ensure_tables(con) -> None:
    con.execute(STATE_DDL)
    con.execute(USERS_DDL)


def cursor_of(con, account: str, stream: str) -> str | None:
    row = con.execute("SELECT cursor FROM sync_state WHERE source = ? AND account = ? AND stream = ?",
                      [SOURCE, account, stream]).fetchall()
    return row[0][0] if row else None


def state_rows(con, account: str) -> dict[str, dict]:
    cur = con.execute("SELECT stream, cursor, records, note, updated_at FROM sync_state "
                      "WHERE source = ? AND account = ?", [SOURCE, account])
    return {r[0]: dict(zip(("stream", "cursor", "records", "note", "updated_at"), r)) for r in cur.fetchall()}


def save_state(con, account: str, stream: str, cursor: str | None, records: int, note: str | None = None) -> None:
    """One stream's row (in the caller's transaction); records accumulate over the stream's pages."""
    old = con.execute("SELECT records FROM sync_state WHERE source = ? AND account = ? AND stream = ?",
                      [SOURCE, account, stream]).fetchall()
    con.execute("DELETE FROM sync_state WHERE source = ? AND account = ? AND stream = ?", [SOURCE, account, stream])
    con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, ?, ?, current_timestamp)",
                [SOURCE, account, stream, cursor, (old[0][0] or 0 if old else 0) + records, note])


def save_roles(con, account: str, roles: dict[str, str]) -> None:
    if not roles:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE new_roles (user_id VARCHAR, role VARCHAR)")
    con.executemany("INSERT INTO new_roles VALUES (?, ?)", list(roles.items()))
    con.execute("DELETE FROM sync_zendesk_users WHERE account = ? AND user_id IN (SELECT user_id FROM new_roles)",
                [account])
    con.execute("INSERT INTO sync_zendesk_users SELECT ?, user_id, role FROM new_roles", [account])
    con.execute("DROP TABLE new_roles")


def known_roles(con, account: str, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    con.execute("CREATE OR REPLACE TEMP TABLE want_roles (user_id VARCHAR)")
    con.executemany("INSERT INTO want_roles VALUES (?)", [[i] for i in ids])
    rows = con.execute("SELECT user_id, role FROM sync_zendesk_users WHERE account = ? AND user_id IN "
                       "(SELECT user_id FROM want_roles)", [account]).fetchall()
    con.execute("DROP TABLE want_roles")
    return dict(rows)


class _StateOnCommit:
    """The store connection as run_batches sees it: just before its COMMIT the sync state is
    written, so a page's rows and the cursor after them are stored together or not at all."""

    def __init__(self, con, write: Callable):
        self._con, self._write = con, write

    def execute(self, sql, *args, **kw):
        if isinstance(sql, str) and sql.strip().upper() == "COMMIT":
            self._write(self._con)
        return self._con.execute(sql, *args, **kw)

    def __getattr__(self, name):
        return getattr(self._con, name)


# -- the sync ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    pages: int = 0
    tickets: int = 0
    users: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(("imported", "replaced", "unchanged", "rejected"), 0))
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def add(self, result: load.ImportResult) -> None:
        for k in self.counts:
            self.counts[k] += result.total(k)
        for f in result.files:
            if f.error:
                self.notes.append(f"Error: {f.source}: {f.error}")
            elif f.rejected:
                self.notes.append(f"{f.source}: {f.rejected} row(s) rejected into quarantine (see: servicekpi "
                                  "quarantine)")
            self.notes += [f"{f.source}: {n}" for n in f.notes]

    def summary(self) -> str:
        c = self.counts
        return (f"{self.pages} ticket page(s), {self.tickets} ticket version(s), {self.users} user(s); imported "
                f"{c['imported']}, replaced {c['replaced']}, unchanged {c['unchanged']}, rejected {c['rejected']} rows")


def start_params(con, account: str, stream: str, since: int | None) -> dict:
    """--since restarts a stream at that time; otherwise its stored cursor; a first sync starts at 0 (all)."""
    stored = cursor_of(con, account, stream)
    if since is None and stored:
        if stored.startswith("start_time:"):  # Zendesk gave no cursor yet: ask again from that time
            return {"start_time": int(stored.split(":", 1)[1])}
        return {"cursor": stored}
    return {"start_time": since or 0}


def sync(con, client: Client, account: str, since: int | None = None,
         progress: Callable[[str, int], None] | None = None, report: Callable[[str], None] | None = None,
         agents=None) -> Outcome:
    """Pull users, then tickets, importing and checkpointing page by page; an error stops the run
    with everything before it stored (Outcome.error says what happened). agents: the workspace's
    [agents] rules, applied as on import."""
    ensure_tables(con)
    out = Outcome()
    say = report or (lambda text: None)
    try:
        groups = {zendesk.s(g.get("id")): g for g in client.pages("/api/v2/groups.json", "groups")
                  if isinstance(g, dict) and zendesk.s(g.get("id"))}
        _users(con, client, account, since, out, progress)
        _tickets(con, client, account, since, list(groups.values()), out, progress, say, agents)
    except SyncError as e:
        out.error = client.redact(str(e))
    con.execute("BEGIN")
    save_state(con, account, "run", None, 0, out.error or "ok")
    con.execute("COMMIT")
    return out


def _cursor_pages(client: Client, path: str, key: str, params: dict, extra: dict | None = None):
    """(records, document, cursor to store, the request's parameters) per page of a cursor-based export."""
    while True:
        doc = client.get(path, {**params, **(extra or {})})
        after = doc.get("after_cursor")
        records = [r for r in doc.get(key) or [] if isinstance(r, dict)]
        end = bool(doc.get("end_of_stream"))
        if not after and not end:
            raise SyncError(f"GET {path}: a page without after_cursor before the end of the stream")
        resume = after or params.get("cursor") or f"start_time:{params.get('start_time', 0)}"
        yield records, doc, resume, {**params, **(extra or {})}
        if end:
            return
        params = {"cursor": after}


def _users(con, client, account, since, out: Outcome, progress) -> None:
    for records, _, cursor, _ in _cursor_pages(client, USERS, "users", start_params(con, account, "users", since)):
        roles = {zendesk.s(u.get("id")): (zendesk.s(u.get("role")) or "").lower()
                 for u in records if zendesk.s(u.get("id"))}
        con.execute("BEGIN")
        try:
            save_roles(con, account, roles)
            save_state(con, account, "users", cursor, len(records))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        out.users += len(records)
        if progress:
            progress("users", len(records))


def _tickets(con, client, account, since, groups: list, out: Outcome, progress, say, agents=None) -> None:
    params = start_params(con, account, "tickets", since)
    for tickets, doc, cursor, asked in _cursor_pages(client, TICKETS, "tickets", params, {"include": "metric_sets"}):
        page = _fetch_page(con, client, account, tickets, doc)
        with tempfile.TemporaryDirectory(prefix="servicekpi-zendesk-") as tmp:
            files, labels = _write_page(Path(tmp), page, groups, client.base_url, urlencode(asked))
            converted = zendesk.build(zendesk_api.read(files))
        for b in converted.batches:
            b.source = labels.get(b.source, b.source)

        def write(c, cursor=cursor, n=len(tickets), roles=page["new_roles"]):
            save_roles(c, account, roles)
            save_state(c, account, "tickets", cursor, n)

        if converted.batches:
            result = load.run_batches(_StateOnCommit(con, write), converted.batches, tz=converted.source_tz,
                                      agents=agents)
            out.add(result)
        else:  # an empty page still moves the cursor
            con.execute("BEGIN")
            write(con)
            con.execute("COMMIT")
        for note in converted.notes:
            for path, label in labels.items():
                note = note.replace(path, label)
            say(note)
        out.pages += 1
        out.tickets += len(tickets)
        if progress:
            progress("tickets", len(tickets))


def _fetch_page(con, client: Client, account: str, tickets: list[dict], doc: dict) -> dict:
    """Everything the connector needs for a page of tickets, fetched before anything is stored."""
    audits: dict[str, list] = {}
    ratings: list[dict] = []
    for t in tickets:
        tid = zendesk.s(t.get("id"))
        if tid is None or tid in audits or (zendesk.s(t.get("status")) or "").lower() == "deleted":
            continue  # a deleted ticket has no audits to read; it is kept excluded
        try:
            audits[tid] = client.pages(f"/api/v2/tickets/{tid}/audits.json", "audits", {"page[size]": 100})
        except NotFound:
            audits[tid] = []  # deleted since the export page was made: its next version says so
        rating = t.get("satisfaction_rating")
        if isinstance(rating, dict) and rating.get("id") is not None and \
                (zendesk.s(rating.get("score")) or "").lower() not in NOT_ANSWERS:
            try:
                r = client.get(f"/api/v2/satisfaction_ratings/{zendesk.s(rating['id'])}.json")
            except NotFound:
                continue
            if isinstance(r.get("satisfaction_rating"), dict):
                ratings.append(r["satisfaction_rating"])
    people = {zendesk.s(e.get("author_id", a.get("author_id")))
              for pages in audits.values() for a in pages if isinstance(a, dict)
              for e in a.get("events") or [] if isinstance(e, dict) and e.get("type") in ("Comment", "VoiceComment")}
    # a requester needs no role: the connector reads their comments as the customer's
    people = {p for p in people if p and p.isdigit()}  # -1 is Zendesk's system user
    roles = known_roles(con, account, people)
    new_roles: dict[str, str] = {}
    missing = sorted(people - set(roles), key=int)
    for i in range(0, len(missing), 100):  # users not in the user export yet (or before --since)
        for u in client.get("/api/v2/users/show_many.json", {"ids": ",".join(missing[i:i + 100])}).get("users") or []:
            if isinstance(u, dict) and zendesk.s(u.get("id")):
                new_roles[zendesk.s(u["id"])] = (zendesk.s(u.get("role")) or "").lower()
    return {"tickets": tickets, "metrics": [m for m in doc.get("metric_sets") or [] if isinstance(m, dict)],
            "audits": audits, "ratings": ratings, "roles": {**roles, **new_roles}, "new_roles": new_roles}


def _write_page(folder: Path, page: dict, groups: list, base: str, query: str):
    """The page as the Support API files zendesk_api reads; labels name each file by its endpoint."""
    files, labels = [], {}

    def write(name: str, key: str, records: list, label: str) -> None:
        path = folder / name
        path.write_text(json.dumps({key: records}), encoding="utf-8")
        files.append(path)
        labels[str(path)] = label

    write("tickets.json", "tickets", page["tickets"], f"{base}{TICKETS}?{query}")
    write("ticket_metrics.json", "ticket_metrics", page["metrics"], f"{base}{TICKETS}?{query} metric_sets")
    for tid, audits in page["audits"].items():
        write(f"audits_{tid}.json", "audits", audits, f"{base}/api/v2/tickets/{tid}/audits.json")
    write("satisfaction_ratings.json", "satisfaction_ratings", page["ratings"], f"{base}/api/v2/satisfaction_ratings")
    write("users.json", "users", [{"id": k, "role": v} for k, v in page["roles"].items()], f"{base}/api/v2/users")
    write("groups.json", "groups", groups, f"{base}/api/v2/groups.json")
    return files, labels
