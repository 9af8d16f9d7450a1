"""The read side: instances, history, user tasks and incidents as plain dictionaries.

Reads never go through the engine: they are what operators, the API and the CLI look at,
so they return JSON-ready dictionaries with ISO 8601 times.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Row

from legato.errors import IncidentNotFound, InstanceNotFound, InvalidInput, TaskNotFound
from legato.store.codec import from_epoch, loads
from legato.store.database import Database
from legato.store.pages import MAX_PAGE
from legato.store.tenants import Visible, may_see, visible_clause

STATUSES = ("active", "completed", "terminated", "cancelled")


def _iso(seconds: float | None) -> str | None:
    moment = from_epoch(seconds)
    return None if moment is None else moment.isoformat()


class Queries:
    def __init__(self, database: Database) -> None:
        self.database = database

    def instance(self, instance_id: str, *, with_history: bool = True, visible: Visible = None) -> dict[str, Any]:
        """One instance; one of a tenant outside `visible` is not found (404, never 403)."""
        with self.database.read() as conn:
            row = conn.execute(
                text(
                    "SELECT i.*, d.version AS definition_version FROM instances i "
                    "JOIN definitions d ON d.id = i.definition_id WHERE i.id = :id"
                ),
                {"id": instance_id},
            ).first()
            if row is None or not may_see(visible, row.tenant_id):
                raise InstanceNotFound(f"no instance {instance_id!r}", details={"instance_id": instance_id})
            result = self._instance(row, full=True)
            result["definition_id"] = row.definition_id
            result["parent_id"] = row.parent_id  # the instance whose call activity started this one
            result["children"] = [
                child_id
                for (child_id,) in conn.execute(
                    text("SELECT id FROM instances WHERE parent_id = :id ORDER BY created_at, id"), {"id": instance_id}
                )
            ]
            result["incidents"] = [
                self._incident(r)
                for r in conn.execute(
                    text("SELECT * FROM incidents WHERE instance_id = :id AND status = 'open' ORDER BY id"),
                    {"id": instance_id},
                )
            ]
            result["tasks"] = [
                self._task(r)
                for r in conn.execute(
                    text("SELECT * FROM user_tasks WHERE instance_id = :id AND status = 'open' ORDER BY created_at"),
                    {"id": instance_id},
                )
            ]
            result["jobs"] = [
                self._job(r)
                for r in conn.execute(
                    text(
                        "SELECT id, kind, element, task_type, due_at, attempts, locked_by, lock_expires_at, "
                        "last_error FROM jobs WHERE instance_id = :id ORDER BY due_at, id"
                    ),
                    {"id": instance_id},
                )
            ]
            result["subscriptions"] = [
                {
                    "element": r.element,
                    "kind": r.kind,
                    "name": r.message,
                    "correlation_key": r.correlation_key,
                    "created_at": _iso(r.created_at),
                }
                for r in conn.execute(
                    text(
                        "SELECT element, kind, message, correlation_key, created_at FROM subscriptions "
                        "WHERE instance_id = :id ORDER BY created_at, id"
                    ),
                    {"id": instance_id},
                )
            ]
            if with_history:
                result["history"] = [
                    self._history(r)
                    for r in conn.execute(
                        text("SELECT * FROM history WHERE instance_id = :id ORDER BY seq"), {"id": instance_id}
                    )
                ]
        return self.database.opened(result)

    def check_instance(self, instance_id: str, visible: Visible) -> None:
        """Raise InstanceNotFound unless the instance exists in a tenant of `visible`."""
        if visible is None:
            return
        with self.database.read() as conn:
            row = conn.execute(text("SELECT tenant_id FROM instances WHERE id = :id"), {"id": instance_id}).first()
        if row is None or not may_see(visible, row.tenant_id):
            raise InstanceNotFound(f"no instance {instance_id!r}", details={"instance_id": instance_id})

    def status(self, instance_id: str) -> str:
        """Only the status: what a caller waiting for the end polls (one indexed read)."""
        with self.database.read() as conn:
            value = conn.execute(text("SELECT status FROM instances WHERE id = :id"), {"id": instance_id}).scalar()
        if value is None:
            raise InstanceNotFound(f"no instance {instance_id!r}", details={"instance_id": instance_id})
        return str(value)

    def instances(
        self,
        *,
        process: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        limit: int = 100,
        offset: int = 0,
        visible: Visible = None,
        tenant: str | None = None,
    ) -> list[dict[str, Any]]:
        """Instances newest first, of the tenants in `visible` (None: all) and the shared
        tenant; `tenant` narrows to one tenant."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidInput(f"limit must be 1..{MAX_PAGE} and offset >= 0")
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        for column, value in (
            ("process_key", process),
            ("status", status),
            ("business_key", business_key),
            ("tenant_id", tenant),
        ):
            if value is not None:
                clauses.append(f"i.{column} = :{column}")
                params[column] = value
        if visible is not None:
            clauses.append(visible_clause("i.tenant_id", visible, params))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.database.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT i.id, i.process_key, i.business_key, i.status, i.version, i.created_at, i.updated_at, "
                    "i.ended_at, i.state, i.variables, i.tenant_id, d.version AS definition_version FROM instances i "
                    f"JOIN definitions d ON d.id = i.definition_id {where} "
                    "ORDER BY i.created_at DESC, i.id DESC LIMIT :limit OFFSET :offset"
                ),
                params,
            ).all()
        return self.database.opened([self._instance(r, full=False) for r in rows])

    def count_instances(self, *, process: str | None = None, visible: Visible = None) -> dict[str, int]:
        params: dict[str, Any] = {"process": process}
        where = f"WHERE {visible_clause('tenant_id', visible, params)}"
        if process:
            where += " AND process_key = :process"
        with self.database.read() as conn:
            rows = conn.execute(
                text(f"SELECT status, COUNT(*) AS n FROM instances {where} GROUP BY status"), params
            ).all()
        return {row.status: int(row.n) for row in rows}

    def history(self, instance_id: str, visible: Visible = None) -> list[dict[str, Any]]:
        self.check_instance(instance_id, visible)
        with self.database.read() as conn:
            rows = conn.execute(
                text("SELECT * FROM history WHERE instance_id = :id ORDER BY seq"), {"id": instance_id}
            ).all()
        return self.database.opened([self._history(r) for r in rows])

    def tasks(
        self,
        *,
        status: str = "open",
        instance_id: str | None = None,
        limit: int = 100,
        visible: Visible = None,
        tenant: str | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"status": status, "limit": min(max(limit, 1), MAX_PAGE)}
        extra = _narrowed(instance_id, visible, tenant, params)
        with self.database.read() as conn:
            rows = conn.execute(
                text(f"SELECT * FROM user_tasks WHERE status = :status{extra} ORDER BY created_at LIMIT :limit"),
                params,
            ).all()
        return self.database.opened([self._task(r) for r in rows])

    def task(self, task_id: str, visible: Visible = None) -> dict[str, Any]:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM user_tasks WHERE id = :id"), {"id": task_id}).first()
        if row is None or not may_see(visible, row.tenant_id):
            raise TaskNotFound(f"no user task {task_id!r}", details={"task_id": task_id})
        return self.database.opened(self._task(row))

    def incidents(
        self,
        *,
        status: str = "open",
        instance_id: str | None = None,
        limit: int = 100,
        visible: Visible = None,
        tenant: str | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"status": status, "limit": min(max(limit, 1), MAX_PAGE)}
        extra = _narrowed(instance_id, visible, tenant, params)
        with self.database.read() as conn:
            rows = conn.execute(
                text(f"SELECT * FROM incidents WHERE status = :status{extra} ORDER BY id LIMIT :limit"), params
            ).all()
        return self.database.opened([self._incident(r) for r in rows])

    def incident(self, incident_id: int, visible: Visible = None) -> dict[str, Any]:
        with self.database.read() as conn:
            row = conn.execute(text("SELECT * FROM incidents WHERE id = :id"), {"id": incident_id}).first()
        if row is None or not may_see(visible, row.tenant_id):
            raise IncidentNotFound(f"no incident {incident_id}", details={"incident_id": incident_id})
        return self.database.opened(self._incident(row))

    def open_incident_of_job(self, job_id: str, visible: Visible = None) -> int | None:
        """The open incident holding a job (`<instance>:<wait>`, as Camunda clients name it), if any."""
        instance_id, _, wait = job_id.rpartition(":")
        if not instance_id or not wait.isdigit() or len(wait) > 18:
            return None
        with self.database.read() as conn:
            row = conn.execute(
                text(
                    "SELECT id, tenant_id FROM incidents WHERE instance_id = :instance_id AND wait = :wait "
                    "AND status = 'open' ORDER BY id DESC LIMIT 1"
                ),
                {"instance_id": instance_id, "wait": int(wait)},
            ).first()
        return None if row is None or not may_see(visible, row.tenant_id) else int(row.id)

    def variables_of(self, instance_ids: Iterable[str]) -> dict[str, tuple[str, int, dict[str, Any]]]:
        """For each instance: its process key, definition id and variables (what masking needs)."""
        ids = sorted(set(instance_ids))
        if not ids:
            return {}
        found: dict[str, tuple[str, int, dict[str, Any]]] = {}
        with self.database.read() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    text("SELECT id, process_key, definition_id, variables FROM instances WHERE id IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": ids[start : start + 500]},
                ).all()
                for row in rows:
                    variables = self.database.opened(orjson.loads(row.variables))
                    found[row.id] = (row.process_key, row.definition_id, variables)
        return found

    def job_counts(self, visible: Visible = None) -> dict[str, int]:
        params: dict[str, Any] = {}
        with self.database.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT CASE WHEN due_at IS NULL THEN 'held' WHEN locked_by IS NULL THEN 'waiting' "
                    f"ELSE 'locked' END AS state, COUNT(*) AS n FROM jobs "
                    f"WHERE {visible_clause('tenant_id', visible, params)} GROUP BY 1"
                ),
                params,
            ).all()
        return {row.state: int(row.n) for row in rows}

    # -- row shapes ----------------------------------------------------------------------

    @staticmethod
    def instance_row(row: Row[Any], *, full: bool, variables: bool = True) -> dict[str, Any]:
        """An instance as the API shows it; list rows leave the variables out unless asked."""
        state = orjson.loads(row.state)
        waiting = sorted({token[1] for token in state["t"] if token[4] in ("waiting", "joining")})
        result: dict[str, Any] = {
            "id": row.id,
            "process": row.process_key,
            "tenant": row.tenant_id,
            "version": row.definition_version,
            "business_key": row.business_key,
            "status": row.status,
            "waiting_at": waiting,
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
            "ended_at": _iso(row.ended_at),
        }
        if variables:
            result["variables"] = orjson.loads(row.variables)
        if full:
            result["revision"] = row.version
        return result

    _instance = instance_row

    @staticmethod
    def _history(row: Row[Any]) -> dict[str, Any]:
        return {
            "seq": row.seq,
            "at": _iso(row.at),
            "type": row.type,
            "element": row.element,
            "actor": row.actor,
            "data": loads(row.data),
        }

    @staticmethod
    def task_row(row: Row[Any]) -> dict[str, Any]:
        return {
            "id": row.id,
            "instance_id": row.instance_id,
            "tenant": row.tenant_id,
            "element": row.element,
            "name": row.name,
            "process": row.process_key,
            "assignee": row.assignee,
            "candidate_users": loads(row.candidate_users) or [],
            "candidate_groups": loads(row.candidate_groups) or [],
            "owner": row.owner,
            "delegation": row.delegation,
            "description": row.description,
            "priority": row.priority,
            "due_at": _iso(row.due_at),
            "follow_up_at": _iso(row.follow_up_at),
            "form": loads(row.form),
            "payload": loads(row.payload),
            "draft": loads(row.draft),
            "status": row.status,
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
            "ended_at": _iso(row.ended_at),
            "ended_by": row.ended_by,
        }

    _task = task_row

    @staticmethod
    def incident_row(row: Row[Any]) -> dict[str, Any]:
        return {
            "id": row.id,
            "instance_id": row.instance_id,
            "tenant": row.tenant_id,
            "element": row.element,
            "error_type": row.error_type,
            "message": row.message,
            "details": row.details,
            "status": row.status,
            "created_at": _iso(row.created_at),
            "resolved_at": _iso(row.resolved_at),
            "resolved_by": row.resolved_by,
        }

    _incident = incident_row

    @staticmethod
    def _job(row: Row[Any]) -> dict[str, Any]:
        """A job as an instance's detail shows it; `max_attempts` is the runtime's to add."""
        return {
            "id": row.id,
            "kind": "service" if row.kind == "task" else row.kind,
            "element": row.element,
            "task_type": row.task_type,
            "due_at": _iso(row.due_at),
            "attempts": row.attempts,
            "locked_by": row.locked_by,
            "lock_expires_at": _iso(row.lock_expires_at),
            "last_error": row.last_error,
        }


def _narrowed(instance_id: str | None, visible: Visible, tenant: str | None, params: dict[str, Any]) -> str:
    """The extra WHERE of a task or incident list: one instance, one tenant, what may be seen."""
    extra = ""
    if instance_id is not None:
        extra += " AND instance_id = :instance_id"
        params["instance_id"] = instance_id
    if tenant is not None:
        extra += " AND tenant_id = :only_tenant"
        params["only_tenant"] = tenant
    if visible is not None:
        extra += f" AND {visible_clause('tenant_id', visible, params)}"
    return extra
