"""POST /api/local/run: the store owner's CLI command run by the server that holds the store."""
from __future__ import annotations

import base64
from typing import List

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from servicekpi.server import local
from servicekpi.server.auth import authenticate, roles_extra
from servicekpi.server.errors import ApiError

router = APIRouter(prefix="/api", tags=["local"])


class CommandLine(BaseModel):
    argv: List[str]


def owner(request: Request) -> None:
    """The local key from a loopback client: 401 without it (403 for a token of any role), 403 from afar."""
    state = request.app.state.sk
    sent = request.headers.get(local.KEY_HEADER)
    if sent is None:
        ident = authenticate(request)  # 401 without a valid token
        raise ApiError(403, f"the {ident.role} role may not use {request.method} {request.url.path} "
                            f"(only the store owner's local key, from loopback)")
    if not local.is_loopback(request.client.host if request.client else None):
        raise ApiError(403, "the local key is accepted only from loopback (127.0.0.1 or ::1)")
    if not local.key_matches(sent, getattr(state, "local_key_hash", None)):
        raise ApiError(401, "the local key does not match this server's (it changes at each start)")


@router.post("/local/run", openapi_extra=roles_extra("local"), summary="Run a CLI command (store owner)")
async def run(request: Request, body: CommandLine):
    """The `servicekpi` command line in `argv`, run on this server's store; `code`, `stdout` and `stderr`
    (base64). Only with the key in `<store>.serve.key` (readable by the store's owner), from loopback."""
    owner(request)
    runner = getattr(request.app.state.sk, "local_runner", None)
    if runner is None:
        raise ApiError(503, "this server runs no CLI commands (it was not started by `servicekpi serve`)")
    code, out, err = await run_in_threadpool(runner, list(body.argv))
    return {"ok": code == 0, "code": code, "stdout": base64.b64encode(out).decode(),
            "stderr": base64.b64encode(err).decode()}
