"""One way to show numbers (issue 13 item 10), with Babel and CLDR, in en/zh/ro/th.

Display only: values stay exact in the data (JSON and CSV keep raw numbers). None (no data) gives
NO_DATA, never 0. Read by the CLI table, the scorecard, the reports and the API's display fields.
- duration(seconds): the units a person reads, largest two (1 h 25 min, 7 min 30 s, 24 h, 3 d 2 h);
- currency(value, code): ISO 4217 from the config, CLDR symbol and placement;
- percent(value) for 0..100 values; points(delta) signed (+20.1, −3.0, ±0.0);
- value(v, unit) and change(delta, unit): a catalog unit's value or change, in one of the above;
- label(id): a category/channel/team id as people read it, the same in every output."""
from __future__ import annotations

import math
import re

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent, is_currency
from babel.units import format_unit

from servicekpi.core import display_words as W

NO_DATA = "—"
LANGS = ("en", "zh", "ro", "th")
# (CLDR unit, seconds); a duration shows its largest unit and the next one when it is not zero
UNITS = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60), ("duration-second", 1))
# catalog duration units -> seconds
SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
# decimals per catalog unit that is not a duration
ID = re.compile(r"[a-z][a-z0-9_ ]*")  # an id written in lower case: prettified ("web_form" -> "Web form")
RAW = ("agent_id",)  # ids shown as they are (an agent's id is a name or a code, not a word)
# record columns whose ids are shown as labels (the rows table, the dashboard drawer)
LABELLED = ("channel", "category", "team", "customer_tier", "priority", "status", "queue", "survey")
DECIMALS = {"count": 0, "percent": 1, "points": 1, "score": 2, "ratio": 2, "currency": 2, "tickets_per_day": 1}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _lang(lang: str) -> str:
    return lang if lang in LANGS else "en"


def duration(seconds: float | None, lang: str = "en", length: str = "short") -> str:
    """1 h 25 min, 7 min 30 s, 24 h (a day shows in hours up to 48 h), 45 s, 0.4 s; length "narrow"
    gives the compact CLDR form for table cells (1h 25m)."""
    if _missing(seconds):
        return NO_DATA
    sign, s = ("−" if seconds < 0 else ""), abs(float(seconds))
    if s < 10 and round(s, 1) != round(s):
        return sign + format_unit(round(s, 1), "duration-second", length=length, format="0.#", locale=lang)
    total = round(s)
    units = UNITS[1:] if total <= 48 * 3600 else UNITS
    parts = []
    for name, size in units:
        if total >= size or (name == "duration-second" and not parts):
            n, total = divmod(total, size)
            parts.append(format_unit(n, name, length=length, format="#,##0", locale=lang))
            if len(parts) == 2:
                break
        elif parts:
            break  # 2 h 0 min 5 s reads as 2 h
    return sign + " ".join(parts)


def currency(value: float | None, code: str, lang: str = "en") -> str:
    if _missing(value):
        return NO_DATA
    return format_currency(value, code, locale=lang)


def check_currency(code) -> str:
    """An ISO 4217 code as Babel/CLDR knows it (EUR, RON, THB, CNY); ValueError otherwise."""
    if not isinstance(code, str) or not is_currency(code.upper()):
        raise ValueError(f"'{code}' is not an ISO 4217 currency code (e.g. EUR, USD, RON, THB, CNY)")
    return code.upper()


def _whole(value) -> bool:
    """An int, or a float holding a whole number (not -0.0, which CLDR writes "-0")."""
    if type(value) is int:
        return True
    return type(value) is float and value.is_integer() and not (value == 0 and math.copysign(1.0, value) < 0)


def number(value: float | None, lang: str = "en", decimals: int = 0) -> str:
    if _missing(value):
        return NO_DATA
    if decimals == 0 and lang == "en" and _whole(value):
        return f"{int(value):,}"  # what CLDR's en pattern writes, without loading its data (~30 ms a process)
    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=lang)


def percent(value: float | None, lang: str = "en", decimals: int = 1) -> str:
    """A value on 0..100 (the catalog's percent unit), in the language's percent pattern."""
    if _missing(value):
        return NO_DATA
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    pattern = Locale.parse(_lang(lang)).percent_formats[None].pattern.replace("#,##0", digits, 1)
    if round(value, decimals) == 0:
        value = 0.0  # no "-0.0%"
    return format_percent(value / 100, format=pattern, locale=lang)


def points(delta: float | None, lang: str = "en", decimals: int = 1) -> str:
    """Signed points, the same everywhere: NPS +20.1, a change −3.0, no change ±0.0."""
    if _missing(delta):
        return NO_DATA
    if round(delta, decimals) == 0:
        return "±" + number(0.0, lang, decimals)
    return ("+" if delta > 0 else "−") + number(abs(delta), lang, decimals)


def _decimals(v: float, unit: str) -> int:
    if unit == "count" and v != int(v):
        return 1  # a mean count (interactions per ticket)
    return DECIMALS.get(unit, 2)


def value(v: float | None, unit: str, lang: str = "en", code: str | None = None, length: str = "short") -> str:
    """A KPI value in its catalog unit: durations as a person reads them, percent, signed NPS points,
    money in the configured currency (`code`; a plain number when none is set)."""
    if _missing(v):
        return NO_DATA
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    lang = _lang(lang)
    if unit in SECONDS:
        return duration(v * SECONDS[unit], lang, length)
    if unit == "percent":
        return percent(v, lang)
    if unit == "points":
        return number(0.0, lang, 1) if round(v, 1) == 0 else points(v, lang)
    if unit == "currency" and code:
        return currency(v, code, lang)
    places = _decimals(v, unit)
    return number(0.0 if round(v, places) == 0 else v, lang, places)


def change(delta: float | None, unit: str, lang: str = "en", code: str | None = None) -> str:
    """A signed change: percentages in percentage points, durations in readable units, ±0 for none."""
    if _missing(delta):
        return NO_DATA
    if math.isinf(delta):
        return "+∞" if delta > 0 else "−∞"
    lang = _lang(lang)
    if unit in ("percent", "points"):
        text = points(delta, lang)
        return W.POINTS_CHANGE[lang].format(number=text) if unit == "percent" else text
    zero = round(delta * SECONDS.get(unit, 1)) == 0 if unit in SECONDS else round(delta, _decimals(delta, unit)) == 0
    if zero:
        return "±" + value(0.0, unit, lang, code)
    return ("+" if delta > 0 else "−") + value(abs(delta), unit, lang, code)


def not_set(lang: str = "en") -> str:
    return W.NOT_SET[_lang(lang)]


def label(value: str | None, names: dict | None = None, lang: str = "en", dim: str | None = None) -> str:
    """An id as people read it: the config's name ([labels.<dim>] or a flat map) when given, else a
    well-known channel/category name in the language, else a lower-case id with the first letter up
    and _ as spaces ("product_availability" -> "Product availability"); any other text as it is.
    None or "" is "(not set)"."""
    if value is None or value == "" or value == "(none)":
        return not_set(lang)
    value = str(value)
    if names:  # the config's [labels.<dim>] (every dimension's when dim is not known), or a flat map
        maps = [names.get(dim)] if dim else [m for m in names.values() if isinstance(m, dict)]
        for m in [*maps, names]:
            if isinstance(m, dict) and isinstance(m.get(value), str):
                return m[value]
    tables = [W.KNOWN.get(dim, {})] if dim else list(W.KNOWN.values())
    known = next((t[value] for t in tables if value in t), None)
    if known:
        return known[_lang(lang)]
    if dim in RAW:
        return value
    if not ID.fullmatch(value):  # a name, a URL, "-2+3": shown as it is
        return value
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def unit_suffix(unit: str, lang: str = "en") -> str:
    """The short CLDR unit word of a duration, its number left out ("hr", "小时", "min."), for
    spreadsheet number formats."""
    pattern = Locale.parse(_lang(lang))._data["unit_patterns"][unit]["short"]
    return pattern.get("other", pattern.get("one", "{0}")).replace("{0}", "").strip()
