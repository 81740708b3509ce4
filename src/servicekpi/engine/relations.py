"""The tables KPIs read, as of an instant: later events nulled, excluded tickets left out,
links to tickets and customers joined only when a dimension or filter needs them."""
from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING

from servicekpi.core.calendars import chunk_of
from servicekpi.core.lazy import lazy
from servicekpi.core.model import TABLES
from servicekpi.store import business as business_store
from servicekpi.store.db import CLOCKS, INTERNAL

if TYPE_CHECKING:
    import ibis.expr.types as ir

ibis = lazy("ibis")

TEXT = {"comment", "text"}
DIM_TYPES = ("VARCHAR", "BOOLEAN", "BIGINT", "INTEGER")
# ticket columns a linked row can be sliced by
TICKET_DIMS = ("channel", "category", "priority", "status", "customer_tier", "agent_id", "team")
CUSTOMER_DIMS_EXCLUDE = {"customer_id", "referred_by"}
# own columns that fall back to the linked ticket's value when missing
FALLBACK = {"surveys": ("agent_id", "channel")}
# clock columns that can be NULL (or nulled by the as-of instant): their stored business seconds
# (-1 for a NULL instant, business_store.py) are nulled with them
NULLABLE_CLOCKS = {"tickets": ("first_response_at", "resolved_at", "escalated_at"), "replies": ("start_at",),
                   "waits": ("replied_at",), "calls": ("answered_at",)}


def messages_after(con, asof) -> bool:
    """Whether a message was sent after the as-of instant. A probe, not max(sent_at): the row groups
    wholly before the instant are skipped from their statistics, unread (max() read every row: ~80 ms
    at 4M messages in a new process)."""
    return bool(con.execute("SELECT count(*) FROM (SELECT 1 FROM messages WHERE sent_at > ? LIMIT 1)",
                            [asof]).fetchall()[0][0])


class Sources:
    """Prepared Ibis tables over one store connection for one as-of instant."""

    def __init__(self, backend, imported: set[str], asof: dt.datetime, business_origin: dt.date | None = None,
                 queue_teams: dict | None = None):
        """backend: an engine Backend (engine.backend); an Ibis DuckDB backend is accepted too."""
        if not hasattr(backend, "register"):
            from servicekpi.engine.backends.duckdb import DuckDBBackend
            backend = DuckDBBackend(backend.con)
        self.backend = backend
        self.imported = imported
        self.asof = asof  # the instant the SQL is written for (a sentinel when proving a template)
        self.data_asof = asof  # the instant data decisions are made for (span, messages after it)
        # set when the stored __b_ columns hold business seconds for the current calendars,
        # counted from this date (business_store.py); None: they are ignored
        self.business_origin = business_origin
        self.queue_teams = queue_teams or {}  # [queues]: a call's team by its queue, before the ticket's
        self._cols: dict[str, dict[str, str]] = {}
        self._last_message: list | None = None
        self._instant_chunks: frozenset[int] | None = None
        # the relations built for this instant, by what they were built from: a query's groups (and
        # the catalog's KPIs) read the same few, and building an Ibis relation costs
        self._built: dict[tuple, ir.Table] = {}

    def at(self, sql_asof: dt.datetime) -> Sources:
        """The same sources writing SQL for another instant, deciding on the data as before
        (sql_cache.template_of builds the query at a sentinel instant)."""
        other = copy.copy(self)
        other.asof = sql_asof
        other._built = {k: v for k, v in self._built.items() if k[0] == "table"}  # the rest: for the other instant
        return other

    def _once(self, key: tuple, build):
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def _table(self, name: str) -> ir.Table:
        """The stored table (Ibis reads its schema from the store on each ib.table call)."""
        return self._once(("table", name), lambda: self.ib.table(name))

    @property
    def ib(self):
        return self.backend.ib  # Ibis on first use: a query answered from cached SQL never needs it

    # -- schema -------------------------------------------------------------
    def columns(self, table: str) -> dict[str, str]:
        """Column name -> DuckDB type of a stored table (extras included, internals not)."""
        if not self._cols:
            for tab, n, typ in self.backend.columns():
                if n not in INTERNAL and not n.startswith("__"):
                    self._cols.setdefault(tab, {})[n] = typ
        return self._cols.get(table, {})

    def _dim_cols(self, table: str, exclude=()) -> list[str]:
        return [n for n, t in self.columns(table).items()
                if t in DIM_TYPES and n not in TEXT and n not in exclude
                and not n.endswith("_at")]

    def dims(self, base: str) -> list[str]:
        """Every dimension a row of `base` can reach (own, ticket, customer columns)."""
        own = self._dim_cols(base if base not in ("replies", "waits") else "tickets")
        out = list(own)
        if base == "calls" and self.queue_teams and "team" not in out:
            out.append("team")
        t = TABLES.get(base)
        if t and t.ticket_link and "tickets" in self.imported:
            out += [c for c in self._dim_cols("tickets") if c not in out and c != "ticket_id"]
        reach_customers = base in ("tickets", "replies", "waits") or (t and (t.customer_link or t.ticket_link))
        if reach_customers and "customers" in self.imported:
            out += [c for c in self._dim_cols("customers", CUSTOMER_DIMS_EXCLUDE) if c not in out]
        return out

    def span(self) -> tuple[dt.date, dt.date]:
        """UTC dates from the earliest ticket or call to the as-of instant (business-time tables);
        from the stored business seconds' origin when they are used, so both count alike."""
        if self.business_origin is not None:
            return self.business_origin, max(self.business_origin, self.data_asof.date())
        first = self.data_asof
        for table, col in (("tickets", "created_at"), ("calls", "entered_at")):
            if table in self.imported:
                v = self.backend.con.execute(f"SELECT min({col}) FROM {table}").fetchall()[0][0]
                if v is not None:
                    first = min(first, v)
        return first.date(), self.data_asof.date()

    def hour_chunks(self, first: dt.date, last: dt.date, extra) -> frozenset[int] | None:
        """The hour-table chunks a business-time query may look up (calendars.hour_table): those of
        every stored clock instant (store.CLOCKS, and tickets' first reply from messages) plus those
        of `extra` (the as-of instant, the periods' edges). None (every chunk) for a span of a few
        chunks, or off DuckDB."""
        from servicekpi.engine.backends.duckdb import DuckDBBackend
        if not business_store.wide(first, last) or not isinstance(self.backend, DuckDBBackend):
            return None
        if self._instant_chunks is None:
            have: dict[str, set[str]] = {}
            for tab, n, _ in self.backend.columns():
                have.setdefault(tab, set()).add(n)
            clocks = {t: (*cols, "msg_first_response_at") if t == "tickets" else cols for t, cols in CLOCKS.items()}
            self._instant_chunks = frozenset(business_store.instant_chunks(
                self.backend.con, [(t, c, "") for t, cols in clocks.items() for c in cols if c in have.get(t, ())]))
        return self._instant_chunks | {chunk_of(x) for x in extra if x is not None}

    # -- as-of views ----------------------------------------------------------
    def _later(self, col: ir.Value) -> ir.Value:
        return ibis.ifelse(col > self.asof, ibis.null(col.type()), col)

    def _excluded_ids(self) -> ir.Column | None:
        if "tickets" not in self.imported:
            return None
        t = self._table("tickets")
        return t.filter(t.excluded.fill_null(False)).ticket_id

    def tickets(self) -> ir.Table:
        return self._once(("tickets",), self._tickets)

    def _tickets(self) -> ir.Table:
        t = self._table("tickets")
        t = t.filter(t.created_at <= self.asof, ~t.excluded.fill_null(False))
        msg = t.has_messages.fill_null(False)
        t = t.mutate(
            first_response_at=self._later(ibis.ifelse(msg, t.msg_first_response_at, t.first_response_at)),
            resolved_at=self._later(t.resolved_at),
            escalated_at=self._later(t.escalated_at),
            agent_replies=ibis.ifelse(msg, t.msg_agent_replies, t.agent_replies),
            agents_involved=ibis.ifelse(msg, t.msg_agents_involved, t.agents_involved),
            customer_messages=ibis.ifelse(msg, t.msg_customer, ibis.null("int64")),
            all_messages=ibis.ifelse(msg, t.msg_all, ibis.null("int64")),
            reopen_count=t.reopen_count.fill_null(0),
            fcr_eligible=t.fcr_eligible.fill_null(True),
        )
        t = self._stored_business(t.drop(*[c for c in INTERNAL if c in t.columns]), "tickets")
        return self._recount(t) if self._messages_after_asof() else t

    def _stored_business(self, t, table: str):
        """Keep the stored business seconds when valid (nulled with their instant), else drop them."""
        stored = [c for c in t.columns if c.startswith("__b_")]
        if self.business_origin is None:
            return t.drop(*stored) if stored else t
        nulled = [c for c in NULLABLE_CLOCKS.get(table, ()) if f"__b_{c}" in stored]
        return t.mutate(**{f"__b_{c}": ibis.ifelse(t[c].isnull(), ibis.null("float64"), t[f"__b_{c}"])
                           for c in nulled}) if nulled else t

    def _messages_after_asof(self) -> bool:
        if "messages" not in self.imported:
            return False
        if self._last_message is None:
            self._last_message = [messages_after(self.backend.con, self.data_asof)]
        return self._last_message[0]

    def _recount(self, t):
        """Reply and message counts as of the instant (only when messages exist after it)."""
        r = self._table("replies")
        r = r.filter(r.sent_at <= self.asof)
        r = r.group_by(r_ticket=r.ticket_id).aggregate(a_replies=r.count(), a_agents=r.reply_agent_id.nunique())
        m = self._table("messages")
        m = m.filter(m.sent_at <= self.asof)
        m = m.group_by(m_ticket=m.ticket_id).aggregate(a_customer=m.count(where=m.author == "customer"),
                                                        a_all=m.count())
        j = t.left_join(r, t.ticket_id == r.r_ticket)
        j = j.left_join(m, j.ticket_id == m.m_ticket).drop("r_ticket", "m_ticket")
        has = t.customer_messages.notnull()  # the ticket's counts come from messages
        j = j.mutate(
            agent_replies=ibis.ifelse(has, j.a_replies.fill_null(0), j.agent_replies),
            agents_involved=ibis.ifelse(has, ibis.ifelse(j.a_agents > 0, j.a_agents, ibis.null("int64")),
                                        j.agents_involved),
            customer_messages=ibis.ifelse(has, j.a_customer.fill_null(0), j.customer_messages),
            all_messages=ibis.ifelse(has, j.a_all.fill_null(0), j.all_messages))
        return j.drop("a_replies", "a_agents", "a_customer", "a_all")

    def base(self, name: str) -> ir.Table:
        """A table as of the instant, before links."""
        return self._once(("base", name), lambda: self._base(name))

    def _base(self, name: str) -> ir.Table:
        if name == "tickets":
            return self.tickets()
        if name == "replies":
            r = self._table("replies")
            return self._stored_business(r.filter(r.sent_at <= self.asof, ~r.excluded.fill_null(False)), name)
        if name == "waits":
            w = self._table("waits")
            w = w.filter(w.start_at <= self.asof, ~w.excluded.fill_null(False))
            return self._stored_business(w.mutate(replied_at=self._later(w.replied_at)), name)
        spec = TABLES[name]
        t = self._table(name)
        t = t.filter(t[spec.time] <= self.asof)
        if spec.later:
            t = t.mutate(**{c: self._later(t[c]) for c in spec.later})
        return self._stored_business(t, name)

    def _not_excluded(self, t):
        """Rows linked only to excluded tickets are left out: an anti join on the excluded ids, which
        keeps rows without a ticket. (`NOT IN` meant the same, but Spark plans a null-aware NOT IN
        as a nested-loop join of every row against every excluded id.)"""
        excluded = self._excluded_ids()
        if excluded is None:
            return t
        ids = excluded.name("sk_excluded_id").as_table()
        return t.anti_join(ids, t.ticket_id == ids.sk_excluded_id)

    def linked(self, name: str, need: set[str]) -> ir.Table:
        """`name` as of the instant, joined to tickets/customers for the columns in `need`."""
        return self._once(("linked", name, frozenset(need)), lambda: self._linked(name, need))

    def _linked(self, name: str, need: set[str]) -> ir.Table:
        t = self.base(name)
        if name in ("replies", "waits"):
            want = [c for c in self._dim_cols("tickets") if c in need and c not in t.columns]
            if want:
                tk = self._table("tickets").select(tk_id="ticket_id", **{c: f"{c}" for c in want})
                t = t.left_join(tk, t.ticket_id == tk.tk_id).drop("tk_id")
        spec = TABLES.get(name)
        fallback = FALLBACK.get(name, ())
        if spec and spec.ticket_link and "tickets" in self.imported:
            want = [c for c in self._dim_cols("tickets")
                    if c != "ticket_id" and c in need and (c not in t.columns or c in fallback)]
            if want:  # one join brings the ticket's columns and its excluded flag
                tk = self._table("tickets")
                tk = tk.filter(tk.created_at <= self.asof)
                tk = tk.select("ticket_id", tk_excluded=tk.excluded, **{f"tk_{c}": tk[c] for c in want})
                t = t.left_join(tk, "ticket_id")
                t = t.drop(*[c for c in t.columns if c.endswith("_right")])
                t = t.filter(~t.tk_excluded.fill_null(False))
                t = t.mutate(**{c: (t[c].fill_null(t[f"tk_{c}"]) if c in t.columns else t[f"tk_{c}"])
                                for c in want}).drop("tk_excluded", *[f"tk_{c}" for c in want])
            else:
                t = self._not_excluded(t)
        if name == "calls" and self.queue_teams and "team" in need:
            by_queue = t.queue.substitute(self.queue_teams, else_=ibis.null().cast("string"))
            t = t.mutate(team=by_queue.coalesce(t.team) if "team" in t.columns else by_queue)
        if "customers" in self.imported and "customer_id" in t.columns:
            want = [c for c in self._dim_cols("customers", CUSTOMER_DIMS_EXCLUDE)
                    if c in need and c not in t.columns]
            if want:
                cu = self._table("customers")
                cu = cu.select("customer_id", **{f"cu_{c}": cu[c] for c in want})
                t = t.left_join(cu, "customer_id").drop("customer_id_right")
                t = t.rename({c: f"cu_{c}" for c in want})
        return t
