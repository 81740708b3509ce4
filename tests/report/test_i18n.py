"""Report languages: every interface string translated, CLDR periods and numbers, catalog terms."""
import datetime as dt
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from servicekpi.catalog import text
from servicekpi.report import i18n
from servicekpi.report.i18n import (
    LANGS,
    NO_DATA,
    extract,
    format_change,
    format_instant,
    format_value,
    period_label,
    po_path,
    translator,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "src/servicekpi/report").glob("*.py")) + [
    p for p in [ROOT / "src/servicekpi/report_cli.py"] if p.exists()]
MSGIDS = extract()
NBSP = "\u00a0"


def _catalog(lang):
    with po_path(lang).open("rb") as fh:
        return {m.id: m for m in read_po(fh, locale=lang) if m.id}


def _fields(s):
    return sorted(f for _, f, _, _ in string.Formatter().parse(s) if f is not None)


def test_extraction_finds_the_report_strings():
    # html.py's headings are found (a guard against extraction silently finding nothing)
    assert {"Scorecard", "Channel preference", "Definitions and formulas"} <= set(MSGIDS)


@pytest.mark.parametrize("lang", LANGS[1:])
def test_every_interface_string_is_translated(lang):
    # fix: python -m servicekpi.report.i18n update, then fill the empty msgstr in the .po
    cat = _catalog(lang)
    missing = [m for m in MSGIDS if m not in cat or not cat[m].string or cat[m].fuzzy]
    assert missing == [], f"{po_path(lang).name} ({lang}) lacks translations for {missing}"


@pytest.mark.parametrize("lang", LANGS[1:])
def test_translations_keep_the_placeholders(lang):
    cat = _catalog(lang)
    wrong = {m: cat[m].string for m in MSGIDS if m in cat and cat[m].string
             and _fields(cat[m].string) != _fields(m)}
    assert wrong == {}


def test_every_marked_string_is_extractable():
    # _("...") inside an f-string is invisible to the extractor on Python 3.11: such a string would
    # never reach the catalogs and would stay English in every language
    literal = re.compile(r"""\b_\(\s*(["'])((?:\\.|(?!\1).)*)\1\s*\)""")
    hidden = [(p.name, m.group(2)) for p in SOURCES for m in literal.finditer(p.read_text(encoding="utf-8"))
              if m.group(2) not in MSGIDS and "\\" not in m.group(2)]
    assert hidden == []


def test_no_marked_string_inside_an_f_string():
    # stricter than the above: the same msgid marked elsewhere would hide a nested one
    import io
    import tokenize

    nested = []
    for p in SOURCES:
        for tok in tokenize.generate_tokens(io.StringIO(p.read_text(encoding="utf-8")).readline):
            prefix = re.match(r"[A-Za-z]*", tok.string).group(0).lower()
            if tok.type == tokenize.STRING and "f" in prefix and re.search(r"\b_\(\s*[\"']", tok.string):
                nested.append((p.name, tok.start[0]))
    assert nested == []


def test_template_is_up_to_date():
    with (i18n.LOCALE_DIR / "servicekpi.pot").open("rb") as fh:
        pot = {m.id for m in read_po(fh) if m.id}
    assert pot == set(MSGIDS), "run: python -m servicekpi.report.i18n update"


@pytest.mark.parametrize("lang,expected", [("en", "Scorecard"), ("zh", "计分卡"), ("ro", "Tablou de bord"),
                                           ("th", "สกอร์การ์ด")])
def test_translator_translates(lang, expected):
    assert translator(lang)("Scorecard") == expected


@pytest.mark.parametrize("lang", LANGS)
def test_translator_falls_back_to_the_english_msgid(lang):
    assert translator(lang)("A sentence nobody translated") == "A sentence nobody translated"


def test_unknown_language_is_an_error_naming_the_valid_ones():
    with pytest.raises(ValueError, match="use one of en, zh, ro, th"):
        translator("fr")


@pytest.mark.parametrize("lang,expected", [("en", "Oct 2026"), ("zh", "2026年10月"), ("ro", "oct. 2026"),
                                           ("th", "ต.ค. 2026")])
def test_month_labels_are_cldr(lang, expected):
    assert period_label(dt.date(2026, 10, 1), "month", lang) == expected


@pytest.mark.parametrize("day,lang,expected", [
    (dt.date(2026, 10, 26), "en", "Week 44, 2026"),
    (dt.date(2026, 10, 26), "zh", "2026年第44周"),
    (dt.date(2026, 10, 26), "ro", "Săptămâna 44, 2026"),
    (dt.date(2026, 10, 26), "th", "สัปดาห์ที่ 44 ปี 2026"),
    # ISO weeks: 2027-01-01 is a Friday of week 53 of 2026; 2024-12-30 is week 1 of 2025
    (dt.date(2027, 1, 1), "en", "Week 53, 2026"),
    (dt.date(2024, 12, 30), "en", "Week 1, 2025"),
])
def test_week_labels_are_iso_weeks(day, lang, expected):
    assert period_label(day, "week", lang) == expected


@pytest.mark.parametrize("value,unit,lang,expected", [
    (72.3, "percent", "en", "72.3%"),
    (72.3, "percent", "zh", "72.3%"),
    (72.3, "percent", "ro", f"72,3{NBSP}%"),  # CLDR: decimal comma, space before %
    (72.3, "percent", "th", "72.3%"),
    (0.0, "percent", "en", "0.0%"),  # zero is a value, not "no data"
    (100, "percent", "en", "100.0%"),
    (40, "points", "en", "+40.0"),  # NPS in signed points, as everywhere (core/display.py)
    (-12.5, "points", "ro", "−12,5"),
    (1234, "count", "en", "1,234"),
    (1234, "count", "ro", "1.234"),
    (2.35, "count", "en", "2.4"),  # a mean count (interactions per ticket) keeps a decimal
    (0, "count", "en", "0"),
    (600, "seconds", "en", "10 min"),  # durations in the units a person reads
    (600, "seconds", "zh", "10分钟"),
    (12.25, "minutes", "ro", "12 min. 15 s"),  # 0.25 min = 15 s
    (12.5, "minutes", "th", "12 นาที 30 วิ"),
    (48, "hours", "zh", "48小时"),  # up to 48 h a duration reads in hours
    (4.235, "score", "en", "4.24"),
    (0.5, "currency", "en", "0.50"),
    (1.5, "ratio", "ro", "1,50"),
    (-0.04, "points", "en", "0.0"),  # never "-0.0"
    (-0.0, "percent", "ro", f"0,0{NBSP}%"),
    (float("inf"), "count", "en", "∞"),
])
def test_format_value(value, unit, lang, expected):
    assert format_value(value, unit, lang) == expected


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("unit", ["percent", "count", "seconds", "score"])
def test_none_is_no_data_never_zero(lang, unit):
    assert format_value(None, unit, lang) == NO_DATA
    assert format_value(float("nan"), unit, lang) == NO_DATA
    assert "0" not in NO_DATA


@pytest.mark.parametrize("cur,prev,unit,lang,expected", [
    (75.5, 72.3, "percent", "en", "+3.2 pp"),  # percentages change in percentage points
    (75.5, 72.3, "percent", "zh", "+3.2 个百分点"),
    (10, 12, "minutes", "en", "−2 min"),
    (5, 5, "count", "en", "±0"),
    (None, 5, "count", "en", NO_DATA),
    (5, None, "percent", "en", NO_DATA),
    (float("inf"), 3.0, "ratio", "en", "+∞"),  # resolved/unresolved with nothing unresolved
    (float("inf"), float("inf"), "ratio", "en", NO_DATA),
])
def test_format_change(cur, prev, unit, lang, expected):
    assert format_change(cur, prev, unit, lang) == expected


@pytest.mark.parametrize("lang,expected", [("en", "Oct 31, 2026, 23:58"), ("zh", "2026年10月31日 23:58"),
                                           ("ro", "31 oct. 2026, 23:58"), ("th", "31 ต.ค. 2026 23:58")])
def test_instants_are_localized(lang, expected):
    assert format_instant(dt.datetime(2026, 10, 31, 23, 58), lang) == expected


def _spec_names():
    """The established terms of docs/kpi-contract.md, 'Names in the four languages'."""
    spec = (ROOT / "docs" / "kpi-contract.md").read_text(encoding="utf-8").split("## Names in the four languages")[1]
    rows = re.findall(r"^\| ([a-z_]+) \| (.+?) \| (.+?) \| (.+?) \|$", spec, re.M)
    return [(kid, lang, term) for kid, *terms in rows if kid != "id" for lang, term in zip(("zh", "ro", "th"), terms)]


def test_spec_names_are_parsed():
    assert len(_spec_names()) >= 3 * 18


@pytest.mark.parametrize("kid,lang,term", _spec_names())
def test_catalog_labels_use_the_established_terms(kid, lang, term):
    # the reports show catalog labels; a wrong term is a bug (e.g. nps zh 净推荐值 (NPS))
    assert text("kpi", kid, "label", lang) == term
