"""The server's one store connection: a single writer and a pool of reading engines.

DuckDB lets one process hold a store file for writing. The server opens it once; every write
(ingest, tokens, sessions) runs on one writer cursor under a lock, inside a transaction, and
queries run concurrently on their own cursors (con.cursor()), each inside a read transaction,
so a query sees each batch whole or not at all. KPI answers are kept in a result cache (cache.py)
keyed by the write generation, which every write bumps (and clears the cache). The pool's engines
share one compiled-SQL cache (engine.SqlCache), keyed by the query and what its SQL is built from
(imported tables, stored columns), not by the data: a write does not make a query compile again."""
from __future__ import annotations

import queue
import threading
from contextlib import contextmanager
from pathlib import Path

from servicekpi import ingest
from servicekpi.core.config import Config
from servicekpi.engine.query import Engine, SqlCache
from servicekpi.server import tokens
from servicekpi.server.cache import ResultCache
from servicekpi.server.errors import ApiError
from servicekpi.server.ratelimit import FailureLimit
from servicekpi.store import db as store


def is_fatal(e: BaseException) -> bool:
    """DuckDB's invalidation: FatalException, or any error saying the database was invalidated."""
    import duckdb
    return isinstance(e, duckdb.FatalException) or "database has been invalidated" in str(e)


class State:
    def __init__(self, db_path: Path, cfg: Config, pool_size: int = 4, max_body: int = 10 * 1024 * 1024,
                 cache_entries: int = 512, sign_in_failures: int = 5):
        self.db_path = Path(db_path)
        self.cfg = cfg
        self.max_body = max_body
        self.pool_size = pool_size
        self._root = threading.Lock()  # guards cursor creation on the root connection
        self.write_lock = threading.Lock()
        self._tokens: list | None = None
        self._generation = 0  # bumped by every write: a cache filled before it is not kept
        self.results = ResultCache(cache_entries)
        self.sql = SqlCache()  # compiled SQL, shared by the pool's engines; writes keep it
        self.sign_in_limit = FailureLimit(sign_in_failures)  # failed sign-ins per client address a minute
        self.closed = True
        self.invalidated: str | None = None  # DuckDB's reason once the database is invalidated
        self.on_invalidated = None  # serve() sets it: stop the process (non-zero) so a supervisor restarts it
        self.open()

    def fatal(self, e: BaseException) -> None:
        """A DuckDB error that invalidates the database (FatalException, "database has been
        invalidated"): every later request gets 503 with the reason, and the server stops."""
        if self.invalidated is None and is_fatal(e):
            self.invalidated = str(e).splitlines()[0][:300]
            if self.on_invalidated is not None:
                self.on_invalidated()
        if self.invalidated is not None:
            raise ApiError(503, f"the store is unavailable: DuckDB invalidated the database "
                                f"({self.invalidated}); the server is stopping so it can be restarted") from e

    def check(self) -> None:
        if self.invalidated is not None:
            raise ApiError(503, f"the store is unavailable: DuckDB invalidated the database "
                                f"({self.invalidated}); the server is stopping so it can be restarted")

    def open(self) -> None:
        """Open the store (again, after close(): an app may run several lifespans, as tests do)."""
        if not self.closed:
            return
        self.con = store.connect(self.db_path)  # migrates; holds the file lock while the server runs
        tokens.ensure(self.con)
        ingest.refresh_business(self.con, self.cfg.business())  # after a calendar change: before any write
        self._writer = self.cursor()
        self._pool: queue.LifoQueue = queue.LifoQueue()
        self._made = 0
        self._tokens = None
        self._generation += 1  # a store opened again may have changed meanwhile
        self.results.clear()
        self.closed = False

    def cursor(self):
        with self._root:
            cur = self.con.cursor()
        cur.execute("SET TimeZone = 'UTC'")  # a cursor is a new session: same settings as store.connect
        return cur

    # -- writes ------------------------------------------------------------------
    def write(self, fn):
        """fn(cursor) in one transaction, one writer at a time; the token cache is dropped after."""
        self.check()
        with self.write_lock:
            cur = self._writer
            try:
                cur.execute("BEGIN TRANSACTION")
            except Exception as e:
                self.fatal(e)
                raise
            try:
                result = fn(cur)
                cur.execute("COMMIT")
            except BaseException as e:
                try:
                    cur.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - an invalidated database refuses even this
                    pass
                self.fatal(e)
                raise
            finally:
                self.changed()
            return result

    def changed(self) -> None:
        """After any write: cached answers and tokens are dropped."""
        self._generation += 1
        self._tokens = None
        self.results.clear()

    # -- reads -------------------------------------------------------------------
    @contextmanager
    def engine(self):
        """An engine on its own cursor, inside a read transaction (one snapshot per request)."""
        self.check()
        try:
            eng = self._pool.get_nowait()
        except queue.Empty:
            eng = None
            with self._root:
                make = self._made < self.pool_size
                if make:
                    self._made += 1
            if make:
                try:
                    eng = Engine(self.cursor(), self.cfg, sql_cache=self.sql)
                except BaseException as e:  # the slot was never filled: give it back (it leaked before)
                    with self._root:
                        self._made -= 1
                    self.fatal(e)
                    raise
            else:
                try:
                    eng = self._pool.get(timeout=60)
                except queue.Empty:
                    raise ApiError(503, "the server is busy: every query engine stayed in use for 60 s; "
                                        "retry later") from None
        try:
            eng.con.execute("BEGIN TRANSACTION")
        except BaseException as e:
            self._pool.put(eng)
            self.fatal(e)
            raise
        try:
            yield eng
        except BaseException as e:
            self.fatal(e)
            raise
        finally:
            try:
                eng.con.execute("ROLLBACK")  # read-only: nothing to keep
            except Exception:  # noqa: BLE001 - an invalidated database refuses even this
                pass
            finally:
                self._pool.put(eng)

    def cached(self, key: tuple, compute) -> bytes:
        """compute() (JSON bytes) through the result cache; key from cache.key (who asks included)."""
        generation = self._generation  # read before compute() opens its snapshot
        return self.results.get((generation, *key), compute, lambda: self._generation)

    @contextmanager
    def reader(self):
        with self.engine() as eng:
            yield eng.con

    def tokens(self) -> list:
        cached = self._tokens
        if cached is None:
            generation = self._generation
            with self.reader() as cur:
                cached = tokens.active(cur)
            if generation == self._generation:
                self._tokens = cached
        return cached

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with self.write_lock:
            while not self._pool.empty():
                try:
                    self._pool.get_nowait().con.close()
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
            self._writer.close()
            self.con.close()
