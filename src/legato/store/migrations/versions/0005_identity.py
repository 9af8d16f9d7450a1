"""Identity: users, groups (nested), custom roles and their grants, API tokens, sessions.

Passwords are Argon2 hashes and token secrets SHA-256 digests: nothing here lets a reader
of the database log in. `login_failures` keeps the lockout state per user and per source
address, so a restart does not reset a brute-force attempt's back-off.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)  # seconds since the epoch, UTC


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", TEXT, primary_key=True),  # the login name, lower case
        sa.Column("display_name", TEXT),
        sa.Column("email", TEXT),
        sa.Column("password_hash", TEXT),  # null: no password login (SSO or tokens only)
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attributes", TEXT, nullable=False, server_default="{}"),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "groups",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("name", TEXT),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", TEXT, sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
        sa.Column("member_kind", TEXT, nullable=False),  # user | group
        sa.Column("member_id", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("group_id", "member_kind", "member_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_member", "group_members", ["member_kind", "member_id"])
    op.create_table(
        "roles",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("description", TEXT),
        sa.Column("permissions", TEXT, nullable=False),  # JSON list of "resource:action"
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "role_grants",
        sa.Column("role", TEXT, nullable=False),
        sa.Column("subject_kind", TEXT, nullable=False),  # user | group
        sa.Column("subject_id", TEXT, nullable=False),
        sa.Column("process_keys", TEXT),  # JSON list: the grant holds for these processes only
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("role", "subject_kind", "subject_id", name="pk_role_grants"),
    )
    op.create_index("ix_role_grants_subject", "role_grants", ["subject_kind", "subject_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("name", TEXT, nullable=False),
        sa.Column("kind", TEXT, nullable=False),  # personal | service | worker
        sa.Column("owner", TEXT),  # the user of a personal token
        sa.Column("secret_hash", TEXT, nullable=False),
        sa.Column("permissions", TEXT, nullable=False),  # JSON list
        sa.Column("task_types", TEXT),  # JSON list, worker tokens
        sa.Column("created_by", TEXT),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME),
        sa.Column("revoked_at", TIME),
        sa.Column("last_used_at", TIME),
    )
    op.create_index("ix_api_tokens_owner", "api_tokens", ["owner"])
    op.create_table(
        "sessions",
        sa.Column("id_hash", TEXT, primary_key=True),
        sa.Column("user_id", TEXT, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", TEXT, nullable=False),
        sa.Column("source", TEXT),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )
    op.create_index("ix_sessions_user", "sessions", ["user_id"])
    op.create_table(
        "login_failures",
        sa.Column("key", TEXT, primary_key=True),  # user:<name> or source:<address>
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TIME, nullable=False),
        sa.Column("locked_until", TIME),
    )


def downgrade() -> None:
    for table in (
        "login_failures",
        "sessions",
        "api_tokens",
        "role_grants",
        "roles",
        "group_members",
        "groups",
        "users",
    ):
        op.drop_table(table)
