"""Agent aliases and the agents table (issue 15, item 3).

`[agents]` in the workspace config (rules + an alias map) is applied where every import passes (ingest/load.py):
Asterisk, the CSV mapping and the canonical import alike. The optional agents table is imported and validated
like the others; agents.display_names reads it.
"""
from __future__ import annotations

import duckdb
import pytest

from conftest import run, said
from servicekpi.core import agents as agents_mod
from servicekpi.store import db as store

OCT = ("--from", "2026-10-01", "--to", "2026-10-31")

# A callback agent: ADDMEMBER as Local/1127@callback-agent (logged in 09:00-10:00 = 3600 s), the call's
# CONNECT and COMPLETEAGENT as Agent/1127 (talk 900 s).
CALLBACK_LOG = (
    "1790845200|NONE|sales|Local/1127@callback-agent|ADDMEMBER|\n"
    "1790845800|c1|sales|NONE|ENTERQUEUE||555|1\n"
    "1790845810|c1|sales|Agent/1127|CONNECT|10|c1.2|2\n"
    "1790846710|c1|sales|Agent/1127|COMPLETEAGENT|10|900|1\n"
    "1790848800|NONE|sales|Local/1127@callback-agent|REMOVEMEMBER|\n"
)


def config(ws, text: str) -> None:
    (ws.root / "servicekpi.toml").write_text(text)


def by_agent(ws, kpi: str) -> dict:
    return {r["agent_id"]: r["value"] for r in ws.kpi(kpi, *OCT, "--dim", "agent_id")}


def rows(ws, sql: str) -> list[tuple]:
    con = duckdb.connect(str(ws.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_callback_agent_is_one_agent_with_the_channel_rule(ws, tmp_path):
    config(ws, '[agents]\nrules = ["channel"]\n')
    log = tmp_path / "queue_log"
    log.write_text(CALLBACK_LOG)
    r = run(ws, "import", str(log), "--source", "asterisk")
    assert r.exit_code == 0, r.stderr
    assert rows(ws, "SELECT agent_id FROM calls") == [("1127",)]
    assert rows(ws, "SELECT agent_id FROM agent_sessions") == [("1127",)]
    # one agent: handle 900 s / logged-in 3600 s = 25%
    assert by_agent(ws, "occupancy") == {"1127": pytest.approx(25.0)}


def test_without_rules_the_callback_agent_is_two_agents(ws, tmp_path):
    log = tmp_path / "queue_log"
    log.write_text(CALLBACK_LOG)
    assert run(ws, "import", str(log), "--source", "asterisk").exit_code == 0
    got = by_agent(ws, "occupancy")
    # the calls' agent has no logged-in time (null), the session's agent no calls (0%): the split the rules fix
    assert set(got) == {"Agent/1127", "Local/1127@callback-agent"}
    assert got["Agent/1127"] is None and got["Local/1127@callback-agent"] == 0


@pytest.mark.parametrize("raw, rules, expected", [
    ("Local/1127@callback-agent", ["channel"], "1127"),
    ("Local/1127@from-queue/n", ["channel"], "1127"),
    ("Agent/1127", ["channel"], "1127"),
    ("SIP/1127-0000a1b2", ["channel"], "1127"),
    ("PJSIP/jdoe", ["channel"], "jdoe"),
    ("Local/2001;1", ["channel"], "2001"),
    ("JDoe", ["casefold"], "jdoe"),
    ("SIP/JDoe-00000001", ["channel", "casefold"], "jdoe"),
    ("jane doe", ["channel"], "jane doe"),  # not a channel: unchanged
    ("Agent/1127", [], "Agent/1127"),
])
def test_rules(raw, rules, expected):
    assert agents_mod.AgentRules(tuple(rules)).normalise(raw) == expected


def test_aliases_and_casefold_in_the_canonical_import(ws):
    config(ws, '[agents]\nrules = ["casefold"]\n[agents.aliases]\n"Jane@Example.com" = "jdoe"\n')
    ws.write("calls", [
        {"call_id": "K1", "entered_at": "2026-10-01T10:00:00Z", "answered_at": "2026-10-01T10:00:10Z",
         "talk_seconds": 100, "agent_id": "JDoe"},
        {"call_id": "K2", "entered_at": "2026-10-01T11:00:00Z", "answered_at": "2026-10-01T11:00:10Z",
         "talk_seconds": 300, "agent_id": "jane@example.com"},  # the alias key matches after case folding
        {"call_id": "K3", "entered_at": "2026-10-01T12:00:00Z", "answered_at": "2026-10-01T12:00:10Z",
         "talk_seconds": 50, "agent_id": "other"},
    ])
    ws.load()
    # jdoe: (100 + 300) / 2 = 200 s; other: 50 s
    assert by_agent(ws, "aht") == {"jdoe": pytest.approx(200.0), "other": pytest.approx(50.0)}


def test_aliases_in_the_csv_mapping(ws, tmp_path):
    config(ws, '[agents]\n[agents.aliases]\n"Diane S." = "diane"\n')
    (tmp_path / "calls.csv").write_text("Id,At,Agent\nA,2026-10-01T09:00:00Z,Diane S.\nB,2026-10-01T10:00:00Z,diane\n")
    (tmp_path / "m.toml").write_text('[[files]]\n[[files.tables]]\ntable = "calls"\n[files.tables.columns]\n'
                                     'call_id = "Id"\nentered_at = "At"\nagent_id = "Agent"\n')
    r = run(ws, "import", str(tmp_path / "calls.csv"), "--source", "csv", "--mapping", str(tmp_path / "m.toml"))
    assert r.exit_code == 0, r.stderr
    assert rows(ws, "SELECT DISTINCT agent_id FROM calls") == [("diane",)]


def test_agents_table_imported_validated_and_named(ws):
    ws.write("agents", [
        {"agent_id": "1127", "name": "Jane Doe", "team": "Callbacks", "active_from": "2026-01-01"},
        {"agent_id": "1128", "name": "", "team": "Sales"},
        {"agent_id": "1129", "name": "Bad Dates", "active_from": "2026-05-01", "active_to": "2026-04-01"},
        {"agent_id": "", "name": "No id"},
    ])
    r = run(ws, "import", str(ws.data))
    assert said(r.stdout, "imported 2, replaced 0, unchanged 0, rejected 2 rows")
    q = {(x["line"], x["column"]): x["reason"] for x in ws.quarantine()}
    assert q[(4, "active_to")] == "active_to 2026-04-01 is before active_from 2026-05-01 (it must not be earlier)"
    assert q[(5, "agent_id")] == "missing required value"
    con = store.connect(ws.db)
    try:
        # 1128 has no name, 9999 is not in the table: their ids are shown
        assert agents_mod.display_names(con, ["1127", "1128", "9999"]) == {
            "1127": "Jane Doe", "1128": "1128", "9999": "9999"}
    finally:
        con.close()


def test_agents_table_keyed_by_the_normalised_id(ws):
    config(ws, '[agents]\nrules = ["channel"]\n')
    ws.write("agents", [{"agent_id": "Agent/1127", "name": "Jane Doe"}])
    ws.load()
    assert rows(ws, "SELECT agent_id, name FROM agents") == [("1127", "Jane Doe")]


def test_display_names_on_a_store_without_names(ws):
    con = store.connect(ws.db)
    try:
        assert agents_mod.display_names(con, ["a1"]) == {"a1": "a1"}
    finally:
        con.close()


@pytest.mark.parametrize("text, message", [
    ('[agents]\nrules = ["lowercase"]\n',
     "key agents.rules: ['lowercase'] (expected a list of: channel, casefold, strip)"),
    ('[agents]\nalias = {}\n', "key agents.alias: unknown key (expected rules, aliases, names)"),
    ('[agents.aliases]\n"a" = 3\n', "key agents.aliases: expected a table of"),
])
def test_config_errors(ws, text, message):
    config(ws, text)
    ws.write("calls", [{"call_id": "K1", "entered_at": "2026-10-01T10:00:00Z"}])
    r = run(ws, "import", str(ws.data))
    assert r.exit_code != 0 and said(r.stderr, message)


def test_rules_in_a_parquet_import(ws):
    import pyarrow as pa
    import pyarrow.parquet as pq
    config(ws, '[agents]\nrules = ["channel"]\n')
    pq.write_table(pa.table({"call_id": ["K1", "K2"], "entered_at": ["2026-10-01T10:00:00Z"] * 2,
                             "agent_id": ["SIP/1127-0001", "Agent/1127"]}), ws.data / "calls.parquet")
    ws.load()
    assert rows(ws, "SELECT call_id, agent_id FROM calls ORDER BY 1") == [("K1", "1127"), ("K2", "1127")]
