"""The queries on hot paths read the index they were written for, on both databases.

A plan is what makes a lookup cost the same at 100 rows and at 10 million, and a plan
changes silently when an index or a query is edited, so each one that matters is pinned
here. PostgreSQL's planner prefers a sequential scan on a table this small, so its plans
are taken with `enable_seqscan` off: that shows the index is usable for the query, which
is what an edit can break. SQLite's planner has no statistics here (no ANALYZE), the same
as on a fresh installation.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from legato.store import Database, migrate

# (query, parameters, the index its plan must name)
PLANS = [
    pytest.param(
        "SELECT id FROM instances WHERE business_key = :v", {"v": "A-1"}, "ix_instances_business_key", id="business-key"
    ),
    pytest.param(
        "SELECT id FROM instances WHERE idempotency_key = :v", {"v": "k"}, "ix_instances_idempotency", id="idempotency"
    ),
    pytest.param("SELECT id FROM instances WHERE parent_id = :v", {"v": "p"}, "ix_instances_parent", id="children"),
    pytest.param(
        "SELECT d.key, i.status, COUNT(*) FROM definitions d JOIN instances i ON i.definition_id = d.id "
        "WHERE d.key IN (:v) GROUP BY d.key, d.tenant_id, i.status",
        {"v": "order"},
        "ix_instances_definition_status",
        id="counts-per-process",
    ),
    pytest.param(
        "SELECT * FROM user_tasks WHERE instance_id = :v AND status = 'open' ORDER BY created_at",
        {"v": "i"},
        "ix_user_tasks_instance",
        id="open-tasks-of-an-instance",
    ),
    pytest.param(
        "SELECT id FROM instances WHERE tenant_id = :v ORDER BY created_at",
        {"v": "acme"},
        "ix_instances_tenant",
        id="one-tenant",
    ),
    pytest.param("SELECT id FROM changes WHERE id > :v ORDER BY id LIMIT 100", {"v": 0}, None, id="change-feed-by-id"),
]


def _plan(database: Database, query: str, params: dict[str, object]) -> str:
    with database.read() as conn:
        if database.is_sqlite:
            rows = conn.execute(text("EXPLAIN QUERY PLAN " + query), params).all()
            return "\n".join(str(row[-1]) for row in rows)
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(str(row[0]) for row in conn.execute(text("EXPLAIN " + query), params))


@pytest.mark.parametrize(("query", "params", "index"), PLANS)
def test_hot_queries_use_their_index(
    database_url: str, query: str, params: dict[str, object], index: str | None
) -> None:
    database = Database(database_url)
    migrate.upgrade(database)
    plan = _plan(database, query, params)
    database.dispose()
    if index is None:  # by primary key
        assert "PRIMARY KEY" in plan or "changes_pkey" in plan, plan
    else:
        assert index in plan, plan
    assert "SCAN instances" not in plan and "SCAN user_tasks" not in plan, plan


def test_indexes_on_usually_null_columns_are_partial(database_url: str) -> None:
    """The point of 0011: a start without business key, idempotency key, parent or tenant
    writes nothing to those indexes (test_migrations checks uniqueness still holds)."""
    database = Database(database_url)
    migrate.upgrade(database)
    partial = (
        "ix_instances_business_key",
        "ix_instances_idempotency",
        "ix_instances_parent",
        "ix_instances_tenant",
        "ix_jobs_tenant_due",
    )
    with database.read() as conn:
        if database.is_sqlite:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        else:
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        definitions = {row[0]: str(row[1]) for row in conn.execute(text(query))}
    for name in partial:
        assert "IS NOT NULL" in definitions[name], definitions[name]
    assert "ix_instances_key_status" not in definitions and "ix_changes_at" not in definitions
    database.dispose()
