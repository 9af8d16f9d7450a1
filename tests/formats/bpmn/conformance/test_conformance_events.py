"""Signal, escalation and link events from Camunda Modeler files, run on the pure engine.

Written from BPMN 2.0.2, 10.5.5: a signal is broadcast to every catcher, with no
correlation (signal events); an escalation travels to the enclosing scopes, where a
non-interrupting catch starts a path while the scope goes on and an interrupting one
ends it (escalation events); a link throw continues at the catch of the same name in the
same scope, a "go to" (link events). Signals between instances run in
test_conformance_across_instances.py.
"""

from __future__ import annotations

from conformance_helpers import Start, definition, path

from legato.engine.commands import CompleteUserTask
from legato.model.elements import (
    BoundaryEvent,
    EndEvent,
    EscalationDefinition,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    SignalDefinition,
    StartEvent,
)

# --- signals: order picking (Camunda 8) ----------------------------------------------------


def test_signal_references_become_signal_names() -> None:
    elements = definition("signal_order_picking").elements
    assert elements["Event_stock_low"] == IntermediateThrowEvent(
        id="Event_stock_low", name="Stock low", event=SignalDefinition(signal="stock.low")
    )
    refilled = elements["Event_refilled"]
    assert isinstance(refilled, IntermediateCatchEvent) and refilled.event == SignalDefinition(signal="stock.refilled")
    closed = elements["Event_closed"]
    assert isinstance(closed, BoundaryEvent) and closed.event == SignalDefinition(signal="warehouse.closed")
    restock = definition("signal_restock").elements
    assert restock["StartEvent_low"] == StartEvent(
        id="StartEvent_low", name="Stock low", event=SignalDefinition(signal="stock.low")
    )
    assert restock["Event_refilled"] == EndEvent(
        id="Event_refilled", name="Stock refilled", event=SignalDefinition(signal="stock.refilled")
    )


def test_short_stock_broadcasts_and_waits_for_the_refill(start: Start) -> None:
    run = start(definition("signal_order_picking"), variables={"inStock": False})
    assert run.broadcasts == ["stock.low"]
    assert run.waiting_at() == ["Event_refilled"]
    run.signal("stock.refilled", {"delivered": 40})
    assert run.waiting_at() == ["Activity_pick", "Event_closed"]  # the boundary signal is armed with the job
    run.complete_job("Activity_pick")
    assert run.status == "completed" and run.variables["delivered"] == 40
    assert path(run) == [
        "StartEvent_received",
        "Gateway_stock",
        "Event_stock_low",
        "Event_refilled",
        "Gateway_merge",
        "Activity_pick",
        "Event_picked",
    ]


def test_an_interrupting_signal_boundary_event_stops_the_picking(start: Start) -> None:
    run = start(definition("signal_order_picking"), variables={"inStock": True})
    assert run.broadcasts == [] and run.waiting_at() == ["Activity_pick", "Event_closed"]
    run.signal("warehouse.closed")
    assert run.status == "completed" and run.waits() == []
    assert path(run)[-1] == "Event_stopped"
    assert ("boundary_triggered", "Event_closed") in run.trail()


def test_the_signal_start_event_starts_the_restock_and_its_end_broadcasts(start: Start) -> None:
    run = start(definition("signal_restock"), start_event="StartEvent_low")
    run.complete_job("Activity_order", {"ordered": 500})
    assert run.status == "completed" and run.broadcasts == ["stock.refilled"]
    assert path(run) == ["StartEvent_low", "Activity_order", "Event_refilled"]


# --- escalations: delivery (Camunda 7) ----------------------------------------------------


def test_escalation_references_become_codes() -> None:
    elements = definition("escalation").elements
    assert elements["Event_delay"] == IntermediateThrowEvent(
        id="Event_delay", name="Delay expected", parent="Activity_prepare", event=EscalationDefinition(code="DELAY")
    )
    caught = elements["Event_delay_caught"]
    assert isinstance(caught, BoundaryEvent) and not caught.cancel_activity
    assert caught.event == EscalationDefinition(code="DELAY")
    ends = elements["Event_cannot_deliver"]
    assert isinstance(ends, EndEvent) and ends.event == EscalationDefinition(code="UNDELIVERABLE")


def test_a_delay_escalates_without_stopping_the_preparation(start: Start) -> None:
    run = start(definition("escalation"))
    run.complete_job("Activity_check", {"delayed": True, "deliverable": True})
    assert run.waiting_at() == ["Activity_inform", "Activity_pack"]  # an escalation catch needs no wait
    assert ("boundary_triggered", "Event_delay_caught") in run.trail()
    run.complete_job("Activity_pack")
    assert run.status == "active"  # the customer is still being told
    (task,) = run.waits("task")
    run.send(CompleteUserTask(wait=task.wait, variables={"told": True}))
    assert run.status == "completed"
    assert {"Event_ready", "Event_informed"} <= set(path(run))


def test_an_escalation_end_event_interrupts_the_subprocess(start: Start) -> None:
    run = start(definition("escalation"))
    run.complete_job("Activity_check", {"delayed": False, "deliverable": False})
    assert run.waiting_at() == ["Activity_refund"]  # the subprocess ended, its boundary events too
    assert ("boundary_triggered", "Event_undeliverable_caught") in run.trail()
    run.complete_job("Activity_refund")
    assert run.status == "completed"
    assert path(run)[-3:] == ["Event_cannot_deliver", "Activity_refund", "Event_refunded"]
    assert "Event_ready" not in path(run)


def test_on_time_and_deliverable_nothing_escalates(start: Start) -> None:
    run = start(definition("escalation"))
    run.complete_job("Activity_check", {"delayed": False, "deliverable": True})
    run.complete_job("Activity_pack")
    assert run.status == "completed" and not any(kind.startswith("escalation") for kind, _ in run.trail())
    assert path(run)[-3:] == ["Event_packed", "Activity_prepare", "Event_ready"]


# --- links: claim review (Camunda 8) -------------------------------------------------------


def test_link_names_are_read() -> None:
    elements = definition("link_events").elements
    assert elements["Event_to_payout"] == IntermediateThrowEvent(
        id="Event_to_payout", name="To payout", event=LinkDefinition(name="Payout")
    )
    payout = elements["Event_payout"]
    assert isinstance(payout, IntermediateCatchEvent) and payout.event == LinkDefinition(name="Payout")


def test_a_link_jumps_to_the_payout(start: Start) -> None:
    run = start(definition("link_events"))
    run.complete_task("Activity_assess", {"documentsComplete": True})
    assert run.waiting_at() == ["Activity_pay"]
    run.complete_job("Activity_pay")
    assert run.status == "completed"
    assert path(run) == [
        "StartEvent_filed",
        "Gateway_assess",
        "Activity_assess",
        "Gateway_complete",
        "Event_to_payout",
        "Event_payout",
        "Activity_pay",
        "Event_paid",
    ]


def test_a_link_loops_back_to_the_assessment(start: Start) -> None:
    run = start(definition("link_events"))
    run.complete_task("Activity_assess", {"documentsComplete": False})
    run.complete_job("Activity_request")
    assert run.waiting_at() == ["Activity_assess"]
    run.complete_task("Activity_assess", {"documentsComplete": True})
    run.complete_job("Activity_pay")
    assert run.status == "completed"
    assert path(run)[4:9] == [
        "Activity_request",
        "Event_to_assessment",
        "Event_assessment",
        "Gateway_assess",
        "Activity_assess",
    ]
