"""SLA KPIs: targets from the config's ordered rules (servicekpi.sla), in calendar or business time.

A target counts once it is decided at the as-of instant: met when done within target,
missed when done late or still waiting past target; a row still inside its target is neither.
"""
from __future__ import annotations

from servicekpi.catalog.clocks import elapsed, rule_of
from servicekpi.catalog.kpi import Kpi, Option, count, ratio
from servicekpi.core import sla_rules as sla
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")


def duration(text: str) -> float:
    """An option value such as 30m, 2h, 1d or a number of hours, in seconds."""
    try:
        return sla.seconds(float(text) if str(text).replace(".", "", 1).isdigit() else text, "within")
    except sla.SlaError:
        raise ValueError(f"'{text}' is not a duration") from None


duration.__name__ = "duration (e.g. 30m, 2h, 1d)"
WITHIN = Option("within", 7200.0, type=duration,
                help="sla_at_risk: targets falling due within this duration (e.g. 30m, 2h, 1d; default 2h)")


def outcome(t, o, kind: str, start: str, end: str):
    """(met, missed) predicates for one kind of target."""
    idx, business = rule_of(t, o)
    target = sla.pick(idx, o["_sla"], kind)
    done = t[end].notnull()
    late = elapsed(t, o, end, start, business) > target
    waiting_past = elapsed(t, o, "sla_asof", start, business) > target
    met = target.notnull() & done & ~late
    missed = target.notnull() & ((done & late) | (~done & waiting_past))
    return met, missed


def with_asof(t, o):
    return t.mutate(sla_asof=ibis.literal(o["_asof"], type="timestamp"))


def met_rate(kind: str, start: str, end: str):
    def measures(t, o):
        met, missed = outcome(t, o, kind, start, end)
        return {"num": t.count(where=met), "den": t.count(where=met | missed)}
    return measures


def rows_columns(kind: str, start: str, end: str):
    def columns(t, o):
        idx, _ = rule_of(t, o)
        met, missed = outcome(t, o, kind, start, end)
        return {"sla_rule": sla.pick(idx, o["_sla"], "name", "string"),
                "sla_status": ibis.ifelse(met, "met", ibis.ifelse(missed, "missed", "pending"))}
    return columns


def sla_kpi(id, kind, start, end, source, time, formula):
    return Kpi(id, "sla", "percent", "higher", ("tickets",) if source == "tickets" else ("tickets", "messages"),
               source, met_rate(kind, start, end), ratio(), formula, time=time, prep=with_asof,
               prep_options=("hours",), clock=(start, end, "sla_asof"), rows_columns=rows_columns(kind, start, end),
               population=lambda t, o: _decided(t, o, kind, start, end))


def _decided(t, o, kind, start, end):
    met, missed = outcome(t, o, kind, start, end)
    return met | missed


def _sla_tables(ctx, o):
    """Tickets and next-response waits (None without messages), on the rules' clocks."""
    tk = with_asof(ctx.table("tickets"), o)
    wt = with_asof(ctx.table("waits"), o) if "messages" in ctx.sources.imported else None
    if o.get("hours") == "business":
        tk = ctx.business(tk, ["created_at", "first_response_at", "resolved_at", "sla_asof"])
        wt = ctx.business(wt, ["start_at", "replied_at", "sla_asof"]) if wt is not None else None
    return tk, wt


def _breaches(ctx, o):
    tk, wt = _sla_tables(ctx, o)
    tk = ctx.place(tk, "created_at")
    _, fr = outcome(tk, o, "first_response", "created_at", "first_response_at")
    _, res = outcome(tk, o, "resolution", "created_at", "resolved_at")
    a = ctx.group(tk, n_tickets=tk.count(where=fr) + tk.count(where=res))
    if wt is None:
        return a.mutate(n=a.n_tickets)
    wt = ctx.place(wt, "start_at")
    _, nxt = outcome(wt, o, "next_response", "start_at", "replied_at")
    m = ctx.merge(a, ctx.group(wt, n_waits=wt.count(where=nxt)))
    return m.mutate(n=m.n_tickets.fill_null(0) + m.n_waits.fill_null(0))


ROW_COLUMNS = ("ticket_id", "channel", "category", "priority", "customer_tier", "team", "agent_id")


def _breach_rows(ctx, o):
    """One row per ticket and period with its missed targets: first response and resolution placed
    by the ticket's created_at, next response by the waiting message's sent_at; with the rule."""
    tk, wt = _sla_tables(ctx, o)
    tk = ctx.by_period(tk, "created_at")
    rule = sla.pick(rule_of(tk, o)[0], o["_sla"], "name", "string")
    parts = []
    for kind, end in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
        _, missed = outcome(tk, o, kind, "created_at", end)
        parts.append(tk.filter(missed).select("period_start", *ROW_COLUMNS, breach=ibis.literal(kind),
                                             started_at=tk.created_at, sla_rule=rule))
    if wt is not None:
        wt = ctx.by_period(wt, "start_at")
        _, nxt = outcome(wt, o, "next_response", "start_at", "replied_at")
        parts.append(wt.filter(nxt).select(
            "period_start", *ROW_COLUMNS, breach=ibis.literal("next_response"), started_at=wt.start_at,
            sla_rule=sla.pick(rule_of(wt, o)[0], o["_sla"], "name", "string")))
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out.group_by(["period_start", *ROW_COLUMNS, "sla_rule"]).aggregate(
        breaches=out.count(), missed=out.breach.group_concat(", ", order_by=out.breach), first_started_at=out.started_at.min())


def _with_open_wait(t, o, ctx):
    """Tickets as of the instant, plus open_wait_at: the oldest customer message still waiting for a
    reply after the first response (null without messages)."""
    t = with_asof(t, o)
    if "messages" not in ctx.sources.imported:
        return t.mutate(open_wait_at=ibis.null("timestamp"))
    w = ctx.table("waits")
    w = w.filter(w.replied_at.isnull()).group_by(w_ticket="ticket_id").aggregate(open_wait_at=w.start_at.min())
    return t.left_join(w, t.ticket_id == w.w_ticket).drop("w_ticket")


_with_open_wait.wants_ctx = True
NEXT_TARGETS = (("first_response", "created_at"), ("next_response", "open_wait_at"), ("resolution", "created_at"))


def _left(t, o):
    """Seconds left to each target still ahead of the ticket, in the rule's hours (None = none ahead)."""
    idx, business = rule_of(t, o)
    left = {}
    for kind, start in NEXT_TARGETS:
        secs = sla.pick(idx, o["_sla"], kind) - elapsed(t, o, "sla_asof", start, business)
        pending = {"first_response": t.first_response_at.isnull(),
                   "next_response": t.open_wait_at.notnull(), "resolution": ibis.literal(True)}[kind]
        left[kind] = ibis.ifelse(pending & (secs > 0), secs, None)
    return left


def _at_risk(t, o):
    """Seconds left to the soonest target ahead (nulls stand aside; None when none is ahead)."""
    left = list(_left(t, o).values())
    some = ibis.coalesce(*left)
    return ibis.least(*[x.fill_null(some) for x in left])


def _next_target(t, o):
    left = _left(t, o)
    soonest = _at_risk(t, o)
    return ibis.cases(*[(x == soonest, kind) for kind, x in left.items()], else_=None)


def _at_risk_population(t, o):
    left = _at_risk(t, o)
    return t.resolved_at.isnull() & left.notnull() & (left <= o["within"])


KPIS = [
    sla_kpi("sla_first_response_met", "first_response", "created_at", "first_response_at", "tickets", "created_at",
            "tickets answered within the first-response target / tickets whose target is decided x 100"),
    sla_kpi("sla_resolution_met", "resolution", "created_at", "resolved_at", "tickets", "created_at",
            "tickets resolved within the resolution target / tickets whose target is decided x 100"),
    sla_kpi("sla_next_response_met", "next_response", "start_at", "replied_at", "waits", "start_at",
            "customer messages answered within the next-response target / waits whose target is decided x 100"),
    Kpi("sla_breaches", "sla", "count", "lower", ("tickets",), "tickets", _breaches, count(),
        "missed first-response, resolution and next-response targets", shape="custom",
        attribution="created_at (next response: the waiting message's sent_at)", rows=_breach_rows),
    Kpi("sla_at_risk", "sla", "count", "lower", ("tickets",), "tickets",
        lambda t, o: {"n": t.count(where=_at_risk_population(t, o))}, count(),
        "open tickets whose next first-response, next-response or resolution target falls due within `within`",
        time="created_at", attribution="state at the as-of instant", options=(WITHIN,), prep=_with_open_wait,
        prep_options=("hours", "within"), clock=("created_at", "open_wait_at", "sla_asof"),
        population=_at_risk_population,
        rows_columns=lambda t, o: {"sla_rule": sla.pick(rule_of(t, o)[0], o["_sla"], "name", "string"),
                                   "next_target": _next_target(t, o), "seconds_left": _at_risk(t, o)},
        rows_order="seconds_left"),
]
