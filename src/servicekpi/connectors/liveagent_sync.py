"""Live pull from LiveAgent into the store: `servicekpi sync liveagent` (docs/connectors/liveagent.md).

API v3 with the `apikey` header:
- agents: GET /agents, paged with _page/_perPage (who is an agent in chats and calls);
- tickets: GET /tickets with _filters [["date_changed","D>=",<cursor>]], _sortField date_changed
  ascending, paged with _page/_perPage; for every ticket of a page, GET /tickets/{id}/messages
  (its message groups, paged the same way).
A page goes through liveagent.build (the file connector's mapping) and ingest.load.run_batches;
the cursor (the largest date_changed seen) is written in the same transaction as the page. The
next sync asks again from that time (D>= includes it): a ticket seen twice replaces itself.
- calls: GET /calls with _filters [["dateCreated",">=",<cursor>]] and _perPage, in the API's default
  order; the next page is asked with _cursor set to the `next_page_cursor` response header of the
  page before, until an answer without it. Calls not finished yet (no dateFinished) are left for a
  later sync: the new calls cursor (written when the last page is stored) stops at the earliest of
  them, so they come again.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Callable

from servicekpi.connectors import liveagent
from servicekpi.connectors.vendor_http import Client, SyncError, cursor_of, ensure_state, save_state
from servicekpi.connectors.zendesk.sync import _StateOnCommit
from servicekpi.ingest import load

SOURCE = "liveagent"
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
PAGE = 100


@dataclass
class Outcome:
    pages: int = 0
    tickets: int = 0
    agents: int = 0
    calls: int = 0
    call_pages: int = 0
    unfinished: int = 0
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
        return (f"{self.pages} ticket page(s), {self.tickets} ticket(s), {self.agents} agent(s), "
                f"{self.call_pages} call page(s), {self.calls} call(s); imported "
                f"{c['imported']}, replaced {c['replaced']}, unchanged {c['unchanged']}, rejected {c['rejected']} rows")


def pages(client: Client, path: str, params: dict | None = None):
    """Each page (a JSON array) of a list endpoint paged with _page/_perPage, until a short page."""
    page = 1
    while True:
        doc = client.get(path, {**(params or {}), "_page": page, "_perPage": PAGE})
        if not isinstance(doc, list):
            raise SyncError(f"GET {path}: expected a JSON array, got {type(doc).__name__}")
        yield page, doc
        if len(doc) < PAGE:
            return
        page += 1


def sync(con, client: Client, account: str, since: int | None = None, tz: str = "UTC",
         progress: Callable[[str, int], None] | None = None, report: Callable[[str], None] | None = None,
         agents=None) -> Outcome:
    """since: Unix seconds, written as the account's 'YYYY-MM-DD HH:MM:SS' (UTC) instead of the stored cursor.
    agents: the workspace's [agents] rules, applied to every agent id imported."""
    ensure_state(con)
    out = Outcome(rules=agents)
    say = report or (lambda text: None)
    try:
        agents = [a for _, p in pages(client, "/agents") for a in p if isinstance(a, dict)]
        out.agents = len(agents)
        _tickets(con, client, account, since, tz, agents, out, progress, say)
        _calls(con, client, account, since, tz, out, progress, say)
    except SyncError as e:
        out.error = client.redact(str(e))
    con.execute("BEGIN")
    save_state(con, SOURCE, account, "run", None, 0, out.error or "ok")
    con.execute("COMMIT")
    return out


def _instant(value: str | None) -> str | None:
    """An API v3 time (YYYY-MM-DD HH:MM:SS) fit to be a cursor, else None (a bad value moves no cursor)."""
    return value if value and INSTANT.fullmatch(value) else None


def _low(con, account: str, stream: str, since: int | None) -> str:
    """The first time asked: --since (written in UTC), else the stream's stored cursor, else the epoch."""
    if since is not None:
        return dt.datetime.fromtimestamp(since, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return cursor_of(con, SOURCE, account, stream) or "1970-01-01 00:00:00"


def _store(con, tz: str, batches, write, out: Outcome) -> None:
    """A page's rows and its cursor in one transaction (the cursor alone when there are no rows)."""
    batches = [b for b in batches if b.data.num_rows]
    if batches:
        out.add(load.run_batches(_StateOnCommit(con, write), batches, tz=tz, agents=out.rules))
    else:
        con.execute("BEGIN")
        write(con)
        con.execute("COMMIT")


def _tickets(con, client, account, since, tz, agents, out: Outcome, progress, say) -> None:
    low = _low(con, account, "tickets", since)
    params = {"_filters": json.dumps([["date_changed", "D>=", low]]), "_sortField": "date_changed", "_sortDir": "ASC"}
    highest = low
    for page, tickets in pages(client, "/tickets", params):
        tickets = [t for t in tickets if isinstance(t, dict)]
        groups = {}
        for t in tickets:
            tid = liveagent.s(t.get("id"))
            if tid is not None:
                groups[tid] = [g for _, p in pages(client, f"/tickets/{tid}/messages") for g in p]
            highest = max(highest, _instant(liveagent.s(t.get("date_changed"))) or highest)
        base = f"{client.base_url}/tickets"
        converted = liveagent.build({"agents": (agents, f"{client.base_url}/agents"),
                                     "tickets": (tickets, f"{base} (date_changed >= {low}, page {page})"),
                                     "messages": (groups, f"{base}/<ticketId>/messages")})

        def write(c, cursor=highest, n=len(tickets)):
            save_state(c, SOURCE, account, "tickets", cursor, n)

        _store(con, tz, converted.batches, write, out)
        for note in converted.notes:
            say(note)
        out.pages += 1
        out.tickets += len(tickets)
        if progress:
            progress("tickets", len(tickets))


def call_pages(client: Client, params: dict):
    """Each page of GET /calls: _cursor is the previous answer's next_page_cursor header."""
    cursor = None
    while True:
        query = {**params, "_perPage": PAGE, **({"_cursor": cursor} if cursor else {})}
        doc, headers = client.get_with_headers("/calls", query)
        if not isinstance(doc, list):
            raise SyncError(f"GET /calls: expected a JSON array, got {type(doc).__name__}")
        yield doc
        following = (headers.get("next_page_cursor") or "").strip()
        if not following or not doc:
            return
        if following == cursor:
            raise SyncError("GET /calls: the next_page_cursor header repeats the cursor just asked; stopped")
        cursor = following


def _calls(con, client, account, since, tz, out: Outcome, progress, say) -> None:
    """The pages come in the API's default order (dateFinished ascending: the reference names no other
    sort field for calls), so the new cursor is known only at the end: each page is stored with the
    cursor it was asked from, and the run ends by moving it. A run cut short asks again from there."""
    low = _low(con, account, "calls", since)
    params = {"_filters": json.dumps([["dateCreated", ">=", low]])}
    newest, held = low, None  # the largest dateCreated seen; the earliest of a call not finished
    for page, found in enumerate(call_pages(client, params), 1):
        found = [c for c in found if isinstance(c, dict)]
        finished = []
        for c in found:
            created = _instant(liveagent.call_field(c, "dateCreated"))
            if created and liveagent.call_field(c, "dateFinished") is None:
                out.unfinished += 1
                held = min(held or created, created)
                continue
            finished.append(c)  # a bad dateCreated goes on, to be quarantined with its place
            newest = max(newest, created or newest)
        converted = liveagent.build({"calls": (finished, f"{client.base_url}/calls (dateCreated >= {low}, "
                                                         f"page {page})")})

        def write(c, n=len(finished)):
            save_state(c, SOURCE, account, "calls", low, n)

        _store(con, tz, converted.batches, write, out)
        for note in converted.notes:
            say(note)
        out.call_pages += 1
        out.calls += len(finished)
        if progress:
            progress("calls", len(found))
    con.execute("BEGIN")
    save_state(con, SOURCE, account, "calls", min(newest, held) if held else newest, 0)
    con.execute("COMMIT")
    if out.unfinished:
        say(f"{out.unfinished} call(s) not finished yet (no dateFinished) left for the next sync")
