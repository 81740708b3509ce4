"""A sparse hour table (only the chunks that hold instants, calendars.hour_table) answers every
business-time KPI exactly as the whole table does: each instant a query looks up (stored clocks,
the first reply from messages, open waits, the as-of instant, period ends) must lie in a tabled
chunk, else its business seconds would be NULL. A 2023 ticket among 2026 data spans 8 half-year
chunks, made "wide" here by lowering SPARSE_AFTER to 4 (a real store needs over 20);
Europe/Bucharest puts a DST change inside the data (25 Oct 2026)."""
from __future__ import annotations

import json

from servicekpi.core.calendars import Calendars
from servicekpi.store import business as business_store

CONFIG = '''timezone = "Europe/Bucharest"
[business_hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-13:00"

[[sla]]
name = "all"
first_response = "2h"
next_response = "3h"
resolution = "1d"
hours = "business"
'''
TICKETS = [
    {"ticket_id": "OLD", "created_at": "2023-01-02T10:00:00Z", "first_response_at": "2023-01-02T11:00:00Z",
     "resolved_at": "2023-01-03T09:00:00Z", "channel": "email"},
    {"ticket_id": "T1", "created_at": "2026-10-01T09:00:00Z", "resolved_at": "2026-10-02T15:00:00Z", "channel": "email"},
    {"ticket_id": "T2", "created_at": "2026-10-02T14:00:00Z", "first_response_at": "2026-10-05T08:00:00Z",
     "channel": "chat"},
    {"ticket_id": "T3", "created_at": "2026-10-23T13:00:00Z", "escalated_at": "2026-10-23T15:00:00Z",
     "resolved_at": "2026-10-26T10:00:00Z", "channel": "email"},
    {"ticket_id": "T4", "created_at": "2026-11-03T16:00:00Z", "channel": "phone"},
]
MESSAGES = [
    {"message_id": "m1", "ticket_id": "T1", "sent_at": "2026-10-01T09:00:00Z", "author": "customer"},
    {"message_id": "m2", "ticket_id": "T1", "sent_at": "2026-10-01T10:30:00Z", "author": "agent"},
    {"message_id": "m3", "ticket_id": "T1", "sent_at": "2026-10-01T12:00:00Z", "author": "customer"},
    {"message_id": "m4", "ticket_id": "T1", "sent_at": "2026-10-02T09:15:00Z", "author": "agent"},
    {"message_id": "m5", "ticket_id": "T4", "sent_at": "2026-11-03T16:00:00Z", "author": "customer"},
]
CALLS = [
    {"call_id": "c1", "entered_at": "2026-10-01T08:59:00Z", "answered_at": "2026-10-01T09:01:30Z"},
    {"call_id": "c2", "entered_at": "2026-10-25T00:30:00Z", "answered_at": "2026-10-26T06:10:00Z"},
]
# with --option hours=business; the SLA ones take business hours from the [[sla]] rule
KPIS = (("first_response_time", "avg_response_time", "avg_resolution_time", "complaint_resolution_time",
         "avg_wait_time", "--option", "hours=business"),
        ("sla_first_response_met", "sla_resolution_met", "sla_next_response_met", "sla_breaches", "sla_at_risk",
         "backlog_overdue"))


def _answers(ws, cfg, monkeypatch, dense: bool) -> tuple[list, list]:
    built = []
    real = Calendars.hour_table

    def spy(self, first, last, chunks=None):
        built.append(chunks)
        return real(self, first, last, chunks)
    monkeypatch.setattr(Calendars, "hour_table", spy)
    monkeypatch.setattr(business_store, "SPARSE_AFTER", 10**9 if dense else 4)
    out = []
    for kpis in KPIS:
        r = ws.cli("kpi", *kpis, "--by", "month", "--from", "2026-10-01", "--to", "2027-05-31", "--as-of",
                   "2027-06-01T12:00:00Z", "--format", "json", "--config", str(cfg))
        assert r.exit_code == 0, r.stdout + r.stderr
        out.append(json.loads(r.stdout))
    return out, built


def test_every_business_time_kpi_is_the_same_on_a_sparse_table(ws, monkeypatch):
    cfg = ws.root / "bh.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    ws.write("tickets", TICKETS)
    ws.write("messages", MESSAGES)
    ws.write("calls", CALLS)
    ws.load(None, "--config", str(cfg))
    # a calendar the stored seconds were not computed for: every instant is looked up in the hour
    # table (with the import's calendar only the as-of instant, period ends and open waits are)
    other = ws.root / "bh-other.toml"
    other.write_text(CONFIG.replace('fri = "09:00-13:00"', 'fri = "09:00-17:00"\nsat = "10:00-12:00"'),
                     encoding="utf-8")
    sparse, built = _answers(ws, other, monkeypatch, dense=False)
    assert built and all(chunks is not None for chunks in built)  # the sparse path was taken
    dense, built = _answers(ws, other, monkeypatch, dense=True)
    assert built and all(chunks is None for chunks in built)
    assert sparse == dense
    values = [r["value"] for answer in sparse for r in answer]
    assert sum(v is not None for v in values) > 8, values  # the KPIs answered (not all null alike)
