"""Single sign-on logins in flight: the state, PKCE verifier and nonce of each started login.

A row lives from the redirect to the identity provider until the browser comes back (at
most LEGATO_OIDC login time, ten minutes by default) and is deleted when the callback uses
it, so a state works once. It is found by the SHA-256 of the state and must match the
SHA-256 of the browser's own `legato_oidc` cookie: a callback link sent to someone else's
browser does not log them in. Kept in the database, not in one server's memory, so a
login started on one API server may come back to another.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TEXT = sa.Text()
TIME = sa.Float(precision=53)  # seconds since the epoch, UTC


def upgrade() -> None:
    op.create_table(
        "oidc_logins",
        sa.Column("state_hash", TEXT, primary_key=True),
        sa.Column("browser_hash", TEXT, nullable=False),
        sa.Column("code_verifier", TEXT, nullable=False),
        sa.Column("nonce", TEXT, nullable=False),
        sa.Column("return_to", TEXT, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
    )
    op.create_index("oidc_logins_expiry", "oidc_logins", ["expires_at"])


def downgrade() -> None:
    op.drop_index("oidc_logins_expiry", table_name="oidc_logins")
    op.drop_table("oidc_logins")
