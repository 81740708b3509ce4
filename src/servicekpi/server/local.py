"""The store owner's CLI through the running server: a local key and running a CLI command here.

`servicekpi serve` writes a random key to `<store>.serve.key` (mode 0600: only the owner reads it) and
keeps only its SHA-256. POST /api/local/run accepts that key from loopback clients only, and runs the
command line it is given in this process (the CLI registers the runner: server does not import cli),
on this process's store connection; the answer is the command's exit code, stdout and stderr."""
from __future__ import annotations

import hashlib
import hmac
import io
import ipaddress
import os
import secrets
import sys
import threading
from pathlib import Path

KEY_HEADER = "X-Servicekpi-Local-Key"


def key_path(db: Path) -> Path:
    return db.with_name(db.name + ".serve.key")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(db: Path) -> str:
    """A fresh key in a 0600 file beside the store; returns its hash (the key itself is not kept)."""
    path = key_path(db)
    path.unlink(missing_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
    return digest(key)


def key_matches(sent: str, expected_hash: str | None) -> bool:
    return bool(expected_hash) and hmac.compare_digest(digest(sent), expected_hash)


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ThreadStream(io.TextIOBase):
    """sys.stdout/sys.stderr while the server runs CLI commands: a thread running one writes to its own
    buffer, every other thread to the original stream."""

    def __init__(self, original, local: threading.local, name: str):
        self.original, self.local, self.name = original, local, name

    def target(self):
        return getattr(self.local, self.name, None) or self.original

    def write(self, s):
        return self.target().write(s)

    def flush(self):
        return self.target().flush()

    def isatty(self):
        return False if getattr(self.local, self.name, None) else self.original.isatty()

    @property
    def buffer(self):
        return self.target().buffer

    @property
    def encoding(self):
        return self.target().encoding


CAPTURE = threading.local()
_installed = threading.Lock()


def capture_streams() -> None:
    with _installed:
        if not isinstance(sys.stdout, ThreadStream):
            sys.stdout = ThreadStream(sys.stdout, CAPTURE, "out")
        if not isinstance(sys.stderr, ThreadStream):
            sys.stderr = ThreadStream(sys.stderr, CAPTURE, "err")


def captured(fn):
    """fn() with this thread's stdout and stderr captured: (result, stdout bytes, stderr bytes)."""
    capture_streams()
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    CAPTURE.out, CAPTURE.err = out, err
    try:
        result = fn()
    finally:
        CAPTURE.out = CAPTURE.err = None
        out.flush()
        err.flush()
    return result, out.buffer.getvalue(), err.buffer.getvalue()
