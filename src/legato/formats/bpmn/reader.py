"""Read a BPMN 2.0 XML file into a `ProcessDefinition`: `load_bpmn`.

Files from Camunda Modeler 4 and 5 (the Camunda 7 flavour with `camunda:` extensions and
the Camunda 8 flavour with `zeebe:` extensions), bpmn.io and Signavio are read the same
way: the document is parsed safely (`xml_safety.parse_xml`: no DOCTYPE, no entities,
bounded size and depth), one executable process is chosen, its flow elements
(`elements`: events, activities, gateways), extensions (`extensions`), lanes, pool and
diagram (`diagram`) are read, and the result is validated. What BPMN only draws (a
compensation boundary event and its association, which say `compensated_by`) is read into
the model and left out of the diagram: the writer draws it again. Every problem carries
the line of the element at fault, and all of them are reported at once.

What Legato keeps out of the model without changing what the process does (unknown
extensions, annotations, listeners, async flags) comes back as `warnings`; docs/bpmn.md
lists what is imported, what is refused, and what to model instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lxml import etree

from legato.errors import ModelInvalid, ModelParseError, Problem
from legato.formats.bpmn import unsupported
from legato.formats.bpmn.catalog import Catalog
from legato.formats.bpmn.context import MARKED_NOT_EXECUTABLE, Context
from legato.formats.bpmn.diagram import read_diagram
from legato.formats.bpmn.elements import FlowReader, documentation, name
from legato.formats.bpmn.extensions import read_extensions
from legato.formats.bpmn.namespaces import ACTIVITI, BPMN, CAMUNDA, qualified, read_as_camunda, split
from legato.formats.builder import outgoing_in_order, reading_order
from legato.formats.xml_safety import parse_xml
from legato.model.diagram import Lane, Participant
from legato.model.elements import MessageRoute, SequenceFlow
from legato.model.process import ProcessDefinition
from legato.model.validate import validate

__all__ = ["BpmnImport", "load_bpmn"]

_NOT_FLOW_NODES = unsupported.ARTIFACTS | {"documentation", "extensionElements", "laneSet", "sequenceFlow"}


@dataclass(frozen=True, kw_only=True, slots=True)
class BpmnImport:
    """An imported process, and what the import left out of it (one line per kind).

    `others` are the file's further processes (the other pools of a collaboration), each
    imported the same way: `Legato.deploy` deploys them all. One that cannot run (a pool
    marked isExecutable="false") has its reasons in `definition.not_executable`.
    """

    definition: ProcessDefinition
    warnings: list[str]
    others: tuple[BpmnImport, ...] = ()


def load_bpmn(source: str | bytes) -> BpmnImport:
    """Read and validate the processes of a BPMN 2.0 document: the first executable one,
    with the others (pools of a collaboration) in `others`.

    Raises PayloadTooLarge past 5 MiB, ModelParseError for text that is not well-formed
    XML or not BPMN (with its line), and ModelInvalid for a process Legato cannot read:
    each problem names the element, its line, and what to use instead. A process that can
    be read but not run (isExecutable="false", a service task without an implementation)
    is imported with the reasons in `not_executable`, so it can be stored and exported.
    """
    root = parse_xml(source, what="BPMN document")
    namespace, local = split(root.tag)
    if (namespace, local) != (BPMN, "definitions"):
        raise ModelParseError(
            f"this is not a BPMN 2.0 document: its root is <{local}>, not <definitions> in {BPMN}",
            line=root.sourceline,
        )
    chosen = _choose_processes(root)
    runnable = {process.get("id", "") for process, reason in chosen if reason in (None, _UNMARKED)}
    imports = [_import(root, process, reason, runnable) for process, reason in chosen]
    return dataclasses.replace(imports[0], others=tuple(imports[1:]))


def _import(root: etree._Element, process: etree._Element, reason: str | None, runnable: set[str]) -> BpmnImport:
    """One process of the document; `reason` says why it cannot run, if it cannot.
    `runnable` are the ids of the document's processes that run: message flows into them
    are routes a message thrown here is sent along."""
    context = Context(
        prefixes={uri: prefix for prefix, uri in root.nsmap.items() if prefix},
        imported=frozenset(node.get("namespace", "") for node in root.iterchildren(qualified(BPMN, "import"))),
        ids={node.get("id", "") for node in root.iter(etree.Element) if node.get("id")},
    )
    if read_as_camunda(root):
        context.prefixes.setdefault(CAMUNDA, context.prefixes.get(ACTIVITI, "activiti"))
    if reason == _UNMARKED:
        context.warn(process, "not executable", 'the process is not marked isExecutable="true"; it is imported anyway')
    elif reason is not None:
        context.cannot_run(process, reason)
    catalog = Catalog.read(root, context)
    context.message_routes = _message_routes(root, process, catalog, context, runnable)
    participant, collaboration = _pool(root, process, context)
    process_extensions = read_extensions(context, process, "process")
    flows = FlowReader(context, catalog)
    flows.read_scope(process, None)
    flows.finish()
    lanes = tuple(_lanes(process, context, flows.drawn_only))
    known = (set(flows.elements) | set(flows.flows) | set(context.lines)) - flows.drawn_only
    if participant is not None:
        known.add(participant.id)
    planes = {process.get("id", "")} | ({collaboration.get("id", "")} if collaboration is not None else set())
    everything = {node.get("id", "") for node in root.iter(etree.Element) if node.get("id")}
    diagram = read_diagram(root, context, planes=planes, known=known, elsewhere=everything - known)
    if context.problems:
        raise ModelInvalid(context.problems)
    draft = ProcessDefinition(
        id=process.get("id", ""),
        name=name(process),
        documentation=documentation(process),
        elements=flows.elements,
        flows=flows.flows,
        lanes=lanes,
        participant=participant,
        diagram=diagram,
        sensitive=process_extensions.sensitive,
        not_executable=tuple(context.not_executable),
    )
    definition = _in_reading_order(draft)
    try:
        validate(definition)
    except ModelInvalid as error:
        line = process.sourceline
        raise ModelInvalid(
            [
                dataclasses.replace(problem, line=context.lines.get(problem.element or "", line))
                if problem.line is None
                else problem
                for problem in error.problems
            ]
        ) from None
    return BpmnImport(definition=definition, warnings=context.warnings())


_UNMARKED = "unmarked"  # no isExecutable at all (bpmn.io, Signavio): imported as executable, with a warning


def _choose_processes(root: etree._Element) -> list[tuple[etree._Element, str | None]]:
    """The processes to import, the first executable one first, each with why it cannot run.

    Every process marked isExecutable="true" runs. In a collaboration, the pools beside
    them (marked "false", or unmarked) are kept as documentation: imported, not runnable.
    A file with no marked process imports its one unmarked process with content as
    executable (bpmn.io leaves the flag off), or, when all are marked "false", every one
    as documentation. Several unmarked processes and none marked are an error, not a guess.
    """
    processes = [p for p in root.iterchildren(qualified(BPMN, "process")) if _has_flow_nodes(p)]
    if not processes:
        problem = (
            "the document has no process"
            if root.find(qualified(BPMN, "process")) is None
            else ("the document's processes are empty")
        )
        raise ModelInvalid([Problem(element=None, message=problem, line=root.sourceline)])
    executable = [p for p in processes if p.get("isExecutable") == "true"]
    unmarked = [p for p in processes if p.get("isExecutable") is None]
    marked_false = beside = (
        f"the process is {MARKED_NOT_EXECUTABLE}: it is kept for viewing and export; mark it executable to run it"
    )
    if executable:
        return [(p, None) for p in executable] + [
            (p, beside if p.get("isExecutable") is None else marked_false) for p in processes if p not in executable
        ]
    if len(unmarked) > 1:
        ids = ", ".join(repr(p.get("id")) for p in unmarked)
        raise ModelInvalid(
            [
                Problem(
                    element=None,
                    message=f"the document has {len(unmarked)} processes ({ids}) and none is marked "
                    'isExecutable="true": mark the ones that run, the others are kept for viewing and export',
                    line=unmarked[1].sourceline,
                )
            ]
        )
    return [(p, _UNMARKED) for p in unmarked] + [(p, marked_false) for p in processes if p not in unmarked]


def _message_routes(
    root: etree._Element, process: etree._Element, catalog: Catalog, context: Context, runnable: set[str]
) -> dict[str, tuple[MessageRoute, ...]]:
    """The message flows (BPMN 2.0.2, 9.4) out of `process`'s elements into another process
    of the file that runs, as routes: the target's process and element, the message its
    catch waits for (its own name decides, not the sender's), and its correlation key.
    A flow into a pool as a whole carries the sender's message to that process."""
    by_id = {node.get("id", ""): node for node in root.iter(etree.Element) if node.get("id")}
    own = {node.get("id", "") for node in process.iter(etree.Element) if node.get("id")}
    pools = {
        node.get("id", ""): context.reference(node, "processRef") for node in root.iter(qualified(BPMN, "participant"))
    }
    routes: dict[str, list[MessageRoute]] = {}
    for flow in root.iter(qualified(BPMN, "messageFlow")):
        source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
        if source not in own or target in own:
            continue
        node = by_id.get(target)
        if node is None:
            continue
        if target in pools:
            target_process, element, reference = pools[target], "", _message_ref(by_id.get(source), context)
        else:
            target_process, element = _process_of(node), target
            reference = _message_ref(node, context)
        message = catalog.messages.get(reference or "")
        if target_process not in runnable or message is None or not message.name:
            continue
        route = MessageRoute(
            process=str(target_process), element=element, message=message.name, correlation_key=message.correlation_key
        )
        routes.setdefault(source, []).append(route)
    return {source: tuple(found) for source, found in routes.items()}


def _drawn_only(flow: etree._Element, own: set[str], collaboration: etree._Element, context: Context) -> bool:
    """A message flow of this process that carries no message Legato sends: out of one of
    its elements without a route, or into it from a pool drawn as a black box."""
    source, target = flow.get("sourceRef", ""), flow.get("targetRef", "")
    if source in own:
        return not _sends(flow, context)
    pools = {node.get("id") for node in collaboration.iterchildren(qualified(BPMN, "participant"))}
    return target in own and source in pools


def _sends(flow: etree._Element, context: Context) -> bool:
    source = flow.get("sourceRef", "")
    return any(route.element in ("", flow.get("targetRef")) for route in context.message_routes.get(source, ()))


def _message_ref(node: etree._Element | None, context: Context) -> str | None:
    """The message an element names: its messageRef, or its message event definition's."""
    if node is None:
        return None
    if node.get("messageRef"):
        return context.reference(node, "messageRef")
    definition = node.find(qualified(BPMN, "messageEventDefinition"))
    return context.reference(definition, "messageRef") if definition is not None else None


def _process_of(node: etree._Element) -> str | None:
    parent = node.getparent()
    while parent is not None and parent.tag != qualified(BPMN, "process"):
        parent = parent.getparent()
    return parent.get("id") if parent is not None else None


def _pool(
    root: etree._Element, process: etree._Element, context: Context
) -> tuple[Participant | None, etree._Element | None]:
    """The pool (participant) whose processRef is `process`, and the collaboration; a warning
    for the message flows out of it that carry no message Legato sends (drawn only)."""
    own = {node.get("id", "") for node in process.iter(etree.Element) if node.get("id")}
    collaboration = root.find(qualified(BPMN, "collaboration"))
    participant = None
    if collaboration is not None:
        for node in collaboration.iterchildren(etree.Element):
            local = split(node.tag)[1]
            if local == "participant" and context.reference(node, "processRef") == process.get("id"):
                participant = Participant(id=node.get("id", ""), name=name(node))
                context.lines[participant.id] = node.sourceline or 0
            elif local == "participant" and not node.get("processRef"):
                context.warn(node, "black boxes", "a pool without a process (a black box) is drawn only")
            elif local == "messageFlow" and _drawn_only(node, own, collaboration, context):
                context.warn(
                    node, "message flows", "message flows are drawn only: Legato correlates messages by name and key"
                )
    return participant, collaboration


def _has_flow_nodes(process: etree._Element) -> bool:
    return any(split(child.tag)[1] not in _NOT_FLOW_NODES for child in process.iterchildren(f"{{{BPMN}}}*"))


def _lanes(scope: etree._Element, context: Context, drawn_only: set[str]) -> list[Lane]:
    """The lanes of `scope`; a lane's references to what is only drawn (a compensation
    boundary event) are dropped with it."""
    lanes = []
    for lane_set in scope.iterchildren(qualified(BPMN, "laneSet"), qualified(BPMN, "childLaneSet")):
        for node in lane_set.iterchildren(qualified(BPMN, "lane")):
            lane_id = node.get("id", "")
            if not lane_id or lane_id in context.lines:
                context.refuse(node, "a lane needs an id of its own", element=lane_id or None)
                continue
            context.lines[lane_id] = node.sourceline or 0
            refs = tuple(
                text
                for ref in node.iterchildren(qualified(BPMN, "flowNodeRef"))
                if (text := (ref.text or "").strip()) and text not in drawn_only
            )
            inner = tuple(_lanes(node, context, drawn_only))
            lanes.append(Lane(id=lane_id, name=name(node), elements=refs, lanes=inner))
    return lanes


def _in_reading_order(draft: ProcessDefinition) -> ProcessDefinition:
    """The same definition with elements in reading order, and flows by their source.

    As the builder stores them, so that the same process drawn in any order (or written in
    YAML) is stored the same way; an exclusive gateway's conditional flows keep their
    document order, the order in which they are tried, and its default flow comes last.
    """
    order = reading_order(draft)
    flows: dict[str, SequenceFlow] = {}
    for element_id in order:
        for flow in outgoing_in_order(draft, element_id):
            flows[flow.id] = flow
    for flow in draft.flows.values():
        flows.setdefault(flow.id, flow)
    return dataclasses.replace(
        draft, elements={element_id: draft.elements[element_id] for element_id in order}, flows=flows
    )
