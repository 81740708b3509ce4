"""Who is asking and what they may do: Bearer tokens or the dashboard's cookie session.

Every route declares one permission; PERMISSIONS says which roles hold it. The role x route
matrix in docs/server.md is generated from the routes' declarations (see matrix()), and
tests/server/test_auth_matrix.py checks every route against every role."""
from __future__ import annotations

import hmac

from fastapi import Depends, Request

from servicekpi.server import tokens as tok
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import ROLES, Identity

COOKIE = "sk_session"
CSRF_HEADER = "X-CSRF-Token"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "public": ROLES,  # no token needed
    "signed_in": ROLES,  # any valid token or session
    "read": ("admin", "manager", "viewer", "agent"),  # agent: filtered to its own agent_id
    "read_all": ("admin", "manager", "viewer"),  # whole-operation views: scorecard, spikes, reports
    "quarantine": ("admin", "manager"),
    "follow_up": ("admin", "manager"),  # mark a follow-up done
    "plan": ("admin", "manager"),  # staffing and forecasts
    "ingest": ("admin", "manager", "ingest"),
    "admin": ("admin",),
    "local": (),  # no token role: the store owner's local key from loopback (server/local.py)
}


def authenticate(request: Request) -> Identity:
    state = request.app.state.sk
    header = request.headers.get("authorization")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise ApiError(401, "the Authorization header must be 'Bearer <token>'",
                           headers={"WWW-Authenticate": "Bearer"})
        ident = tok.verify(secret.strip(), state.tokens())
        if ident is None:
            raise ApiError(401, "this token is unknown or revoked (create one: servicekpi token create "
                                "--role viewer)", headers={"WWW-Authenticate": "Bearer"})
        return ident
    sid = request.cookies.get(COOKIE)
    if sid:
        with state.reader() as cur:
            found = tok.session(cur, sid)
        if found is not None:
            token_id, csrf = found
            for _, ident in state.tokens():
                if ident.token_id == token_id:
                    return Identity(ident.token_id, ident.name, ident.role, ident.agent_id, "cookie", csrf)
        raise ApiError(401, "the session has ended; sign in again (POST /api/session)")
    raise ApiError(401, "a token is required: send 'Authorization: Bearer <token>' or sign in "
                        "(POST /api/session)", headers={"WWW-Authenticate": "Bearer"})


def check_csrf(request: Request, ident: Identity) -> None:
    if ident.via != "cookie" or request.method not in STATE_CHANGING:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), (ident.csrf or "").encode()):
        raise ApiError(403, f"a signed-in request that changes something needs the {CSRF_HEADER} header "
                            f"(the csrf value from POST /api/session or GET /api/me)")


def allow(permission: str):
    """A dependency: the caller's identity, if its role holds `permission` (401/403 otherwise)."""
    roles = PERMISSIONS[permission]

    def dependency(request: Request) -> Identity:
        ident = authenticate(request)
        check_csrf(request, ident)
        if ident.role not in roles:
            raise ApiError(403, f"the {ident.role} role may not use {request.method} {request.url.path} "
                                f"(allowed: {', '.join(roles)})")
        return ident

    dependency.permission = permission
    return Depends(dependency)


def roles_extra(permission: str) -> dict:
    """openapi_extra for a route: the roles that may call it (published in the OpenAPI document)."""
    return {"x-permission": permission, "x-roles": list(PERMISSIONS[permission])}


def matrix(app) -> list[tuple[str, str, str]]:
    """(method, path, permission) of every API route, in declaration order."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            if "x-permission" in op:
                out.append((method.upper(), path, op["x-permission"]))
    return out


def matrix_markdown(app) -> str:
    head = "| route | " + " | ".join(ROLES) + " | no token |\n|---|" + "---|" * (len(ROLES) + 1) + "\n"
    lines = []
    for method, path, perm in matrix(app):
        cells = []
        for role in ROLES:
            if perm == "read" and role == "agent":
                cells.append("own")
            else:
                cells.append("yes" if role in PERMISSIONS[perm] else "403")
        cells.append("yes" if perm == "public" else "401")
        lines.append(f"| `{method} {path}` | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"
