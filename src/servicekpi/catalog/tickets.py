"""Ticket KPIs (table tickets, plus messages where given)."""
from __future__ import annotations

from servicekpi.catalog.clocks import at, in_backlog, overdue, span
from servicekpi.catalog.kpi import Calc, Kpi, Option, Result, _num, count, duration_stat, mean, ratio, with_note
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")

STAT = Option("stat", "mean", ("mean", "median", "p90"), help="mean, median or 90th percentile")
HOURS = Option("hours", "calendar", ("calendar", "business"),
               help="calendar time, or business time of the row's calendar (config [business_hours])")
PER = {"day": 1.0, "week": 7.0, "month": 365.2425 / 12}


def _duration(t, o, end: str, start: str):
    return _stat(span(t, o, at(t, o, end), at(t, o, start)), o)


def _stat(d, o):
    if o.get("stat", "mean") == "mean":
        return {"sum": d.sum(), "n": d.count()}
    return {"q": d.quantile({"median": 0.5, "p90": 0.9}[o["stat"]])}


def _per_day(m, o, period):
    n = _num(m.get("n")) or 0.0
    days = m["days"] if "days" in m else period.days
    den = days / PER[o["per"]]
    return Result(n / den if den else None, n, den)


def _fcr(t, o):
    known = t.agent_replies.notnull()
    fcr = t.resolved_at.notnull() & (t.agent_replies <= 1) & (t.reopen_count == 0)
    basis = o["basis"]
    if basis == "received":
        pool = ibis.literal(True)
    elif basis == "resolved":
        pool = t.resolved_at.notnull()
    else:
        pool = t.resolved_at.notnull() & t.fcr_eligible
    return {"num": t.count(where=pool & known & fcr), "den": t.count(where=pool & known),
            "unknown": t.count(where=pool & ~known)}


def _fcr_population(t, o):
    if o["basis"] == "received":
        return ibis.literal(True)
    return t.fcr_eligible if o["basis"] == "eligible" else ibis.literal(True)


WHO = {"agent": "agent_replies", "customer": "customer_messages", "all": "all_messages"}

KPIS = [
    Kpi("ticket_volume", "tickets", "count", "neutral", ("tickets",), "tickets",
        lambda t, o: {"n": t.count()}, count(), "number of tickets", time="created_at",
        calc=Calc(("tickets",), lambda a: {"n": a["tickets"]})),
    Kpi("avg_ticket_count", "tickets", "tickets_per_day", "neutral", ("tickets",), "tickets",
        lambda t, o: {"n": t.count()}, _per_day, "tickets / days in the period", time="created_at",
        options=(Option("per", "day", tuple(PER), help="divide by days, weeks or months (30.44 days)"),),
        calc=Calc(("tickets", "days"), lambda a: {"n": a["tickets"], "days": a["days"]})),
    Kpi("backlog", "tickets", "count", "lower", ("tickets",), "tickets",
        lambda t, o: {"n": t.count(where=in_backlog(t))}, count(),
        "tickets created before the period end and not resolved before it", shape="state",
        attribution="state at period end", population=in_backlog),
    Kpi("backlog_overdue", "tickets", "count", "lower", ("tickets",), "tickets",
        lambda t, o: {"n": t.count(where=overdue(t, o))},
        count(), "backlog tickets older than their SLA resolution target (default 72 h) at the period end",
        shape="state", attribution="state at period end",
        options=(Option("target_hours", None, type=float, help="override the SLA policies with one calendar target"),),
        prep_options=("hours", "target_hours"), clock=("created_at", "hi"), population=lambda t, o: overdue(t, o)),
    Kpi("first_response_time", "tickets", "minutes", "lower", ("tickets",), "tickets",
        lambda t, o: _duration(t, o, "first_response_at", "created_at"), duration_stat("minutes"),
        "mean of first_response_at - created_at over tickets with a first response", time="created_at",
        options=(STAT, HOURS), prep_options=("hours",), clock=("created_at", "first_response_at"), population=lambda t, o: t.first_response_at.notnull(),
        calc=Calc(("total_minutes", "tickets"), lambda a: {"sum": a["total_minutes"] * 60_000, "n": a["tickets"]})),
    Kpi("avg_response_time", "tickets", "minutes", "lower", ("tickets", "messages"), "replies",
        lambda t, o: _duration(t, o, "sent_at", "start_at"), duration_stat("minutes"),
        "mean over replies of reply sent_at - start of the wait (created_at for the first reply, "
        "the first customer message after the previous reply otherwise)", time="sent_at",
        attribution="reply sent_at", options=(HOURS,), prep_options=("hours",), clock=("start_at", "sent_at"), population=lambda t, o: t.start_at.notnull(),
        calc=Calc(("total_minutes", "replies"), lambda a: {"sum": a["total_minutes"] * 60_000, "n": a["replies"]})),
    Kpi("avg_resolution_time", "tickets", "hours", "lower", ("tickets",), "tickets",
        lambda t, o: _duration(t, o, "resolved_at", "created_at"), mean("hours"),
        "mean of resolved_at - created_at", time="resolved_at", options=(HOURS,), prep_options=("hours",),
        clock=("created_at", "resolved_at"),
        calc=Calc(("total_hours", "tickets"), lambda a: {"sum": a["total_hours"] * 3_600_000, "n": a["tickets"]})),
    Kpi("complaint_resolution_time", "tickets", "hours", "lower", ("tickets",), "tickets",
        lambda t, o: _stat(span(
            t, o, ibis.ifelse((t.category == "complaint") | t.escalated_at.notnull(), at(t, o, "resolved_at"), None),
            at(t, o, "escalated_at").fill_null(at(t, o, "created_at"))), o),
        mean("hours"), "mean of resolved_at - coalesce(escalated_at, created_at) over complaints and escalations",
        time="resolved_at", options=(HOURS,), prep_options=("hours",),
        clock=("created_at", "escalated_at", "resolved_at"),
        population=lambda t, o: (t.category == "complaint") | t.escalated_at.notnull(),
        calc=Calc(("total_hours", "complaints"), lambda a: {"sum": a["total_hours"] * 3_600_000, "n": a["complaints"]})),
    Kpi("resolution_rate", "tickets", "percent", "higher", ("tickets",), "tickets",
        lambda t, o: {"num": t.count(where=t.resolved_at.notnull()), "den": t.count()}, ratio(),
        "tickets with resolved_at / tickets x 100", time="created_at",
        calc=Calc(("resolved", "tickets"), lambda a: {"num": a["resolved"], "den": a["tickets"]})),
    Kpi("resolved_unresolved_ratio", "tickets", "ratio", "higher", ("tickets",), "tickets",
        lambda t, o: {"num": t.count(where=t.resolved_at.notnull()), "den": t.count(where=t.resolved_at.isnull())},
        ratio(1), "resolved tickets / unresolved tickets", time="created_at",
        calc=Calc(("resolved", "unresolved"), lambda a: {"num": a["resolved"], "den": a["unresolved"]})),
    Kpi("fcr_rate", "tickets", "percent", "higher", ("tickets",), "tickets", _fcr,
        with_note(ratio(), "unknown", "resolved tickets with unknown agent_replies left out"),
        "first-contact resolutions (resolved, agent_replies <= 1, reopen_count = 0) / resolved tickets x 100",
        time=lambda o: "created_at" if o["basis"] == "received" else "resolved_at",
        attribution="resolved_at (basis received: created_at)",
        options=(Option("basis", "eligible", ("eligible", "resolved", "received"),
                        help="eligible: FCR-eligible resolved tickets; resolved: all resolved; "
                             "received: tickets created in the period"),),
        population=_fcr_population,
        calc=Calc(("first_contact", "total"), lambda a: {"num": a["first_contact"], "den": a["total"]})),
    Kpi("single_agent_resolution_rate", "tickets", "percent", "higher", ("tickets",), "tickets",
        lambda t, o: {"num": t.count(where=t.agents_involved == 1), "den": t.count(where=t.agents_involved.notnull())},
        ratio(), "resolved tickets with one agent involved / resolved tickets with agents_involved known x 100",
        time="resolved_at", population=lambda t, o: t.agents_involved.notnull(),
        calc=Calc(("single_agent", "resolved"), lambda a: {"num": a["single_agent"], "den": a["resolved"]})),
    Kpi("interactions_per_ticket", "tickets", "count", "lower", ("tickets",), "tickets",
        lambda t, o: {"sum": t[WHO[o["who"]]].sum(), "n": t[WHO[o["who"]]].count(),
                      "unknown": t.count(where=t[WHO[o["who"]]].isnull())},
        with_note(mean("count"), "unknown", "resolved tickets without message data left out"),
        "mean replies per resolved ticket (0 replies count as 0)", time="resolved_at",
        options=(Option("who", "agent", tuple(WHO), help="agent replies, customer messages or all messages"),),
        calc=Calc(("interactions", "tickets"), lambda a: {"sum": a["interactions"], "n": a["tickets"]})),
    Kpi("channel_share", "tickets", "percent", "neutral", ("tickets",), "tickets",
        lambda t, o: {"num": t.count()}, ratio(), "tickets of each channel / all tickets x 100",
        time="created_at", share_of="channel", force_dim="channel",
        calc=Calc(("channel_tickets", "tickets"), lambda a: {"num": a["channel_tickets"], "den": a["tickets"]})),
    Kpi("category_volume", "tickets", "count", "neutral", ("tickets",), "tickets",
        lambda t, o: {"n": t.count()}, count(), "tickets per category", time="created_at",
        force_dim="category"),
    Kpi("kb_helpfulness", "tickets", "percent", "higher", ("self_service",), "self_service",
        lambda t, o: {"num": t.count(where=t.kind == "article_helpful"),
                      "den": t.count(where=t.kind.isin(["article_helpful", "article_not_helpful"]))},
        ratio(), "article_helpful / (article_helpful + article_not_helpful) x 100", time="occurred_at",
        population=lambda t, o: t.kind.isin(["article_helpful", "article_not_helpful"]),
        calc=Calc(("helpful", "not_helpful"), lambda a: {"num": a["helpful"], "den": a["helpful"] + a["not_helpful"]})),
]


def _self_service(ctx, o):
    ss = ctx.table("self_service")
    ss = ctx.place(ss.filter(ss.kind.isin(["bot_resolved", "ivr_resolved"])), "occurred_at")
    tk = ctx.place(ctx.table("tickets"), "created_at")
    m = ctx.merge(ctx.group(ss, num=ss.count()), ctx.group(tk, tickets=tk.count()))
    return m.mutate(num=m.num.fill_null(0), den=m.num.fill_null(0) + m.tickets.fill_null(0))


KPIS.append(Kpi(
    "self_service_rate", "tickets", "percent", "higher", ("self_service", "tickets"), "self_service",
    _self_service, ratio(),
    "self-service resolutions (bot_resolved, ivr_resolved) / (self-service resolutions + tickets) x 100",
    shape="custom", attribution="occurred_at / created_at", rows_time="occurred_at", allowed_dims=("channel", "tier", "persona", "acquisition_channel"),
    population=lambda t, o: t.kind.isin(["bot_resolved", "ivr_resolved"]),
    calc=Calc(("self_service_resolutions", "tickets"),
              lambda a: {"num": a["self_service_resolutions"],
                         "den": a["self_service_resolutions"] + a["tickets"]})))
