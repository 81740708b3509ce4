"""Ranges follow the data (issue 13 item 2): without --from/--to a KPI's periods run from the first
to the last period holding records of its tables (capped by as-of); periods before a table's first
record or after its last are no data (null with a note), counts included; the monthly report starts
no earlier than the data and refuses a month without any."""
from __future__ import annotations

import json

import pytest

from conftest import Workspace, from_template

ASOF = "2026-12-01T00:00:00Z"  # years after the data: the range must not run up to it


def _build(ws: Workspace) -> None:
    # tickets in March and May 2021 (none in April: a real zero); spend only for April 2021;
    # customers acquired in 2019 (one), March, April and May 2021
    ws.write("tickets", [
        {"ticket_id": "T1", "created_at": "2021-03-05T10:00:00Z", "channel": "email"},
        {"ticket_id": "T2", "created_at": "2021-03-20T10:00:00Z", "channel": "email"},
        {"ticket_id": "T3", "created_at": "2021-05-10T10:00:00Z", "channel": "chat"},
    ])
    ws.write("spend", [{"period_start": "2021-04-01", "period_end": "2021-04-30", "amount": 300, "kind": "marketing"}])
    ws.write("customers", [
        {"customer_id": "C0", "acquired_at": "2019-06-01T00:00:00Z"},  # the customer list reaches back further
        {"customer_id": "C2", "acquired_at": "2021-04-02T00:00:00Z"},
        {"customer_id": "C3", "acquired_at": "2021-04-12T00:00:00Z"},
        {"customer_id": "C4", "acquired_at": "2021-05-02T00:00:00Z"},
    ])
    ws.load()


@pytest.fixture
def old(tmp_path) -> Workspace:
    return from_template(tmp_path, "ranges-2021", _build)


def series(rows):
    return [(r["period_start"], r["value"]) for r in rows]


def test_without_a_range_the_periods_are_those_of_the_data(old):
    # March-May 2021, not up to December 2026 (69 empty months); April has no ticket: a real 0
    assert series(old.kpi("ticket_volume", "--by", "month", asof=ASOF)) == [
        ("2021-03-01", 2), ("2021-04-01", 0), ("2021-05-01", 1)]


def test_the_period_holding_the_last_record_is_whole_not_partial(old):
    # the last ticket is on 2021-05-10: May is a complete month as of 2026, so it is not cut at the 10th
    rows = old.kpi("ticket_volume", "--by", "month", asof=ASOF)
    assert [r.get("partial", False) for r in rows][-1] is False
    # weeks: the week of Mon 2021-05-10 runs to Sun 05-16, whole; no week after it
    weeks = old.kpi("ticket_volume", "--by", "week", asof=ASOF)
    assert weeks[-1]["period_start"] == "2021-05-10" and not weeks[-1].get("partial", False)
    # the as-of instant still cuts: as of 2021-05-12 the week holding the last ticket is partial
    cut = old.kpi("ticket_volume", "--by", "week", asof="2021-05-12T12:00:00Z")
    assert cut[-1]["period_start"] == "2021-05-10" and cut[-1]["partial"] is True


def test_periods_outside_the_data_are_no_data_not_zero(old):
    rows = old.kpi("ticket_volume", "--by", "month", "--from", "2021-01-01", "--to", "2021-07-31", asof=ASOF)
    assert series(rows) == [("2021-01-01", None), ("2021-02-01", None), ("2021-03-01", 2), ("2021-04-01", 0),
                            ("2021-05-01", 1), ("2021-06-01", None), ("2021-07-01", None)]
    assert rows[0]["note"] == "no data: before the first record of tickets (2021-03-05)"
    assert rows[-1]["note"] == "no data: after the last record of tickets (2021-05-10)"
    assert "note" not in rows[3]  # April: inside the data, zero tickets


def test_cac_without_spend_is_no_data_not_zero(old):
    # spend only covers April: March and May have no spend recorded -> null, not 0.00;
    # April: 300 / 2 customers acquired (C2, C3) = 150
    rows = old.kpi("cac", "--by", "month", "--from", "2021-03-01", "--to", "2021-05-31", asof=ASOF)
    assert series(rows) == [("2021-03-01", None), ("2021-04-01", 150.0), ("2021-05-01", None)]
    assert rows[0]["note"] == "no data: before the first record of spend (2021-04-01)"
    assert rows[2]["note"] == "no data: after the last record of spend (2021-04-30)"
    # and without a range cac's periods are where both its tables hold records: April only
    assert series(old.kpi("cac", "--by", "month", asof=ASOF)) == [("2021-04-01", 150.0)]


def test_the_report_starts_no_earlier_than_the_data(old, tmp_path):
    r = old.cli("report", "--month", "2021-05", "--out", str(tmp_path / "r.html"), "--as-of", ASOF)
    assert r.exit_code == 0, r.stdout + r.stderr
    # 12 months ending May 2021 would start in June 2020: the data starts in March 2021 (the
    # customer won in 2019 does not start the operation's data: its tickets do)
    assert "(Mar 2021 – May 2021," in r.stdout.replace("\n", " ")


def test_a_report_of_a_month_without_data_says_what_the_data_covers(old, tmp_path):
    r = old.cli("report", "--month", "2026-10", "--out", str(tmp_path / "r.xlsx"), "--as-of", ASOF)
    assert r.exit_code == 1
    assert ("Error: no data in 2026-10: the store's records run from 2021-03-05 to 2021-05-10; "
            "choose a month in that range (--month 2021-05)") in r.stderr.replace("\n", " ")
    assert not (tmp_path / "r.xlsx").exists()


def test_the_api_rows_carry_the_same_range(old):
    from fastapi.testclient import TestClient

    from servicekpi.server import tokens
    from servicekpi.server.app import create_app
    from servicekpi.store import db as store
    con = store.connect(old.db)
    tokens.ensure(con)
    _, secret = tokens.create(con, "viewer", None, "v")
    con.close()
    cli = old.kpi("ticket_volume", "--by", "month", asof=ASOF)
    with TestClient(create_app(old.db)) as client:
        r = client.get("/api/kpis/ticket_volume", params={"by": "month", "as_of": ASOF},
                       headers={"Authorization": f"Bearer {secret}"})
        month = client.get("/api/reports/2026-10.html", params={"as_of": ASOF},
                           headers={"Authorization": f"Bearer {secret}"})
    assert r.json() == cli
    assert month.status_code == 400 and "records run from 2021-03-05 to 2021-05-10" in json.dumps(month.json())
