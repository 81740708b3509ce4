"""One error hierarchy: every error servicekpi raises on purpose is a ServiceKpiError carrying its
CLI exit code and HTTP status, and both surfaces translate it in one place."""
from __future__ import annotations

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from servicekpi.cli.common import guard_all
from servicekpi.connectors import ConnectorError, SourceUsageError
from servicekpi.connectors.zendesk.sync import NotFound, SyncError
from servicekpi.core.calendars import CalendarError
from servicekpi.core.errors import (
    ConfigError,
    DataError,
    NotFoundError,
    RenderError,
    ServiceKpiError,
    StoreBusyError,
    UsageError,
)
from servicekpi.core.sla_rules import SlaError
from servicekpi.engine.query import UsageError as EngineUsageError
from servicekpi.ingest.readers import FileError
from servicekpi.report.pdf import PdfError
from servicekpi.server.errors import ApiError, install
from servicekpi.server.tokens import TokenError, TokenNotFound


@pytest.mark.parametrize("cls, exit_code, status", [
    (UsageError, 2, 400), (ConfigError, 1, 500), (CalendarError, 1, 500), (SlaError, 1, 500),
    (DataError, 1, 400), (ConnectorError, 1, 400), (SourceUsageError, 2, 400), (SyncError, 1, 400),
    (NotFound, 1, 400), (RenderError, 1, 500), (PdfError, 1, 500), (StoreBusyError, 1, 409),
    (NotFoundError, 1, 404), (TokenError, 2, 400), (TokenNotFound, 1, 404),
])
def test_each_error_carries_its_exit_code_and_status(cls, exit_code, status):
    assert issubclass(cls, ServiceKpiError)
    assert (cls.exit_code, cls.http_status) == (exit_code, status)


def test_module_errors_are_the_hierarchy():
    assert EngineUsageError is UsageError
    assert issubclass(FileError, DataError)
    assert ApiError(418, "x").http_status == 418


def _cli(exc: Exception):
    app = typer.Typer()

    @app.command()
    def boom():
        raise exc

    @app.command()
    def fine():
        print("ok")

    guard_all(app)
    return CliRunner().invoke(app, ["boom"])


@pytest.mark.parametrize("exc, code", [(UsageError("bad --by"), 2), (DataError("bad file"), 1),
                                       (SourceUsageError("--source x"), 2), (StoreBusyError("held"), 1)])
def test_the_cli_maps_errors_to_exit_codes_in_one_place(exc, code):
    r = _cli(exc)
    assert r.exit_code == code
    assert r.stderr.strip() == f"Error: {exc}"


def test_other_exceptions_are_not_swallowed_by_the_guard():
    r = _cli(KeyError("bug"))
    assert r.exit_code == 1 and isinstance(r.exception, KeyError)


@pytest.mark.parametrize("exc, status", [(UsageError("bad"), 400), (NotFoundError("no such token"), 404),
                                         (StoreBusyError("held"), 409), (ConfigError("x.toml: bad"), 500)])
def test_the_server_answers_an_error_with_its_status_in_the_shape(exc, status):
    app = FastAPI()
    install(app)

    @app.get("/boom")
    def boom():
        raise exc

    r = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == status
    assert r.json() == {"ok": False, "error": str(exc), "errors": [], "status": status}
