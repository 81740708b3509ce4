"""The dashboard's sign-in: a token exchanged for an HttpOnly, SameSite=Strict session cookie."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from servicekpi.server import tokens as tok
from servicekpi.server.auth import COOKIE, allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["session"])


class SignIn(BaseModel):
    token: str


def _me(ident: Identity, csrf: str | None) -> dict:
    return {"ok": True, "role": ident.role, "agent_id": ident.agent_id, "name": ident.name,
            "token_id": ident.token_id, "csrf": csrf}


@router.post("/session", openapi_extra=roles_extra("public"), summary="Sign in with a token",
             responses={429: {"description": "too many failed sign-ins from this address; retry after "
                                              "the Retry-After header's seconds"}})
def sign_in(request: Request, response: Response, body: SignIn):
    """Validates the token and sets the sk_session cookie (HttpOnly, SameSite=Strict, Path=/, Secure
    over https). The answer's csrf value must be sent as X-CSRF-Token on every POST/PUT/PATCH/DELETE
    made with the cookie. After [server] sign_in_failures failed sign-ins (default 5) from one client
    address within a minute, the next ones get 429 with Retry-After, whatever token they carry."""
    state = request.app.state.sk
    client = request.client.host if request.client else "unknown"
    wait = state.sign_in_limit.retry_after(client)
    if wait is not None:
        limit = state.sign_in_limit.limit
        raise ApiError(429, f"too many failed sign-ins from this address ({limit} within a minute); "
                            f"try again in {wait} s", headers={"Retry-After": str(wait)})
    ident = tok.verify(body.token.strip(), state.tokens())
    if ident is None:
        state.sign_in_limit.failed(client)
        raise ApiError(401, "this token is unknown or revoked")
    sid, csrf = state.write(lambda cur: tok.open_session(cur, ident))
    response.set_cookie(COOKIE, sid, max_age=tok.SESSION_HOURS * 3600, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return {"ok": True, "role": ident.role, "agent_id": ident.agent_id, "name": ident.name, "csrf": csrf}


@router.delete("/session", openapi_extra=roles_extra("signed_in"), summary="Sign out")
def sign_out(request: Request, response: Response, ident: Identity = allow("signed_in")):
    """Ends the cookie session (needs X-CSRF-Token). With a Bearer token it only clears the cookie."""
    sid = request.cookies.get(COOKIE)
    if sid and ident.via == "cookie":
        request.app.state.sk.write(lambda cur: tok.close_session(cur, sid))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return {"ok": True}


@router.get("/me", openapi_extra=roles_extra("signed_in"), summary="Who am I")
def me(ident: Identity = allow("signed_in")):
    """The caller's role, agent_id, token name and (cookie sessions) CSRF token."""
    return _me(ident, ident.csrf)
