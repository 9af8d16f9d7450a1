"""Event subprocesses (BPMN 2.0, 10.3.5): a subprocess with no flows that starts when its
start event's trigger occurs while its enclosing scope (the process or a subprocess) runs.

Timer, message and signal triggers are armed when the scope is entered: a *listener*
token waits at the event subprocess, in the enclosing scope, with the trigger's wait;
listeners do not keep a scope alive, and close when the scope ends. Error and escalation
triggers need no listener: a thrown error or escalation looks for them on its way out,
in each scope before the boundary events of that scope's activity (10.5.5).

When the trigger occurs, an interrupting event subprocess first ends everything else in
the scope, listeners included; a non-interrupting one runs beside it, and its listener
stays armed (a cycle timer for its next occurrence). When an event subprocess completes,
its token ends in the enclosing scope, which then completes if nothing else runs there.
"""

from __future__ import annotations

from typing import Any

from legato.engine.state import CONDITION, MESSAGE, MOVING, SIGNAL, TIMER, WAITING, Token, Wait
from legato.engine.step import ROOT_SCOPE, Step
from legato.model.elements import (
    ConditionalDefinition,
    ErrorDefinition,
    EscalationDefinition,
    MessageDefinition,
    SignalDefinition,
    StartEvent,
    SubProcess,
    TimerDefinition,
)


def _event_subprocesses(step: Step, scope_element: str | None) -> list[tuple[SubProcess, StartEvent]]:
    found = []
    for element in step.definition.children(scope_element):
        if isinstance(element, SubProcess) and element.triggered_by_event:
            [start] = step.definition.start_events(element.id)
            found.append((element, start))
    return found


def arm(step: Step, scope_element: str | None, scope_id: int) -> None:
    """Open the waits of the scope's timer, message and signal event subprocesses.

    A Multiple start event (BPMN 2.0.2, 10.5.2) gets one listener with a wait per trigger:
    the first that occurs starts the event subprocess.
    """
    for subprocess, start in _event_subprocesses(step, scope_element):
        events = [event for event in start.triggers if isinstance(event, _LISTENED)]
        if not events:
            continue
        listener = step.new_token(subprocess.id, scope_id)
        listener.state = WAITING
        triggers = [step.trigger(start.id, event, token=listener) for event in events]  # all evaluated first
        for trigger in triggers:
            step.open_trigger(listener, trigger)


_LISTENED = (TimerDefinition, MessageDefinition, SignalDefinition, ConditionalDefinition)


def is_listener(step: Step, token: Token) -> bool:
    element = step.definition.elements[token.element]
    return (
        isinstance(element, SubProcess)
        and element.triggered_by_event
        and not any(scope.token == token.id for scope in step.state.scopes.values())
    )


def disarm(step: Step, scope_id: int) -> None:
    """The scope ends: its listeners close, without a trace in the history."""
    for token in [t for t in step.tokens_in(scope_id) if is_listener(step, t)]:
        step.close_waits_of(token)
        del step.state.tokens[token.id]


def triggered(step: Step, wait: Wait, listener: Token, data: dict[str, Any], variables: dict[str, Any]) -> None:
    """A listener's timer, message or signal occurred: start the event subprocess."""
    start = step.definition.elements[wait.element]
    assert isinstance(start, StartEvent) and start.parent is not None
    subprocess = step.definition.elements[start.parent]
    assert isinstance(subprocess, SubProcess)
    step.close_wait(wait, "completed")
    step.set_variables(variables, listener)
    if start.interrupting:
        holder = listener
        step.close_waits_of(listener)  # a Multiple start's other triggers
        _interrupt_scope(step, listener.scope, keep=listener)
    else:
        holder = step.new_token(subprocess.id, listener.scope)
        event = _fired(start, wait, data)
        if isinstance(event, TimerDefinition) and event.kind == "cycle":
            trigger = step.trigger(start.id, event, wait.fired + 1, listener)
            if trigger.due is not None:
                step.open_trigger(listener, trigger, wait.fired + 1)
        elif isinstance(event, MessageDefinition | SignalDefinition):
            step.open_trigger(listener, step.trigger(start.id, event, token=listener))
        elif isinstance(event, ConditionalDefinition):
            step.open_trigger(listener, step.trigger(start.id, event, token=listener), fired=1)
    _run(step, subprocess, start, holder, data)


def _fired(start: StartEvent, wait: Wait, data: dict[str, Any]) -> object:
    """Which of the start event's triggers `wait` was for: a non-interrupting event
    subprocess re-arms that one only (the others' waits are still open)."""
    for event in start.triggers:
        if wait.kind == TIMER and isinstance(event, TimerDefinition):
            return event
        if wait.kind == CONDITION and isinstance(event, ConditionalDefinition):
            return event
        if wait.kind == MESSAGE and isinstance(event, MessageDefinition) and event.message == data.get("message"):
            return event
        if wait.kind == SIGNAL and isinstance(event, SignalDefinition) and event.signal == data.get("signal"):
            return event
    return start.event


def catch(
    step: Step, scope_element: str | None, scope_id: int, kind: type, code: str | None, data: dict[str, Any]
) -> bool:
    """Start the scope's error or escalation event subprocess for `code`, if it has one.

    As for boundary events, one that names the code wins over one that catches all.
    """
    chosen = None
    for subprocess, start in _event_subprocesses(step, scope_element):
        event = start.event
        if isinstance(event, kind) and isinstance(event, ErrorDefinition | EscalationDefinition):
            if code is not None and event.code == code:
                chosen = (subprocess, start)
                break
            if event.code is None and chosen is None:
                chosen = (subprocess, start)
    if chosen is None:
        return False
    subprocess, start = chosen
    if start.interrupting:
        _interrupt_scope(step, scope_id, keep=None)
    holder = step.new_token(subprocess.id, scope_id)
    _run(step, subprocess, start, holder, data)
    return True


def completed(step: Step, holder: Token) -> None:
    """The event subprocess finished: its token ends in the enclosing scope."""
    scope = holder.scope
    step.close_waits_of(holder)
    step.record("element_completed", holder.element)
    step.consume(holder)
    step.after_token_ended(scope)


def _interrupt_scope(step: Step, scope_id: int, keep: Token | None) -> None:
    for token in step.tokens_in(scope_id):
        if token is keep:
            continue
        if is_listener(step, token):
            step.close_waits_of(token)
            del step.state.tokens[token.id]
        else:
            step.terminate_token(token)


def _run(step: Step, subprocess: SubProcess, start: StartEvent, holder: Token, data: dict[str, Any]) -> None:
    holder.element = subprocess.id
    holder.state = WAITING
    scope = step.enter_scope(holder, subprocess.id)
    step.record("event_subprocess_started", subprocess.id, {**data, "interrupting": start.interrupting})
    token = step.new_token(start.id, scope.id)
    token.state = MOVING
    step.agenda.append(token)


__all__ = ["ROOT_SCOPE", "arm", "catch", "completed", "disarm", "is_listener", "triggered"]
