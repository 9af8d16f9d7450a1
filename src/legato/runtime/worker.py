"""The job executor: claims due jobs, runs their handlers, commits results in groups.

One *coordinator* thread does all database work, in a loop:

- commit: it takes every job result queued since its last turn and commits them in one
  transaction (group commit). New jobs those steps create, when they are due now and this
  worker has their handler, are inserted already locked by this worker and start at once,
  with no claim round-trip (`claim_new`);
- claim: when there is free capacity and it was woken (a new job in this process, a clock
  jump) or a poll is due, it claims due jobs. An idle worker sleeps until the next job is
  due, at most `poll_interval` (other processes' jobs are only seen by polling);
- heartbeat: it extends the locks of jobs still running, so a long handler keeps its job,
  while the jobs of a dead worker come free when their locks expire;
- timeouts: a handler past its deadline is reported as a failed attempt (TimeoutError);
  a late result of such an attempt is dropped.

Sync handlers run in a thread pool (its size is the concurrency limit) and hand their
results back through a queue; async handlers run on an event loop in its own thread,
started only if an async handler is registered. No event loop sits on the path of a sync
job, which keeps a three-step instance at a few milliseconds end to end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import queue
import random
import socket
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, cast

from legato.engine.commands import Command, CompleteJob, FailJob, FireTimer, ThrowError
from legato.engine.effects import ScheduleJob
from legato.errors import BpmnError, DatabaseUnavailable
from legato.runtime.clock import Clock, SystemClock
from legato.runtime.decisions import with_builtin_handlers
from legato.runtime.handlers import Handler, Handlers, Job
from legato.runtime.log_setup import log_context
from legato.runtime.log_throttle import LogThrottle
from legato.store import ClaimedJob, CommandItem, Handoff, Outcome, Store
from legato.store.codec import to_epoch
from legato.store.workers import IN_PROCESS, WRITE_EVERY
from legato.telemetry import tracing
from legato.telemetry.tracing import Span

log = logging.getLogger("legato.worker")
jobs_log = logging.getLogger("legato.jobs")  # one line per job failure, retry, incident, recovery

RETRY_SECONDS = 0.5  # how soon a commit or heartbeat that found the database away is tried again
PRUNE_SECONDS = 60.0  # how often the coordinator prunes the change feed
SIGN_SECONDS = WRITE_EVERY  # how often the worker tells the registry of live workers it runs


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkerSettings:
    concurrency: int = 64  # handlers running at once (threads for sync handlers)
    batch_size: int = 256  # jobs per claim, results per commit
    lock_seconds: float = 30.0
    poll_interval: float = 0.5
    shutdown_grace: float = 10.0
    tenants: frozenset[str] | None = None  # run only these tenants' jobs (and the shared ones); None: all
    change_retention: float = 3600.0  # seconds the change feed (live screens) keeps its rows


@dataclass(slots=True)
class _Running:
    job: ClaimedJob
    lock_expires_at: float
    deadline: float | None  # monotonic seconds, for the per-attempt timeout
    timed_out: bool = False


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
        self.clock = clock or SystemClock()
        self.handlers = with_builtin_handlers(handlers, store, self.clock)  # and business rule tasks' decisions
        self.settings = settings or WorkerSettings()
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"
        self.on_commit = on_commit
        self.stats = {"claimed": 0, "handed_off": 0, "completed": 0, "failed": 0, "commits": 0, "stale": 0}
        self._results: queue.SimpleQueue[CommandItem] = queue.SimpleQueue()
        self._handoffs: queue.SimpleQueue[list[Handoff]] = queue.SimpleQueue()
        self._wake = threading.Event()  # anything to do: results, handoffs, a claim request
        self._claim_requested = True  # new due work may exist elsewhere in the database
        self._stop = threading.Event()
        self._running: dict[str, _Running] = {}
        self._timed = 0  # how many running jobs have a timeout: skip deadline scans when none do
        self._pool: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._retry_commit_at = 0.0  # monotonic: after a failed commit, when to try again
        self._throttle = LogThrottle()
        self._signed_at = 0.0  # the clock's epoch of the last sign of life (store/workers.py)
        self.clock.subscribe(self.wake)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="legato-handler")
        if any(self.handlers.get(t).is_async for t in self.handlers.types()):  # type: ignore[union-attr]
            self._start_loop()
        self._accepting = True
        self._sign_of_life(force=True)  # before any start can ask whether its task types are served
        self._thread = threading.Thread(target=self._main, name="legato-worker", daemon=True)
        self._thread.start()
        log.info("worker %s started with handlers %s", self.id, ", ".join(self.handlers.types()) or "-")

    def stop(self) -> None:
        """Graceful stop: no new work; running handlers get `shutdown_grace` to finish."""
        if self._thread is None:
            return
        self._accepting = False
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._loop_thread is not None:
                self._loop_thread.join(timeout=5)
            self._loop = None
        try:
            self.store.workers.gone(self.id)
        except Exception as exc:  # the row ages out of the live set by itself
            log.warning("worker %s could not leave the registry of live workers: %s", self.id, exc)
        log.info("worker %s stopped: %s", self.id, self.stats)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set: for hosting the worker inside an asyncio application."""
        self.start()
        try:
            await stop.wait()
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def _start_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._loop_thread = threading.Thread(target=loop.run_forever, name="legato-async-handlers", daemon=True)
        self._loop_thread.start()

    # -- shared with other threads ---------------------------------------------------------

    def claim_new(self, effect: ScheduleJob) -> tuple[str, float] | None:
        """Take a job being created right now, if it is due and we can run it at once."""
        if not self._accepting or effect.task_type not in self.handlers or self.settings.tenants is not None:
            return None  # a worker kept to some tenants takes only what its claims find
        now = self.clock.now()
        if effect.due > now:
            return None
        if len(self._running) >= 2 * self.settings.concurrency:
            # enough queued here already: the job waits for a claim, ours (asked for here,
            # or it would wait for the next poll) or another worker's
            self._claim_requested = True
            return None
        return self.id, to_epoch(now) + self.settings.lock_seconds

    def accept(self, handoffs: list[Handoff]) -> None:
        """Run jobs handed off by a commit made in another thread of this process."""
        if handoffs:
            self._handoffs.put(handoffs)
            self._wake.set()

    def _nudge(self) -> None:
        """Wake the coordinator for new results; skip the lock when it is awake already."""
        if not self._wake.is_set():
            self._wake.set()

    def wake(self) -> None:
        """Ask for a claim now: jobs were created or time moved (not needed for handoffs)."""
        self._claim_requested = True
        self._wake.set()

    # -- the coordinator -------------------------------------------------------------------

    def _main(self) -> None:
        types = self.handlers.types()
        next_poll = 0.0
        next_heartbeat = time.monotonic() + self.settings.lock_seconds / 3
        next_prune = time.monotonic() + PRUNE_SECONDS
        next_sign = time.monotonic() + SIGN_SECONDS
        stopping_since: float | None = None
        while True:
            self._wake.clear()
            requested, self._claim_requested = self._claim_requested, False
            self._take_handoffs()
            self._commit_results()
            self._check_timeouts()
            monotonic = time.monotonic()
            if monotonic >= next_heartbeat:
                extended = self._heartbeat()
                # After a failure, try again soon: the locks run out while the database is away.
                pause = self.settings.lock_seconds / 3
                next_heartbeat = monotonic + (pause if extended else min(pause, RETRY_SECONDS))
            if monotonic >= next_prune:
                self._prune_changes()
                next_prune = monotonic + PRUNE_SECONDS
            if monotonic >= next_sign or to_epoch(self.clock.now()) - self._signed_at >= SIGN_SECONDS:
                self._sign_of_life()  # also when a test's clock jumped: the worker is live in its time
                next_sign = monotonic + SIGN_SECONDS
            if self._stop.is_set():
                stopping_since = stopping_since or monotonic
                if not self._running or monotonic - stopping_since > self.settings.shutdown_grace:
                    self._commit_results()
                    if self._running:
                        log.warning("%d job(s) still running at shutdown; their locks will expire", len(self._running))
                    return
                self._wake.wait(0.01)
                continue
            free = self.settings.concurrency - len(self._running)
            if free <= 0:
                self._claim_requested = self._claim_requested or requested
            elif requested or monotonic >= next_poll:
                claimed = self._claim(types, min(free, self.settings.batch_size))
                if claimed == min(free, self.settings.batch_size):
                    self._claim_requested = True  # there may be more due work
                    continue
                next_poll = time.monotonic() + self._idle_wait(types)
            if self._results.empty() or time.monotonic() < self._retry_commit_at:
                timeout = max(0.0, next_poll - time.monotonic())
                if not self._results.empty():
                    timeout = min(timeout, max(0.0, self._retry_commit_at - time.monotonic()))
                deadline = self._next_deadline()
                if deadline is not None:
                    timeout = min(timeout, max(0.0, deadline - time.monotonic()))
                self._wake.wait(min(timeout, self.settings.lock_seconds / 3))

    def _sign_of_life(self, *, force: bool = False) -> None:
        """Tell the registry of live workers (store/workers.py) that we run, and what."""
        self._signed_at = to_epoch(self.clock.now())
        try:
            self.store.workers.seen(
                self.id,
                kind=IN_PROCESS,
                task_types=self.handlers.types(),
                now=self._signed_at,
                tenants=self.settings.tenants,
                force=force,
            )
        except Exception as exc:
            self._log_failure("registry", exc, "telling the registry of live workers failed: %s", exc)

    def _prune_changes(self) -> None:
        """Drop change-feed rows past their retention; every worker does it, which is harmless."""
        try:
            self.store.changes.prune(to_epoch(self.clock.now()) - self.settings.change_retention)
        except Exception as exc:
            self._log_failure("prune", exc, "pruning the change feed failed; retrying in %.0f s", PRUNE_SECONDS)

    def _claim(self, types: list[str], limit: int) -> int:
        try:
            claimed = self.store.jobs.claim(
                worker=self.id,
                task_types=types,
                limit=limit,
                now=self.clock.now(),
                lock_seconds=self.settings.lock_seconds,
                tenants=self.settings.tenants,
            )
        except Exception as exc:
            self._log_failure("claim", exc, "claiming jobs failed; retrying every %.1f s", self.settings.poll_interval)
            self._stop.wait(self.settings.poll_interval)
            return 0
        self.stats["claimed"] += len(claimed)
        for job in claimed:
            self._dispatch(job)
        return len(claimed)

    def _idle_wait(self, types: list[str]) -> float:
        """Seconds until the next poll: the next due job, capped by the poll interval."""
        try:
            due = self.store.jobs.next_due(types, self.settings.tenants)
        except Exception:
            return self.settings.poll_interval
        if due is None:
            return self.settings.poll_interval
        return max(0.0, min(self.settings.poll_interval, due - to_epoch(self.clock.now())))

    def _take_handoffs(self) -> None:
        while True:
            try:
                batch = self._handoffs.get_nowait()
            except queue.Empty:
                return
            self._dispatch_handoffs(batch)

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
                    tenant=handoff.tenant,
                    traceparent=handoff.traceparent,
                    process=handoff.process,
                )
            )

    def _dispatch(self, job: ClaimedJob) -> None:
        if job.kind == "timer":
            assert job.instance_id is not None and job.wait is not None
            self._running[job.id] = _Running(job, job.lock_expires_at, None)
            self._results.put(self._item(job, FireTimer(wait=job.wait, actor="timer")))
            return
        if job.kind == "start_timer":
            try:
                self.store.fire_start_timer(job, self.id, self.clock.now())
            except Exception:
                log.exception("timer start event %s failed; it runs again when its lock expires", job.id)
            return
        handler = self.handlers.get(job.task_type or "")
        if handler is None:  # a handoff raced with unregistering: let the lock expire
            return
        timeout = job.timeout or handler.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        self._running[job.id] = _Running(job, job.lock_expires_at, deadline)
        if deadline is not None:
            self._timed += 1
        context = Job(
            id=job.id,
            idempotency_key=job.id,
            instance_id=job.instance_id or "",
            element=job.element,
            task_type=job.task_type or "",
            attempt=job.attempts,
            variables=job.payload or {},
            tenant=job.tenant,
        )
        if handler.is_async:
            assert self._loop is not None
            asyncio.run_coroutine_threadsafe(self._run_async(handler, context, job), self._loop)
        else:
            assert self._pool is not None
            self._pool.submit(self._run_sync, handler, context, job)

    # -- running handlers ------------------------------------------------------------------

    def _run_sync(self, handler: Handler, context: Job, job: ClaimedJob) -> None:
        began = time.perf_counter()
        try:
            with (
                job_span(job) as span,
                log_context(instance_id=job.instance_id, element=job.element, job_id=job.id),
            ):
                # the handler's own log lines carry the job's ids and its span's
                result = handler.function(with_trace(context, span))
            command = self._success(job, result)
        except BaseException as error:
            command = self._failure(job, error)
        self._ran(job, command, began)
        self._results.put(self._item(job, command))
        self._nudge()

    async def _run_async(self, handler: Handler, context: Job, job: ClaimedJob) -> None:
        timeout = job.timeout or handler.timeout
        began = time.perf_counter()
        try:
            with (
                job_span(job) as span,
                log_context(instance_id=job.instance_id, element=job.element, job_id=job.id),
            ):
                call = cast(Awaitable[Any], handler.function(with_trace(context, span)))
                result = await (asyncio.wait_for(call, timeout) if timeout else call)
            command = self._success(job, result)
        except BaseException as error:
            command = self._failure(job, error)
        self._ran(job, command, began)
        self._results.put(self._item(job, command))
        self._nudge()

    def _ran(self, job: ClaimedJob, command: Command, began: float) -> None:
        """Time the handler's run, by how it ended (the job duration histogram)."""
        if isinstance(command, CompleteJob):
            outcome = "completed"
        elif isinstance(command, ThrowError):
            outcome = "bpmn_error"
        else:
            outcome = "timeout" if _is_timeout(command) else "failed"
        self.store.metrics.job(job.task_type or "", job.element, outcome, time.perf_counter() - began)

    def _success(self, job: ClaimedJob, result: Any) -> Command:
        assert job.wait is not None
        if result is not None and not isinstance(result, dict):
            raise TypeError(f"handler for {job.task_type!r} returned {type(result).__name__}, not a dict")
        return CompleteJob(wait=job.wait, variables=result or {}, actor=f"worker:{self.id}")

    def _failure(self, job: ClaimedJob, error: BaseException) -> Command:
        assert job.wait is not None
        actor = f"worker:{self.id}"
        if isinstance(error, BpmnError):
            return ThrowError(
                wait=job.wait, code=error.code, message=error.message, variables=error.variables, actor=actor
            )
        self.stats["failed"] += 1
        # Logged once committed (_log_outcome), with the error's type only: its message and
        # stack may quote variables (sensitive ones too), and go to the incident, where the
        # API masks them (docs/security.md).
        if isinstance(error, TimeoutError):
            message = f"attempt {job.attempts} took longer than its timeout"
        else:
            message = str(error) or type(error).__name__
        return FailJob(
            wait=job.wait,
            attempt=job.attempts,
            error_type=type(error).__name__,
            message=message,
            details="".join(traceback.format_exception(error))[-20000:],
            jitter=random.random(),
            actor=actor,
        )

    def _item(self, job: ClaimedJob, command: Command) -> CommandItem:
        return CommandItem(
            instance_id=job.instance_id or "", command=command, job=job.id, worker=self.id, attempt=job.attempts
        )

    def _check_timeouts(self) -> None:
        if not self._timed:
            return
        now = time.monotonic()
        for running in self._running.values():
            if running.deadline is not None and not running.timed_out and now >= running.deadline:
                running.timed_out = True
                job = running.job
                self.stats["failed"] += 1
                assert job.wait is not None
                self._results.put(
                    self._item(
                        job,
                        FailJob(
                            wait=job.wait,
                            attempt=job.attempts,
                            error_type="TimeoutError",
                            message=f"attempt {job.attempts} took longer than {job.timeout or 'the handler timeout'} s",
                            jitter=random.random(),
                            actor=f"worker:{self.id}",
                        ),
                    )
                )

    def _next_deadline(self) -> float | None:
        if not self._timed:
            return None
        deadlines = [r.deadline for r in self._running.values() if r.deadline is not None and not r.timed_out]
        return min(deadlines) if deadlines else None

    # -- group commit ----------------------------------------------------------------------

    def _commit_results(self) -> None:
        if time.monotonic() < self._retry_commit_at:
            return
        while not self._results.empty():
            batch: list[CommandItem] = []
            while len(batch) < self.settings.batch_size:
                try:
                    item = self._results.get_nowait()
                except queue.Empty:
                    break
                running = self._running.get(item.job or "")
                if running is not None and running.job.attempts != item.attempt:
                    continue  # a late result of an earlier attempt; the store would refuse it too
                if running is not None and running.timed_out and not _is_timeout(item.command):
                    continue  # the late result of an attempt already failed by its timeout
                batch.append(item)
            if batch and not self._commit(batch):
                return

    def _commit(self, batch: list[CommandItem]) -> bool:
        """Commit `batch`; False when the database was unavailable and the results wait for a retry."""
        began = time.perf_counter()
        try:
            outcomes, handoffs = self.store.executor.apply(batch, self.clock.now(), self.claim_new)
        except DatabaseUnavailable as exc:
            # The handlers ran: keep their results (and the jobs' locks, which the heartbeat
            # extends) and commit them when the database answers again, instead of running
            # the jobs a second time after their locks expire.
            self._log_failure(
                "commit", exc, "committing %d job result(s) failed; keeping them to retry: %s", len(batch), exc
            )
            for item in batch:
                self._results.put(item)
            self._retry_commit_at = time.monotonic() + RETRY_SECONDS
            return False
        except Exception as exc:
            self._log_failure(
                "commit", exc, "committing %d job result(s) failed; their jobs run again when locks expire", len(batch)
            )
            for item in batch:
                self._forget(item)
            return True
        self._retry_commit_at = 0.0
        self.stats["commits"] += 1
        self.store.metrics.committed(len(batch), time.perf_counter() - began)
        ended: list[tuple[str, str | None]] = []
        for item, outcome in zip(batch, outcomes, strict=True):
            self._log_outcome(item, outcome)
            self._forget(item)
            if outcome.ok:
                self.stats["completed"] += 1
                if outcome.status != "active":
                    ended.append((item.instance_id, outcome.status))
            else:
                self.stats["stale"] += 1
        self._dispatch_handoffs(handoffs)
        if not handoffs:
            self._claim_requested = True  # the steps may have made jobs someone must claim
        if ended and self.on_commit is not None:
            self.on_commit(ended)
        return True

    def _log_outcome(self, item: CommandItem, outcome: Outcome) -> None:
        """What became of a job attempt, once it is committed: a failure, its retry or incident, a recovery."""
        command = item.command
        running = self._running.get(item.job or "")
        ids = {"instance_id": item.instance_id, "element": running.job.element if running else None, "job_id": item.job}
        if not outcome.ok:
            jobs_log.debug("the result of attempt %s was refused: %s", item.attempt, outcome.error, extra=ids)
        elif isinstance(command, FailJob):
            # The error's type, not its message: that may quote (sensitive) variables; the
            # incident and the history keep it, masked by the API.
            if outcome.incident:
                jobs_log.error(
                    "job failed on attempt %d: %s; no retries left, an incident is open",
                    command.attempt,
                    command.error_type,
                    extra=ids,
                )
            elif outcome.retry_at is not None:
                jobs_log.warning(
                    "job failed on attempt %d: %s; retrying at %s",
                    command.attempt,
                    command.error_type,
                    outcome.retry_at.isoformat(timespec="seconds"),
                    extra=ids,
                )
            else:
                jobs_log.warning("job failed on attempt %d: %s", command.attempt, command.error_type, extra=ids)
        elif isinstance(command, ThrowError):
            jobs_log.info("job threw the BPMN error %s", command.code, extra=ids)
        elif isinstance(command, CompleteJob) and (item.attempt or 1) > 1:
            jobs_log.info("job recovered: attempt %d succeeded after earlier failures", item.attempt, extra=ids)

    def _log_failure(self, kind: str, exc: BaseException, message: str, *args: Any) -> None:
        """One line per kind of failure and interval; a traceback unless the database is just away."""
        suppressed = self._throttle.allow((kind, type(exc).__name__))
        if suppressed is None:
            return
        trace = None if isinstance(exc, DatabaseUnavailable) else exc
        log.error(message + "%s", *args, self._throttle.note(suppressed), exc_info=trace)

    def _forget(self, item: CommandItem) -> None:
        """The result of this attempt is committed (or lost): the job no longer runs here."""
        running = self._running.get(item.job or "")
        if running is not None and running.job.attempts == item.attempt:
            del self._running[item.job or ""]
            if running.deadline is not None:
                self._timed -= 1

    # -- locks -----------------------------------------------------------------------------

    def _heartbeat(self) -> bool:
        """Extend the locks that run out soon; False if the database could not be reached."""
        now = to_epoch(self.clock.now())
        window = 2 * self.settings.lock_seconds / 3
        expiring = [job_id for job_id, r in self._running.items() if r.lock_expires_at - now < window]
        if not expiring:
            return True
        until = now + self.settings.lock_seconds
        try:
            self.store.jobs.extend(worker=self.id, job_ids=expiring, until=until)
        except Exception as exc:
            self._log_failure("heartbeat", exc, "extending %d lock(s) failed: %s", len(expiring), exc)
            return False
        for job_id in expiring:
            running = self._running.get(job_id)
            if running is not None:
                running.lock_expires_at = until
        return True


def job_span(job: ClaimedJob) -> AbstractContextManager[Span]:
    """The span of one job attempt, in its instance's trace (legato.telemetry.tracing)."""
    return tracing.span(
        f"job {job.task_type}",
        parent=job.traceparent,
        kind=tracing.SpanKind.CONSUMER,
        attributes={
            "legato.process": job.process,
            "legato.element": job.element,
            "legato.task_type": job.task_type,
            "legato.instance_id": job.instance_id,
            "legato.attempt": job.attempts,
            "legato.idempotency_key": job.id,
            "legato.tenant": job.tenant,
        },
    )


def with_trace(context: Job, span: Span) -> Job:
    """The handler's view of the job, with the traceparent of its span when there is a trace."""
    traceparent = tracing.traceparent_of(span)
    return context if traceparent is None else dataclasses.replace(context, traceparent=traceparent)


def _is_timeout(command: Command) -> bool:
    return isinstance(command, FailJob) and command.error_type == "TimeoutError"
