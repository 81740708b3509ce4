"""Shared test helpers: write a dataset, import it through the CLI, query KPIs as JSON."""
from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

import pytest
import typer.testing
from typer.testing import CliRunner

from servicekpi.cli.app import app

# Typer rebuilds the whole click command tree on every CliRunner.invoke (~64 ms, a quarter of an
# in-process command in tests/kpis). The tree never changes after import: build it once per app.
_BUILT: dict[int, tuple] = {}
_build_command = typer.testing._get_command


def _built_command(typer_app):
    if id(typer_app) not in _BUILT:
        _BUILT[id(typer_app)] = (typer_app, _build_command(typer_app))
    return _BUILT[id(typer_app)][1]


typer.testing._get_command = _built_command

ASOF = "2027-01-01T00:00:00Z"
_EMPTY: list[Path] = []


def empty_store() -> Path:
    """A store with the current schema and no data, created once per process (creating the schema
    costs ~0.2 s; a copy ~2 ms). Importing into the copy is what importing into a new file does."""
    if not _EMPTY:
        from servicekpi.store import db as store
        path = Path(tempfile.mkdtemp(prefix="servicekpi-empty-")) / "empty.duckdb"
        store.connect(path).close()
        _EMPTY.append(path)
    return _EMPTY[0]


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
        if not self.db.exists():  # a new store: a copy of the empty one made once per test process
            shutil.copyfile(empty_store(), self.db)
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


_TEMPLATES: dict[str, Path] = {}


def from_template(root: Path, key: str, build) -> Workspace:
    """A workspace in `root` equal to what `build(Workspace)` makes, built once per test process
    and copied (store, data and config files) into each caller's own directory."""
    if key not in _TEMPLATES:
        src = Path(tempfile.mkdtemp(prefix=f"servicekpi-{key}-"))
        build(Workspace(src))
        _TEMPLATES[key] = src
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_TEMPLATES[key], root, dirs_exist_ok=True)
    return Workspace(root)


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


# -- how the suite runs: markers and xdist groups (pyproject registers the markers) -------------
# browser: needs Debian's chromium; office: LibreOffice; postgres: a PostgreSQL server;
# serial: runs alone after the parallel pass (servers under load, the browser session).
BROWSER_FIXTURES = {"browser", "pdfs"}
BY_FILE = {"test_pdf.py": ("browser",), "test_dashboard_e2e.py": ("browser",),
           "test_chatwoot_postgres.py": ("postgres",), "test_concurrency.py": ("serial", "slow"),
           "test_schemathesis.py": ("slow",),
           # Spark: JVMs (a local session; a standalone master + two workers, run alone)
           "test_spark_local.py": ("spark",), "test_spark_cluster.py": ("spark", "serial")}


@pytest.hookimpl(tryfirst=True)  # before xdist's worker hook, which reads the xdist_group marks it sets
def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        marks = set(BY_FILE.get(item.path.name, ()))
        if BROWSER_FIXTURES & names:
            marks.add("browser")
        if "recalc" in names:
            marks.add("office")
        if "browser" in names:  # the one browser session drives the dashboard step by step
            marks.add("serial")
        for m in marks:
            item.add_marker(getattr(pytest.mark, m))
        # a module-scoped fixture is built once when its module's tests share one worker
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}) or {}
        if any(d.scope == "module" for ds in defs.values() for d in ds):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def pytest_collection_finish(session):
    """Everything collected so far is long-lived: keep it out of every later collection (the
    gc.collect calls that close DuckDB handles between in-process commands get cheap)."""
    import gc
    gc.collect()
    gc.freeze()
