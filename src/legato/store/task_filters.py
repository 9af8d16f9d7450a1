"""Saved task filters: a person's named queries of the task list, their own or shared with a group.

A filter belongs to the user who saved it. Shared with a group, every member of that group
(nested groups included) sees it and may use it; only its owner (or an operator) changes
or deletes it, and only a member of a group (or an operator) shares with that group. A
filter somebody may not see is not found (404), as for tasks of another tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Row

from legato.errors import IdentityNotFound, InvalidInput, TaskFilterNotFound, TaskFilterNotOwned
from legato.store.codec import from_epoch
from legato.store.database import Database

MAX_FILTERS_PER_OWNER: Final = 200
MAX_QUERY_BYTES: Final = 8 * 1024


class TaskFilters:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(
        self,
        *,
        name: str,
        owner: str,
        query: Mapping[str, Any],
        group: str | None,
        groups: frozenset[str],
        operator: bool,
        now: float,
    ) -> dict[str, Any]:
        """Save a filter; `groups` are the owner's (sharing needs membership, or `operator`)."""
        name, stored_query, group = _checked(name, query, group, groups, operator)
        with self.database.write() as conn:
            count = conn.execute(text("SELECT COUNT(*) FROM task_filters WHERE owner = :o"), {"o": owner}).scalar()
            if int(count or 0) >= MAX_FILTERS_PER_OWNER:
                raise InvalidInput(
                    f"a user keeps at most {MAX_FILTERS_PER_OWNER} task filters", details={"field": "name"}
                )
            if group is not None and not conn.execute(text("SELECT 1 FROM groups WHERE id = :g"), {"g": group}).first():
                raise IdentityNotFound("group", group)
            row = conn.execute(
                text(
                    "INSERT INTO task_filters (name, owner, group_id, query, created_at, updated_at) "
                    "VALUES (:name, :owner, :group, :query, :now, :now) RETURNING id"
                ),
                {"name": name, "owner": owner, "group": group, "query": stored_query, "now": now},
            ).one()
        return self.get(int(row.id), user=owner, groups=groups, operator=True)

    def list_for(self, user: str, groups: frozenset[str]) -> list[dict[str, Any]]:
        """The user's own filters and those shared with their groups, by name."""
        lowered = sorted({g.lower() for g in groups}) or [""]
        with self.database.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT * FROM task_filters WHERE owner = :user OR group_id IN :groups ORDER BY name, id"
                ).bindparams(bindparam("groups", expanding=True)),
                {"user": user, "groups": lowered},
            ).all()
        return [_filter(r) for r in rows]

    def get(self, filter_id: int, *, user: str, groups: frozenset[str], operator: bool = False) -> dict[str, Any]:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM task_filters WHERE id = :id"), {"id": filter_id}).first()
        if row is None or not (operator or row.owner == user or (row.group_id is not None and row.group_id in groups)):
            raise TaskFilterNotFound(f"no task filter {filter_id}", details={"filter_id": filter_id})
        return _filter(row)

    def update(
        self,
        filter_id: int,
        *,
        name: str,
        query: Mapping[str, Any],
        group: str | None,
        user: str,
        groups: frozenset[str],
        operator: bool,
        now: float,
    ) -> dict[str, Any]:
        current = self.get(filter_id, user=user, groups=groups, operator=operator)
        if current["owner"] != user and not operator:
            raise TaskFilterNotOwned(
                f"task filter {filter_id} is {current['owner']!r}'s: only they change it",
                details={"filter_id": filter_id},
            )
        name, stored_query, group = _checked(name, query, group, groups, operator)
        with self.database.write() as conn:
            conn.execute(
                text(
                    "UPDATE task_filters SET name = :name, query = :query, group_id = :group, updated_at = :now "
                    "WHERE id = :id"
                ),
                {"id": filter_id, "name": name, "query": stored_query, "group": group, "now": now},
            )
        return self.get(filter_id, user=user, groups=groups, operator=True)

    def delete(self, filter_id: int, *, user: str, groups: frozenset[str], operator: bool) -> None:
        current = self.get(filter_id, user=user, groups=groups, operator=operator)
        if current["owner"] != user and not operator:
            raise TaskFilterNotOwned(
                f"task filter {filter_id} is {current['owner']!r}'s: only they delete it",
                details={"filter_id": filter_id},
            )
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM task_filters WHERE id = :id"), {"id": filter_id})


def _checked(
    name: str, query: Mapping[str, Any], group: str | None, groups: frozenset[str], operator: bool
) -> tuple[str, str, str | None]:
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput("a task filter's name is 1..255 characters", details={"field": "name"})
    stored = orjson.dumps(dict(query), option=orjson.OPT_SORT_KEYS).decode()
    if len(stored) > MAX_QUERY_BYTES:
        raise InvalidInput(f"a task filter's query is at most {MAX_QUERY_BYTES} bytes", details={"field": "query"})
    if group is not None:
        group = group.strip().lower()
        if not operator and group not in groups:
            raise TaskFilterNotOwned(
                f"only members of {group!r} (or an operator) share a filter with it", details={"group": group}
            )
    return name, stored, group


def _filter(row: Row[Any]) -> dict[str, Any]:
    created, updated = from_epoch(row.created_at), from_epoch(row.updated_at)
    return {
        "id": row.id,
        "name": row.name,
        "owner": row.owner,
        "group": row.group_id,
        "query": orjson.loads(row.query),
        "created_at": None if created is None else created.isoformat(),
        "updated_at": None if updated is None else updated.isoformat(),
    }
