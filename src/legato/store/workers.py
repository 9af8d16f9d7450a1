"""The registry of live workers, in the database so that every server agrees.

A job of a task type that no worker runs waits forever, without a word: after a restart
with one's own models and no handlers, new instances stood at their first service task
and nothing said why. So every worker says that it is alive and what it serves:

- the in-process job executor (runtime/worker.py) on start and on its heartbeat, with the
  task types of its handlers, and leaves the registry when it stops;
- an external worker (HTTP fetch-and-lock, runtime/external_tasks.py) each time it
  fetches, with the task types (topics) it asks for, under `external:<worker id>`.

A worker is *live* while its last sign is at most `LIVE_SECONDS` old; one that died
without saying so (killed, its machine gone) falls out of the live set by itself. The
registry answers which of some task types no live worker serves (`unserved`), which the
start answer, an instance's detail, the incident list and the log warn about.

Writes are thinned out (`WRITE_EVERY`): a worker polling many times a second writes its
row once every few seconds, or at once when its task types change. Reads of the served
set are cached for `CACHE_SECONDS`, so a start does not pay a query for its warning.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import text

from legato.store.codec import dumps
from legato.store.database import Database
from legato.store.tenants import Visible, visible_clause

LIVE_SECONDS = 60.0
"""A worker whose last sign is older than this is not live."""
WRITE_EVERY = 10.0
"""Seconds between two writes of the same worker's row when nothing changed."""
CACHE_SECONDS = 2.0
"""How long this process trusts the served task types it read."""
KEEP_SECONDS = 86400.0
"""Rows of workers not seen for this long are removed."""

IN_PROCESS = "in-process"
EXTERNAL = "external"

_UPSERT = (
    "INSERT INTO workers (id, kind, task_types, tenants, host, started_at, last_seen_at) "
    "VALUES (:id, :kind, :task_types, :tenants, :host, :now, :now) "
    "ON CONFLICT (id) DO UPDATE SET kind = :kind, task_types = :task_types, tenants = :tenants, "
    "host = COALESCE(:host, workers.host), last_seen_at = :now"
)


class Workers:
    """Record signs of life and answer which task types are served (module docstring)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._written: dict[str, tuple[float, tuple[str, ...]]] = {}  # worker -> (when written, its types)
        self._served: tuple[float, float, frozenset[str]] | None = None  # (monotonic, as of, types)

    def seen(
        self,
        worker_id: str,
        *,
        kind: str,
        task_types: Iterable[str],
        now: float,
        tenants: Iterable[str] | None = None,
        host: str | None = None,
        force: bool = False,
    ) -> bool:
        """A sign of life of `worker_id` serving `task_types` at `now` (epoch seconds).

        Written when the worker is new here, its types changed, or `WRITE_EVERY` passed
        (`force`: always); True when a row was written."""
        types = tuple(sorted(set(task_types)))
        with self._lock:
            last = self._written.get(worker_id)
            # by the caller's clock, which a test may move: a worker stays live in its time
            if not force and last is not None and last[1] == types and 0 <= now - last[0] < WRITE_EVERY:
                return False
            self._written[worker_id] = (now, types)
            if last is None or last[1] != types:
                self._served = None  # a new worker or new types: the cached set is out of date
        row = {
            "id": worker_id,
            "kind": kind,
            "task_types": dumps(list(types)),
            "tenants": None if tenants is None else dumps(sorted(tenants)),
            "host": host if host is not None else (socket.gethostname() if kind == IN_PROCESS else None),
            "now": now,
        }
        with self.database.write() as conn:
            conn.execute(text(_UPSERT), row)
        return True

    def gone(self, worker_id: str) -> None:
        """The worker stopped: it serves nothing any more."""
        with self._lock:
            self._written.pop(worker_id, None)
            self._served = None
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM workers WHERE id = :id"), {"id": worker_id})

    def registered(self, now: float, *, everyone: bool = False) -> list[dict[str, Any]]:
        """The live workers, last seen first (`everyone`: also those not seen for a while,
        up to `KEEP_SECONDS`), each with its task types, tenants, and whether it is live."""
        since = now - (KEEP_SECONDS if everyone else LIVE_SECONDS)
        with self.database.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, kind, task_types, tenants, host, started_at, last_seen_at FROM workers "
                    "WHERE last_seen_at >= :since ORDER BY last_seen_at DESC, id"
                ),
                {"since": since},
            ).all()
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "task_types": orjson.loads(row.task_types),
                "tenants": None if row.tenants is None else orjson.loads(row.tenants),
                "host": row.host,
                "started_at": float(row.started_at),
                "last_seen_at": float(row.last_seen_at),
                "live": float(row.last_seen_at) >= now - LIVE_SECONDS,
            }
            for row in rows
        ]

    def served(self, now: float) -> frozenset[str]:
        """The task types some live worker serves (cached for `CACHE_SECONDS`)."""
        clock = time.monotonic()
        with self._lock:
            cached = self._served
        if cached is not None and clock - cached[0] < CACHE_SECONDS and abs(now - cached[1]) < CACHE_SECONDS:
            return cached[2]
        with self.database.read() as conn:
            rows = conn.execute(
                text("SELECT task_types FROM workers WHERE last_seen_at >= :since"), {"since": now - LIVE_SECONDS}
            ).all()
        types = frozenset(t for row in rows for t in orjson.loads(row.task_types))
        with self._lock:
            self._served = (clock, now, types)
        return types

    def unserved(self, task_types: Iterable[str | None], now: float) -> list[str]:
        """Those of `task_types` that no live worker serves, sorted (None is a timer: served)."""
        wanted = {t for t in task_types if t}
        if not wanted:
            return []
        return sorted(wanted - self.served(now))

    def waiting(self, now: float, visible: Visible = None) -> list[tuple[str, str]]:
        """(element, task type) of the jobs waiting for a worker whose task type no live
        worker serves, among the tenants `visible` (None: all), one row per pair."""
        params: dict[str, Any] = {}
        where = visible_clause("tenant_id", visible, params)
        with self.database.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT DISTINCT element, task_type FROM jobs WHERE kind = 'task' AND locked_by IS NULL "
                    f"AND due_at IS NOT NULL AND task_type IS NOT NULL AND {where}"
                ),
                params,
            ).all()
        missing = set(self.unserved((row.task_type for row in rows), now))
        return sorted((row.element, row.task_type) for row in rows if row.task_type in missing)

    def prune(self, now: float) -> None:
        """Remove workers not seen for `KEEP_SECONDS`."""
        with self.database.write() as conn:
            conn.execute(text("DELETE FROM workers WHERE last_seen_at < :before"), {"before": now - KEEP_SECONDS})


def unserved_warnings(waiting: Sequence[tuple[str, str]], unserved: Iterable[str]) -> list[dict[str, Any]]:
    """The warnings for jobs (element, task type) whose task type no live worker serves:
    one per task type, naming the elements that wait on it."""
    missing = set(unserved)
    by_type: dict[str, list[str]] = {}
    for element, task_type in waiting:
        if task_type in missing and element not in by_type.setdefault(task_type, []):
            by_type[task_type].append(element)
    return [
        {
            "code": "TASK_TYPE_UNSERVED",
            "task_type": task_type,
            "elements": elements,
            "message": (
                f"no live worker serves task type {task_type!r}: the job at {', '.join(map(repr, elements))} "
                "waits until a worker with a handler for it runs (legato worker --handlers, or an external worker)"
            ),
        }
        for task_type, elements in sorted(by_type.items())
    ]


__all__ = ["EXTERNAL", "IN_PROCESS", "LIVE_SECONDS", "Workers", "unserved_warnings"]
