"""Writing a process as YAML: the steps in reading order, implicit flows left out where they follow."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import yaml

from legato.errors import ModelInvalid, Problem
from legato.formats.builder import RetryPolicy, boundary_kind, flow_id, outgoing_in_order, reading_order
from legato.formats.yaml_format._nodes import _with_following
from legato.formats.yaml_format._vocabulary import _BOUNDARY_KEYS, _TAG, MAX_DEPTH
from legato.model.elements import (
    Activity,
    BoundaryEvent,
    BusinessRuleTask,
    CallActivity,
    Element,
    EndEvent,
    ErrorDefinition,
    ExclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    ParallelGateway,
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

# --- writing -------------------------------------------------------------------------------


class _FlowList(list[str]):
    """A list of plain words, written on one line: `[reserve_stock, create_invoice]`."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the reader refuses anchors, so never write one

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, as people do


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar(f"{_TAG}str", data, style=style)


def _represent_flow_list(dumper: yaml.SafeDumper, data: _FlowList) -> yaml.SequenceNode:
    return dumper.represent_sequence(f"{_TAG}seq", data, flow_style=True)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(_FlowList, _represent_flow_list)


@dataclass
class _Placed:
    """An element with where it is written: its boundary events' steps, its own steps."""

    element: Element
    boundaries: list[tuple[BoundaryEvent, list[_Placed]]] = field(default_factory=list)
    steps: list[_Placed] | None = None


def dump_yaml(definition: ProcessDefinition) -> str:
    """Write a definition as YAML that `load_yaml` reads back with the same checksum.

    Steps come in reading order; the steps that only a boundary event leads to are
    nested under it, and `next:` is written only where the next step in the list is not
    where the flow goes. Raises ModelInvalid for a definition that YAML cannot express
    (an element whose parent is not a subprocess, a boundary event on a gateway).
    """
    return _Writer(definition).write()


_STEP_KIND_OF: dict[type[Element], str] = {
    StartEvent: "start",
    EndEvent: "end",
    ServiceTask: "service",
    ScriptTask: "script",
    UserTask: "user",
    ExclusiveGateway: "exclusive",
    ParallelGateway: "parallel",
    SubProcess: "subprocess",
    CallActivity: "call",
    BusinessRuleTask: "decision",
}


class _Writer:
    def __init__(self, definition: ProcessDefinition) -> None:
        self.definition = definition
        self.position = {element_id: i for i, element_id in enumerate(reading_order(definition))}
        self.written: set[str] = set()

    def write(self) -> str:
        definition = self.definition
        self.check()
        document: dict[str, Any] = {"process": definition.id}
        _put(document, "name", definition.name)
        _put(document, "documentation", definition.documentation)
        _put(document, "sensitive", list(definition.sensitive) or None)
        document["steps"] = self.render(self.place(self.members(None), depth=0))
        missing = [element_id for element_id in definition.elements if element_id not in self.written]
        if missing:
            raise _unwritable([(element_id, "its parent is not a subprocess") for element_id in missing])
        return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)

    def check(self) -> None:
        definition = self.definition
        faults: list[tuple[str, str]] = []
        for element in definition.elements.values():
            if type(element) not in _STEP_KIND_OF and not isinstance(element, IntermediateCatchEvent | BoundaryEvent):
                faults.append((element.id, f"no YAML step for a {element.kind}"))
            if isinstance(element, BoundaryEvent):
                host = definition.elements.get(element.attached_to)
                if not isinstance(host, Activity) or host.parent != element.parent:
                    faults.append((element.id, "not attached to an activity in its scope"))
                if boundary_kind(element.event) is None:
                    faults.append((element.id, "a boundary event that is not an error, timer or message"))
            if (
                isinstance(element, EndEvent)
                and isinstance(element.event, ErrorDefinition)
                and element.event.code is None
            ):
                faults.append((element.id, "an error end event without an error code"))
        for flow in definition.flows.values():
            if flow.source not in definition.elements or flow.target not in definition.elements:
                faults.append((flow.id, "a flow between elements that do not exist"))
        if faults:
            raise _unwritable(faults)

    def members(self, scope: str | None) -> list[str]:
        children = sorted(self.definition.children(scope), key=lambda e: self.position[e.id])
        return [e.id for e in children if not isinstance(e, BoundaryEvent)]

    def place(self, ids: list[str], depth: int) -> list[_Placed]:
        if ids and depth > MAX_DEPTH // 4:
            raise _unwritable([(ids[0], "nested too deeply to be read back")])
        claimed: set[str] = set()
        placed: list[_Placed] = []
        for index, element_id in enumerate(ids):
            if element_id in claimed:
                continue
            item = _Placed(self.definition.elements[element_id])
            boundaries = self.definition.boundary_events(element_id)
            for boundary in sorted(boundaries, key=lambda b: self.position[b.id]):
                region = self.region(boundary, ids[index + 1 :], claimed)
                claimed.update(region)
                item.boundaries.append((boundary, self.place(region, depth + 1)))
            if isinstance(item.element, SubProcess):
                item.steps = self.place(self.members(element_id), depth + 1)
            placed.append(item)
        return placed

    def region(self, boundary: BoundaryEvent, candidates: list[str], claimed: set[str]) -> list[str]:
        """The steps that only this boundary event leads to: written nested under it."""
        sources = {boundary.id}
        region: list[str] = []
        for element_id in candidates:
            incoming = self.definition.incoming(element_id)
            if element_id in claimed or not incoming:
                continue
            if all(flow.source in sources for flow in incoming):
                region.append(element_id)
                sources.add(element_id)
                sources.update(b.id for b in self.definition.boundary_events(element_id))
        return region

    def render(self, placed: list[_Placed]) -> list[dict[str, Any]]:
        steps = []
        for item, following in _with_following(placed):
            steps.append(self.step(item, None if following is None else following.element))
        return steps

    def step(self, item: _Placed, following: Element | None) -> dict[str, Any]:
        element = item.element
        self.written.add(element.id)
        kind = _STEP_KIND_OF.get(type(element))
        if isinstance(element, IntermediateCatchEvent):
            kind = "catch_timer" if isinstance(element.event, TimerDefinition) else "catch_message"
        assert kind is not None
        step: dict[str, Any] = {kind: element.id}
        _put(step, "name", element.name)
        _put(step, "documentation", element.documentation)
        step.update(_fields(element))
        if item.steps is not None:
            step["steps"] = self.render(item.steps)
        for key in _BOUNDARY_KEYS:
            events = [
                self.boundary(boundary, nested)
                for boundary, nested in item.boundaries
                if f"on_{boundary_kind(boundary.event)}" == key
            ]
            if events:
                step[key] = events[0] if len(events) == 1 else events
        if not isinstance(element, EndEvent) or self.definition.outgoing(element.id):
            _put(step, "next", self.next(element, following))
        return step

    def boundary(self, boundary: BoundaryEvent, nested: list[_Placed]) -> dict[str, Any]:
        self.written.add(boundary.id)
        event: dict[str, Any] = {"id": boundary.id}
        _put(event, "name", boundary.name)
        _put(event, "documentation", boundary.documentation)
        event.update(_event_fields(boundary.event))
        if not boundary.cancel_activity:
            event["interrupting"] = False
        _put(event, "next", self.next(boundary, nested[0].element if nested else None))
        if nested:
            event["steps"] = self.render(nested)
        return event

    def next(self, source: Element, following: Element | None) -> object:
        """What `next:` must say, or None where the implicit flow says it already."""
        if isinstance(source, EndEvent) or isinstance(following, StartEvent):
            following = None
        flows = outgoing_in_order(self.definition, source.id)
        if not flows:
            return None if following is None else _FlowList()
        if following is not None and len(flows) == 1 and flows[0].target == following.id and self.plain(flows[0]):
            return None
        if all(self.plain(flow) for flow in flows):
            targets = [flow.target for flow in flows]
            return targets[0] if len(targets) == 1 else _FlowList(targets)
        return [self.entry(flow) for flow in flows]

    def plain(self, flow: SequenceFlow) -> bool:
        source = self.definition.elements[flow.source]
        default = isinstance(source, ExclusiveGateway) and source.default == flow.id
        return (
            flow.condition is None
            and flow.name is None
            and not default
            and flow.id == flow_id(flow.source, flow.target)
        )

    def entry(self, flow: SequenceFlow) -> str | dict[str, Any]:
        if self.plain(flow):
            return flow.target
        source = self.definition.elements[flow.source]
        default = isinstance(source, ExclusiveGateway) and source.default == flow.id
        entry: dict[str, Any] = {"default" if default else "to": flow.target}
        _put(entry, "when", flow.condition)
        if flow.id != flow_id(flow.source, flow.target):
            entry["id"] = flow.id
        _put(entry, "name", flow.name)
        return entry


def _fields(element: Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(element, StartEvent | IntermediateCatchEvent):
        fields.update(_event_fields(element.event))
    if isinstance(element, EndEvent):
        fields.update(_event_fields(element.event, error_key="error"))
    if isinstance(element, BusinessRuleTask):
        fields["decision_ref"] = element.decision
        _put(fields, "result_variable", element.result_variable)
        _put(fields, "tenant", element.tenant)
        _put(fields, "result_mapping", element.result_mapping)
    elif isinstance(element, ServiceTask):
        fields["task_type"] = element.task_type
    if isinstance(element, ServiceTask):
        default = RetryPolicy()
        retry = {
            f.name: getattr(element.retry, f.name)
            for f in dataclasses.fields(RetryPolicy)
            if getattr(element.retry, f.name) != getattr(default, f.name)
        }
        if "non_retryable" in retry:
            retry["non_retryable"] = _FlowList(retry["non_retryable"])
        if retry:
            fields["retry"] = retry
        _put(fields, "timeout", element.timeout)
    if isinstance(element, ScriptTask):
        fields["code"] = element.script
    if isinstance(element, CallActivity):
        fields["process"] = element.process
        _put(fields, "version", element.version)
        _put(fields, "tenant", element.tenant)
    if isinstance(element, UserTask):
        _put(fields, "assignee", element.assignee)
        if element.candidate_users:
            fields["candidate_users"] = _FlowList(element.candidate_users)
        if element.candidate_groups:
            fields["candidate_groups"] = _FlowList(element.candidate_groups)
        for key in ("description", "due_date", "follow_up_date", "priority"):
            _put(fields, key, getattr(element, key))
        if element.form is not None:
            fields["form"] = _plain(element.form)
    if isinstance(element, Activity):
        for key in ("inputs", "outputs"):
            mapping = getattr(element, key)
            if mapping:
                fields[key] = dict(mapping)
    return fields


def _event_fields(event: object, *, error_key: str = "code") -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if isinstance(event, TimerDefinition):
        fields[event.kind] = event.value
    elif isinstance(event, MessageDefinition):
        fields["message"] = event.message
        _put(fields, "correlation_key", event.correlation_key)
    elif isinstance(event, ErrorDefinition):
        _put(fields, error_key, event.code)
        _put(fields, "error_message", event.message)
    elif isinstance(event, TerminateDefinition):
        fields["terminate"] = True
    return fields


def _put(mapping: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        mapping[key] = value


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _unwritable(faults: list[tuple[str, str]]) -> ModelInvalid:
    return ModelInvalid(
        [Problem(element=element, message=f"cannot be written as YAML: {why}") for element, why in faults]
    )
