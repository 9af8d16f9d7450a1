"""One database, SQLite or PostgreSQL, behind SQLAlchemy, with Legato's transaction rules.

SQLite runs in WAL mode; write transactions start with `BEGIN IMMEDIATE` so that two
writers queue on the lock instead of failing late with SQLITE_BUSY, which is what makes
one file safe to share between a server and worker processes. PostgreSQL runs at READ
COMMITTED with row locks (`FOR UPDATE`, `SKIP LOCKED`) doing the coordination.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from legato.errors import ValueNotStorable

DEFAULT_SQLITE_PATH = "legato.db"


def normalize_url(url: str) -> str:
    """Accept `sqlite:///file.db`, `postgresql://...` and plain paths; pick our drivers."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Database:
    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 8) -> None:
        self.url = normalize_url(url)
        self.dialect = "sqlite" if self.url.startswith("sqlite") else "postgresql"
        self.engine: Engine = self._create_engine(sqlite_synchronous, pool_size)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _create_engine(self, synchronous: str, pool_size: int) -> Engine:
        if self.dialect == "postgresql":
            return sa.create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True
            )
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

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.connect().execution_options(legato_write=True) as conn, conn.begin():
                yield conn
        except _REFUSED_VALUE_ERRORS as exc:
            refused = _unstorable(exc)
            if refused is None:
                raise
            raise refused from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except _REFUSED_VALUE_ERRORS as exc:
            refused = _unstorable(exc)
            if refused is None:
                raise
            raise refused from exc

    def dispose(self) -> None:
        self.engine.dispose()

    def size_bytes(self) -> int:
        """The database's size on disk, for benchmarks and the status page."""
        with self.read() as conn:
            if self.is_sqlite:
                pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
                return int(pages) * int(size)
            return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())


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
