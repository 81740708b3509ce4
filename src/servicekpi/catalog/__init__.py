"""The KPI catalog: every definition once, as data, with its texts in four languages."""
from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from servicekpi.catalog import calls, customers, quality, sentiment, sla, surveys, tickets
from servicekpi.catalog.kpi import Catalog

LANGS = ("en", "zh", "ro", "th")


@cache
def catalog() -> Catalog:
    cat = Catalog()
    for family in (tickets, calls, surveys, customers, quality, sla, sentiment):
        cat.add(*family.KPIS)
    return cat


@cache
def texts() -> dict:
    return tomllib.loads((Path(__file__).parent / "texts.toml").read_text(encoding="utf-8"))


def text(kind: str, key: str, field: str = "label", lang: str = "en") -> str:
    """A label/definition/formula of a kpi, unit, direction or family in a language."""
    entry = texts().get(kind, {}).get(key, {}).get(field, {})
    return entry.get(lang) or entry.get("en") or key


# the short names people type; ids are also matched case-insensitively (CSAT -> csat)
ALIASES = {
    "frt": "first_response_time", "art": "avg_response_time", "avg_resolution": "avg_resolution_time",
    "resolution_time": "avg_resolution_time", "fcr": "fcr_rate", "asa": "avg_wait_time",
    "wait_time": "avg_wait_time", "handle_time": "aht", "abandonment": "abandonment_rate",
    "service_level": "call_service_level", "volume": "ticket_volume", "retention": "crr",
    "retention_rate": "crr", "churn": "churn_rate", "qa": "iqs", "quality_score": "iqs",
}


def resolve_id(name: str, ids) -> str:
    """A KPI id as typed -> the catalog id (case-insensitive, aliases); unknown names come back as typed."""
    if name in ids:
        return name
    low = name.strip().lower()
    if low in ids:
        return low
    return ALIASES.get(low, name)


def column_label(column: str, lang: str = "en") -> str:
    """A column of the records behind a KPI as people read it ("first_response_at" -> "First response"),
    from [column.*] in texts.toml; a column it does not name is shown with _ as spaces, first letter up."""
    entry = texts().get("column", {}).get(column)
    if entry:
        return entry["label"].get(lang) or entry["label"]["en"]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def column_labels(columns, lang: str | None = None) -> list[dict]:
    """[{id, labels: {lang: label}}] for the columns (every language when lang is None)."""
    langs = LANGS if lang is None else (lang,)
    return [{"id": c, "labels": {x: column_label(c, x) for x in langs}} for c in columns]
