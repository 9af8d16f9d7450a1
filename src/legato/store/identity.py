"""The directory: users, nested groups, custom roles and grants, API tokens, sessions.

Plain persistence, no decisions: `legato.access` decides who may do what from what this
module returns. Secrets arrive here already hashed (Argon2 for passwords, SHA-256 for
token and session secrets), so nothing this module stores lets a reader of the database
log in. Names of users, groups and roles are case-insensitive: they are kept lower case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Row

from legato.errors import IdentityConflict, IdentityNotFound, InvalidInput
from legato.store.codec import from_epoch
from legato.store.database import Database

MAX_NAME = 128
MEMBER_KINDS = ("user", "group")
TOKEN_KINDS = ("personal", "service", "worker")


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredUser:
    id: str
    display_name: str | None
    email: str | None
    password_hash: str | None
    disabled: bool
    attributes: dict[str, Any]
    created_at: float
    updated_at: float

    def public(self) -> dict[str, Any]:
        """What the API shows of a user: never the password hash."""
        return {
            "username": self.id,
            "display_name": self.display_name,
            "email": self.email,
            "disabled": self.disabled,
            "has_password": self.password_hash is not None,
            "attributes": self.attributes,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Grant:
    role: str
    subject_kind: str
    subject_id: str
    process_keys: tuple[str, ...] | None  # None: every process

    def public(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "subject_kind": self.subject_kind,
            "subject": self.subject_id,
            "process_keys": None if self.process_keys is None else list(self.process_keys),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredToken:
    id: str
    name: str
    kind: str
    owner: str | None
    secret_hash: str
    permissions: tuple[str, ...]
    task_types: tuple[str, ...] | None
    created_by: str | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None
    tenants: tuple[str, ...] | None = None  # service and worker tokens: None for every tenant

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "owner": self.owner,
            "permissions": list(self.permissions),
            "task_types": None if self.task_types is None else list(self.task_types),
            "tenants": None if self.tenants is None else list(self.tenants),
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "last_used_at": _iso(self.last_used_at),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredSession:
    id_hash: str
    user_id: str
    csrf: str
    created_at: float
    last_seen_at: float
    expires_at: float


def normalize_name(kind: str, name: str) -> str:
    """A user, group or role name as stored: stripped, lower case, printable, bounded."""
    cleaned = name.strip().lower()
    if not cleaned or len(cleaned) > MAX_NAME or not cleaned.isprintable() or any(c in cleaned for c in "/\\ \t"):
        raise InvalidInput(
            f"{kind} name {name!r} must be 1-{MAX_NAME} printable characters without spaces or slashes",
            details={"field": kind},
        )
    return cleaned


class Directory:
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- users -----------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self.database.read() as conn:
            return conn.execute(text("SELECT 1 FROM users LIMIT 1")).first() is not None

    def create_user(
        self,
        username: str,
        *,
        password_hash: str | None,
        now: float,
        display_name: str | None = None,
        email: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> StoredUser:
        name = normalize_name("user", username)
        with self.database.write() as conn:
            if conn.execute(text("SELECT 1 FROM users WHERE id = :id"), {"id": name}).first():
                raise IdentityConflict(f"user {name!r} exists", details={"user": name})
            conn.execute(
                text(
                    "INSERT INTO users (id, display_name, email, password_hash, disabled, attributes, created_at, "
                    "updated_at) VALUES (:id, :display, :email, :hash, :disabled, :attributes, :now, :now)"
                ),
                {
                    "id": name,
                    "display": display_name,
                    "email": email,
                    "hash": password_hash,
                    "disabled": False,
                    "attributes": orjson.dumps(dict(attributes or {})).decode(),
                    "now": now,
                },
            )
        return self.user(name)

    def user(self, username: str) -> StoredUser:
        found = self.find_user(username)
        if found is None:
            raise IdentityNotFound("user", username)
        return found

    def find_user(self, username: str) -> StoredUser | None:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM users WHERE id = :id"), {"id": username.strip().lower()}).first()
        return None if row is None else _user(row)

    def users(self) -> list[StoredUser]:
        with self.database.read() as conn:
            return [_user(row) for row in conn.execute(text("SELECT * FROM users ORDER BY id"))]

    def update_user(self, username: str, changes: Mapping[str, Any], *, now: float) -> StoredUser:
        """Set `display_name`, `email`, `disabled`, `password_hash` or merge `attributes`."""
        user = self.user(username)
        values = {
            "display_name": changes.get("display_name", user.display_name),
            "email": changes.get("email", user.email),
            "disabled": bool(changes.get("disabled", user.disabled)),
            "password_hash": changes.get("password_hash", user.password_hash),
            "attributes": orjson.dumps({**user.attributes, **dict(changes.get("attributes") or {})}).decode(),
        }
        with self.database.write() as conn:
            conn.execute(
                text(
                    "UPDATE users SET display_name = :display_name, email = :email, disabled = :disabled, "
                    "password_hash = :password_hash, attributes = :attributes, updated_at = :now WHERE id = :id"
                ),
                {**values, "now": now, "id": user.id},
            )
            if values["disabled"] or "password_hash" in changes:
                conn.execute(text("DELETE FROM sessions WHERE user_id = :id"), {"id": user.id})
        return self.user(user.id)

    def delete_user(self, username: str, *, now: float) -> None:
        """Delete the user; its tokens stay as revoked rows (at `now`) so their history still names an owner."""
        user = self.user(username)
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM sessions WHERE user_id = :id"), {"id": user.id})
            conn.execute(
                text("DELETE FROM group_members WHERE member_kind = 'user' AND member_id = :id"), {"id": user.id}
            )
            conn.execute(
                text("DELETE FROM role_grants WHERE subject_kind = 'user' AND subject_id = :id"), {"id": user.id}
            )
            conn.execute(
                text("DELETE FROM tenant_members WHERE member_kind = 'user' AND member_id = :id"), {"id": user.id}
            )
            conn.execute(
                text("UPDATE api_tokens SET revoked_at = :now WHERE owner = :id AND revoked_at IS NULL"),
                {"id": user.id, "now": now},
            )
            conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": user.id})

    # -- groups ----------------------------------------------------------------------------

    def create_group(self, group: str, *, now: float, name: str | None = None) -> dict[str, Any]:
        group_id = normalize_name("group", group)
        with self.database.write() as conn:
            if conn.execute(text("SELECT 1 FROM groups WHERE id = :id"), {"id": group_id}).first():
                raise IdentityConflict(f"group {group_id!r} exists", details={"group": group_id})
            conn.execute(
                text("INSERT INTO groups (id, name, created_at) VALUES (:id, :name, :now)"),
                {"id": group_id, "name": name, "now": now},
            )
        return self.group(group_id)

    def group(self, group: str) -> dict[str, Any]:
        group_id = group.strip().lower()
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM groups WHERE id = :id"), {"id": group_id}).first()
            if row is None:
                raise IdentityNotFound("group", group)
            members = conn.execute(
                text("SELECT member_kind, member_id FROM group_members WHERE group_id = :id ORDER BY 1, 2"),
                {"id": group_id},
            ).all()
        return {
            "group": row.id,
            "name": row.name,
            "users": [m.member_id for m in members if m.member_kind == "user"],
            "groups": [m.member_id for m in members if m.member_kind == "group"],
            "created_at": _iso(row.created_at),
        }

    def groups(self) -> list[dict[str, Any]]:
        with self.database.read() as conn:
            ids = [row.id for row in conn.execute(text("SELECT id FROM groups ORDER BY id"))]
        return [self.group(group_id) for group_id in ids]

    def delete_group(self, group: str) -> None:
        group_id = self.group(group)["group"]
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM group_members WHERE group_id = :id"), {"id": group_id})
            conn.execute(
                text("DELETE FROM group_members WHERE member_kind = 'group' AND member_id = :id"), {"id": group_id}
            )
            conn.execute(
                text("DELETE FROM role_grants WHERE subject_kind = 'group' AND subject_id = :id"), {"id": group_id}
            )
            conn.execute(
                text("DELETE FROM tenant_members WHERE member_kind = 'group' AND member_id = :id"), {"id": group_id}
            )
            conn.execute(text("DELETE FROM groups WHERE id = :id"), {"id": group_id})

    def add_member(self, group: str, member_kind: str, member: str) -> None:
        """Put a user or a group into `group`; a group that would contain itself is refused."""
        group_id = self.group(group)["group"]
        if member_kind not in MEMBER_KINDS:
            raise InvalidInput(f"member kind must be user or group, not {member_kind!r}", details={"field": "kind"})
        member_id = self.user(member).id if member_kind == "user" else self.group(member)["group"]
        with self.database.write() as conn:
            # A cycle if the new member already contains `group`, directly or further down.
            if member_kind == "group" and member_id in _containing(conn, "group", group_id) | {group_id}:
                raise IdentityConflict(
                    f"group {member_id!r} contains {group_id!r} already: nesting it would make a cycle",
                    details={"group": group_id, "member": member_id},
                )
            exists = conn.execute(
                text("SELECT 1 FROM group_members WHERE group_id = :g AND member_kind = :k AND member_id = :m"),
                {"g": group_id, "k": member_kind, "m": member_id},
            ).first()
            if exists is None:
                conn.execute(
                    text("INSERT INTO group_members (group_id, member_kind, member_id) VALUES (:g, :k, :m)"),
                    {"g": group_id, "k": member_kind, "m": member_id},
                )

    def remove_member(self, group: str, member_kind: str, member: str) -> None:
        with self.database.write() as conn:
            removed = conn.execute(
                text("DELETE FROM group_members WHERE group_id = :g AND member_kind = :k AND member_id = :m"),
                {"g": group.strip().lower(), "k": member_kind, "m": member.strip().lower()},
            ).rowcount
        if not removed:
            raise IdentityNotFound("member", f"{member_kind}:{member} of {group}")

    def groups_of(self, username: str) -> frozenset[str]:
        """Every group the user is in, directly or through nested groups."""
        with self.database.read() as conn:
            return frozenset(_containing(conn, "user", username.strip().lower()))

    def direct_groups_of(self, username: str) -> frozenset[str]:
        """The groups the user is a member of itself, not through nesting."""
        with self.database.read() as conn:
            rows = conn.execute(
                text("SELECT group_id FROM group_members WHERE member_kind = 'user' AND member_id = :m"),
                {"m": username.strip().lower()},
            ).all()
        return frozenset(group_id for (group_id,) in rows)

    def with_enclosing(self, groups: Iterable[str]) -> frozenset[str]:
        """`groups` (those that exist) and every group that contains one of them, however deep."""
        with self.database.read() as conn:
            found: set[str] = set()
            for group in {g.strip().lower() for g in groups}:
                if conn.execute(text("SELECT 1 FROM groups WHERE id = :id"), {"id": group}).first():
                    found |= {group, *_containing(conn, "group", group)}
            return frozenset(found)

    # -- roles and grants ------------------------------------------------------------------

    def create_role(self, role: str, permissions: Iterable[str], *, now: float, description: str | None) -> None:
        role_id = normalize_name("role", role)
        with self.database.write() as conn:
            if conn.execute(text("SELECT 1 FROM roles WHERE id = :id"), {"id": role_id}).first():
                raise IdentityConflict(f"role {role_id!r} exists", details={"role": role_id})
            conn.execute(
                text("INSERT INTO roles (id, description, permissions, created_at) VALUES (:id, :d, :p, :now)"),
                {"id": role_id, "d": description, "p": orjson.dumps(sorted(set(permissions))).decode(), "now": now},
            )

    def custom_roles(self) -> dict[str, dict[str, Any]]:
        with self.database.read() as conn:
            return {
                row.id: {"description": row.description, "permissions": orjson.loads(row.permissions)}
                for row in conn.execute(text("SELECT * FROM roles ORDER BY id"))
            }

    def delete_role(self, role: str) -> None:
        with self.database.write() as conn:
            if not conn.execute(text("DELETE FROM roles WHERE id = :id"), {"id": role.strip().lower()}).rowcount:
                raise IdentityNotFound("role", role)
            conn.execute(text("DELETE FROM role_grants WHERE role = :id"), {"id": role.strip().lower()})

    def grant(
        self, role: str, subject_kind: str, subject: str, *, now: float, process_keys: Iterable[str] | None = None
    ) -> Grant:
        if subject_kind not in MEMBER_KINDS:
            raise InvalidInput(
                f"a role is granted to a user or a group, not {subject_kind!r}", details={"field": "kind"}
            )
        subject_id = self.user(subject).id if subject_kind == "user" else self.group(subject)["group"]
        keys = None if process_keys is None else sorted(set(process_keys))
        with self.database.write() as conn:
            conn.execute(
                text("DELETE FROM role_grants WHERE role = :r AND subject_kind = :k AND subject_id = :s"),
                {"r": role, "k": subject_kind, "s": subject_id},
            )
            conn.execute(
                text(
                    "INSERT INTO role_grants (role, subject_kind, subject_id, process_keys, created_at) "
                    "VALUES (:r, :k, :s, :p, :now)"
                ),
                {
                    "r": role,
                    "k": subject_kind,
                    "s": subject_id,
                    "p": None if keys is None else orjson.dumps(keys).decode(),
                    "now": now,
                },
            )
        return Grant(
            role=role,
            subject_kind=subject_kind,
            subject_id=subject_id,
            process_keys=None if keys is None else tuple(keys),
        )

    def revoke(self, role: str, subject_kind: str, subject: str) -> None:
        with self.database.write() as conn:
            removed = conn.execute(
                text("DELETE FROM role_grants WHERE role = :r AND subject_kind = :k AND subject_id = :s"),
                {"r": role.strip().lower(), "k": subject_kind, "s": subject.strip().lower()},
            ).rowcount
        if not removed:
            raise IdentityNotFound("grant", f"{role} to {subject_kind} {subject}")

    def grants(self, subjects: Iterable[tuple[str, str]] | None = None) -> list[Grant]:
        """All grants, or those of the given (kind, id) subjects (filtered in SQL: this runs on every request)."""
        query = "SELECT * FROM role_grants"
        params: dict[str, Any] = {}
        if subjects is not None:
            by_kind: dict[str, list[str]] = {}
            for kind, subject_id in subjects:
                by_kind.setdefault(kind, []).append(subject_id)
            if not by_kind:
                return []
            clauses = []
            for index, (kind, ids) in enumerate(sorted(by_kind.items())):
                clauses.append(f"(subject_kind = :k{index} AND subject_id IN :ids{index})")
                params[f"k{index}"] = kind
                params[f"ids{index}"] = ids
            query += " WHERE " + " OR ".join(clauses)
        statement = text(query + " ORDER BY role, subject_kind, subject_id")
        for name in params:
            if name.startswith("ids"):
                statement = statement.bindparams(bindparam(name, expanding=True))
        with self.database.read() as conn:
            rows = conn.execute(statement, params).all()
        return [
            Grant(
                role=row.role,
                subject_kind=row.subject_kind,
                subject_id=row.subject_id,
                process_keys=None if row.process_keys is None else tuple(orjson.loads(row.process_keys)),
            )
            for row in rows
        ]

    # -- tokens ----------------------------------------------------------------------------

    def create_token(self, token: StoredToken) -> None:
        if token.kind not in TOKEN_KINDS:
            raise InvalidInput(f"token kind must be one of {', '.join(TOKEN_KINDS)}", details={"field": "kind"})
        with self.database.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_tokens (id, name, kind, owner, secret_hash, permissions, task_types, created_by, "
                    "created_at, expires_at, tenants) VALUES (:id, :name, :kind, :owner, :hash, :permissions, "
                    ":task_types, :created_by, :created_at, :expires_at, :tenants)"
                ),
                {
                    "id": token.id,
                    "name": token.name,
                    "kind": token.kind,
                    "owner": token.owner,
                    "hash": token.secret_hash,
                    "permissions": orjson.dumps(list(token.permissions)).decode(),
                    "task_types": None if token.task_types is None else orjson.dumps(list(token.task_types)).decode(),
                    "created_by": token.created_by,
                    "created_at": token.created_at,
                    "expires_at": token.expires_at,
                    "tenants": None if token.tenants is None else orjson.dumps(list(token.tenants)).decode(),
                },
            )

    def token(self, token_id: str) -> StoredToken | None:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token_id}).first()
        return None if row is None else _token(row)

    def tokens(self, *, owner: str | None = None) -> list[StoredToken]:
        with self.database.read() as conn:
            if owner is None:
                rows = conn.execute(text("SELECT * FROM api_tokens ORDER BY created_at, id")).all()
            else:
                rows = conn.execute(
                    text("SELECT * FROM api_tokens WHERE owner = :o ORDER BY created_at, id"), {"o": owner}
                ).all()
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, *, now: float) -> None:
        with self.database.write() as conn:
            done = conn.execute(
                text("UPDATE api_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"),
                {"id": token_id, "now": now},
            ).rowcount
        if not done and self.token(token_id) is None:
            raise IdentityNotFound("token", token_id)

    def touch_token(self, token_id: str, *, now: float) -> None:
        """Note a token's use (callers skip it while the last note is fresh: reads must stay cheap)."""
        with self.database.write() as conn:
            conn.execute(text("UPDATE api_tokens SET last_used_at = :now WHERE id = :id"), {"id": token_id, "now": now})

    # -- sessions --------------------------------------------------------------------------

    def create_session(self, session: StoredSession, *, source: str | None) -> None:
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM sessions WHERE expires_at < :now"), {"now": session.created_at})
            conn.execute(
                text(
                    "INSERT INTO sessions (id_hash, user_id, csrf, source, created_at, last_seen_at, expires_at) "
                    "VALUES (:id, :user, :csrf, :source, :created, :seen, :expires)"
                ),
                {
                    "id": session.id_hash,
                    "user": session.user_id,
                    "csrf": session.csrf,
                    "source": source,
                    "created": session.created_at,
                    "seen": session.last_seen_at,
                    "expires": session.expires_at,
                },
            )

    def session(self, id_hash: str) -> StoredSession | None:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM sessions WHERE id_hash = :id"), {"id": id_hash}).first()
        if row is None:
            return None
        return StoredSession(
            id_hash=row.id_hash,
            user_id=row.user_id,
            csrf=row.csrf,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
        )

    def touch_session(self, id_hash: str, *, now: float) -> None:
        with self.database.write() as conn:
            conn.execute(
                text("UPDATE sessions SET last_seen_at = :now WHERE id_hash = :id"), {"id": id_hash, "now": now}
            )

    def delete_session(self, id_hash: str) -> None:
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM sessions WHERE id_hash = :id"), {"id": id_hash})

    # -- failed logins ---------------------------------------------------------------------

    def login_failures(self, keys: Iterable[str]) -> dict[str, tuple[int, float | None]]:
        """(failures, locked_until) for each key that has failed before."""
        with self.database.read() as conn:
            rows = [conn.execute(text("SELECT * FROM login_failures WHERE key = :k"), {"k": k}).first() for k in keys]
        return {row.key: (int(row.failures), row.locked_until) for row in rows if row is not None}

    def record_login_failure(self, key: str, *, now: float, lock_for: Mapping[int, float]) -> None:
        """Count a failure; from the count, `lock_for` (failures -> seconds) sets the lock."""
        with self.database.write() as conn:
            row = conn.execute(text("SELECT failures FROM login_failures WHERE key = :k"), {"k": key}).first()
            failures = 1 if row is None else int(row.failures) + 1
            seconds = lock_for.get(failures)
            locked_until = None if seconds is None else now + seconds
            if row is None:
                conn.execute(
                    text(
                        "INSERT INTO login_failures (key, failures, last_failure_at, locked_until) "
                        "VALUES (:k, :f, :now, :until)"
                    ),
                    {"k": key, "f": failures, "now": now, "until": locked_until},
                )
            else:
                conn.execute(
                    text(
                        "UPDATE login_failures SET failures = :f, last_failure_at = :now, locked_until = :until "
                        "WHERE key = :k"
                    ),
                    {"k": key, "f": failures, "now": now, "until": locked_until},
                )

    def clear_login_failures(self, key: str) -> None:
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM login_failures WHERE key = :k"), {"k": key})


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredLogin:
    """A single sign-on login between the redirect to the provider and the callback."""

    state_hash: str
    browser_hash: str
    code_verifier: str
    nonce: str
    return_to: str
    created_at: float
    expires_at: float


class SignOnLogins:
    """Logins in flight (migration 0007): written at the redirect, taken once at the callback."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def put(self, login: StoredLogin) -> None:
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM oidc_logins WHERE expires_at <= :now"), {"now": login.created_at})
            conn.execute(
                text(
                    "INSERT INTO oidc_logins (state_hash, browser_hash, code_verifier, nonce, return_to, created_at, "
                    "expires_at) VALUES (:state_hash, :browser_hash, :code_verifier, :nonce, :return_to, :created_at, "
                    ":expires_at)"
                ),
                {
                    "state_hash": login.state_hash,
                    "browser_hash": login.browser_hash,
                    "code_verifier": login.code_verifier,
                    "nonce": login.nonce,
                    "return_to": login.return_to,
                    "created_at": login.created_at,
                    "expires_at": login.expires_at,
                },
            )

    def take(self, state_hash: str) -> StoredLogin | None:
        """The login with this state, deleted in the same transaction: a second take finds nothing."""
        with self.database.write() as conn:
            row = conn.execute(text("SELECT * FROM oidc_logins WHERE state_hash = :h"), {"h": state_hash}).first()
            if row is None:
                return None
            deleted = conn.execute(text("DELETE FROM oidc_logins WHERE state_hash = :h"), {"h": state_hash}).rowcount
            if deleted != 1:  # a concurrent callback took it first
                return None
        return StoredLogin(
            state_hash=row.state_hash,
            browser_hash=row.browser_hash,
            code_verifier=row.code_verifier,
            nonce=row.nonce,
            return_to=row.return_to,
            created_at=float(row.created_at),
            expires_at=float(row.expires_at),
        )


def _containing(conn: Connection, kind: str, member: str) -> set[str]:
    """The groups that contain `member`, transitively: one query per nesting level (cycles are refused on insert)."""
    found: set[str] = set()
    rows = conn.execute(
        text("SELECT group_id FROM group_members WHERE member_kind = :k AND member_id = :m"), {"k": kind, "m": member}
    ).all()
    frontier = {group_id for (group_id,) in rows}
    nested = text("SELECT group_id FROM group_members WHERE member_kind = 'group' AND member_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    while frontier:
        found |= frontier
        rows = conn.execute(nested, {"ids": sorted(frontier)}).all()
        frontier = {group_id for (group_id,) in rows} - found
    return found


def _user(row: Row[Any]) -> StoredUser:
    return StoredUser(
        id=row.id,
        display_name=row.display_name,
        email=row.email,
        password_hash=row.password_hash,
        disabled=bool(row.disabled),
        attributes=orjson.loads(row.attributes or "{}"),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _token(row: Row[Any]) -> StoredToken:
    return StoredToken(
        id=row.id,
        name=row.name,
        kind=row.kind,
        owner=row.owner,
        secret_hash=row.secret_hash,
        permissions=tuple(orjson.loads(row.permissions)),
        task_types=None if row.task_types is None else tuple(orjson.loads(row.task_types)),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        tenants=None if row.tenants is None else tuple(orjson.loads(row.tenants)),
    )


def _iso(seconds: float | None) -> str | None:
    moment = from_epoch(seconds)
    return None if moment is None else moment.isoformat()
