"""Tenants: a `tenant_id` on the work and its definitions, and who belongs to which tenant.

`tenant_id` NULL is the shared (default) tenant, so an installation without tenants keeps
every row as it was. Instances carry the tenant they were started in; their jobs, tasks,
incidents, subscriptions and history rows copy it, so that each list filters on its own
table. Definitions and decision models become unique per (tenant, key, version): the same
process key deploys per tenant, with versions counted per tenant. The index is on
`COALESCE(tenant_id, '')` because NULLs are distinct in a unique index on both databases,
and the shared tenant must have one version 1 too, not any number of them.

SQLite cannot drop a table's UNIQUE constraint in place, and the usual rebuild (copy,
drop, rename) fails while `instances` and `start_events` hold foreign keys into the table
(foreign keys are on, and cannot be turned off inside a transaction). The rebuild here
defers the foreign-key checks to the commit and re-inserts the rows into the new table, so
that every child row has its parent again when they are checked.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)  # seconds since the epoch, UTC
SHARED = sa.text("COALESCE(tenant_id, '')")


def _definitions() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", TEXT, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", TEXT),
        sa.Column("checksum", TEXT, nullable=False),
        sa.Column("source_format", TEXT, nullable=False),
        sa.Column("source", TEXT, nullable=False),
        sa.Column("model", TEXT, nullable=False),
        sa.Column("deployed_at", TIME, nullable=False),
    ]


def _decision_models() -> list[sa.Column[object]]:
    return [column for column in _definitions() if column.name != "source_format"]


def _rebuild_without_unique(table: str, columns: list[sa.Column[object]], constraint: str) -> None:
    """Give `table` a nullable tenant_id and drop its (key, version) unique constraint."""
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(constraint, table, type_="unique")
        op.add_column(table, sa.Column("tenant_id", TEXT))
        return
    names = ", ".join(column.name for column in columns)
    op.execute("PRAGMA defer_foreign_keys = ON")  # until the commit; SQLite resets it then
    op.execute(f"CREATE TABLE _tenants_copy AS SELECT {names} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.create_table(table, *columns, sa.Column("tenant_id", TEXT))
    op.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _tenants_copy")
    op.execute("DROP TABLE _tenants_copy")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("name", TEXT),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "tenant_members",
        sa.Column("tenant_id", TEXT, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_kind", TEXT, nullable=False),  # user | group
        sa.Column("member_id", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "member_kind", "member_id", name="pk_tenant_members"),
    )
    op.create_index("ix_tenant_members_member", "tenant_members", ["member_kind", "member_id"])
    op.add_column("api_tokens", sa.Column("tenants", TEXT))  # JSON list; NULL: every tenant

    _rebuild_without_unique("definitions", _definitions(), "uq_definitions_key_version")
    op.create_index("uq_definitions_tenant_key_version", "definitions", [SHARED, "key", "version"], unique=True)
    _rebuild_without_unique("decision_models", _decision_models(), "uq_decision_models_key_version")
    op.create_index("uq_decision_models_tenant_key_version", "decision_models", [SHARED, "key", "version"], unique=True)

    for table in ("instances", "jobs", "subscriptions", "user_tasks", "incidents", "history", "decision_evaluations"):
        op.add_column(table, sa.Column("tenant_id", TEXT))
    op.create_index("ix_instances_tenant", "instances", ["tenant_id", "created_at"])
    op.create_index("ix_user_tasks_tenant", "user_tasks", ["tenant_id", "status", "created_at"])
    op.create_index("ix_incidents_tenant", "incidents", ["tenant_id", "status", "created_at"])
    op.create_index("ix_jobs_tenant_due", "jobs", ["tenant_id", "due_at"])


def downgrade() -> None:
    raise NotImplementedError("tenants cannot be removed once work carries them: restore a backup instead")
