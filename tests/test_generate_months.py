"""Month-at-a-time generation (servicekpi.sample.months), the path of the 100M-ticket benchmark:
two months generated independently have disjoint ids, reference only their own tickets, hold
exactly the tickets the one-go generator puts in each month, and import together with nothing
quarantined. Small sizes; the import (about 1 s) is what the months are for, so it is tested."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from servicekpi.core.model import TABLES
from servicekpi.ingest import load
from servicekpi.sample.generate import generate
from servicekpi.sample.months import generate_month
from servicekpi.store import db as store

END = dt.date(2026, 1, 1)                  # months 2025-11 and 2025-12
BOUNDS = [pd.Timestamp("2025-11-01", tz="UTC"), pd.Timestamp("2025-12-01", tz="UTC"),
          pd.Timestamp("2026-01-01", tz="UTC")]
N = 1500
# the generated tables by their keys (the canonical model's)
KEYS = {t: list(TABLES[t].key) for t in ("customers", "tickets", "messages", "calls", "agent_sessions", "surveys",
                                          "orders", "spend", "self_service", "feedback", "quality_reviews", "activity")}


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    root = tmp_path_factory.mktemp("months")
    out = []
    for k in (1, 0):                                   # any order: the months are independent
        counts = generate_month(root / f"m{k}", k, tickets=N, seed=5, months=2, end=END)
        out.append((k, root / f"m{k}", counts))
    out.sort()
    data = [{t: pq.read_table(folder / f"{t}.parquet").to_pandas() for t in KEYS} for _, folder, _ in out]
    return root, [folder for _, folder, _ in out], [c for _, _, c in out], data


def test_months_have_disjoint_keys(months):
    _, _, counts, data = months
    for t, key in KEYS.items():
        both = pd.concat([data[0][t][key], data[1][t][key]])
        assert not both.duplicated().any(), t
        assert len(both) == counts[0][t] + counts[1][t], t
    # calls and surveys: a fifth of the tickets each, split between the months, none lost
    assert counts[0]["calls"] + counts[1]["calls"] == N // 5
    assert counts[0]["surveys"] + counts[1]["surveys"] == N // 5


def test_months_reference_their_own_tickets_and_known_customers(months):
    _, _, _, data = months
    customers = set(data[0]["customers"].customer_id) | set(data[1]["customers"].customer_id)
    for k in (0, 1):
        d = data[k]
        own = set(d["tickets"].ticket_id)
        lo, hi = BOUNDS[k], BOUNDS[k + 1]
        assert d["tickets"].created_at.between(lo, hi, inclusive="left").all()
        for t in ("messages", "calls", "surveys", "quality_reviews"):
            ref = set(d[t].ticket_id.dropna())
            assert ref and ref <= own, (k, t)
        for t in ("tickets", "calls", "surveys", "orders", "self_service", "feedback", "activity"):
            assert set(d[t].customer_id.dropna()) <= customers, (k, t)
        for t, col in (("calls", "entered_at"), ("orders", "ordered_at"), ("self_service", "occurred_at"),
                       ("feedback", "received_at"), ("activity", "occurred_at")):
            assert d[t][col].between(lo, hi, inclusive="left").all(), (k, t)
    # the second month writes only the customers acquired during it
    assert data[1]["customers"].acquired_at.between(BOUNDS[1], BOUNDS[2], inclusive="left").all()


def test_months_hold_the_tickets_the_one_go_generator_puts_in_them(months, tmp_path):
    root, _, _, data = months
    counts = generate(tmp_path / "all", tickets=N, seed=5, months=2, end=END)
    whole = pq.read_table(tmp_path / "all" / "tickets.parquet").to_pandas()
    assert counts["tickets"] == N == len(data[0]["tickets"]) + len(data[1]["tickets"])
    for k in (0, 1):
        in_month = whole.created_at.between(BOUNDS[k], BOUNDS[k + 1], inclusive="left")
        # the same hourly profile: the same tickets per month, with the same ids
        assert sorted(whole.ticket_id[in_month]) == sorted(data[k]["tickets"].ticket_id)


def test_months_import_one_after_the_other_with_nothing_quarantined(months, tmp_path):
    _, folders, counts, _ = months
    con = store.connect(str(tmp_path / "s.duckdb"))
    for folder, written in zip(folders, counts):
        r = load.run(con, Path(folder))
        assert r.total("rejected") == 0 and not r.file_errors
        assert r.total("imported") == sum(written.values())
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM tickets").fetchone()[0] == N


def test_a_month_in_parts_is_the_month_split_by_whole_days(months, tmp_path):
    """Month 0 in two parts (2025-11-01..15 and 16..30: 30 days * 1 // 2 = day 15) holds the
    month's tickets and orders, disjoint, the spend once, and imports after the whole month 1."""
    _, folders, _, data = months
    parts = []
    for p in (0, 1):
        generate_month(tmp_path / f"p{p}", 0, tickets=N, seed=5, months=2, end=END, part=p, parts=2)
        parts.append({t: pq.read_table(tmp_path / f"p{p}" / f"{t}.parquet").to_pandas() for t in KEYS})
    half = pd.Timestamp("2025-11-16", tz="UTC")
    assert parts[0]["tickets"].created_at.lt(half).all() and parts[1]["tickets"].created_at.ge(half).all()
    # the same tickets (ids; each part draws their content from its own streams) ...
    assert sorted(data[0]["tickets"].ticket_id) == sorted(pd.concat([parts[0]["tickets"], parts[1]["tickets"]]).ticket_id)
    # ... and the same orders, drawn for the whole month with its streams and cut by part
    cols = ["order_id", "customer_id", "ordered_at", "amount"]
    whole = data[0]["orders"][cols].sort_values("order_id").reset_index(drop=True)
    split = pd.concat([parts[0]["orders"], parts[1]["orders"]])[cols].sort_values("order_id").reset_index(drop=True)
    assert len(parts[0]["orders"]) and len(parts[1]["orders"])
    pd.testing.assert_frame_equal(whole, split)
    assert len(parts[0]["spend"]) == 2 and len(parts[1]["spend"]) == 0        # marketing, sales
    for t, key in KEYS.items():
        assert not pd.concat([parts[0][t][key], parts[1][t][key]]).duplicated().any(), t
    con = store.connect(str(tmp_path / "s.duckdb"))
    for folder in (tmp_path / "p0", tmp_path / "p1", folders[1]):
        r = load.run(con, Path(folder))
        assert r.total("rejected") == 0 and not r.file_errors
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM tickets").fetchone()[0] == N
