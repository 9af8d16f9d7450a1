"""Credentials for tests of your own that call Legato's API: an admin token in one call.

app = create_app(legato)
client = TestClient(app, headers={"Authorization": f"Bearer {admin_token(legato)}"})
"""

from __future__ import annotations

import secrets
from typing import Any

from legato.access.authenticator import MAX_TOKEN_DAYS, Authenticator, ensure_admin


def admin_token(legato: Any, *, username: str = "admin") -> str:
    """A personal token of an admin user (created, with a random password, if none exists)."""
    authenticator = Authenticator(legato.store, clock=legato.clock)
    user = authenticator.directory.find_user(username)
    if user is None:
        ensure_admin(authenticator, secrets.token_urlsafe(16), username=username)
        user = authenticator.directory.find_user(username)
        if user is None:  # other users existed: make this one an admin next to them
            user = authenticator.create_user(username, secrets.token_urlsafe(16))
            authenticator.directory.grant("admin", "user", user.id, now=authenticator.now())
    principal = authenticator.principal_of(user)
    return authenticator.issue_token(
        name="tests", kind="personal", creator=principal, expires_in_days=MAX_TOKEN_DAYS
    ).token


def admin_headers(legato: Any) -> dict[str, str]:
    """`{"Authorization": "Bearer ..."}` for an admin: what a test client sends."""
    return {"Authorization": f"Bearer {admin_token(legato)}"}
