"""Inclusive and event-based gateways, from Camunda Modeler files, run on the pure engine.

Written from BPMN 2.0.2: 10.6.3 (the inclusive gateway forks every outgoing flow whose
condition is true, and takes the default flow only when none is), 13.4.3 (the converging
inclusive gateway fires when every token that can still reach it has arrived), 10.6.6
and 13.4.5 (the event-based gateway waits for the first of its events; the others are
then discarded), 10.3.3 (a receive task waits for its message).
"""

from __future__ import annotations

from datetime import timedelta

from conformance_helpers import Start, definition, joining, path

from legato.model.elements import EventBasedGateway, InclusiveGateway, ReceiveTask, SendTask

# --- inclusive gateway: parcel dispatch (Camunda 8) --------------------------------------


def test_the_file_reads_as_an_inclusive_fork_and_join() -> None:
    elements = definition("inclusive_gateway").elements
    fork, join = elements["Gateway_extras"], elements["Gateway_join"]
    assert isinstance(fork, InclusiveGateway) and fork.default == "Flow_standard"
    assert isinstance(join, InclusiveGateway) and join.default is None


def test_every_true_condition_forks_and_the_join_waits_for_both(start: Start) -> None:
    run = start(definition("inclusive_gateway"), variables={"giftWrap": True, "declaredValue": 800})
    assert run.waiting_at() == ["Activity_insure", "Activity_wrap"]  # both conditions hold; not the default
    assert run.job("Activity_insure").payload == {"value": 800}
    run.complete_job("Activity_wrap")
    assert joining(run) == ["Gateway_join"]  # the insurance path can still arrive
    run.complete_job("Activity_insure", {"policy": {"number": "P-77"}})
    assert run.waiting_at() == ["Activity_handover"] and joining(run) == []
    run.complete_job("Activity_handover")
    assert run.status == "completed"
    assert path(run) == [
        "StartEvent_packed",
        "Gateway_extras",
        "Activity_wrap",
        "Activity_insure",
        "Gateway_insured",
        "Gateway_join",  # once: one token leaves the join
        "Activity_handover",
        "Event_dispatched",
    ]
    assert run.variables["policyNumber"] == "P-77"


def test_no_true_condition_takes_the_default_flow_alone(start: Start) -> None:
    run = start(definition("inclusive_gateway"), variables={"giftWrap": False, "declaredValue": 20})
    assert run.waiting_at() == ["Activity_standard"]
    run.complete_job("Activity_standard")
    assert run.waiting_at() == ["Activity_handover"]  # the join had one token to wait for
    run.complete_job("Activity_handover")
    assert run.status == "completed" and "Activity_wrap" not in path(run)


def test_the_join_fires_once_the_other_path_ended_elsewhere(start: Start) -> None:
    run = start(definition("inclusive_gateway"), variables={"giftWrap": True, "declaredValue": 900})
    run.complete_job("Activity_wrap")
    assert joining(run) == ["Gateway_join"]
    run.complete_job("Activity_insure", {"policy": {"number": None}})  # refused: this token ends at Event_refused
    assert run.waiting_at() == ["Activity_handover"]  # nothing can reach the join any more
    run.complete_job("Activity_handover")
    assert run.status == "completed"
    assert path(run)[-4:] == ["Event_refused", "Gateway_join", "Activity_handover", "Event_dispatched"]
    assert run.variables["policyNumber"] is None


# --- event-based gateway: invoice payment (Camunda 8) ------------------------------------


def test_the_file_reads_as_an_event_based_gateway_with_a_receive_task() -> None:
    elements = definition("event_based_gateway").elements
    assert isinstance(elements["Gateway_wait"], EventBasedGateway)
    cancelled = elements["Activity_cancelled"]
    assert isinstance(cancelled, ReceiveTask)
    assert (cancelled.message, cancelled.correlation_key) == ("invoice.cancelled", "invoiceId")
    remind = elements["Activity_remind"]
    assert isinstance(remind, SendTask) and remind.task_type == "mail.reminder"


def test_the_gateway_waits_for_all_three_events_at_once(start: Start) -> None:
    run = start(definition("event_based_gateway"), variables={"invoiceId": "INV-7", "reminders": 0})
    assert run.waiting_at() == ["Activity_cancelled", "Event_overdue", "Event_paid"]
    assert {(w.message, w.correlation_key) for w in run.waits("message")} == {
        ("invoice.paid", "INV-7"),
        ("invoice.cancelled", "INV-7"),
    }
    assert run.timer("Event_overdue").due == run.now + timedelta(days=14)


def test_the_payment_arrives_first_and_the_other_events_are_discarded(start: Start) -> None:
    run = start(definition("event_based_gateway"), variables={"invoiceId": "INV-7", "reminders": 0})
    run.correlate("invoice.paid", {"amount": 120}, correlation_key="INV-7")
    assert run.waiting_at() == ["Activity_book"]  # the timer and the receive task are closed
    run.complete_job("Activity_book")
    assert run.status == "completed" and run.variables["amount"] == 120
    assert path(run) == [
        "StartEvent_sent",
        "Gateway_again",
        "Gateway_wait",
        "Event_paid",
        "Activity_book",
        "Event_settled",
    ]


def test_the_timer_fires_first_a_reminder_goes_out_and_the_race_starts_again(start: Start) -> None:
    run = start(definition("event_based_gateway"), variables={"invoiceId": "INV-7", "reminders": 0})
    assert run.advance(timedelta(days=14)) == ["Event_overdue"]
    assert run.waiting_at() == ["Activity_remind"]
    assert run.job("Activity_remind").payload == {"invoiceId": "INV-7"}
    run.complete_job("Activity_remind")
    assert run.waiting_at() == ["Activity_cancelled", "Event_overdue", "Event_paid"]  # back at the gateway
    assert run.variables["reminders"] == 1
    run.correlate("invoice.paid", correlation_key="INV-7")
    run.complete_job("Activity_book")
    assert run.status == "completed"
    assert path(run).count("Gateway_wait") == 2


def test_a_cancellation_reaches_the_receive_task_first(start: Start) -> None:
    run = start(definition("event_based_gateway"), variables={"invoiceId": "INV-7", "reminders": 0})
    run.correlate("invoice.cancelled", {"reason": "duplicate"}, correlation_key="INV-7")
    assert run.status == "completed" and run.waits() == []
    assert path(run)[-2:] == ["Activity_cancelled", "Event_voided"]
    assert run.variables["reason"] == "duplicate"
