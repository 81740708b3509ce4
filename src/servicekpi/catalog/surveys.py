"""Survey KPIs (table surveys; attribution responded_at)."""
from __future__ import annotations

from servicekpi.catalog.kpi import Calc, Kpi, Option, Result, _num, mean, ratio, with_note
from servicekpi.core.lazy import lazy

ibis = lazy("ibis")


def of(t, kind):
    return t.survey == kind


def satisfied(t, o):
    """4-5 of 1-5, 9-10 of 1-10; the top score on scales under 5 points (thumbs up of 0-1)."""
    if o.get("satisfied_from") is not None:
        return t.score >= o["satisfied_from"]
    points = t.scale_max - t.scale_min + 1
    return t.score >= ibis.ifelse(points >= 5, t.scale_max - 1, t.scale_max)


def _csat_mean(t, o):
    lo, hi = o["_csat_scale"]
    on = of(t, "csat") & (t.scale_min == lo) & (t.scale_max == hi)
    return {"sum": t.score.sum(where=on), "n": t.count(where=on), "other": t.count(where=of(t, "csat") & ~on)}


def _nps(m, o, period=None):
    p, d, n = (_num(m.get(k)) or 0.0 for k in ("promoters", "detractors", "answers"))
    return Result(100 * (p - d) / n if n else None, p - d, n)


def survey(id, unit, direction, measures, finish, formula, kind, **kw):
    return Kpi(id, "surveys", unit, direction, ("surveys",), "surveys", measures, finish, formula,
               time="responded_at", population=lambda t, o: of(t, kind),
               prefilter=lambda t, o: of(t, kind), **kw)


KPIS = [
    survey("csat", "percent", "higher",
           lambda t, o: {"num": t.count(where=of(t, "csat") & satisfied(t, o)), "den": t.count(where=of(t, "csat"))},
           ratio(), "satisfied answers / CSAT answers x 100", "csat",
           options=(Option("satisfied_from", None, type=float, help="lowest satisfied score (overrides the scale rule)"),),
           calc=Calc(("satisfied", "total"), lambda a: {"num": a["satisfied"], "den": a["total"]})),
    survey("csat_mean", "score", "higher", _csat_mean,
           with_note(mean("score"), "other", "CSAT answers on another scale left out"),
           "mean CSAT score over answers on the workspace CSAT scale", "csat",
           calc=Calc(("total_score", "answers"), lambda a: {"sum": a["total_score"], "n": a["answers"]})),
    survey("nps", "points", "higher",
           lambda t, o: {"promoters": t.count(where=of(t, "nps") & (t.score >= 9)),
                         "detractors": t.count(where=of(t, "nps") & (t.score <= 6)),
                         "answers": t.count(where=of(t, "nps"))},
           _nps, "(promoters 9-10 - detractors 0-6) / NPS answers x 100", "nps",
           calc=Calc(("promoters", "passives", "detractors"),
                     lambda a: {"promoters": a["promoters"], "detractors": a["detractors"],
                                "answers": a["promoters"] + a["passives"] + a["detractors"]})),
    survey("ces", "score", "higher",
           lambda t, o: {"sum": t.score.sum(where=of(t, "ces")), "n": t.count(where=of(t, "ces"))},
           mean("score"), "mean CES score (7 = easiest on the default 1-7 scale)", "ces",
           calc=Calc(("total_score", "answers"), lambda a: {"sum": a["total_score"], "n": a["answers"]})),
    survey("ces_agree", "percent", "higher",
           lambda t, o: {"num": t.count(where=of(t, "ces") & (t.score >= t.scale_max - 1)),
                         "den": t.count(where=of(t, "ces"))},
           ratio(), "CES answers at the top two points of the scale / CES answers x 100", "ces",
           calc=Calc(("agree", "answers"), lambda a: {"num": a["agree"], "den": a["answers"]})),
]
