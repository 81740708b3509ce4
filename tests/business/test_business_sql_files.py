"""The stored business seconds' SQL is kept beside the store (core/sql_files.py), so an import in a
new process fills them without compiling through Ibis; other calendars never reuse it."""
from __future__ import annotations

import pytest

from servicekpi.core.config import load as load_config
from servicekpi.ingest import load
from servicekpi.store import business
from servicekpi.store import db as store

NINE_TO_FIVE = 'timezone = "UTC"\n[business_hours]\n' + "".join(f'{d} = "09:00-17:00"\n' for d in
                                                                  ("mon", "tue", "wed", "thu", "fri"))


class NoIbis:
    def __getattr__(self, name):
        raise AssertionError(f"ibis.{name} used: the business SQL was compiled, not read from the store's files")


def calendars(tmp_path, text: str):
    path = tmp_path / "bh.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path).business()


def import_ticket(con, tmp_path, ticket_id: str, created: str, first_response: str) -> None:
    csv = tmp_path / "tickets.csv"
    csv.write_text(f"ticket_id,created_at,first_response_at\n{ticket_id},{created},{first_response}\n", encoding="utf-8")
    assert load.run(con, csv).committed


def test_a_new_process_reads_the_business_sql_and_other_calendars_compile_their_own(tmp_path, monkeypatch):
    monkeypatch.setattr(business, "_SQL", {})  # nothing compiled in this process yet (other tests use these calendars)
    con = store.connect(tmp_path / "store.duckdb")
    nine = calendars(tmp_path, NINE_TO_FIVE)
    import_ticket(con, tmp_path, "T1", "2026-03-06T16:00:00Z", "2026-03-09T10:00:00Z")
    assert business.refresh(con, nine) == "full"  # compiled with Ibis, kept in store.duckdb.sqlcache/
    assert list((tmp_path / "store.duckdb.sqlcache").glob("*.json"))

    business._SQL.clear()  # a new process: nothing compiled in it
    monkeypatch.setattr(business, "ibis", NoIbis())
    # T2: created Fri 2026-03-13 16:30, answered Mon 09:45: 30 min Friday + 45 min Monday = 4500 s
    import_ticket(con, tmp_path, "T2", "2026-03-13T16:30:00Z", "2026-03-16T09:45:00Z")
    assert business.refresh(con, nine) == "incremental"
    rows = con.execute('SELECT ticket_id, "__b_first_response_at" - "__b_created_at" FROM tickets '
                       "ORDER BY ticket_id").fetchall()
    # T1: Fri 16:00-17:00 + Mon 09:00-10:00 = 7200 s
    assert rows == [("T1", 7200.0), ("T2", 4500.0)]

    eight = calendars(tmp_path, NINE_TO_FIVE.replace("09:00-17:00", "08:00-17:00"))
    with pytest.raises(AssertionError, match="compiled, not read"):
        business.refresh(con, eight)  # other calendars: another key, so Ibis compiles
    con.close()


class CountingIbis:
    """The real ibis, counting the queries compiled to SQL."""

    def __init__(self, real):
        self.real, self.compiled = real, 0

    def to_sql(self, *args, **kwargs):
        self.compiled += 1
        return self.real.to_sql(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_clock_columns_with_the_same_pending_shape_share_one_compiled_query(tmp_path, monkeypatch):
    monkeypatch.setattr(business, "_SQL", {})
    import ibis
    counting = CountingIbis(ibis)
    monkeypatch.setattr(business, "ibis", counting)
    monkeypatch.setenv("SERVICEKPI_SQL_CACHE", "off")  # nothing read from files: every query is compiled or shared
    con = store.connect(tmp_path / "store.duckdb")
    import_ticket(con, tmp_path, "T1", "2026-03-06T16:00:00Z", "2026-03-09T10:00:00Z")
    assert business.refresh(con, calendars(tmp_path, NINE_TO_FIVE)) == "full"
    # tickets' four clock columns (created_at, first_response_at, resolved_at, escalated_at) each pend as
    # (__rid BIGINT, __v TIMESTAMP, channel, team): one query for all four (it was compiled four times)
    assert counting.compiled == 1
    # T1: Fri 16:00-17:00 + Mon 09:00-10:00 = 7200 s; no resolution or escalation: -1 (no instant)
    assert con.execute('SELECT "__b_first_response_at" - "__b_created_at", "__b_resolved_at", "__b_escalated_at" '
                       "FROM tickets").fetchall() == [(7200.0, -1.0, -1.0)]
    con.close()


class Fetched:
    def __init__(self, rows):
        self.rows = rows

    def fetchall(self):
        return self.rows


class Recording:
    """A connection that keeps what each UPDATE statement answered (the rows it changed)."""

    def __init__(self, con):
        self.con, self.updates = con, []

    def execute(self, query, params=None):
        out = self.con.execute(query, params) if params else self.con.execute(query)
        if query.lstrip().startswith("UPDATE"):
            rows = out.fetchall()
            self.updates.append((query, rows[0][0] if rows else 0))
            return Fetched(rows)  # what was read, still there for the caller
        return out

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_a_full_recompute_resets_only_rows_that_hold_values(tmp_path):
    con = store.connect(tmp_path / "store.duckdb")
    import_ticket(con, tmp_path, "T1", "2026-03-06T16:00:00Z", "2026-03-09T10:00:00Z")
    first = Recording(con)
    assert business.refresh(first, calendars(tmp_path, NINE_TO_FIVE)) == "full"
    resets = [n for q, n in first.updates if "= NULL" in q]
    assert resets and not any(resets)  # a first computation: no value to clear, no row rewritten
    other = Recording(con)
    assert business.refresh(other, calendars(tmp_path, NINE_TO_FIVE.replace("09:00-17:00", "08:00-17:00"))) == "full"
    assert [n for q, n in other.updates if "= NULL" in q and q.startswith("UPDATE tickets")] == [1]  # T1's values
    # T1 under 08:00-17:00: Fri 16:00-17:00 + Mon 08:00-10:00 = 3 h = 10800 s
    assert con.execute('SELECT "__b_first_response_at" - "__b_created_at" FROM tickets').fetchall() == [(10800.0,)]
    con.close()
