"""The API and the dashboard: create_app(db_path, config_path) -> FastAPI."""
from __future__ import annotations

import os
import re
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from servicekpi.catalog.targets import load_workspace
from servicekpi.core import config as cfg_mod
from servicekpi.server import errors
from servicekpi.server.errors import respond
from servicekpi.server.routes import alerts, data, followups, kpis, local, ops, people, reports, session
from servicekpi.server.routes import tokens as token_routes
from servicekpi.server.slow import BodyDeadline
from servicekpi.server.state import State
from servicekpi.store import db as store

STATIC = Path(__file__).parent / "static"
MB = 1024 * 1024
DEFAULT_MAX_BODY_MB = 10
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"same-origin")]
CSP = (b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# /api/docs: Swagger UI starts from an inline script; its files are ours (no CDN), so 'self' is all it gets
DOCS_CSP = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            b"img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
DOCS_ASSETS = "/api/docs/assets"


# seconds: a request's headers must arrive within header_timeout_s (else 408 and closed), its body
# may keep the app waiting body_timeout_s in all (else 408), an idle kept-alive connection is closed
# after keep_alive_s (server/slow.py, server/limits.py)
TIMEOUTS = {"header_timeout_s": 10, "body_timeout_s": 60, "keep_alive_s": 5}


def settings(cfg) -> dict:
    """[server] in the workspace config: max_body_mb (default 10), query_engines (default 4),
    sign_in_failures (failed sign-ins per client address a minute before 429; default 5),
    max_extra_columns (default 64) and the TIMEOUTS."""
    raw = cfg.raw.get("server", {}) if isinstance(cfg.raw, dict) else {}
    where = f"{cfg.source}, key server" if cfg.source else "server"
    if not isinstance(raw, dict):
        raise cfg_mod.ConfigError(f"{where}: expected a table, e.g. [server] max_body_mb = 10")
    body = raw.get("max_body_mb", DEFAULT_MAX_BODY_MB)
    engines = raw.get("query_engines", 4)
    failures = raw.get("sign_in_failures", 5)
    if not isinstance(body, (int, float)) or isinstance(body, bool) or body <= 0:
        raise cfg_mod.ConfigError(f"{where}.max_body_mb: expected a positive number of megabytes, e.g. 10")
    if not isinstance(engines, int) or isinstance(engines, bool) or not 1 <= engines <= 64:
        raise cfg_mod.ConfigError(f"{where}.query_engines: expected a whole number from 1 to 64, e.g. 4")
    if not isinstance(failures, int) or isinstance(failures, bool) or not 1 <= failures <= 1000:
        raise cfg_mod.ConfigError(f"{where}.sign_in_failures: expected a whole number from 1 to 1000, e.g. 5")
    extra = raw.get("max_extra_columns", 64)
    if not isinstance(extra, int) or isinstance(extra, bool) or not 0 <= extra <= 10_000:
        raise cfg_mod.ConfigError(f"{where}.max_extra_columns: expected a whole number from 0 to 10000, e.g. 64")
    timeouts = {}
    for key, default in TIMEOUTS.items():
        value = raw.get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 3600:
            raise cfg_mod.ConfigError(f"{where}.{key}: expected a number of seconds above 0 and at most 3600, "
                                      f"e.g. {default}")
        timeouts[key] = float(value)
    return {"max_body": int(body * MB), "pool_size": engines, "sign_in_failures": failures,
            "max_extra_columns": extra, **timeouts}


class Dashboard:
    """`/`: the built single-page app from server/static, index.html for client-side paths; JSON
    404/405 for unknown /api paths; 503 JSON when the dashboard was not built."""

    def __init__(self, app: FastAPI, root: Path):
        self.app, self.root = app, root
        self.files = StaticFiles(directory=root, html=True, check_dir=False)
        self._templates: list | None = None

    def templates(self) -> list:
        """(regex, methods) of every API path in the OpenAPI document (for 405 vs 404)."""
        if self._templates is None:
            self._templates = [(re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(p))), list(ops))
                               for p, ops in self.app.openapi()["paths"].items()]
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "/")
        if path == "/api" or path.startswith("/api/"):
            allowed = sorted({m.upper() for pattern, methods in self.templates() if pattern.fullmatch(path)
                              for m in methods})
            if allowed:
                response = respond(405, f"{scope['method']} is not allowed on {path} (allowed: "
                                        f"{', '.join(allowed)})", headers={"Allow": ", ".join(allowed)})
            else:
                response = respond(404, f"no route {path} (see /api/docs)")
            return await response(scope, receive, send)
        if not (self.root / "index.html").is_file():
            return await respond(503, f"the dashboard is not built ({self.root} has no index.html): run "
                                      f"`npm ci && npm run build` in web/; the API under /api works")(
                scope, receive, send)
        if scope["method"] not in ("GET", "HEAD"):
            return await respond(405, f"{scope['method']} is not allowed on {path}",
                                 headers={"Allow": "GET, HEAD"})(scope, receive, send)
        rel = path.lstrip("/")
        if "\0" in rel or not (self.root / rel).resolve().is_relative_to(self.root.resolve()):
            # outside the static root (e.g. /..%2f..%2fetc%2fpasswd): one answer, whether it exists or not
            return await respond(404, "not found")(scope, receive, send)
        if rel and "." not in rel.rsplit("/", 1)[-1] and not (self.root / rel).exists():
            scope = dict(scope, path="/")  # a client-side route: the app's index.html
        await self.files(scope, receive, send)


class SecurityHeaders:
    """nosniff, no framing, same-origin referrers, a strict CSP, and no caching of API answers."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in present]
                docs = scope["path"].startswith("/api/docs")
                headers.append((b"content-security-policy", DOCS_CSP if docs else CSP))
                if scope["path"].startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db_path: str | os.PathLike | None = None, config_path: str | os.PathLike | None = None,
               static_dir: Path | None = None, max_body: int | None = None) -> FastAPI:
    """The server over one store (opened for writing and held until shutdown).

    max_body (bytes) overrides [server] max_body_mb; static_dir overrides server/static."""
    path = store.db_path(db_path)
    cfg = load_workspace(cfg_mod.find(config_path, path))
    opts = settings(cfg)
    from servicekpi.delivery.schedules import (
        hook,  # [[alerts]] and [[schedules]]: checked now, run by a background thread
    )
    start_alerts = hook(cfg)
    state = State(path, cfg, pool_size=opts["pool_size"], max_body=max_body or opts["max_body"],
                  sign_in_failures=opts["sign_in_failures"])


    @asynccontextmanager
    async def lifespan(_app):
        state.open()
        stop_alerts = start_alerts(state)
        yield
        stop_alerts()
        state.close()

    app = FastAPI(lifespan=lifespan, title="servicekpi", version=_version(), openapi_url="/api/openapi.json", docs_url=None,
                  redoc_url=None, description="Customer-service KPIs: the same catalog and engine as the CLI. "
                  "Authenticate with `Authorization: Bearer <token>` (servicekpi token create) or the "
                  "dashboard's session cookie. Each route lists the roles allowed under `x-roles`.")
    state.max_extra_columns = opts["max_extra_columns"]
    state.timeouts = {key: opts[key] for key in TIMEOUTS}  # uvicorn's side: server.limits.uvicorn_options
    app.state.sk = state
    errors.install(app)
    for r in (session.router, kpis.router, reports.router, data.router, token_routes.router, followups.router, ops.router,
              alerts.router, people.router, local.router):
        app.include_router(r)

    _docs(app)
    app.mount("/", Dashboard(app, static_dir or STATIC), name="dashboard")
    app.add_middleware(BodyDeadline, seconds=opts["body_timeout_s"])
    app.add_middleware(errors.CatchCrashes)  # inside SecurityHeaders: a 500 gets the headers too
    app.add_middleware(SecurityHeaders)
    return app


def _docs(app: FastAPI) -> None:
    """Swagger UI at /api/docs from the swagger-ui-bundle package's files, served here: no CDN."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="servicekpi API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("servicekpi")
    except PackageNotFoundError:
        return "0"
