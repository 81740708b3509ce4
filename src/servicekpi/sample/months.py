"""Generate the sample operation one month at a time, each month independently.

    generate_month("m3/", month=3, tickets=100_000_000, months=6)

writes the tables of one calendar month (0 = the first of `months`) of the
operation that `generate(..., tickets, months=...)` describes, so a set too
big for memory or disk is generated and imported month by month. Months are
independent: each can be generated in any order, in its own process.

What is shared and what is per month:
- The hourly ticket profile, the call plan and the agents come from the seed
  alone, as in `generate`: month k holds exactly the tickets the profile puts
  in month k (ticket ids are global, `T` + their rank in time, so months do
  not collide) and the agent ids are the same in every month.
- Customers are drawn for the whole set in every month; month k writes those
  acquired during it (the first month also everyone acquired before).
- Messages are numbered by their ticket's rank times the slots a ticket can
  have, so they need no count of earlier months. Calls, surveys, orders,
  self-service events, feedback and quality reviews get a month tag in their
  id (`C03-0000001`). Calls, surveys and reviews reference tickets of their
  own month only; a call near the month's start links to no earlier ticket.
- Calls, surveys, self-service, feedback and activity are split between months
  in proportion to the call plan and the tickets; orders and spend follow the
  customers alive in the month.

The random draws are not those of `generate` (each month has its own
streams), so the data matches it in shape and volume, not row for row.
Differences of shape: agent sessions are not merged across a month's end, and
relationship NPS responses (a tenth of the surveys) fall between their
month's start and the end of the data rather than in the month.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Callable

import numpy as np

from servicekpi.sample import tables as gen_tables
from servicekpi.sample.common import DAY, HOUR, Writer, add_months, c_id, epoch, width
from servicekpi.sample.generate import (
    CHUNK_TICKETS,
    NS,
    Ctx,
    _customers,
    _ticket_chunk,
    arguments,
    context,
)
from servicekpi.sample.tables import INT

__all__ = ["generate_month"]

OWN_ID = {"calls": "call_id", "surveys": "response_id", "orders": "order_id",
          "self_service": "event_id", "feedback": "feedback_id", "quality_reviews": "review_id"}


def _take(spec, s: slice):
    """A column spec (see common.c_*) cut to the rows s."""
    kind = spec[0]
    if kind == "id":
        _, prefix, num, w, valid = spec
        return ("id", prefix, num[s], w, None if valid is None else valid[s])
    if kind == "arrow":
        return ("arrow", spec[1].slice(s.start, s.stop - s.start))
    *head, arr, valid = spec
    return (*head, arr[s], None if valid is None else valid[s])


class _MonthWriter(Writer):
    """Writes the part's customers and orders only (the month's spend with its first part), and
    tags the own ids of the per-part tables (orders, drawn for the whole month, by month)."""

    def __init__(self, folder, fmt, progress, ctx, k: int, months: int, part: int, parts: int,
                 lo: int, hi: int):
        super().__init__(folder, fmt, progress)
        self.ctx, self.part = ctx, part
        self.tag = f"{k + 1:02d}-" if parts == 1 else f"{k + 1:02d}.{part + 1}-"
        self.month_tag = f"{k + 1:02d}-"
        self.first = k == 0 and part == 0
        self.last = k == months - 1 and part == parts - 1
        self.lo, self.hi = lo, hi

    def write(self, name: str, cols: dict, n: int, chunk: int | None = None) -> None:
        cut = None
        if name == "customers":              # sorted by acquisition, orders by time
            acq = self.ctx.cust_acq
            cut = (0 if self.first else int(np.searchsorted(acq, self.lo)),
                   n if self.last else int(np.searchsorted(acq, self.hi)))
        elif name == "orders":
            t = cols["ordered_at"][1]
            cut = int(np.searchsorted(t, self.lo)), int(np.searchsorted(t, self.hi))
        elif name == "spend" and self.part:
            cut = (0, 0)
        if cut is not None:
            cols = {c: _take(spec, slice(*cut)) for c, spec in cols.items()}
            n = cut[1] - cut[0]
        col = OWN_ID.get(name)
        if col is not None:
            _, prefix, num, w, valid = cols[col]
            tag = self.month_tag if name == "orders" else self.tag
            cols = {**cols, col: ("id", prefix + tag, num, w, valid)}
        super().write(name, cols, n, chunk)


def generate_month(out: str | Path, month: int, tickets: int, seed: int = 7, fmt: str = "parquet",
                   months: int = 6, end: dt.date | None = None,
                   calls: int | None = None, surveys: int | None = None,
                   progress: Callable[[str, int], None] | None = None,
                   part: int = 0, parts: int = 1) -> dict[str, int]:
    """Write month `month` (0-based) of the operation, or its part `part` of `parts` (the month's
    days split in `parts` runs of whole days); return {table_name: rows_written}.

    Other arguments as for `generate`, which describes the whole operation."""
    if months < 1 or tickets < 0 or not 0 <= month < months or not 0 <= part < parts:
        raise ValueError("months must be >= 1, tickets >= 0, 0 <= month < months, 0 <= part < parts")
    fmt, end, calls, surveys, out = arguments(out, tickets, fmt, end, calls, surveys)
    first = add_months(end, -months)
    ctx = context(seed, end, months, tickets, calls)
    months_at = [epoch(add_months(first, i)) for i in range(months + 1)]
    # every part of every month (whole days), the same list in each part
    bounds = [m0 + (m1 - m0) // DAY * i // parts * DAY
              for m0, m1 in zip(months_at, months_at[1:]) for i in range(parts)] + [months_at[-1]]
    at = month * parts + part
    lo, hi = bounds[at], bounds[at + 1]
    writer = _MonthWriter(out, fmt, progress, ctx, month, months, part, parts, lo, hi)
    try:
        _customers(ctx, writer, tickets)
        a, b = _month_tickets(ctx, writer, tickets, (month, part), lo, hi)
        sub = _month_context(ctx, (month, part), lo, hi, a)
        # the part's shares of calls (by the call plan) and surveys (by tickets), split once
        # for all parts with a stream of their own so every part draws the same split
        split = ctx.rng("profile", 1)
        cells = [(x - ctx.start) // INT * 3 for x in bounds]
        mass = np.array([ctx.call_p[cells[i]:cells[i + 1]].sum() for i in range(len(bounds) - 1)])
        calls_k = split.multinomial(calls, mass / mass.sum())[at] if mass.sum() else 0
        tk = np.diff(np.r_[0, ctx.tk_cum][[(x - ctx.start) // HOUR for x in bounds]])
        surveys_k = split.multinomial(surveys, tk / tk.sum())[at] if tk.sum() else 0
        gen_tables.calls_and_sessions(sub, writer, int(calls_k))
        gen_tables.surveys(sub, writer, int(surveys_k))
        # orders and spend of the whole month, with the month's streams (every part draws the
        # same); the writer keeps the part's orders, and the spend with the first part
        osub = _month_context(ctx, (month, 0), months_at[month], months_at[month + 1], a)
        osub.end = months_at[month + 1]
        gen_tables.orders_and_spend(osub, writer)
        gen_tables.self_service(sub, writer, b - a)
        gen_tables.feedback(sub, writer, b - a)
        gen_tables.quality_reviews(sub, writer)
        for o in (ctx, sub, osub):
            for k in [k for k in vars(o) if k.startswith("t_")]:
                delattr(o, k)
        gen_tables.activity(sub, writer, b - a)
    finally:
        writer.close()
    return dict(sorted(writer.rows.items()))


def _month_tickets(ctx: Ctx, w: Writer, tickets: int, at: tuple[int, int], lo: int, hi: int) -> tuple[int, int]:
    """Tickets [a, b) of the profile's hours in [lo, hi) and their messages; keeps the summaries."""
    ctx.w_ticket = width(tickets, 7)
    ctx.w_msg = width(tickets * NS, 8)
    cum = np.r_[0, ctx.tk_cum]
    a, b = int(cum[(lo - ctx.start) // HOUR]), int(cum[(hi - ctx.start) // HOUR])
    keep: dict[str, list] = {}
    for j, s in enumerate(range(a, b, CHUNK_TICKETS)):
        e = min(b, s + CHUNK_TICKETS)
        # messages numbered from the ticket's rank x slots: no count of earlier months needed
        tcols, mcols, n_msg, summary = _ticket_chunk(ctx, ctx.rng("tickets", _stream(at, j)), s, e, s * NS)
        w.write("tickets", tcols, e - s)
        w.write("messages", mcols, n_msg)
        for k, v in summary.items():
            keep.setdefault(k, []).append(v)
    for k in ("created", "resolved", "cust", "agent", "channel", "category", "reopen", "frt",
              "replies", "excluded"):
        v = keep.get(k)
        setattr(ctx, "t_" + k, np.concatenate(v) if v else np.zeros(0, np.int64))
    return a, b


def _stream(at: tuple[int, int], chunk: int) -> int:
    """The random stream of (month, part) and a table's chunk."""
    return (at[0] + 1) << 32 | at[1] << 20 | chunk


def _month_context(ctx: Ctx, at: tuple[int, int], lo: int, hi: int, a: int) -> Ctx:
    """The context the other tables see: the part's hours and call plan, its own random streams,
    ticket indices counted from the part's first ticket (a); the data still ends at ctx.end (a
    reply or survey after the part is kept)."""
    sub = copy.copy(ctx)
    sub.start = lo
    sub.hour_weight = ctx.hour_weight[(lo - ctx.start) // HOUR:(hi - ctx.start) // HOUR]
    i0, i1 = (lo - ctx.start) // INT, (hi - ctx.start) // INT
    sub.call_t0, sub.call_c = ctx.call_t0[i0:i1], ctx.call_c[i0:i1]
    sub.call_pwait, sub.call_mwait = ctx.call_pwait[i0:i1], ctx.call_mwait[i0:i1]
    p = ctx.call_p[i0 * 3:i1 * 3]
    sub.call_p = p / p.sum() if p.sum() else p
    base = ctx.rng

    def rng(name: str, chunk: int = 0) -> np.random.Generator:
        return base(name, _stream(at, chunk))

    def ticket_id(idx, valid=None):
        return c_id("T", np.asarray(idx) + a + 1, ctx.w_ticket, valid)

    sub.rng, sub.ticket_id = rng, ticket_id
    return sub
