"""GET /api/quarantine a page at a time in SQL: the count and one LIMIT/OFFSET page, never every row
(300k entries with limit=1 loaded all of them: 0.6-1.1 s and 624 MB)."""
from __future__ import annotations

ORDER = "quarantined_at, source, line"  # the order of store.quarantine_rows


def quarantine_page(cur, table: str | None, limit: int, offset: int) -> tuple[int, list[dict]]:
    """(total, rows) of the quarantine, optionally of one table; values bound, never SQL text."""
    where, params = ("WHERE table_name = ?", [table]) if table is not None else ("", [])
    total = cur.execute(f"SELECT count(*) FROM quarantine {where}", params).fetchone()[0]
    found = cur.execute(
        f"""SELECT table_name AS "table", source, line, line_kind, "column", reason, raw
            FROM quarantine {where} ORDER BY {ORDER} LIMIT ? OFFSET ?""", [*params, limit, offset])
    names = [d[0] for d in found.description]
    return total, [dict(zip(names, r)) for r in found.fetchall()]
