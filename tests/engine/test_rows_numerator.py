"""The records behind a ratio say which of them count in its numerator (issue 13 item 3): for every
KPI whose rows carry `in_numerator`, the marked records number exactly the KPI's numerator."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "server"))
from api_support import ASOF, build_store  # noqa: E402

from conftest import from_template  # noqa: E402
from servicekpi.catalog import catalog  # noqa: E402

RANGE = ("--from", "2026-10-01", "--to", "2026-11-30")


def test_marked_records_are_the_numerator(tmp_path):
    ws = from_template(tmp_path, "api-small", lambda w: build_store(w.root))
    marked = 0
    for kid in catalog().kpis:
        r = ws.cli("rows", kid, *RANGE, "--format", "json", "--limit", "10000", "--as-of", ASOF)
        if r.exit_code != 0:  # unavailable here (no calls, messages ...)
            continue
        rows = json.loads(r.stdout)
        if not rows or "in_numerator" not in rows[0]:
            continue
        value = ws.kpi(kid, *RANGE)
        assert len(value) == 1, kid
        assert sum(1 for x in rows if x["in_numerator"]) == value[0]["numerator"], kid
        marked += 1
    # csat, fcr_rate, resolution_rate, the SLA rates ... carry the mark
    assert marked >= 5
    csat = json.loads(ws.cli("rows", "csat", *RANGE, "--format", "json", "--as-of", ASOF).stdout)
    # R1 = 5 and R3 = 4 are satisfied (4-5 of 5), R2 = 2 is not
    assert {x["response_id"]: x["in_numerator"] for x in csat} == {"R1": True, "R2": False, "R3": True}
