"""API ingestion: a JSON array or NDJSON body -> the import's validation, quarantine and upsert,
in one transaction on the single writer, with Idempotency-Key replay scoped to the token."""
from __future__ import annotations

import hashlib
import json

import pyarrow as pa

from servicekpi.core.model import TABLES
from servicekpi.engine import rollups
from servicekpi.engine.query import Engine
from servicekpi.ingest import refresh_business
from servicekpi.ingest.load import arrow_ingest
from servicekpi.ingest.readers import FileError, cell
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity
from servicekpi.store.db import TICKET_FACTS, table_columns

MAX_KEY = 200


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list) -> dict:
    """object_pairs_hook: a key given twice in one object is refused (not silently last-wins)."""
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _loads(text: str, where: str):
    """json.loads, with every way a body can break the decoder answered as a located 400."""
    try:
        return json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as e:
        raise ApiError(400, f"{where}line {e.lineno}, column {e.colno}: {e.msg} "
                            f"(send a JSON array or one JSON object a line)") from None
    except _Duplicate as e:
        raise ApiError(400, f"{where}the key '{_show(e.args[0])}' appears twice in one object; "
                            f"give each column once") from None
    except RecursionError:
        raise ApiError(400, f"{where}JSON nested too deeply (rows are flat objects)") from None
    except ValueError as e:  # an integer literal over Python's 4,300-digit limit
        raise ApiError(400, f"{where}a number in the body is too long ({str(e).split(';')[0]})") from None


def _show(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:80]


def _text_ok(value) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_strings(items: list[dict], where: str) -> None:
    """Keys without NUL bytes, and no lone UTF-16 surrogate (\\ud800) in any key or value."""
    for n, item in enumerate(items, 1):
        stack = [item]
        while stack:
            x = stack.pop()
            pairs = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else ()
            for k, v in pairs:
                if isinstance(k, str) and ("\0" in k or not _text_ok(k)):
                    what = "a NUL byte" if "\0" in k else "a lone UTF-16 surrogate"
                    raise ApiError(400, f"{where} {n}: the key '{_show(k)}' holds {what}; "
                                        f"column names are printable text")
                if isinstance(v, str) and not _text_ok(v):
                    raise ApiError(400, f"{where} {n}, key '{_show(str(k))}': the value holds a lone UTF-16 "
                                        f"surrogate ('{_show(v)}'), which is not text")
                if isinstance(v, (dict, list)):
                    stack.append(v)


def parse(body: bytes) -> list[dict]:
    """Items of a JSON array or of NDJSON (one object a line; blank lines skipped)."""
    try:
        textual = body.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ApiError(400, f"the body is not UTF-8 (byte {e.start})") from None
    stripped = textual.strip()
    if not stripped:
        raise ApiError(400, "the body is empty: send a JSON array of objects or NDJSON (one object a line)")
    if stripped.startswith("["):
        items = _loads(stripped, "the body is not valid JSON: ")
        where = "item"
    else:
        items, where = [], "line"
        for n, line in enumerate(textual.splitlines(), 1):
            if not line.strip():
                continue
            items.append(_loads(line, f"NDJSON line {n}: "))
    bad = [i for i, x in enumerate(items, 1) if not isinstance(x, dict)]
    if bad:
        raise ApiError(400, f"{where} {bad[0]} is not a JSON object (every item must be one row, "
                            f"e.g. {{\"ticket_id\": \"T1\", \"created_at\": \"2026-10-01T09:00:00Z\"}})")
    if not items:
        raise ApiError(400, "no rows: the array is empty")
    _check_strings(items, where)
    return items


def to_arrow(items: list[dict]) -> pa.Table:
    """Every value as text, as a CSV file would give it: the import's validation types it."""
    names = list(dict.fromkeys(k for item in items for k in item))
    return pa.table({n: pa.array([cell(item.get(n)) for item in items], pa.string()) for n in names})


MAX_EXTRA = 64  # [server] max_extra_columns: 2,000 new keys in one row took 7.5 s and slowed every query


def stored_extras(cur, table: str) -> set[str]:
    """The extra columns the store's table already holds (not the derived facts; internal ones start with __)."""
    own = set(TABLES[table].names) | (set(TICKET_FACTS) if table == "tickets" else set())
    return {c for c in table_columns(cur, table) if c not in own and not c.startswith("__")}


def check_extras(table: str, items: list[dict], limit: int, stored: set[str] = frozenset()) -> None:
    """Refuse a body that would make the table hold more than `limit` extra columns: those the store
    already has plus the body's new ones (a name matching a stored one, in any case, is not new)."""
    canonical = set(TABLES[table].names)
    known = {c.lower() for c in stored}
    new = sorted(k for k in {k for item in items for k in item} - canonical if k.lower() not in known)
    if len(stored) + len(new) > limit:
        held = f"the table already holds {len(stored)} extra columns and " if stored else ""
        raise ApiError(400, f"{table}: {held}the body adds {len(new)} more beyond the canonical ones "
                            f"(limit {limit} a table: [server] max_extra_columns), e.g. {', '.join(new[:5])}; "
                            f"send only the columns you need")


def check_table(table: str) -> None:
    if table not in TABLES:
        import difflib
        near = difflib.get_close_matches(table, TABLES, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise ApiError(404, f"unknown table '{table}'{hint} (expected one of: {', '.join(TABLES)})")


def ingest(state, ident: Identity, table: str, body: bytes, key: str | None) -> tuple[int, dict, bool]:
    """(status, answer, replayed). The rows and the idempotency record commit together."""
    check_table(table)
    if key is not None and not (0 < len(key) <= MAX_KEY):
        raise ApiError(400, f"Idempotency-Key must be 1 to {MAX_KEY} characters")
    fingerprint = hashlib.sha256(table.encode() + b"\0" + body).hexdigest()
    items = parse(body)
    limit = getattr(state, "max_extra_columns", MAX_EXTRA)
    check_extras(table, items, limit)  # before the writer: a body alone past the limit never waits for it
    data = to_arrow(items)
    source = f"api:{ident.name or ident.token_id}" + (f":{key}" if key else "")

    def run(cur):
        if key is not None:
            seen = cur.execute("SELECT body_sha256, status, answer FROM api_idempotency WHERE token_id = ? "
                               "AND key = ?", [ident.token_id, key]).fetchall()
            if seen:
                if seen[0][0] != fingerprint:
                    raise ApiError(409, f"Idempotency-Key '{key}' was already used with a different body or "
                                        f"table; use a new key for new data")
                return seen[0][1], json.loads(seen[0][2]), True
        check_extras(table, items, limit, stored_extras(cur, table))  # the store-wide count, under the writer
        try:
            fr = arrow_ingest(cur, table, data, source, state.cfg.timezone, agents=state.cfg.agents,
                              instants=state.cfg.instants)
        except FileError as e:
            raise ApiError(422, f"{table}: {e.reason}") from None
        try:
            refresh_business(cur, state.cfg.business(), own_transaction=False)  # the new rows' business seconds
        except OverflowError as e:  # e.g. an instant in year 1: the whole batch rolls back
            raise ApiError(400, f"{table}: an instant is outside the range the store can compute with ({e}); "
                                f"nothing was stored") from None
        if rollups.enabled(cur):  # the days the batch changed, in the same transaction
            rollups.refresh(Engine(cur, state.cfg))
        answer = {"ok": True, "table": table, "received": len(items), "imported": fr.imported,
                  "replaced": fr.replaced, "unchanged": fr.unchanged, "rejected": fr.rejected,
                  "reasons": fr.reasons, "notes": fr.notes}
        if fr.rejected > len(fr.reasons):
            answer["notes"] = fr.notes + [f"the first {len(fr.reasons)} of {fr.rejected} rejections are listed; "
                                          f"all are in GET /api/quarantine"]
        if key is not None:
            cur.execute("INSERT INTO api_idempotency (token_id, key, body_sha256, status, answer) "
                        "VALUES (?, ?, ?, ?, ?)", [ident.token_id, key, fingerprint, 200, json.dumps(answer)])
        return 200, answer, False

    return state.write(run)
