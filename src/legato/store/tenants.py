"""Tenants: who belongs to which, and the SQL that keeps one tenant's rows from another.

A tenant is a name. Rows of the work (definitions, instances, jobs, tasks, incidents,
history, decisions) carry `tenant_id`; NULL is the shared (default) tenant, so an
installation that never creates a tenant has nothing to configure. A user belongs to the
tenants it is a member of directly and to those of its groups (nested groups included).

Visibility is a value, `Visible`: None for every tenant (administrators, installations
without tenants, the embedded Python API), else a set of tenant ids; the shared tenant is
visible to everyone. `legato.access` decides a caller's set; this module only turns it
into a WHERE clause (`visible_clause`), so that every query filters the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from legato.errors import IdentityConflict, IdentityNotFound, InvalidInput
from legato.store.codec import from_epoch
from legato.store.database import Database
from legato.store.identity import MEMBER_KINDS, normalize_name

Visible = frozenset[str] | None
"""The tenants a caller may see: None for all of them; the shared tenant always."""


def tenant_id(value: str | None) -> str | None:
    """A tenant id as stored (None: the shared tenant), checked like a group name."""
    return None if value is None else normalize_name("tenant", value)


def visible_clause(column: str, visible: Visible, params: dict[str, Any]) -> str:
    """SQL that holds for rows of `column` the caller may see ("1 = 1" for all).

    Tenant ids become numbered parameters rather than an expanding list, so the clause
    works in plain `text()` statements and in the driver-level `fetch` alike.
    """
    if visible is None:
        return "1 = 1"
    names = []
    for tenant in sorted(visible):
        name = f"tenant_{len(params)}"
        params[name] = tenant
        names.append(f":{name}")
    if not names:
        return f"{column} IS NULL"
    return f"({column} IS NULL OR {column} IN ({', '.join(names)}))"


def may_see(visible: Visible, tenant: str | None) -> bool:
    return visible is None or tenant is None or tenant in visible


class Tenants:
    def __init__(self, database: Database) -> None:
        self.database = database

    def any(self) -> bool:
        """Whether any tenant exists: without one, everyone sees everything."""
        with self.database.read() as conn:
            return conn.execute(text("SELECT 1 FROM tenants LIMIT 1")).first() is not None

    def create(self, tenant: str, *, now: float, name: str | None = None) -> dict[str, Any]:
        found = normalize_name("tenant", tenant)
        with self.database.write() as conn:
            if conn.execute(text("SELECT 1 FROM tenants WHERE id = :id"), {"id": found}).first():
                raise IdentityConflict(f"tenant {found!r} exists", details={"tenant": found})
            conn.execute(
                text("INSERT INTO tenants (id, name, created_at) VALUES (:id, :name, :now)"),
                {"id": found, "name": name, "now": now},
            )
        return self.get(found)

    def get(self, tenant: str) -> dict[str, Any]:
        found = tenant.strip().lower()
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM tenants WHERE id = :id"), {"id": found}).first()
            if row is None:
                raise IdentityNotFound("tenant", tenant)
            members = conn.execute(
                text("SELECT member_kind, member_id FROM tenant_members WHERE tenant_id = :id ORDER BY 1, 2"),
                {"id": found},
            ).all()
        created = from_epoch(row.created_at)
        return {
            "tenant": row.id,
            "name": row.name,
            "users": [m.member_id for m in members if m.member_kind == "user"],
            "groups": [m.member_id for m in members if m.member_kind == "group"],
            "created_at": None if created is None else created.isoformat(),
        }

    def list(self) -> list[dict[str, Any]]:
        with self.database.read() as conn:
            ids = [row.id for row in conn.execute(text("SELECT id FROM tenants ORDER BY id"))]
        return [self.get(found) for found in ids]

    def delete(self, tenant: str) -> None:
        """Delete a tenant that no work belongs to any more: its rows would become unreachable."""
        found = self.get(tenant)["tenant"]
        with self.database.write() as conn:
            for table in ("definitions", "decision_models", "instances"):
                if conn.execute(text(f"SELECT 1 FROM {table} WHERE tenant_id = :id LIMIT 1"), {"id": found}).first():
                    raise IdentityConflict(
                        f"tenant {found!r} still has {table.replace('_', ' ')}: it cannot be deleted",
                        details={"tenant": found, "table": table},
                    )
            conn.execute(text("DELETE FROM tenant_members WHERE tenant_id = :id"), {"id": found})
            conn.execute(text("DELETE FROM tenants WHERE id = :id"), {"id": found})

    def add_member(self, tenant: str, member_kind: str, member: str) -> None:
        found = self.get(tenant)["tenant"]
        if member_kind not in MEMBER_KINDS:
            raise InvalidInput(f"member kind must be user or group, not {member_kind!r}", details={"field": "kind"})
        member_id = member.strip().lower()
        table = "users" if member_kind == "user" else "groups"
        with self.database.write() as conn:
            if conn.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": member_id}).first() is None:
                raise IdentityNotFound(member_kind, member)
            exists = conn.execute(
                text("SELECT 1 FROM tenant_members WHERE tenant_id = :t AND member_kind = :k AND member_id = :m"),
                {"t": found, "k": member_kind, "m": member_id},
            ).first()
            if exists is None:
                conn.execute(
                    text("INSERT INTO tenant_members (tenant_id, member_kind, member_id) VALUES (:t, :k, :m)"),
                    {"t": found, "k": member_kind, "m": member_id},
                )

    def remove_member(self, tenant: str, member_kind: str, member: str) -> None:
        with self.database.write() as conn:
            removed = conn.execute(
                text("DELETE FROM tenant_members WHERE tenant_id = :t AND member_kind = :k AND member_id = :m"),
                {"t": tenant.strip().lower(), "k": member_kind, "m": member.strip().lower()},
            ).rowcount
        if not removed:
            raise IdentityNotFound("member", f"{member_kind}:{member} of {tenant}")

    def of_user(self, username: str | None, groups: Iterable[str]) -> frozenset[str]:
        """The tenants of a user: its own memberships and its groups' (`groups`: all of them, nested)."""
        subjects = [("user", username.strip().lower())] if username is not None else []
        subjects += [("group", g) for g in groups]
        if not subjects:
            return frozenset()
        with self.database.read() as conn:
            return _tenants_of(conn, subjects)


def _tenants_of(conn: Connection, subjects: list[tuple[str, str]]) -> frozenset[str]:
    found: set[str] = set()
    for start in range(0, len(subjects), 200):
        chunk = subjects[start : start + 200]
        params: dict[str, Any] = {}
        pairs = []
        for index, (kind, member) in enumerate(chunk):
            params[f"k{index}"], params[f"m{index}"] = kind, member
            pairs.append(f"(member_kind = :k{index} AND member_id = :m{index})")
        rows = conn.execute(
            text(f"SELECT DISTINCT tenant_id FROM tenant_members WHERE {' OR '.join(pairs)}"), params
        ).all()
        found.update(row.tenant_id for row in rows)
    return frozenset(found)


__all__ = ["Tenants", "Visible", "may_see", "tenant_id", "visible_clause"]
