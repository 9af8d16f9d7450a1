"""The priority index in the order the inbox lists by: most urgent first, oldest first within.

0012's (status, priority, created_at, id) serves `ORDER BY priority DESC, created_at DESC`
only (a backward scan), while a person wants the oldest of the most urgent tasks first.
(status, priority DESC, created_at, id) is read forwards for `priority DESC, created_at, id`
on SQLite and PostgreSQL alike.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_user_tasks_status_priority", table_name="user_tasks")
    op.create_index(
        "ix_user_tasks_status_priority", "user_tasks", ["status", sa.text("priority DESC"), "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_user_tasks_status_priority", table_name="user_tasks")
    op.create_index("ix_user_tasks_status_priority", "user_tasks", ["status", "priority", "created_at", "id"])
