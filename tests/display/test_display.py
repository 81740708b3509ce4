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
    assert D.percent(88.84) == "88.8%" and D.percent(88.84, "ro") == "88,8%"  # 88.84 rounds to one decimal
    assert (D.points(20.1), D.points(-3), D.points(0.01), D.points(None)) == ("+20.1", "−3.0", "±0.0", "—")
    assert D.points(20.1, "ro") == "+20,1"


def test_labels_prettified_alike():
    assert D.label("product_availability") == "Product availability"
    assert D.label("technical", {"technical": "Technical issue"}) == "Technical issue"  # a configured name wins
    assert D.label("SMS") == "SMS" and D.label(None) == "(not set)"
