"""Call activities (BPMN 2.0, 10.3.6): an activity that runs another process and waits.

The engine runs one instance at a time, so a call is a conversation through the shell:

- entering a call activity opens a wait of kind CALL and emits `StartChild`; the store
  starts the child instance in the same transaction, remembering which instance and wait
  called it (the child's state holds the same link as `InstanceState.caller`);
- when the child ends, its own step emits `ReturnToCaller` (see `Step.end_instance`),
  and the store answers the caller's wait with a command: `CompleteCallActivity` (its
  variables go through the activity's outputs), `FailCallActivity` (a BPMN error the child
  did not catch, thrown again by the call activity), or `HoldCallActivity` (the child
  could not start, or was cancelled on its own: an incident; retrying it calls again);
- closing a call wait for any other reason (a boundary event, a terminate end event,
  cancelling the caller) emits `CancelChild`, and the store cancels the child and, through
  the child's own call waits, its children.

An error that nothing in a called instance catches does not become an incident there:
the called instance ends as terminated, naming the error in its history, and the error
goes on to the call activity (`Step.throw_error`), as BPMN 2.0, 10.5.5 has errors travel
up "to the parent Process". A child's incidents of every other kind stay in the child,
where a person can retry them, and the caller keeps waiting.

While a call activity holds an incident its wait stays open, so its timer and message
boundary events stay armed: an SLA timer still fires and cancels nothing but the wait.
"""

from __future__ import annotations

from typing import Any

from legato.engine import effects as fx
from legato.engine.commands import CompleteCallActivity, EscalateCallActivity, FailCallActivity, HoldCallActivity
from legato.engine.state import CALL, TERMINATED, Token, Wait
from legato.engine.step import ROOT_SCOPE, Step
from legato.errors import EvaluationError, ExpressionInvalid, StaleCommand
from legato.model.elements import CallActivity

# How a call wait closes when its child ended by itself: nothing is left to cancel.
RETURNED = "returned"


def call_activity(step: Step, token: Token) -> None:
    """Enter a call activity: evaluate what the child starts with, then wait for it.

    Inputs and boundary triggers are evaluated before any wait opens, so a failure leaves
    nothing behind and the incident's retry enters the activity afresh.
    """
    element = step.definition.elements[token.element]
    assert isinstance(element, CallActivity)
    variables = step.inputs(element, token)
    boundaries = step.boundary_triggers(element.id, token)
    wait = step.open_wait(token, CALL, element.id)
    _start_child(step, wait, element, variables)
    step.record("element_entered", element.id, _called(element))
    step.open_boundaries(token, boundaries)


def complete_call(step: Step, command: Any) -> None:
    """The child completed: its final variables are the activity's result."""
    assert isinstance(command, CompleteCallActivity)
    wait = _open_call(step, command.wait)
    token = step.state.tokens[wait.token]
    step.close_wait(wait, RETURNED)
    try:
        step.complete_activity(token, command.variables)
    except (EvaluationError, ExpressionInvalid) as exc:
        # As with a job's result: what cannot be mapped is not kept, and calling the
        # process again after a fix is the way to a result that can.
        step.state.waits[wait.id] = wait
        _hold(step, wait, "ExpressionError", str(exc))


def fail_call(step: Step, command: Any) -> None:
    """A BPMN error ended the child: the call activity throws it (BPMN 2.0, 10.5.5)."""
    assert isinstance(command, FailCallActivity)
    wait = _open_call(step, command.wait)
    token = step.state.tokens[wait.token]
    step.record("error_thrown", wait.element, {"code": command.code, "message": command.message, "by": "child"})
    step.close_wait(wait, RETURNED)
    if step.throw_error(token, command.code, command.message, from_activity=True):
        return
    step.state.waits[wait.id] = wait
    message = f"BPMN error {command.code!r} ended the called process and no boundary event catches it"
    _hold(step, wait, "UnhandledBpmnError", message, code=command.code)


def hold_call(step: Step, command: Any) -> None:
    assert isinstance(command, HoldCallActivity)
    wait = _open_call(step, command.wait)
    _hold(step, wait, command.error_type, command.message)


def call_again(step: Step, wait: Wait) -> None:
    """Retrying a call activity's incident starts a new child on the same wait.

    Its inputs are evaluated again, against the variables as they are now; boundary
    events stay as they were, so a deadline keeps counting from the first entry.
    """
    element = step.definition.elements[wait.element]
    assert isinstance(element, CallActivity)
    variables = step.inputs(element, step.state.tokens[wait.token])
    wait.incident = False
    _start_child(step, wait, element, variables)
    step.record("call_repeated", element.id, _called(element))


def escape_error(step: Step, code: str | None, message: str | None) -> bool:
    """An error that nothing in a called instance caught ends it, and goes on to the call
    activity that called it; True if so. An instance nobody called keeps its error, as
    an incident at the throw.

    Every path of the instance ends, as a terminate end event would end them; the
    history names the error, which the caller's call activity then throws.
    """
    if step.state.caller is None:
        return False
    for token in step.tokens_in(ROOT_SCOPE):
        step.terminate_token(token)
    step.state.status = TERMINATED
    step.record("instance_terminated", None, {"error": code, "message": message})
    step.effects.append(fx.InstanceEnded(status=TERMINATED))
    return_to_caller(step, TERMINATED, code, message, failed=True)
    return True


def return_to_caller(
    step: Step, status: str, code: str | None = None, message: str | None = None, *, failed: bool = False
) -> None:
    """A called instance ended: the store answers its call activity (`Step.end_instance`)."""
    assert step.state.caller is not None
    parent, wait = step.state.caller
    step.effects.append(
        fx.ReturnToCaller(
            parent=parent,
            wait=wait,
            status=status,
            variables=dict(step.state.variables),
            error_code=code,
            error_message=message,
            failed=failed or code is not None,
        )
    )


def _start_child(step: Step, wait: Wait, element: CallActivity, variables: dict[str, Any]) -> None:
    step.effects.append(
        fx.StartChild(
            wait=wait.id,
            element=element.id,
            process=element.process,
            version=element.version,
            variables=variables,
            tenant=element.tenant,
        )
    )


def _called(element: CallActivity) -> dict[str, Any]:
    data: dict[str, Any] = {"process": element.process}
    if element.version is not None:
        data["version"] = element.version
    if element.tenant is not None:
        data["tenant"] = element.tenant
    return data


def _open_call(step: Step, wait_id: int) -> Wait:
    wait = step.state.waits.get(wait_id)
    if wait is None or wait.kind != CALL:
        raise StaleCommand(f"instance {step.state.id} is not waiting on {wait_id}")
    if wait.incident:
        raise StaleCommand(f"call {wait_id} of {step.state.id} is held by an incident")
    return wait


def _hold(step: Step, wait: Wait, error_type: str, message: str, **data: Any) -> None:
    """Stop a call activity in an incident; its child is no longer running."""
    wait.incident = True
    step.effects.append(fx.CreateIncident(wait=wait.id, element=wait.element, error_type=error_type, message=message))
    step.record("incident_created", wait.element, {**data, "error_type": error_type, "message": message})


def escalate_call(step: Step, command: Any) -> None:
    """An escalation from the called instance: the call activity's boundary events catch it
    as if the call activity had thrown it, then the caller's enclosing scopes, then its own
    caller; uncaught, it is recorded and nothing else happens (as for any escalation)."""
    from legato.engine.throws import escalate, find_escalation_catch

    assert isinstance(command, EscalateCallActivity)
    wait = step.state.waits.get(command.wait)
    if wait is None or wait.kind != CALL:
        raise StaleCommand(f"instance {step.state.id} has no call waiting on {command.wait}")
    token = step.state.tokens[wait.token]
    step.record("escalation_from_call", wait.element, {"code": command.code})
    boundary = find_escalation_catch(step, wait.element, command.code)
    if boundary is None:
        if not escalate(step, token, command.code):
            step.record("escalation_uncaught", wait.element, {"code": command.code})
        return
    if boundary.cancel_activity:
        step.interrupt_into(token, boundary, {"code": command.code})  # the call closes: the child is cancelled
        return
    successor = step.new_token(boundary.id, token.scope)
    step.record("boundary_triggered", boundary.id, {"code": command.code})
    step.leave_safely(successor)


def escalate_to_caller(step: Step, code: str) -> bool:
    """Send an escalation nothing here caught to the call activity that called this instance."""
    if step.state.caller is None:
        return False
    parent, wait = step.state.caller
    step.effects.append(fx.EscalateToCaller(parent=parent, wait=wait, code=code))
    step.record("escalation_to_caller", None, {"code": code})
    return True
