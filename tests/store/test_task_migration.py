"""Migration 0012 keeps the user tasks a database already holds, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from legato.store import Database, migrate


def test_0012_keeps_existing_tasks_and_fills_in_what_it_adds(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0011")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (id, key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES (3, 'invoice', 1, 'c', 'yaml', 's', '{}', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO instances (id, definition_id, process_key, status, state, variables, version, "
                "created_at, updated_at) VALUES ('i-1', 3, 'invoice', 'active', '{}', '{}', 1, 0, 0)"
            )
        )
        for task_id, status, groups in (("i-1:4", "open", '["Accounting", "sales"]'), ("i-1:2", "completed", "[]")):
            conn.execute(
                text(
                    "INSERT INTO user_tasks (id, instance_id, wait, element, name, assignee, candidate_groups, "
                    "status, created_at) VALUES (:id, 'i-1', 4, 'approve', 'Approve', 'ada', :groups, :status, 5)"
                ),
                {"id": task_id, "status": status, "groups": groups},
            )
    migrate.upgrade(database)
    assert migrate.current(database) == migrate.head()
    with database.read() as conn:
        rows = conn.execute(
            text("SELECT id, assignee, status, process_key, priority, due_at, owner FROM user_tasks ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            ("i-1:2", "ada", "completed", "invoice", 50, None, None),
            ("i-1:4", "ada", "open", "invoice", 50, None, None),
        ]
        candidates = conn.execute(text("SELECT kind, name, task_id FROM task_candidates ORDER BY name")).all()
        assert [tuple(r) for r in candidates] == [("group", "accounting", "i-1:4"), ("group", "sales", "i-1:4")]
    database.dispose()
