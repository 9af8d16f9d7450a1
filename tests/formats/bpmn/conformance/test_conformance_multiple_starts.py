"""Start events with several triggers (BPMN 2.0.2, 10.5.2 Multiple): any one starts.

Camunda Modeler draws a Multiple start event as a start event holding several event
definitions. At process level each trigger starts an instance (a ticket by mail or by the
portal); in an event subprocess the first trigger to occur starts it, and a
non-interrupting one stays armed for the others (the customer chases, or four hours pass).
`parallelMultiple="true"`, all triggers needed, is refused with advice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conformance_helpers import FILES, Start, definition, path

from legato import Legato
from legato.errors import ModelInvalid
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.model.elements import MessageDefinition, SignalDefinition, StartEvent, TimerDefinition
from legato.model.serialize import from_dict, to_dict


def test_each_trigger_is_kept() -> None:
    elements = definition("multiple_start_camunda7").elements
    ticket, chased, withdrawn = (
        elements[e] for e in ("StartEvent_ticket", "StartEvent_chased", "StartEvent_withdrawn")
    )
    assert isinstance(ticket, StartEvent) and isinstance(chased, StartEvent) and isinstance(withdrawn, StartEvent)
    assert ticket.triggers == (MessageDefinition(message="ticket.email"), MessageDefinition(message="ticket.portal"))
    assert chased.triggers == (
        MessageDefinition(message="ticket.chased"),
        TimerDefinition(kind="duration", value="PT4H"),
    )
    assert not chased.interrupting
    assert withdrawn.triggers == (
        MessageDefinition(message="ticket.withdrawn"),
        SignalDefinition(signal="support.closed"),
    )
    stored = definition("multiple_start_camunda7")
    assert from_dict(to_dict(stored)) == stored  # the stored form keeps them
    assert load_bpmn(dump_bpmn(stored)).definition.elements["StartEvent_ticket"] == ticket  # and the export


def test_either_message_starts_a_ticket(app: Legato) -> None:
    app.deploy(FILES / "multiple_start_camunda7.bpmn")
    by_mail = app.send_message("ticket.email", variables={"subject": "Printer on fire"})
    by_portal = app.send_message("ticket.portal", variables={"subject": "Password reset"})
    assert by_mail["correlated"] == by_portal["correlated"] == "start"
    for started in (by_mail, by_portal):
        instance = app.instance(started["instance_id"])
        assert "Activity_handle" in instance["waiting_at"]
    subjects = sorted(app.instance(s["instance_id"])["variables"]["subject"] for s in (by_mail, by_portal))
    assert subjects == ["Password reset", "Printer on fire"]


def test_four_hours_or_a_chase_each_notify_the_lead_and_stay_armed(start: Start) -> None:
    run = start(definition("multiple_start_camunda7"), start_event="StartEvent_ticket")
    assert sorted(w.kind for w in run.waits() if w.element == "StartEvent_chased") == ["message", "timer"]
    run.advance(timedelta(hours=4))  # the timer: the lead hears of it
    assert run.job("Activity_notify_lead")
    run.complete_job("Activity_notify_lead")
    assert [w.kind for w in run.waits() if w.element == "StartEvent_chased"] == ["message"]  # a duration fires once
    run.correlate("ticket.chased", {"chasedBy": "mail"})  # and the customer chases: again
    run.complete_job("Activity_notify_lead")
    assert [w.kind for w in run.waits() if w.element == "StartEvent_chased"] == ["message"]  # still armed
    assert "Activity_handle" in run.waiting_at() and run.variables["chasedBy"] == "mail"
    assert [r.element for r in run.history("event_subprocess_started")] == ["Activity_chase", "Activity_chase"]


@pytest.mark.parametrize("how", ["message", "signal"])
def test_a_withdrawal_or_the_closing_signal_ends_the_ticket(start: Start, how: str) -> None:
    run = start(definition("multiple_start_camunda7"), start_event="StartEvent_ticket")
    if how == "message":
        run.correlate("ticket.withdrawn")
    else:
        run.signal("support.closed")
    assert run.status == "completed"
    assert run.waits() == []  # the other trigger's wait closed with the interrupting start
    assert path(run)[-3:] == ["StartEvent_withdrawn", "Event_closed", "Activity_withdrawn"]


def test_all_triggers_needed_is_refused_with_advice() -> None:
    source = (FILES / "multiple_start_camunda7.bpmn").read_text()
    source = source.replace(
        'name="Ticket by mail or portal">', 'name="Ticket by mail or portal" parallelMultiple="true">'
    )
    with pytest.raises(ModelInvalid) as refused:
        load_bpmn(source)
    assert 'parallelMultiple="true") is not supported' in str(refused.value)
    assert "StartEvent_ticket" in str(refused.value)


def test_an_error_among_several_triggers_is_refused() -> None:
    source = (FILES / "multiple_start_camunda7.bpmn").read_text()
    source = source.replace(
        '<bpmn:signalEventDefinition id="SignalEventDefinition_0cls06" signalRef="Signal_closed" />',
        '<bpmn:signalEventDefinition id="SignalEventDefinition_0cls06" signalRef="Signal_closed" />'
        '<bpmn:errorEventDefinition id="ErrorEventDefinition_0x" />',
    )
    with pytest.raises(ModelInvalid, match="takes timers, messages, signals and conditions, not error"):
        load_bpmn(source)
