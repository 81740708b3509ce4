"""API tokens and dashboard sessions, kept in the store as hashes only.

A token is `skt_` + secrets.token_urlsafe(32) (256 random bits). It is shown once, at creation,
and stored as its SHA-256: a slow password hash (bcrypt, argon2) protects guessable secrets, and
a 256-bit random token is not guessable, so a fast hash loses nothing and keeps every request
cheap. Verification compares the hash with hmac.compare_digest against every active token.
Session ids are random too (token_urlsafe(32)), stored as their SHA-256 beside the CSRF token.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from servicekpi.core.errors import NotFoundError, UsageError

ROLES = ("admin", "manager", "viewer", "agent", "ingest")
PREFIX = "skt_"
SESSION_HOURS = 12

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS api_tokens (
        id VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR NOT NULL, agent_id VARCHAR,
        hash VARCHAR NOT NULL, created_at TIMESTAMP DEFAULT current_timestamp, revoked_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS api_sessions (
        id_hash VARCHAR PRIMARY KEY, token_id VARCHAR NOT NULL, csrf VARCHAR NOT NULL,
        created_at TIMESTAMP DEFAULT current_timestamp, expires_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS api_idempotency (
        token_id VARCHAR NOT NULL, key VARCHAR NOT NULL, body_sha256 VARCHAR NOT NULL,
        status INTEGER NOT NULL, answer VARCHAR NOT NULL, created_at TIMESTAMP DEFAULT current_timestamp,
        PRIMARY KEY (token_id, key))""",
)


class TokenError(UsageError):
    """A token command that cannot be done (unknown role, missing agent id, unknown token)."""


class TokenNotFound(NotFoundError, TokenError):
    """No token, or more than one, answers to the id or name given (exit 1, HTTP 404)."""


@dataclass(frozen=True)
class Identity:
    token_id: str
    name: str | None
    role: str
    agent_id: str | None
    via: str = "bearer"  # bearer or cookie
    csrf: str | None = None  # cookie sessions only


def ensure(con) -> None:
    """Create the token, session and idempotency tables if the store has none (no migration needed:
    nothing else reads them, and CREATE TABLE IF NOT EXISTS is idempotent)."""
    for sql in SCHEMA:
        con.execute(sql)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def create(con, role: str, agent_id: str | None = None, name: str | None = None) -> tuple[dict, str]:
    """A new token: (its listing row, the secret shown once)."""
    if role not in ROLES:
        raise TokenError(f"role '{role}' is not one of: {', '.join(ROLES)}")
    if role == "agent" and not agent_id:
        raise TokenError("an agent token needs --agent-id (the agent_id whose numbers it may read)")
    if role != "agent" and agent_id:
        raise TokenError("--agent-id is only for --role agent")
    if name is not None:
        name = name.strip()
        if not name:
            raise TokenError("--name must not be blank")
        if name.startswith("tok_"):
            raise TokenError("a token name must not start with 'tok_' (that is how token ids start)")
        taken = con.execute("SELECT id FROM api_tokens WHERE name = ? AND revoked_at IS NULL", [name]).fetchall()
        if taken:
            raise TokenError(f"an active token is already named '{name}' ({taken[0][0]}); "
                             f"choose another name or revoke it first")
    secret = PREFIX + secrets.token_urlsafe(32)
    tid = "tok_" + secrets.token_hex(6)
    con.execute("INSERT INTO api_tokens (id, name, role, agent_id, hash) VALUES (?, ?, ?, ?, ?)",
                [tid, name, role, agent_id, digest(secret)])
    return {"id": tid, "name": name, "role": role, "agent_id": agent_id}, secret


def listing(con, include_revoked: bool = False) -> list[dict]:
    """Every token without its hash."""
    cur = con.execute("SELECT id, name, role, agent_id, created_at, revoked_at FROM api_tokens"
                      + ("" if include_revoked else " WHERE revoked_at IS NULL") + " ORDER BY created_at, id")
    names = [d[0] for d in cur.description]
    return [{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in zip(names, r)}
            for r in cur.fetchall()]


def revoke(con, ref: str) -> dict:
    """Revoke by id or name; the token's sessions end with it."""
    hits = con.execute("SELECT id, name, role FROM api_tokens WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                       [ref, ref]).fetchall()
    if not hits:
        raise TokenNotFound(f"no active token has the id or name '{ref}' (see: servicekpi token list)")
    if len(hits) > 1:
        raise TokenNotFound(f"'{ref}' names several tokens; revoke by id: {', '.join(h[0] for h in hits)}")
    tid = hits[0][0]
    con.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", [_now(), tid])
    con.execute("DELETE FROM api_sessions WHERE token_id = ?", [tid])
    return {"id": tid, "name": hits[0][1], "role": hits[0][2]}


def active(con) -> list[tuple[str, Identity]]:
    """(hash, identity) of every active token, for verify()."""
    rows = con.execute("SELECT hash, id, name, role, agent_id FROM api_tokens WHERE revoked_at IS NULL").fetchall()
    return [(h, Identity(tid, name, role, agent)) for h, tid, name, role, agent in rows]


def verify(secret: str, tokens: list[tuple[str, Identity]]) -> Identity | None:
    """The identity of a presented token, comparing in constant time against every active hash."""
    presented = digest(secret)
    found = None
    for h, ident in tokens:
        if hmac.compare_digest(presented, h):
            found = ident
    return found


def open_session(con, ident: Identity) -> tuple[str, str]:
    """(session id for the cookie, CSRF token); only the session id's hash is stored."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    con.execute("DELETE FROM api_sessions WHERE expires_at < ?", [_now()])
    con.execute("INSERT INTO api_sessions (id_hash, token_id, csrf, expires_at) VALUES (?, ?, ?, ?)",
                [digest(sid), ident.token_id, csrf, _now() + dt.timedelta(hours=SESSION_HOURS)])
    return sid, csrf


def session(con, sid: str) -> tuple[str, str] | None:
    """(token_id, csrf) of a live session whose token is still active."""
    rows = con.execute("""SELECT s.id_hash, s.token_id, s.csrf FROM api_sessions s
        JOIN api_tokens t ON t.id = s.token_id AND t.revoked_at IS NULL
        WHERE s.id_hash = ? AND s.expires_at > ?""", [digest(sid), _now()]).fetchall()
    if rows and hmac.compare_digest(rows[0][0], digest(sid)):
        return rows[0][1], rows[0][2]
    return None


def close_session(con, sid: str) -> None:
    con.execute("DELETE FROM api_sessions WHERE id_hash = ?", [digest(sid)])


def agent_warning(con, role: str, agent_id: str | None) -> str | None:
    """A note when an agent token names an agent no record holds (a typo, or no data yet)."""
    if role != "agent" or not agent_id:
        return None
    from servicekpi.store.lookup import holds
    if holds(con, "agent_id", agent_id):
        return None
    return (f"no record has agent_id {agent_id} yet (tickets, calls, surveys, sessions, agents): check the "
            f"spelling; the token works, but shows no numbers until that agent has data")


def saved(path) -> list[tuple]:
    """Every token row (revoked ones too) of the store file at path, to carry into a recreated store;
    [] when there is no such file or it has no tokens."""
    from pathlib import Path

    import duckdb
    if not Path(path).exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT id, name, role, agent_id, hash, created_at, revoked_at FROM api_tokens").fetchall()
    except duckdb.CatalogException:
        return []
    finally:
        con.close()


def restore(con, rows: list[tuple]) -> None:
    """Put back the token rows saved() read (sessions are not kept: signed-in pages sign in again)."""
    ensure(con)
    con.executemany("INSERT INTO api_tokens (id, name, role, agent_id, hash, created_at, revoked_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
