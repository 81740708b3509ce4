"""A mapping expression nested or long past the limits is a located mapping error (issue 12, item 10a),
not "maximum recursion depth exceeded"."""
from __future__ import annotations

import textwrap

import pytest

from conftest import run, said


def _import(ws, tmp_path, expr: str):
    (tmp_path / "c.csv").write_text("id,when,wait\n1,2026-10-01T10:00:00Z,5\n", encoding="utf-8")
    m = tmp_path / "m.toml"
    m.write_text(textwrap.dedent(f"""
        [[files]]
        [[files.tables]]
        table = "calls"
        [files.tables.columns]
        call_id = "id"
        entered_at = "when"
        answered_at = {{ expr = "{expr}" }}
        """), encoding="utf-8")
    return run(ws, "import", str(tmp_path / "c.csv"), "--source", "csv", "--mapping", str(m))


@pytest.mark.parametrize("expr,reason", [
    ("(" * 3000 + "wait" + ")" * 3000, "nested deeper than 32 parentheses"),
    ("entered_at + " + "- " * 3000 + "wait seconds", "longer than 200 parts"),
    ("entered_at + " + " + ".join(["wait"] * 3000) + " seconds", "longer than 200 parts"),
])
def test_deep_or_long_expression_is_a_located_mapping_error(ws, tmp_path, expr, reason):
    r = _import(ws, tmp_path, expr)
    assert r.exit_code == 1, r.stdout + r.stderr
    assert said(r.stderr, "m.toml: files[0].tables[0].columns.answered_at.expr: the expression is"), r.stderr
    assert said(r.stderr, reason), r.stderr
    assert "recursion" not in r.stderr + r.exception


def test_nesting_within_the_limit_works(ws, tmp_path):
    r = _import(ws, tmp_path, "entered_at + " + "(" * 32 + "wait" + ")" * 32 + " seconds")
    assert r.exit_code == 0, r.stdout + r.stderr
