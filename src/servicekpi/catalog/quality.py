"""Quality and feedback KPIs (tables quality_reviews, feedback)."""
from __future__ import annotations

from servicekpi.catalog.kpi import Calc, Kpi, mean, ratio


def _iqs(ctx, o):
    r = ctx.by_period(ctx.table("quality_reviews"), "reviewed_at")
    weights = ctx.weights("criterion_weights", "k")
    r = r.left_join(weights, r.criterion == weights.k)
    w = r.w.fill_null(1.0)
    per = r.group_by(["period_start", *ctx.dims, "review_id"]).aggregate(
        s=(w * r.score / r.max_score).sum(), ws=w.sum())
    score = 100 * per.s / per.ws
    return ctx.group(per, sum=score.sum(), n=per.count())


KPIS = [
    Kpi("iqs", "quality", "percent", "higher", ("quality_reviews",), "quality_reviews", _iqs, mean("count"),
        "mean over reviews of sum(weight x score / max_score) / sum(weight) x 100", shape="custom",
        attribution="reviewed_at", rows_time="reviewed_at",
        calc=Calc(("total_percent", "reviews"), lambda a: {"sum": a["total_percent"], "n": a["reviews"]})),
    Kpi("feedback_response_rate", "quality", "percent", "higher", ("feedback",), "feedback",
        lambda t, o: {"num": t.count(where=t.replied_at.notnull()), "den": t.count()}, ratio(),
        "feedback with replied_at / feedback received x 100", time="received_at",
        calc=Calc(("replied", "received"), lambda a: {"num": a["replied"], "den": a["received"]})),
]
