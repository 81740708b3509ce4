"""Where the engine meets a SQL engine. A Backend connects Ibis, names the SQL dialect, registers
per-query inputs (Arrow tables), unions grouped statements and runs SQL; the KPI definitions and
their compilation (catalog/, engine/compile.py) are the same for every backend."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import pyarrow as pa


class Backend(Protocol):
    dialect: str  # sqlglot / Ibis dialect name the compiled SQL is written in
    ib: object  # the Ibis backend over the same connection

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table readable by name for the statements that follow (a per-query input)."""

    def page(self, sql: str, order: list[str], limit: int, offset: int) -> tuple[list[dict], int]:
        """Rows `offset` to `offset + limit` of a compiled statement ordered by `order` (ascending,
        nulls last), and how many rows it has in all."""

    def union(self, statements: list[str]) -> str:
        """One statement running every (already compiled) group; column sets may differ."""

    def run(self, sql: str) -> list[dict]:
        """Execute SQL and return its rows as dicts."""

    def columns(self) -> list[tuple[str, str, str]]:
        """(table, column, type) of every stored table, in column order."""
