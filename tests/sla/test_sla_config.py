"""Validation of the [[sla]] rules in the workspace config (issue 3: "a test per validation error").

Each invalid file stops the command with exit code 1 and a located message on stderr: the file,
the key (sla, sla[i], sla[i].match.COLUMN, ...) and what was expected. Nothing goes to stdout.
"""
from __future__ import annotations

import pytest

ASOF = "2027-01-01T00:00:00Z"

GOOD_RULE = '[[sla]]\nname = "ok"\nfirst_response = "1h"\n'


def flat(text: str) -> str:
    """Whitespace-normalised text (a console may wrap long lines)."""
    return " ".join(text.split())


def run_with(ws, text: str):
    """Import one ticket, then query an SLA KPI with the given config; returns the Result."""
    ws.write("tickets", [{"ticket_id": "T1", "created_at": "2026-10-01T10:00:00Z",
                          "first_response_at": "2026-10-01T10:30:00Z"}])
    ws.load()
    path = ws.root / "bad.toml"
    path.write_text(text, encoding="utf-8")
    r = ws.cli("kpi", "sla_first_response_met", "--format", "json", "--as-of", ASOF, "--config", str(path))
    return r, path


def assert_located(r, path, *parts: str) -> str:
    err = flat(r.stderr)
    assert r.exit_code == 1, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == "", r.stdout
    assert "Traceback" not in r.stderr, r.stderr
    assert str(path) in err, err
    for p in parts:
        assert p in err, (p, err)
    return err


def test_a_valid_rule_is_accepted(ws):
    # the control case: same helper, a valid rule -> exit 0 (T1 answered in 30 min <= 1 h -> 100 %)
    r, _ = run_with(ws, GOOD_RULE)
    assert r.exit_code == 0, r.stderr
    assert '"value": 100.0' in r.stdout


@pytest.mark.parametrize("text", [
    'sla = "fast"\n',                       # a string
    '[sla]\nfirst_response = "1h"\n',       # one table instead of an array of tables
    "sla = 3\n",
], ids=["string", "single-table", "number"])
def test_sla_must_be_an_array_of_rules(ws, text):
    r, path = run_with(ws, text)
    assert_located(r, path, "key sla:", "[[sla]]")


@pytest.mark.parametrize("text", ['sla = ["fast"]\n', "sla = [1]\n"], ids=["string", "number"])
def test_a_rule_must_be_a_table(ws, text):
    r, path = run_with(ws, text)
    assert_located(r, path, "sla[0]", "expected a table")


def test_a_rule_with_an_unknown_key(ws):
    # the second rule (sla[1]) has a typo: "resolution_time"
    r, path = run_with(ws, GOOD_RULE + '[[sla]]\nname = "b"\nfirst_response = "1h"\nresolution_time = "1d"\n')
    err = assert_located(r, path, "sla[1].resolution_time", "unknown key")
    # what was expected: the valid keys
    for key in ("name", "match", "hours", "first_response", "next_response", "resolution"):
        assert key in err.split("unknown key", 1)[1], err


def test_match_must_be_a_table(ws):
    r, path = run_with(ws, '[[sla]]\nmatch = "enterprise"\nfirst_response = "1h"\n')
    assert_located(r, path, "sla[0].match", "expected a table")


@pytest.mark.parametrize("column", ["team", "agent_id", "status"])
def test_match_on_an_unsupported_column(ws, column):
    r, path = run_with(ws, GOOD_RULE + f'[[sla]]\nmatch = {{ {column} = "x" }}\nfirst_response = "1h"\n')
    assert_located(r, path, f"sla[1].match.{column}", "priority", "customer_tier", "channel", "category")


@pytest.mark.parametrize("value", ["1", "true", '["high", 2]', "{ a = 1 }"],
                         ids=["number", "boolean", "list-with-number", "table"])
def test_match_value_must_be_a_name_or_a_list_of_names(ws, value):
    r, path = run_with(ws, f'[[sla]]\nmatch = {{ priority = {value} }}\nfirst_response = "1h"\n')
    assert_located(r, path, "sla[0].match.priority", "expected a name or a list of names")


@pytest.mark.parametrize("value", ['"weekdays"', '"Business hours"', "true", "8"],
                         ids=["word", "phrase", "boolean", "number"])
def test_bad_hours_value(ws, value):
    r, path = run_with(ws, f'[[sla]]\nfirst_response = "1h"\nhours = {value}\n')
    assert_located(r, path, "sla[0].hours", '"calendar"', '"business"')


@pytest.mark.parametrize("value", ['"4 hours"', '"-1h"', "0", '"0h"', "-2", '"1w"', '"h"', "true", '""'],
                         ids=["words", "negative-text", "zero", "zero-text", "negative-number", "weeks",
                              "no-number", "boolean", "empty"])
@pytest.mark.parametrize("target", ["first_response", "next_response", "resolution"])
def test_bad_duration_text(ws, target, value):
    r, path = run_with(ws, f"[[sla]]\n{target} = {value}\n")
    assert_located(r, path, f"sla[0].{target}", "is not a duration", '"30m"', '"4h"', '"2d"')


def test_a_rule_with_no_target(ws):
    r, path = run_with(ws, GOOD_RULE + '[[sla]]\nname = "empty"\nmatch = { channel = "chat" }\nhours = "business"\n')
    assert_located(r, path, "sla[1]", "first_response", "next_response", "resolution")


@pytest.mark.parametrize("value, hours", [('"30m"', 0.5), ('"4h"', 4), ('"2d"', 48), ("1.5", 1.5), ('"90s"', 0.025)])
def test_valid_duration_forms(ws, value, hours):
    # a rule whose first response target is `value`; T1 answered after 30 min
    r, _ = run_with(ws, f"[[sla]]\nfirst_response = {value}\n")
    assert r.exit_code == 0, r.stderr
    # met exactly when 30 min <= the target: 30m (equal), 4h, 2d, 1.5 h -> 100 %; 90 s -> 0 %
    assert (f'"value": {100.0 if hours >= 0.5 else 0.0}') in r.stdout, r.stdout
