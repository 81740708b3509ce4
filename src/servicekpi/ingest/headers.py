"""Column names from a source file: matched to the canonical ones ignoring case; unusable ones named.

DuckDB compares identifiers ignoring case, so `Channel` beside `channel` is one name twice: the file
is rejected with both spellings. A name the store uses itself (derived facts, `__`-prefixed internals,
which the validator's own names also carry) or one with control characters is ignored with a note.
"""
from __future__ import annotations

import re

import duckdb

from servicekpi.core.model import Table
from servicekpi.ingest.readers import FileError
from servicekpi.store.db import INTERNAL

MAX_NAME = 255  # characters in a column name
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INTERNAL = {n.lower() for n in INTERNAL}


def canonical(columns: list[str], table: Table, source: str, kind: str) -> list[str]:
    """Each source column's name, trimmed, with a canonical column's own spelling when it matches
    one ignoring case. Two names equal ignoring case reject the file."""
    canon = {c.lower(): c for c in table.names}
    out: list[str] = []
    seen: dict[str, str] = {}
    for raw in columns:
        name = str(raw).strip()
        name = canon.get(name.lower(), name)
        key = name.lower()
        if name and key in seen:
            first = seen[key]
            what = (f"column '{first}' appears twice in the header" if first == str(raw).strip() else
                    f"columns '{first}' and '{str(raw).strip()}' are the same name (column names are "
                    "matched ignoring case); rename or remove one")
            raise FileError(source, f"{kind} 1: {what}")
        seen[key] = str(raw).strip()
        out.append(name)
    return out


def unusable(name: str) -> str | None:
    """Why an extra column name cannot be kept, or None."""
    if not name:
        return "no column name"
    if _CONTROL.search(name):
        return "a column name with control characters is not usable"
    if len(name) > MAX_NAME:
        return f"a column name longer than {MAX_NAME} characters is not usable"
    if name.startswith("__") or name.lower() in _INTERNAL or name.lower().startswith("__b_"):
        return "the store uses this name itself"
    return None


def shown(name: str) -> str:
    """A column name for a message: control characters escaped, long names cut."""
    text = name.encode("unicode_escape").decode("ascii") if _CONTROL.search(name) else name
    return "'" + (text[:60] + "..." if len(text) > 60 else text) + "'"


def check_parquet(path) -> None:
    """Decode every column once, outside the import's transaction (a DuckDB error inside it would
    abort the whole import): a corrupt file is then one located file rejection."""
    try:
        with duckdb.connect() as con:
            con.execute("SELECT count(*), sum(hash(COLUMNS(*))) FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise FileError(str(path), f"cannot read as Parquet: {first}") from None
