"""BPMN Diagram Interchange (BPMN 2.0, chapter 12) to and from `legato.model.diagram`.

A BPMN file draws its process in a `bpmndi:BPMNDiagram` whose plane holds one
`BPMNShape` per element, lane and pool (bounds, whether a subprocess is drawn expanded,
whether a pool or lane is horizontal, where its label sits) and one `BPMNEdge` per
sequence flow (waypoints, label). Legato keeps exactly that, so a model imported from a
modeler exports with its own layout, and nothing here affects how a process runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection

from lxml import etree

from legato.formats.bpmn.context import Context
from legato.formats.bpmn.namespaces import BPMNDI, DC, DI, qualified, split
from legato.model.diagram import Bounds, Diagram, Edge, Shape


def read_diagram(
    root: etree._Element,
    context: Context,
    *,
    planes: Collection[str],
    known: Collection[str],
    elsewhere: Collection[str],
) -> Diagram | None:
    """The diagram whose plane draws one of `planes` (the process or its collaboration).

    Shapes and edges for `known` ids are kept. Those for ids of `elsewhere` in the document
    (other pools, artifacts) are dropped quietly, since the reader already warned about
    what they draw; those for ids the document does not have are dropped with a warning.
    """
    diagrams = list(root.iterchildren(qualified(BPMNDI, "BPMNDiagram")))
    chosen = None
    for node in diagrams:
        plane = node.find(qualified(BPMNDI, "BPMNPlane"))
        if plane is not None and plane.get("bpmnElement") in planes:
            chosen = node
            break
    if chosen is None and len(diagrams) == 1:
        chosen = diagrams[0]
    for node in diagrams:
        if node is not chosen:
            plane = node.find(qualified(BPMNDI, "BPMNPlane"))
            drawn = plane.get("bpmnElement") if plane is not None else None
            context.warn(node, "other diagrams", f"only the process's main diagram is kept, not the one of {drawn!r}")
    if chosen is None:
        return None
    shapes: list[Shape] = []
    edges: list[Edge] = []
    for plane in chosen.iterchildren(qualified(BPMNDI, "BPMNPlane")):
        for node in plane.iterchildren(etree.Element):
            local = split(node.tag)[1]
            element = node.get("bpmnElement") or ""
            if local not in ("BPMNShape", "BPMNEdge") or element in elsewhere:
                continue
            if element not in known:
                context.warn(node, "dangling", "the diagram draws an element the document does not have; left out")
                continue
            if local == "BPMNShape":
                shape = _shape(node, element, context)
                if shape is not None:
                    shapes.append(shape)
            else:
                edges.append(_edge(node, element, context))
    return Diagram(id=chosen.get("id") or "diagram", shapes=tuple(shapes), edges=tuple(edges))


def _shape(node: etree._Element, element: str, context: Context) -> Shape | None:
    bounds = _bounds(node.find(qualified(DC, "Bounds")), context, node)
    if bounds is None:
        context.refuse(node, "a BPMNShape needs dc:Bounds with x, y, width and height", element=element)
        return None
    return Shape(
        element=element,
        bounds=bounds,
        expanded=_flag(node.get("isExpanded")),
        horizontal=_flag(node.get("isHorizontal")),
        label=_label(node, context),
    )


def _edge(node: etree._Element, element: str, context: Context) -> Edge:
    waypoints = []
    for point in node.iterchildren(qualified(DI, "waypoint")):
        x, y = _number(point.get("x")), _number(point.get("y"))
        if x is None or y is None:
            context.refuse(point, "a waypoint needs numbers x and y", element=element)
            continue
        waypoints.append((x, y))
    return Edge(element=element, waypoints=tuple(waypoints), label=_label(node, context))


def _label(node: etree._Element, context: Context) -> Bounds | None:
    label = node.find(qualified(BPMNDI, "BPMNLabel"))
    if label is None:
        return None
    return _bounds(label.find(qualified(DC, "Bounds")), context, label)


def _bounds(node: etree._Element | None, context: Context, owner: etree._Element) -> Bounds | None:
    if node is None:
        return None
    values = [_number(node.get(name)) for name in ("x", "y", "width", "height")]
    if any(value is None for value in values):
        context.refuse(owner, "dc:Bounds needs numbers x, y, width and height", element=owner.get("bpmnElement"))
        return None
    x, y, width, height = (float(value or 0.0) for value in values)
    return Bounds(x=x, y=y, width=width, height=height)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _flag(text: str | None) -> bool | None:
    return None if text is None else text.strip() == "true"


# --- writing -----------------------------------------------------------------------------


def write_diagram(
    parent: etree._Element,
    diagram: Diagram,
    *,
    plane_element: str,
    unique: Callable[[str], str],
    marker_visible: Collection[str] = (),
) -> None:
    """Append `diagram` to `parent` (the definitions) as a BPMNDiagram drawing `plane_element`.

    `unique` turns a wanted id into one the document does not use yet; `marker_visible`
    are the exclusive gateways, drawn with their X as Camunda Modeler draws them.
    """
    node = etree.SubElement(parent, qualified(BPMNDI, "BPMNDiagram"), id=unique(diagram.id))
    plane = etree.SubElement(
        node, qualified(BPMNDI, "BPMNPlane"), id=unique(f"{diagram.id}_plane"), bpmnElement=plane_element
    )
    for shape in diagram.shapes:
        attributes = {"id": unique(f"{shape.element}_di"), "bpmnElement": shape.element}
        if shape.horizontal is not None:
            attributes["isHorizontal"] = _text_flag(shape.horizontal)
        if shape.expanded is not None:
            attributes["isExpanded"] = _text_flag(shape.expanded)
        if shape.element in marker_visible:
            attributes["isMarkerVisible"] = "true"
        written = etree.SubElement(plane, qualified(BPMNDI, "BPMNShape"), attributes)
        _write_bounds(written, shape.bounds)
        if shape.label is not None:
            _write_bounds(etree.SubElement(written, qualified(BPMNDI, "BPMNLabel")), shape.label)
    for edge in diagram.edges:
        written = etree.SubElement(
            plane, qualified(BPMNDI, "BPMNEdge"), id=unique(f"{edge.element}_di"), bpmnElement=edge.element
        )
        for x, y in edge.waypoints:
            etree.SubElement(written, qualified(DI, "waypoint"), x=number_text(x), y=number_text(y))
        if edge.label is not None:
            _write_bounds(etree.SubElement(written, qualified(BPMNDI, "BPMNLabel")), edge.label)


def _write_bounds(parent: etree._Element, bounds: Bounds) -> None:
    etree.SubElement(
        parent,
        qualified(DC, "Bounds"),
        x=number_text(bounds.x),
        y=number_text(bounds.y),
        width=number_text(bounds.width),
        height=number_text(bounds.height),
    )


def number_text(value: float) -> str:
    """A coordinate as modelers write it: `100`, not `100.0`; fractions exactly."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _text_flag(value: bool) -> str:
    return "true" if value else "false"
