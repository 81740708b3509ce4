"""A query that matches nothing says so (issue 13 item 5): a --where value no record holds is a
note in the CLI and a warning on the API's rows (the dashboard shows it on the card); an agent
token for an agent without data warns."""
from __future__ import annotations

import json

from api_support import ASOF, bearer, srv  # noqa: F401 - fixture

from conftest import run


def get(srv, path, role="viewer", **params):
    return srv.client.get(path, params={"as_of": ASOF, **params}, headers=bearer(srv.tokens[role]))


def test_an_unmatched_where_value_is_a_warning_on_the_rows(srv):
    rows = get(srv, "/api/kpis/ticket_volume", where="channel=nope", by="month").json()
    assert rows and all(r["warnings"] == ["no record has channel=nope: the filter matches nothing (in tickets)"]
                        for r in rows)
    # a value some record holds (any case: channel is an enum) carries no warning
    assert all("warnings" not in r for r in get(srv, "/api/kpis/ticket_volume", where="channel=EMAIL").json())
    # csat reads surveys and tickets: team=red is a ticket's team, so it matches
    assert all("warnings" not in r for r in get(srv, "/api/kpis/csat", where="team=red").json())


def test_the_cli_prints_a_note_for_an_unmatched_where_value(srv, tmp_path):
    import shutil

    from conftest import Workspace
    ws = Workspace(tmp_path)  # a copy: the test server holds the fixture's store
    shutil.copyfile(srv.ws.db, ws.db)
    r = run(ws, "kpi", "ticket_volume", "--where", "team=nobody", "--format", "json", "--as-of", ASOF)
    assert r.exit_code == 0
    assert "note: no record has team=nobody: the filter matches nothing (in tickets)" in r.stderr
    assert json.loads(r.stdout)[0]["value"] == 0  # the rows themselves are unchanged
    ok = run(ws, "kpi", "ticket_volume", "--where", "team=red", "--format", "json", "--as-of", ASOF)
    assert "note:" not in ok.stderr
    rows = run(ws, "rows", "ticket_volume", "--where", "agent_id=zz", "--as-of", ASOF)
    assert rows.exit_code == 0 and "note: no record has agent_id=zz" in rows.stderr


def test_an_agent_token_for_an_agent_without_data_warns(srv, tmp_path):
    import shutil

    from conftest import Workspace
    ws = Workspace(tmp_path)
    shutil.copyfile(srv.ws.db, ws.db)
    r = run(ws, "token", "create", "--role", "agent", "--agent-id", "NOPE")
    assert r.exit_code == 0
    assert "warning: no record has agent_id NOPE yet" in r.stderr
    known = run(ws, "token", "create", "--role", "agent", "--agent-id", "a1")
    assert known.exit_code == 0 and "warning" not in known.stderr
