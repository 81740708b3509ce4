"""KPIs batched into one aggregate share the first KPI's row preparation, so KPIs whose preps differ
must not share a batch. Before: `kpi first_response_time sla_first_response_met --option
hours=business` crashed (IbisTypeError: Column 'sla_asof' is not found), because the SLA KPI's
prep (which adds sla_asof) never ran."""
from __future__ import annotations

CONFIG = '''timezone = "UTC"
[[sla]]
name = "all"
first_response = "2h"
resolution = "1d"
hours = "business"
'''


def test_kpis_with_different_preps_are_batched_apart(ws):
    cfg = ws.root / "sla.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    # Mon 2026-10-05: T1 answered in 1 h (met), T2 in 3 h (missed); default hours Mon-Fri 09-17
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2026-10-05T09:00:00Z", "first_response_at": "2026-10-05T10:00:00Z"},
        {"ticket_id": "T2", "created_at": "2026-10-05T10:00:00Z", "first_response_at": "2026-10-05T13:00:00Z"}])
    ws.load(None, "--config", str(cfg))
    args = ("--from", "2026-10-01", "--to", "2026-10-31", "--config", str(cfg))
    together = ws.kpi("first_response_time", "sla_first_response_met", "--option", "hours=business", *args)
    by_id = {r["kpi"]: r["value"] for r in together}
    assert by_id == {"first_response_time": 120.0,  # (60 + 180) / 2 minutes
                     "sla_first_response_met": 50.0}  # 1 of 2 within 2 business hours
    assert by_id["first_response_time"] == ws.value("first_response_time", "--option", "hours=business", *args)
    assert by_id["sla_first_response_met"] == ws.value("sla_first_response_met", *args)
