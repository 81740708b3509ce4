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
_OWN: list[Path] = []


def own_tmp(prefix: str) -> Path:
    """A temporary directory of this test process, removed when its session ends (pytest_unconfigure):
    the kept imports, empty stores and templates were left in /tmp, about a thousand a run."""
    if not _OWN:
        _OWN.append(Path(tempfile.mkdtemp(prefix="servicekpi-tests-")))
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_OWN[0]))


def empty_store() -> Path:
    """A store with the current schema and no data, created once per process (creating the schema
    costs ~0.2 s; a copy ~2 ms). Importing into the copy is what importing into a new file does."""
    if not _EMPTY:
        from servicekpi.store import db as store
        path = own_tmp("empty-") / "empty.duckdb"
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
        if self.db.exists():
            r = self.cli("import", str(path or self.data), *extra)
        else:  # a new store: a copy of the empty one made once per test process, or of the same import
            r = _first_import(self, path or self.data, extra)
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


# -- the same import into a new store, once per module and process ---------------------------
# Tests of one module often import the same files into new stores (parametrized cases, one
# dataset for many checks): about half of the imports in tests/kpis, sla, business and erase.
# The first import runs; a later one with the same inputs gets a copy of the store it made and
# its result. Only when nothing in that store or output names the workspace's own path (no
# quarantine line, no source name), and never in a module that patches code or the environment.
_IMPORTS: dict[tuple, tuple[Path | None, object]] = {}
_PATCHING: dict[str, bool] = {}


def _first_import(ws: Workspace, path: Path, extra: tuple):
    key = _import_key(ws, Path(path), extra)
    if key in _IMPORTS and _IMPORTS[key][0] is not None:
        saved, result = _IMPORTS[key]
        for f in saved.iterdir():
            (shutil.copytree if f.is_dir() else shutil.copyfile)(f, ws.root / f.name)
        return result
    shutil.copyfile(empty_store(), ws.db)
    r = ws.cli("import", str(path), *extra)
    if key is not None and key not in _IMPORTS:
        _IMPORTS[key] = (_keep(ws, r), r)
    return r


def _import_key(ws: Workspace, path: Path, extra: tuple) -> tuple | None:
    import hashlib
    import os
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[0]
    if not test or _patches(test):
        return None
    h = hashlib.sha256()
    root = str(ws.root)
    # every file of the workspace but the store (data, config, mappings), and the imported path
    tops = [f for f in ws.root.iterdir() if not f.name.startswith(ws.db.name)]
    for top in [*tops, *([] if str(path).startswith(root) else [path])]:
        for f in sorted(top.rglob("*")) if top.is_dir() else [top]:
            if f.is_file():
                h.update(str(f).replace(root, "<root>").encode() + b"\0" + f.read_bytes() + b"\0")
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith("SERVICEKPI"))
    return test, str(path).replace(root, "<root>"), tuple(a.replace(root, "<root>") for a in extra), repr(env), \
        h.hexdigest()


def _patches(test: str) -> bool:
    if test not in _PATCHING:
        try:
            text = Path(test).read_text(encoding="utf-8")
        except OSError:
            text = "monkeypatch"
        _PATCHING[test] = any(w in text for w in ("monkeypatch", "mock", "patch(", "environ"))
    return _PATCHING[test]


def _keep(ws: Workspace, r) -> Path | None:
    """A copy of the store an import made, or None when the store or output names its path."""
    import duckdb
    if r.exit_code != 0 or any(p in (r.stdout or "") + (r.stderr or "") for p in (str(ws.root), ws.root.name)):
        return None
    con = duckdb.connect(str(ws.db), read_only=True)
    try:  # one statement over every text column (one each cost ~100 ms a store) and the quarantine
        text: dict[str, list[str]] = {}
        for t, c in con.execute("SELECT c.table_name, c.column_name FROM duckdb_columns() c JOIN duckdb_tables() t "
                                "USING (database_name, schema_name, table_name) WHERE c.data_type = 'VARCHAR' "
                                "AND NOT c.internal AND t.estimated_size > 0").fetchall():  # tables holding rows
            text.setdefault(t, []).append(c)
        probes = [f'(SELECT 1 FROM "{t}" WHERE ' + " OR ".join(f'contains("{c}", $1) OR contains("{c}", $2)'
                                                               for c in cols) + " LIMIT 1)"
                  for t, cols in text.items()]
        probes.append("(SELECT 1 FROM quarantine LIMIT 1)")
        if con.execute(f"SELECT count(*) FROM ({' UNION ALL '.join(probes)})",
                       [str(ws.root), ws.root.name]).fetchall()[0][0]:
            return None
    finally:
        con.close()
    saved = own_tmp("import-")
    for f in ws.root.iterdir():
        if f.name.startswith(ws.db.name):
            (shutil.copytree if f.is_dir() else shutil.copyfile)(f, saved / f.name)
    return saved


_TEMPLATES: dict[str, Path] = {}


def from_template(root: Path, key: str, build) -> Workspace:
    """A workspace in `root` equal to what `build(Workspace)` makes, built once per test process
    and copied (store, data and config files) into each caller's own directory."""
    if key not in _TEMPLATES:
        src = own_tmp(f"{key}-")
        build(Workspace(src))
        _TEMPLATES[key] = src
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_TEMPLATES[key], root, dirs_exist_ok=True)
    return Workspace(root)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path)


# -- one compiled-SQL directory for the whole run --------------------------------------------
# Every store of the run keeps its compiled SQL in one directory (SERVICEKPI_SQL_CACHE_DIR,
# core/sql_files.py) that the xdist workers and subprocesses share, instead of one beside each
# test's store: a query shape compiled by one worker is read by the other (exact: the key holds
# the code, config, shape, tables and columns). Measured on tests/kpis, sla and three report and
# API modules, 2 workers: 191 -> 173 CPU s. The modules that test the directory beside the store
# run without it.
SQL_BESIDE_THE_STORE = {"test_disk_sql_cache.py", "test_business_sql_files.py", "test_lazy_imports.py"}


def pytest_configure(config):
    import os
    if not hasattr(config, "workerinput") and "SERVICEKPI_SQL_CACHE_DIR" not in os.environ:
        shared = tempfile.mkdtemp(prefix="servicekpi-sql-")
        os.environ["SERVICEKPI_SQL_CACHE_DIR"] = config._servicekpi_sql_dir = shared  # workers inherit it


def pytest_unconfigure(config):
    shared = getattr(config, "_servicekpi_sql_dir", None)
    if shared:
        shutil.rmtree(shared, ignore_errors=True)
    import sys
    # each process's own (the controller's and every worker's), also of this module imported a
    # second time as tests.conftest (the Spark and export tests do)
    for mod in {sys.modules.get(n) for n in ("conftest", "tests.conftest")} - {None}:
        for own in getattr(mod, "_OWN", []):
            shutil.rmtree(own, ignore_errors=True)


@pytest.fixture(autouse=True)
def _sql_beside_the_store(request):
    if request.node.path.name not in SQL_BESIDE_THE_STORE:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:  # its own: a test's monkeypatch.undo() keeps it
        mp.delenv("SERVICEKPI_SQL_CACHE_DIR", raising=False)
        yield


def release() -> None:
    """Collect what an in-process command left in reference cycles (its frames hold the store's
    connection), then freeze what survives: the next collection scans only newer objects. A
    full collection scans every tracked object (~150k once Ibis is loaded: 30-70 ms each), and
    the suite collects after thousands of commands."""
    import gc
    gc.collect()
    gc.freeze()


def run(ws: Workspace, *args: str):
    """ws.cli without keeping the command's frames alive (each real run is its own process)."""
    from types import SimpleNamespace
    r = ws.cli(*args)
    out = SimpleNamespace(exit_code=r.exit_code, stdout=r.stdout, stderr=r.stderr, exception=repr(r.exception))
    del r
    release()
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
# the only files holding serial tests: a run of serial tests only (`-m "serial and ..."`, the
# Makefile's test-spark and test-serial) collects just these (collecting every module costs each
# process ~7 CPU s); a serial test anywhere else fails the collection of every run
SERIAL_FILES = {f for f, marks in BY_FILE.items() if "serial" in marks} | {
    "test_dashboard_e2e.py",  # the browser fixture's tests (pytest_collection_modifyitems)
    "test_spark_connect.py"}  # its own pytestmark


def _serial_only(config) -> bool:
    expr = (config.getoption("markexpr", "") or "").replace("(", " ").replace(")", " ").split()
    return bool(expr) and expr[0] == "serial" and (len(expr) == 1 or expr[1] == "and")


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_") \
            and collection_path.name not in SERIAL_FILES and _serial_only(config):
        return True
    return None


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
        if item.get_closest_marker("serial") and item.path.name not in SERIAL_FILES:
            raise pytest.UsageError(f"{item.nodeid} is serial: add its file to SERIAL_FILES in tests/conftest.py")
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
