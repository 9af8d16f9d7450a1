"""BPMN flow elements as plain, frozen data.

Every element class carries a `kind` (the BPMN 2.0 element name in camelCase, e.g.
`serviceTask`) that is its discriminator in the stored JSON form. Adding an element (an
inclusive gateway, a call activity, ...) means adding a class here, registering it in
`ELEMENT_TYPES`, and giving the engine one behaviour for it; nothing else changes shape.

Element ids are unique within a whole definition, as BPMN requires of a document
(BPMN 2.0, 8.3.1 BaseElement `id`), so a flat index by id serves every scope; `parent`
names the enclosing subprocess, or is None at process level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Final


@dataclass(frozen=True, kw_only=True, slots=True)
class TimerDefinition:
    """BPMN 2.0, 10.5.5 TimerEventDefinition: exactly one of date/duration/cycle.

    `value` is ISO 8601 text, or an expression (written `=expr`) that yields such text.
    """

    kind: str  # "duration" | "date" | "cycle"
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageDefinition:
    """BPMN 2.0, 10.5.5 MessageEventDefinition, correlated by name and key.

    `correlation_key` is an expression evaluated against the instance's variables when the
    subscription opens; a message with that name and key then reaches this event.
    """

    message: str
    correlation_key: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ErrorDefinition:
    """BPMN 2.0, 10.5.5 ErrorEventDefinition. On a catch, `code=None` catches any error."""

    code: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TerminateDefinition:
    """BPMN 2.0, 10.5.5 TerminateEventDefinition: ends every token of the scope."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkDefinition:
    """BPMN 2.0, 10.5.5 LinkEventDefinition: a throw jumps to the catch of the same name
    in the same scope, a "go to" that keeps large diagrams readable."""

    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SignalDefinition:
    """BPMN 2.0, 10.5.5 SignalEventDefinition: broadcast to every instance that waits for
    the signal, and to every process whose start event it is (unlike a message, which
    reaches exactly one)."""

    signal: str


@dataclass(frozen=True, kw_only=True, slots=True)
class EscalationDefinition:
    """BPMN 2.0, 10.5.5 EscalationEventDefinition: a non-critical call for attention
    thrown to the enclosing scopes; on a catch, `code=None` catches any escalation."""

    code: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelDefinition:
    """BPMN 2.0, 10.5.5 CancelEventDefinition: only in a transaction subprocess. A cancel
    end event ends the transaction's other paths, undoes what completed inside it
    (compensation), then leaves through the transaction's cancel boundary event."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConditionalDefinition:
    """BPMN 2.0, 10.5.5 ConditionalEventDefinition: fires when `condition` becomes true.

    Conditions are checked when the event starts waiting and whenever a step changed the
    instance's variables; the event fires when its condition turns from not-true to true
    (a condition that cannot be evaluated yet, a missing variable, counts as not true).
    """

    condition: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CompensationDefinition:
    """BPMN 2.0, 10.5.5 CompensateEventDefinition, thrown: undo what completed in the scope
    (or only `activity`), newest first, waiting for each undo to finish (waitForCompletion
    is always true here: a saga must know its undo is done before it goes on)."""

    activity: str | None = None


EventDefinition = (
    CancelDefinition
    | ConditionalDefinition
    | CompensationDefinition
    | TimerDefinition
    | MessageDefinition
    | ErrorDefinition
    | TerminateDefinition
    | LinkDefinition
    | SignalDefinition
    | EscalationDefinition
)


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """How a failing service task is retried before it becomes an incident.

    The delay before attempt n+1 is `min(initial_backoff * multiplier**(n-1), max_backoff)`,
    spread by +/- `jitter` (a fraction) so that retries of many instances do not arrive
    together. Errors whose type name is in `non_retryable` go straight to an incident.
    """

    max_attempts: int = 3
    initial_backoff: float = 1.0
    multiplier: float = 2.0
    max_backoff: float = 300.0
    jitter: float = 0.1
    non_retryable: tuple[str, ...] = ()

    def backoff(self, attempt: int, jitter_sample: float) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based); jitter_sample in [0, 1)."""
        base = min(self.initial_backoff * self.multiplier ** max(attempt - 1, 0), self.max_backoff)
        spread = base * self.jitter * (2.0 * jitter_sample - 1.0)
        return max(0.0, base + spread)


@dataclass(frozen=True, kw_only=True, slots=True)
class MultiInstance:
    """BPMN 2.0, 10.3.7 MultiInstanceLoopCharacteristics: run an activity once per item of
    a collection (or `cardinality` times), in parallel or one after another.

    Each instance sees `element_variable` (its item) and `loopCounter` (1-based) as local
    variables. `output_element`, evaluated when an instance completes, is collected in
    order into `output_collection`. A true `completion_condition` ends the remaining
    instances early; it may use numberOfInstances, numberOfCompletedInstances and
    numberOfActiveInstances.
    """

    sequential: bool = False
    collection: str | None = None
    element_variable: str | None = None
    cardinality: str | None = None
    completion_condition: str | None = None
    output_collection: str | None = None
    output_element: str | None = None


MAX_INSTANCES = 10_000  # per multi-instance activity: a hostile collection cannot exhaust memory


@dataclass(frozen=True, kw_only=True, slots=True)
class StandardLoop:
    """BPMN 2.0.2, 10.3.8 StandardLoopCharacteristics: run an activity again and again.

    "The Activity will only loop as long as this condition is true": `condition` is
    evaluated after each iteration, or before each one when `test_before` is set (so the
    activity may not run at all), and the loop ends when it is false. `maximum` caps the
    number of iterations. Each iteration sees `loopCounter`, its number counted from 1;
    the condition sees the number of iterations done so far (0 before the first). A loop
    needs a condition or a maximum; none runs more than MAX_INSTANCES iterations.
    """

    condition: str | None = None
    test_before: bool = False
    maximum: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Element:
    kind: ClassVar[str] = "element"
    waits: ClassVar[bool] = False  # does a token stop here until a command arrives?

    id: str
    name: str | None = None
    parent: str | None = None
    documentation: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StartEvent(Element):
    """A start event; inside an event subprocess it has a trigger, which may also be an
    error or escalation, and `interrupting` says whether it cancels the enclosing scope.

    `alternatives` are the further triggers of a Multiple start event (BPMN 2.0.2, 10.5.2:
    "any one of the triggers" starts it), beside `event`, the first: a process or event
    subprocess that starts on message A or signal B or a timer. `triggers` lists them all.
    """

    kind: ClassVar[str] = "startEvent"
    event: (
        TimerDefinition
        | MessageDefinition
        | SignalDefinition
        | ErrorDefinition
        | EscalationDefinition
        | ConditionalDefinition
        | CompensationDefinition  # a compensation event subprocess's start (BPMN 2.0.2, 10.3.5)
        | None
    ) = None
    interrupting: bool = True
    # evaluated when a token leaves the event, against the variables it started with
    # (a message's too): Camunda 8's output mappings on a start event
    outputs: dict[str, str] = field(default_factory=dict)
    alternatives: tuple[TimerDefinition | MessageDefinition | SignalDefinition | ConditionalDefinition, ...] = ()

    @property
    def triggers(
        self,
    ) -> tuple[
        TimerDefinition
        | MessageDefinition
        | SignalDefinition
        | ErrorDefinition
        | EscalationDefinition
        | ConditionalDefinition
        | CompensationDefinition,
        ...,
    ]:
        """Every trigger that starts it: `event` and the alternatives (none for a plain start)."""
        return () if self.event is None else (self.event, *self.alternatives)


MESSAGE_TASK_TYPE = "legato.message"
"""The reserved task type of a message sent along a collaboration's message flows; every
worker runs it itself (runtime/messages.py)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageRoute:
    """Where a message flow of the file takes a message (BPMN 2.0.2, 9.4 messageFlow): the
    catching element (empty for a whole pool) of process `process`, the name of the message
    it waits for, and its correlation key expression, which the sender evaluates over its
    own variables to say which instance it is for."""

    process: str
    element: str = ""
    message: str
    correlation_key: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EndEvent(Element):
    """An end event; a message end event sends through a handler (`task_type`), as in Camunda 8,
    and the path ends when that job completes."""

    kind: ClassVar[str] = "endEvent"
    event: (
        TerminateDefinition
        | ErrorDefinition
        | EscalationDefinition
        | SignalDefinition
        | CompensationDefinition
        | MessageDefinition
        | CancelDefinition
        | None
    ) = None
    task_type: str | None = None
    routes: tuple[MessageRoute, ...] = ()  # a message end event sent along message flows (MESSAGE_TASK_TYPE)


@dataclass(frozen=True, kw_only=True, slots=True)
class IntermediateCatchEvent(Element):
    kind: ClassVar[str] = "intermediateCatchEvent"
    waits: ClassVar[bool] = True
    event: TimerDefinition | MessageDefinition | SignalDefinition | LinkDefinition | ConditionalDefinition


@dataclass(frozen=True, kw_only=True, slots=True)
class IntermediateThrowEvent(Element):
    """BPMN 2.0, 10.5.4: none (a milestone), link, signal, escalation, compensation, or a
    message, which a handler for `task_type` sends (a job, as in Camunda 8)."""

    kind: ClassVar[str] = "intermediateThrowEvent"
    event: (
        LinkDefinition | SignalDefinition | EscalationDefinition | CompensationDefinition | MessageDefinition | None
    ) = None
    task_type: str | None = None
    routes: tuple[MessageRoute, ...] = ()  # a message sent along message flows (MESSAGE_TASK_TYPE)


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundaryEvent(Element):
    """BPMN 2.0, 10.5.6 (boundary events): attached to an activity, interrupting or not."""

    kind: ClassVar[str] = "boundaryEvent"
    attached_to: str
    cancel_activity: bool = True
    event: (
        TimerDefinition
        | ErrorDefinition
        | MessageDefinition
        | SignalDefinition
        | EscalationDefinition
        | ConditionalDefinition
        | CancelDefinition
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Activity(Element):
    """Common to tasks and subprocesses: variable mappings in and out.

    `inputs` are evaluated when the activity starts and handed to its handler or form;
    `outputs` are evaluated against the activity's result when it completes and written to
    the instance. Without outputs, the whole result is merged into the instance variables.
    """

    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    multi_instance: MultiInstance | None = None
    loop: StandardLoop | None = None
    compensated_by: str | None = None  # the activity that undoes this one (BPMN 2.0, 10.5.5)
    for_compensation: bool = False  # this activity is such an undo: no flows in or out


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceTask(Activity):
    kind: ClassVar[str] = "serviceTask"
    waits: ClassVar[bool] = True
    task_type: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float | None = None  # seconds per attempt


@dataclass(frozen=True, kw_only=True, slots=True)
class SendTask(ServiceTask):
    """BPMN 2.0, 10.3.3 Send Task: run by a handler that sends, as Camunda 8 does; or, in a
    collaboration, by Legato along the task's message flows (`routes`, MESSAGE_TASK_TYPE)."""

    kind: ClassVar[str] = "sendTask"
    routes: tuple[MessageRoute, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiveTask(Activity):
    """BPMN 2.0, 10.3.3 Receive Task: waits for a message, correlated like a catch event."""

    kind: ClassVar[str] = "receiveTask"
    waits: ClassVar[bool] = True
    message: str
    correlation_key: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Task(Activity):
    """BPMN 2.0, 10.3.3 abstract Task: no behaviour; a token passes through."""

    kind: ClassVar[str] = "task"


@dataclass(frozen=True, kw_only=True, slots=True)
class ManualTask(Activity):
    """BPMN 2.0, 10.3.3 Manual Task: work done outside any system; a token passes through."""

    kind: ClassVar[str] = "manualTask"


@dataclass(frozen=True, kw_only=True, slots=True)
class ScriptTask(Activity):
    kind: ClassVar[str] = "scriptTask"
    script: str


@dataclass(frozen=True, kw_only=True, slots=True)
class UserTask(Activity):
    """BPMN 2.0, 10.3.3 User Task: work a person does, offered to an assignee or candidates.

    Each of `assignee`, `candidate_users`, `candidate_groups`, `due_date`, `follow_up_date`,
    `priority` and a `name` or `description` holding `${...}` or starting with `=` is an
    expression evaluated when the task opens (docs/modeling.md, "User tasks"). A due or
    follow-up date is an ISO 8601 date-time (`2026-12-24T12:00:00Z`) or a duration counted
    from the task's creation (`P3D`); a priority is a whole number, 50 when none is given
    (Camunda 7's and 8's default).
    """

    kind: ClassVar[str] = "userTask"
    waits: ClassVar[bool] = True
    assignee: str | None = None
    candidate_groups: tuple[str, ...] = ()
    form: dict[str, object] | None = None
    candidate_users: tuple[str, ...] = ()
    description: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    priority: int | str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SubProcess(Activity):
    """BPMN 2.0, 10.3.5 embedded Sub-Process: a scope with its own start and end events."""

    kind: ClassVar[str] = "subProcess"
    waits: ClassVar[bool] = True
    triggered_by_event: bool = False  # an event subprocess (BPMN 2.0, 10.3.5): no flows in or out
    transaction: bool = False  # a transaction (BPMN 2.0, 10.3.5): cancelled as a whole, with compensation


@dataclass(frozen=True, kw_only=True, slots=True)
class CallActivity(Activity):
    """BPMN 2.0, 10.3.6 Call Activity: runs another deployed process as a child instance
    and waits until it ends (docs/call-activities.md).

    `process` is the called process's key; `version` pins one version, or None calls the
    latest at call time. Without `inputs` the child starts with all of the caller's
    variables (Camunda 8's propagateAllParentVariables); without `outputs` all of the
    child's final variables come back.

    `tenant` fixes the tenant the called process is looked up in (Camunda 7's
    `calledElementTenantId`): that tenant's process only, never the shared one, and the
    child belongs to that tenant. None: the caller's tenant first, then the shared one,
    and the child belongs to the caller's tenant.
    """

    kind: ClassVar[str] = "callActivity"
    waits: ClassVar[bool] = True
    process: str
    version: int | None = None
    tenant: str | None = None


DECISION_TASK_TYPE = "legato.decision"
"""The reserved task type of a business rule task's job; every worker runs it itself."""


DECISION_RESULT_MAPPINGS: Final[tuple[str, ...]] = ("singleEntry", "singleResult", "collectEntries", "resultList")
"""Camunda 7's `mapDecisionResult` values: one value, one rule's outputs, one output's values, all."""


@dataclass(frozen=True, kw_only=True, slots=True)
class BusinessRuleTask(ServiceTask):
    """BPMN 2.0, 10.3.3 Business Rule Task: evaluates a deployed DMN decision (docs/dmn.md).

    It is a service task whose handler is built in: a job of the reserved task type
    `legato.decision`, so it retries, times out and raises incidents as a service task
    does. `decision` is the decision's id, evaluated at its latest deployed version when
    the job runs. The value goes to `result_variable`; without one, a value that is an
    object (a single-hit table with several outputs) is merged into the variables by
    output name, and any other value fails the job.

    `tenant` fixes the tenant the decision is looked up in (Camunda 7's
    `decisionRefTenantId`): that tenant's decision only. None: the instance's tenant first,
    then the shared one.

    `result_mapping` is Camunda 7's `mapDecisionResult`, one of DECISION_RESULT_MAPPINGS:
    the result shaped from the matched rules as Camunda 7 shapes it, and stored only under
    `result_variable` (Camunda 7 stores nothing without one). None: DMN 1.3's own shape, as
    Camunda 8 gives it (a value for one output, an object for several, a list when the table
    collects).
    """

    kind: ClassVar[str] = "businessRuleTask"
    task_type: str = DECISION_TASK_TYPE
    decision: str
    result_variable: str | None = None
    tenant: str | None = None
    result_mapping: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ExclusiveGateway(Element):
    """BPMN 2.0, 10.6.2: the first outgoing flow whose condition holds, else the default."""

    kind: ClassVar[str] = "exclusiveGateway"
    default: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InclusiveGateway(Element):
    """BPMN 2.0, 10.6.3: forks every flow whose condition holds (else the default); joins
    when a token has arrived and no other token of the scope can still reach it (13.4.3)."""

    kind: ClassVar[str] = "inclusiveGateway"
    default: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EventBasedGateway(Element):
    """BPMN 2.0, 10.6.6: waits for the first of the events its flows lead to."""

    kind: ClassVar[str] = "eventBasedGateway"


@dataclass(frozen=True, kw_only=True, slots=True)
class ParallelGateway(Element):
    """BPMN 2.0, 10.6.4: forks every outgoing flow; joins one token from each incoming flow."""

    kind: ClassVar[str] = "parallelGateway"


@dataclass(frozen=True, kw_only=True, slots=True)
class SequenceFlow:
    id: str
    source: str
    target: str
    condition: str | None = None
    name: str | None = None


ELEMENT_TYPES: dict[str, type[Element]] = {
    cls.kind: cls
    for cls in (
        StartEvent,
        EndEvent,
        IntermediateCatchEvent,
        IntermediateThrowEvent,
        BoundaryEvent,
        ServiceTask,
        SendTask,
        ReceiveTask,
        Task,
        ManualTask,
        ScriptTask,
        UserTask,
        SubProcess,
        CallActivity,
        BusinessRuleTask,
        ExclusiveGateway,
        InclusiveGateway,
        EventBasedGateway,
        ParallelGateway,
    )
}


def waited_events(element: Element) -> tuple[object, ...]:
    """What an element waits for: a start event's triggers (several for a Multiple one), or
    the event definition of any other event (empty for elements without one)."""
    if isinstance(element, StartEvent):
        return element.triggers
    event = getattr(element, "event", None)
    return () if event is None else (event,)
