"""Conformance files whose instances talk to each other, run by `Legato(Store.memory())`.

Signals reach every waiting instance and start every process with that signal start
event (BPMN 2.0.2, 10.5.5); a call activity starts its called process as a child
instance and completes with it, or catches the error that ended it (10.3.6); a business
rule task evaluates the deployed DMN decision (10.3.3). Each file is deployed as it is.
"""

from __future__ import annotations

from typing import Any

from conformance_helpers import FILES

from legato import Legato
from legato.runtime.handlers import Job


def deploy(app: Legato, *names: str) -> None:
    for name in names:
        app.deploy(FILES / name)


# --- signals -------------------------------------------------------------------------------


def test_a_short_order_starts_a_restock_whose_end_signal_lets_every_waiting_order_go_on(app: Legato) -> None:
    deploy(app, "signal_restock.bpmn", "signal_order_picking.bpmn")
    picked: list[str] = []

    @app.handler("stock.order")
    def order_stock(job: Job) -> dict[str, Any]:
        return {"ordered": 100}

    @app.handler("items.pick")
    def pick(job: Job) -> dict[str, Any]:
        picked.append(job.variables["order"])
        return {"picked": True}

    with app.running():
        first = app.start("order_picking", {"order": "A", "inStock": False}).instance_id
        second = app.start("order_picking", {"order": "B", "inStock": False}).instance_id
        ended = [app.wait(first), app.wait(second)]
    assert [e["status"] for e in ended] == ["completed", "completed"]
    assert sorted(picked) == ["A", "B"]
    restocks = app.instances(process="restock")
    assert len(restocks) == 2 and {r["status"] for r in restocks} == {"completed"}  # one per stock.low


def test_a_signal_from_outside_interrupts_every_picking(app: Legato) -> None:
    deploy(app, "signal_order_picking.bpmn")  # no handler for items.pick: the jobs wait
    started = [app.start("order_picking", {"order": order, "inStock": True}).instance_id for order in "CD"]
    result = app.broadcast_signal("warehouse.closed")
    assert result is not None
    for instance_id in started:
        instance = app.instance(instance_id)
        assert instance["status"] == "completed"
        assert [h["element"] for h in instance["history"] if h["type"] == "element_passed"][-1] == "Event_stopped"


# --- call activities -------------------------------------------------------------------------


def charge_cards(app: Legato) -> None:
    @app.handler("card.charge")
    def charge(job: Job) -> dict[str, Any]:
        approved = job.variables["amount"] < 1000
        return {"approved": approved, "receipt": f"R-{job.variables['orderId']}" if approved else None}


def test_a_checkout_calls_the_payment_process_and_gets_its_receipt(app: Legato) -> None:
    deploy(app, "call_activity_child.bpmn", "call_activity_parent.bpmn")
    charge_cards(app)
    app.register("order.confirm", lambda job: {"confirmed": True})
    with app.running():
        started = app.start("checkout", {"basket": {"id": "B-1", "total": 42}}).instance_id
        ended = app.wait(started)
    assert ended["status"] == "completed"
    assert ended["variables"] == {"basket": {"id": "B-1", "total": 42}, "receipt": "R-B-1", "confirmed": True}
    (child,) = app.instance(started)["children"]
    called = app.instance(child)
    assert called["process"] == "payment" and called["status"] == "completed"
    assert called["variables"]["amount"] == 42 and "basket" not in called["variables"]  # only what was mapped


def test_a_declined_payment_ends_the_child_with_an_error_the_checkout_catches(app: Legato) -> None:
    deploy(app, "call_activity_child.bpmn", "call_activity_parent.bpmn")
    charge_cards(app)
    with app.running():
        started = app.start("checkout", {"basket": {"id": "B-2", "total": 5000}}).instance_id
        task = _wait_for_task(app, started)
        assert task["element"] == "Activity_contact"
        app.complete_task(task["id"], {"note": "called the customer"})
        ended = app.wait(started)
    assert ended["status"] == "completed" and "receipt" not in ended["variables"]
    (child,) = app.instance(started)["children"]
    assert app.instance(child)["status"] == "terminated"  # ended by the error nothing in it caught


def test_a_camunda7_caller_pinned_to_version_1(app: Legato) -> None:
    deploy(app, "call_activity_child.bpmn", "call_activity_parent_camunda7.bpmn")
    charge_cards(app)
    with app.running():
        started = app.start(
            "subscription_renewal", {"plan": {"price": 10}, "months": 3, "subscriptionId": "S-1"}
        ).instance_id
        ended = app.wait(started)
    assert ended["status"] == "completed" and ended["variables"]["renewalReceipt"] == "R-S-1"


# --- business rule tasks ---------------------------------------------------------------------


def test_a_business_rule_task_evaluates_the_deployed_decision(app: Legato) -> None:
    deploy(app, "shipping_fee.dmn", "business_rule_task.bpmn")
    app.register("shipping.charge", lambda job: {"charged": job.variables["fee"]})
    with app.running():
        free = app.start("parcel_shipping", {"address": {"country": "DE"}, "parcel": {"weight": 1}}).instance_id
        abroad = app.start("parcel_shipping", {"address": {"country": "IT"}, "parcel": {"weight": 3}}).instance_id
        ended = {name: app.wait(instance) for name, instance in (("free", free), ("abroad", abroad))}
    assert ended["free"]["status"] == ended["abroad"]["status"] == "completed"
    assert ended["free"]["variables"]["fee"] == 0 and "charged" not in ended["free"]["variables"]
    assert ended["abroad"]["variables"]["charged"] == 9.9
    (evaluation,) = app.decision_evaluations(abroad)
    assert evaluation["matched_rules"] == ["DecisionRule_0eu"]


def _wait_for_task(app: Legato, instance_id: str, timeout: float = 10.0) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = app.tasks(instance_id=instance_id)
        if tasks:
            return tasks[0]
        time.sleep(0.01)
    raise TimeoutError(f"instance {instance_id} opened no user task")
