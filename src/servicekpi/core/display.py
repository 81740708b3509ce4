"""One way to show numbers (issue 13 item 10), with Babel and CLDR, in en/zh/ro/th.

Display only: values stay exact in the data. None (no data) gives NO_DATA, never 0.
- duration(seconds): the units a person reads, largest two (1 h 25 min, 7 min 30 s, 24 h, 3 d 2 h);
- currency(value, code): ISO 4217 from the config, CLDR symbol and placement;
- percent(value) for 0..100 values; points(delta) signed (+20.1, −3.0, ±0.0);
- label(id): a category/channel/team id prettified alike everywhere ("product_availability" ->
  "Product availability"), unless the config gives a name.
Not wired into the CLI, reports and API yet (see the helper's report)."""
from __future__ import annotations

import math

from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

NO_DATA = "—"
LANGS = ("en", "zh", "ro", "th")
# (CLDR unit, seconds); a duration shows its largest unit and the next one when it is not zero
UNITS = (("duration-day", 86400), ("duration-hour", 3600), ("duration-minute", 60), ("duration-second", 1))


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def duration(seconds: float | None, lang: str = "en") -> str:
    """1 h 25 min, 7 min 30 s, 24 h (a day shows in hours up to 48 h), 45 s, 0.4 s."""
    if _missing(seconds):
        return NO_DATA
    sign, s = ("−" if seconds < 0 else ""), abs(float(seconds))
    if s < 10 and s != int(s):
        return sign + format_unit(round(s, 1), "duration-second", length="short", format="0.#", locale=lang)
    total = round(s)
    units = UNITS[1:] if total <= 48 * 3600 else UNITS
    parts = []
    for name, size in units:
        if total >= size or (name == "duration-second" and not parts):
            n, total = divmod(total, size)
            parts.append(format_unit(n, name, length="short", format="#,##0", locale=lang))
            if len(parts) == 2:
                break
        elif parts:
            break  # 2 h 0 min 5 s reads as 2 h
    return sign + " ".join(parts)


def currency(value: float | None, code: str, lang: str = "en") -> str:
    if _missing(value):
        return NO_DATA
    return format_currency(value, code, locale=lang)


def number(value: float | None, lang: str = "en", decimals: int = 0) -> str:
    if _missing(value):
        return NO_DATA
    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=lang)


def percent(value: float | None, lang: str = "en", decimals: int = 1) -> str:
    """A value on 0..100 (the catalog's percent unit)."""
    if _missing(value):
        return NO_DATA
    return format_percent(value / 100, format="#,##0" + ("." + "0" * decimals if decimals else "") + "%",
                          locale=lang)


def points(delta: float | None, lang: str = "en", decimals: int = 1) -> str:
    """Signed points, the same everywhere: NPS +20.1, a change −3.0, no change ±0.0."""
    if _missing(delta):
        return NO_DATA
    if round(delta, decimals) == 0:
        return "±" + number(0.0, lang, decimals)
    return ("+" if delta > 0 else "−") + number(abs(delta), lang, decimals)


def label(value: str | None, names: dict[str, str] | None = None) -> str:
    """An id as people read it: the config's name when given, else the first letter up, _ and - as spaces."""
    if value is None or value == "":
        return "(not set)"
    if names and value in names:
        return names[value]
    text = str(value).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:] if text.islower() else text
