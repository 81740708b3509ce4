"""Live pull from Zammad into the store: `servicekpi sync zammad` (docs/connectors/zammad.md).

Tickets changed since the stored cursor come from the search endpoint, oldest change first:
  GET /api/v1/tickets/search?query=updated_at:[CURSOR TO *]&sort_by=updated_at&order_by=asc&expand=true
      &page=N&per_page=P
and, for every ticket of a page, its articles (/api/v1/ticket_articles/by_ticket/{id}?expand=true) and
its history (/api/v1/ticket_history/{id}). ticket_states and groups are read once per run. A page is
converted by the zammad connector (one mapping) and imported by ingest.load.run_batches; the
cursor (the page's latest updated_at) is written by the same transaction as its rows, so a sync
that stops anywhere resumes without losing a ticket. The range is inclusive: tickets changed
in the cursor's own second are read again and count as unchanged.

Auth: `Authorization: Token token=...` (Zammad's HTTP token access); the token is never printed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from servicekpi.connectors import vendor_http, zammad
from servicekpi.connectors.zendesk.sync import STATE_DDL, NotFound, SyncError, _StateOnCommit
from servicekpi.ingest import load

SOURCE = "zammad"
SEARCH = "/api/v1/tickets/search"
FIRST = "1970-01-01T00:00:00Z"


sleep = vendor_http.sleep


class Client(vendor_http.Client):
    """GET JSON from one Zammad instance (vendor_http.Client: Retry-After waits, backoff, redaction),
    with Zammad's token header and its list endpoints' page/per_page paging."""

    def __init__(self, base_url: str, token: str, sleep: Callable[[float], None] = vendor_http.sleep, **kw):
        super().__init__(base_url, {"Authorization": f"Token token={token}"}, vendor="Zammad", credential="token",
                         refused="check the token in the --token-env variable (Profile > Token Access; it needs "
                                 "the ticket.agent permission)", sleep=sleep, retry_default=60.0, **kw)
        self._secrets = [token]

    def all_pages(self, path: str, per_page: int = 100, params: dict | None = None) -> list:
        """Every record of a list endpoint paged with page/per_page (a short page is the last)."""
        out, page = [], 1
        while True:
            items = zammad.records(self.get(path, {**(params or {}), "page": page, "per_page": per_page}))
            out += items
            if len(items) < per_page:
                return out
            page += 1


def cursor_of(con, account: str) -> str | None:
    rows = con.execute("SELECT cursor FROM sync_state WHERE source = ? AND account = ? AND stream = 'tickets'",
                       [SOURCE, account]).fetchall()
    return rows[0][0] if rows else None


def save_state(con, account: str, stream: str, cursor: str | None, records: int, note: str | None = None) -> None:
    old = con.execute("SELECT records FROM sync_state WHERE source = ? AND account = ? AND stream = ?",
                      [SOURCE, account, stream]).fetchall()
    con.execute("DELETE FROM sync_state WHERE source = ? AND account = ? AND stream = ?", [SOURCE, account, stream])
    con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, ?, ?, current_timestamp)",
                [SOURCE, account, stream, cursor, (old[0][0] or 0 if old else 0) + records, note])


@dataclass
class Outcome:
    pages: int = 0
    tickets: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(("imported", "replaced", "unchanged", "rejected"), 0))
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    rules: object = field(default=None, repr=False)  # the [agents] rules the pages are imported with

    def add(self, result: load.ImportResult) -> None:
        for k in self.counts:
            self.counts[k] += result.total(k)
        for f in result.files:
            if f.error:
                self.notes.append(f"Error: {f.source}: {f.error}")
            elif f.rejected:
                self.notes.append(f"{f.source}: {f.rejected} row(s) rejected into quarantine (see: servicekpi "
                                  "quarantine)")

    def summary(self) -> str:
        c = self.counts
        return (f"{self.pages} ticket page(s), {self.tickets} ticket(s); imported {c['imported']}, replaced "
                f"{c['replaced']}, unchanged {c['unchanged']}, rejected {c['rejected']} rows")


def sync(con, client: Client, account: str, since: str | None = None, per_page: int = 100,
         report: Callable[[str], None] | None = None, agents=None) -> Outcome:
    """Pull tickets changed since the cursor (or --since), page by page; an error stops the run with
    everything before it stored (Outcome.error says what). agents: the workspace's [agents] rules."""
    con.execute(STATE_DDL)
    out, say = Outcome(rules=agents), report or (lambda text: None)
    base = client.base_url
    try:
        states = client.all_pages("/api/v1/ticket_states", params={"expand": "true"})
        groups = client.all_pages("/api/v1/groups")
        cursor = since or cursor_of(con, account) or FIRST
        page = 1
        while True:
            params = {"query": f"updated_at:[{cursor} TO *]", "sort_by": "updated_at", "order_by": "asc",
                      "expand": "true", "page": page, "per_page": per_page}
            tickets = [t for t in zammad.records(client.get(SEARCH, params)) if isinstance(t, dict)]
            src = zammad.Source()
            zammad.add(src, "ticket_states", states, f"{base}/api/v1/ticket_states")
            zammad.add(src, "groups", groups, f"{base}/api/v1/groups")
            zammad.add(src, "tickets", tickets, f"{base}{SEARCH}?query=updated_at:[{cursor} TO *]&page={page}")
            for t in tickets:
                tid = zammad.s(t.get("id"))
                if tid is None:
                    continue
                try:
                    arts = client.get(f"/api/v1/ticket_articles/by_ticket/{tid}", {"expand": "true"})
                    hist = client.get(f"/api/v1/ticket_history/{tid}")
                except NotFound:  # removed since the search: its next version says so
                    continue
                zammad.add(src, "articles", zammad.records(arts), f"{base}/api/v1/ticket_articles/by_ticket/{tid}")
                zammad.add(src, "ticket_history", zammad.records(hist), f"{base}/api/v1/ticket_history/{tid}", tid)
            latest = max((zammad.s(t.get("updated_at")) or "" for t in tickets), default="") or cursor
            converted = zammad.build(src)

            def write(c, latest=latest, n=len(tickets)):
                save_state(c, account, "tickets", latest, n)

            if converted.batches:
                out.add(load.run_batches(_StateOnCommit(con, write), converted.batches, tz=converted.source_tz,
                                         agents=out.rules))
            else:
                con.execute("BEGIN")
                write(con)
                con.execute("COMMIT")
            for note in converted.notes:
                say(note)
            out.pages += 1
            out.tickets += len(tickets)
            if len(tickets) < per_page:
                break
            page += 1
    except SyncError as e:
        out.error = client.redact(str(e))
    con.execute("BEGIN")
    save_state(con, account, "run", None, 0, out.error or "ok")
    con.execute("COMMIT")
    return out
