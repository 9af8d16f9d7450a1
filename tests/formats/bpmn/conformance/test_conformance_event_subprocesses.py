"""Event subprocesses from a Camunda 8 file, run on the pure engine.

Written from BPMN 2.0.2, 10.3.5 (Event Sub-Processes: no flows in or out, started by the
event of their start event while their scope is active) and 10.5.2 (an interrupting start
event cancels the rest of the scope, a non-interrupting one runs beside it, and stays
ready for the next event; an error start event always interrupts).
"""

from __future__ import annotations

from datetime import timedelta

from conformance_helpers import Start, definition, path

from legato.engine.commands import CompleteJob
from legato.model.elements import ErrorDefinition, MessageDefinition, StartEvent, SubProcess, TimerDefinition


def test_triggered_by_event_and_is_interrupting_are_read() -> None:
    elements = definition("event_subprocesses").elements
    for subprocess in ("Activity_updates", "Activity_expiry", "Activity_payment_failed"):
        found = elements[subprocess]
        assert isinstance(found, SubProcess) and found.triggered_by_event
    assert elements["Event_update"] == StartEvent(
        id="Event_update",
        name="Update received",
        parent="Activity_updates",
        event=MessageDefinition(message="order.updated", correlation_key="orderId"),
        interrupting=False,
    )
    week = elements["Event_week"]
    assert isinstance(week, StartEvent) and week.interrupting
    assert week.event == TimerDefinition(kind="duration", value="P7D")
    failed = elements["Event_failed"]
    assert isinstance(failed, StartEvent) and failed.event == ErrorDefinition(code="PAYMENT_FAILED")


def test_updates_run_beside_the_order_as_often_as_they_come(start: Start) -> None:
    run = start(definition("event_subprocesses"), variables={"orderId": "O-1"})
    run.complete_job("Activity_charge")
    assert run.waiting_at() == ["Activity_fulfil", "Event_update", "Event_week"]
    run.correlate("order.updated", {"address": "Elm St 1"}, correlation_key="O-1")
    assert run.waiting_at() == ["Activity_apply", "Activity_fulfil", "Event_update", "Event_week"]
    run.correlate("order.updated", {"address": "Elm St 2"}, correlation_key="O-1")  # still listening
    assert run.waiting_at().count("Activity_apply") == 2
    for job in run.waits("job"):
        run.send(CompleteJob(wait=job.wait))
    run.complete_task("Activity_fulfil")
    assert run.status == "completed" and run.waits() == []
    assert run.variables["address"] == "Elm St 2"
    assert path(run).count("Event_applied") == 2 and path(run)[-1] == "Event_fulfilled"


def test_after_a_week_the_order_is_cancelled_and_fulfilment_stops(start: Start) -> None:
    run = start(definition("event_subprocesses"), variables={"orderId": "O-2"})
    run.complete_job("Activity_charge")
    assert run.advance(timedelta(days=7)) == ["Event_week"]
    assert run.waiting_at() == ["Activity_cancel"]  # the user task and the update listener are gone
    assert ("element_terminated", "Activity_fulfil") in run.trail()
    run.complete_job("Activity_cancel")
    assert run.status == "completed"
    assert path(run)[-4:] == ["Event_week", "Activity_cancel", "Event_expired", "Activity_expiry"]


def test_a_payment_error_is_caught_by_the_error_event_subprocess(start: Start) -> None:
    run = start(definition("event_subprocesses"), variables={"orderId": "O-3"})
    run.throw_error("Activity_charge", "PAYMENT_FAILED", "card expired")
    assert run.waiting_at() == ["Activity_apologise"]
    run.complete_job("Activity_apologise")
    assert run.status == "completed"
    assert "Activity_fulfil" not in path(run) and path(run)[-2:] == ["Event_apologised", "Activity_payment_failed"]
