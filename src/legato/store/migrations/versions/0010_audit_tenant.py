"""The audit log learns whose work a row is about: `audit_log.tenant_id`.

- a tenant's id: the action touched that tenant's work (its definitions, instances, tasks,
  incidents, decisions, or a message sent within it);
- `''`: the shared tenant's work, which every tenant sees;
- NULL: nothing of one tenant (users, groups, roles, tokens, logins, refusals, an event sent
  to several tenants), and every row written before this revision: administrators only.

The column is part of a row's hash when it is not NULL (legato.store.audit), so rows
written before keep verifying and a changed tenant breaks the chain.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("tenant_id", sa.Text()))
    op.create_index("ix_audit_log_tenant", "audit_log", ["tenant_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_tenant", table_name="audit_log")
    op.drop_column("audit_log", "tenant_id")
