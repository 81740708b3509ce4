"""Chatwoot connector, --dsn: a real PostgreSQL server holding Chatwoot's tables.

The session fixture runs Debian's PostgreSQL (initdb + pg_ctl from /usr/lib/postgresql/*/bin, or
$SERVICEKPI_PG_BIN, or PATH) on a free 127.0.0.1 port with its socket in a temp dir; as root it runs
them as the `postgres` user. If PostgreSQL cannot start the tests FAIL (install it: make sysdeps).

Each test gets a fresh database with the columns the connector reads, typed as in chatwoot/chatwoot
db/schema.rb (`datetime` = timestamp without time zone, UTC), filled with the same conversations as the
API fixture (tests/connectors/data/chatwoot/) so the KPIs must agree with the hand-computed API values.
"""
from __future__ import annotations

import datetime as dt
import glob
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from conftest import run, said

DATA = Path(__file__).parent / "data" / "chatwoot"
OCT = ("--from", "2026-10-01", "--to", "2026-10-31")
USER = "servicekpi"

# db/schema.rb of chatwoot/chatwoot, only the columns the connector reads (same names and types)
SCHEMA = """
CREATE TABLE inboxes (id serial PRIMARY KEY, channel_type character varying);
CREATE TABLE teams (id bigserial PRIMARY KEY, name character varying NOT NULL);
CREATE TABLE conversations (
  id serial PRIMARY KEY, account_id integer NOT NULL, inbox_id integer NOT NULL,
  status integer DEFAULT 0 NOT NULL, assignee_id integer,
  created_at timestamp without time zone NOT NULL, updated_at timestamp without time zone NOT NULL,
  contact_id bigint, display_id integer NOT NULL, team_id bigint,
  first_reply_created_at timestamp without time zone, priority integer);
CREATE TABLE messages (
  id serial PRIMARY KEY, conversation_id integer NOT NULL, message_type integer NOT NULL,
  created_at timestamp without time zone NOT NULL, private boolean DEFAULT false NOT NULL,
  sender_type character varying, sender_id bigint);
CREATE TABLE csat_survey_responses (
  id bigserial PRIMARY KEY, conversation_id bigint NOT NULL, rating integer NOT NULL, feedback_message text,
  contact_id bigint NOT NULL, assigned_agent_id bigint, created_at timestamp(6) without time zone NOT NULL);
CREATE TABLE reporting_events (
  id bigserial PRIMARY KEY, name character varying, conversation_id integer,
  created_at timestamp(6) without time zone NOT NULL, event_end_time timestamp without time zone);
"""
STATUS = {"open": 0, "resolved": 1, "pending": 2, "snoozed": 3}
PRIORITY = {None: None, "low": 0, "medium": 1, "high": 2, "urgent": 3}
CHANNEL_INBOX = {"Channel::WebWidget": 1, "Channel::Email": 2, "Channel::Api": 3, "Channel::Whatsapp": 4}
SENDER = {"user": "User", "contact": "Contact", "agent_bot": "AgentBot", "captain_assistant": "Captain::Assistant"}


def _bindir() -> Path | None:
    if os.environ.get("SERVICEKPI_PG_BIN"):
        return Path(os.environ["SERVICEKPI_PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A running PostgreSQL server; yields its base DSN (no database). Fails the tests if it cannot start."""
    bindir = _bindir()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.fail("PostgreSQL server binaries not found (looked in $SERVICEKPI_PG_BIN, "
                    "/usr/lib/postgresql/*/bin, PATH); install them with `make sysdeps`")
    root = Path(tempfile.mkdtemp(prefix="servicekpi-pg-"))
    data, sock, log = root / "data", root / "sock", root / "postgres.log"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and there is no `postgres` user to run PostgreSQL as")
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def sh(*cmd: str, timeout: int = 120):
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=timeout)

    r = sh(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale")
    if r.returncode:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed: {r.stderr or r.stdout}")
    r = sh(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
           "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    if r.returncode:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {r.stderr or r.stdout}\n{text}")
    try:
        yield f"postgresql://{USER}@127.0.0.1:{port}"
    finally:
        sh(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


_n = itertools.count()


@pytest.fixture
def chatwoot(postgres):
    """A fresh database with Chatwoot's tables; yields (dsn, connection)."""
    name = f"chatwoot_{os.getpid()}_{next(_n)}"
    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{postgres}/{name}"
    con = psycopg.connect(dsn, autocommit=True)
    con.execute(SCHEMA)
    try:
        yield dsn, con
    finally:
        con.close()
        with psycopg.connect(f"{postgres}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}"')


def utc(epoch: int) -> dt.datetime:
    """Epoch seconds -> the naive UTC datetime Chatwoot stores."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(tzinfo=None)


def fill(con, account: int = 1, id_offset: int = 100) -> None:
    """The API fixture's conversations as database rows (internal id = id_offset + display id).

    Conversation 6 ('yesterday') cannot exist in a timestamp column and is left out. Each "marked
    resolved" activity message is also a conversation_resolved reporting event, as Chatwoot writes them.
    """
    con.execute("INSERT INTO inboxes (id, channel_type) VALUES (1, 'Channel::WebWidget'), (2, 'Channel::Email'), "
                "(3, 'Channel::Api'), (4, 'Channel::Whatsapp') ON CONFLICT DO NOTHING")
    con.execute("INSERT INTO teams (id, name) VALUES (5, 'Support') ON CONFLICT DO NOTHING")
    convs = json.loads((DATA / "conversations.json").read_text())["data"]["payload"]
    for c in convs:
        if not isinstance(c["created_at"], int):
            continue
        meta = c["meta"]
        con.execute(
            "INSERT INTO conversations (id, account_id, inbox_id, status, assignee_id, created_at, updated_at, "
            "contact_id, display_id, team_id, first_reply_created_at, priority) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (id_offset + c["id"], account, CHANNEL_INBOX[meta["channel"]], STATUS[c["status"]],
             (meta.get("assignee") or {}).get("id"), utc(c["created_at"]), utc(c["last_activity_at"]),
             meta["sender"]["id"], c["id"], 5 if meta.get("team") else None,
             utc(c["first_reply_created_at"]) if c["first_reply_created_at"] else None, PRIORITY[c["priority"]]))
    for page in json.loads((DATA / "messages.json").read_text()):
        for m in page["payload"]:
            sender = m.get("sender") or {}
            con.execute(
                "INSERT INTO messages (id, conversation_id, message_type, created_at, private, sender_type, sender_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (id_offset * 10 + m["id"], id_offset + m["conversation_id"], m["message_type"],
                 utc(m["created_at"]), m["private"], SENDER.get(sender.get("type")), sender.get("id")))
            if m["message_type"] == 2 and "marked resolved" in m["content"]:
                con.execute("INSERT INTO reporting_events (name, conversation_id, created_at, event_end_time) "
                            "VALUES ('conversation_resolved', %s, %s, %s)",
                            (id_offset + m["conversation_id"], utc(m["created_at"]), utc(m["created_at"])))
    for r in json.loads((DATA / "csat_survey_responses.json").read_text()):
        con.execute(
            "INSERT INTO csat_survey_responses (id, conversation_id, rating, feedback_message, contact_id, "
            "assigned_agent_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (id_offset * 10 + r["id"], id_offset + r["conversation_id"], r["rating"], r["feedback_message"],
             r["contact"]["id"], (r.get("assigned_agent") or {}).get("id"), utc(r["created_at"])))


def load(ws, dsn: str):
    r = run(ws, "import", "--source", "chatwoot", "--dsn", dsn)
    assert r.exit_code == 0, r.stdout + r.stderr + r.exception
    return r


def per(ws, kpi: str, dim: str) -> dict:
    return {r[dim]: r["value"] for r in ws.kpi(kpi, *OCT, "--dim", dim)}


def test_database_gives_the_api_kpis(ws, chatwoot):
    dsn, con = chatwoot
    fill(con)
    r = load(ws, dsn)
    # 5 conversations + 29 messages - 1 (message_type 7) + 4 CSAT answers; rejected: message_type 7, rating 6
    assert said(r.stdout, "imported 37, replaced 0, unchanged 0, rejected 2 rows")
    # first responses: 1: 09:00 -> 09:04 (bot, activity, private note skipped), 2: 20, 4: 10, 5: 6 -> 40 / 4
    assert per(ws, "first_response_time", "ticket_id") == {"1": 4.0, "2": 20.0, "3": None, "4": 10.0, "5": 6.0}
    assert ws.value("first_response_time", *OCT) == pytest.approx(10.0)
    # resolved now: 1, 5 of 5; last conversation_resolved event: 1 at 09:30 (0.5 h), 5 at 10:00 (1 h)
    assert ws.value("resolution_rate", *OCT) == pytest.approx(40.0)
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(0.75)
    # 1: one reply, no reopen; 5: two resolve events (one reopen) and three replies -> 1 of 2
    assert ws.value("fcr_rate", *OCT) == pytest.approx(50.0)
    # ratings 5, 3, 4, 1 (6 quarantined) -> 2 of 4 satisfied
    assert ws.value("csat", *OCT) == pytest.approx(50.0)
    assert per(ws, "ticket_volume", "status") == {"resolved": 2, "open": 1, "pending": 1, "on_hold": 1}
    assert per(ws, "ticket_volume", "channel") == {"chat": 2, "email": 1, "api": 1, "whatsapp": 1}


def test_rows_are_located_by_primary_key_without_credentials(ws, chatwoot):
    dsn, con = chatwoot
    fill(con)
    load(ws, dsn)
    q = {(x["source"], x["line_kind"], x["line"], x["column"]) for x in ws.quarantine()}
    base = dsn.replace(f"{USER}@", "")
    assert q == {(f"{base} messages", "id", 1108, "author"),  # message 108 at id offset 100 * 10
                 (f"{base} csat_survey_responses", "id", 1005, "score")}


def test_reimport_from_database_is_idempotent(ws, chatwoot):
    dsn, con = chatwoot
    fill(con)
    load(ws, dsn)
    r = load(ws, dsn)
    assert said(r.stdout, "imported 0, replaced 0, unchanged 37, rejected 2 rows")
    assert len(ws.quarantine()) == 2


def test_resolved_without_event_uses_updated_at(ws, chatwoot):
    dsn, con = chatwoot
    fill(con)
    con.execute("DELETE FROM reporting_events WHERE conversation_id = 101")
    con.execute("UPDATE conversations SET updated_at = %s WHERE id = 101", (dt.datetime(2026, 10, 5, 11, 0),))
    r = load(ws, dsn)
    assert said(r.stderr, "1 resolved conversation(s) without a resolve event: resolved_at is their updated_at")
    # 1: 09:00 -> 11:00 = 2 h; 5: 1 h -> 1.5 h
    assert ws.value("avg_resolution_time", *OCT) == pytest.approx(1.5)


def test_naive_database_times_are_utc(ws, chatwoot):
    dsn, con = chatwoot
    fill(con)
    r = run(ws, "import", "--source", "chatwoot", "--dsn", dsn, "--source-tz", "Asia/Tokyo")
    assert r.exit_code == 0, r.stderr
    # the connector writes the database's UTC times with a 'Z', so another source zone changes nothing
    assert ws.value("first_response_time", *OCT) == pytest.approx(10.0)
    rows = ws.kpi("ticket_volume", "--by", "day", *OCT)
    assert [(x["period_start"], x["value"]) for x in rows if x["value"]][:1] == [("2026-10-05", 1)]


def test_several_accounts_prefix_ticket_ids(ws, chatwoot):
    dsn, con = chatwoot
    fill(con, account=1, id_offset=100)
    fill(con, account=2, id_offset=200)
    r = load(ws, dsn)
    assert said(r.stderr, "several Chatwoot accounts: ticket ids are account_id:display_id")
    ids = set(per(ws, "ticket_volume", "ticket_id"))
    assert ids == {f"{a}:{d}" for a in (1, 2) for d in (1, 2, 3, 4, 5)}
    assert ws.value("first_response_time", *OCT) == pytest.approx(10.0)  # the same conversations twice


def test_session_is_read_only(ws, chatwoot, monkeypatch):
    """The connector's transaction is READ ONLY: a write through its connection is refused by the server."""
    from servicekpi.connectors.chatwoot import db as chatwoot_db
    dsn, con = chatwoot
    fill(con)
    # a function that writes, called from the connector's own query
    con.execute("CREATE FUNCTION servicekpi_write() RETURNS integer AS "
                "$$ INSERT INTO teams (name) VALUES ('written by the import') RETURNING 1 $$ LANGUAGE sql")
    monkeypatch.setattr(chatwoot_db, "RESOLUTIONS", "SELECT conversation_id, event_end_time FROM reporting_events "
                        "WHERE name = %s AND servicekpi_write() = 1")
    r = run(ws, "import", "--source", "chatwoot", "--dsn", dsn)
    assert r.exit_code == 1
    assert said(r.stderr, "read-only transaction")
    assert con.execute("SELECT count(*) FROM teams").fetchone()[0] == 1


def test_unreachable_database_is_reported_without_password(ws, postgres):
    port = _free_port()
    r = run(ws, "import", "--source", "chatwoot", "--dsn", f"postgresql://{USER}:s3cret@127.0.0.1:{port}/chatwoot")
    assert r.exit_code == 1
    assert said(r.stderr, f"cannot connect to postgresql://127.0.0.1:{port}/chatwoot")
    assert "s3cret" not in r.stderr + r.stdout


def test_missing_chatwoot_tables_is_an_error(ws, postgres):
    r = run(ws, "import", "--source", "chatwoot", "--dsn", f"{postgres}/postgres")
    assert r.exit_code == 1
    assert said(r.stderr, "cannot read the Chatwoot tables")
    assert said(r.stderr, 'relation "conversations" does not exist')
