"""DMN decisions: versioned decision models, an index of decision ids, and evaluations.

`decision_models` holds each deployed DMN file, versioned by its definitions id as
`definitions` holds processes. `decisions` lists the decisions of every model version, so
that a decision is found by its id alone. `decision_evaluations` keeps what a business rule
task's evaluation gave and which rules matched, for the audit trail.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)  # seconds since the epoch, UTC


def upgrade() -> None:
    op.create_table(
        "decision_models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", TEXT, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", TEXT),
        sa.Column("checksum", TEXT, nullable=False),
        sa.Column("source", TEXT, nullable=False),
        sa.Column("model", TEXT, nullable=False),
        sa.Column("deployed_at", TIME, nullable=False),
        sa.UniqueConstraint("key", "version", name="uq_decision_models_key_version"),
    )
    op.create_table(
        "decisions",
        sa.Column("model_id", sa.Integer, sa.ForeignKey("decision_models.id"), nullable=False),
        sa.Column("decision_id", TEXT, nullable=False),
        sa.Column("name", TEXT),
        sa.PrimaryKeyConstraint("model_id", "decision_id", name="pk_decisions"),
    )
    op.create_index("ix_decisions_decision", "decisions", ["decision_id", "model_id"])
    op.create_table(
        "decision_evaluations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", TEXT, nullable=False),
        sa.Column("model_key", TEXT, nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("instance_id", TEXT),
        sa.Column("element", TEXT),
        sa.Column("job_id", TEXT),
        sa.Column("attempt", sa.Integer),
        sa.Column("result", TEXT, nullable=False),
        sa.Column("evaluated_at", TIME, nullable=False),
    )
    op.create_index("ix_decision_evaluations_instance", "decision_evaluations", ["instance_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_decision_evaluations_instance", table_name="decision_evaluations")
    op.drop_table("decision_evaluations")
    op.drop_index("ix_decisions_decision", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("decision_models")
