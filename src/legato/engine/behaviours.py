"""What each BPMN element does when a token arrives at it.

One small function per element kind, registered in `BEHAVIOURS`; an element added to the
model gets its behaviour here and nothing else in the engine changes. Each function
either moves the token on (`step.leave`), parks it in a wait state, or ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from legato.engine import effects as fx
from legato.engine.calls import call_activity
from legato.engine.compensation import cancel_transaction
from legato.engine.compensation import throw as compensate
from legato.engine.decisions import business_rule_task
from legato.engine.event_subprocess import arm
from legato.engine.expressions import condition, evaluate, json_value, run_script
from legato.engine.gateways import event_based_gateway, inclusive_gateway
from legato.engine.loops import enter_loop
from legato.engine.multi_instance import enter_body, is_instance_token
from legato.engine.state import JOB, JOINING, LOCALS, WAITING, Scope, Token
from legato.engine.step import Step
from legato.engine.throws import broadcast, escalate, intermediate_throw_event
from legato.engine.user_tasks import user_task
from legato.errors import EvaluationError
from legato.model.elements import (
    Activity,
    BusinessRuleTask,
    CallActivity,
    CancelDefinition,
    CompensationDefinition,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    ManualTask,
    MessageDefinition,
    ParallelGateway,
    ReceiveTask,
    ScriptTask,
    SendTask,
    ServiceTask,
    SignalDefinition,
    StartEvent,
    SubProcess,
    Task,
    TerminateDefinition,
    UserTask,
)

Behaviour = Callable[[Step, Token], None]


def enter(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    if isinstance(element, Activity) and element.multi_instance is not None and not is_instance_token(step, token):
        enter_body(step, token, element)  # BPMN 2.0, 10.3.7: the body runs the instances
        return
    if isinstance(element, Activity) and element.loop is not None and not is_instance_token(step, token):
        enter_loop(step, token, element)  # BPMN 2.0.2, 10.3.8: the body runs the iterations
        return
    BEHAVIOURS[element.kind](step, token)


def start_event(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, StartEvent)
    if element.outputs:
        # evaluated together, before anything is written; a failure is an incident here
        variables = step.view(token)
        mapped = {
            name: json_value(evaluate(source, variables), f"output {name!r}")
            for name, source in element.outputs.items()
        }
        changed = step.set_variables(mapped, token)
        step.record("element_passed", token.element, {"variables": changed} if changed else None)
    else:
        step.record("element_passed", token.element)
    step.leave(token)


def end_event(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, EndEvent)
    event = element.event
    if isinstance(event, ErrorDefinition):
        # BPMN 2.0, 10.5.5: an error end event throws to the enclosing scopes' catchers; one
        # without a code (no errorRef, or an error without errorCode) reaches catch-alls only.
        step.record("error_thrown", token.element, {"code": event.code})
        if not step.throw_error(token, event.code, event.message, from_activity=False):
            step.raise_incident(token, UnhandledBpmnError(event.code))
        return
    if isinstance(event, EscalationDefinition):
        assert event.code is not None
        if not escalate(step, token, event.code):
            step.record("escalation_uncaught", token.element, {"code": event.code})
        if token.id not in step.state.tokens:
            return  # an interrupting catch cancelled the scope this end event was in
    elif isinstance(event, SignalDefinition):
        broadcast(step, token.element, event)
        if token.id not in step.state.tokens:
            return  # an interrupting catch of its own signal ended the scope this end event was in
    elif isinstance(event, CompensationDefinition) and compensate(step, token, event):
        return  # the end event completes when the last undo is done (engine/compensation.py)
    elif isinstance(event, MessageDefinition):
        send_message(step, token, event, element.task_type)
        return  # the path ends when the send job completes
    elif isinstance(event, CancelDefinition):
        cancel_transaction(step, token)
        return  # the transaction ends through its cancel boundary event
    step.record("element_passed", token.element)
    scope = token.scope
    step.consume(token)
    if isinstance(event, TerminateDefinition):
        # BPMN 2.0, 10.5.3: terminate ends every path of the scope it is in; at process
        # level the instance ends as terminated, in a subprocess the subprocess completes.
        if scope == 0:
            step.terminate_within(0)
            step.end_instance("terminated")
            return
        step.terminate_scope(step.state.scopes[scope])
    step.after_token_ended(scope)


def exclusive_gateway(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, ExclusiveGateway)
    chosen = None
    for flow in step.definition.outgoing(token.element):
        if flow.id == element.default:
            continue
        if flow.condition is None or _holds(step, flow.condition, token):
            chosen = flow
            break
    if chosen is None and element.default is not None:
        chosen = step.definition.flows[element.default]
    if chosen is None and not step.definition.outgoing(token.element):
        step.record("element_passed", token.element)
        step.end_path(token)  # BPMN 2.0.2, 10.5.3: a gateway without outgoing flows ends the path
        return
    if chosen is None:
        raise EvaluationError(f"no condition of exclusive gateway {token.element!r} is true and it has no default flow")
    step.record("element_passed", token.element, {"flow": chosen.id})
    step.leave(token, [chosen])


def parallel_gateway(step: Step, token: Token) -> None:
    """Join one token from each incoming flow, then fork onto every outgoing flow."""
    incoming = step.definition.incoming(token.element)
    if len(incoming) > 1:
        token.state = JOINING
        waiting = [
            t
            for t in step.state.tokens.values()
            if t.element == token.element and t.scope == token.scope and t.state == JOINING
        ]
        by_flow: dict[str | None, Token] = {}
        for candidate in waiting:
            by_flow.setdefault(candidate.flow, candidate)
        if any(flow.id not in by_flow for flow in incoming):
            return
        for flow in incoming:
            joined = by_flow[flow.id]
            if joined is not token:
                step.consume(joined)
    step.record("element_passed", token.element)
    step.leave(token, list(step.definition.outgoing(token.element)))


def service_task(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, ServiceTask)
    payload = step.inputs(element, token)
    boundaries = step.boundary_triggers(element.id, token)
    schedule_job(step, token, element.task_type, payload, element.timeout)
    step.open_boundaries(token, boundaries)


def schedule_job(step: Step, token: Token, task_type: str, payload: dict[str, Any], timeout: float | None) -> None:
    """The token waits for a handler's job: service, send and business rule tasks, message throws."""
    wait = step.open_wait(token, JOB, token.element)
    step.effects.append(
        fx.ScheduleJob(
            wait=wait.id, element=token.element, due=step.now, task_type=task_type, payload=payload, timeout=timeout
        )
    )
    step.record("element_entered", token.element)


def send_message(step: Step, token: Token, event: MessageDefinition, task_type: str | None) -> None:
    """A message throw event (BPMN 2.0, 10.5.4): its handler sends, with the message's name."""
    assert task_type is not None  # validation guarantees it
    schedule_job(step, token, task_type, {**step.view(token), "message": event.message}, None)


def script_task(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, ScriptTask)
    # The script is the task's handler, so its input mappings are what it is handed; they
    # overlay the instance variables, as local variables do in BPMN engines.
    scope = {**step.view(token), **step.inputs(element, token)} if element.inputs else step.view(token)
    assigned = {
        name: json_value(value, f"script variable {name!r}")
        for name, value in run_script(element.script, scope).items()
    }
    changed = step.apply_outputs(element, assigned, token)
    step.record("element_passed", element.id, {"variables": changed} if changed else None)
    # The script's assignments are made: an incident on the way out must not run it again.
    step.leave_safely(token)


def subprocess(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, SubProcess)
    local = step.inputs(element, token) if element.inputs else {}  # may raise, before anything changed
    boundaries = step.boundary_triggers(element.id, token)
    scope = step.enter_scope(token, element.id)
    scope.variables.update(local)  # BPMN 2.0.2, 10.3.5: the subprocess's own data, as Camunda creates it
    token.state = WAITING
    step.record("element_entered", element.id)
    step.open_boundaries(token, boundaries)
    arm(step, element.id, scope.id)
    step.start_scope(scope.id, element.id)


def intermediate_catch_event(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, IntermediateCatchEvent)
    if isinstance(element.event, LinkDefinition):
        step.record("element_passed", element.id)  # entered only by its throw's jump
        step.leave(token)
        return
    step.open_event_wait(token, element.id, element.event)
    step.record("element_entered", element.id)


def boundary_event(step: Step, token: Token) -> None:
    # Boundary events are entered through their trigger (Step.interrupt_into); a token
    # that lands here moving (after an incident retry) simply continues.
    step.leave(token)


def _holds(step: Step, source: str, token: Token) -> bool:
    return condition(source, step.view(token))


class UnhandledBpmnError(Exception):
    def __init__(self, code: str | None) -> None:
        what = f"BPMN error {code!r}" if code is not None else "a BPMN error without a code"
        super().__init__(f"{what} was thrown but no boundary event catches it")


def pass_through(step: Step, token: Token) -> None:
    """A task without behaviour (BPMN 2.0, 10.3.3 Task, Manual Task): the token passes."""
    step.record("element_passed", token.element)
    step.leave(token)


def receive_task(step: Step, token: Token) -> None:
    element = step.definition.elements[token.element]
    assert isinstance(element, ReceiveTask)
    message = MessageDefinition(message=element.message, correlation_key=element.correlation_key)
    local = step.inputs(element, token) if element.inputs else {}
    triggers = [step.trigger(element.id, message, token=token, local=local), *step.boundary_triggers(element.id, token)]
    if local:
        # Camunda 7's input parameters: the task's local variables, which its correlation
        # key and output mappings see, and nothing after it
        scope = Scope(step.next_id(), element.id, token.scope, token.id, LOCALS, local)
        step.state.scopes[scope.id] = scope
    step.record("element_entered", element.id)
    for trigger in triggers:
        step.open_trigger(token, trigger)


BEHAVIOURS: dict[str, Behaviour] = {
    StartEvent.kind: start_event,
    EndEvent.kind: end_event,
    ExclusiveGateway.kind: exclusive_gateway,
    ParallelGateway.kind: parallel_gateway,
    ServiceTask.kind: service_task,
    UserTask.kind: user_task,
    ScriptTask.kind: script_task,
    SubProcess.kind: subprocess,
    IntermediateCatchEvent.kind: intermediate_catch_event,
    "boundaryEvent": boundary_event,
    SendTask.kind: service_task,
    ReceiveTask.kind: receive_task,
    Task.kind: pass_through,
    ManualTask.kind: pass_through,
    IntermediateThrowEvent.kind: intermediate_throw_event,
    InclusiveGateway.kind: inclusive_gateway,
    EventBasedGateway.kind: event_based_gateway,
    CallActivity.kind: call_activity,
    BusinessRuleTask.kind: business_rule_task,
}
