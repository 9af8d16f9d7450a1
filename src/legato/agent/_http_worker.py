"""`HttpWorker`: run task handlers on a machine that reaches Legato only over HTTP(S).

The hub-and-spoke agent: it opens no port and holds no database credentials, only a
worker token (`legato tokens create --kind worker`). It loops:

- fetch and lock (`POST /api/v1/external-tasks/fetch-and-lock`) with a long poll, asking
  for no more tasks than it has free handler slots;
- run each task's handler in a thread pool with the same `Job` an in-process handler
  gets (`legato.runtime.handlers`), `async def` handlers on an event loop of their own;
- report: complete with the returned variables, a `BpmnError` as a BPMN error, any
  other exception as a failure (the task's retry policy then decides, as in-process);
- extend the locks of handlers still running, every third of the lock duration, so a
  long handler keeps its task while the tasks of a dead agent come free when their
  locks expire (then another agent takes them, with the same idempotency key);
- a handler past its timeout is reported as failed (`TimeoutError`); its late result is
  dropped.

`stop()` (the CLI calls it on SIGTERM) stops fetching, lets running handlers finish for
`shutdown_grace` seconds and reports them; tasks fetched but not started are unlocked.
A report the server refuses because the lock was lost (409, 404) is logged and
dropped: the task is someone else's now. A report that cannot reach the server is
retried until the task's lock would have expired.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import threading
import time
import traceback
from collections.abc import Awaitable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from legato.errors import BpmnError
from legato.runtime.handlers import Handler, Handlers, Job

log = logging.getLogger("legato.agent")

API = "/api/v1/external-tasks"
USER_AGENT = "legato-agent"
_LOST = {404, 409}  # the task is done or someone else's: nothing to retry


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentSettings:
    concurrency: int = 8  # handlers running at once
    max_tasks: int = 10  # tasks per fetch, at most
    lock_seconds: float = 30.0
    long_poll: float = 20.0  # seconds a fetch waits on the server for work
    shutdown_grace: float = 10.0
    request_timeout: float = 10.0  # for everything but the long poll (which adds its wait)
    retry_pause: float = 1.0  # after a fetch that failed (server away), then doubling up to 30 s


@dataclass(slots=True)
class _Running:
    task: dict[str, Any]
    lock_expires_at: float  # monotonic
    deadline: float | None  # monotonic, from the handler's timeout
    done: bool = False
    lost: bool = False


@dataclass
class AgentStats:
    fetched: int = 0
    completed: int = 0
    failed: int = 0
    bpmn_errors: int = 0
    refused: int = 0  # reports the server refused: the lock was lost
    extended: int = 0
    errors: list[str] = field(default_factory=list)


class HttpWorker:
    """Fetch tasks of `handlers`' task types from the Legato server at `server` and run them."""

    def __init__(
        self,
        server: str,
        token: str,
        handlers: Handlers,
        *,
        worker_id: str | None = None,
        settings: AgentSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not handlers.types():
            raise ValueError("an agent needs at least one handler")
        self.handlers = handlers
        self.settings = settings or AgentSettings()
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(32):08x}"
        self.stats = AgentStats()
        self._client = httpx.Client(
            base_url=server.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            timeout=self.settings.request_timeout,
            transport=transport,
        )
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._slots = threading.Semaphore(self.settings.concurrency)
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="legato-agent-handler")
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- life cycle ------------------------------------------------------------------------

    def run(self) -> None:
        """Fetch and run tasks until `stop()`; then drain and return."""
        if any(self.handlers.get(t).is_async for t in self.handlers.types()):  # type: ignore[union-attr]
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, name="legato-agent-async", daemon=True).start()
        heart = threading.Thread(target=self._heartbeat, name="legato-agent-locks", daemon=True)
        heart.start()
        log.info("agent %s fetching %s", self.id, ", ".join(self.handlers.types()))
        pause = self.settings.retry_pause
        try:
            while not self._stop.is_set():
                free = self._take_slots()
                if not free:
                    continue
                try:
                    tasks = self._fetch(free)
                except (httpx.HTTPError, _Refused) as exc:
                    self._release_slots(free)
                    log.warning("fetching tasks failed (%s); trying again in %.1f s", exc, pause)
                    self._stop.wait(pause)
                    pause = min(pause * 2, 30.0)
                    continue
                pause = self.settings.retry_pause
                self._release_slots(free - len(tasks))
                for task in tasks:
                    if self._stop.is_set():  # fetched while stopping: give it back at once
                        self._unlock(task)
                        self._release_slots(1)
                    else:
                        self._start(task)
        finally:
            self._drain()
            self._stop.set()
            self._finished.set()
            heart.join(timeout=5)
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._client.close()
            log.info("agent %s stopped: %s", self.id, self.stats)

    def stop(self) -> None:
        """Stop fetching; `run()` returns once running handlers finished (or the grace ran out)."""
        self._stop.set()

    # -- fetching ---------------------------------------------------------------------------

    def _take_slots(self) -> int:
        """Wait for a free handler slot, then take every free one (at most max_tasks)."""
        if not self._slots.acquire(timeout=0.5):
            return 0
        taken = 1
        while taken < self.settings.max_tasks and self._slots.acquire(blocking=False):
            taken += 1
        return taken

    def _release_slots(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    def _fetch(self, limit: int) -> list[dict[str, Any]]:
        body = {
            "worker_id": self.id,
            "max_tasks": limit,
            "topics": [{"task_type": t, "lock_duration": self.settings.lock_seconds} for t in self.handlers.types()],
            "async_response_timeout": self.settings.long_poll,
        }
        response = self._client.post(
            f"{API}/fetch-and-lock", json=body, timeout=self.settings.request_timeout + self.settings.long_poll
        )
        if response.status_code != 200:
            raise _Refused(response)
        tasks = cast(list[dict[str, Any]], response.json())
        self.stats.fetched += len(tasks)
        return tasks

    # -- running handlers ------------------------------------------------------------------

    def _start(self, task: dict[str, Any]) -> None:
        handler = self.handlers.get(task["task_type"])
        assert handler is not None  # we fetched only our types
        now = time.monotonic()
        running = _Running(
            task=task,
            lock_expires_at=now + self.settings.lock_seconds,
            deadline=None if handler.timeout is None else now + handler.timeout,
        )
        with self._lock:
            self._running[task["id"]] = running
        job = Job(
            id=task["id"],
            idempotency_key=task["idempotency_key"],
            instance_id=task["instance_id"],
            element=task["element"],
            task_type=task["task_type"],
            attempt=task["attempt"],
            variables=task["variables"],
            tenant=task.get("tenant"),
            traceparent=task.get("traceparent"),
        )
        if handler.is_async:
            assert self._loop is not None
            future = asyncio.run_coroutine_threadsafe(self._run_async(handler, job), self._loop)
            future.add_done_callback(lambda done: self._finish(running, done.result()))
        else:
            self._pool.submit(self._run_sync, handler, job, running)

    def _run_sync(self, handler: Handler, job: Job, running: _Running) -> None:
        try:
            outcome = self._outcome(job, handler.function(job))
        except BaseException as error:
            outcome = _failed(error)
        self._finish(running, outcome)

    async def _run_async(self, handler: Handler, job: Job) -> tuple[str, dict[str, Any]]:
        try:
            result = await cast(Awaitable[Any], handler.function(job))
            return self._outcome(job, result)
        except BaseException as error:
            return _failed(error)

    def _outcome(self, job: Job, result: Any) -> tuple[str, dict[str, Any]]:
        if result is not None and not isinstance(result, Mapping):
            raise TypeError(f"handler for {job.task_type!r} returned {type(result).__name__}, not a dict")
        return "complete", {"variables": dict(result or {})}

    def _finish(self, running: _Running, outcome: tuple[str, dict[str, Any]]) -> None:
        """Report a handler's outcome (unless its timeout was reported already), free its slot."""
        try:
            with self._lock:
                if running.done:
                    return  # timed out and reported; this late result is dropped
                running.done = True
            if not running.lost:
                self._report(running, *outcome)
        finally:
            with self._lock:
                self._running.pop(running.task["id"], None)
            self._slots.release()

    def _report(self, running: _Running, action: str, body: dict[str, Any]) -> None:
        task_id = running.task["id"]
        pause = 0.2
        while True:
            try:
                response = self._client.post(f"{API}/{task_id}/{action}", json={"worker_id": self.id, **body})
            except httpx.HTTPError as exc:
                if time.monotonic() + pause >= running.lock_expires_at:
                    log.error("could not report task %s (%s) before its lock ran out", task_id, exc)
                    return
                time.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            if response.status_code < 300:
                if action == "complete":
                    self.stats.completed += 1
                elif action == "failure":
                    self.stats.failed += 1
                else:
                    self.stats.bpmn_errors += 1
                return
            problem = _problem(response)
            if response.status_code in _LOST:
                self.stats.refused += 1
                log.warning("the server refused the %s of task %s: %s", action, task_id, problem)
                return
            if response.status_code in (400, 413, 422) and action == "complete":
                # The result itself is refused (not JSON, too large, breaks a contract): say so
                # as a failure, so that the task retries or holds in an incident with the reason.
                action, body = _failed(ValueError(f"the server refused the handler's result: {problem}"))
                continue
            self.stats.errors.append(problem)
            log.error("the server refused the %s of task %s: %s", action, task_id, problem)
            return

    def _unlock(self, task: dict[str, Any]) -> None:
        try:
            self._client.post(f"{API}/{task['id']}/unlock", json={"worker_id": self.id})
        except httpx.HTTPError as exc:
            log.warning("could not unlock task %s (%s); its lock will expire", task["id"], exc)

    # -- locks and timeouts -----------------------------------------------------------------

    def _heartbeat(self) -> None:
        """Extend locks and enforce timeouts until `run()` has drained (so while draining too)."""
        period = self.settings.lock_seconds / 3
        while not self._finished.wait(min(period, 0.25)):
            self._tick(period)

    def _tick(self, period: float) -> None:
        now = time.monotonic()
        with self._lock:
            running = [r for r in self._running.values() if not r.done]
        for item in running:
            if item.deadline is not None and now >= item.deadline:
                with self._lock:
                    if item.done:
                        continue
                    item.done = True  # the late result is dropped by _finish
                late = TimeoutError(f"attempt {item.task['attempt']} took longer than its timeout")
                self._report(item, *_failed(late))
                continue
            if item.lock_expires_at - now < 2 * period and not item.lost:
                self._extend(item)

    def _extend(self, item: _Running) -> None:
        try:
            response = self._client.post(
                f"{API}/{item.task['id']}/extend-lock",
                json={"worker_id": self.id, "new_duration": self.settings.lock_seconds},
            )
        except httpx.HTTPError as exc:
            log.warning("extending the lock of task %s failed (%s)", item.task["id"], exc)
            return
        if response.status_code == 200:
            item.lock_expires_at = time.monotonic() + self.settings.lock_seconds
            self.stats.extended += 1
        elif response.status_code in _LOST:
            item.lost = True
            log.warning("task %s is no longer ours: %s", item.task["id"], _problem(response))

    def _drain(self) -> None:
        deadline = time.monotonic() + self.settings.shutdown_grace
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running:
                    break
            time.sleep(0.02)
        with self._lock:
            left = len(self._running)
        if left:
            log.warning("%d task(s) still running at shutdown; their locks will expire", left)
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Refused(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} {_problem(response)}")


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return f"{body.get('code', response.status_code)}: {body.get('detail', '')}"
    return str(body)[:200]


def _failed(error: BaseException) -> tuple[str, dict[str, Any]]:
    if isinstance(error, BpmnError):
        body: dict[str, Any] = {"error_code": error.code, "error_message": error.message, "variables": error.variables}
        return "bpmn-error", body
    message = (str(error) or type(error).__name__)[:4000]
    details = "".join(traceback.format_exception(error))[-20000:]
    return "failure", {"error_message": message, "error_details": details, "error_type": type(error).__name__[:255]}
