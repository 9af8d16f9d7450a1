"""Who is asking: passwords to sessions, sessions and tokens to a `Principal`.

The decisions live here, the HTTP details (cookies, headers) in the API. Every check is
against the store and the injected clock, so tests move time to expire a session or end a
lockout instead of sleeping.

Lockout (OWASP's advice): failed logins are counted per user name and per source address;
from the fifth failure in a row each further one locks that key for twice as long as the
last (1 s, 2 s, 4 s, ... up to 15 minutes). A correct password during a lock is refused
too, so a lock cannot be probed; a success clears the count.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from legato.access.principal import Principal
from legato.access.roles import BUILTIN_ROLES, check_permissions, narrow
from legato.access.secrets import digest, hash_password, new_secret, new_token, same, split_token, verify_password
from legato.access.tenancy import filter_tenant
from legato.errors import (
    IdentityNotFound,
    InvalidInput,
    LoginFailed,
    LoginLocked,
    PermissionDenied,
    SessionExpired,
    TokenInvalid,
)
from legato.store import Store
from legato.store.identity import StoredSession, StoredToken, StoredUser

FREE_FAILURES = 4
MAX_LOCK_SECONDS = 15 * 60
LOCK_FOR = {n: float(min(MAX_LOCK_SECONDS, 2 ** (n - FREE_FAILURES - 1))) for n in range(FREE_FAILURES + 1, 64)}
MAX_TOKEN_DAYS = 366
TOUCH_AFTER_SECONDS = 30  # how stale last-seen/last-used may get before a request writes it


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionPolicy:
    idle_seconds: float = 8 * 3600  # a session unused this long ends
    absolute_seconds: float = 7 * 24 * 3600  # and every session ends after this, used or not


@dataclass(frozen=True, kw_only=True, slots=True)
class NewSession:
    secret: str  # the cookie value, shown to the browser only
    csrf: str
    principal: Principal
    expires_at: float


@dataclass(frozen=True, kw_only=True, slots=True)
class NewToken:
    token: str  # shown once
    stored: StoredToken


class Authenticator:
    def __init__(self, store: Store, *, clock: object | None = None, sessions: SessionPolicy | None = None) -> None:
        self.store = store
        self.directory = store.directory
        self._clock = clock
        self.sessions = sessions or SessionPolicy()

    def now(self) -> float:
        clock_now = getattr(self._clock, "now", None)
        if clock_now is None:
            return time.time()
        moment: datetime = clock_now()
        return moment.timestamp()

    # -- principals ------------------------------------------------------------------------

    def principal_of(self, user: StoredUser, *, kind: str = "user") -> Principal:
        """A user's principal: the union of the roles granted to them and to their groups."""
        return self.principal_for(user.id, kind=kind, user_id=user.id, groups=self.directory.groups_of(user.id))

    def principal_for(self, name: str, *, kind: str, user_id: str | None, groups: frozenset[str]) -> Principal:
        """The principal holding what is granted to `user_id` (if any) and to `groups` (nested ones included)."""
        subjects = ([("user", user_id)] if user_id is not None else []) + [("group", g) for g in groups]
        custom = self.directory.custom_roles()
        permissions: set[str] = set()
        scoped: dict[str, set[str]] = {}
        for grant in self.directory.grants(subjects):
            granted = BUILTIN_ROLES.get(grant.role)
            if granted is None:
                granted = frozenset(custom.get(grant.role, {}).get("permissions", ()))
            if grant.process_keys is None:
                permissions |= granted
            else:
                for permission in granted:
                    scoped.setdefault(permission, set()).update(grant.process_keys)
        return Principal(
            name=name,
            kind="user" if kind == "user" else "token",
            permissions=frozenset(permissions),
            groups=frozenset(groups),
            scoped={p: frozenset(keys) for p, keys in scoped.items()},
            tenants=self.tenants_of(user_id, groups, frozenset(permissions)),
        )

    def tenants_of(
        self, username: str | None, groups: frozenset[str], permissions: frozenset[str]
    ) -> frozenset[str] | None:
        """A user's tenants (its own and its groups'; a caller known only by its groups, those
        groups'); None, every tenant, for an administrator or while the installation has no
        tenant at all (access/tenancy.py)."""
        if "*" in permissions or not self.store.tenants.any():
            return None
        return self.store.tenants.of_user(username, groups)

    # -- passwords and sessions ------------------------------------------------------------

    def login(self, username: str, password: str, *, source: str | None) -> NewSession:
        now = self.now()
        keys = [f"user:{username.strip().lower()}"] + ([f"source:{source}"] if source else [])
        for _key, (_failures, locked_until) in self.directory.login_failures(keys).items():
            if locked_until is not None and locked_until > now:
                raise LoginLocked("too many failed logins: wait before trying again", retry_after=locked_until - now)
        user = self.directory.find_user(username) if username.strip() else None
        ok = verify_password(None if user is None else user.password_hash, password)
        if user is None or not ok or user.disabled:
            for key in keys:
                self.directory.record_login_failure(key, now=now, lock_for=LOCK_FOR)
            raise LoginFailed("wrong user name or password, or the user is disabled")
        for key in keys:
            self.directory.clear_login_failures(key)
        return self.start_session(user, source=source)

    def start_session(self, user: StoredUser, *, source: str | None) -> NewSession:
        """A new browser session for a user whose identity is proven (password or single sign-on)."""
        now = self.now()
        secret, csrf = new_secret(), new_secret()
        expires_at = now + self.sessions.absolute_seconds
        self.directory.create_session(
            StoredSession(
                id_hash=digest(secret),
                user_id=user.id,
                csrf=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            ),
            source=source,
        )
        return NewSession(secret=secret, csrf=csrf, principal=self.principal_of(user), expires_at=expires_at)

    def from_session(self, secret: str) -> tuple[Principal, str]:
        """The principal of a session cookie and the session's CSRF token."""
        now = self.now()
        session = self.directory.session(digest(secret))
        if session is None:
            raise SessionExpired("the session has ended: log in again")
        if session.expires_at <= now or session.last_seen_at + self.sessions.idle_seconds <= now:
            self.directory.delete_session(session.id_hash)
            raise SessionExpired("the session has ended: log in again")
        user = self.directory.find_user(session.user_id)
        if user is None or user.disabled:
            self.directory.delete_session(session.id_hash)
            raise SessionExpired("the session's user is gone or disabled")
        if session.last_seen_at < now - TOUCH_AFTER_SECONDS:  # not a write transaction on every request
            self.directory.touch_session(session.id_hash, now=now)
        return self.principal_of(user), session.csrf

    def logout(self, secret: str) -> None:
        self.directory.delete_session(digest(secret))

    # -- tokens ----------------------------------------------------------------------------

    def issue_token(
        self,
        *,
        name: str,
        kind: str,
        creator: Principal,
        owner: str | None = None,
        permissions: Iterable[str] | None = None,
        task_types: Iterable[str] | None = None,
        tenants: Iterable[str] | None = None,
        expires_in_days: float | None = 90,
    ) -> NewToken:
        """A new token. Personal tokens act for their owner and hold at most the owner's permissions."""
        now = self.now()
        if not name.strip() or len(name) > 200:
            raise InvalidInput("a token needs a name of 1-200 characters", details={"field": "name"})
        if expires_in_days is not None and not 0 < expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(
                f"expires_in_days must be between 0 and {MAX_TOKEN_DAYS}", details={"field": "expires_in_days"}
            )
        wanted = check_permissions(permissions) if permissions is not None else None
        types: tuple[str, ...] | None = None
        if kind == "personal":
            owner = creator.name if owner is None else owner
            if owner != creator.name and not creator.may("users:admin"):
                raise PermissionDenied("users:admin", who=creator.name)
            self.directory.user(owner)
            granted = wanted if wanted is not None else frozenset({"*"})
        elif kind in ("service", "worker"):
            if not creator.may("users:admin"):
                raise PermissionDenied("users:admin", who=creator.name)
            owner = None
            if kind == "worker":
                types = tuple(sorted({t.strip() for t in task_types or () if t.strip()}))
                if not types:
                    raise InvalidInput(
                        "a worker token names the task types it may work on", details={"field": "task_types"}
                    )
                granted = frozenset({"jobs:read", "jobs:work"})
            else:
                if wanted is None:
                    raise InvalidInput("a service token lists its permissions", details={"field": "permissions"})
                granted = wanted
        else:
            raise InvalidInput("token kind must be personal, service or worker", details={"field": "kind"})
        if kind != "worker":
            granted = narrow(granted, creator.permissions)  # nobody hands out more than they hold
        token_tenants = None if kind == "personal" else _token_tenants(creator, tenants)
        token_id, token, secret_hash = new_token()
        stored = StoredToken(
            id=token_id,
            name=name.strip(),
            kind=kind,
            owner=owner,
            secret_hash=secret_hash,
            permissions=tuple(sorted(granted)),
            task_types=types,
            created_by=creator.name,
            created_at=now,
            expires_at=None if expires_in_days is None else now + expires_in_days * 86400,
            revoked_at=None,
            last_used_at=None,
            tenants=token_tenants,
        )
        self.directory.create_token(stored)
        return NewToken(token=token, stored=stored)

    def from_token(self, token: str) -> Principal:
        parts = split_token(token)
        if parts is None:
            raise TokenInvalid("the bearer token is not a Legato token")
        token_id, secret = parts
        stored = self.directory.token(token_id)
        now = self.now()
        if stored is None or not same(stored.secret_hash, digest(secret)):
            raise TokenInvalid("unknown token")
        if stored.revoked_at is not None:
            raise TokenInvalid("the token was revoked")
        if stored.expires_at is not None and stored.expires_at <= now:
            raise TokenInvalid("the token has expired")
        if stored.last_used_at is None or stored.last_used_at < now - TOUCH_AFTER_SECONDS:
            self.directory.touch_token(stored.id, now=now)
        held = frozenset(stored.permissions)
        if stored.kind == "personal":
            assert stored.owner is not None
            owner = self.directory.find_user(stored.owner)
            if owner is None or owner.disabled:
                raise TokenInvalid("the token's owner is gone or disabled")
            principal = self.principal_of(owner, kind="token")
            # At use, not only at creation: a token never outlives its owner's lost permissions.
            return replace(
                principal,
                permissions=narrow(held, principal.permissions),
                scoped={p: k for p, k in principal.scoped.items() if narrow(frozenset({p}), held)},
            )
        return Principal(
            name=f"token:{stored.name}",
            kind="token",
            permissions=held,
            task_types=None if stored.task_types is None else frozenset(stored.task_types),
            tenants=None if stored.tenants is None else frozenset(stored.tenants),
        )

    def revoke_token(self, token_id: str, *, by: Principal) -> None:
        stored = self.directory.token(token_id)
        if stored is None:
            raise IdentityNotFound("token", token_id)
        if stored.owner != by.name and not by.may("users:admin"):
            raise PermissionDenied("users:admin", who=by.name)
        self.directory.revoke_token(token_id, now=self.now())

    # -- users -----------------------------------------------------------------------------

    def create_user(self, username: str, password: str | None, **attributes: object) -> StoredUser:
        return self.directory.create_user(
            username,
            password_hash=None if password is None else hash_password(password),
            now=self.now(),
            display_name=attributes.pop("display_name", None),  # type: ignore[arg-type]
            email=attributes.pop("email", None),  # type: ignore[arg-type]
            attributes=attributes.pop("attributes", None),  # type: ignore[arg-type]
        )

    def set_password(self, username: str, password: str) -> None:
        self.directory.update_user(username, {"password_hash": hash_password(password)}, now=self.now())


def ensure_admin(authenticator: Authenticator, password: str, *, username: str = "admin") -> StoredUser | None:
    """Create the first admin on a directory without users; None when users exist already."""
    if authenticator.directory.has_users():
        return None
    user = authenticator.create_user(username, password, display_name="Administrator")
    authenticator.directory.grant("admin", "user", user.id, now=authenticator.now())
    return user


def _token_tenants(creator: Principal, tenants: Iterable[str] | None) -> tuple[str, ...] | None:
    """The tenants of a service or worker token: those named (each one the creator's own),
    or, named none, the creator's (None, every tenant, only from a creator who has all)."""
    if tenants is None:
        return None if creator.tenants is None else tuple(sorted(creator.tenants))
    wanted = tuple(sorted({filter_tenant(creator, tenant) or "" for tenant in tenants} - {""}))
    if not wanted:
        raise InvalidInput("a token's tenants list names at least one tenant", details={"field": "tenants"})
    return wanted
