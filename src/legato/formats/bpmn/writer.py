"""Write a `ProcessDefinition` as BPMN 2.0 XML: `dump_bpmn`.

The file is what Camunda Modeler 5 writes for Camunda 8: the standard namespaces (bpmn,
bpmndi, dc, di, xsi), execution details in `zeebe:` extensions (job types and retries,
input and output mappings, assignments, forms, message subscriptions, called processes
and decisions, multi-instance loops; see `extension_writer`), the messages, errors,
signals and escalations the events refer to, lanes and the pool, conditions as
`tFormalExpression`, and a diagram: the definition's own, or an automatic layout
(`layout`) for a process that was never drawn. A compensation handler is connected to its
activity by a boundary event and an association, drawn too (`compensation`). So Camunda
Modeler and bpmn.io open it, and people can keep editing it there.

What neither Camunda dialect can say goes in `legato:` extensions, which modelers keep
untouched: a full retry policy and a timeout, a form given as JSON, an error message, a
pinned called version, and an expression in Legato's own dialect where a Zeebe attribute
would read it as FEEL or as static text (see `expressions`). `load_bpmn(dump_bpmn(d))`
gives back `d`, diagram and all: the same checksum.
"""

from __future__ import annotations

import dataclasses
import re
from importlib import metadata
from typing import Final

from lxml import etree

from legato.errors import ModelInvalid, Problem
from legato.formats.bpmn.compensation import Drawn, with_compensation, write_association, write_compensation_event
from legato.formats.bpmn.context import MARKED_NOT_EXECUTABLE
from legato.formats.bpmn.diagram import write_diagram
from legato.formats.bpmn.expressions import to_camunda
from legato.formats.bpmn.extension_writer import (
    write_activity_extensions,
    write_loop,
    write_mappings,
    write_standard_loop,
)
from legato.formats.bpmn.layout import layout
from legato.formats.bpmn.namespaces import BPMN, CAMUNDA, LEGATO, MODELER, PREFIXES, XSI, ZEEBE, qualified
from legato.formats.builder import reading_order
from legato.model.diagram import Lane
from legato.model.elements import (
    ELEMENT_TYPES,
    Activity,
    BoundaryEvent,
    CancelDefinition,
    CompensationDefinition,
    ConditionalDefinition,
    Element,
    EndEvent,
    ErrorDefinition,
    EscalationDefinition,
    ExclusiveGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    MessageDefinition,
    ReceiveTask,
    ScriptTask,
    SignalDefinition,
    StartEvent,
    SubProcess,
    TerminateDefinition,
    TimerDefinition,
)
from legato.model.process import ProcessDefinition

__all__ = ["FLAVOURS", "dump_bpmn"]

FLAVOURS: Final = ("camunda8", "camunda7")
"""The extension flavours `dump_bpmn` writes: Camunda 8's `zeebe:`, Camunda 7's `camunda:`."""

_TIMER_TAGS = {"duration": "timeDuration", "date": "timeDate", "cycle": "timeCycle"}
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.\-]")
_CAMUNDA_PLATFORM = "8.5.0"
_CAMUNDA7_PLATFORM = "7.21.0"


def dump_bpmn(definition: ProcessDefinition, *, flavour: str = "camunda8") -> str:
    """The definition as a BPMN 2.0 document that Camunda Modeler and bpmn.io open, in `flavour`."""
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}: the flavours are {', '.join(FLAVOURS)}")
    return _Writer(definition, flavour).write()


def _bpmn(name: str) -> str:
    return qualified(BPMN, name)


class _Writer:
    def __init__(self, definition: ProcessDefinition, flavour: str = "camunda8") -> None:
        self.definition = definition
        self.flavour = flavour
        self.order = reading_order(definition)
        self.taken = set(definition.elements) | set(definition.flows) | set(_lane_ids(definition.lanes))
        if definition.participant is not None:
            self.taken.add(definition.participant.id)
        self.messages: dict[tuple[str, str | None], str] = {}
        self.errors: dict[tuple[str | None, str | None], str] = {}
        self.signals: dict[str, str] = {}
        self.escalations: dict[str, str] = {}
        self.compensations: list[Drawn] = []

    def unique(self, wanted: str) -> str:
        base = _NOT_NAME.sub("_", wanted)
        if not base or not (base[0].isalpha() or base[0] == "_"):
            base = f"_{base}"
        candidate, number = base, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{base}_{number}"
        self.taken.add(candidate)
        return candidate

    def write(self) -> str:
        definition = self.definition
        camunda7 = self.flavour == "camunda7"
        root = etree.Element(_bpmn("definitions"), nsmap={**PREFIXES, "camunda": CAMUNDA} if camunda7 else PREFIXES)
        root.set("id", self.unique(f"Definitions_{definition.id}"))
        root.set("targetNamespace", "http://bpmn.io/schema/bpmn")
        root.set("exporter", "Legato")
        root.set("exporterVersion", _version())
        root.set(qualified(MODELER, "executionPlatform"), "Camunda Platform" if camunda7 else "Camunda Cloud")
        root.set(qualified(MODELER, "executionPlatformVersion"), _CAMUNDA7_PLATFORM if camunda7 else _CAMUNDA_PLATFORM)
        plane_element = definition.id
        if definition.participant is not None:
            collaboration = etree.SubElement(
                root, _bpmn("collaboration"), id=self.unique(f"Collaboration_{definition.id}")
            )
            plane_element = collaboration.get("id", "")
            participant = etree.SubElement(collaboration, _bpmn("participant"), id=definition.participant.id)
            _set(participant, "name", definition.participant.name)
            participant.set("processRef", definition.id)
        process = etree.SubElement(root, _bpmn("process"), id=definition.id)
        _set(process, "name", definition.name)
        marked_false = any(MARKED_NOT_EXECUTABLE in reason for reason in self.definition.not_executable)
        process.set("isExecutable", "false" if marked_false else "true")
        if definition.sensitive:
            process.set(qualified(LEGATO, "sensitive"), " ".join(definition.sensitive))
        _documentation(process, definition.documentation)
        if definition.lanes:
            self.lanes(
                etree.SubElement(process, _bpmn("laneSet"), id=self.unique(f"{definition.id}_lanes")), definition.lanes
            )
        self.scope(process, None)
        self.catalog(root)
        diagram = definition.diagram if definition.diagram is not None else layout(definition)
        diagram = with_compensation(diagram, definition, self.compensations)
        gateways = [e.id for e in definition.elements.values() if isinstance(e, ExclusiveGateway)]
        write_diagram(root, diagram, plane_element=plane_element, unique=self.unique, marker_visible=gateways)
        document: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
        return document.decode("utf-8")

    def lanes(self, lane_set: etree._Element, lanes: tuple[Lane, ...]) -> None:
        for lane in lanes:
            node = etree.SubElement(lane_set, _bpmn("lane"), id=lane.id)
            _set(node, "name", lane.name)
            for element_id in lane.elements:
                etree.SubElement(node, _bpmn("flowNodeRef")).text = element_id
            if lane.lanes:
                self.lanes(
                    etree.SubElement(node, _bpmn("childLaneSet"), id=self.unique(f"{lane.id}_lanes")), lane.lanes
                )

    def scope(self, parent: etree._Element, scope: str | None) -> None:
        drawn = []
        for element_id in self.order:
            element = self.definition.elements[element_id]
            if element.parent == scope:
                self.element(parent, element)
                if isinstance(element, Activity):
                    compensation = write_compensation_event(parent, element, self.unique)
                    if compensation is not None:
                        drawn.append(compensation)
        for flow in self.definition.flows.values():
            source = self.definition.elements.get(flow.source)
            if source is not None and source.parent == scope:
                node = etree.SubElement(parent, _bpmn("sequenceFlow"), id=flow.id)
                _set(node, "name", flow.name)
                node.set("sourceRef", flow.source)
                node.set("targetRef", flow.target)
                if flow.condition is not None:
                    condition = etree.SubElement(node, _bpmn("conditionExpression"))
                    condition.set(qualified(XSI, "type"), "bpmn:tFormalExpression")
                    condition.text = flow.condition
        for compensation in drawn:
            write_association(parent, compensation)
        self.compensations.extend(drawn)

    def element(self, parent: etree._Element, element: Element) -> None:
        if type(element) not in _WRITABLE:
            raise ModelInvalid([Problem(element=element.id, message=f"a {element.kind} cannot be written as BPMN yet")])
        unwritten = _unwritten_fields(element)
        if unwritten:
            message = f"{', '.join(unwritten)} of a {element.kind} cannot be written as BPMN yet"
            raise ModelInvalid([Problem(element=element.id, message=message)])
        tag = "transaction" if isinstance(element, SubProcess) and element.transaction else element.kind
        node = etree.SubElement(parent, _bpmn(tag), id=element.id)
        _set(node, "name", element.name)
        self.attributes(node, element)
        _documentation(node, element.documentation)
        extensions = etree.SubElement(node, _bpmn("extensionElements"))
        if isinstance(element, Activity):
            write_activity_extensions(extensions, element, self.flavour)
        elif isinstance(element, StartEvent) and element.outputs:
            write_mappings(extensions, {}, element.outputs, self.flavour)
        sender = element.task_type if isinstance(element, IntermediateThrowEvent | EndEvent) else None
        if sender is not None and self.flavour != "camunda7":
            etree.SubElement(extensions, qualified(ZEEBE, "taskDefinition"), type=sender)  # the sender
        for route in getattr(element, "routes", ()):  # sent along a collaboration's message flows
            written = etree.SubElement(
                extensions, qualified(LEGATO, "messageRoute"), process=route.process, message=route.message
            )
            _set(written, "element", route.element or None)
            _set(written, "correlationKey", route.correlation_key)
        for flow in self.definition.incoming(element.id):
            etree.SubElement(node, _bpmn("incoming")).text = flow.id
        for flow in self.definition.outgoing(element.id):
            etree.SubElement(node, _bpmn("outgoing")).text = flow.id
        if isinstance(element, StartEvent | EndEvent | IntermediateCatchEvent | IntermediateThrowEvent | BoundaryEvent):
            self.event(node, element.event)
            message = node.find(_bpmn("messageEventDefinition"))
            if sender is not None and message is not None and self.flavour == "camunda7":
                message.set(qualified(CAMUNDA, "type"), "external")  # Camunda 7 puts the sender here
                message.set(qualified(CAMUNDA, "topic"), sender)
            elif sender is not None and self.flavour == "camunda7":
                etree.SubElement(extensions, qualified(ZEEBE, "taskDefinition"), type=sender)
        if isinstance(element, StartEvent):
            for alternative in element.alternatives:  # a Multiple start event: any one starts it
                self.event(node, alternative)
        if isinstance(element, Activity) and element.multi_instance is not None:
            write_loop(
                node, element.multi_instance, self.flavour
            )  # BPMN 2.0 puts the loop after the flows, before a script
        if isinstance(element, Activity) and element.loop is not None:
            write_standard_loop(node, element.loop)
        if isinstance(element, ScriptTask):
            node.set("scriptFormat", "legato")
            etree.SubElement(node, _bpmn("script")).text = element.script
        if isinstance(element, SubProcess):
            self.scope(node, element.id)
        if not len(extensions):
            node.remove(extensions)

    def attributes(self, node: etree._Element, element: Element) -> None:
        """The BPMN attributes an element needs besides its id and name."""
        if isinstance(element, Activity) and element.for_compensation:
            node.set("isForCompensation", "true")
        if isinstance(element, SubProcess) and element.triggered_by_event:
            node.set("triggeredByEvent", "true")
        if isinstance(element, StartEvent) and not element.interrupting:
            node.set("isInterrupting", "false")
        if isinstance(element, BoundaryEvent):
            if not element.cancel_activity:
                node.set("cancelActivity", "false")
            node.set("attachedToRef", element.attached_to)
        if isinstance(element, ExclusiveGateway | InclusiveGateway) and element.default is not None:
            node.set("default", element.default)
        if isinstance(element, ReceiveTask):
            node.set(
                "messageRef",
                self.message(MessageDefinition(message=element.message, correlation_key=element.correlation_key)),
            )

    def message(self, event: MessageDefinition) -> str:
        key = (event.message, event.correlation_key)
        if key not in self.messages:
            self.messages[key] = self.unique(f"Message_{event.message}")
        return self.messages[key]

    def event(self, node: etree._Element, event: object) -> None:
        if isinstance(event, TimerDefinition):
            timer = etree.SubElement(node, _bpmn("timerEventDefinition"))
            value = etree.SubElement(timer, _bpmn(_TIMER_TAGS[event.kind]))
            value.set(qualified(XSI, "type"), "bpmn:tFormalExpression")
            value.text = event.value
        elif isinstance(event, MessageDefinition):
            etree.SubElement(node, _bpmn("messageEventDefinition"), messageRef=self.message(event))
        elif isinstance(event, ErrorDefinition):
            definition = etree.SubElement(node, _bpmn("errorEventDefinition"))
            if event.code is not None or event.message is not None:
                error_key = (event.code, event.message)
                if error_key not in self.errors:
                    self.errors[error_key] = self.unique(f"Error_{event.code or 'any'}")
                definition.set("errorRef", self.errors[error_key])
        elif isinstance(event, TerminateDefinition):
            etree.SubElement(node, _bpmn("terminateEventDefinition"))
        elif isinstance(event, SignalDefinition):
            if event.signal not in self.signals:
                self.signals[event.signal] = self.unique(f"Signal_{event.signal}")
            etree.SubElement(node, _bpmn("signalEventDefinition"), signalRef=self.signals[event.signal])
        elif isinstance(event, EscalationDefinition):
            definition = etree.SubElement(node, _bpmn("escalationEventDefinition"))
            if event.code is not None:  # a catch without a code catches any escalation
                if event.code not in self.escalations:
                    self.escalations[event.code] = self.unique(f"Escalation_{event.code}")
                definition.set("escalationRef", self.escalations[event.code])
        elif isinstance(event, LinkDefinition):
            etree.SubElement(node, _bpmn("linkEventDefinition"), name=event.name)
        elif isinstance(event, ConditionalDefinition):
            definition = etree.SubElement(node, _bpmn("conditionalEventDefinition"))
            condition = etree.SubElement(definition, _bpmn("condition"))
            condition.set(qualified(XSI, "type"), "bpmn:tFormalExpression")
            condition.text = event.condition
        elif isinstance(event, CancelDefinition):
            etree.SubElement(node, _bpmn("cancelEventDefinition"))
        elif isinstance(event, CompensationDefinition):
            definition = etree.SubElement(node, _bpmn("compensateEventDefinition"))
            _set(definition, "activityRef", event.activity)
        elif event is not None:
            raise ModelInvalid([Problem(element=node.get("id"), message="this event cannot be written as BPMN yet")])

    def catalog(self, root: etree._Element) -> None:
        for (name, correlation_key), message_id in self.messages.items():
            message = etree.SubElement(root, _bpmn("message"), id=message_id, name=name)
            if correlation_key is not None:
                extensions = etree.SubElement(message, _bpmn("extensionElements"))
                written = to_camunda(correlation_key)
                if written is not None:
                    etree.SubElement(extensions, qualified(ZEEBE, "subscription"), correlationKey=written)
                else:
                    etree.SubElement(extensions, qualified(LEGATO, "subscription"), correlationKey=correlation_key)
        for (code, text), error_id in self.errors.items():
            error = etree.SubElement(root, _bpmn("error"), id=error_id)
            _set(error, "name", code)
            _set(error, "errorCode", code)
            _set(error, qualified(LEGATO, "message"), text)
        for signal, signal_id in self.signals.items():
            etree.SubElement(root, _bpmn("signal"), id=signal_id, name=signal)
        for code, escalation_id in self.escalations.items():
            etree.SubElement(root, _bpmn("escalation"), id=escalation_id, name=code, escalationCode=code)


_WRITABLE: frozenset[type[Element]] = frozenset(ELEMENT_TYPES.values())
_WRITTEN_FIELDS = frozenset(
    {
        "id",
        "name",
        "parent",
        "documentation",
        "event",
        "attached_to",
        "cancel_activity",
        "interrupting",
        "alternatives",
        "routes",
        "inputs",
        "outputs",
        "multi_instance",
        "loop",
        "compensated_by",
        "for_compensation",
        "triggered_by_event",
        "transaction",
        "task_type",
        "retry",
        "timeout",
        "decision",
        "result_variable",
        "result_mapping",
        "message",
        "correlation_key",
        "process",
        "version",
        "tenant",
        "script",
        "assignee",
        "candidate_groups",
        "candidate_users",
        "description",
        "due_date",
        "follow_up_date",
        "priority",
        "form",
        "default",
    }
)


def _unwritten_fields(element: Element) -> list[str]:
    """Fields the writer has no BPMN for, set to something other than their default.

    Refused rather than dropped: an export that loses part of a model must not look whole.
    """
    unwritten = []
    for item in dataclasses.fields(element):
        if item.name in _WRITTEN_FIELDS:
            continue
        if item.default is not dataclasses.MISSING:
            default: object = item.default
        elif item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        else:
            unwritten.append(item.name)
            continue
        if getattr(element, item.name) != default:
            unwritten.append(item.name)
    return unwritten


def _version() -> str:
    try:
        return metadata.version("legato")
    except metadata.PackageNotFoundError:
        return "0"


def _documentation(node: etree._Element, text: str | None) -> None:
    if text:
        etree.SubElement(node, _bpmn("documentation")).text = text


def _set(node: etree._Element, attribute: str, value: str | None) -> None:
    if value is not None:
        node.set(attribute, value)


def _lane_ids(lanes: tuple[Lane, ...]) -> list[str]:
    ids = []
    for lane in lanes:
        ids.append(lane.id)
        ids.extend(_lane_ids(lane.lanes))
    return ids
