"""Shared fixtures: stores on SQLite and on PostgreSQL, the same tests on both.

A test that needs PostgreSQL skips with the reason when the server is unreachable, except
when LEGATO_REQUIRE_SERVICES=1 (set by .ci/run): then a missing service fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from support import skip_or_fail

POSTGRES_BASE = os.environ.get("LEGATO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(POSTGRES_BASE, autocommit=True, connect_timeout=3)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    try:
        admin = _admin_connect()
    except Exception as exc:  # psycopg.OperationalError and friends
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_BASE}: {exc}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{POSTGRES_BASE}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """Every store test runs on SQLite (a temp file) and on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "legato.db")
    return str(request.getfixturevalue("postgres_url"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long scenarios (`@pytest.mark.slow`) run with `-m slow` or LEGATO_SLOW=1, not by default."""
    if os.environ.get("LEGATO_SLOW") == "1" or "slow" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="a long scenario: run with -m slow or LEGATO_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
