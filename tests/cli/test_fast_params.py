"""Plain option values are coerced without Pydantic (cli/fast_params.py) to exactly what Typer's own
coercion gives; anything else, invalid values included, is still Typer's (same message, exit 2)."""
from __future__ import annotations

from typer._click import Context
from typer._coercion import build_runtime_param
from typer.main import get_command
from typer.testing import CliRunner

from servicekpi.cli import fast_params
from servicekpi.cli.app import app


def parameters():
    out = []

    def walk(cmd):
        out.extend((cmd, p) for p in getattr(cmd, "params", []))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)
    walk(get_command(app))
    return out


def test_every_parameter_of_the_app_is_coerced_as_typer_does(tmp_path):
    exists = tmp_path / "there.toml"
    exists.write_text("", encoding="utf-8")
    samples = [None, "text", " padded ", str(exists), str(tmp_path / "not-yet.duckdb"), ("a", "b"), [], 0, 7, 2.5]
    plain = 0
    for cmd, param in parameters():
        multi = param.multiple or param.nargs == -1
        for value in [*samples, param.default]:
            ours = fast_params.coerce(param.type_descriptor, multi, value)
            if ours is fast_params.MISS:
                continue
            plain += 1
            theirs = build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=Context(cmd))
            assert (type(ours), ours) == (type(theirs), theirs), (cmd.name, param.name, value)
    assert plain > 500  # the app's ~250 parameters, each with several plain values


def test_the_plain_path_is_installed_and_leaves_invalid_values_to_typer(tmp_path):
    assert fast_params.install()
    param = next(p for c, p in parameters() if p.name == "limit")
    assert isinstance(param.get_runtime_param(), fast_params._Plain)
    assert fast_params.coerce(param.type_descriptor, False, "abc") is fast_params.MISS
    r = CliRunner().invoke(app, ["report", "--window", "abc", "--db", str(tmp_path / "s.duckdb")])
    assert r.exit_code == 2
    assert "Invalid value for '--window': Input should be a valid integer" in " ".join(r.output.split())  # Pydantic's words
