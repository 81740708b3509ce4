"""Shared test helpers: write a dataset, import it through the CLI, query KPIs as JSON."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicekpi.cli.app import app

ASOF = "2027-01-01T00:00:00Z"


class Workspace:
    def __init__(self, root: Path):
        self.root = root
        self.db = root / "store.duckdb"
        self.data = root / "data"
        self.data.mkdir(exist_ok=True)
        self.runner = CliRunner()

    def write(self, table: str, rows: list[dict], fmt: str = "csv") -> Path:
        """Write rows as data/<table>.<fmt> (csv or jsonl); None becomes an empty cell."""
        path = self.data / f"{table}.{fmt}"
        if fmt == "jsonl":
            path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            return path
        names = list(dict.fromkeys(k for r in rows for k in r))
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, names)
            w.writeheader()
            w.writerows([{k: ("" if v is None else v) for k, v in r.items()} for r in rows])
        return path

    def cli(self, *args: str):
        """Run `servicekpi ARGS --db <store>`; returns the click Result (exit_code, stdout, stderr)."""
        return self.runner.invoke(app, [*args, "--db", str(self.db)])

    def load(self, path: Path | None = None, *extra: str):
        r = self.cli("import", str(path or self.data), *extra)
        assert r.exit_code == 0, r.stdout + r.stderr
        return r

    def kpi(self, *args: str, asof: str = ASOF) -> list[dict]:
        r = self.cli("kpi", *args, "--format", "json", "--as-of", asof)
        assert r.exit_code == 0, r.stdout + r.stderr
        return json.loads(r.stdout)

    def value(self, kpi: str, *args: str, asof: str = ASOF):
        rows = self.kpi(kpi, *args, asof=asof)
        assert len(rows) == 1, rows
        return rows[0]["value"]

    def quarantine(self) -> list[dict]:
        r = self.cli("quarantine", "--format", "json")
        assert r.exit_code == 0, r.stdout + r.stderr
        return json.loads(r.stdout)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path)


def run(ws: Workspace, *args: str):
    """ws.cli without keeping the command's frames alive (each real run is its own process)."""
    import gc
    from types import SimpleNamespace
    r = ws.cli(*args)
    out = SimpleNamespace(exit_code=r.exit_code, stdout=r.stdout, stderr=r.stderr, exception=repr(r.exception))
    del r
    gc.collect()
    return out


def said(text: str, part: str) -> bool:
    """part occurs in text, whitespace aside (a console may wrap long lines)."""
    import re
    return re.sub(r"\s+", "", part) in re.sub(r"\s+", "", text)


def pick(rows: list[dict], **keys) -> dict:
    """The one row whose columns equal `keys`."""
    found = [r for r in rows if all(r.get(k) == v for k, v in keys.items())]
    assert len(found) == 1, (keys, rows)
    return found[0]


def one(ws: Workspace, kpi: str, *args: str, asof: str | None = None) -> dict:
    """The single row a KPI query returns."""
    rows = ws.kpi(kpi, *args) if asof is None else ws.kpi(kpi, *args, asof=asof)
    assert len(rows) == 1, rows
    return rows[0]
