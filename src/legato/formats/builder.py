"""Author a process in Python: handles for elements, `then` for sequence flows.

    from legato.formats.builder import Process, RetryPolicy

    p = Process("order_to_cash", name="Order to cash")
    credit = p.start("order_received").then(
        p.service("check_credit", "credit.check", retry=RetryPolicy(max_attempts=5))
    )
    credit.on_error("CREDIT_DENIED", id="credit_denied").then(p.end("order_rejected"))
    credit.then(p.end("order_completed"))
    definition = p.build()

Each factory (`p.service(...)`, `p.exclusive(...)`, ...) adds one element and returns a
handle to it. `a.then(b, when=...)` adds the sequence flow a -> b and returns b, so a
straight path reads as one chain, top-down; a branch is a second `then` on the same
handle, and `then` to an element made earlier is a loop back. `gateway.otherwise(b)` adds
an exclusive gateway's default flow. Activities take boundary events with `on_error`,
`on_timer` and `on_message`, which return a handle that `then` leads on from. A
subprocess handle is a scope: elements made through it (`shipping.start(...)`) go inside.

The handle types keep impossible flows out at type-check time: an end event has no
`then`, and `then` does not accept a start or boundary event as its target (BPMN 2.0,
10.5.2: neither has incoming sequence flows).

Mistakes found at a call (a duplicate id, a flow that crosses a subprocess boundary, a
timer with two values) raise `ModelInvalid` right there, naming the id. Everything else
is left to `validate()`, which `build()` runs, so a definition that the builder returns
is one that deploys.

Flow ids are generated as `<source>_to_<target>` unless given, and the definition is put
in reading order (see `reading_order`), so that the same process authored here or in YAML
(which is read through this builder) has the same checksum, whatever order it was
written in.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from legato.errors import ModelInvalid, Problem
from legato.model.elements import (
    BoundaryEvent,
    BusinessRuleTask,
    CallActivity,
    Element,
    EndEvent,
    ErrorDefinition,
    ExclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    MultiInstance,
    ParallelGateway,
    RetryPolicy,
    ScriptTask,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
    TerminateDefinition,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate

__all__ = [
    "ActivityNode",
    "BoundaryNode",
    "EndNode",
    "ExclusiveNode",
    "FlowNode",
    "MultiInstance",
    "Node",
    "Process",
    "RetryPolicy",
    "Source",
    "StartNode",
    "SubProcessNode",
    "boundary_kind",
    "flow_id",
    "outgoing_in_order",
    "reading_order",
]

_NodeT = TypeVar("_NodeT", bound="Node")

# Boundary events of one activity are ordered by kind, in this order, then as written:
# the YAML form groups them by kind (`on_error`, `on_timer`, `on_message`).
BOUNDARY_KINDS: tuple[str, ...] = ("error", "timer", "message")
_MAX_FLOW_ID = 200  # validate() accepts ids up to 200 characters


def _invalid(element: str | None, message: str) -> ModelInvalid:
    return ModelInvalid([Problem(element=element, message=message)])


def _describe(element: Element) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in element.kind)
    return f"{words} {element.id!r}"


@dataclass(kw_only=True)
class _Flow:
    source: str
    target: str
    id: str | None
    condition: str | None
    name: str | None
    default: bool


class _Handle:
    """A reference to one element of a `Process` under construction."""

    def __init__(self, process: Process, element_id: str) -> None:
        self._process = process
        self.id = element_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}>"


class Node(_Handle):
    """An element that a sequence flow can lead into."""


class Source(_Handle):
    """An element that sequence flows can leave."""

    def then(
        self,
        target: _NodeT,
        *,
        when: str | None = None,
        id: str | None = None,
        name: str | None = None,
    ) -> _NodeT:
        """Add the flow self -> target (taken only if `when` holds) and return target."""
        self._process._connect(self, target, condition=when, flow_id=id, name=name)
        return target


class StartNode(Source):
    """A start event: flows leave it, none arrive."""


class BoundaryNode(Source):
    """A boundary event (BPMN 2.0, 10.5.6): flows leave it, none arrive."""


class EndNode(Node):
    """An end event: flows arrive, none leave."""


class FlowNode(Source, Node):
    """An element in the middle of a path: gateways, catch events, tasks."""


class ExclusiveNode(FlowNode):
    """An exclusive gateway (BPMN 2.0, 10.6.2): conditional flows and one default."""

    def otherwise(self, target: _NodeT, *, id: str | None = None, name: str | None = None) -> _NodeT:
        """Add the default flow, taken when no condition holds, and return target.

        BPMN 2.0, 10.6.2: the default flow has no condition, so this takes none.
        """
        self._process._connect(self, target, condition=None, flow_id=id, name=name, default=True)
        return target


class ActivityNode(FlowNode):
    """A task or subprocess: it can carry boundary events."""

    def on_error(
        self,
        code: str | None = None,
        *,
        id: str | None = None,
        name: str | None = None,
        error_message: str | None = None,
        documentation: str | None = None,
    ) -> BoundaryNode:
        """Catch a BPMN error thrown by this activity; `code=None` catches any error.

        An error boundary event always interrupts the activity (BPMN 2.0, 10.5.6).
        """
        event = ErrorDefinition(code=code, message=error_message)
        return self._boundary("error", event, True, id, name, documentation)

    def on_timer(
        self,
        *,
        duration: str | None = None,
        date: str | None = None,
        cycle: str | None = None,
        interrupting: bool = True,
        id: str | None = None,
        name: str | None = None,
        documentation: str | None = None,
    ) -> BoundaryNode:
        """Fire after `duration`, at `date` or on `cycle` while the activity runs."""
        event = _timer(id or self.id, duration, date, cycle)
        if event is None:
            raise _invalid(id or self.id, "a timer boundary event needs a duration, date or cycle")
        return self._boundary("timer", event, interrupting, id, name, documentation)

    def on_message(
        self,
        message: str,
        *,
        correlation_key: str | None = None,
        interrupting: bool = True,
        id: str | None = None,
        name: str | None = None,
        documentation: str | None = None,
    ) -> BoundaryNode:
        """Fire when `message` arrives for this instance while the activity runs."""
        event = MessageDefinition(message=message, correlation_key=correlation_key)
        return self._boundary("message", event, interrupting, id, name, documentation)

    def _boundary(
        self,
        kind: str,
        event: TimerDefinition | ErrorDefinition | MessageDefinition,
        interrupting: bool,
        element_id: str | None,
        name: str | None,
        documentation: str | None,
    ) -> BoundaryNode:
        process = self._process
        host = process._elements[self.id]
        if element_id is None:
            element_id = process._free_id(f"{self.id}_{kind}")
        process._add(
            BoundaryEvent(
                id=element_id,
                name=name,
                parent=host.parent,
                documentation=documentation,
                attached_to=self.id,
                cancel_activity=interrupting,
                event=event,
            )
        )
        return BoundaryNode(process, element_id)


class _Scope:
    """Element factories; elements made through a scope belong to it."""

    def _context(self) -> tuple[Process, str | None]:
        raise NotImplementedError

    def start(
        self,
        id: str,
        *,
        name: str | None = None,
        message: str | None = None,
        correlation_key: str | None = None,
        duration: str | None = None,
        date: str | None = None,
        cycle: str | None = None,
        documentation: str | None = None,
    ) -> StartNode:
        """A start event: plain, or started by a `message`, or by a timer (BPMN 2.0, 10.5.2)."""
        process, parent = self._context()
        timer = _timer(id, duration, date, cycle)
        event: TimerDefinition | MessageDefinition | None = timer
        if message is not None:
            if timer is not None:
                raise _invalid(id, "a start event has a message or a timer, not both")
            event = MessageDefinition(message=message, correlation_key=correlation_key)
        elif correlation_key is not None:
            raise _invalid(id, "a correlation key needs a message")
        process._add(StartEvent(id=id, name=name, parent=parent, documentation=documentation, event=event))
        return StartNode(process, id)

    def end(
        self,
        id: str,
        *,
        name: str | None = None,
        terminate: bool = False,
        error: str | None = None,
        error_message: str | None = None,
        documentation: str | None = None,
    ) -> EndNode:
        """An end event; `terminate=True` ends the whole scope, `error=` throws that code."""
        process, parent = self._context()
        event: TerminateDefinition | ErrorDefinition | None = None
        if terminate and error is not None:
            raise _invalid(id, "an end event terminates or throws an error, not both")
        if terminate:
            event = TerminateDefinition()
        elif error is not None:
            event = ErrorDefinition(code=error, message=error_message)
        elif error_message is not None:
            raise _invalid(id, "an error message needs an error code")
        process._add(EndEvent(id=id, name=name, parent=parent, documentation=documentation, event=event))
        return EndNode(process, id)

    def service(
        self,
        id: str,
        task_type: str,
        *,
        name: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        multi_instance: MultiInstance | None = None,
        documentation: str | None = None,
    ) -> ActivityNode:
        """A service task run by the handler registered for `task_type`.

        `timeout` is in seconds per attempt; `retry` defaults to `RetryPolicy()`.
        """
        process, parent = self._context()
        process._add(
            ServiceTask(
                id=id,
                name=name,
                parent=parent,
                documentation=documentation,
                multi_instance=multi_instance,
                task_type=task_type,
                retry=_float_retry(retry or RetryPolicy()),
                timeout=_float(timeout),
                inputs=dict(inputs or {}),
                outputs=dict(outputs or {}),
            )
        )
        return ActivityNode(process, id)

    def script(
        self,
        id: str,
        script: str,
        *,
        name: str | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        multi_instance: MultiInstance | None = None,
        documentation: str | None = None,
    ) -> ActivityNode:
        """A script task: assignments in the safe expression dialect, run by the engine."""
        process, parent = self._context()
        process._add(
            ScriptTask(
                id=id,
                name=name,
                parent=parent,
                documentation=documentation,
                multi_instance=multi_instance,
                script=script,
                inputs=dict(inputs or {}),
                outputs=dict(outputs or {}),
            )
        )
        return ActivityNode(process, id)

    def user(
        self,
        id: str,
        *,
        name: str | None = None,
        assignee: str | None = None,
        candidate_groups: Sequence[str] = (),
        form: Mapping[str, object] | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        multi_instance: MultiInstance | None = None,
        documentation: str | None = None,
        candidate_users: Sequence[str] = (),
        description: str | None = None,
        due_date: str | None = None,
        follow_up_date: str | None = None,
        priority: int | str | None = None,
    ) -> ActivityNode:
        """A user task, for `assignee` or anyone in `candidate_users` or `candidate_groups`.

        `due_date` and `follow_up_date` are ISO 8601 date-times or durations from the
        task's creation (`P3D`); `priority` a whole number (50 when omitted). Any of them,
        and the people, may be expressions evaluated when the task opens (`=approver`).
        """
        process, parent = self._context()
        if isinstance(candidate_groups, str):
            raise _invalid(id, "candidate_groups= takes a list of group names, not one string")
        if isinstance(candidate_users, str):
            raise _invalid(id, "candidate_users= takes a list of user names, not one string")
        process._add(
            UserTask(
                id=id,
                name=name,
                parent=parent,
                documentation=documentation,
                multi_instance=multi_instance,
                assignee=assignee,
                candidate_groups=tuple(candidate_groups),
                candidate_users=tuple(candidate_users),
                description=description,
                due_date=due_date,
                follow_up_date=follow_up_date,
                priority=priority,
                form=None if form is None else dict(form),
                inputs=dict(inputs or {}),
                outputs=dict(outputs or {}),
            )
        )
        return ActivityNode(process, id)

    def exclusive(self, id: str, *, name: str | None = None, documentation: str | None = None) -> ExclusiveNode:
        """An exclusive gateway: the first flow whose `when` holds, else `otherwise`."""
        process, parent = self._context()
        process._add(ExclusiveGateway(id=id, name=name, parent=parent, documentation=documentation))
        return ExclusiveNode(process, id)

    def parallel(self, id: str, *, name: str | None = None, documentation: str | None = None) -> FlowNode:
        """A parallel gateway: forks on its outgoing flows, joins its incoming ones."""
        process, parent = self._context()
        process._add(ParallelGateway(id=id, name=name, parent=parent, documentation=documentation))
        return FlowNode(process, id)

    def subprocess(
        self,
        id: str,
        *,
        name: str | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        multi_instance: MultiInstance | None = None,
        documentation: str | None = None,
    ) -> SubProcessNode:
        """An embedded subprocess; make its elements through the handle it returns."""
        process, parent = self._context()
        process._add(
            SubProcess(
                id=id,
                name=name,
                parent=parent,
                documentation=documentation,
                multi_instance=multi_instance,
                inputs=dict(inputs or {}),
                outputs=dict(outputs or {}),
            )
        )
        return SubProcessNode(process, id)

    def call(
        self,
        id: str,
        process: str,
        *,
        version: int | None = None,
        tenant: str | None = None,
        name: str | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        multi_instance: MultiInstance | None = None,
        documentation: str | None = None,
    ) -> ActivityNode:
        """A call activity: runs the deployed process `process` (its latest version, or
        `version`) as a child instance and waits for it (docs/call-activities.md).

        Without `inputs` the child gets all variables; without `outputs` all of the
        child's variables come back. `tenant` calls that tenant's process only, and the
        child belongs to it; without, the caller's tenant's, else the shared one.
        """
        scope_process, parent = self._context()
        scope_process._add(
            CallActivity(
                id=id,
                name=name,
                parent=parent,
                documentation=documentation,
                process=process,
                version=version,
                tenant=tenant,
                multi_instance=multi_instance,
                inputs=dict(inputs or {}),
                outputs=dict(outputs or {}),
            )
        )
        return ActivityNode(scope_process, id)

    def decision(
        self,
        id: str,
        decision: str,
        *,
        result_variable: str | None = None,
        tenant: str | None = None,
        result_mapping: str | None = None,
        name: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        multi_instance: MultiInstance | None = None,
        documentation: str | None = None,
    ) -> ActivityNode:
        """A business rule task: evaluates the deployed DMN decision with the id `decision`
        as a job that every worker runs itself (docs/dmn.md).

        The value goes to `result_variable`; without one, a decision with several outputs
        sets each output as a variable. `retry` and `timeout` work as for `service`.
        `tenant` evaluates that tenant's decision only; without, the instance's tenant's,
        else the shared one. `result_mapping` shapes the result as Camunda 7's
        `mapDecisionResult` does: "singleEntry", "singleResult", "collectEntries" or
        "resultList" (docs/bpmn.md, business rule tasks).
        """
        process, parent = self._context()
        process._add(
            BusinessRuleTask(
                id=id,
                name=name,
                parent=parent,
                documentation=documentation,
                multi_instance=multi_instance,
                decision=decision,
                result_variable=result_variable,
                tenant=tenant,
                result_mapping=result_mapping,
                retry=_float_retry(retry or RetryPolicy()),
                timeout=_float(timeout),
                inputs=dict(inputs or {}),
                outputs=dict(outputs or {}),
            )
        )
        return ActivityNode(process, id)

    def catch_timer(
        self,
        id: str,
        *,
        duration: str | None = None,
        date: str | None = None,
        cycle: str | None = None,
        name: str | None = None,
        documentation: str | None = None,
    ) -> FlowNode:
        """An intermediate timer catch event: the token waits until the timer is due."""
        process, parent = self._context()
        event = _timer(id, duration, date, cycle)
        if event is None:
            raise _invalid(id, "a timer catch event needs a duration, date or cycle")
        process._add(IntermediateCatchEvent(id=id, name=name, parent=parent, documentation=documentation, event=event))
        return FlowNode(process, id)

    def catch_message(
        self,
        id: str,
        message: str,
        *,
        correlation_key: str | None = None,
        name: str | None = None,
        documentation: str | None = None,
    ) -> FlowNode:
        """An intermediate message catch event: the token waits for `message`."""
        process, parent = self._context()
        event = MessageDefinition(message=message, correlation_key=correlation_key)
        process._add(IntermediateCatchEvent(id=id, name=name, parent=parent, documentation=documentation, event=event))
        return FlowNode(process, id)


class SubProcessNode(ActivityNode, _Scope):
    """An embedded subprocess: an activity, and the scope of the elements made through it.

    Usable as a context manager purely so that its contents can be indented:
    `with p.subprocess("ship") as ship: ship.start("s").then(...)`.
    """

    def _context(self) -> tuple[Process, str | None]:
        return self._process, self.id

    def __enter__(self) -> SubProcessNode:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class Process(_Scope):
    """A process under construction; `build()` returns the validated definition."""

    def __init__(
        self,
        id: str,
        *,
        name: str | None = None,
        documentation: str | None = None,
        sensitive: Iterable[str] = (),
    ) -> None:
        """`sensitive`: names (glob patterns) of variables to mask (docs/security.md)."""
        self.id = id
        self.name = name
        self.documentation = documentation
        self.sensitive: tuple[str, ...] = (sensitive,) if isinstance(sensitive, str) else tuple(sensitive)
        self._elements: dict[str, Element] = {}
        self._flows: list[_Flow] = []
        self._flow_ids: set[str] = set()

    def __repr__(self) -> str:
        return f"<Process {self.id!r}: {len(self._elements)} elements, {len(self._flows)} flows>"

    def _context(self) -> tuple[Process, str | None]:
        return self, None

    def build(self, *, check: bool = True) -> ProcessDefinition:
        """The definition, in reading order, after `validate()` (ModelInvalid if unsound).

        `check=False` skips validation, for a format that validates on its own to add
        context to the problems (the YAML reader adds line numbers).
        """
        definition = self._assemble()
        if check:
            validate(definition)
        return definition

    def _add(self, element: Element) -> None:
        existing = self._elements.get(element.id)
        if existing is not None:
            raise _invalid(element.id, f"duplicate id {element.id!r}: {_describe(existing)} has it already")
        if element.id in self._flow_ids:
            raise _invalid(element.id, f"duplicate id {element.id!r}: a sequence flow has it")
        self._elements[element.id] = element

    def _free_id(self, base: str) -> str:
        candidate, number = base, 1
        while candidate in self._elements or candidate in self._flow_ids:
            number += 1
            candidate = f"{base}_{number}"
        return candidate

    def _connect(
        self,
        source: Source,
        target: Node,
        *,
        condition: str | None,
        flow_id: str | None,
        name: str | None,
        default: bool = False,
    ) -> None:
        if not isinstance(target, Node):
            raise TypeError(f"then() takes an element handle, not {target!r}")
        if source._process is not self or target._process is not self:
            raise _invalid(source.id, f"{target.id!r} belongs to another Process")
        where = flow_id or source.id
        source_element = self._elements[source.id]
        target_element = self._elements[target.id]
        if source_element.parent != target_element.parent:
            raise _invalid(
                where,
                f"a sequence flow cannot cross a subprocess boundary: {source.id!r} is in "
                f"{_scope_name(source_element.parent)}, {target.id!r} in "
                f"{_scope_name(target_element.parent)}",
            )
        if default and any(f.default and f.source == source.id for f in self._flows):
            raise _invalid(source.id, "an exclusive gateway has only one default flow")
        if flow_id is not None:
            if flow_id in self._flow_ids:
                raise _invalid(flow_id, f"duplicate id {flow_id!r}: a sequence flow has it")
            if flow_id in self._elements:
                existing = self._elements[flow_id]
                raise _invalid(flow_id, f"duplicate id {flow_id!r}: {_describe(existing)} has it already")
            self._flow_ids.add(flow_id)
        self._flows.append(
            _Flow(
                source=source.id,
                target=target.id,
                id=flow_id,
                condition=condition,
                name=name,
                default=default,
            )
        )

    def _assemble(self) -> ProcessDefinition:
        # Put the elements in reading order, then name the unnamed flows in that order so
        # that a generated id never depends on the order the process was written in.
        placeholders = {f"\0{index}": flow for index, flow in enumerate(self._flows)}
        draft_flows = {
            key: SequenceFlow(id=key, source=flow.source, target=flow.target) for key, flow in placeholders.items()
        }
        draft_elements = dict(self._elements)
        for key, flow in placeholders.items():
            gateway = draft_elements[flow.source]
            if flow.default and isinstance(gateway, ExclusiveGateway):
                draft_elements[flow.source] = dataclasses.replace(gateway, default=key)
        draft = ProcessDefinition(id=self.id, elements=draft_elements, flows=draft_flows)
        order = reading_order(draft)
        taken = set(self._elements) | self._flow_ids
        flows: dict[str, SequenceFlow] = {}
        final_ids: dict[str, str] = {}
        for element_id in order:
            for placeholder in outgoing_in_order(draft, element_id):
                flow = placeholders[placeholder.id]
                real = flow.id
                if real is None:
                    real = _unique(flow_id(flow.source, flow.target), taken)
                    taken.add(real)
                final_ids[placeholder.id] = real
                flows[real] = SequenceFlow(
                    id=real,
                    source=flow.source,
                    target=flow.target,
                    condition=flow.condition,
                    name=flow.name,
                )
        elements: dict[str, Element] = {}
        for element_id in order:
            element = draft_elements[element_id]
            if isinstance(element, ExclusiveGateway) and element.default is not None:
                element = dataclasses.replace(element, default=final_ids[element.default])
            elements[element_id] = element
        return ProcessDefinition(
            id=self.id,
            name=self.name,
            documentation=self.documentation,
            elements=elements,
            flows=flows,
            sensitive=self.sensitive,
        )


def flow_id(source: str, target: str) -> str:
    """The id a flow gets when none is given: `<source>_to_<target>`.

    Past validate()'s 200-character limit on ids, a short digest of the pair instead.
    """
    base = f"{source}_to_{target}"
    if len(base) <= _MAX_FLOW_ID - 4:  # room for a "_<n>" suffix
        return base
    digest = hashlib.sha256(f"{source}\0{target}".encode()).hexdigest()[:16]
    return f"flow_{digest}"


def reading_order(definition: ProcessDefinition) -> list[str]:
    """Element ids in the order a person reads the process, for storage and for YAML.

    Within a scope: from the start events (the plain one first, then by id), each
    element before everything it leads to (a reverse postorder of the flow graph, so a
    join comes after all its branches and only loops point backwards), an activity's
    boundary events right after it (errors, timers, then messages), and a subprocess's
    elements right after the subprocess. Elements that no start event reaches come last
    in their scope.

    The order depends on the graph and on the orders that mean something (an element's
    outgoing flows, its boundary events of one kind), not on the order in which elements
    were added, so the same process written differently has the same checksum.
    """
    order: list[str] = []
    stack: list[Iterator[str]] = [iter(_scope_order(definition, None))]
    placed: set[str] = set()
    while stack:
        element_id = next(stack[-1], None)
        if element_id is None:
            stack.pop()
            continue
        order.append(element_id)
        placed.add(element_id)
        if isinstance(definition.elements[element_id], SubProcess):
            stack.append(iter(_scope_order(definition, element_id)))
    # Elements whose parent is missing or is not a subprocess: invalid, but kept.
    order.extend(element_id for element_id in definition.elements if element_id not in placed)
    return order


def _scope_order(definition: ProcessDefinition, scope: str | None) -> list[str]:
    members = [element.id for element in definition.children(scope)]
    member_set = set(members)
    seen: set[str] = set()

    def successors(element_id: str) -> list[str]:
        boundaries = sorted(definition.boundary_events(element_id), key=lambda b: _boundary_rank(b.event))
        following = [b.id for b in boundaries]
        following += [flow.target for flow in outgoing_in_order(definition, element_id)]
        return [target for target in following if target in member_set]

    def reverse_postorder(roots: list[str]) -> list[str]:
        postorder: list[str] = []
        for root in reversed(roots):
            if root in seen:
                continue
            seen.add(root)
            stack: list[tuple[str, Iterator[str]]] = [(root, reversed(successors(root)))]
            while stack:
                element_id, pending = stack[-1]
                child = next(pending, None)
                if child is None:
                    stack.pop()
                    postorder.append(element_id)
                elif child not in seen:
                    seen.add(child)
                    stack.append((child, reversed(successors(child))))
        postorder.reverse()
        return postorder

    starts = [e.id for e in sorted(definition.start_events(scope), key=lambda e: (e.event is not None, e.id))]
    starts += [e.id for e in definition.implicit_starts(scope)]  # BPMN 2.0.2, 10.5.2: no start event
    order = reverse_postorder(starts)
    # What no start event reaches (the model is invalid then) follows, as written.
    order += reverse_postorder([element_id for element_id in members if element_id not in seen])
    return order


def boundary_kind(event: object) -> str | None:
    """'error', 'timer' or 'message': the kind of a boundary event's trigger."""
    if isinstance(event, ErrorDefinition):
        return "error"
    if isinstance(event, TimerDefinition):
        return "timer"
    if isinstance(event, MessageDefinition):
        return "message"
    return None


def _boundary_rank(event: object) -> int:
    kind = boundary_kind(event)
    return BOUNDARY_KINDS.index(kind) if kind else len(BOUNDARY_KINDS)


def outgoing_in_order(definition: ProcessDefinition, element_id: str) -> list[SequenceFlow]:
    """Outgoing flows in their order, an exclusive gateway's default flow last."""
    flows = list(definition.outgoing(element_id))
    element = definition.elements.get(element_id)
    if isinstance(element, ExclusiveGateway) and element.default is not None:
        flows.sort(key=lambda flow: flow.id == element.default)
    return flows


def _unique(base: str, taken: set[str]) -> str:
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def _timer(where: str, duration: str | None, date: str | None, cycle: str | None) -> TimerDefinition | None:
    given = [
        (kind, value) for kind, value in (("duration", duration), ("date", date), ("cycle", cycle)) if value is not None
    ]
    if len(given) > 1:
        names = " and ".join(kind for kind, _ in given)
        raise _invalid(where, f"a timer has one of duration, date or cycle, not {names}")
    if not given:
        return None
    kind, value = given[0]
    return TimerDefinition(kind=kind, value=value)


def _float(value: float | None) -> float | None:
    return None if value is None else _as_float(value)


def _as_float(value: float) -> float:
    # 10 and 10.0 are the same number of seconds, but not the same JSON, so store one
    # form: the checksum then does not depend on how the author wrote it. Booleans are
    # left alone for validate() to reject.
    return float(value) if type(value) is int else value


def _float_retry(retry: RetryPolicy) -> RetryPolicy:
    return dataclasses.replace(
        retry,
        initial_backoff=_as_float(retry.initial_backoff),
        multiplier=_as_float(retry.multiplier),
        max_backoff=_as_float(retry.max_backoff),
        jitter=_as_float(retry.jitter),
        non_retryable=tuple(retry.non_retryable),
    )


def _scope_name(parent: str | None) -> str:
    return "the process" if parent is None else f"subprocess {parent!r}"
