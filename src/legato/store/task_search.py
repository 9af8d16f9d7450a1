"""The task inbox's lists: my tasks, my groups' tasks, by process, due date, priority, variable.

Every list is a keyset page (store/pages.py) in one of three orders:

- `created`: oldest first (creation time, id), the default;
- `due`: soonest due first, tasks without a due date after all that have one;
- `priority`: most urgent first, and oldest first within a priority.

The common lists are index seeks (migrations 0012 and 0013, and a test that reads the
query plans): an assignee's open tasks by (status, assignee, created_at, id); a process's
by (status, process_key, created_at, id); overdue and due-before by (status, due_at, id),
partial on tasks with a due date; by priority by (status, priority DESC, created_at, id).
"My groups' tasks" (`offered_to`) reads `task_candidates` by (kind, name): the tasks
offered to the user by name or to one of their groups, each then by its id, unassigned
ones kept; a group's candidate rows go when its tasks end, so this reads open tasks only.

A variable filter reads the instance's variables, so it scans the tasks the other filters
leave; its total is counted up to `COUNT_CAP_SCAN` and reported as at least that beyond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from legato.errors import InvalidFilter
from legato.store.database import Database
from legato.store.pages import Page, check_limit, decode_cursor, encode_cursor
from legato.store.queries import Queries
from legato.store.search import COUNT_CAP_SCAN, VariableFilter, _variable_clause
from legato.store.tenants import Visible, visible_clause

TaskSort = Literal["created", "due", "priority"]
SORTS: Final = ("created", "due", "priority")
TASK_STATUSES: Final = ("open", "completed", "cancelled")
MAX_GROUPS: Final = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskFilter:
    """What the task list can be narrowed by; every field is optional."""

    status: str | None = "open"
    instance_id: str | None = None
    process: str | None = None
    element: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    offered_to: tuple[str, frozenset[str]] | None = None
    """(user, their groups): unassigned tasks offered to the user or one of the groups."""
    candidate_group: str | None = None
    candidate_user: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    follow_up_before: datetime | None = None
    priority_min: int | None = None
    priority_max: int | None = None
    variables: tuple[VariableFilter, ...] = ()
    visible: Visible = None
    tenant: str | None = None


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


class TaskSearch:
    def __init__(self, database: Database) -> None:
        self.database = database

    def tasks(self, where: TaskFilter, *, sort: str = "created", limit: int = 100, cursor: str | None = None) -> Page:
        check_limit(limit)
        if sort not in SORTS:
            raise InvalidFilter(f"sort must be one of {', '.join(SORTS)}, not {sort!r}", field="sort")
        if where.status is not None and where.status not in TASK_STATUSES:
            raise InvalidFilter(
                f"status must be one of {', '.join(TASK_STATUSES)}, not {where.status!r}", field="status"
            )
        clauses, params = self._where(where)
        source = "user_tasks t"
        offered = params.pop("_offered_source", None)
        if offered is not None:
            # Driven by the candidates (a seek per name), each task then by its id: CROSS JOIN
            # keeps SQLite from walking every open task instead; PostgreSQL plans it as a join.
            source = f"(SELECT DISTINCT c.task_id FROM task_candidates c WHERE {offered}) o CROSS JOIN user_tasks t"
        if where.variables:
            source += " JOIN instances i ON i.id = t.instance_id"
            for n, variable in enumerate(where.variables):
                clauses.append(_variable_clause(self.database.is_sqlite, n, variable, params))
        with self.database.read() as conn:
            total, exact = _count(conn, source, clauses, params, capped=bool(where.variables))
            # with a due-date filter every task has one: the (status, due_at, id) index gives the order
            dated = where.due_before is not None or where.due_after is not None
            order, key_clause = _order(sort, cursor, params, dated=dated)
            if key_clause:
                clauses.append(key_clause)
            sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
            statement = text(f"SELECT t.* FROM {source} {sql_where} ORDER BY {order} LIMIT :limit")
            for name in ("groups",):
                if name in params:
                    statement = statement.bindparams(bindparam(name, expanding=True))
            rows = conn.execute(statement, {**params, "limit": limit + 1}).all()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _cursor(sort, rows[-1]) if more else None
        items = self.database.opened([Queries.task_row(r) for r in rows])
        return Page(items=items, total=total, total_exact=exact, next_cursor=next_cursor)

    @staticmethod
    def _where(where: TaskFilter) -> tuple[list[str], dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for column, value in (
            ("status", where.status),
            ("instance_id", where.instance_id),
            ("process_key", where.process),
            ("element", where.element),
            ("assignee", where.assignee),
        ):
            if value is not None:
                clauses.append(f"t.{column} = :{column}")
                params[column] = value
        if where.unassigned:
            clauses.append("t.assignee IS NULL")
        if where.offered_to is not None:
            user, groups = where.offered_to
            if len(groups) > MAX_GROUPS:
                raise InvalidFilter(
                    f"a caller in more than {MAX_GROUPS} groups cannot list offered tasks", field="offered"
                )
            offered = "(c.kind = 'user' AND c.name = :offered_user)"
            params["offered_user"] = user.strip().lower()
            if groups:
                offered += " OR (c.kind = 'group' AND c.name IN :groups)"
                params["groups"] = sorted({g.strip().lower() for g in groups})
            clauses.append("t.assignee IS NULL")
            clauses.append("t.id = o.task_id")
            params["_offered_source"] = offered
        for kind, name in (("group", where.candidate_group), ("user", where.candidate_user)):
            if name is not None:
                clauses.append(
                    "t.id IN (SELECT c.task_id FROM task_candidates c "
                    f"WHERE c.kind = '{kind}' AND c.name = :cand_{kind})"
                )
                params[f"cand_{kind}"] = name.strip().lower()
        for column, operator, moment, name in (
            ("due_at", "<", where.due_before, "due_before"),
            ("due_at", ">=", where.due_after, "due_after"),
            ("follow_up_at", "<", where.follow_up_before, "follow_up_before"),
        ):
            if moment is not None:
                clauses.append(f"t.{column} {operator} :{name}")
                params[name] = _epoch(moment)
        if where.priority_min is not None:
            clauses.append("t.priority >= :priority_min")
            params["priority_min"] = where.priority_min
        if where.priority_max is not None:
            clauses.append("t.priority <= :priority_max")
            params["priority_max"] = where.priority_max
        if where.visible is not None:
            clauses.append(visible_clause("t.tenant_id", where.visible, params))
        if where.tenant is not None:
            clauses.append("t.tenant_id = :only_tenant")
            params["only_tenant"] = where.tenant
        return clauses, params


def _order(sort: str, cursor: str | None, params: dict[str, Any], *, dated: bool) -> tuple[str, str | None]:
    """The ORDER BY of a sort, and the keyset clause after `cursor`."""
    if sort == "created":
        key = None
        if cursor is not None:
            at, last = decode_cursor("tasks", cursor, (float, str))
            params.update(c_at=at, c_id=last)
            key = "(t.created_at > :c_at OR (t.created_at = :c_at AND t.id > :c_id))"
        return "t.created_at, t.id", key
    if sort == "priority":
        key = None
        if cursor is not None:
            priority, at, last = decode_cursor("tasks:priority", cursor, (int, float, str))
            params.update(c_p=priority, c_at=at, c_id=last)
            key = (
                "(t.priority < :c_p OR (t.priority = :c_p AND (t.created_at > :c_at OR "
                "(t.created_at = :c_at AND t.id > :c_id))))"
            )
        return "t.priority DESC, t.created_at, t.id", key
    key = None
    if cursor is not None:
        has_due, due, last = decode_cursor("tasks:due", cursor, (int, float, str))
        params.update(c_due=due, c_id=last)
        if has_due:
            key = "(t.due_at > :c_due OR (t.due_at = :c_due AND t.id > :c_id) OR t.due_at IS NULL)"
        else:
            key = "(t.due_at IS NULL AND t.id > :c_id)"
    if dated:
        return "t.due_at, t.id", key
    # Tasks with a due date first (soonest first), then those without: NULLs last on both databases.
    return "CASE WHEN t.due_at IS NULL THEN 1 ELSE 0 END, t.due_at, t.id", key


def _cursor(sort: str, row: Any) -> str:
    if sort == "created":
        return encode_cursor("tasks", [row.created_at, row.id])
    if sort == "priority":
        return encode_cursor("tasks:priority", [row.priority, row.created_at, row.id])
    return encode_cursor("tasks:due", [0 if row.due_at is None else 1, row.due_at or 0.0, row.id])


def _count(
    conn: Connection, source: str, clauses: Sequence[str], params: dict[str, Any], *, capped: bool
) -> tuple[int, bool]:
    sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    inner = f"SELECT 1 FROM {source} {sql_where}"
    statement = (
        text(f"SELECT COUNT(*) FROM ({inner} LIMIT :cap) c")
        if capped
        else text(f"SELECT COUNT(*) FROM {source} {sql_where}")
    )
    if "groups" in params:
        statement = statement.bindparams(bindparam("groups", expanding=True))
    n = int(conn.execute(statement, {**params, "cap": COUNT_CAP_SCAN + 1}).scalar() or 0)
    if not capped:
        return n, True
    return min(n, COUNT_CAP_SCAN), n <= COUNT_CAP_SCAN


__all__ = ["SORTS", "TaskFilter", "TaskSearch", "TaskSort"]
