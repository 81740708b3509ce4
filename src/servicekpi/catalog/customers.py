"""Customer and revenue KPIs (tables customers, orders, spend, activity).

S = active at period start, E = active at period end, N = acquired in the period,
L = active at start and churned in the period.
"""
from __future__ import annotations

from servicekpi.catalog.kpi import Calc, Kpi, Option, Result, _num, count, mean, ratio
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")


def active_at(t, instant):
    return (t.acquired_at < instant) & (t.churned_at.isnull() | (t.churned_at >= instant))


def _sen(ctx, o):
    c = ctx.cross(ctx.table("customers"))
    new = (c.acquired_at >= c.lo) & (c.acquired_at < c.hi)
    return ctx.group(
        c, S=c.count(where=active_at(c, c.lo)), E=c.count(where=active_at(c, c.hi)), N=c.count(where=new),
        L=c.count(where=active_at(c, c.lo) & (c.churned_at < c.hi)),
        R=c.count(where=new & c.referred_by.notnull()))


def _crr(m, o, period=None):
    s, e, n = (_num(m.get(k)) or 0.0 for k in "SEN")
    num = e if o["method"] == "simple" else e - n
    return Result(100 * num / s if s else None, num, s)


def _spend_rows(ctx):
    """Spend rows with their dates renamed apart from the periods' period_start."""
    return ctx.table("spend").rename(spend_start="period_start", spend_end="period_end")


def _spend(ctx, since: str = "lo_date", name: str = "spend"):
    """Spend from `since` to each period end, spread evenly over its days when cut."""
    s = ctx.cross(_spend_rows(ctx))
    after_end = s.spend_end + ibis.interval(days=1)
    start = ibis.greatest(s.spend_start, s[since])
    end = ibis.least(after_end, s.hi_date)
    overlap = ibis.greatest(end.delta(start, unit="day"), 0)
    total = after_end.delta(s.spend_start, unit="day")
    return ctx.group(s, **{name: (s.amount * overlap / total).sum()})


def _cac(ctx, o):
    return ctx.merge(_spend(ctx), ctx.group(_new(ctx), N=_new(ctx).count()))


def _new(ctx):
    c = ctx.table("customers")
    return ctx.by_period(c, "acquired_at")


def _repurchase(ctx, o):
    orders = ctx.table("orders")
    first = orders.group_by("customer_id").aggregate(first_at=orders.ordered_at.min())
    j = ctx.by_period(orders, "ordered_at")
    j = j.join(first, "customer_id")
    per = j.group_by(["period_start", *ctx.dims, "customer_id"]).aggregate(
        last=j.ordered_at.max(), first_at=j.first_at.max(), lo=j.lo.max())
    again = per.first_at < per.lo if o["prior"] == "before_period" else per.last > per.first_at
    return ctx.group(per, num=per.count(where=again), den=per.count())


# -- CLV: four models from the literature, shared by `kpi` and `calc` --------------------------
def clv_simple(order_value, orders_per_year, lifespan_years):
    return order_value * orders_per_year * lifespan_years


def clv_cac_adjusted(annual_revenue, lifespan_years, cac):
    return annual_revenue * lifespan_years - cac


def clv_historical(margin_total, customers):
    return margin_total / customers if customers else None


def clv_predictive(monthly_orders, order_value, lifespan_months):
    return monthly_orders * order_value * lifespan_months


CLV_MODELS = {
    "simple": (clv_simple, ("order_value", "orders_per_year", "lifespan_years")),
    "cac_adjusted": (clv_cac_adjusted, ("annual_revenue", "lifespan_years", "cac")),
    "historical": (clv_historical, ("margin_total", "customers")),
    "predictive": (clv_predictive, ("monthly_orders", "order_value", "lifespan_months")),
}


def _clv_rows(ctx, o):
    """The orders CLV averages: those of the 12 months ending at each period end."""
    orders = ctx.cross(ctx.table("orders"))
    orders = orders.filter((orders.ordered_at >= orders.lo12) & (orders.ordered_at < orders.hi))
    return orders.drop(*[c for c in ("lo", "hi", "lo12", "lo_date", "hi_date", "lo12_date") if c in orders.columns])


def _clv_data(ctx, o):
    orders = ctx.cross(ctx.table("orders"))
    orders = orders.filter((orders.ordered_at >= orders.lo12) & (orders.ordered_at < orders.hi))
    has_margin = orders.gross_margin.notnull()
    o_agg = ctx.group(orders, revenue=orders.amount.sum(), n_orders=orders.count(),
                      buyers=orders.customer_id.nunique(),
                      margin_total=(orders.amount * orders.gross_margin).sum(where=has_margin),
                      no_margin=orders.count(where=~has_margin))
    c = ctx.cross(ctx.table("customers"))
    c_agg = ctx.group(c, S12=c.count(where=active_at(c, c.lo12)),
                      L12=c.count(where=active_at(c, c.lo12) & (c.churned_at < c.hi)),
                      N12=c.count(where=(c.acquired_at >= c.lo12) & (c.acquired_at < c.hi)))
    s_agg = _spend(ctx, since="lo12_date", name="spend12")
    return ctx.merge(ctx.merge(o_agg, c_agg), s_agg)


def clv_inputs(m: dict, o: dict) -> dict:
    """The models' inputs from rolling-12-month measures (or as given to `calc`)."""
    if "revenue" not in m:
        return m
    revenue, n_orders, buyers = (_num(m.get(k)) or 0.0 for k in ("revenue", "n_orders", "buyers"))
    s12, l12, n12, spend12 = (_num(m.get(k)) or 0.0 for k in ("S12", "L12", "N12", "spend12"))
    life = o.get("lifespan_years")
    if life is None:
        churn = l12 / s12 if s12 else 0.0
        life = 1 / churn if churn else None  # zero churn: no finite lifespan
    aov = revenue / n_orders if n_orders else None
    per_year = n_orders / buyers if buyers else None
    return {
        "order_value": aov, "orders_per_year": per_year, "lifespan_years": life,
        "annual_revenue": revenue / buyers if buyers else None,
        "cac": spend12 / n12 if n12 else None,
        "margin_total": _num(m.get("margin_total")) or 0.0, "customers": buyers,
        "monthly_orders": per_year / 12 if per_year is not None else None,
        "lifespan_months": life * 12 if life is not None else None,
    }


def _clv(m, o, period=None):
    fn, names = CLV_MODELS[o["model"]]
    inputs = clv_inputs(m, o)
    args = [inputs.get(n) for n in names]
    value = None if any(a is None for a in args) else fn(*args)
    r = Result(value)
    if o["model"] == "historical":
        r.numerator, r.denominator = inputs.get("margin_total"), inputs.get("customers")
        if _num(m.get("no_margin")):
            r.note = f"{int(m['no_margin'])} orders without gross_margin left out"
    return r


def _engagement(ctx, o):
    c = ctx.cross(ctx.table("customers"))
    c = c.filter((c.acquired_at < c.hi) & (c.churned_at.isnull() | (c.churned_at >= c.lo)))
    a = ctx.by_period(ctx.sources.base("activity"), "occurred_at")
    a = a.group_by(["period_start", "customer_id", "kind"]).aggregate(v=a.value.fill_null(1).sum())
    kinds = a.select(k=a.kind).distinct()
    grid = c.select("period_start", "customer_id", *ctx.dims).cross_join(kinds)
    g = grid.left_join(a, [grid.period_start == a.period_start, grid.customer_id == a.customer_id,
                           grid.k == a.kind])
    g = g.select("period_start", "customer_id", *ctx.dims, "k", v=g.v.fill_null(0))
    p90 = g.group_by(["period_start", "k"]).aggregate(p90=g.v.quantile(0.9))
    w = ctx.weights("activity_weights", "k")
    g = g.join(p90, ["period_start", "k"]).left_join(w, "k")
    share = ibis.ifelse(g.p90 > 0, ibis.least(g.v / g.p90, 1), ibis.ifelse(g.v > 0, 1, 0))
    weight = g.w.fill_null(1.0)
    per = g.group_by(["period_start", *ctx.dims, "customer_id"]).aggregate(
        s=(weight * share).sum(), ws=weight.sum())
    score = 100 * per.s / per.ws
    return ctx.group(per, sum=score.sum(), n=per.count())


def customer(id, unit, direction, measures, finish, formula, tables=("customers",), **kw):
    return Kpi(id, "customers", unit, direction, tables, "customers", measures, finish, formula,
               shape="custom", **kw)


KPIS = [
    customer("crr", "percent", "higher", _sen, _crr, "(E - N) / S x 100", attribution="state at period bounds",
             options=(Option("method", "standard", ("standard", "simple"), help="simple: E / S x 100"),),
             rows_time="acquired_at",
             calc=Calc(("start", "end", "new"), lambda a: {"S": a["start"], "E": a["end"], "N": a["new"]})),
    customer("churn_rate", "percent", "lower", _sen, ratio(num="L", den="S"), "L / S x 100",
             attribution="state at period bounds", rows_time="churned_at",
             calc=Calc(("lost", "start"), lambda a: {"L": a["lost"], "S": a["start"]})),
    customer("new_customers", "count", "higher", _sen, count("N"), "N, customers acquired in the period",
             attribution="acquired_at", rows_time="acquired_at",
             calc=Calc(("new",), lambda a: {"N": a["new"]})),
    customer("referral_rate", "percent", "higher", _sen, ratio(num="R", den="N"),
             "customers acquired in the period with referred_by / N x 100", attribution="acquired_at",
             rows_time="acquired_at",
             calc=Calc(("referred", "new"), lambda a: {"R": a["referred"], "N": a["new"]})),
    customer("cac", "currency", "lower", _cac, ratio(1, num="spend", den="N"),
             "sales and marketing spend in the period / N", tables=("customers", "spend"),
             attribution="spend days / acquired_at", allowed_dims=(), rows_time="acquired_at",
             calc=Calc(("spend", "new"), lambda a: {"spend": a["spend"], "N": a["new"]})),
    Kpi("repurchase_rate", "customers", "percent", "higher", ("orders",), "orders", _repurchase, ratio(),
        "customers with a repeat order in the period / customers with an order in the period x 100",
        shape="custom", attribution="ordered_at", rows_time="ordered_at",
        options=(Option("prior", "any", ("any", "before_period"),
                        help="before_period: only orders before the period start make a repeat"),),
        calc=Calc(("repeat_customers", "customers"), lambda a: {"num": a["repeat_customers"], "den": a["customers"]})),
    customer("clv", "currency", "higher", _clv_data, _clv,
             "simple: average order value x orders per customer per year x lifespan years (rolling 12 months)",
             tables=("orders", "customers"), attribution="12 months ending at the period end",
             allowed_dims=(), rows_time="ordered_at", rows=_clv_rows,
             options=(Option("model", "simple", tuple(CLV_MODELS), help="simple, cac_adjusted, historical, predictive"),
                      Option("lifespan_years", None, type=float, help="else 1 / annual churn rate")),
             calc=Calc(tuple(sorted({a for _, names in CLV_MODELS.values() for a in names})), dict)),
    customer("engagement_score", "score", "higher", _engagement, mean("score"),
             "mean over active customers of 100 x weighted share of each activity kind's 90th percentile",
             tables=("customers", "activity"), attribution="occurred_at", rows_time="acquired_at",
             calc=Calc(("total_score", "customers"), lambda a: {"sum": a["total_score"], "n": a["customers"]})),
]
