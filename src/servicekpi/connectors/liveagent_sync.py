"""Live pull from LiveAgent into the store: `servicekpi sync liveagent` (docs/connectors/liveagent.md).

API v3 with the `apikey` header:
- agents: GET /agents, paged with _page/_perPage (who is an agent in chats and calls);
- tickets: GET /tickets with _filters [["date_changed","D>=",<cursor>]], _sortField date_changed
  ascending, paged with _page/_perPage; for every ticket of a page, GET /tickets/{id}/messages
  (its message groups, paged the same way).
A page goes through liveagent.build (the file connector's mapping) and ingest.load.run_batches;
the cursor (the largest date_changed seen) is written in the same transaction as the page. The
next sync asks again from that time (D>= includes it): a ticket seen twice replaces itself.
Calls are not pulled (GET /calls pages with a _cursor whose source the API reference does not
name): import a saved GET /calls answer with --source liveagent.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Callable

from servicekpi.connectors import liveagent
from servicekpi.connectors.vendor_http import Client, SyncError, cursor_of, ensure_state, save_state
from servicekpi.connectors.zendesk.sync import _StateOnCommit
from servicekpi.ingest import load

SOURCE = "liveagent"
PAGE = 100


@dataclass
class Outcome:
    pages: int = 0
    tickets: int = 0
    agents: int = 0
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

    def summary(self) -> str:
        c = self.counts
        return (f"{self.pages} ticket page(s), {self.tickets} ticket(s), {self.agents} agent(s); imported "
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
         progress: Callable[[str, int], None] | None = None, report: Callable[[str], None] | None = None) -> Outcome:
    """since: Unix seconds, written as the account's 'YYYY-MM-DD HH:MM:SS' (UTC) instead of the stored cursor."""
    ensure_state(con)
    out = Outcome()
    say = report or (lambda text: None)
    try:
        agents = [a for _, p in pages(client, "/agents") for a in p if isinstance(a, dict)]
        out.agents = len(agents)
        _tickets(con, client, account, since, tz, agents, out, progress, say)
    except SyncError as e:
        out.error = client.redact(str(e))
    con.execute("BEGIN")
    save_state(con, SOURCE, account, "run", None, 0, out.error or "ok")
    con.execute("COMMIT")
    return out


def _tickets(con, client, account, since, tz, agents, out: Outcome, progress, say) -> None:
    stored = cursor_of(con, SOURCE, account, "tickets")
    low = (dt.datetime.fromtimestamp(since, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if since is not None
           else stored or "1970-01-01 00:00:00")
    params = {"_filters": json.dumps([["date_changed", "D>=", low]]), "_sortField": "date_changed", "_sortDir": "ASC"}
    highest = low
    for page, tickets in pages(client, "/tickets", params):
        tickets = [t for t in tickets if isinstance(t, dict)]
        groups = {}
        for t in tickets:
            tid = liveagent.s(t.get("id"))
            if tid is not None:
                groups[tid] = [g for _, p in pages(client, f"/tickets/{tid}/messages") for g in p]
            changed = liveagent.s(t.get("date_changed"))
            highest = max(highest, changed) if changed else highest
        base = f"{client.base_url}/tickets"
        converted = liveagent.build({"agents": (agents, f"{client.base_url}/agents"),
                                     "tickets": (tickets, f"{base} (date_changed >= {low}, page {page})"),
                                     "messages": (groups, f"{base}/<ticketId>/messages")})

        def write(c, cursor=highest, n=len(tickets)):
            save_state(c, SOURCE, account, "tickets", cursor, n)

        batches = [b for b in converted.batches if b.data.num_rows]
        if batches:
            out.add(load.run_batches(_StateOnCommit(con, write), batches, tz=tz))
        else:
            con.execute("BEGIN")
            write(con)
            con.execute("COMMIT")
        for note in converted.notes:
            say(note)
        out.pages += 1
        out.tickets += len(tickets)
        if progress:
            progress("tickets", len(tickets))
