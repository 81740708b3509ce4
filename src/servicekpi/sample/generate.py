"""Generate a realistic, reproducible sample customer-service operation.

    generate("demo/", tickets=20_000, seed=7)   # -> {"tickets": 20000, "messages": ..., ...}

writes every table of the canonical format (see docs / data-format.md) into
a folder as `<table>.parquet` (default) or `<table>.csv`. Everything is
vectorised numpy/pyarrow; tickets and messages are produced and written in
chunks of `CHUNK_TICKETS` tickets so memory stays bounded (10M tickets fit
in a few GB). The same seed and arguments give byte-identical files.

The data is made to exercise every KPI: weekday/daytime seasonality, a
growth trend, two injected one-category volume spikes (a wave of returns, a
technical outage that also floods the support phone queue), bots, internal
notes, agent-opened tickets, multi-round conversations, follow-ups,
handoffs, reopened tickets (some open again now), escalations, excluded
spam, a call-queue simulation with abandonment, surveys whose scores follow
the service quality, orders with repeat buyers, spend, self-service events,
public feedback, quality reviews and customer activity.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import numpy as np

from servicekpi.sample import tables as gen_tables
from servicekpi.sample.common import (
    CH,
    CHUNK_ROWS,
    DAY,
    HOUR,
    Writer,
    add_months,
    c_cat,
    c_id,
    c_ts,
    c_val,
    epoch,
    lognorm,
    pick,
    pick_rows,
    weekday,
    width,
)

__all__ = ["generate"]

CHUNK_TICKETS = 1_000_000   # tickets per chunk (one row group / CSV append each)
NEVER = np.iinfo(np.int64).max

CH_P = [0.36, 0.27, 0.14, 0.07, 0.11, 0.05]
CAT = ["sales_question", "technical", "cancellation", "return", "shipping",
       "product_availability", "complaint"]
CAT_P = [0.13, 0.27, 0.06, 0.15, 0.19, 0.10, 0.10]
TECHNICAL, RETURN, COMPLAINT = 1, 3, 6
PRIO = ["low", "normal", "high", "urgent"]
TIERS = ["enterprise", "business", "freemium"]
TIER_P = [0.06, 0.26, 0.68]
PRIO_BY_TIER = [[.10, .50, .28, .12], [.18, .57, .19, .06], [.28, .58, .11, .03]]
STATUS = ["open", "pending", "on_hold", "resolved", "closed"]
TEAMS = ["sales", "support", "technical", "billing"]
TEAM_BY_CAT = [[.9, .1, 0, 0], [0, .15, .85, 0], [.2, 0, 0, .8], [0, .6, 0, .4],
               [0, .9, 0, .1], [.5, .5, 0, 0], [0, .5, .2, .3]]
AUTHORS = ["customer", "agent", "bot", "system"]
PERSONAS = ["it_admin", "procurement", "operations_manager", "developer",
            "small_business_owner", "consumer"]
PERSONA_BY_TIER = [[.35, .25, .25, .15, 0, 0], [.1, .05, .3, .25, .3, 0],
                   [0, 0, .05, .25, .25, .45]]
ACQ = ["organic", "paid_search", "social", "partner", "outbound_sales", "referral"]
ACQ_BY_TIER = [[.15, .1, .05, .3, .4, 0], [.3, .25, .1, .15, .2, 0], [.4, .35, .22, .03, 0, 0]]
CHURN_PER_YEAR = np.array([0.10, 0.20, 0.45])
# hour-of-day (UTC) and day-of-week (Mon..Sun) ticket intensity
HOD = np.array([.15, .10, .08, .07, .08, .15, .35, .70, 1.1, 1.4, 1.5, 1.45, 1.3, 1.35, 1.4,
                1.35, 1.2, 1.0, .85, .75, .65, .5, .35, .22])
DOW = np.array([1.25, 1.15, 1.1, 1.05, .95, .55, .45])
# median gaps in seconds per channel: first reply, reply to a customer message,
# follow-up reply, customer answer, resolution after the last reply
GAPS = np.array([[12600, 7200, 86400, 18000, 1800],     # email
                 [100, 60, 240, 50, 300],                # chat
                 [90, 120, 3600, 300, 120],              # phone
                 [3000, 2400, 43200, 3600, 1800],        # social
                 [14400, 7200, 86400, 18000, 1800],      # web_form
                 [1800, 1200, 21600, 2400, 900]], float)  # sms
PRIO_SPEED = np.array([1.4, 1.0, 0.6, 0.3])
TIER_SPEED = np.array([0.6, 0.85, 1.1])
R_P = [0.10, 0.52, 0.20, 0.10, 0.05, 0.02, 0.01]       # agent replies per ticket
RMAX = len(R_P) - 1

# A ticket's conversation is a row of slots (absent slots are dropped):
# opener, bot, then per reply j: customer message, internal note, reply;
# then the (hidden) resolution, a system message and a last customer message.
K_OPEN, K_BOT, K_CUST, K_NOTE, K_REPLY, K_RES, K_SYS, K_LAST = range(8)
S_RES = 2 + 3 * RMAX
S_SYS, S_LAST, NS = S_RES + 1, S_RES + 2, S_RES + 3
SLOT_KIND = np.array([K_OPEN, K_BOT] + [K_CUST, K_NOTE, K_REPLY] * RMAX + [K_RES, K_SYS, K_LAST])
SLOT_J = np.array([-1, -1] + [j for j in range(RMAX) for _ in range(3)] + [RMAX] * 3)
AUTHOR_OF_KIND = np.array([0, 2, 0, 1, 1, 3, 3, 0], np.int8)
_TABLE_CODES = {n: i for i, n in enumerate(
    ["profile", "customers", "tickets", "calls", "surveys", "orders", "spend", "self_service",
     "feedback", "quality_reviews", "activity", "agents"])}


class Ctx:
    """Everything the table generators share (window, customers, agents, tickets)."""

    def __init__(self, seed: int, start: int, end: int):
        self.seed, self.start, self.end = seed % 2**64, start, end

    def rng(self, name: str, chunk: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, _TABLE_CODES[name], chunk])

    def cust_id(self, idx, valid=None):
        return c_id("CU", np.asarray(idx) + 1, self.w_cust, valid)

    def agent_id(self, idx, valid=None):
        return c_id("A", np.asarray(idx) + 1, self.w_agent, valid)

    def ticket_id(self, idx, valid=None):
        return c_id("T", np.asarray(idx) + 1, self.w_ticket, valid)

    def customers_at(self, rng, t) -> np.ndarray:
        """A customer acquired before each instant t (favouring long-standing ones)."""
        cnt = np.maximum(np.searchsorted(self.cust_acq, t, side="right"), 1)
        return np.minimum((cnt * rng.random(len(t)) ** 0.8).astype(np.int64), cnt - 1)


def generate(out: str | Path, tickets: int = 20_000, seed: int = 7, fmt: str = "parquet",
             months: int = 6, end: dt.date | None = None,
             calls: int | None = None, surveys: int | None = None,
             progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Write all tables; return {table_name: rows_written}.

    Data covers [end - months, end) (customers are also acquired up to two
    years earlier); `end` defaults to the first day of the current month
    (UTC). `calls`/`surveys` default to tickets // 5. `progress(table, rows)`
    is called after each written chunk with the rows of that chunk.
    """
    if months < 1 or tickets < 0:
        raise ValueError("months must be >= 1 and tickets >= 0")
    fmt, end, calls, surveys, out = arguments(out, tickets, fmt, end, calls, surveys)
    ctx = context(seed, end, months, tickets, calls)
    writer = Writer(out, fmt, progress)
    try:
        _customers(ctx, writer, tickets)
        _tickets(ctx, writer, tickets)
        gen_tables.calls_and_sessions(ctx, writer, calls)
        gen_tables.surveys(ctx, writer, surveys)
        gen_tables.orders_and_spend(ctx, writer)
        gen_tables.self_service(ctx, writer, tickets)
        gen_tables.feedback(ctx, writer, tickets)
        gen_tables.quality_reviews(ctx, writer)
        for k in [k for k in vars(ctx) if k.startswith("t_")]:
            delattr(ctx, k)                                      # free before the last table
        gen_tables.activity(ctx, writer, tickets)
    finally:
        writer.close()
    return dict(sorted(writer.rows.items()))


# ----------------------------------------------------------------------------- setup
def arguments(out, tickets: int, fmt: str, end, calls: int | None, surveys: int | None):
    """The checked format, the end date (default: this month's first day, UTC), the call and
    survey counts (default tickets // 5) and the output folder, made."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', not {fmt!r}")
    if end is None:
        end = dt.datetime.now(dt.timezone.utc).date().replace(day=1)
    elif isinstance(end, dt.datetime):
        end = end.date()
    calls = tickets // 5 if calls is None else calls
    surveys = tickets // 5 if surveys is None else surveys
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return fmt, end, calls, surveys, out


def context(seed: int, end: dt.date, months: int, tickets: int, calls: int) -> Ctx:
    """What every table of the operation over [end - months, end) is drawn from: the ticket
    profile, the call plan and the agents."""
    ctx = Ctx(seed, epoch(add_months(end, -months)), epoch(end))
    _profile(ctx, tickets)
    gen_tables.plan_calls(ctx, calls)
    _agents(ctx)
    return ctx


def _profile(ctx: Ctx, tickets: int) -> None:
    """Hourly ticket intensity: daytime/weekday seasonality, growth, two category spikes."""
    rng = ctx.rng("profile")
    hours = (ctx.end - ctx.start) // HOUR
    hs = ctx.start + np.arange(hours) * HOUR
    frac = (hs - ctx.start) / (ctx.end - ctx.start)
    base = HOD[(hs % DAY) // HOUR] * DOW[weekday(hs)] * (1 + 0.35 * frac)
    extra = np.zeros(hours)
    ctx.spike_cat = np.zeros(hours, np.int16)
    ctx.spikes = []
    n_days = hours // 24
    for cat, days, amp, lo, hi in ((RETURN, 7, 2.5, 0.2, 0.45), (TECHNICAL, 3, 4.0, 0.55, 0.9)):
        a = int(lo * n_days)
        d0 = int(rng.integers(a, max(a + 1, int(hi * n_days) - days)))
        sel = slice(d0 * 24, (d0 + days) * 24)
        extra[sel] += amp * base[sel] * CAT_P[cat]
        ctx.spike_cat[sel] = cat
        ctx.spikes.append((CAT[cat], ctx.start + d0 * DAY, ctx.start + (d0 + days) * DAY))
    total = base + extra
    ctx.hour_weight = base
    ctx.spike_share = extra / total
    ctx.tk_cum = np.cumsum(rng.multinomial(tickets, total / total.sum()))


def _agents(ctx: Ctx) -> None:
    """Agents A01.. in four teams (sizes from the call plan: >= 5/9/6/5)."""
    rng = ctx.rng("agents")
    sizes = np.asarray(ctx.team_sizes)
    ctx.team_size = sizes
    ctx.team_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ctx.n_agents = int(sizes.sum())
    ctx.agent_team = np.repeat(np.arange(len(sizes)), sizes)
    ctx.agent_speed = lognorm(rng, 1.0, 0.25, ctx.n_agents)
    ctx.agent_quality = rng.normal(0, 0.35, ctx.n_agents)
    ctx.w_agent = width(ctx.n_agents, 2)


def _customers(ctx: Ctx, w: Writer, tickets: int) -> None:
    rng = ctx.rng("customers")
    n = max(100, tickets // 4)
    span = max(730 * DAY, ctx.end - ctx.start + 180 * DAY)
    g = 1.5                                      # acquisitions grow over time
    x = (np.sqrt(1 + 2 * g * (1 + g / 2) * rng.random(n)) - 1) / g
    acq = np.sort(ctx.end - span + (x * span).astype(np.int64))
    acq[0] = ctx.end - span
    acq = np.minimum(acq, ctx.end - 1)
    tier = pick(rng, TIER_P, n)
    churn = acq + (rng.exponential(1, n) * 365 * DAY / CHURN_PER_YEAR[tier]).astype(np.int64)
    churned = churn < ctx.end
    ctx.cust_acq, ctx.cust_tier = acq, tier
    ctx.cust_churn = np.where(churned, churn, NEVER)
    ctx.w_cust = width(n, 6)
    persona = pick_rows(rng, PERSONA_BY_TIER, tier)
    channel = pick_rows(rng, ACQ_BY_TIER, tier)
    idx = np.arange(n)
    referred = (idx >= 1) & (rng.random(n) < 0.12)
    referrer = (rng.random(n) * idx).astype(np.int64)        # an earlier customer
    channel[referred] = ACQ.index("referral")
    w.write("customers", {
        "customer_id": ctx.cust_id(idx), "acquired_at": c_ts(acq),
        "churned_at": c_ts(churn, churned), "tier": c_cat(TIERS, tier),
        "persona": c_cat(PERSONAS, persona), "acquisition_channel": c_cat(ACQ, channel),
        "referred_by": ctx.cust_id(referrer, referred)}, n, CHUNK_ROWS)


# ----------------------------------------------------------------------------- tickets
def _office(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Agent work at night (21-07 UTC), and mostly at weekends, moves to the next morning."""
    n = len(t)
    day0 = t - t % DAY
    h = (t - day0) // HOUR
    morning = np.where(h < 7, day0, day0 + DAY) + 7 * HOUR
    t = np.where((h >= 21) | (h < 7), morning + rng.exponential(2400, n).astype(np.int64), t)
    dow = weekday(t)
    monday = t - t % DAY + (7 - dow) * DAY + 7 * HOUR + rng.exponential(2400, n).astype(np.int64)
    return np.where((dow >= 5) & (rng.random(n) < 0.6), np.maximum(monday, t), t)


def _tickets(ctx: Ctx, w: Writer, tickets: int) -> None:
    ctx.w_ticket = width(tickets, 7)
    ctx.w_msg = width(tickets * NS, 8)
    keep = {k: [] for k in ("created", "resolved", "cust", "agent", "channel", "category",
                            "reopen", "frt", "replies", "excluded")}
    msg_base = 0
    for ci, a in enumerate(range(0, tickets, CHUNK_TICKETS)):
        b = min(tickets, a + CHUNK_TICKETS)
        tcols, mcols, n_msg, summary = _ticket_chunk(ctx, ctx.rng("tickets", ci), a, b, msg_base)
        w.write("tickets", tcols, b - a)
        w.write("messages", mcols, n_msg)
        msg_base += n_msg
        for k, v in summary.items():
            keep[k].append(v)
    for k, v in keep.items():
        setattr(ctx, "t_" + k, np.concatenate(v) if v else np.zeros(0, np.int64))


def _ticket_chunk(ctx: Ctx, rng: np.random.Generator, a: int, b: int, msg_base: int):
    n, end = b - a, ctx.end
    gid = np.arange(a, b)
    hb = np.searchsorted(ctx.tk_cum, gid, side="right")                # hour bin
    # stratified within the hour, so ids follow creation time across chunks
    in_hour = ctx.tk_cum[hb] - np.r_[0, ctx.tk_cum][hb]
    rank = gid - (ctx.tk_cum[hb] - in_hour)
    created = ctx.start + hb * HOUR + ((rank + rng.random(n)) * HOUR / in_hour).astype(np.int64)

    cat = pick(rng, CAT_P, n)
    spike = rng.random(n) < ctx.spike_share[hb]
    cat[spike] = ctx.spike_cat[hb[spike]]
    ch = pick(rng, CH_P, n)
    cust = ctx.customers_at(rng, created)
    tier = ctx.cust_tier[cust]
    prio = pick_rows(rng, PRIO_BY_TIER, tier)
    team = pick_rows(rng, TEAM_BY_CAT, cat)
    agent1 = ctx.team_first[team] + (rng.random(n) * ctx.team_size[team]).astype(np.int64)
    agent2 = (agent1 + 1 + (rng.random(n) * (ctx.n_agents - 1)).astype(np.int64)) % ctx.n_agents

    excluded = rng.random(n) < 0.01                                    # spam / test
    outbound = (rng.random(n) < 0.04) & ~excluded                      # agent-opened
    has_bot = np.isin(ch, [0, 1, 4]) & (rng.random(n) < 0.5) & ~outbound & ~excluded
    R = pick(rng, R_P, n).astype(np.int64)
    R = np.minimum(R + (((cat == TECHNICAL) | (cat == COMPLAINT)) & (rng.random(n) < 0.35)), RMAX)
    R[outbound] = np.maximum(R[outbound], 1)
    R[excluded] = 0
    handoff = (R >= 2) & (rng.random(n) < 0.12)
    k_hand = 1 + (rng.random(n) * np.maximum(R - 1, 1)).astype(np.int64)
    will_resolve = rng.random(n) > 0.005                               # a few get stuck
    reopen_b = (R >= 2) & (rng.random(n) < 0.05)                      # reopened, resolved again
    reopen_b2 = reopen_b & (R >= 3) & (rng.random(n) < 0.25)
    # reopened and open now: recent tickets (older ones were solved again since)
    recent = created >= end - 14 * DAY
    reopen_c = will_resolve & (R >= 1) & ~reopen_b & recent & (rng.random(n) < 0.04)
    fcr_eligible = rng.random(n) > np.where(cat == TECHNICAL, 0.15, 0.05)
    g = GAPS[ch]
    speed = PRIO_SPEED[prio] * TIER_SPEED[tier] * ctx.agent_speed[agent1]

    T = np.empty((n, NS), np.int64)
    P = np.zeros((n, NS), bool)
    reo = np.zeros((n, 2), bool)
    t = created.copy()

    def slot(col, present, gap, office=False):
        nonlocal t
        nt = t + 1 + np.asarray(gap).astype(np.int64)
        if office:
            nt = _office(rng, nt)
        t = np.where(present, nt, t)
        T[:, col], P[:, col] = t, present  # noqa: F821 - assigned in the enclosing function (ruff misreads the nested tuple target)

    T[:, 0], P[:, 0] = created, True
    slot(1, has_bot, 1 + rng.integers(0, 30, n))
    for j in range(RMAX):
        has = R > j
        if j == 0:
            cm = has & (outbound | (rng.random(n) < 0.08))
            is_reo = np.zeros(n, bool)
        else:
            is_reo = has & ((reopen_b & (j == 1)) | (reopen_b2 & (j == 2)))
            cm = has & (is_reo | (rng.random(n) < 0.72))
        if j in (1, 2):
            reo[:, j - 1] = is_reo
        slot(2 + 3 * j, cm, lognorm(rng, g[:, 3], 1.2, n)
             + is_reo * (DAY + rng.integers(0, 3 * DAY, n)))
        note = has & ((rng.random(n) < 0.05) | (handoff & (k_hand == j)))
        slot(3 + 3 * j, note, 60 + rng.exponential(900, n), office=True)
        med = g[:, 0] if j == 0 else np.where(cm, g[:, 1], g[:, 2])
        slot(4 + 3 * j, has, lognorm(rng, med * speed, 1.0, n), office=True)
    res_gap = lognorm(rng, np.where(R == 0, 6 * HOUR, g[:, 4]), 1.0, n)
    res_gap[excluded] = rng.integers(60, HOUR, int(excluded.sum()))
    slot(S_RES, will_resolve, res_gap)
    P[:, S_RES] = False                                                # hidden: no message
    slot(S_SYS, will_resolve & ~excluded & (rng.random(n) < 0.22), rng.integers(0, 120, n))
    last_gap = np.where(reopen_c, DAY // 2 + rng.exponential(2 * DAY, n),
                        lognorm(rng, 1800, 1.0, n))
    slot(S_LAST, reopen_c | (will_resolve & ~excluded & (rng.random(n) < 0.18)), last_gap)

    P &= T < end                                                       # nothing after `end`
    res_t = T[:, S_RES]
    reopened_now = reopen_c & P[:, S_LAST]
    resolved = will_resolve & (res_t < end) & ~reopened_now
    reopen_count = (reo[:, 0] & P[:, 5]).astype(np.int64) + (reo[:, 1] & P[:, 8]) + reopened_now

    # ---- messages, in (ticket, slot) order = time order within each ticket
    flat = np.flatnonzero(P.ravel())
    tk, sl = flat // NS, flat % NS
    sent = T.ravel()[flat]
    del T, P
    kind, j = SLOT_KIND[sl], SLOT_J[sl]
    author = AUTHOR_OF_KIND[kind]
    author[(sl == 0) & outbound[tk]] = 1
    second = handoff[tk] & (j >= k_hand[tk]) & (j < RMAX)
    m_agent = np.where(second, agent2[tk], agent1[tk])
    hand_note = (kind == K_NOTE) & handoff[tk] & (j == k_hand[tk])
    m_agent[hand_note] = agent1[tk[hand_note]]
    second &= ~hand_note
    is_reply = kind == K_REPLY
    m = len(flat)

    # ---- what the messages imply for the ticket (rules of data-format.md)
    rtk = tk[is_reply]
    replies = np.bincount(rtk, minlength=n)
    first = np.ones(len(rtk), bool)
    first[1:] = rtk[1:] != rtk[:-1]
    frt = np.full(n, -1, np.int64)
    frt[rtk[first]] = sent[is_reply][first]
    n2 = np.bincount(rtk[second[is_reply]], minlength=n)
    involved = (replies - n2 > 0).astype(np.int64) + (n2 > 0)
    last = np.ones(m, bool)
    last[:-1] = tk[1:] != tk[:-1]
    last_author = np.zeros(n, np.int8)
    last_author[tk[last]] = author[last]

    status = np.where(last_author == 1, 1, 0)                          # pending / open
    status[(~reopened_now) & (rng.random(n) < 0.12)] = 2               # on_hold
    status[reopened_now] = 0
    status = np.where(resolved, np.where(res_t < end - 4 * DAY, 4, 3), status)
    esc = ((cat == COMPLAINT) | (rng.random(n) < 0.03)) & ~excluded
    filed = (cat == COMPLAINT) & (rng.random(n) < 0.65)
    upper = np.where(resolved, res_t, np.minimum(end - 1, created + 3 * DAY))
    esc_at = np.where(filed, created, created + (rng.random(n) * 0.6 * (upper - created)).astype(np.int64))
    agent = np.where(handoff, agent2, agent1)

    tcols = {
        "ticket_id": ctx.ticket_id(gid), "created_at": c_ts(created), "channel": c_cat(CH, ch),
        "category": c_cat(CAT, cat), "priority": c_cat(PRIO, prio),
        "status": c_cat(STATUS, status), "customer_id": ctx.cust_id(cust),
        "customer_tier": c_cat(TIERS, tier), "agent_id": ctx.agent_id(agent),
        "team": c_cat(TEAMS, ctx.agent_team[agent]),
        "first_response_at": c_ts(frt, replies > 0), "resolved_at": c_ts(res_t, resolved),
        "reopen_count": c_val(reopen_count), "agent_replies": c_val(replies),
        "agents_involved": c_val(involved, involved > 0), "fcr_eligible": c_val(fcr_eligible),
        "escalated_at": c_ts(esc_at, esc), "excluded": c_val(excluded)}
    mcols = {
        "message_id": c_id("M", msg_base + 1 + np.arange(m), ctx.w_msg),
        "ticket_id": ctx.ticket_id(a + tk), "sent_at": c_ts(sent),
        "author": c_cat(AUTHORS, author), "agent_id": ctx.agent_id(m_agent, author == 1),
        "public": c_val(kind != K_NOTE)}
    summary = {"created": created, "resolved": np.where(resolved, res_t, -1),
               "cust": cust.astype(np.int32), "agent": agent.astype(np.int32),
               "channel": ch.astype(np.int8), "category": cat.astype(np.int8),
               "reopen": reopen_count.astype(np.int8), "frt": frt,
               "replies": replies.astype(np.int16), "excluded": excluded}
    return tcols, mcols, m, summary
