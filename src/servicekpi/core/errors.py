"""One error hierarchy. Each class carries the CLI exit code and the HTTP status it maps to;
the CLI (cli/app.py) and the server (server/errors.py) each translate it in one place."""
from __future__ import annotations


class ServiceKpiError(Exception):
    """Base of every error servicekpi raises on purpose; the message says how to fix it."""
    exit_code = 1
    http_status = 500

    @property
    def message(self) -> str:
        return str(self)


class UsageError(ServiceKpiError, ValueError):
    """A wrong option, KPI, dimension or value on the command line or in a query string."""
    exit_code = 2
    http_status = 400


class ConfigError(ServiceKpiError, ValueError):
    """A located problem in the workspace config (file, key, what was expected)."""
    exit_code = 1
    http_status = 500


class DataError(ServiceKpiError, ValueError):
    """Input that cannot be read or stored: a whole file rejected, a store that does not fit."""
    exit_code = 1
    http_status = 400


class ConnectorError(ServiceKpiError):
    """A source that cannot be read at all (wrong folder, unreadable mapping, a failing API)."""
    exit_code = 1
    http_status = 400


class SourceUsageError(ConnectorError):
    """A connector asked for with the wrong arguments (an unknown --source, a --dsn it takes none of)."""
    exit_code = 2


class RenderError(ServiceKpiError, RuntimeError):
    """A report that could not be rendered (no Chromium for a PDF, ...)."""
    exit_code = 1
    http_status = 500


class StoreBusyError(ServiceKpiError):
    """The store is held by another process (a running server, another import)."""
    exit_code = 1
    http_status = 409


class NotFoundError(ServiceKpiError):
    """Something named that does not exist (a token id, a follow-up id)."""
    exit_code = 1
    http_status = 404
