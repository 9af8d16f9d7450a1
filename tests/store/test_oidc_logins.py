"""Single sign-on logins in flight (migration 0007) on SQLite and PostgreSQL: written once, taken once."""

from __future__ import annotations

from sqlalchemy import text

from legato.store import Database, migrate
from legato.store.identity import Directory, SignOnLogins, StoredLogin


def login(state_hash: str, *, at: float, lasting: float = 600) -> StoredLogin:
    return StoredLogin(
        state_hash=state_hash,
        browser_hash="b" * 64,
        code_verifier="v" * 43,
        nonce="n",
        return_to="/app",
        created_at=at,
        expires_at=at + lasting,
    )


def test_0007_adds_the_table_to_a_database_with_users(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0006")
    Directory(database).create_user("alice", password_hash=None, now=1.0)
    migrate.upgrade(database)
    with database.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM oidc_logins")).scalar_one() == 0
    assert Directory(database).user("alice").id == "alice"
    database.dispose()


def test_a_login_is_taken_once_and_expired_ones_are_swept(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database)
    logins = SignOnLogins(database)
    logins.put(login("old", at=0, lasting=10))
    logins.put(login("s1", at=100))  # sweeps "old", which expired at 10
    taken = logins.take("s1")
    assert taken is not None and taken.code_verifier == "v" * 43 and taken.return_to == "/app"
    assert logins.take("s1") is None
    assert logins.take("old") is None
    database.dispose()
