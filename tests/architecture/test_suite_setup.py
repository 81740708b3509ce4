"""How the suite runs: a module's tests that share a module-scoped fixture stay on one xdist worker
(`--dist loadgroup`), so the fixture is built once. pytest 9.2 silently broke this with xdist 3.8
(node ids no longer carried the group), and every such fixture was built on both workers."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def shared():
    return object()


def test_tests_with_a_module_fixture_are_grouped_on_one_worker(shared, request):
    assert request.node.get_closest_marker("xdist_group").args == ("test_suite_setup",)
    if os.environ.get("PYTEST_XDIST_WORKER") and request.config.getoption("loadgroup", False):
        # xdist schedules by node id: the group must be in it, or the module is split across workers
        assert request.node.nodeid.endswith("@test_suite_setup"), request.node.nodeid
