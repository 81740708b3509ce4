"""Business-time and SLA tests run twice: on the business seconds stored at import (business_store.py)
and on the hour-table lookup a query falls back to when they don't match the calendars."""
from __future__ import annotations

import duckdb
import pytest

from conftest import Workspace


class LookupWorkspace(Workspace):
    """Imports as usual, then forgets the stored business seconds' stamp, so queries look them up."""

    def load(self, path=None, *extra: str):
        r = super().load(path, *extra)
        con = duckdb.connect(str(self.db))
        try:
            assert con.execute("SELECT count(*) FROM business_stamp").fetchall()[0][0] == 1
            con.execute("DELETE FROM business_stamp")
        finally:
            con.close()
        return r


@pytest.fixture(params=["stored", "lookup"])
def ws(request, tmp_path) -> Workspace:
    return Workspace(tmp_path) if request.param == "stored" else LookupWorkspace(tmp_path)
