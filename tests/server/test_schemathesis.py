"""Property-based requests from the OpenAPI document (schemathesis): no route answers 500.

Every operation is called with an admin token (the widest access) on a store of its own."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from api_support import bearer, build_store, make_tokens
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from servicekpi.server.app import create_app

_root = Path(tempfile.mkdtemp(prefix="servicekpi-schemathesis-"))  # made at collection, in every process
atexit.register(shutil.rmtree, _root, True)
_ws = build_store(_root)
TOKENS = make_tokens(_ws.db)
APP = create_app(_ws.db)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case):
    case.call_and_validate(headers=bearer(TOKENS["admin"]), checks=[not_a_server_error])
