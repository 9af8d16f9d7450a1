"""Call activities from Camunda 8 and Camunda 7 files: the caller's side on the pure engine.

Written from BPMN 2.0.2, 10.3.6 (Call Activity: the called process runs as its own
instance, and the call activity completes when it does) and 10.5.5 (an error that ends
the called process is thrown at the call activity, where a boundary event catches it).
What goes in and what comes back follows the files' variable mappings (zeebe:ioMapping,
camunda:in and camunda:out). The child really running is in test_conformance_across_instances.py.
"""

from __future__ import annotations

from conformance_helpers import Start, definition, imported, path

from legato.engine import effects as fx
from legato.model.elements import CallActivity
from legato.testing import EngineHarness


def test_a_zeebe_called_element_with_its_mappings() -> None:
    call = definition("call_activity_parent").elements["Activity_pay"]
    assert call == CallActivity(
        id="Activity_pay",
        name="Collect payment",
        process="payment",
        inputs={"amount": "basket.total", "orderId": "basket.id"},
        outputs={"receipt": "receipt"},
    )
    assert imported("call_activity_parent").warnings == []  # propagation as Legato does it: nothing lost


def test_a_camunda7_called_element_pinned_to_a_version() -> None:
    call = definition("call_activity_parent_camunda7").elements["Activity_pay"]
    assert call == CallActivity(
        id="Activity_pay",
        name="Collect payment",
        process="payment",
        version=1,
        inputs={"amount": "${plan.price * months}", "orderId": "subscriptionId"},
        outputs={"renewalReceipt": "receipt"},
    )


def test_the_child_gets_only_the_mapped_variables_and_gives_back_only_the_receipt(start: Start) -> None:
    basket = {"id": "B-1", "total": 42.5, "items": 3}
    run = start(definition("call_activity_parent"), variables={"basket": basket, "customer": "Ada"})
    call = run.call("Activity_pay")
    assert (call.process, call.payload) == ("payment", {"amount": 42.5, "orderId": "B-1"})
    run.complete_call("Activity_pay", {"amount": 42.5, "orderId": "B-1", "approved": True, "receipt": "R-9"})
    assert run.waiting_at() == ["Activity_confirm"]
    assert run.variables == {"basket": basket, "customer": "Ada", "receipt": "R-9"}
    run.complete_job("Activity_confirm")
    assert run.status == "completed"
    assert path(run) == ["StartEvent_basket", "Activity_pay", "Activity_confirm", "Event_confirmed"]


def test_an_error_ending_the_child_is_caught_at_the_call_activity(start: Start) -> None:
    run = start(definition("call_activity_parent"), variables={"basket": {"id": "B-2", "total": 9000}})
    run.fail_call("Activity_pay", "PAYMENT_FAILED", "card declined")
    assert run.waiting_at() == ["Activity_contact"]
    assert ("boundary_triggered", "Event_payment_failed") in run.trail()
    run.complete_task("Activity_contact")
    assert run.status == "completed" and path(run)[-1] == "Event_on_hold"


def test_camunda7_in_and_out_mappings(start: Start) -> None:
    variables = {"plan": {"price": 9.5}, "months": 12, "subscriptionId": "S-7"}
    run = start(definition("call_activity_parent_camunda7"), variables=variables)
    assert run.call("Activity_pay").payload == {"amount": 114.0, "orderId": "S-7"}
    run.complete_call("Activity_pay", {"receipt": "R-1", "approved": True})
    assert run.status == "completed"
    assert run.variables == {**variables, "renewalReceipt": "R-1"}


# --- the called side: the payment process -----------------------------------------------


def returned(run: EngineHarness) -> fx.ReturnToCaller:
    [effect] = [e for e in run.effects if isinstance(e, fx.ReturnToCaller)]
    return effect


def test_the_child_reports_its_end_and_variables_to_its_caller(start: Start) -> None:
    run = start(definition("call_activity_child"), variables={"amount": 42, "orderId": "B-1"}, caller=("checkout", 3))
    assert run.job("Activity_charge").payload == {"amount": 42, "orderId": "B-1"}
    run.complete_job("Activity_charge", {"approved": True, "receipt": "R-1"})
    assert run.status == "completed"
    assert path(run) == ["StartEvent_due", "Activity_charge", "Gateway_approved", "Event_paid"]
    assert returned(run) == fx.ReturnToCaller(
        parent="checkout",
        wait=3,
        status="completed",
        variables={"amount": 42, "orderId": "B-1", "approved": True, "receipt": "R-1"},
    )


def test_a_declined_charge_ends_the_child_with_the_error_its_caller_catches(start: Start) -> None:
    run = start(definition("call_activity_child"), variables={"amount": 9000, "orderId": "B-2"}, caller=("checkout", 3))
    run.complete_job("Activity_charge", {"approved": False})
    assert run.status == "terminated" and run.incidents == []
    assert (returned(run).status, returned(run).error_code) == ("terminated", "PAYMENT_FAILED")
