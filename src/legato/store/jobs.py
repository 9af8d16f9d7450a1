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
from legato.store.job_signals import JobSignals
from legato.store.sql import fetch
from legato.store.tenants import Visible, visible_clause
from legato.telemetry import Metrics


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
    traceparent: str | None = None  # its instance's trace (legato.telemetry.tracing)
    process: str | None = None


_FREE = "due_at <= :now AND (locked_by IS NULL OR lock_expires_at < :now)"
_TYPES = "(kind <> 'task' OR task_type IN_LIST(:types))"
_TASKS_OF_TYPES = "(kind = 'task' AND task_type IN_LIST(:types))"
_RETURNING = (
    "RETURNING id, kind, instance_id, wait, definition_id, element, task_type, attempts, timeout, payload, tenant_id, "
    "traceparent, process_key"
)


class Jobs:
    def __init__(self, database: Database, metrics: Metrics | None = None) -> None:
        self.database = database
        self.metrics = metrics or Metrics(enabled=False)  # claim sizes and lock expirations (legato.telemetry)
        # Both claims also say, per job, whether another worker's lock on it had expired.
        if database.is_sqlite:
            # SQLite's RETURNING sees only the new values: the old holder is read first, in the
            # same write transaction (its single write lock keeps the rows as read).
            claim = (
                f"SELECT id, locked_by IS NOT NULL FROM jobs WHERE {_FREE} AND {_TYPES} ORDER BY due_at LIMIT :limit"
            )
            self._take = (
                "UPDATE jobs SET locked_by = :worker, lock_expires_at = :until, attempts = attempts + 1 "
                f"WHERE id IN_LIST(:ids) {_RETURNING}, 0"
            )
        else:
            claim = (
                f"WITH c AS (SELECT id, locked_by IS NOT NULL AS expired FROM jobs WHERE {_FREE} AND {_TYPES} "
                "ORDER BY due_at LIMIT :limit FOR UPDATE SKIP LOCKED) UPDATE jobs j SET locked_by = :worker, "
                "lock_expires_at = :until, attempts = j.attempts + 1 FROM c WHERE j.id = c.id RETURNING j.id, j.kind, "
                "j.instance_id, j.wait, j.definition_id, j.element, j.task_type, j.attempts, j.timeout, j.payload, "
                "j.tenant_id, j.traceparent, j.process_key, c.expired"
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
        tasks_only: bool = False,
    ) -> list[ClaimedJob]:
        """Lock up to `limit` due jobs of `task_types` (timers too, unless `tasks_only`: an
        external worker runs service tasks only); with `tenants`, only jobs of those tenants
        and of the shared tenant (a worker token's own work)."""
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
        if tasks_only:
            query = query.replace(_TYPES, _TASKS_OF_TYPES, 1)
        expired = 0
        with self.database.write() as conn:
            rows = fetch(conn, query, params, lists=["types"])
            if self.database.is_sqlite and rows:
                expired = sum(1 for _id, was_locked in rows if was_locked)
                rows = fetch(conn, self._take, {**params, "ids": [row[0] for row in rows]}, lists=["ids"])
        if not self.database.is_sqlite:
            expired = sum(1 for row in rows if row[-1])
        self.metrics.claimed(len(rows), expired)
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
                payload=None if payload is None else self.database.opened(orjson.loads(payload)),
                lock_expires_at=until,
                tenant=tenant,
                traceparent=traceparent,
                process=process,
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
                traceparent,
                process,
                _expired,
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

    def release(self, *, worker: str, job_id: str, announce: JobSignals | None = None) -> bool:
        """Give a claimed job back unrun (a worker shutting down before it started it, an
        external worker's unlock); False if `worker` did not hold it. With `announce`,
        waiting fetches of its type are woken once the job is free."""
        with self.database.write() as conn:
            rows = fetch(
                conn,
                "UPDATE jobs SET locked_by = NULL, lock_expires_at = NULL, attempts = attempts - 1 "
                "WHERE id = :id AND locked_by = :worker RETURNING task_type",
                {"id": job_id, "worker": worker},
            )
            if rows and announce is not None and rows[0][0] is not None:
                announce.announce(conn, [rows[0][0]])
        return bool(rows)

    def extend_one(self, *, worker: str, job_id: str, now: datetime, until: float) -> bool:
        """Extend the lock `worker` holds on a job, if it has not expired yet."""
        with self.database.write() as conn:
            result = conn.execute(
                text(
                    "UPDATE jobs SET lock_expires_at = :until "
                    "WHERE id = :id AND locked_by = :worker AND lock_expires_at >= :now"
                ),
                {"id": job_id, "worker": worker, "until": until, "now": to_epoch(now)},
            )
            return bool(result.rowcount)

    def lock_of(self, job_id: str) -> JobLock | None:
        """Who holds a service task's job and until when, with what a caller must check
        (its type, its tenant); None when no such job is open (done, or never was)."""
        with self.database.read() as conn:
            rows = fetch(
                conn,
                "SELECT instance_id, wait, task_type, tenant_id, locked_by, lock_expires_at, attempts, due_at "
                "FROM jobs WHERE id = :id AND kind = 'task'",
                {"id": job_id},
            )
        if not rows:
            return None
        instance_id, wait, task_type, tenant, locked_by, expires, attempts, due_at = rows[0]
        return JobLock(
            id=job_id,
            instance_id=instance_id,
            wait=wait,
            task_type=task_type,
            tenant=tenant,
            locked_by=locked_by,
            lock_expires_at=expires,
            attempts=attempts,
            held_by_incident=due_at is None,
        )

    def instances_of(self, instance_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """The process key and business key of each instance, for the jobs handed to a worker."""
        if not instance_ids:
            return {}
        with self.database.read() as conn:
            rows = fetch(
                conn,
                "SELECT id, process_key, business_key FROM instances WHERE id IN_LIST(:ids)",
                {"ids": sorted(set(instance_ids))},
                lists=["ids"],
            )
        return {instance_id: (process, business_key) for instance_id, process, business_key in rows}

    def retries_left(self, jobs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """For (instance id, element) of retried jobs: the retries left as an external worker
        last reported them with a failure (Camunda's `retries`), from the history, where the
        engine records them; absent when the worker left it to the model's retry policy."""
        found: dict[tuple[str, str], int] = {}
        with self.database.read() as conn:
            for instance_id, element in sorted(set(jobs)):
                row = conn.execute(
                    text(
                        "SELECT data FROM history WHERE instance_id = :instance_id AND type = 'job_failed' "
                        "AND element = :element ORDER BY seq DESC LIMIT 1"
                    ),
                    {"instance_id": instance_id, "element": element},
                ).first()
                data = None if row is None or row.data is None else self.database.opened(orjson.loads(row.data))
                if isinstance(data, dict) and isinstance(data.get("retries_left"), int):
                    found[(instance_id, element)] = data["retries_left"]
        return found

    def next_change(self, task_types: Sequence[str], tenants: Visible = None) -> float | None:
        """When a service task of these types may next become free: the earliest due time
        of a free one, or lock expiry of a locked one (its worker may have died)."""
        params: dict[str, Any] = {"types": list(task_types) or [""]}
        where = "kind = 'task' AND task_type IN_LIST(:types) AND due_at IS NOT NULL"
        if tenants is not None:
            where += f" AND {visible_clause('tenant_id', tenants, params)}"
        query = (
            "SELECT MIN(CASE WHEN locked_by IS NULL THEN due_at "
            f"WHEN lock_expires_at > due_at THEN lock_expires_at ELSE due_at END) FROM jobs WHERE {where}"
        )
        with self.database.read() as conn:
            [(value,)] = fetch(conn, query, params, lists=["types"])
        return None if value is None else float(value)


@dataclass(frozen=True, kw_only=True, slots=True)
class JobLock:
    id: str
    instance_id: str
    wait: int
    task_type: str
    tenant: str | None
    locked_by: str | None
    lock_expires_at: float | None
    attempts: int
    held_by_incident: bool
