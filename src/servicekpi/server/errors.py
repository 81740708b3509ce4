"""One JSON shape for every error: {"ok": false, "error": "...", "errors": [...], "status": N}."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekpi.core.errors import ServiceKpiError

log = logging.getLogger("servicekpi.server")

PHRASES = {400: "bad request", 401: "a token is required", 403: "forbidden", 404: "not found",
           405: "method not allowed", 408: "request timeout", 409: "conflict", 413: "request body too large",
           422: "invalid request", 429: "too many requests", 500: "internal error", 501: "not available", 503: "unavailable"}


class ApiError(ServiceKpiError):
    """An error answered with its own status (the route chose it); other ServiceKpiErrors answer their http_status."""

    def __init__(self, status: int, error: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(error)
        self.status, self.error, self.errors, self.headers = status, error, errors or [], headers
        self.http_status = status


def body(status: int, error: str, errors: list | None = None) -> dict:
    return {"ok": False, "error": error, "errors": errors or [], "status": status}


def respond(status: int, error: str, errors: list | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(body(status, error, errors), status_code=status, headers=headers)


def _where(loc) -> str:
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "header", "cookie")]
    return ".".join(parts) or "request"


class CatchCrashes:
    """An unhandled exception -> the shaped 500, logged with its traceback, and nothing re-raised.

    Starlette's own last-resort handler (the Exception handler below) answers too, but then
    re-raises, and uvicorn closes the connection after such a response: a client reusing it for
    its next request got "connection reset by peer" (seen in the load benchmark). Here the
    connection stays usable."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:  # part of an answer went out: only closing the connection can tell the client
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            await respond(500, CRASH)(scope, receive, send)


CRASH = "internal error (the server log has the details)"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, e: ApiError):
        return respond(e.status, e.error, e.errors, e.headers)

    @app.exception_handler(ServiceKpiError)
    async def _ours(request: Request, e: ServiceKpiError):
        # any servicekpi error a route did not turn into an ApiError: its class carries the status
        if e.http_status >= 500:
            log.error("%s on %s %s: %s", type(e).__name__, request.method, request.url.path, e)
        return respond(e.http_status, str(e))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException):
        text = e.detail if isinstance(e.detail, str) and e.detail else PHRASES.get(e.status_code, "error")
        if e.status_code == 404 and text == "Not Found":
            text = f"no route {request.url.path} (see /api/docs)"
        elif e.status_code == 405:
            text = f"{request.method} is not allowed on {request.url.path} (see /api/docs)"
        return respond(e.status_code, text, headers=getattr(e, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        errors = [{"where": _where(x.get("loc", ())), "message": x.get("msg", "")} for x in e.errors()]
        first = errors[0] if errors else {"where": "request", "message": "invalid"}
        return respond(422, f"{first['where']}: {first['message']}", errors)

    @app.exception_handler(Exception)
    async def _crash(request: Request, e: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return respond(500, CRASH)
