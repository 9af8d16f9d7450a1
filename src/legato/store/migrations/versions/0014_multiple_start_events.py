"""A start event with several triggers (BPMN 2.0.2, 10.5.2 Multiple) has a row per trigger.

`start_events` was keyed by (definition_id, element): one trigger per start event. A
Multiple start event starts on any of its triggers (message A, signal B, a timer), so each
gets its row, told apart by `position` (0 for the first, as every existing row is).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(["definition_id", "element", "position"], "0")  # SQLite changes no key in place
        return
    op.add_column("start_events", sa.Column("position", sa.Integer, nullable=False, server_default="0"))
    op.drop_constraint("pk_start_events", "start_events", type_="primary")
    op.create_primary_key("pk_start_events", "start_events", ["definition_id", "element", "position"])


def downgrade() -> None:
    op.execute("DELETE FROM start_events WHERE position > 0")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(["definition_id", "element"], None)
        return
    op.drop_constraint("pk_start_events", "start_events", type_="primary")
    op.create_primary_key("pk_start_events", "start_events", ["definition_id", "element"])
    op.drop_column("start_events", "position")


def _rebuild(key: list[str], position: str | None) -> None:
    """The table again with `key` (and a `position` column when `position` is its value)."""
    columns: list[sa.Column[object]] = [
        sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("element", sa.Text, nullable=False),
        sa.Column("process_key", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("message", sa.Text),
    ]
    if position is not None:
        columns.insert(2, sa.Column("position", sa.Integer, nullable=False, server_default="0"))
    op.create_table("start_events_rebuilt", *columns, sa.PrimaryKeyConstraint(*key, name="pk_start_events"))
    names = "definition_id, element, process_key, kind, message"
    if position is not None:
        op.execute(f"INSERT INTO start_events_rebuilt ({names}, position) SELECT {names}, {position} FROM start_events")
    else:
        op.execute(f"INSERT INTO start_events_rebuilt ({names}) SELECT {names} FROM start_events")
    op.drop_index("ix_start_events_message", table_name="start_events")
    op.drop_table("start_events")
    op.rename_table("start_events_rebuilt", "start_events")
    op.create_index("ix_start_events_message", "start_events", ["message"])
