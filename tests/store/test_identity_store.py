"""The directory on SQLite and PostgreSQL: users, nested groups, grants, tokens, sessions, lockout."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from legato.access.authenticator import Authenticator, ensure_admin
from legato.errors import IdentityConflict, IdentityNotFound, LoginFailed, LoginLocked, TokenInvalid
from legato.runtime.clock import FakeClock
from legato.store import Database, Store, migrate


def test_0005_adds_the_directory_to_a_database_that_holds_instances(database_url: str) -> None:
    database = Database(database_url)
    migrate.upgrade(database, "0004")
    with database.write() as conn:
        conn.execute(
            text(
                "INSERT INTO definitions (key, version, checksum, source_format, source, model, deployed_at) "
                "VALUES ('p', 1, 'c', 'yaml', 's', '{}', 0)"
            )
        )
    migrate.upgrade(database)
    with database.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM definitions")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 0
    database.dispose()


@pytest.fixture
def authenticator(database_url: str) -> Authenticator:
    store = Store(database_url)
    return Authenticator(store, clock=FakeClock())


def test_users_groups_and_grants_round_trip(authenticator: Authenticator) -> None:
    directory = authenticator.directory
    assert ensure_admin(authenticator, "first-password") is not None
    assert ensure_admin(authenticator, "second-password") is None  # only on an empty directory
    authenticator.create_user("Ann", "ann-password", display_name="Ann", attributes={"skills": ["de"]})
    assert directory.user("ANN").attributes == {"skills": ["de"]}
    with pytest.raises(IdentityConflict):
        authenticator.create_user("ann", "ann-password")
    for group in ("a", "b", "c"):
        directory.create_group(group, now=0)
    directory.add_member("c", "user", "ann")
    directory.add_member("b", "group", "c")
    directory.add_member("a", "group", "b")
    assert directory.groups_of("ann") == {"a", "b", "c"}
    with pytest.raises(IdentityConflict):
        directory.add_member("c", "group", "a")  # a contains c already
    with pytest.raises(IdentityConflict):
        directory.add_member("a", "group", "a")
    directory.grant("viewer", "group", "a", now=0)
    directory.grant("operator", "user", "ann", now=0, process_keys=["order"])
    principal = authenticator.principal_of(directory.user("ann"))
    assert principal.may("instances:read") and not principal.may("instances:cancel")
    assert principal.may("instances:cancel", "order") and not principal.may("instances:cancel", "refund")
    authenticator.create_user("bob", "bob-password")
    directory.grant("admin", "user", "bob", now=0)
    assert {(g.role, g.subject_id) for g in directory.grants([("user", "ann"), ("group", "a")])} == {
        ("viewer", "a"),
        ("operator", "ann"),
    }  # bob's grant is not among ann's
    assert directory.grants([]) == []
    directory.delete_group("b")
    assert directory.groups_of("ann") == {"c"}
    ann = authenticator.principal_of(directory.user("ann"))
    token = authenticator.issue_token(name="ci", kind="personal", creator=ann)
    directory.delete_user("ann", now=1234.5)
    with pytest.raises(IdentityNotFound):
        directory.user("ann")
    revoked = directory.token(token.stored.id)
    assert revoked is not None and revoked.revoked_at == 1234.5  # the time of the deletion, not of the last update


def test_tokens_sessions_and_lockout_are_durable(authenticator: Authenticator, database_url: str) -> None:
    ensure_admin(authenticator, "admin-password")
    session = authenticator.login("admin", "admin-password", source="10.0.0.1")
    admin = session.principal
    token = authenticator.issue_token(name="ci", kind="personal", creator=admin).token
    # another process (a second server) sees the same tokens and sessions
    other = Authenticator(Store(database_url), clock=authenticator._clock)
    assert other.from_token(token).name == "admin"
    assert other.from_session(session.secret)[1] == session.csrf
    with pytest.raises(TokenInvalid):
        other.from_token(token + "x")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            authenticator.login("admin", "wrong-password", source="10.0.0.2")
    with pytest.raises(LoginLocked):
        other.login("admin", "admin-password", source="10.0.0.3")  # the user is locked, from anywhere
    with authenticator.store.database.read() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
        secrets = [row[0] for row in conn.execute(text("SELECT secret_hash FROM api_tokens"))]
    assert stored.startswith("$argon2id$") and "admin-password" not in stored
    assert all(token.rsplit("_", 1)[1] not in s for s in secrets)
