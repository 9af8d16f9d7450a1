"""The audit log: who did what through the API, hash-chained so that tampering shows.

`audit_log` is append-only: each row carries the previous row's hash and its own
HMAC-SHA256 over that and its content (legato.store.audit). `audit_head` is one row, the
chain's end (sequence number, hash, and an HMAC over both): appending locks it, which is
what serialises appends across servers on PostgreSQL, and `verify` compares the log's
last row with it, so rows cut off the end are noticed too. `audit_keys` holds a generated
key for databases that have no data directory of their own (PostgreSQL) when no key is
configured; a configured `LEGATO_AUDIT_KEY` never lands in the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)  # seconds since the epoch, UTC
GENESIS = "0" * 64  # the "previous hash" of the first row


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("actor", TEXT, nullable=False),  # the principal's name, or what a failed login claimed
        sa.Column("actor_kind", TEXT, nullable=False),  # user | token | anonymous | anonymous-dev | system
        sa.Column("source", TEXT),  # the caller's address
        sa.Column("action", TEXT, nullable=False),  # instance.cancel, auth.login_failed, access.denied, ...
        sa.Column("target_kind", TEXT),
        sa.Column("target_id", TEXT),
        sa.Column("details", TEXT, nullable=False),  # JSON: what changed; never secrets
        sa.Column("outcome", TEXT, nullable=False),  # ok | refused | failed
        sa.Column("code", TEXT),  # the problem code of a refusal or failure
        sa.Column("key_id", TEXT, nullable=False),  # which key signed the row
        sa.Column("prev_hash", TEXT, nullable=False),
        sa.Column("hash", TEXT, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "seq"])
    op.create_index("ix_audit_log_action", "audit_log", ["action", "seq"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_kind", "target_id", "seq"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", TEXT, nullable=False),
        sa.Column("key_id", TEXT),
        sa.Column("mac", TEXT),  # HMAC over seq and hash; null only for the empty log
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS, "key_id": None, "mac": None}])
    op.create_table(
        "audit_keys",
        sa.Column("id", TEXT, primary_key=True),
        sa.Column("secret", TEXT, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_keys", "audit_head", "audit_log"):
        op.drop_table(table)
