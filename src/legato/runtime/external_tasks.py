"""External tasks: service-task jobs that workers in other processes fetch, lock and report on.

An external worker (any language, over HTTP; `legato.agent` is ours) does what the
in-process worker (`legato.runtime.worker`) does, one request at a time:

- fetch and lock: claim due jobs of some task types with a lock of its choosing
  (`Jobs.claim(tasks_only=True)`, the same claim the in-process worker makes), waiting up
  to `wait` seconds for one when none is due: woken by `JobSignals` when a commit makes a
  job of those types free (here, or on another server through PostgreSQL NOTIFY), and at
  the earliest moment one may become free anyway (a retry falling due, another worker's
  lock running out) — not by a sleep loop;
- complete, fail, throw a BPMN error: the same engine commands the in-process worker
  commits (`CompleteJob`, `FailJob`, `ThrowError`), through the same executor and its job
  guard, which refuses the report unless this worker still holds the job at this attempt
  with an unexpired lock (`CommandItem.within_lock`). Exactly once: the report that
  completes the job deletes it, so a second report finds no job;
- extend the lock, or give the job back unrun (unlock).

A worker id is the worker's own name for itself; its locks are stored as
`external:<worker id>`, so an external worker can never pose as an in-process one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from legato.engine.commands import Command, CompleteJob, FailJob, ThrowError
from legato.errors import (
    ExternalTaskLockExpired,
    ExternalTaskNotFound,
    ExternalTaskNotLocked,
    InvalidInput,
    StaleCommand,
    TaskTypeDenied,
)
from legato.store import CommandItem
from legato.store.codec import to_epoch
from legato.store.job_signals import ANY
from legato.store.jobs import ClaimedJob, JobLock
from legato.store.tenants import Visible, may_see
from legato.store.variables import check_variables
from legato.store.workers import EXTERNAL
from legato.telemetry import tracing

if TYPE_CHECKING:
    from legato.runtime.app import Legato

WORKER_PREFIX = "external:"
MAX_LOCK_SECONDS = 7 * 86400.0
MAX_WAIT_SECONDS = 300.0
MAX_TASKS = 1000
RECHECK_SECONDS = 1.0
"""How often a waiting fetch looks again when commits of other processes cannot wake it
(SQLite shared by several processes; PostgreSQL while its LISTEN connection is down)."""
QUIET_RECHECK_SECONDS = 30.0
"""The same, when every commit that matters does wake it: only a safety net."""
_WORKER_ID = re.compile(r"[^\x00-\x1f\x7f]{1,128}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Topic:
    """A task type a worker fetches, and how long it locks each job of it."""

    task_type: str
    lock_seconds: float


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedTask:
    """A job fetched and locked by an external worker: what its handler needs."""

    id: str
    idempotency_key: str
    """Stable across retries of this job: pass it on (an `Idempotency-Key` header) so a
    side effect repeated by a second delivery happens once."""
    task_type: str
    instance_id: str
    process: str | None
    business_key: str | None
    element: str
    attempt: int
    variables: dict[str, Any]
    tenant: str | None
    worker_id: str
    lock_expires_at: datetime
    definition_id: int | None = None  # the stored definition the job's instance runs
    retries: int | None = None
    """Retries left as this worker's last failure report set them (Camunda's `retries`);
    None: the model's retry policy decides."""
    traceparent: str | None = None
    """The span of this delivery, in the instance's trace (legato.telemetry.tracing)."""


class ExternalTasks:
    """The external-task operations of one `Legato` (`legato.external_tasks`)."""

    def __init__(self, legato: Legato) -> None:
        self.legato = legato
        self.store = legato.store
        self._closing = False

    def stop_waiting(self) -> None:
        """Answer every waiting fetch now (empty) and every later one at once: the server is
        shutting down, and must not wait out long polls before it can stop."""
        self._closing = True
        self.store.job_signals.fire([ANY])

    # -- fetch and lock --------------------------------------------------------------------

    def fetch(
        self, worker_id: str, topics: Sequence[Topic], max_tasks: int, *, visible: Visible = None
    ) -> list[LockedTask]:
        """Lock up to `max_tasks` due jobs of the topics' task types now (no waiting)."""
        held = _worker_key(worker_id)
        _check_fetch(topics, max_tasks)
        now = self.legato.clock.now()
        # a sign of life for the registry of live workers: these task types are served
        self.store.workers.seen(
            held,
            kind=EXTERNAL,
            task_types=[topic.task_type for topic in topics],
            now=to_epoch(now),
            tenants=visible,
        )
        claimed: list[tuple[ClaimedJob, str]] = []
        by_lock: dict[float, list[str]] = {}
        for topic in topics:
            by_lock.setdefault(topic.lock_seconds, []).append(topic.task_type)
        for lock_seconds, types in by_lock.items():
            room = max_tasks - len(claimed)
            if room <= 0:
                break
            jobs = self.store.jobs.claim(
                worker=held,
                task_types=types,
                limit=room,
                now=now,
                lock_seconds=lock_seconds,
                tenants=visible,
                tasks_only=True,
            )
            claimed.extend((job, worker_id) for job in jobs)
        if not claimed:
            return []
        instances = self.store.jobs.instances_of([job.instance_id or "" for job, _ in claimed])
        retried = [(job.instance_id, job.element) for job, _ in claimed if job.attempts > 0 and job.instance_id]
        retries = self.store.jobs.retries_left(retried) if retried else {}
        return [
            _locked(
                job,
                worker,
                instances.get(job.instance_id or "", (None, None)),
                retries.get((job.instance_id or "", job.element)),
            )
            for job, worker in claimed
        ]

    async def fetch_waiting(
        self,
        worker_id: str,
        topics: Sequence[Topic],
        max_tasks: int,
        *,
        wait: float,
        visible: Visible = None,
    ) -> list[LockedTask]:
        """`fetch`, waiting up to `wait` seconds for work when none is due: a long poll.

        The listener is registered before the first claim, so a job committed between
        that claim and the wait still wakes it.
        """
        _worker_key(worker_id)
        _check_fetch(topics, max_tasks)
        if not 0 <= wait <= MAX_WAIT_SECONDS:
            raise InvalidInput(
                f"the wait must be between 0 and {MAX_WAIT_SECONDS:g} seconds", details={"field": "wait"}
            )
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        types = sorted({topic.task_type for topic in topics})
        signals = self.store.job_signals

        def wake() -> None:  # from whichever thread committed
            loop.call_soon_threadsafe(woken.set)

        handle = signals.listen(types, wake)
        deadline = time.monotonic() + wait
        try:
            while True:
                woken.clear()
                if self._closing:
                    return []
                tasks = await asyncio.to_thread(self.fetch, worker_id, topics, max_tasks, visible=visible)
                left = deadline - time.monotonic()
                if tasks or left <= 0 or self._closing:
                    return tasks
                pause = min(left, self._recheck_after())
                upcoming = await asyncio.to_thread(self.store.jobs.next_change, types, visible)
                if upcoming is not None:
                    # at least a moment: a job that is due but not claimable must not spin us
                    pause = min(pause, max(0.01, upcoming - to_epoch(self.legato.clock.now())))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), pause)
        finally:
            signals.unlisten(handle)

    def _recheck_after(self) -> float:
        """How long a waiting fetch may trust the signals before it looks again by itself."""
        signals = self.store.job_signals
        shared = self.store.database.is_sqlite or not signals.cross_process
        return RECHECK_SECONDS if shared else QUIET_RECHECK_SECONDS

    # -- reports ---------------------------------------------------------------------------

    def complete(
        self,
        task_id: str,
        worker_id: str,
        variables: Mapping[str, Any] | None = None,
        *,
        visible: Visible = None,
        may_work_on: Callable[[str], bool] | None = None,
    ) -> None:
        """The handler succeeded: its variables go into the instance, the instance moves on."""
        checked = check_variables(dict(variables) if variables is not None else None, where="task completion")
        lock = self._held(task_id, worker_id, visible, may_work_on)
        self._report(lock, worker_id, CompleteJob(wait=lock.wait, variables=checked, actor=_actor(worker_id)))

    def fail(
        self,
        task_id: str,
        worker_id: str,
        *,
        error_message: str,
        error_details: str | None = None,
        error_type: str = "ExternalTaskFailure",
        retries: int | None = None,
        retry_timeout: float | None = None,
        visible: Visible = None,
        may_work_on: Callable[[str], bool] | None = None,
    ) -> None:
        """A technical failure. Without `retries`, the task's retry policy decides, as for an
        in-process handler; with it, the worker does: that many retries left (0: an
        incident now), the next one after `retry_timeout` seconds (default: the policy's
        backoff)."""
        if retries is not None and retries < 0:
            raise InvalidInput("retries must be 0 or more", details={"field": "retries"})
        if retry_timeout is not None and not 0 <= retry_timeout <= MAX_LOCK_SECONDS:
            raise InvalidInput(
                f"retry_timeout must be between 0 and {MAX_LOCK_SECONDS:g} seconds", details={"field": "retry_timeout"}
            )
        lock = self._held(task_id, worker_id, visible, may_work_on)
        command = FailJob(
            wait=lock.wait,
            attempt=lock.attempts,
            error_type=error_type,
            message=error_message[:4000] or error_type,
            details=None if error_details is None else error_details[-20000:],
            jitter=random.random(),
            retries=retries,
            retry_in=retry_timeout,
            actor=_actor(worker_id),
        )
        self._report(lock, worker_id, command)

    def bpmn_error(
        self,
        task_id: str,
        worker_id: str,
        *,
        code: str,
        message: str | None = None,
        variables: Mapping[str, Any] | None = None,
        visible: Visible = None,
        may_work_on: Callable[[str], bool] | None = None,
    ) -> None:
        """A business error: an error boundary event or event subprocess catching `code`
        takes over, as when an in-process handler raises `BpmnError` (uncaught: an incident)."""
        if not code:
            raise InvalidInput("a BPMN error needs a code", details={"field": "code"})
        checked = check_variables(dict(variables) if variables is not None else None, where="BPMN error")
        lock = self._held(task_id, worker_id, visible, may_work_on)
        command = ThrowError(wait=lock.wait, code=code, message=message, variables=checked, actor=_actor(worker_id))
        self._report(lock, worker_id, command)

    def extend_lock(
        self,
        task_id: str,
        worker_id: str,
        lock_seconds: float,
        *,
        visible: Visible = None,
        may_work_on: Callable[[str], bool] | None = None,
    ) -> datetime:
        """Keep the job `lock_seconds` more from now (a long handler); returns the new expiry."""
        _check_lock(lock_seconds, "lock_duration")
        lock = self._held(task_id, worker_id, visible, may_work_on)
        now = self.legato.clock.now()
        until = to_epoch(now) + lock_seconds
        if not self.store.jobs.extend_one(worker=_worker_key(worker_id), job_id=lock.id, now=now, until=until):
            raise self._lost(task_id, worker_id)
        return datetime.fromtimestamp(until, UTC)

    def unlock(
        self,
        task_id: str,
        worker_id: str,
        *,
        visible: Visible = None,
        may_work_on: Callable[[str], bool] | None = None,
    ) -> None:
        """Give the job back unrun: free at once for any worker, this attempt not counted."""
        lock = self._held(task_id, worker_id, visible, may_work_on, allow_expired=True)
        if not self.store.jobs.release(worker=_worker_key(worker_id), job_id=lock.id, announce=self.store.job_signals):
            raise self._lost(task_id, worker_id)

    def holder(self, task_id: str, *, visible: Visible = None, may_work_on: Callable[[str], bool] | None = None) -> str:
        """The worker id that holds a task's lock (Camunda's unlock names no worker): 404 for
        a task the caller cannot see, 403 for a type it may not work on, 409 when no external
        worker holds it."""
        lock = self.store.jobs.lock_of(task_id) if isinstance(task_id, str) and len(task_id) <= 300 else None
        if lock is None or not may_see(visible, lock.tenant):
            raise ExternalTaskNotFound(f"no open external task {task_id!r}", details={"task_id": task_id})
        if may_work_on is not None and not may_work_on(lock.task_type):
            raise TaskTypeDenied(lock.task_type, who="the caller")
        if not lock.locked_by or not lock.locked_by.startswith(WORKER_PREFIX):
            raise ExternalTaskNotLocked(
                f"external task {task_id!r} is not locked by an external worker", details={"task_id": task_id}
            )
        return lock.locked_by.removeprefix(WORKER_PREFIX)

    # -- internals -------------------------------------------------------------------------

    def _held(
        self,
        task_id: str,
        worker_id: str,
        visible: Visible,
        may_work_on: Callable[[str], bool] | None,
        *,
        allow_expired: bool = False,
    ) -> JobLock:
        """The job, checked: visible to the caller (else 404), of a type it may work on
        (else 403), locked by this worker id (else 409) with a lock that has not expired."""
        held = _worker_key(worker_id)
        lock = self.store.jobs.lock_of(task_id) if isinstance(task_id, str) and len(task_id) <= 300 else None
        if lock is None or not may_see(visible, lock.tenant):
            raise ExternalTaskNotFound(f"no open external task {task_id!r}", details={"task_id": task_id})
        if may_work_on is not None and not may_work_on(lock.task_type):
            raise TaskTypeDenied(lock.task_type, who=f"worker {worker_id!r}")
        if lock.locked_by != held:
            raise ExternalTaskNotLocked(
                f"external task {task_id!r} is not locked by worker {worker_id!r}",
                details={"task_id": task_id, "worker_id": worker_id},
            )
        expires = lock.lock_expires_at
        if not allow_expired and (expires is None or expires < to_epoch(self.legato.clock.now())):
            raise ExternalTaskLockExpired(
                f"the lock of worker {worker_id!r} on external task {task_id!r} has expired; "
                "the task may be running elsewhere now",
                details={"task_id": task_id, "worker_id": worker_id},
            )
        return lock

    def _report(self, lock: JobLock, worker_id: str, command: Command) -> None:
        item = CommandItem(
            instance_id=lock.instance_id,
            command=command,
            job=lock.id,
            worker=_worker_key(worker_id),
            attempt=lock.attempts,
            within_lock=True,
        )
        legato = self.legato
        outcomes, handoffs = self.store.executor.apply([item], legato.clock.now(), legato._claim_new)
        legato._handoff(started_handoffs=handoffs)
        outcome = outcomes[0]
        if outcome.ok:
            if outcome.status not in (None, "active"):
                legato._note_ended([(lock.instance_id, outcome.status)])
            return
        if isinstance(outcome.error, StaleCommand):
            raise self._lost(lock.id, worker_id)  # lost a race since _held: say to what
        assert outcome.error is not None
        raise outcome.error

    def _lost(self, task_id: str, worker_id: str) -> Exception:
        """Why a report that passed `_held` was refused after all: what the job looks like now."""
        lock = self.store.jobs.lock_of(task_id)
        if lock is None:
            return ExternalTaskNotFound(f"no open external task {task_id!r}", details={"task_id": task_id})
        if lock.locked_by != _worker_key(worker_id) or lock.held_by_incident:
            return ExternalTaskNotLocked(
                f"external task {task_id!r} is not locked by worker {worker_id!r}",
                details={"task_id": task_id, "worker_id": worker_id},
            )
        return ExternalTaskLockExpired(
            f"the lock of worker {worker_id!r} on external task {task_id!r} has expired",
            details={"task_id": task_id, "worker_id": worker_id},
        )


def _worker_key(worker_id: str) -> str:
    if not isinstance(worker_id, str) or not _WORKER_ID.fullmatch(worker_id):
        raise InvalidInput(
            "worker_id must be 1-128 characters without control characters", details={"field": "worker_id"}
        )
    return WORKER_PREFIX + worker_id


def _actor(worker_id: str) -> str:
    return f"worker:{WORKER_PREFIX}{worker_id}"


def _check_lock(seconds: float, field: str) -> None:
    if not 0 < seconds <= MAX_LOCK_SECONDS:
        raise InvalidInput(
            f"{field} must be more than 0 and at most {MAX_LOCK_SECONDS:g} seconds", details={"field": field}
        )


def _check_fetch(topics: Sequence[Topic], max_tasks: int) -> None:
    if not 1 <= max_tasks <= MAX_TASKS:
        raise InvalidInput(f"max_tasks must be between 1 and {MAX_TASKS}", details={"field": "max_tasks"})
    if not topics:
        raise InvalidInput("name at least one topic (a task type) to fetch", details={"field": "topics"})
    seen: set[str] = set()
    for index, topic in enumerate(topics):
        if not topic.task_type or topic.task_type in seen:
            raise InvalidInput("each topic names a task type, once", details={"field": f"topics/{index}/task_type"})
        seen.add(topic.task_type)
        _check_lock(topic.lock_seconds, f"topics/{index}/lock_duration")


def _delivered(job: ClaimedJob, process: str | None) -> str | None:
    """A span for handing the job to an external worker, in its instance's trace; its traceparent
    is what the worker's own spans continue (None when the instance keeps no trace)."""
    attributes = {
        "legato.process": process,
        "legato.element": job.element,
        "legato.task_type": job.task_type,
        "legato.instance_id": job.instance_id,
        "legato.attempt": job.attempts,
        "legato.idempotency_key": job.id,
    }
    with tracing.span(
        f"external job {job.task_type}", parent=job.traceparent, kind=tracing.SpanKind.PRODUCER, attributes=attributes
    ) as delivered:
        return tracing.traceparent_of(delivered)


def _locked(
    job: ClaimedJob, worker_id: str, instance: tuple[str | None, str | None], retries: int | None
) -> LockedTask:
    return LockedTask(
        id=job.id,
        idempotency_key=job.id,  # the in-process worker's too: runtime/worker.py
        traceparent=_delivered(job, instance[0]),
        task_type=job.task_type or "",
        instance_id=job.instance_id or "",
        process=instance[0],
        business_key=instance[1],
        element=job.element,
        attempt=job.attempts,
        variables=job.payload or {},
        tenant=job.tenant,
        worker_id=worker_id,
        lock_expires_at=datetime.fromtimestamp(job.lock_expires_at, UTC),
        definition_id=job.definition_id,
        retries=retries,
    )


__all__ = ["ExternalTasks", "LockedTask", "Topic"]
