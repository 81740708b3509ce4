"""Write and inspect data: POST /api/ingest/{table}, GET /api/quarantine."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Header, Request
from fastapi import Query as Q
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from servicekpi.server import push as ing
from servicekpi.server import query as qry
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.pages import quarantine_page
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["data"])

INGEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
    "application/x-ndjson": {"schema": {"type": "string"}}}}}


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    too_big = ApiError(413, f"the body is larger than the limit of {limit} bytes; send the rows in smaller "
                            f"batches (limit: [server] max_body_mb in the config)")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/ingest/{table}", openapi_extra={**roles_extra("ingest"), **INGEST_BODY},
             summary="Push rows of one table")
async def ingest(request: Request, table: str, ident: Identity = allow("ingest"),
                 idempotency_key: Optional[str] = Header(None, alias="Idempotency-Key")):
    """A JSON array of row objects or NDJSON, in the canonical format of `table` (docs/data-format.md).
    Same validation, quarantine and idempotent upsert as `servicekpi import`, in one transaction.
    With an Idempotency-Key (scoped to the token) a retry returns the first answer and stores nothing;
    the same key with another body gets 409."""
    ing.check_table(table)
    state = request.app.state.sk
    body = await read_body(request, state.max_body)
    status, answer, replayed = await run_in_threadpool(ing.ingest, state, ident, table, body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, status_code=status, headers=headers)


@router.get("/quarantine", openapi_extra=roles_extra("quarantine"), summary="Rejected rows")
def quarantine(request: Request, table: Optional[str] = None, limit: int = Q(100, ge=0, le=10_000),
               offset: int = Q(0, ge=0), ident: Identity = allow("quarantine")):
    """Rows rejected by imports and ingests, with source, line, column, reason and the raw row."""
    qry.check_offset(offset)
    if table is not None:
        ing.check_table(table)
    with request.app.state.sk.reader() as cur:
        total, found = quarantine_page(cur, table, limit, offset)
    return {"ok": True, "total": total, "limit": limit, "offset": offset,
            "rows": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                     for r in found]}
