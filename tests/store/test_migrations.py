"""Migrations upgrade a database that already holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

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
