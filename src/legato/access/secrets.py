"""Passwords, token and session secrets: generated, hashed, checked in constant time.

Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106's
recommendations): slow on purpose, because people reuse weak passwords. Token and session
secrets are 256 random bits from `secrets`, so a plain SHA-256 digest is enough to store
them: no dictionary exists to attack, and checking one costs microseconds on every request
instead of Argon2's tens of milliseconds.

A token reads `lgt_<id>_<secret>`: the id finds the row, the secret proves possession.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from legato.errors import InvalidInput

TOKEN_PREFIX = "lgt_"
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # Argon2 takes any length; an unbounded one is a denial of service

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("legato: a password nobody has")


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", details={"field": "password"})
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (no such user) spend the same time and say no."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> tuple[str, str, str]:
    """(token id, the full token to show once, the digest to store)."""
    token_id = secrets.token_hex(8)
    secret = new_secret()
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secret}", digest(secret)


def split_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of a token in our format, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not token_id or not secret or len(token) > 256:
        return None
    return token_id, secret
