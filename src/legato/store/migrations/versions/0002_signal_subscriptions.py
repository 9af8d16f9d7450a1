"""Subscriptions carry a kind: a message (reaches one instance) or a signal (reaches all).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("kind", sa.Text(), nullable=False, server_default="message"))
    # One index for both lookups: a message by (kind, name, key), a signal by (kind, name). Two
    # overlapping indexes let SQLite's planner, which has no statistics, pick the one that
    # scans every waiting subscription of a message name.
    op.drop_index("ix_subscriptions_message", table_name="subscriptions")
    op.create_index("ix_subscriptions_lookup", "subscriptions", ["kind", "message", "correlation_key"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_lookup", table_name="subscriptions")
    op.create_index("ix_subscriptions_message", "subscriptions", ["message", "correlation_key"])
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("kind")
