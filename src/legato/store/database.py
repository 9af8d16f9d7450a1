"""One database, SQLite or PostgreSQL, behind SQLAlchemy, with Legato's transaction rules.

SQLite runs in WAL mode; write transactions start with `BEGIN IMMEDIATE` so that two
writers queue on the lock instead of failing late with SQLITE_BUSY, which is what makes
one file safe to share between a server and worker processes. PostgreSQL runs at READ
COMMITTED with row locks (`FOR UPDATE`, `SKIP LOCKED`) doing the coordination.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar, cast

import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from legato.errors import DatabaseUnavailable, ValueNotStorable
from legato.store.sealing import KEYLESS
from legato.store.watchdog import Watchdog

if TYPE_CHECKING:
    from legato.store.sealing import Sealer

_T = TypeVar("_T")

DEFAULT_SQLITE_PATH = "legato.db"
_AFTER_COMMIT = "legato_after_commit"

log = logging.getLogger("legato.store")


def normalize_url(url: str) -> str:
    """Accept `sqlite:///file.db`, `postgresql://...` and plain paths; pick our drivers."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_STATEMENT_TIMEOUT = 10.0
RETRY_AFTER_SECONDS = 5


class Database:
    """One database; on PostgreSQL, calls that take too long fail as DATABASE_UNAVAILABLE.

    `connect_timeout` bounds opening a connection and waiting for a free one in the pool;
    `statement_timeout` is PostgreSQL's own (the server cancels a slow statement) and, a
    little longer, the client-side deadline of one transaction (`legato.store.watchdog`),
    which is what ends a call on a link that stalls without closing.
    """

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        pool_size: int = 8,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    ) -> None:
        self.url = normalize_url(url)
        self.dialect = "sqlite" if self.url.startswith("sqlite") else "postgresql"
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.watchdog = Watchdog(statement_timeout + min(2.0, statement_timeout))
        self.engine: Engine = self._create_engine(sqlite_synchronous, pool_size)
        self.sealer: Sealer | None = None
        """Encryption at rest (sealing.py), set by the Store: what opens sealed values on read."""

    def opened(self, value: _T) -> _T:
        """What the store's reads return: `value` with every sealed value in it opened. Without
        keys too: a sealed value then raises ENCRYPTION_KEY_MISSING instead of showing ciphertext."""
        # Serialising in C and looking for the marker is ~15x quicker than walking the tree in
        # Python, and most reads hold nothing sealed.
        if b"$sealed" not in orjson.dumps(value, default=str):
            return value
        return cast(_T, (self.sealer or KEYLESS).open_tree(value))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _create_engine(self, synchronous: str, pool_size: int) -> Engine:
        if self.dialect == "postgresql":
            return self._create_postgres_engine(pool_size)
        memory = self.url in ("sqlite://", "sqlite:///:memory:")
        pooling: dict[str, Any] = (
            {"poolclass": StaticPool} if memory else {"pool_size": 4, "max_overflow": 4}  # one writer at a time anyway
        )
        engine = sa.create_engine(
            self.url, connect_args={"check_same_thread": False, "timeout": 60}, hide_parameters=True, **pooling
        )
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            # 2 MiB of page cache per connection: the hot pages of a step (the instance row,
            # the due-job index) fit; a larger cache only grows the process with the file.
            cursor.execute("PRAGMA cache_size=-2048")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            write = connection.get_execution_options().get("legato_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _create_postgres_engine(self, pool_size: int) -> Engine:
        # No pool_pre_ping: the checkout event pings instead, with the watchdog armed, so
        # that a ping on a stalled link ends at the deadline too.
        engine = sa.create_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=self.connect_timeout,
            hide_parameters=True,
            connect_args={"connect_timeout": max(2, math.ceil(self.connect_timeout))},
        )
        watchdog = self.watchdog
        statement_ms = int(self.statement_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {statement_ms}")
            dbapi_connection.commit()

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
            watchdog.arm(dbapi_connection)
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:
                watchdog.disarm(dbapi_connection)
                raise sa.exc.DisconnectionError(f"the pooled connection is gone: {exc}") from exc
            if not alive:
                watchdog.disarm(dbapi_connection)
                raise sa.exc.DisconnectionError("the pooled connection is gone")

        @event.listens_for(engine, "checkin")
        def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
            if dbapi_connection is not None:
                watchdog.disarm(dbapi_connection)

        @event.listens_for(engine, "invalidate")
        def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
            if dbapi_connection is not None:
                watchdog.disarm(dbapi_connection)

        return engine

    @contextmanager
    def write(self, *, watched: bool = True) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error.

        `watched=False` lifts the client-side deadline (for migrations, which may run long).
        """
        hooks: list[Callable[[], None]] = []
        with (
            self._errors(),
            _maybe(self.watchdog.unwatched(), not watched),
            self.engine.connect().execution_options(legato_write=True) as conn,
            conn.begin(),
        ):
            conn.info[_AFTER_COMMIT] = hooks
            try:
                yield conn
            finally:
                conn.info.pop(_AFTER_COMMIT, None)
        for hook in hooks:  # committed: now tell who waits for it
            try:
                hook()
            except Exception:
                log.exception("a hook run after a commit failed")

    @staticmethod
    def after_commit(conn: Connection, hook: Callable[[], None]) -> None:
        """Run `hook` once the write transaction of `conn` has committed (never on rollback).

        Outside a `write()` transaction the hook runs at once: there is nothing to wait for.
        """
        hooks = conn.info.get(_AFTER_COMMIT)
        if hooks is None:
            hook()
        else:
            hooks.append(hook)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Driver errors a caller can act on, as Legato's errors: 400 for values, 503 for outages."""
        try:
            yield
        except _REFUSED_VALUE_ERRORS as exc:
            refused = _unstorable(exc)
            if refused is not None:
                raise refused from exc
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        except _UNAVAILABLE_ERRORS as exc:
            unavailable = self._unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc

    def _unavailable(self, exc: BaseException) -> DatabaseUnavailable | None:
        """A database that cannot be reached, or did not answer in time; None for other errors."""
        if isinstance(exc, sa.exc.TimeoutError):
            return DatabaseUnavailable(
                f"no database connection became free within {self.connect_timeout:g} s",
                retry_after=RETRY_AFTER_SECONDS,
            )
        original = getattr(exc, "orig", None) or exc
        if self.is_sqlite:
            text = str(original).lower()
            if isinstance(original, sqlite3.OperationalError) and any(s in text for s in _SQLITE_UNAVAILABLE):
                return DatabaseUnavailable(
                    f"the database file is unavailable: {original}", retry_after=RETRY_AFTER_SECONDS
                )
            return None
        if isinstance(original, psycopg.OperationalError | psycopg.InterfaceError) or (
            isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
        ):
            reason = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
            return DatabaseUnavailable(f"the database is unavailable: {reason}", retry_after=RETRY_AFTER_SECONDS)
        return None

    def dispose(self) -> None:
        self.engine.dispose()
        self.watchdog.close()

    def size_bytes(self) -> int:
        """The database's size on disk, for benchmarks and the status page."""
        with self.read() as conn:
            if self.is_sqlite:
                pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
                return int(pages) * int(size)
            return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())


# What a driver raises when the database cannot be reached or gives up on a call.
_UNAVAILABLE_ERRORS = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    sa.exc.DisconnectionError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error", "database or disk is full")

# What a driver raises for a value it cannot bind or the database refuses: through
# SQLAlchemy (sa.exc.DataError) or from the hot-path statements on the raw cursor (sql.py).
_REFUSED_VALUE_ERRORS = (OverflowError, UnicodeEncodeError, sa.exc.DataError, sqlite3.DataError, psycopg.DataError)

# SQLSTATEs of PostgreSQL's data exceptions that a caller's value causes (class 22).
_INPUT_SQLSTATES = {
    "22003": "a number is out of the range the database holds (64-bit integers)",
    "22021": "text that is not valid in the database's encoding",
    "22P05": "text with a character the database's encoding cannot hold",
}


def _unstorable(exc: BaseException) -> ValueNotStorable | None:
    """A value the database refused, as the 400 it is; any other error stays as it was.

    The API checks request values before they get here; this is the defence for values
    that come another way (the Python API, a handler's result, a model's expression).
    """
    text = str(exc)
    if isinstance(exc, OverflowError):
        if "SQLite INTEGER" in text:
            return ValueNotStorable("a number is outside the range the database holds (64-bit integers)")
        return None
    if isinstance(exc, UnicodeEncodeError):
        if "surrogate" in text:
            return ValueNotStorable("text contains a lone surrogate, which is not valid Unicode")
        return None
    if "cannot contain NUL" in text:
        return ValueNotStorable("text contains a NUL character (U+0000), which the database cannot store")
    sqlstate = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate in _INPUT_SQLSTATES:
        return ValueNotStorable(_INPUT_SQLSTATES[sqlstate])
    return None


def _maybe(context: AbstractContextManager[None], enter: bool) -> AbstractContextManager[None]:
    return context if enter else nullcontext()
