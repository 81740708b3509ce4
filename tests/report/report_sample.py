"""A hand-built Report (no engine) shared by the HTML and PDF tests.

Twelve months Nov 2025 - Oct 2026. Known values so the rendered text can be asserted:
CSAT 72.3 % in Oct 2026 (target 75, at risk), Sep 2026 CSAT None (no data), NPS 40,
FCR 80, AHT 600 s, a returns spike in Jul 2026 and a category name that needs escaping.
"""
from __future__ import annotations

import datetime as dt

from servicekpi.catalog import catalog, text
from servicekpi.report.document import Period, Report, Series, Spike, Volume
from servicekpi.report.i18n import period_label

MONTHS = [dt.date(2025, 11, 1), dt.date(2025, 12, 1)] + [dt.date(2026, m, 1) for m in range(1, 11)]
HOSTILE = '<script>alert("x")</script> & co'


def _end(start: dt.date) -> dt.date:
    nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


GROUP = {"surveys": "customer", "customers": "customer"}  # others: process (aht: people)


def series(kid: str, lang: str, values, target=None, status=None) -> Series:
    k = catalog().kpis[kid]
    group = "people" if kid == "aht" else GROUP.get(k.family, "process")
    return Series(kpi=kid, family=k.family, group=group, unit=k.unit, direction=k.direction,
                  label=text("kpi", kid, "label", lang), definition=text("kpi", kid, "definition", lang),
                  formula=text("kpi", kid, "formula", lang), values=list(values),
                  numerators=[None] * len(values), denominators=[None] * len(values), target=target,
                  status=list(status or []))


def sample_report(lang: str = "en") -> Report:
    periods = [Period(m, _end(m), period_label(m, "month", lang)) for m in MONTHS]
    n = len(periods)
    csat = [70.0, 71.5, 69.0, 73.25, 74.0, 72.0, 71.0, 70.5, 73.0, 74.5, None, 72.3]
    csat_status = ["at_risk" if v is not None and v < 75 else "no_data" for v in csat]
    s = [
        series("csat", lang, csat, target=75.0, status=csat_status),
        series("nps", lang, [31, 33, 35, 34, 36, 38, 37, 39, 40, 41, 42, 40.0]),
        series("ces", lang, [None] * n),  # no survey data at all: "no data" everywhere, never 0
        series("fcr_rate", lang, [76, 77, 78, 77, 79, 80, 81, 79, 78, 80, 79, 80.0], target=75.0,
               status=["met"] * n),
        series("first_response_time", lang, [95, 90, 88, 92, 85, 80, 78, 83, 79, 76, 74, 72.5], target=60.0,
               status=["missed"] * n),
        series("backlog", lang, [120, 118, 130, 125, 140, 150, 145, 160, 170, 165, 158, 1234]),
        series("ticket_volume", lang, [400, 410, 420, 415, 430, 440, 450, 700, 460, 470, 480, 490]),
        series("aht", lang, [640, 630, 620, 615, 610, 605, 600, 598, 602, 600, 601, 600.0]),
    ]
    cats = {
        "return": [40, 42, 41, 43, 40, 44, 42, 45, 160, 44, 43, 41],
        "technical": [120, 118, 125, 122, 130, 128, 126, 131, 129, 133, 135, 138],
        "shipping": [80, 82, 79, 84, 83, 85, 86, 88, 87, 90, 91, 92],
        HOSTILE: [0, 0, 0, 0, 0, 0, 1, 1, 2, 1, 0, 3],
    }
    spike = Spike(dim="category", value="return", period=8, volume=160, baseline=43.0, threshold=49.0,
                  size=160 / 43)
    channels = {"email": [150] * n, "chat": [100] * n, "phone": [50] * n, "sms": [0] * (n - 1) + [25]}
    return Report(
        lang=lang, tz="Europe/Bucharest", asof=dt.datetime(2026, 11, 2, 8, 30), by="month",
        periods=periods, series=s,
        volume=[Volume("category", cats, [spike]), Volume("channel", channels)],
        reach={"tickets": dt.datetime(2026, 10, 31, 23, 58), "calls": dt.datetime(2026, 10, 31, 22, 14),
               "surveys": None},
        by_channel={"email": [series("csat", lang, [None] * (n - 1) + [81.0])],
                    "phone": [series("csat", lang, [None] * (n - 1) + [64.5])]},
        by_agent={"Team A": [series("aht", lang, [None] * (n - 1) + [590.0])]},
        sla=[series("sla_first_response_met", lang, [90.0] * (n - 1) + [88.8])],
        notes=["fcr_rate: 12 tickets with unknown agent_replies left out"],
    )
