"""The DuckDB backend: the embedded store file (the default)."""
from __future__ import annotations

from servicekpi.core.lazy import lazy
from servicekpi.store.db import quote

ibis = lazy("ibis")


class DuckDBBackend:
    dialect = "duckdb"

    def __init__(self, con):
        self.con = con
        self._ib = None

    @property
    def ib(self):
        """The Ibis backend over the connection, made on first use (compiling needs it, cached SQL not)."""
        if self._ib is None:
            self._ib = ibis.duckdb.from_connection(self.con)
        return self._ib

    def register(self, name: str, table) -> None:
        self.con.register(name, table)

    def page(self, sql: str, order: list[str], limit: int, offset: int) -> tuple[list[dict], int]:
        """A page of a statement's rows (ascending by `order`, nulls last) and how many it has."""
        total = self.con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
        by = ", ".join(f"{quote(c)} ASC NULLS LAST" for c in order)
        cur = self.con.execute(f"SELECT * FROM ({sql}) ORDER BY {by} LIMIT ? OFFSET ?", [limit, offset])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()], total

    def union(self, statements: list[str]) -> str:
        return " UNION ALL BY NAME ".join(f"SELECT {i} AS __group, * FROM ({sql})" for i, sql in enumerate(statements))

    def run(self, sql: str) -> list[dict]:
        cur = self.con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def columns(self) -> list[tuple[str, str, str]]:
        return self.con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index").fetchall()
