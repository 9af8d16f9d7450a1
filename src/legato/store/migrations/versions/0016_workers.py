"""The registry of live workers: who serves which task types, last seen when.

One row per worker process (an in-process job executor, or an external worker by its
worker id), written on its heartbeat, so every API server on the same database answers
the same about which task types no live worker serves (store/workers.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("task_types", sa.Text, nullable=False),
        sa.Column("tenants", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_workers_last_seen", "workers", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_workers_last_seen", table_name="workers")
    op.drop_table("workers")
