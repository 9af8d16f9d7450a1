"""The human task lifecycle: people, schedule, delegation, drafts, comments, attachments.

- `user_tasks` gains what a person works with: candidate users beside the groups, the
  owner and the delegation state (Camunda 7's delegation: the owner keeps the task, the
  delegate resolves it back), a description, a priority (50, Camunda's default, for the
  rows written before), due and follow-up dates, a saved draft of the form data, and the
  process key, so the inbox lists filter by process without touching instances (the rows
  written before take it from their instance).
- `task_candidates`: one row per candidate user or group of a task, with the index that
  answers "the tasks offered to me or my groups" as a seek, where a JSON column would
  be a scan. The open tasks written before get theirs from `candidate_groups`.
- `task_comments` and `task_attachments`: what people add to a task; an attachment's
  bytes are kept in the database, beside the rows they belong to (the same backups, the
  same transactions), bounded in size by a setting.
- `task_filters`: saved task queries, a person's own or shared with a group.
- Indexes for the inbox's lists: by assignee, by process, by due date, by priority,
  each after `status` and ending in the keyset order. The assignee and due-date ones are
  partial (`IS NOT NULL`), as 0011 made the usually-NULL columns' indexes: a lookup by
  value still seeks, and a task without one writes nothing to them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("user_tasks") as batch:
        batch.add_column(sa.Column("process_key", TEXT))
        batch.add_column(sa.Column("candidate_users", TEXT))
        batch.add_column(sa.Column("owner", TEXT))
        batch.add_column(sa.Column("delegation", TEXT))  # NULL, 'pending' or 'resolved'
        batch.add_column(sa.Column("description", TEXT))
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="50"))
        batch.add_column(sa.Column("due_at", TIME))
        batch.add_column(sa.Column("follow_up_at", TIME))
        batch.add_column(sa.Column("draft", TEXT))
        batch.add_column(sa.Column("updated_at", TIME))
    op.execute(
        "UPDATE user_tasks SET process_key = "
        "(SELECT i.process_key FROM instances i WHERE i.id = user_tasks.instance_id)"
    )
    op.create_table(
        "task_candidates",
        sa.Column("kind", TEXT, nullable=False),  # 'user' or 'group'
        sa.Column("name", TEXT, nullable=False),  # lower case, as user and group ids are
        sa.Column("task_id", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", "task_id", name="pk_task_candidates"),
    )
    op.create_index("ix_task_candidates_task", "task_candidates", ["task_id"])
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, candidate_groups FROM user_tasks WHERE status = 'open' AND candidate_groups IS NOT NULL")
    ).all()
    candidates = []
    for task_id, groups in rows:
        try:
            names = json.loads(groups) or []
        except ValueError:
            names = []
        for name in {str(n).strip().lower() for n in names if str(n).strip()}:
            candidates.append({"kind": "group", "name": name, "task_id": task_id})
    if candidates:
        bind.execute(
            sa.text("INSERT INTO task_candidates (kind, name, task_id) VALUES (:kind, :name, :task_id)"), candidates
        )
    op.create_table(
        "task_comments",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("task_id", TEXT, nullable=False),
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("author", TEXT),
        sa.Column("at", TIME, nullable=False),
        sa.Column("text", TEXT, nullable=False),
        sa.Column("tenant_id", TEXT),
    )
    op.create_index("ix_task_comments_task", "task_comments", ["task_id", "id"])
    op.create_table(
        "task_attachments",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("task_id", TEXT, nullable=False),
        sa.Column("instance_id", TEXT, nullable=False),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("content_type", TEXT, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", TEXT, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("created_by", TEXT),
        sa.Column("tenant_id", TEXT),
    )
    op.create_index("ix_task_attachments_task", "task_attachments", ["task_id", "id"])
    op.create_table(
        "task_filters",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("owner", TEXT, nullable=False),
        sa.Column("group_id", TEXT),  # shared with this group (its members see and use it); NULL: the owner's
        sa.Column("query", TEXT, nullable=False),  # the filter's query parameters, as JSON
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_task_filters_owner", "task_filters", ["owner"])
    op.create_index("ix_task_filters_group", "task_filters", ["group_id"])
    for name, columns, partial in (
        ("ix_user_tasks_status_assignee", ["status", "assignee", "created_at", "id"], "assignee IS NOT NULL"),
        ("ix_user_tasks_status_process", ["status", "process_key", "created_at", "id"], None),
        ("ix_user_tasks_status_due", ["status", "due_at", "id"], "due_at IS NOT NULL"),
        ("ix_user_tasks_status_priority", ["status", "priority", "created_at", "id"], None),
    ):
        where = None if partial is None else sa.text(partial)
        op.create_index(name, "user_tasks", columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name in (
        "ix_user_tasks_status_priority",
        "ix_user_tasks_status_due",
        "ix_user_tasks_status_process",
        "ix_user_tasks_status_assignee",
    ):
        op.drop_index(name, table_name="user_tasks")
    for table in ("task_filters", "task_attachments", "task_comments", "task_candidates"):
        op.drop_table(table)
    with op.batch_alter_table("user_tasks") as batch:
        for column in (
            "updated_at",
            "draft",
            "follow_up_at",
            "due_at",
            "priority",
            "description",
            "delegation",
            "owner",
            "candidate_users",
            "process_key",
        ):
            batch.drop_column(column)
