"""The initial schema: definitions, instances, jobs, subscriptions, tasks, incidents, history.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)  # seconds since the epoch, UTC


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", TEXT, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", TEXT),
        sa.Column("checksum", TEXT, nullable=False),
        sa.Column("source_format", TEXT, nullable=False),
        sa.Column("source", TEXT, nullable=False),
        sa.Column("model", TEXT, nullable=False),
        sa.Column("deployed_at", TIME, nullable=False),
        sa.UniqueConstraint("key", "version", name="uq_definitions_key_version"),
    )
    op.create_table(
        "start_events",
        sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("element", TEXT, nullable=False),
        sa.Column("process_key", TEXT, nullable=False),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("message", TEXT),
        sa.PrimaryKeyConstraint("definition_id", "element", name="pk_start_events"),
    )
    op.create_index("ix_start_events_message", "start_events", ["message"])
    op.create_table(
        "instances",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("process_key", TEXT, nullable=False),
        sa.Column("business_key", TEXT),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("state", TEXT, nullable=False),
        sa.Column("variables", TEXT, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("ended_at", TIME),
        sa.Column("idempotency_key", TEXT),
        sa.Column("request_hash", TEXT),
    )
    op.create_index("ix_instances_key_status", "instances", ["process_key", "status"])
    op.create_index("ix_instances_business_key", "instances", ["business_key"])
    op.create_index("ix_instances_idempotency", "instances", ["idempotency_key"], unique=True)
    op.create_table(
        "jobs",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("instance_id", TEXT),
        sa.Column("wait", sa.Integer),
        sa.Column("definition_id", sa.Integer),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("element", TEXT, nullable=False),
        sa.Column("task_type", TEXT),
        sa.Column("due_at", TIME),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("timeout", TIME),
        sa.Column("payload", TEXT),
        sa.Column("locked_by", TEXT),
        sa.Column("lock_expires_at", TIME),
        sa.Column("last_error", TEXT),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_jobs_due", "jobs", ["due_at"])
    op.create_index("ix_jobs_instance", "jobs", ["instance_id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("wait", sa.Integer, nullable=False),
        sa.Column("element", TEXT, nullable=False),
        sa.Column("message", TEXT, nullable=False),
        sa.Column("correlation_key", TEXT),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_subscriptions_message", "subscriptions", ["message", "correlation_key"])
    op.create_index("ix_subscriptions_instance", "subscriptions", ["instance_id"])
    op.create_table(
        "user_tasks",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("wait", sa.Integer, nullable=False),
        sa.Column("element", TEXT, nullable=False),
        sa.Column("name", TEXT),
        sa.Column("assignee", TEXT),
        sa.Column("candidate_groups", TEXT),
        sa.Column("form", TEXT),
        sa.Column("payload", TEXT),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("ended_at", TIME),
        sa.Column("ended_by", TEXT),
    )
    op.create_index("ix_user_tasks_status", "user_tasks", ["status", "created_at"])
    op.create_index("ix_user_tasks_instance", "user_tasks", ["instance_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("wait", sa.Integer, nullable=False),
        sa.Column("element", TEXT, nullable=False),
        sa.Column("error_type", TEXT, nullable=False),
        sa.Column("message", TEXT, nullable=False),
        sa.Column("details", TEXT),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("resolved_at", TIME),
        sa.Column("resolved_by", TEXT),
    )
    op.create_index("ix_incidents_status", "incidents", ["status", "created_at"])
    op.create_index("ix_incidents_instance", "incidents", ["instance_id", "wait"])
    op.create_table(
        "history",
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("type", TEXT, nullable=False),
        sa.Column("element", TEXT),
        sa.Column("actor", TEXT),
        sa.Column("data", TEXT),
        sa.PrimaryKeyConstraint("instance_id", "seq", name="pk_history"),
    )


def downgrade() -> None:
    for table in (
        "history",
        "incidents",
        "user_tasks",
        "subscriptions",
        "jobs",
        "instances",
        "start_events",
        "definitions",
    ):
        op.drop_table(table)
