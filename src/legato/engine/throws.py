"""Throw events that do not end a path: links, signals, escalations.

- Link (BPMN 2.0, 10.5.5): the token jumps from a throw to the catch of the same name in
  the same scope, as if a flow connected them.
- Signal (10.5.5): a broadcast. The step emits `BroadcastSignal`; the store delivers it
  to every waiting instance and starts every process with that signal start event, in
  the same transaction. A signal carries no variables of the throwing instance: another
  instance must not see data it was not given (Camunda 8 makes the same choice).
- Escalation (10.5.5): thrown to the enclosing subprocesses, innermost first, where a
  boundary escalation event with the code (or without a code) catches it. Interrupting,
  it cancels the subprocess; non-interrupting, a new path starts and the subprocess goes
  on. Unlike an error, an escalation that nothing catches is not a failure: the
  throwing path simply continues, as in Camunda 8.
"""

from __future__ import annotations

from legato.engine import effects as fx
from legato.engine.event_subprocess import catch
from legato.engine.multi_instance import body_token
from legato.engine.state import MOVING, SIGNAL, SUBPROCESS, Token
from legato.engine.step import ROOT_SCOPE, Step
from legato.model.elements import (
    BoundaryEvent,
    CompensationDefinition,
    EscalationDefinition,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    SignalDefinition,
    waited_events,
)


def intermediate_throw_event(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, IntermediateThrowEvent)
    event = element.event
    if isinstance(event, LinkDefinition):
        jump(step, token, event)
        return
    if isinstance(event, SignalDefinition):
        broadcast(step, token.element, event)
        if token.id not in step.state.tokens:
            return  # an interrupting catch of its own signal ended the throwing path
    elif isinstance(event, EscalationDefinition):
        if not escalate(step, token, event.code or ""):
            step.record("escalation_uncaught", token.element, {"code": event.code})
        if token.id not in step.state.tokens:
            return  # an interrupting catch cancelled the scope this token was in
    elif isinstance(event, MessageDefinition):
        from legato.engine.behaviours import send_message

        send_message(step, token, event, element.task_type)
        return  # goes on when the send job completes
    elif isinstance(event, CompensationDefinition):
        from legato.engine.compensation import throw as compensate

        if compensate(step, token, event):
            return  # goes on when the last undo is done
    else:
        step.record("element_passed", token.element)
    step.leave(token)


def jump(step: Step, token: Token, event: LinkDefinition) -> None:
    scope_element = step.definition.elements[token.element].parent
    [catch] = [
        e
        for e in step.definition.children(scope_element)
        if isinstance(e, IntermediateCatchEvent) and isinstance(e.event, LinkDefinition) and e.event.name == event.name
    ]
    step.record("element_passed", token.element, {"link": event.name})
    token.element = catch.id
    token.flow = None
    token.state = MOVING
    step.record("element_passed", catch.id, {"link": event.name})
    step.leave(token)


def broadcast(step: Step, element_id: str, event: SignalDefinition) -> None:
    """Throw a signal: this instance's own catches get it at once, every other's through
    the store (`BroadcastSignal`).

    BPMN 2.0.2, 10.5.5: a signal reaches every catch of it, the thrower's own included.
    They are triggered here, in the step that throws, while the throwing path still runs,
    so a signal end event that ends the last path still starts the instance's signal event
    subprocess, and a catch that this very delivery opens again (a non-interrupting
    listener) does not get the same signal twice. The caller checks that its token
    survived: an interrupting catch may have ended it.
    """
    from legato.engine.core import trigger_event

    step.record("signal_thrown", element_id, {"signal": event.signal})
    data = {"trigger": "signal", "signal": event.signal}
    for wait in [w for w in step.state.waits.values() if w.kind == SIGNAL]:
        caught = waited_events(step.definition.elements[wait.element])
        if not any(isinstance(e, SignalDefinition) and e.signal == event.signal for e in caught):
            continue
        if wait.id in step.state.waits and wait.token in step.state.tokens:  # not ended by an earlier catch
            trigger_event(step, wait, data, {})
    step.effects.append(fx.BroadcastSignal(signal=event.signal, variables={}, delivered_here=True))


def find_escalation_catch(step: Step, activity_id: str, code: str) -> BoundaryEvent | None:
    catch_all = None
    for boundary in step.definition.boundary_events(activity_id):
        if isinstance(boundary.event, EscalationDefinition):
            if boundary.event.code == code:
                return boundary
            if boundary.event.code is None and catch_all is None:
                catch_all = boundary
    return catch_all


def escalate(step: Step, token: Token, code: str) -> bool:
    """Throw an escalation from `token` to its enclosing subprocesses; True if caught."""
    step.record("escalation_thrown", token.element, {"code": code})
    scope_id = token.scope
    while scope_id != ROOT_SCOPE:
        scope = step.state.scopes[scope_id]
        data = {"code": code}
        if scope.kind == SUBPROCESS and catch(step, scope.element, scope_id, EscalationDefinition, code, data):
            return True  # an escalation event subprocess of this scope
        if scope.kind != SUBPROCESS:
            scope_id = scope.parent if scope.parent is not None else ROOT_SCOPE
            continue  # the body and instances of a multi-instance activity catch nothing
        assert scope.element is not None and scope.token is not None
        boundary = find_escalation_catch(step, scope.element, code)
        if boundary is not None:
            holder = body_token(step, step.state.tokens[scope.token])
            if boundary.cancel_activity:
                step.interrupt_into(holder, boundary, {"code": code})
            else:
                successor = step.new_token(boundary.id, holder.scope)
                step.record("boundary_triggered", boundary.id, {"code": code})
                step.leave_safely(successor)
            return True
        scope_id = scope.parent if scope.parent is not None else ROOT_SCOPE
    if catch(step, None, ROOT_SCOPE, EscalationDefinition, code, {"code": code}):
        return True
    from legato.engine.calls import escalate_to_caller

    return escalate_to_caller(step, code)  # a called instance: on to the call activity
