"""Claiming due jobs with expiring locks, extending them, and firing start timers.

A claim sets `locked_by` and `lock_expires_at`; a worker that dies simply stops extending
its locks, and once they expire the claim query sees the jobs as free again. On
PostgreSQL the claim skips rows another worker is claiming at the same moment
(`FOR UPDATE SKIP LOCKED`); on SQLite the database's single write lock serialises claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, text

from legato.store.codec import to_epoch
from legato.store.database import Database
from legato.store.sql import fetch
from legato.store.tenants import Visible, visible_clause


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimedJob:
    id: str
    kind: str  # "task" | "timer" | "start_timer"
    instance_id: str | None
    wait: int | None
    definition_id: int | None
    element: str
    task_type: str | None
    attempts: int
    timeout: float | None
    payload: dict[str, Any] | None
    lock_expires_at: float
    tenant: str | None = None  # the tenant of its instance (or start event); None: the shared one


_FREE = "due_at <= :now AND (locked_by IS NULL OR lock_expires_at < :now)"
_TYPES = "(kind <> 'task' OR task_type IN_LIST(:types))"
_RETURNING = (
    "RETURNING id, kind, instance_id, wait, definition_id, element, task_type, attempts, timeout, payload, tenant_id"
)


class Jobs:
    def __init__(self, database: Database) -> None:
        self.database = database
        if database.is_sqlite:
            claim = (
                f"UPDATE jobs SET locked_by = :worker, lock_expires_at = :until, attempts = attempts + 1 "
                f"WHERE id IN (SELECT id FROM jobs WHERE {_FREE} AND {_TYPES} ORDER BY due_at LIMIT :limit) "
                f"{_RETURNING}"
            )
        else:
            claim = (
                f"WITH c AS (SELECT id FROM jobs WHERE {_FREE} AND {_TYPES} ORDER BY due_at LIMIT :limit "
                "FOR UPDATE SKIP LOCKED) UPDATE jobs j SET locked_by = :worker, lock_expires_at = :until, "
                "attempts = j.attempts + 1 FROM c WHERE j.id = c.id RETURNING j.id, j.kind, j.instance_id, "
                "j.wait, j.definition_id, j.element, j.task_type, j.attempts, j.timeout, j.payload, j.tenant_id"
            )
        self._claim = claim
        self._extend = text(
            "UPDATE jobs SET lock_expires_at = :until WHERE id IN :ids AND locked_by = :worker"
        ).bindparams(bindparam("ids", expanding=True))
        self._next_due = f"SELECT MIN(due_at) FROM jobs WHERE due_at IS NOT NULL AND locked_by IS NULL AND {_TYPES}"

    def claim(
        self,
        *,
        worker: str,
        task_types: Sequence[str],
        limit: int,
        now: datetime,
        lock_seconds: float,
        tenants: Visible = None,
    ) -> list[ClaimedJob]:
        """Lock up to `limit` due jobs of `task_types` (timers too); with `tenants`, only jobs
        of those tenants and of the shared tenant (a worker token's own work)."""
        epoch = to_epoch(now)
        until = epoch + lock_seconds
        params: dict[str, Any] = {
            "worker": worker,
            "until": until,
            "now": epoch,
            "limit": limit,
            "types": list(task_types) or [""],
        }
        query = self._claim
        if tenants is not None:
            query = query.replace(_TYPES, f"{_TYPES} AND {visible_clause('tenant_id', tenants, params)}", 1)
        with self.database.write() as conn:
            rows = fetch(conn, query, params, lists=["types"])
        return [
            ClaimedJob(
                id=job_id,
                kind=kind,
                instance_id=instance_id,
                wait=wait,
                definition_id=definition_id,
                element=element,
                task_type=task_type,
                attempts=attempts,
                timeout=timeout,
                payload=None if payload is None else orjson.loads(payload),
                lock_expires_at=until,
                tenant=tenant,
            )
            for (
                job_id,
                kind,
                instance_id,
                wait,
                definition_id,
                element,
                task_type,
                attempts,
                timeout,
                payload,
                tenant,
            ) in rows
        ]

    def extend(self, *, worker: str, job_ids: Sequence[str], until: float) -> int:
        if not job_ids:
            return 0
        with self.database.write() as conn:
            return int(conn.execute(self._extend, {"ids": list(job_ids), "until": until, "worker": worker}).rowcount)

    def next_due(self, task_types: Sequence[str], tenants: Visible = None) -> float | None:
        """When the next free job falls due, so an idle worker sleeps exactly that long."""
        params: dict[str, Any] = {"types": list(task_types) or [""]}
        query = self._next_due
        if tenants is not None:
            query += f" AND {visible_clause('tenant_id', tenants, params)}"
        with self.database.read() as conn:
            [(value,)] = fetch(conn, query, params, lists=["types"])
        return None if value is None else float(value)

    def release(self, *, worker: str, job_id: str) -> None:
        """Give a claimed job back unrun (a worker shutting down before it started it)."""
        with self.database.write() as conn:
            conn.execute(
                text(
                    "UPDATE jobs SET locked_by = NULL, lock_expires_at = NULL, attempts = attempts - 1 "
                    "WHERE id = :id AND locked_by = :worker"
                ),
                {"id": job_id, "worker": worker},
            )
