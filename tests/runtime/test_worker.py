"""The job executor end to end: handlers, retries, timeouts, BPMN errors, timers, shutdown.

Each test runs on SQLite and PostgreSQL (the `database_url` fixture) with the in-process
worker; time that the engine sees comes from a FakeClock, so retries and timers fire when
the test moves the clock, never by sleeping through a backoff.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from legato.errors import BpmnError
from legato.formats.builder import Process, RetryPolicy
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.runtime.handlers import Job
from legato.runtime.worker import WorkerSettings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[Legato]:
    legato = Legato(
        database_url,
        clock=clock,
        worker_settings=WorkerSettings(concurrency=8, lock_seconds=5, poll_interval=0.05, shutdown_grace=2),
    )
    yield legato
    legato.close()


def sequence(process_id: str, *tasks: tuple[str, RetryPolicy | None, float | None]) -> Any:
    p = Process(process_id)
    node: Any = p.start("start")
    for task_type, retry, timeout in tasks:
        node = node.then(p.service(task_type, task_type, retry=retry, timeout=timeout))
    node.then(p.end("end"))
    return p.build()


def eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_sync_and_async_handlers_run_and_their_results_become_variables(app: Legato) -> None:
    seen: list[Job] = []

    @app.handler("a")
    def a(job: Job) -> dict[str, Any]:
        seen.append(job)
        return {"a": job.variables["n"] + 1}

    @app.handler("b")
    async def b(job: Job) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"b": job.variables["a"] * 10}

    app.deploy(sequence("p", ("a", None, None), ("b", None, None)))
    with app.running():
        started = app.start("p", {"n": 1})
        result = app.wait(started.instance_id)
    assert (result["status"], result["variables"]) == ("completed", {"n": 1, "a": 2, "b": 20})
    assert seen[0].idempotency_key == seen[0].id and seen[0].attempt == 1


def test_failures_retry_with_backoff_then_raise_an_incident_a_person_can_retry(app: Legato, clock: FakeClock) -> None:
    attempts: list[tuple[str, int]] = []
    broken = threading.Event()
    broken.set()

    @app.handler("flaky")
    def flaky(job: Job) -> dict[str, Any]:
        attempts.append((job.idempotency_key, job.attempt))
        if broken.is_set():
            raise ConnectionError("service down")
        return {"done": True}

    policy = RetryPolicy(max_attempts=3, initial_backoff=10, multiplier=2, jitter=0)
    app.deploy(sequence("p", ("flaky", policy, None)))
    with app.running():
        started = app.start("p")

        def failures_committed(count: int) -> bool:
            """The backoff runs from the failure's commit: move the clock only after it."""
            history = app.instance(started.instance_id)["history"]
            return sum(h["type"] == "job_failed" for h in history) == count

        eventually(lambda: len(attempts) == 1)
        eventually(lambda: failures_committed(1))
        clock.advance(9)
        time.sleep(0.2)
        assert len(attempts) == 1  # backing off: 10 s after attempt 1
        clock.advance(1)
        eventually(lambda: len(attempts) == 2)
        eventually(lambda: failures_committed(2))
        clock.advance(20)  # 10 * 2 after attempt 2
        eventually(lambda: len(attempts) == 3)
        [incident] = eventually(lambda: app.incidents())
        assert (incident["error_type"], incident["message"]) == ("ConnectionError", "service down")
        assert "ConnectionError" in (incident["details"] or "")
        clock.advance(3600)
        time.sleep(0.2)
        assert len(attempts) == 3  # held by the incident
        broken.clear()
        app.retry_incident(incident["id"], actor="user:ops")
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"
    assert {key for key, _ in attempts} == {attempts[0][0]}  # one key for every attempt
    assert [n for _, n in attempts] == [1, 2, 3, 1]
    history = app.instance(started.instance_id)["history"]
    assert [h["type"] for h in history if h["type"] in ("job_failed", "incident_created", "incident_resolved")] == [
        "job_failed",
        "job_failed",
        "incident_created",
        "incident_resolved",
    ]


def test_non_retryable_errors_go_straight_to_an_incident(app: Legato) -> None:
    app.register("strict", lambda job: (_ for _ in ()).throw(ValueError("bad data")))
    app.deploy(sequence("p", ("strict", RetryPolicy(max_attempts=5, non_retryable=("ValueError",)), None)))
    with app.running():
        app.start("p")
        [incident] = eventually(lambda: app.incidents())
    assert incident["error_type"] == "ValueError"


def test_a_handler_past_its_timeout_fails_the_attempt(app: Legato, clock: FakeClock) -> None:
    release = threading.Event()
    calls: list[int] = []

    @app.handler("slow")
    def slow(job: Job) -> dict[str, Any]:
        calls.append(job.attempt)
        if job.attempt == 1:
            release.wait(5)
            return {"late": True}  # dropped: this attempt already timed out
        return {"fast": True}

    app.deploy(sequence("p", ("slow", RetryPolicy(max_attempts=2, initial_backoff=1, jitter=0), 0.2)))
    with app.running():
        started = app.start("p")
        eventually(lambda: any(h["type"] == "job_failed" for h in app.instance(started.instance_id)["history"]))
        release.set()
        clock.advance(1)
        result = app.wait(started.instance_id)
    failed = [h for h in app.instance(started.instance_id)["history"] if h["type"] == "job_failed"]
    assert failed[0]["data"]["error_type"] == "TimeoutError"
    assert result["variables"] == {"fast": True}


def test_a_bpmn_error_is_caught_by_the_boundary_event(app: Legato) -> None:
    p = Process("p")
    check = p.start("start").then(p.service("check", "credit.check"))
    check.then(p.end("approved"))
    check.on_error("CREDIT_DENIED", id="denied").then(p.service("notify", "notify")).then(p.end("rejected"))

    @app.handler("credit.check")
    def credit(job: Job) -> None:
        raise BpmnError("CREDIT_DENIED", "limit exceeded", variables={"reason": "limit"})

    app.register("notify", lambda job: {"notified": True})
    app.deploy(p.build())
    with app.running():
        started = app.start("p")
        result = app.wait(started.instance_id)
    assert result["variables"] == {"reason": "limit", "notified": True}
    elements = [h["element"] for h in app.instance(started.instance_id)["history"]]
    assert "denied" in elements and "rejected" in elements and "approved" not in elements


def test_timers_fire_when_the_clock_moves(app: Legato, clock: FakeClock) -> None:
    p = Process("p")
    p.start("start").then(p.catch_timer("wait_a_day", duration="P1D")).then(p.end("end"))
    app.deploy(p.build())
    with app.running():
        started = app.start("p")
        time.sleep(0.2)
        assert app.instance(started.instance_id)["status"] == "active"
        clock.advance(86_400)
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"


def test_long_handlers_keep_their_lock(app: Legato) -> None:
    release = threading.Event()
    runs: list[int] = []

    @app.handler("long")
    def long(job: Job) -> dict[str, Any]:
        runs.append(job.attempt)
        release.wait(10)
        return {}

    app.worker_settings = WorkerSettings(concurrency=4, lock_seconds=0.6, poll_interval=0.05)
    app.deploy(sequence("p", ("long", None, None)))
    with app.running():
        started = app.start("p")
        eventually(lambda: runs)
        time.sleep(1.5)  # > 2 lock periods: without heartbeats another claim would run it again
        other = Legato(app.store, clock=app.clock, worker_settings=app.worker_settings)
        other.register("long", long)
        with other.running():
            time.sleep(0.8)
            assert runs == [1]
            release.set()
            result = app.wait(started.instance_id)
    assert result["status"] == "completed"


def test_concurrency_limit_is_never_exceeded(app: Legato) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    @app.handler("work")
    def work(job: Job) -> dict[str, Any]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return {}

    app.worker_settings = WorkerSettings(concurrency=3, lock_seconds=5, poll_interval=0.05)
    app.deploy(sequence("p", ("work", None, None)))
    with app.running():
        ids = [app.start("p").instance_id for _ in range(30)]
        for instance_id in ids:
            app.wait(instance_id)
    assert peak[0] == 3


def test_graceful_stop_lets_running_handlers_finish(app: Legato) -> None:
    started_event = threading.Event()

    @app.handler("work")
    def work(job: Job) -> dict[str, Any]:
        started_event.set()
        time.sleep(0.3)
        return {"finished": True}

    app.deploy(sequence("p", ("work", None, None)))
    app.start_worker()
    started = app.start("p")
    started_event.wait(5)
    app.stop_worker()  # returns after the handler finished and its result was committed
    instance = app.instance(started.instance_id)
    assert (instance["status"], instance["variables"]) == ("completed", {"finished": True})


def test_a_parallel_multi_instance_task_runs_one_job_per_item(app: Legato) -> None:
    from legato.formats.builder import MultiInstance

    p = Process("fan_out")
    loop = MultiInstance(collection="emails", element_variable="email", output_collection="sent", output_element="id")
    p.start("start").then(p.service("send", "mail.send", multi_instance=loop)).then(p.end("end"))

    @app.handler("mail.send")
    def send(job: Job) -> dict[str, Any]:
        return {"id": job.variables["email"].upper()}

    app.deploy(p.build())
    with app.running():
        started = app.start("fan_out", {"emails": ["a@x", "b@x", "c@x"]})
        result = app.wait(started.instance_id)
    assert result["variables"]["sent"] == ["A@X", "B@X", "C@X"]
    assert set(result["variables"]) == {"emails", "sent"}  # each instance's `id` stayed its own (Camunda 8 does so)


def test_the_worker_prunes_the_change_feed_past_its_retention(
    database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed of live screens would grow for ever: each worker drops rows older than the
    retention, measured on the worker's clock, and keeps the newer ones."""
    import legato.runtime.worker as worker_module

    monkeypatch.setattr(worker_module, "PRUNE_SECONDS", 0.05)
    legato = Legato(
        database_url,
        clock=clock,
        worker_settings=WorkerSettings(poll_interval=0.05, shutdown_grace=2, change_retention=3600),
    )
    legato.register("noop", lambda job: {})
    legato.deploy(sequence("pruned", ("noop", None, None)))
    first = legato.start("pruned")
    with legato.running():
        legato.wait(first.instance_id)
        old = {c.id for c in legato.store.changes.after(0)}
        assert old
        clock.advance(3601)
        second = legato.start("pruned")
        legato.wait(second.instance_id)
        eventually(lambda: not old & {c.id for c in legato.store.changes.after(0)})
        kept = legato.store.changes.after(0)
        assert kept and {c.instance_id for c in kept} == {second.instance_id}
    legato.close()
