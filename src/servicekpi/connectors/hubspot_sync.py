"""Live pull from HubSpot into the store: `servicekpi sync hubspot` (docs/connectors/hubspot.md).

Streams, each resumed from its stored cursor:
- tickets and feedback_submissions: POST /crm/v3/objects/{type}/search filtered on
  hs_lastmodifieddate >= the cursor, sorted ascending, paged with `after`. The search API stops at
  10,000 results per query: past that, the query starts again from the last hs_lastmodifieddate seen.
- threads: GET /conversations/v3/conversations/threads?sort=latestMessageTimestamp&
  latestMessageTimestampAfter=<cursor>&association=TICKET, and each thread's messages.
The stage map comes from GET /crm/v3/pipelines/tickets on every run (plus the --mapping overrides).

Every page goes through hubspot.build (the file connector's mapping) and ingest.load.run_batches;
the stream's cursor (the largest modification time seen) is written in the same transaction as
the page, so a stopped sync resumes without loss. A record seen again replaces its earlier version.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from servicekpi.connectors import hubspot
from servicekpi.connectors.vendor_http import Client, SyncError, cursor_of, ensure_state, save_state
from servicekpi.connectors.zendesk.sync import _StateOnCommit
from servicekpi.ingest import load

SOURCE = "hubspot"
TICKET_PROPERTIES = ["hs_object_id", "subject", "createdate", "hs_lastmodifieddate", "closed_date", "hs_pipeline",
                     "hs_pipeline_stage", "hs_ticket_priority", "hs_ticket_category", "source_type",
                     "hubspot_owner_id"]
FEEDBACK_PROPERTIES = ["hs_survey_type", "hs_survey_id", "hs_survey_channel", "hs_value", "hs_response_group",
                       "hs_content", "hs_submission_timestamp", "hs_contact_id", "hs_ticket_id", "hs_createdate",
                       "hs_lastmodifieddate"]
PAGE = 100
SEARCH_CAP = 10_000  # the search API's limit on results per query


@dataclass
class Outcome:
    pages: int = 0
    records: dict = field(default_factory=lambda: {"tickets": 0, "feedback_submissions": 0, "threads": 0})
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
        c, r = self.counts, self.records
        return (f"{self.pages} page(s): {r['tickets']} ticket(s), {r['threads']} thread(s), "
                f"{r['feedback_submissions']} feedback submission(s); imported {c['imported']}, replaced "
                f"{c['replaced']}, unchanged {c['unchanged']}, rejected {c['rejected']} rows")


def millis(text) -> int | None:
    """An ISO 8601 time (or epoch milliseconds) as epoch milliseconds."""
    if text is None:
        return None
    t = str(text).strip()
    if t.isdigit():
        return int(t)
    try:
        v = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        return None
    v = v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    return int(v.timestamp() * 1000)


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sync(con, client: Client, account: str, since: int | None = None, opts: hubspot.Options | None = None,
         progress: Callable[[str, int], None] | None = None, report: Callable[[str], None] | None = None,
         agents=None) -> Outcome:
    """Pull tickets, feedback submissions and threads (since: epoch ms, instead of the stored cursors);
    agents: the workspace's [agents] rules, applied to every agent id imported."""
    ensure_state(con)
    out = Outcome(rules=agents)
    opts = opts or hubspot.Options()
    say = report or (lambda text: None)
    try:
        pipelines = client.get("/crm/v3/pipelines/tickets")
        for kind, props in (("tickets", TICKET_PROPERTIES), ("feedback_submissions", FEEDBACK_PROPERTIES)):
            _search(con, client, account, kind, props, since, pipelines, opts, out, progress, say)
        _threads(con, client, account, since, opts, out, progress, say)
    except SyncError as e:
        out.error = client.redact(str(e))
    con.execute("BEGIN")
    save_state(con, SOURCE, account, "run", None, 0, out.error or "ok")
    con.execute("COMMIT")
    return out


def _start(con, account: str, stream: str, since: int | None) -> int:
    stored = cursor_of(con, SOURCE, account, stream)
    return since if since is not None else int(stored) if stored else 0


def _import(con, account: str, stream: str, docs: dict, opts, cursor: str, n: int, out: Outcome, say) -> None:
    converted = hubspot.build(docs, opts)
    write = lambda c: save_state(c, SOURCE, account, stream, cursor, n)  # noqa: E731
    batches = [b for b in converted.batches if b.data.num_rows]
    if batches:
        out.add(load.run_batches(_StateOnCommit(con, write), batches, tz=converted.source_tz, agents=out.rules))
    else:  # an empty page still moves the cursor
        con.execute("BEGIN")
        write(con)
        con.execute("COMMIT")
    for note in converted.notes:
        say(note)
    out.pages += 1
    out.records[stream] += n


def _search(con, client, account, kind, props, since, pipelines, opts, out, progress, say) -> None:
    low = _start(con, account, kind, since)
    path = f"/crm/v3/objects/{kind}/search"
    after, highest = None, low
    while True:
        body = {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                                               "value": str(low)}]}],
                "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                "properties": props, "limit": PAGE}
        if after:
            body["after"] = after
        doc = client.post(path, body)
        results = [r for r in doc.get("results") or [] if isinstance(r, dict)]
        for r in results:
            highest = max(highest, millis((r.get("properties") or {}).get("hs_lastmodifieddate")) or 0)
        label = f"{client.base_url}{path} (hs_lastmodifieddate >= {iso(low)}, after {after or 0})"
        docs = {kind: ({"results": results}, label)}
        if kind == "tickets":
            docs["pipelines"] = (pipelines, f"{client.base_url}/crm/v3/pipelines/tickets")
        _import(con, account, kind, docs, opts, str(highest), len(results), out, say)
        if progress:
            progress(kind, len(results))
        after = ((doc.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        if int(after) + PAGE > SEARCH_CAP:  # the next page would pass the cap: query again from the last time
            if highest == low:
                raise SyncError(f"POST {path}: more than {SEARCH_CAP} records share hs_lastmodifieddate {iso(low)}")
            low, after = highest, None


def _threads(con, client, account, since, opts, out, progress, say) -> None:
    low = _start(con, account, "threads", since)
    path = "/conversations/v3/conversations/threads"
    params = {"limit": PAGE, "sort": "latestMessageTimestamp", "latestMessageTimestampAfter": iso(low),
              "association": "TICKET"}
    highest = low
    while True:
        doc = client.get(path, params)
        threads = [t for t in doc.get("results") or [] if isinstance(t, dict)]
        messages = {}
        for t in threads:
            tid = str(t.get("id"))
            messages[tid] = _all(client, f"{path}/{tid}/messages")
            highest = max(highest, millis(t.get("latestMessageTimestamp")) or 0)
        label = f"{client.base_url}{path} (latestMessageTimestampAfter {iso(low)}, after {params.get('after', 0)})"
        docs = {"threads": ({"results": threads}, label),
                "messages": (messages, f"{client.base_url}{path}/<threadId>/messages")}
        _import(con, account, "threads", docs, opts, str(highest), len(threads), out, say)
        if progress:
            progress("threads", len(threads))
        after = ((doc.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return
        params = {**params, "after": after}


def _all(client: Client, path: str) -> list:
    """Every record of a list endpoint paged with paging.next.after."""
    found, params = [], {"limit": PAGE}
    while True:
        doc = client.get(path, params)
        found += [m for m in doc.get("results") or [] if isinstance(m, dict)]
        after = ((doc.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return found
        params = {"limit": PAGE, "after": after}
