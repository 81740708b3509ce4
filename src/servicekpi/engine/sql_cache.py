"""Compiled SQL kept by query shape: in the process (SqlCache) and across processes (DiskSqlCache,
a directory beside the store), so a command answers without importing or running Ibis.

The as-of instant is in nearly every statement, but it is not in the key: a statement is kept as
a template where the instant's literal is a placeholder (template_of), proved on its first
compile to depend on the instant through that literal only (on the Ibis expressions built at
the instant and at a sentinel one; as_template is the same rule on two compiled statements). The key holds everything else the
SQL is built from: the code (code_version), the config's fingerprint, the query shape, the
imported tables and stored columns (Engine._sql_inputs)."""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

from servicekpi.core.sql_files import _CODE, FORMAT, DiskSqlCache, code_version  # noqa: F401 - re-exported

ASOF = "__sk_asof__"  # placeholder of the as-of instant's literal in a template
# a far instant differing from any as-of in every field, so no value derived from the
# instant (its date, month, year, hour) can compile alike for both
SENTINEL = dt.datetime(1987, 7, 19, 13, 41, 27, 531)


class SqlCache:
    """Compiled SQL by query shape (Ibis compiling costs ~40 ms), LRU-bounded; engines on cursors
    of one store may share one (the server's pool does). The shape holds the query and what the
    SQL is built from (Engine._sql_inputs), not the data, so writes do not empty it."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, object] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, shape: tuple):
        with self._lock:
            sql = self._entries.get(shape)
            if sql is None:
                self.misses += 1
            else:
                self.hits += 1
                self._entries.move_to_end(shape)
            return sql

    def put(self, shape: tuple, sql) -> None:
        with self._lock:
            self._entries[shape] = sql
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def timestamp_sql(v: dt.datetime) -> str:
    """An instant as Ibis writes a timestamp literal for DuckDB (checked on every compile)."""
    return f"MAKE_TIMESTAMP({v.year}, {v.month}, {v.day}, {v.hour}, {v.minute}, {v.second + v.microsecond / 1e6!r})"


def as_template(sql: str, asof: dt.datetime, sentinel_sql: str) -> str | None:
    """The statement with the as-of literal as a placeholder, or None when it is not a template.
    sentinel_sql is the same query compiled at the SENTINEL instant: its literal becomes the
    placeholder, and filled with the real instant it must give the real statement (sql) exactly,
    else the instant shaped the SQL some other way (a date or month derived from it, a branch)."""
    template = sentinel_sql.replace(timestamp_sql(SENTINEL), ASOF)
    return template if fill(template, asof) == sql else None


def template_of(expr, sentinel_expr, asof: dt.datetime, dialect: str) -> str | None:
    """The template of a query built at `asof` (expr) and at the SENTINEL (sentinel_expr), proved on
    the expressions: they must be the same graph, node for node, but for literals holding the
    SENTINEL in one where the other holds `asof` (a value derived from the instant, a date or a
    branch, differs and makes it not a template). Only the sentinel's SQL is compiled: the
    template is that SQL with the instant's literal as the placeholder. None when not a template."""
    import ibis
    import ibis.expr.operations as ops
    if not _alike(sentinel_expr.op(), expr.op(), asof, ops.Literal, ops.Node, {}):
        return None
    sql = ibis.to_sql(sentinel_expr, dialect=dialect, pretty=False)
    return sql.replace(timestamp_sql(SENTINEL), ASOF)


def _alike(a, b, asof, literal, node, seen: dict) -> bool:
    """a (built at the sentinel) equals b (built at asof) with the sentinel read as asof."""
    if isinstance(a, node):
        if type(a) is not type(b):
            return False
        pair = (id(a), id(b))
        if pair not in seen:
            if type(a) is literal and _is_sentinel(a.value):
                seen[pair] = b.value == asof and a.dtype == b.dtype
            else:
                seen[pair] = True  # a graph has no cycles; shared nodes are compared once
                seen[pair] = all(_alike(x, y, asof, literal, node, seen) for x, y in zip(a.__args__, b.__args__))
        return seen[pair]
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(
            _alike(x, y, asof, literal, node, seen) for x, y in zip(a, b))
    if isinstance(a, dict) or hasattr(a, "items") and not isinstance(a, str):
        return hasattr(b, "items") and list(a.keys()) == list(b.keys()) and all(
            _alike(a[k], b[k], asof, literal, node, seen) for k in a)
    if _is_sentinel(a):  # the instant outside a literal node
        return b == asof
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):  # values without a plain equality: not proved alike
        return False


def _is_sentinel(v) -> bool:
    try:
        return bool(v == SENTINEL)
    except (TypeError, ValueError):
        return False


def fill(template: str, asof: dt.datetime) -> str:
    return template.replace(ASOF, timestamp_sql(asof))


