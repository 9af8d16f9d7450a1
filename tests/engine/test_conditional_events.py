"""Conditional events, written from BPMN 2.0.2 10.5.5 (ConditionalEventDefinition) and the
way Camunda 7 evaluates them: on entry and whenever variables change, firing when the
condition becomes true. Each scenario runs straight and with reloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from legato.model.elements import (
    BoundaryEvent,
    ConditionalDefinition,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    MessageDefinition,
    ParallelGateway,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
    UserTask,
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


S, E = StartEvent(id="s"), EndEvent(id="e")


def test_an_intermediate_condition_waits_until_a_variable_makes_it_true(start: Start) -> None:
    ready = IntermediateCatchEvent(id="ready", event=ConditionalDefinition(condition="=stock >= 10"))
    definition = process(
        S, UserTask(id="count"), ready, service("ship"), E, flows="s>ready ready>count count>ship ship>e"
    )
    run = start(definition, variables={"stock": 3})
    assert run.waiting_at() == [] and waiting(run) == ["ready"]
    run2 = start(definition, variables={"stock": 12})  # already true on entry: passes at once
    assert run2.waiting_at() == ["count"]


def service(element_id: str) -> ServiceTask:
    return ServiceTask(id=element_id, task_type=element_id)


def waiting(run: EngineHarness) -> list[str]:
    return sorted(w.element for w in run.state.waits.values() if w.kind == "condition")


def test_an_interrupting_conditional_boundary_fires_when_another_path_changes_the_variable(start: Start) -> None:
    cancelled = BoundaryEvent(
        id="cancelled", attached_to="review", event=ConditionalDefinition(condition="order.cancelled == True")
    )
    definition = process(
        S,
        ParallelGateway(id="fork"),
        UserTask(id="review"),
        cancelled,
        service("watch_mail"),
        service("refund"),
        E,
        EndEvent(id="e2"),
        EndEvent(id="e3"),
        flows="s>fork fork>review fork>watch_mail review>e watch_mail>e3 cancelled>refund refund>e2",
    )
    run = start(definition, variables={"order": {"cancelled": False}})
    assert run.waiting_at() == ["review", "watch_mail"] and waiting(run) == ["cancelled"]
    run.complete_job("watch_mail", {"order": {"cancelled": True}})  # the customer cancelled by mail
    assert run.waiting_at() == ["refund"] and waiting(run) == []
    assert ("element_terminated", "review") in run.trail()


def test_a_non_interrupting_condition_fires_on_each_rise(start: Start) -> None:
    hot = BoundaryEvent(
        id="hot", attached_to="watch", cancel_activity=False, event=ConditionalDefinition(condition="t > 30")
    )
    definition = process(
        S,
        service("start_watch"),
        SubProcess(id="watch"),
        StartEvent(id="w_s", parent="watch"),
        IntermediateCatchEvent(id="reading", parent="watch", event=MessageDefinition(message="temp")),
        IntermediateCatchEvent(id="reading2", parent="watch", event=MessageDefinition(message="temp")),
        IntermediateCatchEvent(id="reading3", parent="watch", event=MessageDefinition(message="temp")),
        EndEvent(id="w_e", parent="watch"),
        hot,
        IntermediateThrowEvent(id="alarm"),
        E,
        EndEvent(id="e2"),
        flows="s>start_watch start_watch>watch watch>e w_s>reading reading>reading2 reading2>reading3 "
        "reading3>w_e hot>alarm alarm>e2",
    )
    run = start(definition, variables={"t": 20})
    run.complete_job("start_watch")
    run.correlate("temp", {"t": 35})  # rises above 30: fires
    run.correlate("temp", {"t": 36})  # still above: does not fire again
    run.correlate("temp", {"t": 31})
    assert [h.element for h in run.history("boundary_triggered")] == ["hot"]
    assert run.status == "completed"


def test_a_conditional_event_subprocess_starts_when_the_condition_rises(start: Start) -> None:
    elements = [
        S,
        UserTask(id="work"),
        UserTask(id="sign"),
        E,
        SubProcess(id="escalation", triggered_by_event=True),
        StartEvent(
            id="late", parent="escalation", event=ConditionalDefinition(condition="=days > 3"), interrupting=False
        ),
        ServiceTask(id="notify", task_type="notify", parent="escalation"),
        EndEvent(id="done", parent="escalation"),
    ]
    flows = "s>work work>sign sign>e late>notify notify>done"
    run = start(process(*elements, flows=flows), variables={"days": 1})
    assert run.waiting_at() == ["work"]
    run.complete_task("work", {"days": 5})
    assert run.waiting_at() == ["notify", "sign"]  # beside the main path: non-interrupting
    run.complete_job("notify")
    run.complete_task("sign", {"days": 9})  # still above 3: no second start
    assert run.status == "completed"


def test_a_process_may_start_on_a_condition(start: Start) -> None:
    """Its instances start when conditions are evaluated (the store's evaluate_conditions)."""
    begin = StartEvent(id="s", event=ConditionalDefinition(condition="amount > 1000"))
    run = start(process(begin, service("review"), E, flows="s>review review>e"), start_event="s")
    assert run.waiting_at() == ["review"]
