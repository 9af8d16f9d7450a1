"""Call activities end to end: a parent and its child run by the in-process worker, on
SQLite and PostgreSQL, with time from a FakeClock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from legato.errors import BpmnError
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.runtime.handlers import Job
from legato.runtime.worker import WorkerSettings
from legato.store.commands import Executor


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


def eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def order(**call: Any) -> ProcessDefinition:
    """Reserve stock, call "payment", ship; a declined payment or a slow one ends early."""
    p = Process("order")
    pay = p.start("start").then(p.service("reserve", "stock.reserve")).then(p.call("pay", "payment", **call))
    pay.on_error("DECLINED", id="declined").then(p.end("rejected"))
    pay.on_timer(duration="PT1H", id="too_slow").then(p.end("timed_out"))
    pay.then(p.service("ship", "ship")).then(p.end("shipped"))
    return p.build()


def payment(*, approval: bool = False) -> ProcessDefinition:
    p = Process("payment")
    node: Any = p.start("start")
    if approval:
        node = node.then(p.user("approve", candidate_groups=["finance"]))
    node.then(p.service("charge", "card.charge")).then(p.end("charged"))
    return p.build()


def handlers(app: Legato, charged: list[Job] | None = None) -> None:
    app.register("stock.reserve", lambda job: {"reserved": True})
    app.register("ship", lambda job: {"shipped": job.variables.get("receipt_id")})

    @app.handler("card.charge")
    def charge(job: Job) -> dict[str, Any]:
        if charged is not None:
            charged.append(job)
        if job.variables.get("amount", 0) > 1000:
            raise BpmnError("DECLINED", "over the limit")
        return {"receipt": {"id": f"R-{job.variables['amount']}"}}


def child_of(app: Legato, parent: str) -> str:
    [child] = eventually(lambda: app.instance(parent)["children"])
    return str(child)


def test_a_parent_and_its_child_run_to_completion_with_mapped_outputs(app: Legato) -> None:
    charged: list[Job] = []
    handlers(app, charged)
    app.deploy(order(inputs={"amount": "amount"}, outputs={"receipt_id": "receipt.id"}))
    app.deploy(payment())
    with app.running():
        started = app.start("order", {"amount": 120, "customer": "ada"})
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"
    assert result["variables"] == {
        "amount": 120,
        "customer": "ada",
        "reserved": True,
        "receipt_id": "R-120",
        "shipped": "R-120",
    }
    assert charged[0].variables == {"amount": 120}  # only the inputs went in
    child = app.instance(child_of(app, started.instance_id))
    assert (child["status"], child["parent_id"]) == ("completed", started.instance_id)


def test_an_error_ending_the_child_is_caught_by_the_boundary_on_the_call(app: Legato) -> None:
    handlers(app)
    app.deploy(order())
    app.deploy(payment())
    with app.running():
        started = app.start("order", {"amount": 5000})
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"
    history = app.instance(started.instance_id)["history"]
    assert [h["element"] for h in history if h["type"] == "element_passed"][-1] == "rejected"
    child = app.instance(child_of(app, started.instance_id))
    assert child["status"] == "terminated"
    assert child["history"][-1]["data"] == {"error": "DECLINED", "message": "over the limit"}


def test_a_boundary_timer_on_the_call_cancels_the_child(app: Legato, clock: FakeClock) -> None:
    handlers(app)
    app.deploy(order())
    app.deploy(payment(approval=True))
    with app.running():
        started = app.start("order", {"amount": 10})
        child = child_of(app, started.instance_id)
        eventually(lambda: app.tasks(instance_id=child))
        clock.advance(3600)
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"
    assert app.instance(child)["status"] == "cancelled"
    assert app.tasks(instance_id=child) == []  # its user task went with it


def test_cancelling_the_parent_cancels_the_child(app: Legato) -> None:
    handlers(app)
    app.deploy(order())
    app.deploy(payment(approval=True))
    with app.running():
        started = app.start("order", {"amount": 10})
        child = child_of(app, started.instance_id)
        app.cancel(started.instance_id, reason="customer left")
    assert app.instance(started.instance_id)["status"] == "cancelled"
    assert app.instance(child)["status"] == "cancelled"


def test_a_missing_called_process_is_an_incident_until_it_is_deployed(app: Legato) -> None:
    handlers(app)
    app.deploy(order())
    with app.running():
        started = app.start("order", {"amount": 10})
        [incident] = eventually(lambda: app.incidents())
        assert (incident["element"], incident["error_type"]) == ("pay", "DefinitionNotFound")
        assert "'payment'" in incident["message"]
        app.deploy(payment())
        app.retry_incident(incident["id"])
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"


def test_a_crash_in_the_child_start_rolls_back_the_parents_step(
    app: Legato, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reserve job's result and the child's start commit together: when the start
    fails, the result is lost with it and the job runs again once its lock expires,
    and in the end exactly one child exists."""
    reserved: list[int] = []
    handlers(app)
    app.register("stock.reserve", lambda job: reserved.append(job.attempt) or {"reserved": True})
    app.deploy(order())
    app.deploy(payment())
    original = Executor.start_within
    failures: list[str] = []

    def crash_once(self: Executor, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("caller") is not None and not failures:
            failures.append(kwargs["caller"][0])
            raise RuntimeError("power cut while starting the child")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Executor, "start_within", crash_once)
    with app.running():
        started = app.start("order", {"amount": 10})
        eventually(lambda: failures)
        time.sleep(0.2)
        parent = app.instance(started.instance_id)
        assert (parent["waiting_at"], parent["children"]) == (["reserve"], [])
        assert not any(h["type"] == "element_completed" for h in parent["history"])
        clock.advance(6)  # past the lock of the attempt whose result was rolled back
        result = app.wait(started.instance_id)
    assert result["status"] == "completed"
    assert reserved == [1, 2]
    assert len(app.instance(started.instance_id)["children"]) == 1
