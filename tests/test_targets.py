"""Targets (issue 3, section 4): the [targets] config schema, its located errors, the status
rules with the at-risk band on the bad side, per-dimension overrides and the default set."""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from servicekpi.catalog import catalog
from servicekpi.catalog.targets import DEFAULT_TARGETS, Override, Target, parse_targets, status, targets_for
from servicekpi.core import config as cfg_mod
from servicekpi.core.config import Config, ConfigError

SRC = "servicekpi.toml"
EXAMPLE = """
[targets.first_response_time]
value = 60
at_risk = 15
due = "2027-03-31"
[targets.first_response_time.by.channel]
chat = 2
email = 240
[targets.csat]
value = 85
"""


def parse(text: str) -> dict[str, Target]:
    return parse_targets(tomllib.loads(text), SRC)


# -- parsing ---------------------------------------------------------------------------------


def test_example_schema_parses_with_direction_from_the_catalog():
    t = parse(EXAMPLE)
    assert set(t) == {"first_response_time", "csat"}
    frt, csat = t["first_response_time"], t["csat"]
    # first_response_time is lower-is-better in the catalog, csat higher-is-better
    assert (frt.value, frt.direction, frt.at_risk, frt.due) == (60.0, "lower", 15.0, dt.date(2027, 3, 31))
    assert dict(frt.by["channel"]) == {"chat": Override(2.0, None), "email": Override(240.0, None)}
    assert (csat.value, csat.direction, csat.at_risk, csat.due, dict(csat.by)) == (85.0, "higher", None, None, {})
    assert not frt.default and not csat.default
    assert frt.source == SRC


def test_due_accepts_a_toml_date_literal():
    t = parse("[targets.csat]\nvalue = 85\ndue = 2027-03-31\n")
    assert t["csat"].due == dt.date(2027, 3, 31)


def test_override_as_a_table_has_its_own_band():
    t = parse("[targets.aht]\nvalue = 360\nat_risk = 60\n[targets.aht.by.queue]\n"
              "billing = { value = 300, at_risk = 30 }\nsales = 420\n")
    assert dict(t["aht"].by["queue"]) == {"billing": Override(300.0, 30.0), "sales": Override(420.0, None)}


ERRORS = [
    # (config text, the exact message)
    ("targets = 5",
     "servicekpi.toml, key targets: expected a table of [targets.KPI_ID] tables, got 5"),
    ("[targets]\ninclude_defaults = \"yes\"",
     "servicekpi.toml, key targets.include_defaults: expected true or false, got 'yes'"),
    ("[targets.csatt]\nvalue = 85",
     "servicekpi.toml, key targets.csatt: unknown KPI 'csatt'; did you mean csat, csat_mean, ces?"),
    ("[targets.zzzz]\nvalue = 1",
     "servicekpi.toml, key targets.zzzz: unknown KPI 'zzzz' (see: servicekpi list)"),
    ("[targets]\ncsat = 85",
     "servicekpi.toml, key targets.csat: expected a table such as [targets.csat] with value = NUMBER, got 85"),
    ("[targets.ticket_volume]\nvalue = 100",
     "servicekpi.toml, key targets.ticket_volume: ticket_volume is neutral (neither higher nor lower is better), "
     "so it cannot have a target"),
    ("[targets.csat]\nvalu = 85",
     "servicekpi.toml, key targets.csat.valu: unknown key (expected value, at_risk, due, by); did you mean value?"),
    ("[targets.csat]\nat_risk = 5",
     "servicekpi.toml, key targets.csat.value: missing (expected a number in percent)"),
    ("[targets.csat]\nvalue = \"high\"",
     "servicekpi.toml, key targets.csat.value: expected a number from 0 to 100 (percent), got 'high'"),
    ("[targets.csat]\nvalue = true",
     "servicekpi.toml, key targets.csat.value: expected a number from 0 to 100 (percent), got True"),
    ("[targets.csat]\nvalue = 120",
     "servicekpi.toml, key targets.csat.value: expected a number from 0 to 100 (percent), got 120"),
    ("[targets.nps]\nvalue = -101",
     "servicekpi.toml, key targets.nps.value: expected a number from -100 to 100 (points), got -101"),
    ("[targets.aht]\nvalue = -5",
     "servicekpi.toml, key targets.aht.value: expected a number of 0 or more (seconds), got -5"),
    ("[targets.csat]\nvalue = 85\nat_risk = -5",
     "servicekpi.toml, key targets.csat.at_risk: expected a non-negative number (a band in percent on the bad "
     "side of the target), got -5"),
    ("[targets.csat]\nvalue = 85\ndue = \"next spring\"",
     "servicekpi.toml, key targets.csat.due: expected a date such as 2027-03-31, got 'next spring'"),
    ("[targets.csat]\nvalue = 85\ndue = \"2027-02-30\"",
     "servicekpi.toml, key targets.csat.due: expected a date such as 2027-03-31, got '2027-02-30'"),
    ("[targets.csat]\nvalue = 85\nby = 3",
     "servicekpi.toml, key targets.csat.by: expected tables of dimension values, e.g. "
     "[targets.csat.by.channel] with chat = NUMBER"),
    ("[targets.csat]\nvalue = 85\nby = { channel = 90 }",
     "servicekpi.toml, key targets.csat.by.channel: expected a table of VALUE = NUMBER, e.g. "
     "[targets.csat.by.channel] with one line per channel value"),
    ("[targets.csat]\nvalue = 85\n[targets.csat.by.channel]\nchat = \"90\"",
     "servicekpi.toml, key targets.csat.by.channel.chat: expected a number or { value = NUMBER, at_risk = NUMBER }, "
     "got '90'"),
    ("[targets.csat]\nvalue = 85\n[targets.csat.by.channel]\nchat = 101",
     "servicekpi.toml, key targets.csat.by.channel.chat: expected a number from 0 to 100 (percent), got 101"),
    ("[targets.csat]\nvalue = 85\n[targets.csat.by.channel]\nchat = { value = 90, band = 2 }",
     "servicekpi.toml, key targets.csat.by.channel.chat.band: unknown key (expected value, at_risk)"),
    ("[targets.csat]\nvalue = 85\n[targets.csat.by.channel]\nchat = { at_risk = 2 }",
     "servicekpi.toml, key targets.csat.by.channel.chat.value: missing (expected a number in percent)"),
    ("[targets.csat]\nvalue = 85\n[targets.csat.by.channel]\nchat = { value = 90, at_risk = \"x\" }",
     "servicekpi.toml, key targets.csat.by.channel.chat.at_risk: expected a non-negative number (a band in "
     "percent on the bad side of the target), got 'x'"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[m.split(": ")[0].split("key ")[1] + "|" + m.split(": ")[1][:20]
                                                       for _, m in ERRORS])
def test_invalid_config_gives_a_located_error(text, message):
    with pytest.raises(ConfigError) as e:
        parse(text)
    assert str(e.value) == message


def test_config_file_errors_name_the_file(tmp_path):
    path = tmp_path / "servicekpi.toml"
    path.write_text("timezone = \"UTC\"\n[targets.csat]\nvalue = \"high\"\n", encoding="utf-8")
    # the workspace config is validated whole when it loads, targets included
    with pytest.raises(ConfigError, match=re.escape(f"{path}, key targets.csat.value: expected a number")):
        targets_for(cfg_mod.load(path))


# -- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, target, direction, band, expected", [
    # higher is better: met on or above the target
    (85, 85, "higher", None, "met"),
    (90, 85, "higher", 5, "met"),
    # below: 85 - 82 = 3 <= band 5 -> at risk; the band's far edge (80) is still at risk
    (82, 85, "higher", 5, "at_risk"),
    (80, 85, "higher", 5, "at_risk"),
    # 85 - 79.9 = 5.1 > 5 -> missed; without a band any shortfall is missed
    (79.9, 85, "higher", 5, "missed"),
    (84.9, 85, "higher", None, "missed"),
    (84.9, 85, "higher", 0, "missed"),
    # lower is better: met on or below, the band lies above the target
    (60, 60, "lower", 15, "met"),
    (30, 60, "lower", 15, "met"),
    (70, 60, "lower", 15, "at_risk"),   # 70 - 60 = 10 <= 15
    (75, 60, "lower", 15, "at_risk"),   # 15 <= 15: edge included
    (75.5, 60, "lower", 15, "missed"),  # 15.5 > 15
    (61, 60, "lower", None, "missed"),
    # a value on the good side is never at risk, however wide the band
    (50, 60, "lower", 100, "met"),
    # negative targets (NPS): -5 is 5 below 0, within a band of 10
    (-5, 0, "higher", 10, "at_risk"),
    (-10.5, 0, "higher", 10, "missed"),
    # float noise on the target counts as on target: (0.1 + 0.2) * 100 = 30.000000000000004
    ((0.1 + 0.2) * 100, 30, "lower", None, "met"),
    # no target, or no value
    (50, None, "higher", None, "no_target"),
    (None, None, "lower", None, "no_target"),
    (None, 85, "higher", 5, "no_data"),
])
def test_status_rules(value, target, direction, band, expected):
    assert status(value, target, direction, band) == expected


def test_status_needs_a_direction():
    with pytest.raises(ValueError, match="direction higher or lower"):
        status(5, 3, "neutral")


# -- per-dimension overrides -----------------------------------------------------------------


def test_override_replaces_the_value_and_inherits_the_band():
    frt = parse(EXAMPLE)["first_response_time"]
    # chat has its own value 2 and the KPI's band 15
    assert frt.resolve({"channel": "chat"}) == (2.0, 15.0, "channel=chat")
    # enumerations are stored lower-case; config keys match case-insensitively
    assert frt.resolve({"channel": "EMAIL"}) == (240.0, 15.0, "channel=EMAIL")
    # a channel without an override, a missing value and no dimension keep the KPI's target
    assert frt.resolve({"channel": "phone"}) == (60.0, 15.0, None)
    assert frt.resolve({"channel": None}) == (60.0, 15.0, None)
    assert frt.resolve({}) == (60.0, 15.0, None)
    assert frt.resolve({"team": "billing"}) == (60.0, 15.0, None)


def test_override_with_its_own_band_and_first_dimension_wins():
    t = parse("[targets.aht]\nvalue = 360\nat_risk = 60\n[targets.aht.by.queue]\nbilling = { value = 300, at_risk = 30 }\n"
              "[targets.aht.by.agent_id]\nA7 = 200\n")["aht"]
    assert t.resolve({"queue": "billing"}) == (300.0, 30.0, "queue=billing")
    # both dimensions have an override: the first in the query's order wins
    assert t.resolve({"queue": "billing", "agent_id": "A7"}, ["agent_id", "queue"]) == (200.0, 60.0, "agent_id=A7")
    assert t.resolve({"queue": "billing", "agent_id": "A7"}, ["queue", "agent_id"]) == (300.0, 30.0, "queue=billing")


# -- defaults -----------------------------------------------------------------------------------


def test_default_targets_apply_without_a_targets_table():
    assert parse_targets({}, SRC) == dict(DEFAULT_TARGETS)
    assert parse_targets({"timezone": "UTC"}, SRC) == dict(DEFAULT_TARGETS)
    # no config file at all
    assert targets_for(Config()) == dict(DEFAULT_TARGETS)


def test_default_set_is_marked_sourced_and_consistent_with_the_catalog():
    cat = catalog()
    assert {"first_response_time", "csat", "nps", "fcr_rate", "abandonment_rate", "call_service_level",
            "aht", "churn_rate"} <= set(DEFAULT_TARGETS)
    for kid, t in DEFAULT_TARGETS.items():
        assert t.kpi == kid and t.default and t.source, kid
        assert t.direction == cat.kpis[kid].direction != "neutral"


@pytest.mark.parametrize("kid, value, band", [
    ("first_response_time", 1440, None),  # within 24 h = 1440 minutes
    ("csat", 80, 5),                      # good 80-85%, attention below 75%
    ("nps", 0, None),                     # above 0 is good
    ("fcr_rate", 70, None),               # good FCR 70-79%
    ("abandonment_rate", 5, 3),           # below 5%, 5-8% the norm
    ("call_service_level", 80, None),     # 80/20
    ("aht", 360, None),                   # 6 minutes = 360 s
    ("churn_rate", 5, 2),                 # 5-7% a month
])
def test_default_figures(kid, value, band):
    t = DEFAULT_TARGETS[kid]
    assert (t.value, t.at_risk) == (value, band)


def test_default_first_response_has_channel_overrides():
    t = DEFAULT_TARGETS["first_response_time"]
    # 82% expect a reply within 10 minutes (chat); social within 12 h = 720 min; overrides carry no band
    assert t.resolve({"channel": "chat"}) == (10.0, 0.0, "channel=chat")
    assert t.resolve({"channel": "social"}) == (720.0, 0.0, "channel=social")
    assert t.resolve({"channel": "email"}) == (1440.0, None, None)


def test_an_empty_targets_table_means_no_targets():
    assert parse("[targets]\n") == {}


def test_config_targets_replace_the_defaults_unless_included():
    only = parse("[targets.csat]\nvalue = 90\n")
    assert set(only) == {"csat"}
    merged = parse("[targets]\ninclude_defaults = true\n[targets.csat]\nvalue = 90\n")
    assert set(merged) == set(DEFAULT_TARGETS)
    assert merged["csat"].value == 90 and not merged["csat"].default  # the config wins
    assert merged["nps"] == DEFAULT_TARGETS["nps"]


def test_targets_for_prefers_targets_set_by_the_config_loader():
    chosen = {"csat": Target("csat", 70.0, "higher")}
    cfg = Config(raw={"targets": {"csat": {"value": 99}}}, source=SRC)
    cfg.targets = chosen  # what config.load will set once it parses [targets]
    assert targets_for(cfg) is chosen
    plain = Config(raw={"targets": {"csat": {"value": 99}}}, source=SRC)
    assert targets_for(plain)["csat"].value == 99


# -- docs ----------------------------------------------------------------------------------------


def test_docs_describe_the_schema_and_every_default():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "targets.md").read_text(encoding="utf-8")
    for word in ("value", "at_risk", "due", "by", "include_defaults", "no_target", "no_data", "at risk"):
        assert word in doc, word
    for kid, t in DEFAULT_TARGETS.items():
        assert f"`{kid}`" in doc, kid
        assert f"{t.value:g}" in doc, (kid, t.value)
