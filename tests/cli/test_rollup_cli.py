"""`servicekpi rollup --by channel`: kpi answers from the daily rollup and says so in --explain;
import and erase recompute the days they change, so the answers stay the raw ones."""
from __future__ import annotations

from tests.conftest import pick

Q = ("ticket_volume", "--by", "month", "--dim", "channel", "--from", "2026-10-01", "--to", "2026-10-31")


def tickets(*rows):
    return [dict(ticket_id=i, channel=c, created_at=t, status="open") for i, c, t in rows]


def test_rollup_follows_import_and_erase(ws):
    ws.write("tickets", tickets(("t1", "email", "2026-10-01T08:00:00Z"), ("t2", "chat", "2026-10-02T09:00:00Z"),
                                ("t3", "email", "2026-10-31T23:30:00Z")))
    ws.load()
    r = ws.cli("rollup", "--by", "channel")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "daily rollup(s) by channel in zone UTC" in r.stdout
    r = ws.cli("kpi", *Q, "--explain", "--as-of", "2027-01-01T00:00:00Z")
    assert r.exit_code == 0 and "answered from the daily rollup" in r.stderr, r.stderr
    rows = ws.kpi(*Q)
    assert pick(rows, channel="email")["value"] == 2  # t1, t3 (23:30 UTC is still Oct 31)
    assert pick(rows, channel="chat")["value"] == 1

    late = ws.root / "late"
    late.mkdir()
    ws.data = late
    ws.write("tickets", tickets(("t4", "email", "2026-10-05T10:00:00Z")))
    r = ws.load()
    assert "day(s) recomputed" in r.stderr
    assert pick(ws.kpi(*Q), channel="email")["value"] == 3  # t1, t3, t4 (late, into Oct 5)

    r = ws.cli("erase", "--ticket", "t1")
    assert r.exit_code == 0 and "day(s) recomputed" in r.stderr, r.stderr
    rows = ws.kpi(*Q)
    assert pick(rows, channel="email")["value"] == 2  # t3, t4
    # the same with the rollups dropped: raw data give the same numbers
    assert ws.cli("rollup", "--off").exit_code == 0
    r = ws.cli("kpi", *Q, "--explain", "--as-of", "2027-01-01T00:00:00Z")
    assert "daily rollup" not in r.stderr
    assert ws.kpi(*Q) == rows
