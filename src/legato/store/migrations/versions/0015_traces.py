"""Traces join instances and jobs: the traceparent of an instance's start, on its row and its jobs'.

A job runs in another transaction, often another process, long after its instance started;
the `traceparent` it copies is what lets its span join the instance's trace (legato.telemetry
.tracing). `jobs.process_key` names the process in a job's span and metrics without a join.
Both are nullable: instances started before, or without any trace, have none.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("instances", sa.Column("traceparent", sa.Text))
    op.add_column("jobs", sa.Column("traceparent", sa.Text))
    op.add_column("jobs", sa.Column("process_key", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("process_key")
        batch.drop_column("traceparent")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("traceparent")
