"""The store tells "the database is away" (503 DATABASE_UNAVAILABLE) from a bug (left as it is)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import sqlalchemy as sa

from legato.errors import DatabaseUnavailable
from legato.store import Database


def _closed_port() -> int:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unopenable_sqlite_file_is_unavailable(tmp_path: Any) -> None:
    database = Database(str(tmp_path / "no such folder" / "legato.db"))
    with pytest.raises(DatabaseUnavailable) as caught, database.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert caught.value.status == 503 and caught.value.retry_after >= 1


def test_a_refused_postgres_connection_is_unavailable_at_once() -> None:
    database = Database(f"postgresql://postgres@127.0.0.1:{_closed_port()}/test", connect_timeout=2)
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="unavailable"), database.write() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert time.monotonic() - began < 5
    database.dispose()


def test_a_statement_past_the_timeout_is_unavailable(postgres_url: str) -> None:
    database = Database(postgres_url, statement_timeout=0.5)
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable), database.read() as conn:
        conn.exec_driver_sql("SELECT pg_sleep(5)")
    assert time.monotonic() - began < 4
    with database.read() as conn:  # the pool recovers: the next call works
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    database.dispose()


def test_a_migration_is_not_cut_by_the_deadline(postgres_url: str) -> None:
    database = Database(postgres_url, statement_timeout=0.5)
    with database.write(watched=False) as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        conn.exec_driver_sql("SELECT pg_sleep(3)")  # past the watchdog's 1 s: still answered
    assert database.watchdog.fired == 0
    database.dispose()


def test_sql_errors_are_not_mistaken_for_an_outage(database_url: str) -> None:
    database = Database(database_url)
    with pytest.raises(sa.exc.DBAPIError) as caught, database.read() as conn:
        conn.exec_driver_sql("SELEC 1")
    assert not isinstance(caught.value, DatabaseUnavailable)
    database.dispose()
