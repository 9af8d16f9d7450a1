"""Variable mappings where Camunda files put them (item 8 of #6), straight and reloaded.

Camunda 7's input and output parameters on an embedded subprocess (the subprocess's local
variables) and on a receive task (local to the task, seen by its output mappings), Camunda
8's output mappings on a start event, and data associations that assign (BPMN 2.0.2,
10.4.5), as hand-written and interchange files carry them.
"""

from __future__ import annotations

import pytest
from conformance_helpers import Start, definition

from legato.errors import ModelInvalid
from legato.formats.bpmn import load_bpmn
from legato.model.elements import StartEvent, SubProcess, UserTask

CARRIER = {"name": "Rhenus", "fee": 15}


def test_mappings_are_read_from_subprocesses_receive_tasks_and_data_associations() -> None:
    elements = definition("io_mappings_camunda7").elements
    ask = elements["askCarrier"]
    assert isinstance(ask, SubProcess)
    assert ask.inputs == {"carrierName": "carrier.name", "quote": "${0}"}
    assert ask.outputs == {"price": "quote", "askedCarrier": "carrierName"}
    assert elements["waitForQuote"].inputs == {"fee": "carrier.fee"}  # type: ignore[union-attr]
    accept = elements["acceptQuote"]
    assert isinstance(accept, UserTask)
    # the data input's and the data object's names, from the ids the assignments name
    assert (accept.inputs, accept.outputs) == ({"offer": "${price}"}, {"decision": "${accepted}"})


def test_the_subprocess_and_the_receive_task_keep_their_locals_to_themselves(start: Start) -> None:
    run = start(definition("io_mappings_camunda7"), variables={"carrier": CARRIER})
    assert run.waiting_at() == ["waitForQuote"]
    run.correlate("freight.quote", {"amount": 400})
    # the receive task's output saw its own input (fee); the subprocess's outputs saw its locals
    assert run.variables["price"] == 415 and run.variables["askedCarrier"] == "Rhenus"
    for local in ("fee", "quote", "carrierName"):
        assert local not in run.variables, local
    assert "amount" not in run.variables  # with output mappings, only what they map is written
    task = run.task("acceptQuote")
    assert task.payload == {"offer": 415}  # the data input association's assignment
    run.complete_task("acceptQuote", {"accepted": True, "note": "fine"})
    assert run.variables["decision"] is True and "note" not in run.variables
    assert run.status == "completed" and run.state.scopes == {}


def test_a_failing_subprocess_input_is_an_incident_that_enters_again(start: Start) -> None:
    run = start(definition("io_mappings_camunda7"), variables={"carrier": None})
    assert "carrier" in run.incident("askCarrier").message
    assert run.state.scopes == {}  # nothing was entered
    run.state.variables["carrier"] = CARRIER  # as an operator's fix of the variable would
    run.retry_incident("askCarrier")
    assert run.waiting_at() == ["waitForQuote"]


def test_start_event_outputs_set_the_counter_the_loop_ends_on(start: Start) -> None:
    start_event = definition("start_outputs_camunda8").elements["StartEvent_1"]
    assert isinstance(start_event, StartEvent) and start_event.outputs == {"attempts": "=0", "orderId": "order.id"}
    run = start(definition("start_outputs_camunda8"), variables={"order": {"id": "O-7"}})
    assert run.variables["attempts"] == 0 and run.variables["orderId"] == "O-7"
    for _ in range(3):
        run.complete_job("Activity_charge", {"paid": False})
    assert run.status == "completed" and run.variables["attempts"] == 3


def test_a_paid_charge_ends_at_once(start: Start) -> None:
    run = start(definition("start_outputs_camunda8"), variables={"order": {"id": "O-8"}})
    run.complete_job("Activity_charge", {"paid": True})
    assert run.status == "completed" and run.variables["attempts"] == 1


_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
             xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t">
  <process id="p" isExecutable="true">
    <startEvent id="s">{start}</startEvent>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <userTask id="t">
      {task}
    </userTask>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e" />
    <endEvent id="e" />
  </process>
</definitions>"""


@pytest.mark.parametrize(
    ("start_event", "task", "element", "line", "reason"),
    [
        (
            "",
            "<dataInputAssociation><targetRef>x</targetRef><transformation>a</transformation></dataInputAssociation>",
            "t",
            8,
            "transformation is not supported",
        ),
        (
            "",
            "<dataInputAssociation><assignment><from>a</from></assignment></dataInputAssociation>",
            "t",
            8,
            "needs a from and a to",
        ),
        (
            "",
            "<extensionElements><camunda:inputOutput><camunda:inputParameter name='a'>${b}</camunda:inputParameter>"
            "</camunda:inputOutput></extensionElements>"
            "<dataInputAssociation><assignment><from>c</from><to>a</to></assignment></dataInputAssociation>",
            "t",
            8,
            "a: mapped by an input mapping and a data association",
        ),
        (
            "<extensionElements><zeebe:ioMapping><zeebe:input source='=1' target='a' /></zeebe:ioMapping>"
            "</extensionElements>",
            "",
            "s",
            6,
            "a start event takes output mappings only",
        ),
        (
            "<extensionElements><zeebe:ioMapping><zeebe:output source='=1 +' target='a' /></zeebe:ioMapping>"
            "</extensionElements>",
            "",
            "s",
            6,
            "outputs.a:",
        ),
    ],
)
def test_mappings_that_cannot_run_are_refused(
    start_event: str, task: str, element: str, line: int, reason: str
) -> None:
    with pytest.raises(ModelInvalid) as caught:
        load_bpmn(_TASK.format(start=start_event, task=task))
    problems = caught.value.problems
    assert any(p.element == element and p.line == line and reason in p.message for p in problems), problems


def test_an_association_without_an_assignment_only_draws() -> None:
    text = _TASK.format(
        start="", task="<dataInputAssociation><sourceRef>d</sourceRef><targetRef>x</targetRef></dataInputAssociation>"
    )
    task = load_bpmn(text).definition.elements["t"]
    assert task.inputs == {} and task.outputs == {}  # type: ignore[union-attr]
