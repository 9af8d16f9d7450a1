"""The job executor: claims due jobs, runs their handlers, commits results in groups.

Three loops share one asyncio event loop:

- *acquire*: claims up to the free capacity in due jobs, then sleeps until woken (a new
  job in this process, a clock jump) or until the next job falls due, at most
  `poll_interval` (other processes' jobs are only seen by polling);
- *commit*: takes every finished job result that has queued up and commits them in one
  transaction (group commit); new jobs those steps create, when they are due now and
  this worker has their handler, are inserted already locked by this worker and run at
  once, with no claim round-trip (`claim_new`);
- *heartbeat*: extends the locks of jobs still running, so a long handler keeps its job,
  while the jobs of a dead worker come free when their locks expire.

Database calls run on one dedicated thread: they are short, and a single writer thread
is what SQLite wants anyway. Sync handlers run in a thread pool, async ones on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from legato.engine.commands import CompleteJob, FailJob, FireTimer, ThrowError
from legato.engine.effects import ScheduleJob
from legato.errors import BpmnError
from legato.runtime.clock import Clock, SystemClock
from legato.runtime.handlers import Handlers, Job
from legato.store import ClaimedJob, CommandItem, Handoff, Store
from legato.store.codec import to_epoch

log = logging.getLogger("legato.worker")


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkerSettings:
    concurrency: int = 64
    batch_size: int = 256
    lock_seconds: float = 30.0
    poll_interval: float = 0.5
    shutdown_grace: float = 10.0
    handler_threads: int = 16


class Worker:
    def __init__(
        self,
        store: Store,
        handlers: Handlers,
        *,
        clock: Clock | None = None,
        settings: WorkerSettings | None = None,
        worker_id: str | None = None,
        on_commit: Callable[[list[tuple[str, str | None]]], None] | None = None,
    ) -> None:
        self.store = store
        self.handlers = handlers
        self.clock = clock or SystemClock()
        self.settings = settings or WorkerSettings()
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"
        self.on_commit = on_commit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._results: asyncio.Queue[CommandItem] | None = None
        self._db = ThreadPoolExecutor(1, thread_name_prefix="legato-db")
        self._pool = ThreadPoolExecutor(self.settings.handler_threads, thread_name_prefix="legato-handler")
        self._in_flight: dict[str, float] = {}  # job id -> lock expiry
        self._slots: asyncio.Semaphore | None = None
        self._stopping = False
        self.stats = {"claimed": 0, "handed_off": 0, "completed": 0, "failed": 0, "commits": 0, "stale": 0}
        self.clock.subscribe(self.wake)

    # -- capacity shared with other threads (handoffs) -------------------------------------

    def claim_new(self, effect: ScheduleJob) -> tuple[str, float] | None:
        """Take a job being created right now, if it is due and we can run it at once."""
        if self._stopping or self._loop is None or effect.task_type not in self.handlers:
            return None
        if effect.due > self.clock.now():
            return None
        if len(self._in_flight) >= 2 * self.settings.concurrency:
            return None  # enough queued here already; let the job wait for any worker
        return self.id, to_epoch(self.clock.now()) + self.settings.lock_seconds

    def accept(self, handoffs: list[Handoff]) -> None:
        """Run jobs handed off by a commit made in another thread of this process."""
        loop = self._loop
        if not handoffs or loop is None:
            return
        loop.call_soon_threadsafe(self._dispatch_handoffs, handoffs)

    def wake(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    # -- main ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._results = asyncio.Queue()
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        log.info("worker %s started with handlers %s", self.id, ", ".join(self.handlers.types()) or "-")
        tasks = [
            asyncio.create_task(self._acquire_loop(stop)),
            asyncio.create_task(self._commit_loop()),
            asyncio.create_task(self._heartbeat_loop(stop)),
        ]
        await stop.wait()
        self._stopping = True
        self.wake()
        await self._drain()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._db.shutdown(wait=True)
        log.info("worker %s stopped: %s", self.id, self.stats)

    async def _drain(self) -> None:
        """Graceful shutdown: let running handlers finish (up to the grace period), commit."""
        deadline = time.monotonic() + self.settings.shutdown_grace
        assert self._results is not None
        while (self._in_flight or not self._results.empty()) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._in_flight:
            log.warning("%d job(s) still running at shutdown; their locks will expire", len(self._in_flight))

    async def _db_call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, lambda: function(*args, **kwargs))

    # -- acquire ---------------------------------------------------------------------------

    async def _acquire_loop(self, stop: asyncio.Event) -> None:
        assert self._wake is not None
        types = self.handlers.types()
        while not stop.is_set():
            self._wake.clear()
            free = self.settings.concurrency - len(self._in_flight)
            claimed: list[ClaimedJob] = []
            if free > 0:
                try:
                    claimed = await self._db_call(
                        self.store.jobs.claim,
                        worker=self.id,
                        task_types=types,
                        limit=min(free, self.settings.batch_size),
                        now=self.clock.now(),
                        lock_seconds=self.settings.lock_seconds,
                    )
                except Exception:
                    log.exception("claiming jobs failed; retrying")
                    await asyncio.sleep(self.settings.poll_interval)
                    continue
                self.stats["claimed"] += len(claimed)
                for job in claimed:
                    self._dispatch(job)
            if claimed and len(claimed) >= min(free, self.settings.batch_size):
                continue  # there may be more due work
            await self._sleep_until_due(types, stop)

    async def _sleep_until_due(self, types: list[str], stop: asyncio.Event) -> None:
        assert self._wake is not None
        timeout = self.settings.poll_interval
        try:
            due = await self._db_call(self.store.jobs.next_due, types)
        except Exception:
            due = None
        if due is not None:
            timeout = max(0.0, min(timeout, due - to_epoch(self.clock.now())))
        if timeout > 0 and not stop.is_set():
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _dispatch_handoffs(self, handoffs: list[Handoff]) -> None:
        for handoff in handoffs:
            self.stats["handed_off"] += 1
            self._dispatch(
                ClaimedJob(
                    id=handoff.id,
                    kind="task",
                    instance_id=handoff.instance_id,
                    wait=handoff.wait,
                    definition_id=None,
                    element=handoff.element,
                    task_type=handoff.task_type,
                    attempts=1,
                    timeout=handoff.timeout,
                    payload=handoff.payload,
                    lock_expires_at=handoff.lock_expires_at,
                )
            )

    def _dispatch(self, job: ClaimedJob) -> None:
        self._in_flight[job.id] = job.lock_expires_at
        if job.kind == "task":
            asyncio.create_task(self._run_task(job))
        elif job.kind == "timer":
            assert job.instance_id is not None and job.wait is not None
            self._finish(job, FireTimer(wait=job.wait, actor="timer"))
        else:
            asyncio.create_task(self._fire_start_timer(job))

    async def _fire_start_timer(self, job: ClaimedJob) -> None:
        try:
            await self._db_call(self.store.fire_start_timer, job, self.id, self.clock.now())
        except Exception:
            log.exception("timer start event %s failed", job.id)
        finally:
            self._in_flight.pop(job.id, None)

    # -- running handlers ------------------------------------------------------------------

    async def _run_task(self, job: ClaimedJob) -> None:
        assert job.instance_id is not None and job.wait is not None and job.task_type is not None
        handler = self.handlers.get(job.task_type)
        if handler is None:  # only possible for a handoff raced with unregistering
            self._in_flight.pop(job.id, None)
            return
        context = Job(
            id=job.id,
            idempotency_key=job.id,
            instance_id=job.instance_id,
            element=job.element,
            task_type=job.task_type,
            attempt=job.attempts,
            variables=job.payload or {},
        )
        timeout = job.timeout or handler.timeout
        actor = f"worker:{self.id}"
        assert self._slots is not None
        async with self._slots:  # the hard limit on handlers running at once
            command = await self._call(handler, context, timeout, job, actor)
        self._finish(job, command)

    async def _call(self, handler: Any, context: Job, timeout: float | None, job: ClaimedJob, actor: str) -> Any:
        assert job.wait is not None
        try:
            if handler.is_async:
                call = handler.function(context)
            else:
                call = asyncio.get_running_loop().run_in_executor(self._pool, handler.function, context)
            result = await (asyncio.wait_for(call, timeout) if timeout else call)  # type: ignore[arg-type]
            if result is not None and not isinstance(result, dict):
                raise TypeError(f"handler for {job.task_type!r} returned {type(result).__name__}, not a dict")
            command: Any = CompleteJob(wait=job.wait, variables=result or {}, actor=actor)
        except BpmnError as error:
            command = ThrowError(
                wait=job.wait, code=error.code, message=error.message, variables=error.variables, actor=actor
            )
        except TimeoutError:
            self.stats["failed"] += 1
            command = FailJob(
                wait=job.wait,
                attempt=job.attempts,
                error_type="TimeoutError",
                message=f"attempt {job.attempts} took longer than {timeout} s",
                jitter=random.random(),
                actor=actor,
            )
        except Exception as error:
            self.stats["failed"] += 1
            command = FailJob(
                wait=job.wait,
                attempt=job.attempts,
                error_type=type(error).__name__,
                message=str(error) or type(error).__name__,
                details="".join(traceback.format_exception(error))[-20000:],
                jitter=random.random(),
                actor=actor,
            )
        return command

    def _finish(self, job: ClaimedJob, command: Any) -> None:
        assert self._results is not None and job.instance_id is not None
        self._results.put_nowait(
            CommandItem(instance_id=job.instance_id, command=command, job=job.id, worker=self.id)
        )

    # -- group commit ----------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        assert self._results is not None
        while True:
            first = await self._results.get()
            batch = [first]
            while len(batch) < self.settings.batch_size and not self._results.empty():
                batch.append(self._results.get_nowait())
            try:
                outcomes, handoffs = await self._db_call(
                    self.store.executor.apply, batch, self.clock.now(), self.claim_new
                )
            except Exception:
                log.exception("committing %d job results failed; their jobs run again when locks expire", len(batch))
                for item in batch:
                    self._in_flight.pop(item.job or "", None)
                continue
            self.stats["commits"] += 1
            ended: list[tuple[str, str | None]] = []
            for item, outcome in zip(batch, outcomes, strict=True):
                self._in_flight.pop(item.job or "", None)
                if outcome.ok:
                    self.stats["completed"] += 1
                    if outcome.status != "active":
                        ended.append((item.instance_id, outcome.status))
                else:
                    self.stats["stale"] += 1
            self._dispatch_handoffs(handoffs)
            if ended and self.on_commit is not None:
                self.on_commit(ended)
            if not handoffs:
                self.wake()

    # -- locks -----------------------------------------------------------------------------

    async def _heartbeat_loop(self, stop: asyncio.Event) -> None:
        interval = self.settings.lock_seconds / 3
        while not stop.is_set():
            await asyncio.sleep(interval)
            now = to_epoch(self.clock.now())
            expiring = [job for job, expiry in self._in_flight.items() if expiry - now < 2 * interval]
            if not expiring:
                continue
            until = now + self.settings.lock_seconds
            try:
                await self._db_call(self.store.jobs.extend, worker=self.id, job_ids=expiring, until=until)
            except Exception:
                log.exception("extending %d lock(s) failed", len(expiring))
                continue
            for job in expiring:
                if job in self._in_flight:
                    self._in_flight[job] = until
