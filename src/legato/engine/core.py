"""The engine's two entry points: start an instance, apply a command to one.

Both are pure functions: definition, state, command and `now` in; new state and effects
out. The caller's state is never changed, so a store can retry a failed transaction with
the state it loaded, and a test can replay a command against the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from legato.engine import effects as fx
from legato.engine.calls import call_again, complete_call, escalate_call, fail_call, hold_call
from legato.engine.commands import (
    ActOnUserTask,
    CancelInstance,
    Command,
    CompleteCallActivity,
    CompleteJob,
    CompleteUserTask,
    CorrelateMessage,
    EscalateCallActivity,
    FailCallActivity,
    FailJob,
    FireTimer,
    HoldCallActivity,
    MigrateInstance,
    ModifyInstance,
    RetryIncident,
    SetVariables,
    ThrowError,
    TriggerSignal,
)
from legato.engine.decisions import decision_payload
from legato.engine.event_subprocess import arm, triggered
from legato.engine.expressions import timer_due
from legato.engine.migrate import migrate
from legato.engine.modify import modify
from legato.engine.state import (
    ACTIVE,
    BODY,
    CALL,
    INCIDENT,
    INCIDENT_COMPLETING,
    INCIDENT_LEAVING,
    INSTANCE,
    JOB,
    MESSAGE,
    MOVING,
    SIGNAL,
    TASK,
    TIMER,
    WAITING,
    InstanceState,
    Wait,
)
from legato.engine.step import ROOT_SCOPE, Step
from legato.errors import (
    EvaluationError,
    ExpressionInvalid,
    IncidentNotOpen,
    InstanceNotActive,
    StaleCommand,
    VariablesInvalid,
)
from legato.expressions.feel import feel_clock
from legato.model.elements import (
    BoundaryEvent,
    BusinessRuleTask,
    ConditionalDefinition,
    MessageDefinition,
    ReceiveTask,
    RetryPolicy,
    ServiceTask,
    SignalDefinition,
    StartEvent,
    TimerDefinition,
    waited_events,
)
from legato.model.process import ProcessDefinition


@dataclass(frozen=True, slots=True)
class StepResult:
    state: InstanceState
    effects: list[fx.Effect]


def start(
    definition: ProcessDefinition,
    *,
    instance_id: str,
    variables: dict[str, Any],
    now: datetime,
    actor: str | None = None,
    start_event: str | None = None,
    caller: tuple[str, int] | None = None,
) -> StepResult:
    """Create an instance and run it to its first wait states; `caller` is the instance and
    wait of the call activity that called it (engine/calls.py)."""
    state = InstanceState(id=instance_id, process=definition.id, variables=dict(variables), caller=caller)
    step = Step(definition, state, now, actor)
    implicit = definition.implicit_starts(None) if start_event is None else ()
    if start_event is None and not implicit:
        event = definition.none_start_event(None)
        if event is None:
            raise StaleCommand(f"process {definition.id!r} has no plain start event; send its message")
        start_event = event.id
    started: dict[str, Any] = {"variables": dict(variables), "start_event": start_event}
    if implicit:
        started["implicit_start"] = [element.id for element in implicit]  # BPMN 2.0.2, 10.5.2
    if caller is not None:
        started["called_by"] = {"instance_id": caller[0], "wait": caller[1]}
    step.record("instance_started", None, started)
    with feel_clock(now):  # FEEL's now() is the step's injected time, so a replay agrees
        arm(step, None, ROOT_SCOPE)
        if start_event is not None:
            step.agenda.append(step.new_token(start_event, ROOT_SCOPE))
        else:
            step.start_scope(ROOT_SCOPE, None)
        step.run()
    return StepResult(state, step.effects)


def apply(definition: ProcessDefinition, state: InstanceState, command: Command, now: datetime) -> StepResult:
    """Apply one command; raise StaleCommand if the wait it answers is no longer open."""
    if state.status != ACTIVE:
        raise InstanceNotActive(f"instance {state.id} is {state.status}")
    if isinstance(command, MigrateInstance):
        # the one command that changes the definition: it runs on the plan's two versions
        migrated, effects = migrate(command.plan, state, now, command.actor)
        return StepResult(migrated, effects)
    step = Step(definition, state.copy(), now, command.actor)
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise TypeError(f"unknown command {type(command).__name__}")
    with feel_clock(now):  # FEEL's now() is the step's injected time, so a replay agrees
        handler(step, command)
        step.run()
    return StepResult(step.state, step.effects)


def _wait(step: Step, wait_id: int, *kinds: str) -> Wait:
    wait = step.state.waits.get(wait_id)
    if wait is None or wait.kind not in kinds:
        raise StaleCommand(f"instance {step.state.id} is not waiting on {wait_id}")
    return wait


def _open_job(step: Step, wait_id: int) -> Wait:
    """The job a handler reports on; a job held by an incident takes no reports."""
    wait = _wait(step, wait_id, JOB)
    if wait.incident:
        raise StaleCommand(f"job {wait_id} of {step.state.id} is held by an incident")
    return wait


def _hold_job(step: Step, wait: Wait, error_type: str, message: str, details: str | None = None, **data: Any) -> None:
    """Stop a job in an incident; retrying the incident runs the job again."""
    wait.incident = True
    step.effects.append(fx.HoldJob(wait=wait.id, error=message))
    step.effects.append(
        fx.CreateIncident(wait=wait.id, element=wait.element, error_type=error_type, message=message, details=details)
    )
    step.record("incident_created", wait.element, {**data, "error_type": error_type, "message": message})


def _complete_job(step: Step, command: Any) -> None:
    assert isinstance(command, CompleteJob)
    wait = _open_job(step, command.wait)
    try:
        step.complete_activity(step.state.tokens[wait.token], command.variables)
    except (EvaluationError, ExpressionInvalid) as exc:
        # The result cannot be mapped into the instance and is not kept: running the job
        # again, after a fix, is the one way to get a result that can.
        _hold_job(step, wait, "ExpressionError", str(exc))


def _fail_job(step: Step, command: Any) -> None:
    assert isinstance(command, FailJob)
    wait = _open_job(step, command.wait)
    element = step.definition.elements[wait.element]
    # a service task's own policy; a message throw event's job retries by the defaults
    policy = element.retry if isinstance(element, ServiceTask) else RetryPolicy()
    if command.retries is not None:  # an external worker decides (Camunda's failure semantics)
        exhausted = command.retries <= 0
    else:
        exhausted = command.error_type in policy.non_retryable or command.attempt >= policy.max_attempts
    if exhausted:
        _hold_job(step, wait, command.error_type, command.message, command.details, attempt=command.attempt)
        return
    if command.retries is not None and command.retry_in is not None:
        delay = max(0.0, command.retry_in)
    else:
        delay = policy.backoff(command.attempt, command.jitter)
    step.effects.append(
        fx.RetryJob(wait=wait.id, due=step.schedule_due(delay), attempts=command.attempt, error=command.message)
    )
    data: dict[str, Any] = {"attempt": command.attempt, "error_type": command.error_type, "message": command.message}
    if command.retries is not None:  # what the worker decided: the next fetch tells it (Jobs.retries_left)
        data["retries_left"] = command.retries
    step.record("job_failed", wait.element, {**data, "retry_in": round(delay, 3)})


def _throw_error(step: Step, command: Any) -> None:
    assert isinstance(command, ThrowError)
    wait = _open_job(step, command.wait)
    token = step.state.tokens[wait.token]
    changed = step.set_variables(command.variables, token)
    step.record("error_thrown", wait.element, {"code": command.code, "message": command.message, "variables": changed})
    if not step.throw_error(token, command.code, command.message, from_activity=True):
        message = f"BPMN error {command.code!r} was thrown but no boundary event catches it"
        _hold_job(step, wait, "UnhandledBpmnError", message)


def trigger_event(step: Step, wait: Wait, data: dict[str, Any], variables: dict[str, Any]) -> None:
    """A timer, message or signal arrived for a catch event, a receive task, an event after
    an event-based gateway, or a boundary event."""
    element = step.definition.elements[wait.element]
    token = step.state.tokens[wait.token]
    if isinstance(element, StartEvent):
        triggered(step, wait, token, data, variables)  # an event subprocess's trigger
        return
    if not isinstance(element, BoundaryEvent):
        if isinstance(element, ReceiveTask) and token.element == element.id:
            step.complete_activity(token, variables)  # outputs, boundary waits, on
            return
        step.close_wait(wait, "completed")
        if token.element != element.id:
            # The first event after an event-based gateway (BPMN 2.0, 10.6.6): the other
            # events' waits close, and the token moves on from the event that occurred.
            step.close_waits_of(token)
            step.record("element_passed", token.element, {"event": element.id})
            token.element = element.id
            token.flow = None
        changed = step.set_variables(variables, token)
        step.record("element_completed", element.id, {**data, "variables": changed} if changed else data)
        token.state = MOVING
        step.leave_safely(token)
        return
    if element.cancel_activity:
        step.close_wait(wait, "completed")
        changed = step.set_variables(variables, token)
        step.interrupt_into(token, element, {**data, "variables": changed} if changed else data)
        return
    # Non-interrupting (BPMN 2.0, 10.5.6): the activity goes on, a new path starts here,
    # and a cycle timer or a message boundary stays armed for the next occurrence.
    step.close_wait(wait, "completed")
    changed = step.set_variables(variables, token)
    event = element.event
    if isinstance(event, TimerDefinition):
        fired = wait.fired + 1
        due = timer_due(event, step.view(token), step.now, fired, step.now, element.id)
        if due is not None and event.kind == "cycle":
            new_wait = step.open_wait(token, TIMER, element.id, fired)
            step.effects.append(fx.ScheduleJob(wait=new_wait.id, element=element.id, due=due))
    elif isinstance(event, MessageDefinition | SignalDefinition):
        step.open_event_wait(token, element.id, event)
    elif isinstance(event, ConditionalDefinition):
        step.open_event_wait(token, element.id, event, fired=1)  # true now: fire again only after false
    token.state = "waiting"
    successor = step.new_token(element.id, token.scope)
    step.record("boundary_triggered", element.id, {**data, "variables": changed} if changed else data)
    step.leave_safely(successor)


def _fire_timer(step: Step, command: Any) -> None:
    assert isinstance(command, FireTimer)
    wait = _wait(step, command.wait, TIMER)
    trigger_event(step, wait, {"trigger": "timer"}, {})


def _correlate(step: Step, command: Any) -> None:
    assert isinstance(command, CorrelateMessage)
    wait = _wait(step, command.wait, MESSAGE)
    target = step.definition.elements[wait.element]
    if isinstance(target, ReceiveTask):
        expected = {target.message}
    else:  # a Multiple start event of an event subprocess may wait for several
        expected = {e.message for e in waited_events(target) if isinstance(e, MessageDefinition)}
    if command.message not in expected:
        raise StaleCommand(f"instance {step.state.id} does not wait for message {command.message!r} on {command.wait}")
    trigger_event(step, wait, {"trigger": "message", "message": command.message}, command.variables)


def _trigger_signal(step: Step, command: Any) -> None:
    assert isinstance(command, TriggerSignal)
    wait = _wait(step, command.wait, SIGNAL)
    events = waited_events(step.definition.elements[wait.element])
    if not any(isinstance(e, SignalDefinition) and e.signal == command.signal for e in events):
        raise StaleCommand(f"instance {step.state.id} does not wait for signal {command.signal!r} on {command.wait}")
    trigger_event(step, wait, {"trigger": "signal", "signal": command.signal}, command.variables)


def _complete_user_task(step: Step, command: Any) -> None:
    assert isinstance(command, CompleteUserTask)
    wait = _wait(step, command.wait, TASK)
    token = step.state.tokens[wait.token]
    step.close_wait(wait, "completed")
    step.complete_activity(token, command.variables)


def _act_on_user_task(step: Step, command: Any) -> None:
    assert isinstance(command, ActOnUserTask)
    wait = _wait(step, command.wait, TASK)
    if command.changes:
        step.effects.append(fx.UpdateUserTask(wait=wait.id, changes=dict(command.changes)))
    step.record(f"task_{command.action}", wait.element, command.data)


def _retry_incident(step: Step, command: Any) -> None:
    assert isinstance(command, RetryIncident)
    wait = _wait(step, command.wait, JOB, CALL, INCIDENT, INCIDENT_LEAVING, INCIDENT_COMPLETING)
    if not wait.incident:
        raise IncidentNotOpen(f"instance {step.state.id} has no open incident on {command.wait}")
    token = step.state.tokens[wait.token]
    if command.variables:
        changed = step.set_variables(dict(command.variables), token)
        step.record("variables_changed", wait.element, {"variables": changed, "reason": "incident retry"})
    step.effects.append(fx.ResolveIncident(wait=wait.id, actor=step.actor))
    step.record("incident_resolved", wait.element)
    if wait.kind == JOB:
        element = step.definition.elements[wait.element]
        payload = None
        if isinstance(element, ServiceTask):
            # the inputs are read again: the variables may have been repaired since the job was made
            try:
                if isinstance(element, BusinessRuleTask):
                    payload = decision_payload(step, element, token)
                else:
                    payload = step.inputs(element, token)
            except (EvaluationError, ExpressionInvalid) as exc:
                _hold_job(step, wait, "InputMappingFailed", str(exc))
                return
        wait.incident = False
        step.effects.append(fx.RetryJob(wait=wait.id, due=step.now, attempts=0, payload=payload))
        return
    if wait.kind == CALL:
        call_again(step, wait)
        return
    del step.state.waits[wait.id]
    token = step.state.tokens[wait.token]
    if wait.kind == INCIDENT_COMPLETING:
        body = next((sc for sc in step.state.scopes.values() if sc.token == token.id and sc.kind == BODY), None)
        if body is not None:
            # a multi-instance output element failed: collect the finished instances again
            finished = [
                sc
                for sc in list(step.state.scopes.values())
                if sc.parent == body.id and sc.kind == INSTANCE and not step.tokens_in(sc.id)
            ]
            token.state = WAITING
            for instance in finished:
                step.after_token_ended(instance.id)
            return
        step.complete_subprocess(token)
        return
    token.state = MOVING
    if wait.kind == INCIDENT_LEAVING:
        step.leave_safely(token)
    else:
        step.agenda.append(token)


def _set_variables(step: Step, command: Any) -> None:
    assert isinstance(command, SetVariables)
    for name in (*command.variables, *command.remove):
        if not isinstance(name, str) or not name:
            raise VariablesInvalid(f"variable names must be non-empty strings, not {name!r}")
    overlap = set(command.variables) & set(command.remove)
    if overlap:
        raise VariablesInvalid(f"variables both set and removed: {', '.join(sorted(overlap))}")
    changed = step.set_variables(dict(command.variables))
    removed = [name for name in command.remove if name in step.state.variables]
    for name in removed:
        del step.state.variables[name]
    if removed:
        step.conditions_dirty = True
    if changed or removed:
        step.record("variables_changed", None, {"variables": changed, "removed": removed})


def _modify(step: Step, command: Any) -> None:
    assert isinstance(command, ModifyInstance)
    modify(step, tuple(command.cancel), tuple(command.start_before), command.reason)


def _cancel(step: Step, command: Any) -> None:
    assert isinstance(command, CancelInstance)
    step.terminate_within(ROOT_SCOPE)
    step.end_instance("cancelled")


_HANDLERS = {
    CompleteJob: _complete_job,
    FailJob: _fail_job,
    ThrowError: _throw_error,
    FireTimer: _fire_timer,
    CorrelateMessage: _correlate,
    TriggerSignal: _trigger_signal,
    CompleteUserTask: _complete_user_task,
    ActOnUserTask: _act_on_user_task,
    RetryIncident: _retry_incident,
    SetVariables: _set_variables,
    CancelInstance: _cancel,
    ModifyInstance: _modify,
    CompleteCallActivity: complete_call,
    FailCallActivity: fail_call,
    EscalateCallActivity: escalate_call,
    HoldCallActivity: hold_call,
}
