"""The follow-up queue: GET /api/followups (agents see their own items), POST .../done (managers)."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Body, Request

from servicekpi.analysis.followups import FollowupError, items, mark
from servicekpi.core import periods as P
from servicekpi.engine.query import now_utc
from servicekpi.server import query as qry
from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.errors import ApiError
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["followups"])


@router.get("/followups", openapi_extra=roles_extra("read"), summary="The follow-up queue")
def followups(request: Request, since: Optional[str] = None, all: bool = False, as_of: Optional[str] = None,
              ident: Identity = allow("read")):
    """NPS detractors, dissatisfied CSAT answers and negative feedback that no later contact followed
    up, oldest first (as `servicekpi followups --format json`). all=true adds the followed-up items
    with how and when. since: a local date. An agent token sees only its own agent_id's items."""
    state = request.app.state.sk
    tz = state.cfg.timezone
    day = qry.date(since, "since")
    asof = qry.instant(as_of, tz) or now_utc()
    with state.reader() as cur:
        found = items(cur, asof, P.utc(day, tz) if day else None, tz,
                      ident.agent_id if ident.role == "agent" else None, all)
    if ident.role == "agent" and ident.agent_id is None:
        found["rows"] = []
    return {"ok": True, "as_of": asof.isoformat() + "Z", **found}


@router.post("/followups/{item_id}/done", openapi_extra=roles_extra("follow_up"),
             summary="Mark a follow-up done")
def done(request: Request, item_id: str, body: Optional[dict] = Body(None), ident: Identity = allow("follow_up")):
    """Record that the item was followed up: who (the token's name and role), when, and an optional
    {"note": "..."}; kept in an append-only audit table. A second mark of the same item is 409."""
    note = (body or {}).get("note")
    if note is not None and not isinstance(note, str):
        raise ApiError(400, "note must be a string, e.g. {\"note\": \"called the customer\"}")
    state = request.app.state.sk
    try:
        done = state.write(lambda cur: mark(cur, item_id, ident.name or ident.token_id, ident.role, note,
                                            now_utc(), state.cfg.timezone))
    except FollowupError as e:
        raise ApiError(e.status, str(e)) from None
    return {"ok": True, **done}
