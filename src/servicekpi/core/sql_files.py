"""Compiled SQL kept in files beside the store (`<store>.sqlcache/`), keyed by everything it is
built from: read by the engine (engine/sql_cache.py) and the stored business seconds
(store/business.py), so a process that finds its SQL there imports and runs no Ibis."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

FORMAT = 1  # bumped when the stored entry changes

_CODE: dict[str, str] = {}


def code_version() -> str:
    """What compiled SQL depends on besides the query and the store: servicekpi's own source
    (every module's size and modification time) and the Ibis and sqlglot installs. Read once a process."""
    if "v" not in _CODE:
        parts = []
        root = Path(__file__).resolve().parents[1]  # the servicekpi package
        for dirpath, _, names in os.walk(root):
            for n in sorted(names):
                if n.endswith((".py", ".toml")):
                    st = os.stat(os.path.join(dirpath, n))
                    parts.append(f"{os.path.relpath(os.path.join(dirpath, n), root)}:{st.st_size}:{st.st_mtime_ns}")
        for pkg in ("ibis", "sqlglot"):
            spec = importlib.util.find_spec(pkg)
            origin = spec.origin if spec and spec.origin else ""
            parts.append(f"{pkg}:{os.stat(origin).st_mtime_ns if origin else ''}:{origin}")
        _CODE["v"] = hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()
    return _CODE["v"]


class DiskSqlCache:
    """Templates kept in files beside the store (`<store>.sqlcache/`), one per key hash, each
    written whole (a temporary file renamed over). Beside the store, not in it: a store opened
    read-only, or held by a server, is never written for it. A directory that cannot be written
    only means nothing is kept; an unreadable or foreign entry is a miss."""

    MAX_FILES = 4096

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.hits = self.misses = self.writes = 0

    @classmethod
    def beside(cls, con) -> DiskSqlCache | None:
        """The cache of a DuckDB connection's store file; None for an in-memory store or when
        SERVICEKPI_SQL_CACHE=off. SERVICEKPI_SQL_CACHE_DIR names one directory for every store
        instead (many workspaces, or a store on a read-only mount): the key holds everything the
        SQL is built from (code, config, shape, tables and columns), so stores may share entries."""
        if os.environ.get("SERVICEKPI_SQL_CACHE", "").lower() in ("off", "0", "no"):
            return None
        shared = os.environ.get("SERVICEKPI_SQL_CACHE_DIR")
        if shared:
            return cls(Path(shared))
        try:
            row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        except Exception:  # noqa: BLE001 - not a DuckDB connection: no disk cache
            return None
        path = row[0][0] if row else None
        if not path or path == ":memory:":
            return None
        return cls(Path(path + ".sqlcache"))

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:40]

    def get(self, key: str):
        """(template or None, inputs) kept for the key; None when there is nothing."""
        try:
            entry = json.loads((self.dir / f"{self.digest(key)}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.misses += 1
            return None
        if entry.get("format") != FORMAT or entry.get("key") != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry["sql"], tuple(tuple(i) for i in entry["inputs"])

    def put(self, key: str, sql: str | None, inputs) -> None:
        entry = json.dumps({"format": FORMAT, "key": key, "sql": sql, "inputs": [list(i) for i in inputs]})
        try:
            self.dir.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(entry)
            os.replace(tmp, self.dir / f"{self.digest(key)}.json")
            self.writes += 1
            if self.writes == 1:
                self._prune()
        except OSError:  # a read-only place: nothing is kept, nothing breaks
            return

    def _prune(self) -> None:
        """Keep the newest MAX_FILES entries (keys of older code or configs are never read again)."""
        files = [e for e in os.scandir(self.dir) if e.name.endswith(".json")]
        if len(files) <= self.MAX_FILES:
            return
        files.sort(key=lambda e: e.stat().st_mtime_ns)
        for e in files[: len(files) - self.MAX_FILES]:
            try:
                os.unlink(e.path)
            except OSError:
                pass
