"""Deploy-time validation: reject a broken model with every element at fault named.

All problems are collected, not just the first, so a modeller fixes a file in one round.
Expressions and timers are compiled here, so that a model that deploys never fails later
for a syntax error.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable

from legato.errors import ExpressionInvalid, ModelInvalid, Problem
from legato.expressions import compile_expression, compile_script
from legato.model.elements import (
    DECISION_RESULT_MAPPINGS,
    DECISION_TASK_TYPE,
    MAX_INSTANCES,
    MESSAGE_TASK_TYPE,
    Activity,
    BoundaryEvent,
    BusinessRuleTask,
    CallActivity,
    CancelDefinition,
    CompensationDefinition,
    ConditionalDefinition,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    MessageRoute,
    MultiInstance,
    ParallelGateway,
    ReceiveTask,
    RetryPolicy,
    ScriptTask,
    ServiceTask,
    SignalDefinition,
    StandardLoop,
    StartEvent,
    SubProcess,
    TerminateDefinition,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.sensitive import check_pattern
from legato.model.timers import TimerInvalid, parse_timer
from legato.model.user_tasks import check_user_task
from legato.model.user_tasks import is_expression as is_task_expression

MAX_ELEMENTS = 5_000
MAX_SENSITIVE = 200
_Add = Callable[[Problem], None]
_END_THROWS = (
    CancelDefinition,
    ErrorDefinition,
    TerminateDefinition,
    EscalationDefinition,
    SignalDefinition,
    CompensationDefinition,
    MessageDefinition,
)
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,199}$")


def validate(definition: ProcessDefinition) -> None:
    """Raise ModelInvalid listing every problem; return quietly for a sound model."""
    problems: list[Problem] = []
    add = problems.append
    if not _ID.match(definition.id or ""):
        add(Problem(element=None, message=f"process id {definition.id!r} is not a valid id"))
    if len(definition.elements) + len(definition.flows) > MAX_ELEMENTS:
        add(Problem(element=None, message=f"more than {MAX_ELEMENTS} elements and flows"))
        raise ModelInvalid(problems)
    _check_ids(definition, add)
    _check_structure(definition, add)
    _check_elements(definition, add)
    _check_flows(definition, add)
    _check_presentation(definition, add)
    _check_sensitive(definition, add)
    if not problems:
        _check_reachable(definition, add)
    if problems:
        raise ModelInvalid(problems)


def _check_sensitive(definition: ProcessDefinition, add: _Add) -> None:
    if len(definition.sensitive) > MAX_SENSITIVE:
        add(Problem(element=None, message=f"more than {MAX_SENSITIVE} sensitive variable names"))
        return
    for pattern in definition.sensitive:
        problem = check_pattern(pattern)
        if problem is not None:
            add(Problem(element=None, message=problem))


def _check_ids(definition: ProcessDefinition, add: _Add) -> None:
    seen: set[str] = set()
    for element_id in definition.elements:
        if not isinstance(element_id, str) or not _ID.match(element_id):
            add(Problem(element=str(element_id), message="not a valid id"))
        seen.add(element_id)
    for flow_id in definition.flows:
        if not isinstance(flow_id, str) or not _ID.match(flow_id):
            add(Problem(element=str(flow_id), message="not a valid id"))
        elif flow_id in seen:
            add(Problem(element=flow_id, message="id is used by an element and a flow"))


def _check_structure(definition: ProcessDefinition, add: _Add) -> None:
    starts = definition.start_events(None)
    if not starts and not definition.implicit_starts(None):
        add(Problem(element=None, message="the process has no start event, and no element without incoming flows"))
    for element in definition.elements.values():
        if element.parent is not None:
            parent = definition.elements.get(element.parent)
            if not isinstance(parent, SubProcess):
                add(Problem(element=element.id, message=f"parent {element.parent!r} is not a subprocess"))
                continue
        if isinstance(element, SubProcess) and element.triggered_by_event:
            inner = definition.start_events(element.id)
            if len(inner) != 1 or not isinstance(
                inner[0].event,
                TimerDefinition
                | MessageDefinition
                | SignalDefinition
                | ErrorDefinition
                | EscalationDefinition
                | ConditionalDefinition
                | CompensationDefinition,
            ):
                add(
                    Problem(
                        element=element.id,
                        message="an event subprocess needs exactly one start event with a timer, message, signal, "
                        "error, escalation, condition or compensation trigger",
                    )
                )
            elif isinstance(inner[0].event, ErrorDefinition) and not inner[0].interrupting:
                add(Problem(element=inner[0].id, message="an error start event always interrupts (BPMN 2.0, 10.5.2)"))
            if definition.incoming(element.id) or definition.outgoing(element.id):
                add(Problem(element=element.id, message="an event subprocess has no incoming or outgoing flows"))
            if definition.boundary_events(element.id):
                add(Problem(element=element.id, message="an event subprocess cannot have boundary events"))
        elif isinstance(element, SubProcess):
            inner = definition.start_events(element.id)
            implicit = not inner and definition.implicit_starts(element.id)
            if not implicit and (len(inner) != 1 or inner[0].event is not None):
                add(
                    Problem(
                        element=element.id,
                        message="an embedded subprocess needs exactly one start event, without trigger, "
                        "or none and elements without incoming flows (BPMN 2.0.2, 10.5.2)",
                    )
                )
    none_starts = [s for s in starts if s.event is None]
    if len(none_starts) > 1:
        add(Problem(element=none_starts[1].id, message="a process may have only one plain start event"))


def _check_elements(definition: ProcessDefinition, add: _Add) -> None:
    for element in definition.elements.values():
        where = element.id
        outgoing = definition.outgoing(where)
        incoming = definition.incoming(where)
        if isinstance(element, StartEvent):
            if incoming:
                add(Problem(element=where, message="a start event cannot have incoming flows"))
            if not outgoing:
                add(Problem(element=where, message="a start event needs an outgoing flow"))
            parent = definition.elements.get(element.parent) if element.parent is not None else None
            in_event_subprocess = isinstance(parent, SubProcess) and parent.triggered_by_event
            if element.parent is not None and element.event is not None and not in_event_subprocess:
                add(Problem(element=where, message="a subprocess start event cannot have a trigger"))
            if element.parent is None and isinstance(element.event, ErrorDefinition | EscalationDefinition):
                add(Problem(element=where, message="only an event subprocess starts on an error or escalation"))
            _check_alternatives(element, add)
            if isinstance(element.event, CompensationDefinition):
                _check_compensation_start(definition, element, add)
        elif isinstance(element, EndEvent):
            if outgoing:
                add(Problem(element=where, message="an end event cannot have outgoing flows"))
            if element.event is not None and not isinstance(element.event, _END_THROWS):
                add(Problem(element=where, message="an end event throws an error, escalation or signal, or terminates"))
            if isinstance(element.event, EscalationDefinition) and not element.event.code:
                add(Problem(element=where, message="an escalation end event needs an escalation code"))
        elif isinstance(element, BoundaryEvent):
            host = definition.elements.get(element.attached_to)
            if not isinstance(host, Activity):
                add(Problem(element=where, message=f"attached to {element.attached_to!r}, which is not an activity"))
            elif host.parent != element.parent:
                add(Problem(element=where, message="must be in the same scope as its activity"))
            if incoming:
                add(Problem(element=where, message="a boundary event cannot have incoming flows"))
            if not outgoing:
                add(Problem(element=where, message="a boundary event needs an outgoing flow"))
            if isinstance(element.event, ErrorDefinition) and not element.cancel_activity:
                add(Problem(element=where, message="an error boundary event is always interrupting"))
        elif isinstance(element, IntermediateThrowEvent) and isinstance(element.event, LinkDefinition):
            if outgoing:
                add(Problem(element=where, message="a link throw event jumps to its catch: it has no outgoing flows"))
            catches = _link_catches(definition, element.parent, element.event.name)
            if len(catches) != 1:
                add(
                    Problem(
                        element=where,
                        message=f"needs exactly one link catch event named {element.event.name!r} in its scope, "
                        f"found {len(catches)}",
                    )
                )
        elif isinstance(element, IntermediateCatchEvent) and isinstance(element.event, LinkDefinition):
            if incoming:
                add(Problem(element=where, message="a link catch event is entered by its throw: no incoming flows"))
        elif isinstance(element, EventBasedGateway):
            if len(outgoing) < 2:
                add(Problem(element=where, message="an event-based gateway needs two or more outgoing flows"))
            for flow in outgoing:
                target = definition.elements.get(flow.target)
                if flow.condition is not None:
                    add(Problem(element=flow.id, message="an event-based gateway's flows cannot have conditions"))
                if target is not None and not (
                    isinstance(target, ReceiveTask)
                    or (
                        isinstance(target, IntermediateCatchEvent)
                        and isinstance(
                            target.event, TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition
                        )
                    )
                ):
                    add(
                        Problem(
                            element=flow.id,
                            message="an event-based gateway leads only to timer, message or signal catch events "
                            "or receive tasks (BPMN 2.0, 10.6.6)",
                        )
                    )
        elif isinstance(element, ExclusiveGateway | InclusiveGateway | ParallelGateway):
            if (
                isinstance(element, ExclusiveGateway | InclusiveGateway)
                and element.default is not None
                and element.default not in {f.id for f in outgoing}
            ):
                add(
                    Problem(element=where, message=f"default flow {element.default!r} is not one of its outgoing flows")
                )
            if isinstance(element, ExclusiveGateway | InclusiveGateway) and element.default is not None:
                default = definition.flows.get(element.default)
                if default is not None and default.condition is not None:
                    # BPMN 2.0, 10.6.2: the default flow is taken when no condition holds; a
                    # condition on it would be ignored, so it is refused rather than misread.
                    add(Problem(element=default.id, message="the default flow of a gateway cannot have a condition"))
            if isinstance(element, ParallelGateway):
                for flow in outgoing:
                    if flow.condition:
                        add(Problem(element=flow.id, message="a parallel gateway's flows cannot have conditions"))
        # A flow node without outgoing flows ends its path (BPMN 2.0.2, 10.5.3, implicit end):
        # nothing to check here.
        _check_element_details(definition, element, add)


def _check_element_details(definition: ProcessDefinition, element: object, add: _Add) -> None:
    where = getattr(element, "id", None)
    event = getattr(element, "event", None)
    if isinstance(event, CancelDefinition):
        _check_cancel(definition, element, add)
    if isinstance(element, SubProcess) and element.transaction and element.triggered_by_event:
        add(Problem(element=where, message="a subprocess is either a transaction or an event subprocess"))
    if isinstance(event, ConditionalDefinition):
        _check_expression(where, event.condition, add, prefix="condition: ")
    if isinstance(element, IntermediateCatchEvent) and not isinstance(
        event, TimerDefinition | MessageDefinition | SignalDefinition | LinkDefinition | ConditionalDefinition
    ):
        add(Problem(element=where, message="an intermediate catch event needs a timer, message, signal or link"))
    if isinstance(event, SignalDefinition) and (not isinstance(event.signal, str) or not event.signal.strip()):
        add(Problem(element=where, message="a signal event needs a signal name"))
    if isinstance(event, LinkDefinition) and (not isinstance(event.name, str) or not event.name.strip()):
        add(Problem(element=where, message="a link event needs a name"))
    if isinstance(element, IntermediateThrowEvent | EndEvent):
        sends = isinstance(event, MessageDefinition)
        if sends and (not isinstance(element.task_type, str) or not element.task_type.strip()):
            add(Problem(element=where, message="a message throw event needs a task type: the handler that sends it"))
        if not sends and element.task_type is not None:
            add(Problem(element=where, message="only a message throw event has a task type"))
    routes = getattr(element, "routes", ())
    if routes and getattr(element, "task_type", None) != MESSAGE_TASK_TYPE:
        add(Problem(element=where, message=f"message routes go with task type {MESSAGE_TASK_TYPE!r}"))
    for route in routes:
        if not isinstance(route, MessageRoute) or not route.process or not route.message:
            add(Problem(element=where, message="a message route needs a process and a message"))
        elif route.correlation_key is not None:
            _check_expression(where, route.correlation_key, add, prefix="message route: ")
    if isinstance(element, UserTask):
        _check_user_task(where, element, add)
    if isinstance(element, ReceiveTask):
        if not isinstance(element.message, str) or not element.message.strip():
            add(Problem(element=where, message="a receive task needs a message name"))
        if element.correlation_key is not None:
            _check_expression(where, element.correlation_key, add)
    _check_trigger(where, event, add)
    if isinstance(element, ServiceTask):
        if not isinstance(element.task_type, str) or not element.task_type.strip():
            add(Problem(element=where, message="a service task needs a task type (its handler name)"))
        _check_retry(where, element.retry, add)
        if element.timeout is not None and (
            not isinstance(element.timeout, int | float)
            or isinstance(element.timeout, bool)
            or not math.isfinite(element.timeout)
            or element.timeout <= 0
        ):
            add(Problem(element=where, message="timeout must be a positive number of seconds"))
    if isinstance(element, ScriptTask):
        try:
            compile_script(element.script)
        except ExpressionInvalid as exc:
            add(Problem(element=where, message=f"script: {exc.message}"))
        except TypeError:
            add(Problem(element=where, message="script must be text"))
    if isinstance(element, SubProcess) and element.triggered_by_event and (element.inputs or element.outputs):
        add(Problem(element=where, message="an event subprocess takes no input or output mappings"))
    if isinstance(element, CallActivity):
        _check_call(where, element, add)
    if isinstance(element, BusinessRuleTask):
        _check_business_rule_task(where, element, add)
    handler_with_flows = definition.incoming(str(where)) or definition.outgoing(str(where))
    if isinstance(element, Activity) and element.for_compensation and handler_with_flows:
        add(Problem(element=where, message="a compensation handler has no incoming or outgoing flows"))
    if isinstance(element, Activity) and element.compensated_by is not None:
        handler = definition.elements.get(element.compensated_by)
        if not isinstance(handler, Activity) or not handler.for_compensation:
            add(
                Problem(
                    element=where,
                    message=f"compensated by {element.compensated_by!r}, which is not a compensation handler",
                )
            )
        elif handler.parent != element.parent:
            add(Problem(element=where, message="its compensation handler must be in the same scope"))
    event = getattr(element, "event", None)
    if isinstance(event, CompensationDefinition) and event.activity is not None and not isinstance(element, StartEvent):
        compensated = definition.elements.get(event.activity)
        if not isinstance(compensated, Activity) or not _undoable(definition, compensated):
            add(Problem(element=where, message=f"compensates {event.activity!r}, which has no compensation handler"))
    if isinstance(element, Activity) and element.multi_instance is not None:
        _check_multi_instance(where, element.multi_instance, add)
    if isinstance(element, Activity) and element.loop is not None:
        _check_loop(where, element, element.loop, add)
    mappings = getattr(element, "outputs", None)
    if isinstance(element, StartEvent) and isinstance(mappings, dict):
        for target, source in mappings.items():
            if not isinstance(target, str) or not _ID.match(target):
                add(Problem(element=where, message=f"outputs: {target!r} is not a valid variable name"))
            _check_expression(where, source, add, prefix=f"outputs.{target}: ")
    if isinstance(element, Activity):
        for mapping_name, mapping in (("inputs", element.inputs), ("outputs", element.outputs)):
            if not isinstance(mapping, dict):
                add(Problem(element=where, message=f"{mapping_name} must map names to expressions"))
                continue
            for target, source in mapping.items():
                if not isinstance(target, str) or not _ID.match(target):
                    add(Problem(element=where, message=f"{mapping_name}: {target!r} is not a valid variable name"))
                _check_expression(where, source, add, prefix=f"{mapping_name}.{target}: ")


def _check_business_rule_task(where: str | None, task: BusinessRuleTask, add: _Add) -> None:
    """The decision is named by its id, checked when the task runs: it may be deployed
    after the process (BPMN 2.0, 10.3.3; docs/dmn.md)."""
    if not isinstance(task.decision, str) or not task.decision.strip():
        add(Problem(element=where, message="a business rule task needs the id of the decision it evaluates"))
    variable = task.result_variable
    if variable is not None and (not isinstance(variable, str) or not _ID.match(variable)):
        add(Problem(element=where, message=f"result variable {variable!r} is not a valid variable name"))
    if task.task_type != DECISION_TASK_TYPE:
        message = f"a business rule task runs as task type {DECISION_TASK_TYPE!r}, not {task.task_type!r}"
        add(Problem(element=where, message=message))
    _check_tenant(where, task.tenant, "the decision's tenant", add)
    if task.result_mapping is not None and task.result_mapping not in DECISION_RESULT_MAPPINGS:
        known = ", ".join(DECISION_RESULT_MAPPINGS)
        add(Problem(element=where, message=f"result mapping {task.result_mapping!r} is none of {known}"))


def _check_call(where: str | None, call: CallActivity, add: _Add) -> None:
    """The called process is named by its key, checked when the call happens: it may be
    deployed after the caller (BPMN 2.0, 10.3.6 calledElement)."""
    if not isinstance(call.process, str) or not _ID.match(call.process):
        add(Problem(element=where, message=f"a call activity needs the key of the process it calls: {call.process!r}"))
    version = call.version
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
        add(Problem(element=where, message=f"the called version must be a whole number from 1, not {version!r}"))
    _check_tenant(where, call.tenant, "the called process's tenant", add)


MAX_TENANT = 128


def _check_tenant(where: str | None, tenant: object, what: str, add: _Add) -> None:
    """A fixed tenant is a tenant id as stored: lower case, printable, no spaces or slashes."""
    if tenant is None:
        return
    if (
        not isinstance(tenant, str)
        or not tenant
        or len(tenant) > MAX_TENANT
        or tenant != tenant.strip().lower()
        or not tenant.isprintable()
        or any(c in tenant for c in "/\\ \t")
    ):
        message = f"{what} {tenant!r} is not a tenant id (1-{MAX_TENANT} lower-case characters, no spaces or slashes)"
        add(Problem(element=where, message=message))


def _check_cancel(definition: ProcessDefinition, element: object, add: _Add) -> None:
    """Cancel events belong to transactions (BPMN 2.0, 10.5.5): an end event inside one, a
    boundary event on one."""
    where = getattr(element, "id", None)
    if isinstance(element, BoundaryEvent):
        host = definition.elements.get(element.attached_to)
        if not (isinstance(host, SubProcess) and host.transaction):
            add(Problem(element=where, message="a cancel boundary event goes on a transaction subprocess"))
        elif not element.cancel_activity:
            add(Problem(element=where, message="a cancel boundary event always interrupts"))
        return
    if isinstance(element, EndEvent):
        for ancestor in definition.ancestors(element.id):
            scope = definition.elements[ancestor]
            if isinstance(scope, SubProcess) and scope.transaction:
                if not any(isinstance(b.event, CancelDefinition) for b in definition.boundary_events(ancestor)):
                    add(Problem(element=where, message=f"transaction {ancestor!r} has no cancel boundary event"))
                return
        add(Problem(element=where, message="a cancel end event goes inside a transaction subprocess"))
        return
    add(Problem(element=where, message="cancel events are end events in, or boundary events on, a transaction"))


def _check_multi_instance(where: str | None, loop: MultiInstance, add: _Add) -> None:
    if (loop.collection is None) == (loop.cardinality is None):
        add(Problem(element=where, message="a multi-instance activity needs a collection or a cardinality, not both"))
    for label, source in (
        ("collection", loop.collection),
        ("cardinality", loop.cardinality),
        ("completion condition", loop.completion_condition),
        ("output element", loop.output_element),
    ):
        if source is not None:
            _check_expression(where, source, add, prefix=f"{label}: ")
    for label, name in (("element variable", loop.element_variable), ("output collection", loop.output_collection)):
        if name is not None and (not isinstance(name, str) or not _ID.match(name)):
            add(Problem(element=where, message=f"{label} {name!r} is not a valid variable name"))
    if (loop.output_collection is None) != (loop.output_element is None):
        add(Problem(element=where, message="output collection and output element go together"))


def _check_loop(where: str | None, activity: Activity, loop: StandardLoop, add: _Add) -> None:
    """A standard loop that can stop (BPMN 2.0.2, 10.3.8): a condition or a maximum; an
    activity has one loop marker, not both kinds."""
    if activity.multi_instance is not None:
        add(Problem(element=where, message="an activity is a loop or a multi-instance activity, not both"))
    if loop.condition is None and loop.maximum is None:
        add(Problem(element=where, message="a loop needs a loop condition or a loop maximum, or it never ends"))
    if loop.condition is not None:
        _check_expression(where, loop.condition, add, prefix="loop condition: ")
    maximum = loop.maximum
    if maximum is not None and (not isinstance(maximum, int) or isinstance(maximum, bool) or maximum < 0):
        add(Problem(element=where, message=f"the loop maximum must be a whole number >= 0, not {maximum!r}"))
    elif maximum is not None and maximum > MAX_INSTANCES:
        add(Problem(element=where, message=f"the loop maximum {maximum} is past the limit of {MAX_INSTANCES}"))
    if not isinstance(loop.test_before, bool):
        add(Problem(element=where, message="test_before must be true or false"))


def _check_timer(where: str | None, timer: TimerDefinition, add: _Add) -> None:
    if not isinstance(timer.value, str):
        add(Problem(element=where, message="a timer value must be text"))
        return
    if timer.value.startswith("=") or "${" in timer.value or "#{" in timer.value:
        _check_expression(where, timer.value, add, prefix="timer: ")  # FEEL or JUEL, by its marker
        return
    try:
        parse_timer(timer.kind, timer.value)
    except TimerInvalid as exc:
        add(Problem(element=where, message=f"timer: {exc}"))


def _undoable(definition: ProcessDefinition, activity: Activity) -> bool:
    """An activity a compensation throw may name: it has a handler, or it is a subprocess
    with a compensation event subprocess or with activities inside that have handlers
    (BPMN 2.0.2, 10.5.5: compensating a subprocess compensates what ran inside it)."""
    if definition.compensation_handler(activity.id) is not None:
        return True
    if not isinstance(activity, SubProcess):
        return False
    return any(
        isinstance(inner, Activity) and _undoable(definition, inner)
        for inner in definition.children(activity.id)
        if not (isinstance(inner, SubProcess) and inner.triggered_by_event)
    )


def _check_compensation_start(definition: ProcessDefinition, start: StartEvent, add: _Add) -> None:
    """A compensation event subprocess (BPMN 2.0.2, 10.3.5) undoes the embedded subprocess it
    is in, once that completed: it needs one, which has no other compensation handler."""
    event_subprocess = definition.elements.get(start.parent or "")
    host = definition.elements.get(getattr(event_subprocess, "parent", None) or "")
    if not isinstance(host, SubProcess) or host.triggered_by_event:
        message = (
            "a compensation event subprocess goes inside the embedded subprocess it undoes; at process level "
            "nothing compensates the process: give its activities compensation handlers instead"
        )
        add(Problem(element=start.id, message=message))
    elif host.compensated_by is not None:
        message = f"subprocess {host.id!r} has a compensation handler already: keep it or the event subprocess"
        add(Problem(element=start.id, message=message))
    if start.alternatives:
        add(Problem(element=start.id, message="a compensation start event has no other triggers"))


def _check_trigger(where: str | None, event: object, add: _Add) -> None:
    if isinstance(event, TimerDefinition):
        _check_timer(where, event, add)
    if isinstance(event, MessageDefinition):
        if not isinstance(event.message, str) or not event.message.strip():
            add(Problem(element=where, message="a message event needs a message name"))
        if event.correlation_key is not None:
            _check_expression(where, event.correlation_key, add)


def _check_alternatives(start: StartEvent, add: _Add) -> None:
    """A Multiple start event (BPMN 2.0.2, 10.5.2): any one of its triggers starts it. Each is
    a timer, message, signal or condition; an error or escalation starts an event subprocess
    of its own, and one timer per event is enough (a cycle says "again")."""
    if not start.alternatives:
        return
    allowed = TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition
    if not isinstance(start.alternatives, tuple) or not all(isinstance(e, allowed) for e in start.triggers):
        message = "a start event with several triggers takes timers, messages, signals and conditions only"
        add(Problem(element=start.id, message=message))
        return
    if sum(isinstance(event, TimerDefinition) for event in start.triggers) > 1:
        add(Problem(element=start.id, message="a start event with several triggers may have one timer of them"))
    if len(set(start.triggers)) < len(start.triggers):
        add(Problem(element=start.id, message="a start event names the same trigger twice"))
    for event in start.alternatives:
        _check_trigger(start.id, event, add)
        if isinstance(event, ConditionalDefinition):
            _check_expression(start.id, event.condition, add, prefix="condition: ")
        if isinstance(event, SignalDefinition) and (not isinstance(event.signal, str) or not event.signal.strip()):
            add(Problem(element=start.id, message="a signal event needs a signal name"))


def _check_retry(where: str | None, retry: RetryPolicy, add: _Add) -> None:
    numbers = (retry.max_attempts, retry.initial_backoff, retry.multiplier, retry.max_backoff, retry.jitter)
    if not all(isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in numbers):
        add(Problem(element=where, message="retry settings must be finite numbers"))
        return
    if not isinstance(retry.max_attempts, int) or not 1 <= retry.max_attempts <= 1000:
        add(Problem(element=where, message="retry.max_attempts must be a whole number from 1 to 1000"))
    if retry.initial_backoff < 0 or retry.max_backoff < 0 or retry.multiplier < 1:
        add(Problem(element=where, message="retry backoff must be >= 0 and multiplier >= 1"))
    if not 0 <= retry.jitter <= 1:
        add(Problem(element=where, message="retry.jitter must be between 0 and 1"))


def _check_expression(where: str | None, source: object, add: _Add, prefix: str = "") -> None:
    if not isinstance(source, str):
        add(Problem(element=where, message=f"{prefix}expression must be text"))
        return
    try:
        compile_expression(source)
    except ExpressionInvalid as exc:
        add(Problem(element=where, message=f"{prefix}{exc.message}"))


def _check_user_task(where: str | None, task: UserTask, add: _Add) -> None:
    """Assignment, schedule, priority and texts (model/user_tasks.py): fixed values parse,
    expressions compile."""

    def expression(attribute: str, text: str) -> None:
        _check_expression(where, text, add, prefix=f"{attribute}: ")

    check_user_task(
        assignee=task.assignee,
        candidate_users=task.candidate_users,
        candidate_groups=task.candidate_groups,
        due_date=task.due_date,
        follow_up_date=task.follow_up_date,
        priority=task.priority,
        check_expression=expression,
        add=lambda attribute, problem: add(Problem(element=where, message=f"{attribute}: {problem}")),
    )
    for attribute, text in (("name", task.name), ("description", task.description)):
        if isinstance(text, str) and is_task_expression(text):
            expression(attribute, text)


def _check_flows(definition: ProcessDefinition, add: _Add) -> None:
    for flow in definition.flows.values():
        source = definition.elements.get(flow.source)
        target = definition.elements.get(flow.target)
        if source is None:
            add(Problem(element=flow.id, message=f"source {flow.source!r} does not exist"))
        if target is None:
            add(Problem(element=flow.id, message=f"target {flow.target!r} does not exist"))
        if source is not None and target is not None and source.parent != target.parent:
            add(Problem(element=flow.id, message="a sequence flow cannot cross a subprocess boundary"))
        if isinstance(target, StartEvent | BoundaryEvent):
            add(Problem(element=flow.id, message=f"cannot flow into {target.kind} {target.id!r}"))
        if flow.condition is not None:
            _check_expression(flow.id, flow.condition, add, prefix="condition: ")


def _check_presentation(definition: ProcessDefinition, add: _Add) -> None:
    """Lanes and the diagram may only name things the process has."""
    lane_ids: set[str] = set()
    pending = list(definition.lanes)
    while pending:
        lane = pending.pop()
        lane_ids.add(lane.id)
        pending.extend(lane.lanes)
        for element_id in lane.elements:
            if element_id not in definition.elements:
                add(Problem(element=lane.id, message=f"lane lists {element_id!r}, which is not in the process"))
    if definition.diagram is None:
        return
    known = set(definition.elements) | set(definition.flows) | lane_ids
    if definition.participant is not None:
        known.add(definition.participant.id)
    drawn = [shape.element for shape in definition.diagram.shapes] + [edge.element for edge in definition.diagram.edges]
    for element_id in drawn:
        if element_id not in known:
            add(Problem(element=element_id, message="the diagram draws an element the process does not have"))


def _link_catches(definition: ProcessDefinition, scope: str | None, name: str) -> list[IntermediateCatchEvent]:
    return [
        e
        for e in definition.children(scope)
        if isinstance(e, IntermediateCatchEvent) and isinstance(e.event, LinkDefinition) and e.event.name == name
    ]


def _event_subprocesses(definition: ProcessDefinition, scope: str | None) -> list[str]:
    return [e.id for e in definition.children(scope) if isinstance(e, SubProcess) and e.triggered_by_event]


def _check_reachable(definition: ProcessDefinition, add: _Add) -> None:
    """Every element must be reachable from a start event (BPMN 2.0, 10.5.2)."""
    reached: set[str] = set()
    queue: deque[str] = deque(s.id for s in definition.start_events(None))
    queue.extend(e.id for e in definition.implicit_starts(None))
    queue.extend(_event_subprocesses(definition, None))
    while queue:
        element_id = queue.popleft()
        if element_id in reached:
            continue
        reached.add(element_id)
        element = definition.elements[element_id]
        queue.extend(f.target for f in definition.outgoing(element_id))
        queue.extend(b.id for b in definition.boundary_events(element_id))
        if isinstance(element, Activity) and element.compensated_by is not None:
            queue.append(element.compensated_by)
        if isinstance(element, IntermediateThrowEvent) and isinstance(element.event, LinkDefinition):
            queue.extend(c.id for c in _link_catches(definition, element.parent, element.event.name))
        if isinstance(element, SubProcess):
            queue.extend(s.id for s in definition.start_events(element.id))
            queue.extend(e.id for e in definition.implicit_starts(element.id))
            queue.extend(_event_subprocesses(definition, element.id))
    for element_id in definition.elements:
        if element_id not in reached:
            add(Problem(element=element_id, message="unreachable from any start event"))
