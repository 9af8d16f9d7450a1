"""The flow elements of a BPMN process or subprocess, read into Legato's model.

`FlowReader.read_scope` walks one scope (a process, an embedded or an event subprocess,
BPMN 2.0, 10.3.5) in document order: events (`events`), activities (`activities`) and
gateways become model elements, sequence flows become flows, and anything Legato does not
run is refused with its id, line and advice (`unsupported`). Execution details come from
the extensions (`extensions.read_extensions`); message, error, signal and escalation
references are resolved through the document's root elements (`Catalog`).

`FlowReader.finish` runs once the whole process is read: it turns each compensation
boundary event and the association from it into `compensated_by` on the activity the
event is attached to (10.5.5, "Compensation Event"), since an association may be written
anywhere in the document.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from lxml import etree

from legato.formats.bpmn import activities, events, unsupported
from legato.formats.bpmn.catalog import Catalog
from legato.formats.bpmn.context import Context
from legato.formats.bpmn.data_associations import read_assignments
from legato.formats.bpmn.extensions import Extensions, read_extensions
from legato.formats.bpmn.namespaces import BPMN, split
from legato.model.elements import (
    Activity,
    Element,
    EventBasedGateway,
    ExclusiveGateway,
    InclusiveGateway,
    ParallelGateway,
    SequenceFlow,
)

_CONDITION_LANGUAGES = ("feel", "juel", "legato", "xpath")  # xpath: Signavio's default, never meant
# A subprocess's own children that are no flow elements of its scope: its loop markers
# belong to the subprocess itself (read by `activities.activity_fields`).
_STRUCTURE = {
    "documentation",
    "extensionElements",
    "laneSet",
    "incoming",
    "outgoing",
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
}
_FLOW_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")
_ARTIFACT_WARNINGS = {
    kind: f"{kind} elements are left out: a data object or data input is the process variable of its name, "
    "which a multi-instance loopDataInputRef or loopDataOutputRef may name"
    for kind in ("dataObject", "dataObjectReference", "ioSpecification")
}
_DATA_ASSOCIATIONS = ("dataInputAssociation", "dataOutputAssociation")


@dataclass(frozen=True, slots=True)
class _Association:
    node: etree._Element
    source: str
    target: str


@dataclass
class FlowReader:
    context: Context
    catalog: Catalog
    elements: dict[str, Element] = field(default_factory=dict)
    flows: dict[str, SequenceFlow] = field(default_factory=dict)
    event_subprocesses: set[str] = field(default_factory=set)
    compensations: dict[str, tuple[etree._Element, str]] = field(default_factory=dict)  # event -> (node, activity)
    associations: list[_Association] = field(default_factory=list)

    @property
    def drawn_only(self) -> set[str]:
        """Ids the document has that are no element of the model: associations, and
        compensation boundary events, which the writer draws again from `compensated_by`."""
        return set(self.compensations) | {a.node.get("id", "") for a in self.associations}

    def read_scope(self, scope: etree._Element, parent: str | None) -> None:
        for node in scope.iterchildren(etree.Element):
            namespace, kind = split(node.tag)
            if namespace != BPMN:
                self.context.warn(
                    node, f"foreign:{node.tag}", f"{self.context.name(node.tag)} is not BPMN; it is left out"
                )
            elif kind in _STRUCTURE:
                continue
            elif kind == "association":
                self.associations.append(_Association(node, node.get("sourceRef", ""), node.get("targetRef", "")))
            elif kind in unsupported.ARTIFACTS:
                self.context.warn(
                    node,
                    f"artifact:{kind}",
                    _ARTIFACT_WARNINGS.get(kind, f"{kind} elements carry no behaviour and are left out"),
                )
            elif not self.claim(node):
                continue
            elif kind == "sequenceFlow":
                self.sequence_flow(node)
            else:
                element = self.element(node, kind, parent)
                if element is not None:
                    self.elements[element.id] = element

    def claim(self, node: etree._Element) -> bool:
        """Record the id's line; refuse a missing or duplicate id.

        A sequence flow may leave its id out (it is optional in the BPMN 2.0 XSD, and
        Camunda 7's engine test resources often do): it gets one made from its source, its
        target and its place among the flows between the two, so the same file always
        gives the same ids.
        """
        element_id = node.get("id")
        if not element_id and split(node.tag)[1] == "sequenceFlow":
            element_id = self.flow_id(node)
            node.set("id", element_id)
        if not element_id:
            self.context.refuse(node, f"a {split(node.tag)[1]} needs an id", element=None)
            return False
        if element_id in self.context.lines:
            line = self.context.lines[element_id]
            self.context.refuse(node, f"duplicate id: line {line} has it already")
            return False
        self.context.lines[element_id] = node.sourceline or 0
        return True

    def flow_id(self, node: etree._Element) -> str:
        source, target = node.get("sourceRef", ""), node.get("targetRef", "")
        base = f"Flow_{source}_{target}" if _FLOW_ID.match(f"{source}_{target}") else "Flow"
        return self.context.make_id(base[:190])

    def element(self, node: etree._Element, kind: str, parent: str | None) -> Element | None:
        advice = unsupported.ELEMENTS.get(kind)
        if advice is not None:
            self.context.refuse(node, f"{kind} is not supported: {advice}")
            return None
        build = _BUILDERS.get(kind)
        if build is None:
            self.context.refuse(node, f"{kind} is not a BPMN element Legato knows")
            return None
        self.check_children(node, activity=kind in activities.BUILDERS)
        common = {
            "id": node.get("id", ""),
            "name": name(node),
            "parent": parent,
            "documentation": documentation(node),
        }
        element = build(self, node, common)
        if isinstance(element, Activity):
            element = self.assign(node, element)
        return element

    def assign(self, node: etree._Element, activity: Activity) -> Activity:
        """Merge what the activity's data associations assign into its mappings; a variable
        mapped both ways (an extension and an assignment) is refused, not overwritten."""
        assigned = read_assignments(self.context, node)
        if not assigned.inputs and not assigned.outputs:
            return activity
        for label, mine, theirs in (
            ("input", activity.inputs, assigned.inputs),
            ("output", activity.outputs, assigned.outputs),
        ):
            twice = sorted(set(mine) & set(theirs))
            if twice:
                self.context.refuse(node, f"{', '.join(twice)}: mapped by an {label} mapping and a data association")
        return dataclasses.replace(
            activity,
            inputs={**activity.inputs, **assigned.inputs},
            outputs={**activity.outputs, **assigned.outputs},
        )

    def check_children(self, node: etree._Element, *, activity: bool = False) -> None:
        """Data associations that move data on an event, which Legato cannot say (an
        activity's become its mappings: `assign`); an element has one loop marker at most."""
        markers = [
            c
            for c in node.iterchildren(
                f"{{{BPMN}}}multiInstanceLoopCharacteristics", f"{{{BPMN}}}standardLoopCharacteristics"
            )
        ]
        if len(markers) > 1:
            self.context.refuse(node, "an activity has one loop marker: a standard loop or a multi-instance, not both")
        for child in node.iterchildren(etree.Element):
            namespace, local = split(child.tag)
            if namespace == BPMN and local in _DATA_ASSOCIATIONS and not activity:  # an activity's: `assign`
                moves = [c for c in child.iterchildren(f"{{{BPMN}}}*") if split(c.tag)[1] in unsupported.DATA_SEMANTICS]
                if moves:
                    self.context.refuse(node, unsupported.DATA_ADVICE)

    def refused(self, node: etree._Element) -> bool:
        """Has this element been refused already (so one more problem would only repeat it)?"""
        return any(problem.element == node.get("id") for problem in self.context.problems)

    def extensions(self, node: etree._Element, kind: str) -> Extensions:
        return read_extensions(self.context, node, kind)

    # -- compensation ----------------------------------------------------------------------

    def compensation_boundary(self, node: etree._Element, activity: str) -> None:
        """A compensation boundary event: resolved into `compensated_by` by `finish`."""
        if node.get("cancelActivity") == "false":
            self.context.warn(node, "compensation cancelActivity", "a compensation boundary event never interrupts")
        if any(split(child.tag)[1] == "outgoing" for child in node.iterchildren(f"{{{BPMN}}}*")):
            self.context.refuse(node, "a compensation boundary event has no outgoing flow: associate it with a handler")
        self.compensations[node.get("id", "")] = (node, activity)

    def finish(self) -> None:
        """Resolve compensation boundary events through their associations; warn of the rest."""
        used: set[_Association] = set()
        for event_id, (node, activity_id) in self.compensations.items():
            linked = [a for a in self.associations if event_id in (a.source, a.target)]
            used.update(linked)
            handlers = [a.target if a.source == event_id else a.source for a in linked]
            handler = self.elements.get(handlers[0]) if len(handlers) == 1 else None
            activity = self.elements.get(activity_id)
            if not isinstance(handler, Activity) or not handler.for_compensation:
                self.context.refuse(
                    node,
                    "a compensation boundary event needs one association to its handler, an activity marked "
                    'isForCompensation="true"',
                )
            elif not isinstance(activity, Activity):
                self.context.refuse(node, f"attached to {activity_id!r}, which is not an activity")
            elif activity.compensated_by is not None:
                self.context.refuse(node, f"{activity_id!r} has a compensation boundary event already")
            else:
                self.elements[activity_id] = dataclasses.replace(activity, compensated_by=handler.id)
        for association in self.associations:
            if association not in used:
                message = "association elements carry no behaviour and are left out"
                self.context.warn(association.node, "artifact:association", message)

    # -- flows -----------------------------------------------------------------------------

    def sequence_flow(self, node: etree._Element) -> None:
        self.extensions(node, "sequenceFlow")
        condition = None
        for expression in node.iterchildren(f"{{{BPMN}}}conditionExpression"):
            read_extensions(self.context, expression, "conditionExpression", node.get("id"))
            language = (expression.get("language") or "").lower()
            if language and not any(known in language for known in _CONDITION_LANGUAGES):
                self.context.refuse(
                    node, f"a condition in {language!r} cannot run in Legato; write it as an expression (FEEL or JUEL)"
                )
            condition = (expression.text or "").strip() or None
        flow_id = node.get("id", "")
        self.flows[flow_id] = SequenceFlow(
            id=flow_id,
            source=node.get("sourceRef", ""),
            target=node.get("targetRef", ""),
            condition=condition,
            name=name(node),
        )


# --- gateways ------------------------------------------------------------------------------


def _exclusive(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    reader.extensions(node, "exclusiveGateway")
    return ExclusiveGateway(**common, default=node.get("default"))  # type: ignore[arg-type]


def _inclusive(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    reader.extensions(node, "inclusiveGateway")
    return InclusiveGateway(**common, default=node.get("default"))  # type: ignore[arg-type]


def _parallel(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    reader.extensions(node, "parallelGateway")
    return ParallelGateway(**common)  # type: ignore[arg-type]


def _event_based(reader: FlowReader, node: etree._Element, common: dict[str, object]) -> Element | None:
    reader.extensions(node, "eventBasedGateway")
    if node.get("instantiate") == "true":
        reader.context.refuse(
            node, "an event-based gateway that starts the process is not supported: use several message start events"
        )
        return None
    if node.get("eventGatewayType", "Exclusive") != "Exclusive":
        reader.context.refuse(node, "a parallel event-based gateway is not supported: the first event wins in Legato")
        return None
    return EventBasedGateway(**common)  # type: ignore[arg-type]


_BUILDERS = {
    **events.BUILDERS,
    **activities.BUILDERS,
    "exclusiveGateway": _exclusive,
    "inclusiveGateway": _inclusive,
    "parallelGateway": _parallel,
    "eventBasedGateway": _event_based,
}


def name(node: etree._Element) -> str | None:
    """The `name` attribute, None when absent or empty (Signavio writes `name=""`)."""
    return node.get("name") or None


def documentation(node: etree._Element) -> str | None:
    """The text of an element's `bpmn:documentation` children, joined by blank lines."""
    texts = [child.text for child in node.iterchildren(f"{{{BPMN}}}documentation") if child.text]
    return "\n\n".join(texts) or None
