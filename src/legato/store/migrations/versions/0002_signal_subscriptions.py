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
    op.create_index("ix_subscriptions_kind_message", "subscriptions", ["kind", "message"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_kind_message", table_name="subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("kind")
