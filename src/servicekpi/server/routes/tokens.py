"""Token management over the API (admin): the CLI cannot open the store while the server holds it."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Request
from pydantic import BaseModel

from servicekpi.server import tokens as tok
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["tokens"])


class NewToken(BaseModel):
    role: str
    agent_id: Optional[str] = None
    name: Optional[str] = None


@router.get("/tokens", openapi_extra=roles_extra("admin"), summary="List tokens (no secrets)")
def list_tokens(request: Request, ident: Identity = allow("admin")):
    with request.app.state.sk.reader() as cur:
        return {"ok": True, "tokens": tok.listing(cur)}


@router.post("/tokens", openapi_extra=roles_extra("admin"), summary="Create a token (shown once)")
def create_token(request: Request, body: NewToken, ident: Identity = allow("admin")):
    try:
        row, secret = request.app.state.sk.write(lambda cur: tok.create(cur, body.role, body.agent_id, body.name))
    except tok.TokenError as e:
        raise ApiError(400, str(e)) from None
    with request.app.state.sk.reader() as cur:
        warning = tok.agent_warning(cur, row["role"], row["agent_id"])
    return {"ok": True, **row, "token": secret, **({"warnings": [warning]} if warning else {})}


@router.delete("/tokens/{ref}", openapi_extra=roles_extra("admin"), summary="Revoke a token by id or name")
def revoke_token(request: Request, ref: str, ident: Identity = allow("admin")):
    try:
        row = request.app.state.sk.write(lambda cur: tok.revoke(cur, ref))
    except tok.TokenError as e:
        raise ApiError(404, str(e)) from None
    return {"ok": True, "revoked": row}
