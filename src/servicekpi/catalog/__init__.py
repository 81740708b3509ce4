"""The KPI catalog: every definition once, as data, with its texts in four languages."""
from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from servicekpi.catalog import calls, customers, quality, sla, surveys, tickets
from servicekpi.catalog.kpi import Catalog

LANGS = ("en", "zh", "ro", "th")


@cache
def catalog() -> Catalog:
    cat = Catalog()
    for family in (tickets, calls, surveys, customers, quality, sla):
        cat.add(*family.KPIS)
    return cat


@cache
def texts() -> dict:
    return tomllib.loads((Path(__file__).parent / "texts.toml").read_text(encoding="utf-8"))


def text(kind: str, key: str, field: str = "label", lang: str = "en") -> str:
    """A label/definition/formula of a kpi, unit, direction or family in a language."""
    entry = texts().get(kind, {}).get(key, {}).get(field, {})
    return entry.get(lang) or entry.get("en") or key
