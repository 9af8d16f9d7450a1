"""Migrations upgrade a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from legato.store import Database, migrate


def test_0002_keeps_existing_message_subscriptions(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0001")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO subscriptions (id, instance_id, wait, element, message, correlation_key, created_at) "
                "VALUES ('i:1', 'i', 1, 'paid', 'payment', 'A-1', 0)"
            )
        )
    migrate.upgrade(database)
    assert migrate.current(database) == migrate.head()
    with database.read() as conn:
        row = conn.execute(text("SELECT kind, message, correlation_key FROM subscriptions")).one()
    assert tuple(row) == ("message", "payment", "A-1")
    database.dispose()


def test_0008_keeps_definitions_and_their_instances_and_adds_tenants(database_url: str) -> None:
    """The rebuild of `definitions` (SQLite cannot drop its unique constraint in place)
    keeps every row and every foreign key pointing at one."""
    database = Database(database_url)
    migrate.upgrade(database, "0007")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (id, key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES (7, 'order', 1, 'c', 'yaml', 's', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, status, state, variables, version, "
                "created_at, updated_at) VALUES ('i-1', 7, 'order', 'active', '{}', '{}', 1, 0, 0)"
            )
        )
    migrate.upgrade(database)
    with database.write() as conn:
        row = conn.execute(
            text(
                "SELECT d.id, d.tenant_id, i.tenant_id AS t FROM instances i JOIN definitions d "
                "ON d.id = i.definition_id"
            )
        ).one()
        assert tuple(row) == (7, None, None)
        # the same key and version in a tenant is allowed; twice in the shared tenant is not
        conn.execute(
            text(
                "INSERT INTO definitions (key, version, checksum, source_format, source, model, deployed_at, "
                "tenant_id) VALUES ('order', 1, 'c', 'yaml', 's', '{}', 0, 'a')"
            )
        )
    with pytest.raises(IntegrityError), database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES ('order', 1, 'c', 'yaml', 's', '{}', 0)"
            )
        )
    with pytest.raises(IntegrityError), database.write() as conn:  # foreign keys still hold
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, status, state, variables, version, "
                "created_at, updated_at) VALUES ('i-2', 999, 'order', 'active', '{}', '{}', 1, 0, 0)"
            )
        )
    database.dispose()


def test_0011_partial_indexes_keep_rows_and_go_back_down(database_url: str) -> None:
    """0011 rebuilds indexes only: rows stay, uniqueness of idempotency keys holds after the
    rebuild, and a downgrade to 0010 restores the full indexes."""
    database = Database(database_url)
    migrate.upgrade(database, "0010")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (id, key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES (1, 'order', 1, 'c', 'yaml', 's', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, version, status, state, variables, "
                "created_at, updated_at, idempotency_key) VALUES ('a', 1, 'order', 1, 'active', '{}', '{}', 0, 0, 'k')"
            )
        )
    migrate.upgrade(database)
    with pytest.raises(IntegrityError), database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, version, status, state, variables, "
                "created_at, updated_at, idempotency_key) VALUES ('b', 1, 'order', 1, 'active', '{}', '{}', 0, 0, 'k')"
            )
        )
    config = migrate._config()
    with database.write(watched=False) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    assert migrate.current(database) == "0010"
    with database.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM instances")).scalar_one() == 1
    database.dispose()


def test_0014_start_events_get_a_position_per_trigger_and_go_back_down(database_url: str) -> None:
    """0014 keys start_events by (definition, element, position): the rows there get 0, a
    Multiple start event gets a row per trigger, and a downgrade keeps the first of each."""
    database = Database(database_url)
    migrate.upgrade(database, "0013")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (id, key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES (1, 'ticket', 1, 'c', 'bpmn', 's', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO start_events (definition_id, element, process_key, kind, message) "
                "VALUES (1, 'start', 'ticket', 'message', 'ticket.email')"
            )
        )
    migrate.upgrade(database, "0014")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO start_events (definition_id, element, position, process_key, kind, message) "
                "VALUES (1, 'start', 1, 'ticket', 'message', 'ticket.portal')"
            )
        )
        rows = conn.execute(text("SELECT position, message FROM start_events ORDER BY position")).all()
    assert [tuple(row) for row in rows] == [(0, "ticket.email"), (1, "ticket.portal")]
    config = migrate._config()
    with database.write(watched=False) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0013")
    with database.read() as conn:
        assert conn.execute(text("SELECT message FROM start_events")).scalars().all() == ["ticket.email"]
    database.dispose()


def test_0015_instances_and_jobs_get_their_trace_and_go_back_down(database_url: str) -> None:
    """0015 adds instances.traceparent and jobs.traceparent/process_key; rows from before keep NULL."""
    database = Database(database_url)
    migrate.upgrade(database, "0014")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (id, key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES (1, 'ticket', 1, 'c', 'yaml', 's', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, status, state, variables, version, "
                "created_at, updated_at) VALUES ('i1', 1, 'ticket', 'active', '{}', '{}', 1, 0, 0)"
            )
        )
    migrate.upgrade(database, "0015")
    with database.read() as conn:
        assert conn.execute(text("SELECT traceparent FROM instances")).scalar_one() is None
        assert conn.execute(text("SELECT COUNT(traceparent) + COUNT(process_key) FROM jobs")).scalar_one() == 0
    config = migrate._config()
    with database.write(watched=False) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
    with database.read() as conn:
        assert conn.execute(text("SELECT id FROM instances")).scalars().all() == ["i1"]
    database.dispose()
