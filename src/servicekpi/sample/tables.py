"""Sample-data generator, the tables around tickets (see :mod:`servicekpi.generate`):
calls and agent sessions (a vectorised Erlang-C queue model per half hour),
surveys, orders, spend, self-service events, feedback, quality reviews and
customer activity."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from servicekpi.sample.common import (
    CH,
    CHUNK_ROWS,
    DAY,
    HOUR,
    Writer,
    add_months,
    c_arrow,
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

INT = 1800                                  # queue planning interval (s)
QUEUES = ["sales", "support", "billing"]
Q_P = np.array([0.25, 0.60, 0.15])
AHT = np.array([330.0, 420.0, 380.0])        # talk + hold per queue (s)
CALL_DOW = np.array([1.3, 1.1, 1.05, 1.0, 0.95, 0.6, 0.0])
MAXWAIT = 900                               # the queue times callers out after 15 min
OUTCOMES = ["answered", "abandoned", "timeout", "exit_empty", "transferred"]
CALL_CH = ["phone", "chat"]


def _chunk():
    return CHUNK_ROWS


# ----------------------------------------------------------------------------- calls
def plan_calls(ctx, calls: int) -> None:
    """Forecast, staffing and Erlang-C waits per half hour and queue; sizes the teams."""
    rng = ctx.rng("calls", 0)
    ni = (ctx.end - ctx.start) // INT
    t0 = ctx.start + np.arange(ni) * INT
    hh = (t0 % DAY) / HOUR
    dow = weekday(t0)
    open_ = ((dow < 5) & (hh >= 8) & (hh < 20)) | ((dow == 5) & (hh >= 9) & (hh < 17))
    shape = np.exp(-((hh - 10.5) / 2.2) ** 2) + 0.85 * np.exp(-((hh - 14.5) / 2.5) ** 2) + 0.15
    frac = (t0 - ctx.start) / (ctx.end - ctx.start)
    wq = (open_ * shape * CALL_DOW[dow] * (1 + 0.3 * frac))[:, None] * Q_P[None, :]
    boost = np.ones_like(wq)
    for cat, a, b in ctx.spikes:
        if cat == "technical":                  # the outage floods the support line
            boost[(t0 >= a) & (t0 < b), 1] = 2.5
    p = wq * boost / (wq * boost).sum()
    A = calls * p * AHT / INT                   # offered load (Erlangs)
    # staffing: per half hour the fewest agents meeting a service-level target (Erlang C,
    # target 70-90 % answered within 60 s, drawn per day and queue) for the forecast, which
    # did not see the outage coming; some days are understaffed (sick leave)
    nd = -(-ni // 48)
    target = np.repeat(rng.uniform(0.7, 0.9, (nd, 3)), 48, axis=0)[:ni]
    sick = np.repeat(rng.random((nd, 3)) < 0.1, 48, axis=0)[:ni]
    base = A / boost
    c = np.zeros(A.shape, np.int64)
    B = np.ones_like(A)
    k = 0
    while (c == 0).any() and k < 100_000:
        k += 1
        B = base * B / (k + base * B)
        cw = np.where(k > base, k * B / np.maximum(k - base * (1 - B), 1e-12), 1.0)
        sl = 1 - cw * np.exp(-(k - base) * 60 / AHT)
        c = np.where((c == 0) & (k > base) & (sl >= target), k, c)
    c = np.where(sick, np.maximum(1, np.floor(c * 0.8)), c)
    c = np.maximum(c, np.maximum(np.roll(c, 1, 0), np.roll(c, -1, 0)))   # shifts, not 30-min hops
    c = np.where(open_[:, None] & (calls > 0), np.maximum(c, 1), 0).astype(np.int64)
    need = c.max(axis=0, initial=0)
    tech = 6 if need[1] <= 15 else int(np.ceil(0.4 * need[1]))
    ctx.team_sizes = [max(5, int(need[0])), max(9, int(need[1]) - tech), tech, max(5, int(need[2]))]
    pool = np.array([ctx.team_sizes[0], ctx.team_sizes[1] + tech, ctx.team_sizes[3]])
    # during the outage everyone available is called in (+80 %, at most the whole pool)
    c = np.where(boost > 1, np.minimum(np.ceil(c * 1.8).astype(np.int64), pool), c)
    B, Bc = np.ones_like(A), np.zeros_like(A)
    for k in range(1, int(c.max(initial=0)) + 1):          # Erlang-B recursion -> Erlang C
        B = A * B / (k + A * B)
        Bc = np.where(c == k, B, Bc)
    under = A < c
    rho = A / np.maximum(c, 1)
    ctx.call_pwait = np.where(under, c * Bc / np.maximum(c - A * (1 - Bc), 1e-9), 1.0)
    # overloaded half hours: the queue builds up, waits grow with the excess load
    ctx.call_mwait = np.where(under, AHT / np.maximum(c - A, 1e-9),
                              AHT / np.maximum(c, 1) * (1 + 10 * (rho - 1)) + 60)
    ctx.call_mwait = np.minimum(ctx.call_mwait, 1200)
    ctx.call_t0, ctx.call_c, ctx.call_p = t0, c, p.ravel()


def _pools(ctx):
    """(first agent, pool size) per queue: sales <- sales, support <- support+technical, billing."""
    f, s = ctx.team_first, ctx.team_size
    return np.array([f[0], f[1], f[3]]), np.array([s[0], s[1] + s[2], s[3]])


def _layer_agent(ctx, it, q, k):
    """Agent staffing layer k (0-based) of queue q in interval it; rotates by day and half-day."""
    first, size = _pools(ctx)
    day = it // 48
    half = (ctx.call_t0[it] % DAY) >= 14 * HOUR
    rot = day * 7 + half * (size[q] // 2 + 1)
    return first[q] + (k + rot) % size[q]


def calls_and_sessions(ctx, w: Writer, calls: int) -> None:
    rng = ctx.rng("calls", 1)
    counts = rng.multinomial(calls, ctx.call_p) if calls else np.zeros(len(ctx.call_p), int)
    cell = np.repeat(np.arange(len(counts)), counts)
    n = len(cell)
    entered = ctx.call_t0[cell // 3] + rng.integers(0, INT, n)
    order = np.argsort(entered, kind="stable")
    entered, cell = entered[order], cell[order]
    it, q = cell // 3, cell % 3
    chat = rng.random(n) < 0.2
    wait = np.where(rng.random(n) < ctx.call_pwait[it, q], rng.exponential(ctx.call_mwait[it, q]), 0)
    wait = (wait + rng.integers(2, 12, n)).astype(np.int64)
    patience = rng.exponential(np.where(chat, 300, 200)) * np.where(rng.random(n) < 0.1, 6, 1)
    patience = 1 + patience.astype(np.int64)
    exit_empty = rng.random(n) < 0.003
    answered = (wait <= patience) & (wait < MAXWAIT) & ~exit_empty
    timeout = ~answered & ~exit_empty & (patience >= MAXWAIT)
    outcome = np.where(answered, 0, 1)
    outcome[timeout], outcome[exit_empty] = 2, 3
    transferred = answered & (rng.random(n) < 0.03)
    outcome[transferred] = 4
    ans_at = entered + wait
    talk = np.clip(lognorm(rng, AHT[q] * 0.8 * np.where(chat, 1.3, 1.0), 0.6, n), 20, 7200)
    talk = np.where(answered, talk, 0).astype(np.int64)
    hold = np.where(answered & (rng.random(n) < 0.18),
                    np.clip(lognorm(rng, 45, 0.8, n), 5, 900), 0).astype(np.int64)
    wrap = np.where(answered, np.clip(lognorm(rng, 40, 0.5, n), 5, 600), 0).astype(np.int64)
    lost_end = np.where(timeout, MAXWAIT, np.where(exit_empty, rng.integers(1, 6, n), patience))
    ended = np.where(answered, ans_at + talk + hold, entered + lost_end)
    u = rng.random(n)
    resolved = (u < 0.74) & ~transferred
    resolved_known = answered & (u < 0.92)
    layer = (rng.random(n) * np.maximum(ctx.call_c[it, q], 1)).astype(np.int64)
    agent = _layer_agent(ctx, it, q, layer) if n else np.zeros(0, np.int64)
    known = rng.random(n) < 0.85
    cust = ctx.customers_at(rng, entered)
    cnt = np.searchsorted(ctx.t_created, entered, side="right")
    linked = answered & known & (rng.random(n) < 0.3) & (cnt > 0)
    tix = np.maximum(cnt - 1 - rng.exponential(30, n).astype(np.int64), 0)
    tix = np.minimum(tix, np.maximum(cnt - 1, 0))
    if len(ctx.t_cust):
        cust = np.where(linked, ctx.t_cust[np.minimum(tix, len(ctx.t_cust) - 1)], cust)
    w.write("calls", {
        "call_id": c_id("C", np.arange(1, n + 1), width(calls, 7)), "entered_at": c_ts(entered),
        "answered_at": c_ts(ans_at, answered), "ended_at": c_ts(ended),
        "outcome": c_cat(OUTCOMES, outcome), "queue": c_cat(QUEUES, q),
        "channel": c_cat(CALL_CH, chat.astype(np.int8)), "customer_id": ctx.cust_id(cust, known),
        "agent_id": ctx.agent_id(agent, answered), "talk_seconds": c_val(talk),
        "hold_seconds": c_val(hold), "wrap_seconds": c_val(wrap),
        "resolved": c_val(resolved, resolved_known), "ticket_id": ctx.ticket_id(tix, linked)},
        n, _chunk())

    _sessions(ctx, w, rng, answered, agent, ans_at, talk + hold + wrap, q)


OCCUPANCY = 0.8  # the share of a phone session spent on calls, before merging sessions (~75-80 % after)
MERGE_GAP = 600  # an agent back on the phone within 10 minutes stays logged in


def _sessions(ctx, w: Writer, rng, answered, agent, ans_at, handle, q) -> None:
    """Agent sessions of blended agents: they log in to the phone queue around the calls they take
    (tickets fill the rest of their day), with idle time around each call so that about 80 % of a
    session is talk, hold and wrap; sessions less than MERGE_GAP apart are one. Before, a session
    per Erlang-C staffing layer kept an agent logged in all day for a few calls: 7-9 % occupancy."""
    idx = np.flatnonzero(answered)
    if not len(idx):
        w.write("agent_sessions", {"agent_id": ctx.agent_id(np.zeros(0, np.int64)), "login_at": c_ts([]),
                                   "logout_at": c_ts([]), "queue": c_cat(QUEUES, np.zeros(0, np.int64))}, 0, _chunk())
        return
    idle = handle[idx] * (1 / OCCUPANCY - 1)
    before = (idle * rng.uniform(0.3, 0.7, len(idx))).astype(np.int64)
    start = ans_at[idx] - before
    end = ans_at[idx] + handle[idx] + (idle.astype(np.int64) - before)
    who, queue = agent[idx], q[idx]
    order = np.lexsort((start, who))
    start, end, who, queue = start[order], end[order], who[order], queue[order]
    logins, logouts, agents, queues = [], [], [], []
    for i in range(len(start)):
        if agents and agents[-1] == who[i] and start[i] <= logouts[-1] + MERGE_GAP:
            logouts[-1] = max(logouts[-1], end[i])
            continue
        logins.append(start[i])
        logouts.append(end[i])
        agents.append(who[i])
        queues.append(queue[i])
    login, logout = np.array(logins, np.int64), np.array(logouts, np.int64)
    sagent, squeue = np.array(agents, np.int64), np.array(queues, np.int64)
    order = np.lexsort((sagent, login))
    w.write("agent_sessions", {
        "agent_id": ctx.agent_id(sagent[order]), "login_at": c_ts(login[order]),
        "logout_at": c_ts(logout[order]), "queue": c_cat(QUEUES, squeue[order])}, len(login), _chunk())


# ----------------------------------------------------------------------------- surveys
COMMENTS = {
    "positive": ["Quick and friendly, thank you!", "Solved my problem on the first try.",
                 "Great support, very patient and clear.", "Fast answer, exactly what I needed.",
                 "The agent went above and beyond.", "Helpful and polite, thanks a lot.",
                 "Easy to reach and sorted it out in minutes.", "Very knowledgeable agent.",
                 "Love the service, keep it up!", "Refund came through quickly, thanks."],
    "neutral": ["It was ok.", "Fine, but it took a while.", "Answer was correct but generic.",
                "Got there in the end.", "Average experience.", "Not bad, not great."],
    "negative": ["Took days to get a reply.", "I had to explain my problem three times.",
                 "Still not fixed.", "The agent did not understand my issue.",
                 "Too slow, I was waiting forever.", "Unhelpful canned responses.",
                 "I was transferred between teams with no answer.",
                 "Nobody followed up as promised.", "Very frustrating experience.",
                 "My return is still not processed."]}
_SENT = ["negative", "neutral", "positive"]
_COMMENT_LIST = [c for s in _SENT for c in COMMENTS[s]]
_COMMENT_OFF = np.cumsum([0] + [len(COMMENTS[s]) for s in _SENT])


def _comment(rng, sentiment):
    n = len(sentiment)
    size = np.diff(_COMMENT_OFF)[sentiment]
    return _COMMENT_OFF[sentiment] + (rng.random(n) * size).astype(np.int64)


def surveys(ctx, w: Writer, n: int) -> None:
    rng = ctx.rng("surveys")
    res = ctx.t_resolved
    ok = np.flatnonzero((res >= 0) & ~ctx.t_excluded & (res < ctx.end - HOUR))
    n_link = int(round(n * 0.9)) if len(ok) else 0
    n_rel = n - n_link
    tix = np.sort(rng.choice(ok, n_link, replace=n_link > len(ok))) if n_link else ok[:0]
    r = res[tix]
    gap = rng.exponential(20 * HOUR, n_link).astype(np.int64) + 60
    resp = np.where(r + gap < ctx.end, r + gap, r + 1 + (rng.random(n_link) * (ctx.end - r - 2)).astype(np.int64))
    agent, cat = ctx.t_agent[tix], ctx.t_category[tix]
    frt = ctx.t_frt[tix]
    z = (0.6 + ctx.agent_quality[agent] - 1.0 * (cat == 6) - 0.4 * (cat == 2)
         - 0.8 * (ctx.t_reopen[tix] > 0) - 0.5 * (frt - ctx.t_created[tix] > DAY)
         - 0.3 * (frt < 0) + 0.3 * (ctx.t_replies[tix] == 1) + rng.standard_normal(n_link))
    kind = pick(rng, [0.65, 0.15, 0.20], n_link)                      # csat, nps, ces
    # relationship NPS, not linked to a ticket
    kind = np.r_[kind, np.ones(n_rel, np.int16)]
    z = np.r_[z, 0.4 + rng.standard_normal(n_rel)]
    resp = np.r_[resp, ctx.start + (rng.random(n_rel) * (ctx.end - ctx.start)).astype(np.int64)]
    linked = np.r_[np.ones(n_link, bool), np.zeros(n_rel, bool)]
    tix = np.r_[tix, np.zeros(n_rel, np.int64)]
    cust = np.where(linked, ctx.t_cust[tix] if len(ctx.t_cust) else 0,
                    ctx.customers_at(rng, resp))
    thumbs = (kind == 0) & (rng.random(n) < 0.12)
    lo = np.select([thumbs, kind == 0, kind == 1], [0, 1, 0], 1)
    hi = np.select([thumbs, kind == 0, kind == 1], [1, 5, 10], 7)
    score = np.select(
        [thumbs, kind == 0, kind == 1],
        [(z > -0.1).astype(np.int64), 1 + (z[:, None] > np.array([-1.3, -0.5, 0.2, 0.9])).sum(1),
         np.clip(np.round(7.2 + 1.8 * z), 0, 10)], np.clip(np.round(5.0 + 1.2 * z), 1, 7)).astype(np.int64)
    s = (score - lo) / (hi - lo)
    sentiment = np.where(s >= 0.75, 2, np.where(s <= 0.4, 0, 1))
    has_comment = rng.random(n) < np.where(sentiment == 0, 0.45, 0.25)
    order = np.argsort(resp, kind="stable")
    has_agent = linked & (rng.random(n) < 0.75)
    has_channel = linked & (rng.random(n) < 0.75)
    comment = _comment(rng, sentiment)
    ag = ctx.t_agent[tix] if len(ctx.t_agent) else np.zeros(n, np.int64)
    ch = ctx.t_channel[tix] if len(ctx.t_channel) else np.zeros(n, np.int64)
    o = order
    w.write("surveys", {
        "response_id": c_id("S", np.arange(1, n + 1), width(n, 7)),
        "survey": c_cat(["csat", "nps", "ces"], kind[o]), "score": c_val(score[o]),
        "scale_min": c_val(lo[o].astype(np.int64)), "scale_max": c_val(hi[o].astype(np.int64)),
        "responded_at": c_ts(resp[o]), "ticket_id": ctx.ticket_id(tix[o], linked[o]),
        "customer_id": ctx.cust_id(cust[o], (~linked | (rng.random(n) < 0.95))[o]),
        "agent_id": ctx.agent_id(ag[o], has_agent[o]), "channel": c_cat(CH, ch[o], has_channel[o]),
        "comment": c_cat(_COMMENT_LIST, comment[o], has_comment[o])}, n, _chunk())


# ----------------------------------------------------------------------------- orders, spend
def orders_and_spend(ctx, w: Writer) -> None:
    rng = ctx.rng("orders")
    a = np.maximum(ctx.cust_acq, ctx.start)
    b = np.minimum(ctx.cust_churn, ctx.end)
    months = np.maximum(b - a, 0) / (30 * DAY)
    tier = ctx.cust_tier
    lam = rng.gamma(0.6, 0.5, len(a)) * np.array([1.5, 1.0, 0.8])[tier]
    k = rng.poisson(lam * months)
    cust = np.repeat(np.arange(len(a)), k)
    t = a[cust] + (rng.random(len(cust)) * (b - a)[cust]).astype(np.int64)
    order = np.argsort(t, kind="stable")
    cust, t = cust[order], t[order]
    n = len(t)
    amount = np.round(lognorm(rng, np.array([1200.0, 180.0, 45.0])[tier[cust]], 0.7, n), 2)
    margin = np.round(np.clip(rng.normal(0.35, 0.1, n), 0.05, 0.8), 3)
    w.write("orders", {
        "order_id": c_id("O", np.arange(1, n + 1), width(n, 7)), "customer_id": ctx.cust_id(cust),
        "ordered_at": c_ts(t), "amount": c_val(amount),
        "gross_margin": c_val(margin, rng.random(n) >= 0.12)}, n, _chunk())

    rng = ctx.rng("spend")
    import datetime as dt
    d = dt.date(1970, 1, 1) + dt.timedelta(days=ctx.start // DAY)
    end_d = dt.date(1970, 1, 1) + dt.timedelta(days=ctx.end // DAY)
    starts, ends, amount, kind = [], [], [], []
    while d < end_d:
        nxt = min(add_months(d.replace(day=1), 1), end_d)
        acq = ctx.cust_acq
        sel = (acq >= epoch(d)) & (acq < epoch(nxt))
        new, big = int(sel.sum()), int((sel & (tier < 2)).sum())
        for kd, amt in ((0, new * rng.uniform(35, 55) + 2000), (1, big * rng.uniform(120, 180) + 5000)):
            starts.append((d - dt.date(1970, 1, 1)).days)
            ends.append((nxt - dt.date(1970, 1, 1)).days - 1)
            amount.append(round(float(amt), 2))
            kind.append(kd)
        d = nxt
    m = len(starts)
    w.write("spend", {"period_start": c_arrow(pa.array(starts, pa.int32()).cast(pa.date32())),
                      "period_end": c_arrow(pa.array(ends, pa.int32()).cast(pa.date32())),
                      "amount": c_val(np.array(amount, float)),
                      "kind": c_cat(["marketing", "sales"], np.array(kind))}, m)


# ----------------------------------------------------------------------------- self-service, feedback
SS_KINDS = ["kb_view", "article_helpful", "article_not_helpful", "bot_resolved", "ivr_resolved",
            "bot_escalated"]
SS_CH = ["web", "app", "chat", "phone"]
SS_CH_BY_KIND = [[.8, .2, 0, 0], [.8, .2, 0, 0], [.8, .2, 0, 0], [.2, .1, .7, 0], [0, 0, 0, 1],
                 [.2, .1, .7, 0]]


def _times(ctx, rng, n):
    """n sorted instants following the tickets' hourly profile."""
    hw = ctx.hour_weight
    hb = np.repeat(np.arange(len(hw)), rng.multinomial(n, hw / hw.sum()))
    return np.sort(ctx.start + hb * HOUR + rng.integers(0, HOUR, n))


def self_service(ctx, w: Writer, tickets: int) -> None:
    rng = ctx.rng("self_service")
    n = tickets
    t = _times(ctx, rng, n)
    kind = pick(rng, [.55, .10, .04, .17, .06, .08], n)
    known = rng.random(n) < 0.55
    w.write("self_service", {
        "event_id": c_id("E", np.arange(1, n + 1), width(n, 7)), "occurred_at": c_ts(t),
        "kind": c_cat(SS_KINDS, kind), "customer_id": ctx.cust_id(ctx.customers_at(rng, t), known),
        "channel": c_cat(SS_CH, pick_rows(rng, SS_CH_BY_KIND, kind))}, n, _chunk())


SOURCES = ["app_store", "google_play", "twitter", "g2", "trustpilot", "email", "facebook"]
SOURCE_REPLY = np.array([0.45, 0.4, 0.8, 0.6, 0.5, 0.9, 0.7])
FEEDBACK = {
    "negative": ["App keeps crashing since the last update.", "Worst support ever, no answer for a week.",
                 "Delivery was late and nobody told me.", "Charged twice and still waiting for a refund.",
                 "The new pricing is a joke.", "Cancelled my subscription, too many bugs.",
                 "Item arrived damaged, return process is a nightmare."],
    "neutral": ["Does anyone know if the export works with Excel?", "Decent product, support is ok.",
                "Would like a dark mode.", "Switched plans, we will see how it goes.",
                "Shipping options could be clearer."],
    "positive": ["Support fixed my issue in minutes, amazing!", "Best customer service I have used.",
                 "Great product, easy to set up.", "Fast delivery and friendly team.",
                 "Five stars, the chat support is super helpful.",
                 "Love the new features, keep going!"]}
_FB_LIST = [x for s in _SENT for x in FEEDBACK[s]]
_FB_OFF = np.cumsum([0] + [len(FEEDBACK[s]) for s in _SENT])


def feedback(ctx, w: Writer, tickets: int) -> None:
    rng = ctx.rng("feedback")
    n = max(20, tickets // 25)
    t = _times(ctx, rng, n)
    src = pick(rng, [.2, .15, .2, .1, .1, .15, .1], n)
    sent = pick(rng, [.4, .2, .4], n)
    text = _FB_OFF[sent] + (rng.random(n) * np.diff(_FB_OFF)[sent]).astype(np.int64)
    replied = t + 60 + lognorm(rng, 5 * HOUR, 1.2, n).astype(np.int64)
    has_reply = (rng.random(n) < SOURCE_REPLY[src]) & (replied < ctx.end)
    known = rng.random(n) < 0.45
    w.write("feedback", {
        "feedback_id": c_id("F", np.arange(1, n + 1), width(n, 6)), "received_at": c_ts(t),
        "source": c_cat(SOURCES, src), "text": c_cat(_FB_LIST, text),
        "customer_id": ctx.cust_id(ctx.customers_at(rng, t), known),
        "replied_at": c_ts(replied, has_reply)}, n, _chunk())


# ----------------------------------------------------------------------------- quality, activity
CRITERIA = ["greeting", "accuracy", "empathy", "resolution"]
CRIT_MAX = np.array([4, 5, 5, 5])


def quality_reviews(ctx, w: Writer) -> None:
    rng = ctx.rng("quality_reviews")
    res = ctx.t_resolved
    ok = np.flatnonzero((res >= 0) & ~ctx.t_excluded & (res < ctx.end - DAY))
    nr = min(len(ok), max(10, int(0.03 * len(ok))))
    tix = rng.choice(ok, nr, replace=False) if nr else ok[:0]
    r = res[tix]
    at = r + HOUR * 6 + (rng.random(nr) * np.minimum(7 * DAY, ctx.end - r - HOUR * 6 - 1)).astype(np.int64)
    o = np.argsort(at, kind="stable")
    tix, at = tix[o], at[o]
    agent = ctx.t_agent[tix]
    p = np.clip(0.78 + 0.12 * ctx.agent_quality[agent] + rng.normal(0, 0.08, nr), 0.2, 0.99)
    k = len(CRITERIA)
    rid = np.repeat(np.arange(1, nr + 1), k)
    crit = np.tile(np.arange(k), nr)
    mx = CRIT_MAX[crit]
    score = rng.binomial(mx, np.repeat(p, k))
    w.write("quality_reviews", {
        "review_id": c_id("Q", rid, width(nr, 6)), "ticket_id": ctx.ticket_id(np.repeat(tix, k)),
        "agent_id": ctx.agent_id(np.repeat(agent, k)), "reviewed_at": c_ts(np.repeat(at, k)),
        "criterion": c_cat(CRITERIA, crit), "score": c_val(score.astype(np.int64)),
        "max_score": c_val(mx.astype(np.int64))}, nr * k, _chunk())


ACT_KINDS = ["login", "feature_use", "api_call", "report_export"]


def activity(ctx, w: Writer, tickets: int) -> None:
    """Daily aggregates: one row per customer, day and kind (so the key is unique)."""
    rng = ctx.rng("activity")
    n = int(tickets * 1.5)
    t = _times(ctx, rng, n)
    cust = ctx.customers_at(rng, t)
    kind = pick(rng, [.5, .3, .12, .08], n)
    alive = ctx.cust_churn[cust] > t
    day = (t - ctx.start) // DAY
    key = (cust * (day.max(initial=0) + 1) + day) * len(ACT_KINDS) + kind
    key = np.where(alive, key, -1)
    _, first = np.unique(key, return_index=True)
    first = first[key[first] >= 0]
    t, cust, kind = t[first], cust[first], kind[first]
    m = len(t)
    value = np.select([kind == 0, kind == 1, kind == 2],
                      [1 + rng.poisson(1.5, m), 1 + rng.poisson(6, m),
                       1 + lognorm(rng, 80, 1.0, m).astype(np.int64)], 1 + rng.poisson(0.5, m))
    w.write("activity", {"customer_id": ctx.cust_id(cust), "occurred_at": c_ts(t),
                         "kind": c_cat(ACT_KINDS, kind), "value": c_val(value.astype(np.int64))},
            m, _chunk())
