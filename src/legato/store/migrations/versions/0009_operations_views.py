"""What the operations views read: list indexes, history by definition, and the change feed.

- Instances get the indexes their list orders by (start time and id, also per process and
  per status), so the first page of any size is an index seek; and one on
  (definition_id, status) for the per-version counts.
- History rows name their definition (`definition_id`, null on rows written before), and an
  index on (definition_id, type, element) lets the per-element statistics count passes
  without touching instance rows.
- `changes` is the feed behind `GET /events`: one row per thing a live screen shows
  (instance started, advanced or ended; task opened or closed; incident raised or
  resolved), numbered by `id`, read by every API server by polling. Rows are pruned after
  a retention period; they carry ids, never variables.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_index("ix_instances_created", "instances", ["created_at", "id"])
    op.create_index("ix_instances_process_created", "instances", ["process_key", "created_at", "id"])
    op.create_index("ix_instances_status_created", "instances", ["status", "created_at", "id"])
    op.create_index("ix_instances_definition_status", "instances", ["definition_id", "status"])
    op.add_column("history", sa.Column("definition_id", sa.Integer()))
    # Rows written before name their definition through their instance.
    op.execute(
        "UPDATE history SET definition_id = (SELECT i.definition_id FROM instances i WHERE i.id = history.instance_id)"
    )
    op.create_index("ix_history_definition", "history", ["definition_id", "type", "element"])
    op.create_index("ix_incidents_element", "incidents", ["status", "element", "error_type"])
    op.create_table(
        "changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", TIME, nullable=False),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("process_key", TEXT),
        sa.Column("element", TEXT),
        sa.Column("ref", TEXT),  # the task id or incident id the change is about
        sa.Column("status", TEXT),
    )
    op.create_index("ix_changes_at", "changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_changes_at", table_name="changes")
    op.drop_table("changes")
    op.drop_index("ix_incidents_element", table_name="incidents")
    op.drop_index("ix_history_definition", table_name="history")
    with op.batch_alter_table("history") as batch:
        batch.drop_column("definition_id")
    for name in (
        "ix_instances_definition_status",
        "ix_instances_status_created",
        "ix_instances_process_created",
        "ix_instances_created",
    ):
        op.drop_index(name, table_name="instances")
