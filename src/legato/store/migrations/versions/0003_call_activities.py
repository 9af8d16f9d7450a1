"""Instances remember the call activity that called them: `parent_id` and `parent_wait`.

A child instance points at its parent, never the other way round, so that starting a
child writes one row; the index on `parent_id` serves the parent's list of children and
the cascade that cancels them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("instances", sa.Column("parent_id", sa.Text()))
    op.add_column("instances", sa.Column("parent_wait", sa.Integer()))
    op.create_index("ix_instances_parent", "instances", ["parent_id", "parent_wait"])


def downgrade() -> None:
    op.drop_index("ix_instances_parent", table_name="instances")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("parent_wait")
        batch.drop_column("parent_id")
