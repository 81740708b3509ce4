"""Call and chat-session KPIs (table calls; attribution entered_at)."""
from __future__ import annotations

from servicekpi.catalog.clocks import at, ms, span
from servicekpi.catalog.kpi import Calc, Kpi, Option, count, mean, ratio, with_note
from servicekpi.catalog.tickets import HOURS
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")

ABANDON = Option("abandon", "all", ("all", "caller_only"),
                 help="caller_only: only outcome=abandoned counts; other unanswered calls leave offered")
SHORT = Option("short_abandon_seconds", 0.0, type=float,
               help="unanswered calls that waited less are removed from offered and abandoned")
CALL_OPTIONS = (ABANDON, SHORT)


def offered(t, o):
    """The calls offered under the family's options."""
    unanswered = t.answered_at.isnull()
    if o["abandon"] == "caller_only":
        t = t.filter(~unanswered | (t.outcome.fill_null("") == "abandoned"))
        unanswered = t.answered_at.isnull()
    if o["short_abandon_seconds"]:
        waited = ms(t.ended_at, t.entered_at)
        short = unanswered & waited.notnull() & (waited < o["short_abandon_seconds"] * 1000)
        t = t.filter(~short)
    return t


def call(id, unit, direction, measures, finish, formula, options=(), **kw):
    return Kpi(id, "calls", unit, direction, ("calls",), "calls", measures, finish, formula,
               time="entered_at", options=CALL_OPTIONS + options, prep=offered,
               prep_options=("abandon", "short_abandon_seconds", "hours"), **kw)


# abandoned calls carry no agent: by agent every agent would show 0 % abandoned and 100 % answered
NO_AGENT = "not attributable to an agent: unanswered calls carry no agent, so a per-agent rate would read 0 % lost"


def answered(t):
    return t.answered_at.notnull()


def timed(t):
    """Answered calls whose talk time is known (a missing talk_seconds is unknown, never 0)."""
    return answered(t) & t.talk_seconds.notnull()


UNTIMED = "answered calls with unknown talk_seconds left out"


def _service_level(t, o):
    fast = answered(t) & (ms(t.answered_at, t.entered_at) <= o["threshold_seconds"] * 1000)
    den = t.count(where=answered(t)) if o["denominator"] == "answered" else t.count()
    return {"num": t.count(where=fast), "den": den}


def _occupancy(ctx, o):
    calls = ctx.by_period(offered(ctx.table("calls"), o), "entered_at")
    handle = ctx.group(calls, num=(calls.talk_seconds + calls.hold_seconds + calls.wrap_seconds)
                       .sum(where=timed(calls)), unknown=calls.count(where=answered(calls) & ~timed(calls)))
    s = ctx.cross(ctx.table("agent_sessions"))
    until = s.logout_at.fill_null(ibis.literal(ctx.asof))
    start = ibis.greatest(s.login_at, s.lo)
    end = ibis.least(until, s.hi)
    seconds = ibis.greatest(ms(end, start), 0) / 1000
    logged = ctx.group(s.filter((s.login_at < s.hi) & (until > s.lo)), den=seconds.sum())
    return ctx.merge(handle, logged)


KPIS = [
    call("calls_offered", "count", "neutral", lambda t, o: {"n": t.count()}, count(),
         "calls entered in the period", calc=Calc(("calls",), lambda a: {"n": a["calls"]})),
    call("answered_call_rate", "percent", "higher",
         lambda t, o: {"num": t.count(where=answered(t)), "den": t.count()}, ratio(),
         "answered / offered x 100", calc=Calc(("answered", "offered"), lambda a: {"num": a["answered"], "den": a["offered"]}),
         not_per_agent=NO_AGENT),
    call("abandonment_rate", "percent", "lower",
         lambda t, o: {"num": t.count(where=~answered(t)), "den": t.count()}, ratio(),
         "abandoned (not answered) / offered x 100",
         calc=Calc(("abandoned", "offered"), lambda a: {"num": a["abandoned"], "den": a["offered"]}),
         not_per_agent=NO_AGENT),
    call("call_service_level", "percent", "higher", _service_level, ratio(),
         "answered within threshold_seconds (default 60) / offered x 100",
         options=(Option("threshold_seconds", 60.0, type=float, help="answer within this many seconds"),
                  Option("denominator", "offered", ("offered", "answered"), help="divide by offered or answered calls")),
         calc=Calc(("within_threshold", "offered"), lambda a: {"num": a["within_threshold"], "den": a["offered"]}),
         not_per_agent=NO_AGENT),
    call("avg_wait_time", "seconds", "lower",
         lambda t, o: {"sum": span(t, o, at(t, o, "answered_at"), at(t, o, "entered_at")).sum(),
                       "n": t.count(where=answered(t))},
         mean("seconds"), "mean of answered_at - entered_at over answered calls",
         options=(HOURS,), clock=("entered_at", "answered_at"),
         population=lambda t, o: answered(t),
         calc=Calc(("wait_seconds", "answered"), lambda a: {"sum": a["wait_seconds"] * 1000, "n": a["answered"]})),
    call("aht", "seconds", "lower",
         lambda t, o: {"sum": (t.talk_seconds + t.hold_seconds + t.wrap_seconds).sum(where=timed(t)),
                       "n": t.count(where=timed(t)), "unknown": t.count(where=answered(t) & ~timed(t))},
         with_note(mean("count"), "unknown", UNTIMED),
         "mean of talk + hold + wrap seconds over answered calls with a known talk_seconds",
         population=lambda t, o: timed(t),
         calc=Calc(("talk_seconds", "hold_seconds", "wrap_seconds", "calls"),
                   lambda a: {"sum": a["talk_seconds"] + a["hold_seconds"] + a["wrap_seconds"], "n": a["calls"]})),
    call("first_call_resolution", "percent", "higher",
         lambda t, o: {"num": t.count(where=answered(t) & (t.resolved == True)),  # noqa: E712 (Ibis)
                       "den": t.count(where=answered(t) & t.resolved.notnull())}, ratio(),
         "answered calls with resolved = true / answered calls with resolved known x 100",
         population=lambda t, o: answered(t) & t.resolved.notnull(),
         calc=Calc(("resolved", "answered"), lambda a: {"num": a["resolved"], "den": a["answered"]})),
    Kpi("occupancy", "calls", "percent", "neutral", ("calls", "agent_sessions"), "calls", _occupancy,
        with_note(ratio(), "unknown", UNTIMED),
        "talk + hold + wrap seconds of answered calls with a known talk_seconds / logged-in seconds in the period "
        "x 100",
        shape="custom", options=CALL_OPTIONS, attribution="entered_at / session overlap",
        allowed_dims=("agent_id", "queue"), rows_time="entered_at", population=lambda t, o: timed(t),
        calc=Calc(("handle_seconds", "logged_in_seconds"),
                  lambda a: {"num": a["handle_seconds"], "den": a["logged_in_seconds"]})),
]
