"""The README's order-to-cash process, run through the real runtime on every path.

The model is the YAML file shipped in the package; handlers are registered here the way
a user would write them. Time that matters (the two-day reminder, the 14-day delivery
deadline) comes from a FakeClock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from legato import BpmnError, FakeClock, Legato, WorkerSettings
from legato.runtime.handlers import Job


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(tmp_path, clock: FakeClock) -> Iterator[Legato]:  # type: ignore[no-untyped-def]
    legato = Legato(str(tmp_path / "orders.db"), clock=clock, worker_settings=WorkerSettings(poll_interval=0.05))
    calls: list[str] = []
    legato.calls = calls  # type: ignore[attr-defined]

    def record(name: str, result: dict[str, Any] | None = None) -> Any:
        def handler(job: Job) -> dict[str, Any]:
            calls.append(name)
            return result or {}

        return handler

    @legato.handler("credit.check")
    def check_credit(job: Job) -> dict[str, Any]:
        calls.append("credit.check")
        if job.variables["amount"] > 50_000:
            raise BpmnError("CREDIT_DENIED", "over the credit limit")
        return {"credit_ok": True}

    for task_type in ("mail.rejection", "mail.reminder", "stock.reserve", "ops.escalate"):
        legato.register(task_type, record(task_type))
    legato.register("billing.invoice", record("billing.invoice", {"invoice": "INV-1"}))
    legato.register("shipping.book", record("shipping.book", {"carrier": "DHL"}))
    legato.register("billing.collect", record("billing.collect", {"paid": True}))
    source = resources.files("legato.examples").joinpath("order_to_cash.yaml").read_text()
    legato.deploy(source)
    with legato.running():
        yield legato
    legato.close()


def settle(app: Legato, instance_id: str, element: str) -> None:
    deadline = time.monotonic() + 10
    while element not in app.store.queries.instance(instance_id, with_history=False)["waiting_at"]:
        assert time.monotonic() < deadline, f"instance never reached {element}"
        time.sleep(0.01)


def test_a_small_order_runs_to_payment_after_delivery(app: Legato) -> None:
    started = app.start("order_to_cash", {"amount": 120, "order_id": "A-1"})
    settle(app, started.instance_id, "delivered")
    assert app.send_message("order.delivered", "A-1", {"signed_by": "Kim"})["instance_id"] == started.instance_id
    result = app.wait(started.instance_id)
    assert result["status"] == "completed"
    assert result["variables"] == {
        "amount": 120,
        "order_id": "A-1",
        "credit_ok": True,
        "invoice": "INV-1",
        "carrier": "DHL",
        "signed_by": "Kim",
        "paid": True,
    }
    assert sorted(app.calls) == sorted(  # type: ignore[attr-defined]
        ["credit.check", "stock.reserve", "billing.invoice", "shipping.book", "billing.collect"]
    )


def test_a_denied_credit_ends_in_rejection(app: Legato) -> None:
    started = app.start("order_to_cash", {"amount": 90_000, "order_id": "A-2"})
    result = app.wait(started.instance_id)
    elements = [h["element"] for h in app.instance(started.instance_id)["history"]]
    assert result["status"] == "completed"
    assert "credit_denied" in elements and elements[-2] == "order_rejected"


def test_a_large_order_waits_for_approval_with_a_reminder(app: Legato, clock: FakeClock) -> None:
    started = app.start("order_to_cash", {"amount": 20_000, "order_id": "A-3"})
    settle(app, started.instance_id, "approve_order")
    task = app.task_for(started.instance_id, "approve_order")
    assert task["candidate_groups"] == ["sales-leads"]
    clock.advance(days=2, seconds=1)  # the non-interrupting reminder fires, the task stays open
    deadline = time.monotonic() + 10
    while "mail.reminder" not in app.calls:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    app.complete_task(task["id"], {"approved": True}, actor="user:lead")
    settle(app, started.instance_id, "delivered")
    app.send_message("order.delivered", "A-3")
    assert app.wait(started.instance_id)["status"] == "completed"


def test_a_refused_approval_notifies_the_customer(app: Legato) -> None:
    started = app.start("order_to_cash", {"amount": 20_000, "order_id": "A-4"})
    settle(app, started.instance_id, "approve_order")
    app.complete_task(app.task_for(started.instance_id)["id"], {"approved": False})
    app.wait(started.instance_id)
    assert "mail.rejection" in app.calls  # type: ignore[attr-defined]


def test_an_overdue_delivery_escalates_and_cancels_the_wait(app: Legato, clock: FakeClock) -> None:
    started = app.start("order_to_cash", {"amount": 120, "order_id": "A-5"})
    settle(app, started.instance_id, "delivered")
    clock.advance(days=14, seconds=1)
    result = app.wait(started.instance_id)
    history = app.instance(started.instance_id)["history"]
    assert result["status"] == "completed"
    assert ("element_terminated", "delivered") in [(h["type"], h["element"]) for h in history]
    assert history[-2]["element"] == "escalated"
    assert app.store.queries.count_instances() == {"completed": 1}
