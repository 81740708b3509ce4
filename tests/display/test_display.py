"""core/display.py: the one formatter (CLDR short units through Babel), checked by hand per language."""
from __future__ import annotations

import pytest

from servicekpi.core import display as D


@pytest.mark.parametrize("seconds, text", [
    (5100, "1 hr 25 min"),      # 5100 = 3600 + 25 x 60
    (450, "7 min 30 sec"),      # 450 = 7 x 60 + 30
    (86400, "24 hr"),           # one day reads in hours up to 48 h, not "1,440.0 min"
    (266400, "3 days 2 hr"),    # 3 x 86400 + 2 x 3600
    (7205, "2 hr"),             # 2 h 0 min 5 s: the two largest units, zero minutes ends it
    (0.4, "0.4 sec"),
    (None, "—"),
])
def test_durations_in_the_unit_a_person_reads(seconds, text):
    assert D.duration(seconds) == text


def test_units_are_translated():
    assert D.duration(5100, "zh") == "1小时 25分钟"
    assert D.duration(5100, "ro") == "1 oră 25 min."
    assert D.duration(450, "th") == "7 นาที 30 วิ"


def test_currency_from_its_iso_code_never_the_word():
    assert D.currency(1234.5, "EUR") == "€1,234.50"
    assert D.currency(1234.5, "RON", "ro") == "1.234,50\xa0RON"  # CLDR: a no-break space
    assert "currency" not in D.currency(3, "USD")


def test_percent_and_signed_points():
    # 88.84 rounds to one decimal; Romanian CLDR puts a no-break space before %
    assert D.percent(88.84) == "88.8%" and D.percent(88.84, "ro") == "88,8\xa0%"
    assert (D.points(20.1), D.points(-3), D.points(0.01), D.points(None)) == ("+20.1", "−3.0", "±0.0", "—")
    assert D.points(20.1, "ro") == "+20,1"


def test_labels_prettified_alike():
    assert D.label("product_availability") == "Product availability"
    assert D.label("technical", {"technical": "Technical issue"}) == "Technical issue"  # a configured name wins
    assert D.label("SMS") == "SMS" and D.label(None) == "(not set)"


@pytest.mark.parametrize("v, unit, text", [
    (515.7, "minutes", "8 hr 35 min"),   # 515.7 min = 8 x 60 + 35.7: 30,942 s -> 8 h 35 min (seconds dropped)
    (1440, "minutes", "24 hr"),          # the default FRT target: a day, not "1,440.0 min"
    (22.7, "hours", "22 hr 42 min"),     # 0.7 h = 42 min
    (455.5, "seconds", "7 min 36 sec"),  # 455.5 rounds to 456 s = 7 x 60 + 36
    (13.3, "points", "+13.3"), (-12.5, "points", "−12.5"), (0.0, "points", "0.0"),
    (69.24, "percent", "69.2%"), (837, "count", "837"), (1.72, "count", "1.7"), (3.964, "score", "3.96"),
    (175.466, "currency", "175.47"),     # no currency in the config: a plain amount, never "currency"
    (None, "minutes", "—"),
])
def test_value_by_catalog_unit(v, unit, text):
    assert D.value(v, unit) == text


def test_value_in_the_configured_currency_and_language():
    assert D.value(175.466, "currency", "en", "EUR") == "€175.47"
    assert D.value(175.466, "currency", "ro", "RON") == "175,47\xa0RON"
    assert D.value(515.7, "minutes", "zh") == "8小时 35分钟"


@pytest.mark.parametrize("delta, unit, lang, text", [
    (4.6, "percent", "en", "+4.6 pp"), (4.6, "percent", "zh", "+4.6 个百分点"),
    (5.8, "points", "en", "+5.8"),       # NPS changes in signed points, like its values
    (-51.2, "minutes", "en", "−51 min 12 sec"),  # 51.2 min = 51 min 12 s
    (1.0, "hours", "en", "+1 hr"), (15, "count", "en", "+15"), (0.0001, "count", "en", "±0"),
    (-4.1, "currency", "en", "−4.10"),
])
def test_signed_changes(delta, unit, lang, text):
    assert D.change(delta, unit, lang) == text


def test_labels_by_dimension_and_language():
    # a team called "technical" is not the category "Technical issue"
    assert D.label("technical", dim="team") == "Technical"
    assert D.label("technical", dim="category") == "Technical issue"
    assert D.label("technical", dim="category", lang="zh") == "技术问题"
    assert D.label("sms", dim="channel") == "SMS" and D.label("web_form", dim="channel", lang="ro") == "Formular web"
    assert D.label("l2", {"team": {"l2": "Level 2"}}, dim="team") == "Level 2"  # [labels.team] in the config
    assert D.label(None, lang="zh") == "（未设置）"


def test_unit_words_for_spreadsheet_formats():
    assert (D.unit_suffix("duration-hour"), D.unit_suffix("duration-hour", "zh")) == ("hr", "小时")


def test_config_currency_and_labels(tmp_path):
    from servicekpi.core import config
    p = tmp_path / "servicekpi.toml"
    p.write_text('currency = "eur"\n[labels.team]\nl2 = "Level 2"\n')
    cfg = config.load(p)
    assert cfg.currency == "EUR" and cfg.labels == {"team": {"l2": "Level 2"}}
    p.write_text('currency = "euro"\n')
    with pytest.raises(config.ConfigError, match="ISO 4217"):
        config.load(p)


def test_only_lower_case_ids_are_prettified():
    assert D.label("web_form") == "Web form" and D.label("l2") == "L2"
    # names, URLs and formula-like text are shown as they are (never reshaped into something else)
    for text in ("Team A", "-2+3", "http://evil.example/x", "e-mail", "=sum(1)"):
        assert D.label(text) == text


def test_english_whole_numbers_are_written_as_babel_writes_them_without_loading_cldr():
    import math
    import os
    import random
    import subprocess
    import sys
    from pathlib import Path

    from babel.numbers import format_decimal

    import servicekpi

    rng = random.Random(7)
    values = [0, 1, -1, 999, 1000, -1000, 1234567, 10**18, -10**15, 0.0, -0.0, 1234.0, -1234.0, 2.0**53, 1e20,
              *[rng.randint(-10**12, 10**12) for _ in range(300)], *[float(rng.randint(-10**9, 10**9)) for _ in range(300)]]
    for v in values:
        assert D.number(v, "en") == format_decimal(v, format="#,##0", locale="en"), v
    assert D.number(-0.0, "en") == "-0"  # Babel's own writing: -0.0 keeps its sign
    assert D.number(math.inf, "en") == format_decimal(math.inf, format="#,##0", locale="en")
    # a count in English loads no CLDR locale data (a whole process, so nothing is cached yet)
    code = ("import babel.localedata as L; from servicekpi.core import display; "
            "print(display.number(19824.0, 'en'), sorted(L._cache))")
    env = {**os.environ, "PYTHONPATH": str(Path(servicekpi.__file__).parents[1])}  # this tree's package
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, env=env)
    assert r.stdout.split() == ["19,824", "[]"]
