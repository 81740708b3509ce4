"""The API's `display` fields: values as people read them, by the one formatter (core/display.py), in the
asked language, beside the raw values (never instead of them). The dashboard shows these strings, so a
value reads the same in the dashboard, the CLI table and the reports (FRT "1 hr 25 min", not seconds)."""
from __future__ import annotations

from servicekpi.core import display
from servicekpi.server.errors import ApiError

LANGS = display.LANGS


def check_lang(lang: str | None) -> str | None:
    if lang is not None and lang not in LANGS:
        raise ApiError(400, f"lang '{lang}' is not one of: {', '.join(LANGS)}")
    return lang


def kpi_row(row: dict, dims: list[str], lang: str, cfg) -> dict:
    """A KPI value row's display: its value in its unit, and its dimension values as labels."""
    out = {"value": display.value(row.get("value"), row.get("unit") or "", lang, cfg.currency)}
    out.update({d: display.label(row.get(d), cfg.labels, lang, d) for d in dims if d in row})
    return out


def leaderboard_row(row: dict, columns: list[dict], lang: str, cfg) -> dict:
    """{column id: {value, team_avg, n}} for one agent, and its team as a label."""
    out: dict = {"team": display.label(row.get("team"), cfg.labels, lang, "team") if row.get("team") else None}
    for c in columns:
        cell = row["values"].get(c["id"]) or {}
        out[c["id"]] = {"value": display.value(cell.get("value"), c["unit"], lang, cfg.currency),
                        "team_avg": display.value(cell.get("team_avg"), c["unit"], lang, cfg.currency),
                        "n": display.value(cell.get("n"), "count", lang)}
    return out


def spike(row: dict, lang: str, cfg) -> dict:
    """A volume spike's counts, and the category or channel it is about as a label."""
    out = {k: display.value(row.get(k), "count", lang) for k in ("volume", "baseline", "threshold")}
    out["label"] = display.label(row.get("value"), cfg.labels, lang, row.get("dim"))
    return out


def record_values(records: list[dict], cfg) -> dict:
    """{column: {id: {lang: label}}} for the label-able columns of records (core/display.LABELLED):
    the drawer shows a category or channel as the charts name it; the records keep their ids."""
    out: dict = {}
    for c in display.LABELLED:
        ids = {r[c] for r in records if c in r and isinstance(r[c], str) and r[c]}
        if ids:
            out[c] = {i: {lang: display.label(i, cfg.labels, lang, c) for lang in LANGS} for i in sorted(ids)}
    return out
