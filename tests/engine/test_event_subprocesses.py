"""Event subprocesses, written from BPMN 2.0.2 10.3.5 (Event Sub-Processes) and 10.5.2
(start events of event subprocesses, interrupting or not). Each runs straight and reloaded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.errors import ModelInvalid
from legato.model.elements import (
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    IntermediateThrowEvent,
    MessageDefinition,
    SequenceFlow,
    ServiceTask,
    SignalDefinition,
    StartEvent,
    SubProcess,
    TimerDefinition,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def process(*elements: Any, flows: str) -> ProcessDefinition:
    built = [SequenceFlow(id=f"{a}_{b}", source=a, target=b) for a, b in (pair.split(">") for pair in flows.split())]
    definition = ProcessDefinition(id="p", elements={e.id: e for e in elements}, flows={f.id: f for f in built})
    validate(definition)
    return definition


def with_event_subprocess(trigger: Any, *, interrupting: bool, parent: str | None = None) -> list[Any]:
    """An event subprocess `handler` that runs a `react` job when `trigger` occurs."""
    return [
        SubProcess(id="handler", parent=parent, triggered_by_event=True),
        StartEvent(id="on_event", parent="handler", event=trigger, interrupting=interrupting),
        ServiceTask(id="react", task_type="react", parent="handler"),
        EndEvent(id="handled", parent="handler"),
    ]


def main_path(*extra: Any) -> ProcessDefinition:
    return process(
        StartEvent(id="s"),
        ServiceTask(id="work", task_type="work"),
        EndEvent(id="e"),
        *extra,
        flows="s>work work>e on_event>react react>handled",
    )


def test_a_non_interrupting_message_event_subprocess_runs_beside_the_main_path(start: Start) -> None:
    message = MessageDefinition(message="note", correlation_key="order")
    run = start(main_path(*with_event_subprocess(message, interrupting=False)), variables={"order": "A-1"})
    assert run.waiting_at() == ["on_event", "work"]
    run.correlate("note", {"text": "hi"}, correlation_key="A-1")
    assert run.waiting_at() == ["on_event", "react", "work"]  # and it stays armed
    run.complete_job("react")
    run.complete_job("work")
    assert run.status == "completed" and run.waits() == []  # the listener closed with the process
    assert run.variables["text"] == "hi"


def test_the_process_waits_for_a_running_non_interrupting_event_subprocess(start: Start) -> None:
    signal = SignalDefinition(signal="audit")
    run = start(main_path(*with_event_subprocess(signal, interrupting=False)))
    run.signal("audit")
    run.complete_job("work")
    assert run.status == "active" and run.waiting_at() == ["on_event", "react"]  # still armed while it lives
    run.complete_job("react")
    assert run.status == "completed"


def test_an_interrupting_timer_event_subprocess_ends_the_main_path(start: Start) -> None:
    timer = TimerDefinition(kind="duration", value="PT1H")
    run = start(main_path(*with_event_subprocess(timer, interrupting=True)))
    run.fire_timer("on_event")
    assert run.waiting_at() == ["react"]
    assert ("element_terminated", "work") in run.trail()
    run.complete_job("react")
    assert run.status == "completed"


def test_an_error_event_subprocess_catches_an_error_thrown_in_its_scope(start: Start) -> None:
    run = start(main_path(*with_event_subprocess(ErrorDefinition(code="BROKEN"), interrupting=True)))
    assert run.waiting_at() == ["work"]  # an error trigger needs no listener
    run.throw_error("work", "BROKEN")
    assert run.waiting_at() == ["react"]
    run.complete_job("react")
    assert run.status == "completed"


def test_an_error_event_subprocess_inside_a_subprocess_catches_before_the_boundary(start: Start) -> None:
    elements = [
        StartEvent(id="s"),
        SubProcess(id="sub"),
        StartEvent(id="in_s", parent="sub"),
        ServiceTask(id="work", task_type="work", parent="sub"),
        EndEvent(id="in_e", parent="sub"),
        *with_event_subprocess(ErrorDefinition(code=None), interrupting=True, parent="sub"),
        ServiceTask(id="after", task_type="after"),
        EndEvent(id="e"),
    ]
    definition = process(*elements, flows="s>sub sub>after after>e in_s>work work>in_e on_event>react react>handled")
    run = start(definition)
    run.throw_error("work", "ANYTHING")  # a catch-all error start event
    run.complete_job("react")
    assert run.waiting_at() == ["after"]  # the subprocess completed through its event subprocess


def test_a_non_interrupting_escalation_event_subprocess(start: Start) -> None:
    throw = IntermediateThrowEvent(id="raise", event=EscalationDefinition(code="SLOW"))
    elements = [
        StartEvent(id="s"),
        throw,
        ServiceTask(id="work", task_type="work"),
        EndEvent(id="e"),
        *with_event_subprocess(EscalationDefinition(code="SLOW"), interrupting=False),
    ]
    run = start(process(*elements, flows="s>raise raise>work work>e on_event>react react>handled"))
    assert sorted(run.waiting_at()) == ["react", "work"]
    run.complete_job("work")
    run.complete_job("react")
    assert run.status == "completed"


def test_cancelling_closes_the_listeners(start: Start) -> None:
    run = start(main_path(*with_event_subprocess(SignalDefinition(signal="x"), interrupting=True)))
    run.cancel()
    assert run.status == "cancelled" and run.waits() == []


def test_an_event_subprocess_needs_a_trigger_and_no_flows() -> None:
    with pytest.raises(ModelInvalid, match="exactly one start event with a timer"):
        main_path(
            SubProcess(id="handler", triggered_by_event=True),
            StartEvent(id="on_event", parent="handler"),
            ServiceTask(id="react", task_type="react", parent="handler"),
            EndEvent(id="handled", parent="handler"),
        )
