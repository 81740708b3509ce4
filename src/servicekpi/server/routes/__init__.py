"""One router per area; each route declares its permission (auth.allow + auth.roles_extra)."""
