"""GET /api/alerts: the config's alerts and schedules with what they last did, for managers and admins."""
from __future__ import annotations

from fastapi import APIRouter, Request

from servicekpi.server.auth import allow, roles_extra
from servicekpi.server.tokens import Identity

router = APIRouter(prefix="/api", tags=["alerts"])


@router.get("/alerts", openapi_extra=roles_extra("plan"), summary="Alerts and schedules, with their last delivery")
def alerts(request: Request, ident: Identity = allow("plan")):
    """Each [[alerts]] entry (kind, recipients counted, webhook yes/no, quiet hours, findings sent, the last
    delivery) and each [[schedules]] entry (cron, next due instant, the last run), as
    `servicekpi alerts status --format json` (docs/alerts.md). No address, URL or secret is shown."""
    from servicekpi.delivery.config import load
    from servicekpi.delivery.overview import overview
    from servicekpi.engine.query import now_utc
    state = request.app.state.sk
    delivery = load(state.cfg)  # validated when the server started
    with state.engine() as eng:
        found = overview(eng.con, delivery, now_utc(), state.cfg.timezone)
    return {"ok": True, "tz": state.cfg.timezone, **found}
