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
