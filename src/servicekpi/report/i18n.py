"""Report languages: gettext interface strings, CLDR period labels and number formats.

Interface strings (headings, column names, notes) are gettext messages marked
with ``_()`` (a string literal argument) in ``report/*.py`` and ``report_cli.py``. Their translations
live in ``report/locale/<lang>/LC_MESSAGES/servicekpi.po`` (template:
``report/locale/servicekpi.pot``) and are read with Babel's ``read_po`` at run
time: the .po text is the single source, there is no compiled .mo to forget to
rebuild. A missing or fuzzy translation falls back to the English msgid.

KPI labels, definitions and formulas are not gettext messages: they come from
the catalog (``servicekpi.catalog.text``), the one place KPI wording lives.

Refresh the catalogs after adding ``_()`` strings::

    .venv/bin/python -m servicekpi.report.i18n update

which extracts every msgid, rewrites the .pot and adds the new msgids (empty)
to each .po; tests/report/test_i18n.py fails until each one is translated.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Callable

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from servicekpi.core import display

LANGS = ("en", "zh", "ro", "th")
DOMAIN = "servicekpi"
LOCALE_DIR = Path(__file__).parent / "locale"
NO_DATA = "—"  # shown for a value that is None (no data), never 0


def _(message: str) -> str:
    """Mark a string for extraction where the language is not known yet (translate later)."""
    return message


WEEK = _("Week {week}, {year}")  # an ISO week label


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown report language '{lang}': use one of {', '.join(LANGS)}")
    return lang


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _messages(lang: str) -> dict[str, str]:
    """msgid -> msgstr of one language (translated, non-fuzzy entries only)."""
    check_lang(lang)
    path = po_path(lang)
    if lang == "en" or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    return {m.id: m.string for m in cat if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def translator(lang: str) -> Callable[[str], str]:
    """The gettext function of a language: msgid -> translation, else the msgid itself."""
    messages = _messages(check_lang(lang))

    def gettext(message: str) -> str:
        return messages.get(message) or message

    return gettext


# --------------------------------------------------------------- dates


def period_label(start: dt.date, by: str, lang: str) -> str:
    """A period's name: month -> CLDR month-year ("Oct 2026", "2026年10月"); week -> ISO week."""
    check_lang(lang)
    if by == "month":
        return format_skeleton("yMMM", start, locale=lang)
    if by == "week":
        year, week, _day = start.isocalendar()
        # ISO week (Monday first), numbered in its ISO year
        return translator(lang)(WEEK).format(week=week, year=year)
    if by in ("range", "day"):
        return format_skeleton("yMMMd", start, locale=lang)
    raise ValueError(f"unknown period grain '{by}': use month or week")


def format_date(day: dt.date, lang: str) -> str:
    """A local date with the month abbreviated ("Oct 31, 2026", "2026年10月31日")."""
    return format_skeleton("yMMMd", day, locale=check_lang(lang))


def format_instant(moment: dt.datetime | None, lang: str) -> str:
    """A local date and 24-hour time to the minute ("Oct 31, 2026, 23:58")."""
    if moment is None:
        return NO_DATA
    locale = Locale.parse(check_lang(lang))
    day = format_skeleton("yMMMd", moment.date(), locale=locale)
    clock = format_time(moment.time(), "HH:mm", locale=locale)
    return locale.datetime_formats["medium"].format(clock, day)


# --------------------------------------------------------------- numbers

# decimals shown per catalog unit (values stay exact in the data; this is display only)
DECIMALS = {"count": 0, "percent": 1, "points": 1, "score": 2, "ratio": 2, "currency": 2,
            "tickets_per_day": 1, "seconds": 0, "minutes": 1, "hours": 1, "days": 1}
CLDR_UNIT = {"seconds": "duration-second", "minutes": "duration-minute",
             "hours": "duration-hour", "days": "duration-day"}


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str, lang: str, decimals: int | None = None,
                 currency: str | None = None) -> str:
    """A KPI value for display in a language (core/display.py: durations as a person reads them,
    signed NPS points, the configured currency); None (no data) gives NO_DATA, never 0.

    decimals gives a plain number with that many decimals instead (chart axis ticks)."""
    check_lang(lang)
    if _is_missing(value):
        return NO_DATA
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if decimals is None:
        return display.value(value, unit, lang, currency)
    if round(value, decimals) == 0:
        value = 0.0  # no "-0.0" for a tiny negative (or a negative zero)
    if unit == "percent":
        pattern = Locale.parse(lang).percent_formats[None].pattern.replace("#,##0", _pattern(decimals), 1)
        return format_percent(Decimal(repr(float(value))) / 100, format=pattern, locale=lang)
    if unit in CLDR_UNIT:
        return format_unit(value, CLDR_UNIT[unit], length="short", format=_pattern(decimals), locale=lang)
    return format_decimal(value, format=_pattern(decimals), locale=lang)


def unit_label(unit: str, lang: str, currency: str | None = None) -> str:
    """The unit under a KPI's name: the catalog's word, "duration" for durations (their values carry
    their units), the ISO 4217 code for money (never the word "currency")."""
    from servicekpi.catalog import text
    from servicekpi.core import display_words as W
    if unit in display.SECONDS:
        return W.DURATION[lang]
    if unit == "currency":
        return currency or W.AMOUNT[lang]
    return text("unit", unit, "label", lang)


def format_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """A plain number (volumes, counts in tables)."""
    if _is_missing(value):
        return NO_DATA
    return format_decimal(value, format=_pattern(decimals), locale=check_lang(lang))


def format_change(current: float | None, previous: float | None, unit: str, lang: str,
                  currency: str | None = None) -> str:
    """Signed change from the previous period (core/display.change): percentages in percentage
    points, durations in readable units. NO_DATA when either side is missing."""
    if _is_missing(current) or _is_missing(previous):
        return NO_DATA
    delta = current - previous
    if not math.isfinite(delta):
        return NO_DATA if math.isnan(delta) else ("+∞" if delta > 0 else "−∞")
    return display.change(delta, unit, check_lang(lang), currency)


# --------------------------------------------------------------- catalogs


def extract(root: Path | None = None) -> dict[str, list[tuple[str, int]]]:
    """Every msgid marked with _() in report/*.py and report_cli.py -> its locations."""
    from babel.messages.extract import extract_from_file

    root = root or Path(__file__).resolve().parents[1]  # src/servicekpi
    files = sorted((root / "report").glob("*.py"))
    if (root / "report_cli.py").exists():
        files.append(root / "report_cli.py")
    found: dict[str, list[tuple[str, int]]] = {}
    for path in files:
        for lineno, message, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "gettext": None}):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append((str(path.relative_to(root.parent)), lineno))
    return found


def update_catalogs() -> dict[str, list[str]]:
    """Rewrite the .pot from the sources and merge it into each .po; returns untranslated msgids."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    from servicekpi import __version__

    found = extract()
    header = ("# servicekpi report interface strings{name}.\n"
              "# Translate every msgstr and keep the {{placeholders}}.\n"
              "# KPI names and definitions live in catalog/texts.toml;\n"
              "# follow its terminology. Refresh with:\n"
              "#   python -m servicekpi.report.i18n update")
    template = Catalog(domain=DOMAIN, project="servicekpi", version=__version__, header_comment=header.format(name=""),
                       msgid_bugs_address="", fuzzy=False)
    for msgid, locations in found.items():
        template.add(msgid, locations=locations)
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=True, no_location=False)
    missing: dict[str, list[str]] = {}
    for lang in LANGS[1:]:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                cat = read_po(fh, locale=lang, domain=DOMAIN)
        else:
            cat = Catalog(locale=lang, domain=DOMAIN, project="servicekpi")
        cat.update(template, no_fuzzy_matching=True)
        cat.obsolete.clear()
        cat.header_comment = header.format(name=f" ({Locale.parse(lang).english_name})")
        cat.version, cat.msgid_bugs_address = __version__, ""
        cat.last_translator = "servicekpi contributors"
        with path.open("wb") as fh:
            write_po(fh, cat, sort_output=True, include_previous=False)
        missing[lang] = [m.id for m in cat if m.id and (not m.string or m.fuzzy)]
    _messages.cache_clear()
    return missing


if __name__ == "__main__":  # python -m servicekpi.report.i18n update
    import sys

    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m servicekpi.report.i18n update")
    for lang, ids in update_catalogs().items():
        print(f"{lang}: {len(ids)} untranslated" + "".join(f"\n  {m!r}" for m in ids))
