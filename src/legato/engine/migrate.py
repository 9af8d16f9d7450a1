"""Migrating a running instance to another version of its process (Camunda 7's migration).

A *migration plan* maps elements of the instance's version (the source) to elements of
the target version. `plan_migration` generates the mapping for every element whose id is
in both versions with the same type in the same subprocess, and the caller's instructions
override or add to it; `check_plan` validates the mapping against both definitions
before any instance is touched. `migrate` then moves one instance: its tokens, scopes and
waits take the ids of the target's elements, and the waits keep their ids, so a job, a
timer, a subscription or a user task stays the same row (its due time, attempts, lock,
assignee and comments stay too) and only learns its new element.

What the plan must say, checked per plan (`check_plan`) and per instance (`migrate`),
each problem naming the element and why (`MigrationInvalid`, 422 MIGRATION_INVALID):

- every element named exists in its version; an element is mapped to an element of the
  same kind (a user task to a user task, a timer catch event to a timer catch event,
  a multi-instance activity to a multi-instance activity);
- an element inside a subprocess is mapped into the subprocess its own subprocess is
  mapped to (the scopes of the two versions must agree), a boundary event onto the
  activity its own activity is mapped to;
- every element at which a token of the instance stands, every running subprocess, and
  every completed activity that can still be compensated, is mapped;
- a token waiting at a parallel or inclusive join keeps the flow it arrived by.

As in Camunda 7, what the target adds is created and what it drops is removed: a boundary
event of the source that is not mapped has its wait closed (its timer deleted, its
subscription dropped); a boundary event of the target that nothing maps to is armed on
each token waiting at its activity; event subprocesses of running scopes likewise. Timers
keep their due time (Camunda's default: the event trigger is not updated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from legato.engine import effects as fx
from legato.engine.event_subprocess import is_listener
from legato.engine.multi_instance import is_instance_token
from legato.engine.state import (
    ACTIVE,
    INCIDENT,
    INCIDENT_COMPLETING,
    INCIDENT_LEAVING,
    JOB,
    JOINING,
    MESSAGE,
    SIGNAL,
    SUBPROCESS,
    WAITING,
    InstanceState,
)
from legato.engine.step import ROOT_SCOPE, WAITED_FOR, Step
from legato.errors import EvaluationError, ExpressionInvalid, InstanceNotActive, MigrationInvalid
from legato.model.elements import (
    Activity,
    BoundaryEvent,
    Element,
    EndEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    ServiceTask,
    StartEvent,
    SubProcess,
)
from legato.model.process import ProcessDefinition

Problem = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class MigrationPlan:
    """Where each element of the source version goes in the target version."""

    source: ProcessDefinition
    target: ProcessDefinition
    mapping: Mapping[str, str] = field(default_factory=dict)
    from_version: int | None = None
    to_version: int | None = None


def kind_of(element: Element) -> str:
    """What must agree for two elements to be mapped: the element's type, its event's type,
    and for activities whether they are multi-instance and for subprocesses whether event-triggered."""
    parts = [type(element).__name__]
    event = getattr(element, "event", None)
    if event is not None:
        parts.append(type(event).__name__)
    if isinstance(element, Activity):
        parts.append("multi-instance" if element.multi_instance is not None else "single")
    if isinstance(element, SubProcess):
        parts.append("event" if element.triggered_by_event else "embedded")
    return "/".join(parts)


def _describe(element: Element) -> str:
    text = type(element).__name__
    event = getattr(element, "event", None)
    if event is not None:
        text += f" ({type(event).__name__.removesuffix('Definition').lower()})"
    if isinstance(element, Activity) and element.multi_instance is not None:
        text += " (multi-instance)"
    if isinstance(element, SubProcess) and element.triggered_by_event:
        text = "event SubProcess"
    return text


def generated_mapping(source: ProcessDefinition, target: ProcessDefinition) -> dict[str, str]:
    """The mapping for unchanged ids: the same id in both versions, of the same kind, in
    subprocesses of the same ids (Camunda's `mapEqualActivities`)."""
    mapping: dict[str, str] = {}
    for element_id, element in source.elements.items():
        other = target.elements.get(element_id)
        if other is None or kind_of(other) != kind_of(element) or other.parent != element.parent:
            continue
        if isinstance(element, BoundaryEvent) and (
            not isinstance(other, BoundaryEvent) or other.attached_to != element.attached_to
        ):
            continue
        mapping[element_id] = element_id
    # an element whose subprocess is not mapped cannot be either
    changed = True
    while changed:
        changed = False
        for element_id in list(mapping):
            parent = source.elements[element_id].parent
            if parent is not None and parent not in mapping:
                del mapping[element_id]
                changed = True
    return mapping


def plan_migration(
    source: ProcessDefinition,
    target: ProcessDefinition,
    instructions: Mapping[str, str] | None = None,
    *,
    generate: bool = True,
    from_version: int | None = None,
    to_version: int | None = None,
) -> MigrationPlan:
    """The plan: the generated mapping (unless `generate` is off) with `instructions`
    (source id -> target id) over it, validated (raises MigrationInvalid)."""
    mapping = generated_mapping(source, target) if generate else {}
    mapping.update(instructions or {})
    plan = MigrationPlan(
        source=source, target=target, mapping=mapping, from_version=from_version, to_version=to_version
    )
    problems = check_plan(plan)
    if problems:
        raise MigrationInvalid(problems)
    return plan


def check_plan(plan: MigrationPlan) -> list[Problem]:
    """What is wrong with the mapping itself, whichever instance it is applied to."""
    source, target, mapping = plan.source, plan.target, plan.mapping
    problems: list[Problem] = []
    for source_id, target_id in mapping.items():
        element = source.elements.get(source_id)
        if element is None:
            problems.append(_problem(source_id, f"the source version has no element {source_id!r}"))
            continue
        other = target.elements.get(target_id)
        if other is None:
            problems.append(_problem(source_id, f"is mapped to {target_id!r}, which the target version does not have"))
            continue
        if kind_of(element) != kind_of(other):
            problems.append(
                _problem(
                    source_id,
                    f"is a {_describe(element)} but is mapped to {target_id!r}, a {_describe(other)}",
                    target=target_id,
                )
            )
            continue
        problem = _scope_problem(plan, element, other)
        if problem is not None:
            problems.append(problem)
            continue
        if isinstance(element, BoundaryEvent) and isinstance(other, BoundaryEvent):
            attached = mapping.get(element.attached_to)
            if attached != other.attached_to:
                problems.append(
                    _problem(
                        source_id,
                        f"is attached to {element.attached_to!r}, which maps to {attached!r}, "
                        f"but {target_id!r} is attached to {other.attached_to!r}",
                        target=target_id,
                    )
                )
    return problems


def _scope_problem(plan: MigrationPlan, element: Element, other: Element) -> Problem | None:
    """An element must move into the subprocess its own subprocess moves to."""
    if element.parent is None and other.parent is None:
        return None
    if element.parent is None:
        return _problem(
            element.id,
            f"is at the process level but {other.id!r} is inside subprocess {other.parent!r}",
            target=other.id,
        )
    mapped_parent = plan.mapping.get(element.parent)
    if mapped_parent is None:
        return _problem(
            element.id, f"is inside subprocess {element.parent!r}, which the plan does not map", target=other.id
        )
    if mapped_parent != other.parent:
        where = f"inside subprocess {other.parent!r}" if other.parent is not None else "at the process level"
        return _problem(
            element.id,
            f"is inside {element.parent!r}, which maps to {mapped_parent!r}, but {other.id!r} is {where}",
            target=other.id,
        )
    return None


def _problem(element: str | None, reason: str, **more: Any) -> Problem:
    return {"element": element, "reason": reason, **more}


def migrate(
    plan: MigrationPlan, state: InstanceState, now: datetime, actor: str | None
) -> tuple[InstanceState, list[fx.Effect]]:
    """Move one instance to the plan's target version; its state is not changed (a copy is).

    Raises MigrationInvalid naming every element of the instance that cannot move, or
    InstanceNotActive for an ended instance.
    """
    if state.status != ACTIVE:
        raise InstanceNotActive(f"instance {state.id} is {state.status}")
    source, target, mapping = plan.source, plan.target, plan.mapping
    step = Step(target, state.copy(), now, actor)
    old = Step(source, state, now, actor)  # read-only: which tokens are listeners in the source
    problems: list[Problem] = []
    listeners = {t.id for t in state.tokens.values() if is_listener(old, t)}
    # -- what must move: tokens, running subprocesses, compensable activities, joins
    for token in state.tokens.values():
        if token.id in listeners:
            continue
        if token.element not in mapping:
            problems.append(_problem(token.element, "a token is at this element, which the plan does not map"))
        elif token.state == JOINING and token.flow is not None:
            flow = target.flows.get(token.flow)
            if flow is None or flow.target != mapping[token.element]:
                problems.append(
                    _problem(
                        token.element,
                        f"a token waits at this join, having arrived by flow {token.flow!r}, "
                        f"which does not lead to {mapping[token.element]!r} in the target version",
                    )
                )
    for scope in state.scopes.values():
        if scope.element is not None and scope.element not in mapping:
            problems.append(_problem(scope.element, "this subprocess is running; the plan does not map it"))
    for entry in state.compensable:
        for element_id in (entry[1], entry[2]):
            if element_id is not None and element_id not in mapping:
                problems.append(
                    _problem(element_id, "a completed activity can still be compensated here; the plan does not map it")
                )
    if problems:
        raise MigrationInvalid(_unique(problems))
    # -- move
    moved: dict[str, str] = {}
    removed: list[str] = []
    for token in list(step.state.tokens.values()):
        if token.id in listeners:
            holder = mapping.get(token.element)
            waits = [w for w in step.state.waits.values() if w.token == token.id]
            if holder is None or any(w.element not in mapping for w in waits):
                for wait in waits:
                    step.close_wait(wait)
                del step.state.tokens[token.id]
                removed.append(token.element)
                continue
        moved[token.element] = mapping[token.element]
        token.element = mapping[token.element]
        if token.flow is not None and token.flow not in target.flows:
            token.flow = None
    for scope in step.state.scopes.values():
        if scope.element is not None:
            scope.element = mapping[scope.element]
    for wait in list(step.state.waits.values()):
        if wait.element not in mapping:
            # a boundary event the target drops, or the event of a listener dropped above
            step.close_wait(wait)
            removed.append(wait.element)
            continue
        before = wait.element
        wait.element = mapping[before]
        moved[before] = wait.element
        step.effects.append(_moved_wait(step, wait.id, wait.kind, wait.element))
    for entry in step.state.compensable:
        entry[1] = mapping[entry[1]]
        if entry[2] is not None:
            entry[2] = mapping[entry[2]]
    for entries in step.state.compensating.values():
        for entry in entries:
            entry[1] = mapping.get(entry[1], entry[1])
            if entry[2] is not None:
                entry[2] = mapping.get(entry[2], entry[2])
    added = _arm_new_events(step, plan, problems)
    if problems:
        raise MigrationInvalid(_unique(problems))
    step.record(
        "instance_migrated",
        None,
        {
            "from_version": plan.from_version,
            "to_version": plan.to_version,
            "mapping": dict(sorted(moved.items())),
            **({"removed": sorted(set(removed))} if removed else {}),
            **({"added": sorted(set(added))} if added else {}),
        },
    )
    step.run()
    return step.state, step.effects


def _moved_wait(step: Step, wait_id: int, kind: str, element_id: str) -> fx.MoveWait:
    """The effect that tells the wait's row (job, subscription, task, incident) its new element,
    with the target's task type or message name where the row keeps one."""
    element = step.definition.elements[element_id]
    task_type = None
    message = None
    if kind == JOB and isinstance(element, ServiceTask | IntermediateThrowEvent | EndEvent):
        task_type = element.task_type
    elif kind == MESSAGE:
        event = getattr(element, "event", None)
        message = element.message if isinstance(element, ReceiveTask) else getattr(event, "message", None)
    elif kind == SIGNAL:
        message = getattr(getattr(element, "event", None), "signal", None)
    return fx.MoveWait(wait=wait_id, element=element_id, task_type=task_type, message=message)


def _arm_new_events(step: Step, plan: MigrationPlan, problems: list[Problem]) -> list[str]:
    """Open the waits of what the target adds: boundary events on waiting activities and
    event subprocesses of running scopes that no source element maps to."""
    mapped_to = set(plan.mapping.values())
    added: list[str] = []
    target = plan.target
    incident_kinds = (INCIDENT, INCIDENT_LEAVING, INCIDENT_COMPLETING)
    for token in list(step.state.tokens.values()):
        element = target.elements[token.element]
        if token.state != WAITING or not isinstance(element, Activity) or is_listener(step, token):
            continue
        if is_instance_token(step, token):
            continue  # boundary events belong to the multi-instance body
        waits = [w for w in step.state.waits.values() if w.token == token.id]
        if any(w.kind in incident_kinds for w in waits):
            continue  # entering or leaving failed: its boundary events open when it is entered again
        for boundary in target.boundary_events(element.id):
            if boundary.id in mapped_to or not isinstance(boundary.event, WAITED_FOR):
                continue
            try:
                step.open_event_wait(token, boundary.id, boundary.event)
            except (EvaluationError, ExpressionInvalid) as exc:
                problems.append(_problem(boundary.id, f"this new boundary event cannot be armed: {exc}"))
                continue
            added.append(boundary.id)
    scopes: list[tuple[str | None, int]] = [(None, ROOT_SCOPE)]
    scopes += [(s.element, s.id) for s in step.state.scopes.values() if s.kind == SUBPROCESS and s.element]
    for scope_element, scope_id in scopes:
        if scope_element is not None and not isinstance(target.elements.get(scope_element), SubProcess):
            continue
        for child in target.children(scope_element):
            if not (isinstance(child, SubProcess) and child.triggered_by_event) or child.id in mapped_to:
                continue
            [start] = target.start_events(child.id)
            if not isinstance(start, StartEvent) or not isinstance(start.event, WAITED_FOR):
                continue
            listener = step.new_token(child.id, scope_id)
            listener.state = WAITING
            try:
                step.open_trigger(listener, step.trigger(start.id, start.event, token=listener))
            except (EvaluationError, ExpressionInvalid) as exc:
                problems.append(_problem(child.id, f"this new event subprocess cannot be armed: {exc}"))
                continue
            added.append(child.id)
    return added


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, Any]] = set()
    found = []
    for problem in problems:
        key = (problem.get("element"), problem.get("reason"))
        if key not in seen:
            seen.add(key)
            found.append(problem)
    return found
