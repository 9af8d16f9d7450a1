"""Conditional events (a Camunda 7 file) and message throw events (a Camunda 8 file), run on
the pure engine.

Written from BPMN 2.0.2, 10.5.5: a conditional event fires when its condition becomes true
(a catch waits for it, a boundary event interrupts or not, an event subprocess starts on
it); a message throw or end event sends its message, here through the handler of its task
type as Camunda does (10.5.4), and the path goes on, or ends, once it is sent.
"""

from __future__ import annotations

from conformance_helpers import Start, definition, imported, path

from legato.model.elements import (
    BoundaryEvent,
    ConditionalDefinition,
    EndEvent,
    IntermediateThrowEvent,
    MessageDefinition,
    StartEvent,
)

# --- conditional events: loan application (Camunda 7) ------------------------------------


def test_conditions_are_read_as_written() -> None:
    elements = definition("conditional_events").elements
    raised = elements["Event_amount_raised"]
    assert isinstance(raised, BoundaryEvent) and not raised.cancel_activity
    assert raised.event == ConditionalDefinition(condition="${amount > 10000}")
    withdrawn = elements["Event_withdrawn"]
    assert isinstance(withdrawn, StartEvent) and withdrawn.interrupting
    assert withdrawn.event == ConditionalDefinition(condition="${withdrawn}")
    assert elements["Event_offer"] == EndEvent(
        id="Event_offer", name="Offer sent", event=MessageDefinition(message="loan.offer"), task_type="offer.send"
    )
    # Camunda 7's variable filter has no meaning here: conditions are checked after every change
    assert any("camunda:variableName is ignored" in w for w in imported("conditional_events").warnings)


def test_a_raised_amount_alerts_the_risk_team_and_complete_documents_release_the_offer(start: Start) -> None:
    variables = {"amount": 5000, "documentsComplete": False, "withdrawn": False}
    run = start(definition("conditional_events"), variables=variables)
    assert run.waiting_at() == ["Activity_review", "Event_update"]
    run.correlate("loan.update", {"amount": 15000})  # true now: the boundary fires, the review goes on
    assert run.waiting_at() == ["Activity_notify", "Activity_review", "Event_update"]
    assert ("boundary_triggered", "Event_amount_raised") in run.trail()
    run.complete_job("Activity_notify")
    run.complete_task("Activity_review")
    assert run.waiting_at() == ["Event_update"]  # the catch waits: its condition is false
    run.correlate("loan.update", {"documentsComplete": True})
    offer = run.job("Event_offer")
    assert offer.task_type == "offer.send" and offer.payload is not None and offer.payload["message"] == "loan.offer"
    run.complete_job("Event_offer")
    assert run.status == "completed"
    # the update's event subprocess ends, then the condition is checked and holds
    assert path(run)[-3:] == ["Activity_update", "Event_documents", "Event_offer"]


def test_withdrawing_interrupts_everything_through_the_conditional_event_subprocess(start: Start) -> None:
    variables = {"amount": 5000, "documentsComplete": False, "withdrawn": False}
    run = start(definition("conditional_events"), variables=variables)
    run.correlate("loan.update", {"withdrawn": True})
    assert run.waiting_at() == ["Activity_close"]
    assert ("element_terminated", "Activity_review") in run.trail()
    run.complete_job("Activity_close")
    assert run.status == "completed"
    assert path(run)[-4:] == ["Event_withdrawn", "Activity_close", "Event_closed", "Activity_withdrawn"]


# --- message throw events: order confirmation (Camunda 8) --------------------------------


def test_message_throws_are_sent_by_the_handler_of_their_task_type() -> None:
    elements = definition("message_throw_events").elements
    assert elements["Event_confirm"] == IntermediateThrowEvent(
        id="Event_confirm",
        name="Confirm order",
        event=MessageDefinition(message="order.confirmed"),
        task_type="mail.confirm",
    )
    end = elements["Event_tell_shop"]
    assert isinstance(end, EndEvent) and end.task_type == "shop.notify"


def test_the_confirmation_is_sent_before_shipping_and_the_shop_told_at_the_end(start: Start) -> None:
    run = start(definition("message_throw_events"), variables={"orderId": "O-5"})
    assert run.job("Event_confirm").payload == {"orderId": "O-5", "message": "order.confirmed"}
    run.complete_job("Event_confirm")
    run.complete_job("Activity_ship", {"trackingCode": "T-1"})
    assert run.job("Event_tell_shop").payload == {"orderId": "O-5", "trackingCode": "T-1", "message": "order.shipped"}
    run.complete_job("Event_tell_shop")
    assert run.status == "completed"
    assert path(run) == ["StartEvent_paid", "Event_confirm", "Activity_ship", "Event_tell_shop"]
