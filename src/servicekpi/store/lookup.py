"""Does any record hold a value? For notes when a filter or an agent id matches nothing."""
from __future__ import annotations

from servicekpi.core.model import TABLES
from servicekpi.store.db import imported_tables, quote, table_columns


def tables_with_column(con, column: str, tables=None) -> list[str]:
    """The imported tables (of `tables`, default all) that have `column`."""
    imported = imported_tables(con)
    names = [t for t in (tables or TABLES) if t in imported]
    return [t for t in names if column in table_columns(con, t)]


def holds(con, column: str, value, tables=None, casefold: bool = False) -> bool | None:
    """True when a record of the imported tables (of `tables`) has column = value; None when no such
    table has the column (nothing to say). The value is bound, the names come from the schema."""
    found = tables_with_column(con, column, tables)
    if not found:
        return None
    for t in found:
        col = f"lower(CAST({quote(column)} AS VARCHAR))" if casefold else f"CAST({quote(column)} AS VARCHAR)"
        probe = str(value).lower() if casefold else str(value)
        if con.execute(f"SELECT 1 FROM {quote(t)} WHERE {col} = ? LIMIT 1", [probe]).fetchall():
            return True
    return False
