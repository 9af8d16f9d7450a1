"""How BPMN draws `Activity.compensated_by`: a boundary event and an association.

BPMN 2.0 (10.5.5, "Compensation Event"; 10.3.1, `isForCompensation`) connects an activity
to the activity that undoes it through a compensation boundary event attached to the
first and an association from that event to the second, the handler. Legato's model
keeps only the connection (`compensated_by` on the activity, `for_compensation` on the
handler), so the reader drops the event and the association once it has resolved them,
and the writer makes them again: ids from the activity's (`<activity>_compensation`),
the event on the bottom edge of the activity in the last of the places the automatic
layout spreads boundary events over, the association straight down to the handler, or
around a corner when the handler is not below it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from legato.formats.bpmn.namespaces import BPMN, qualified
from legato.model.diagram import Bounds, Diagram, Edge, Shape
from legato.model.elements import Activity
from legato.model.process import ProcessDefinition

EVENT = 36.0


@dataclass(frozen=True, slots=True)
class Drawn:
    """One compensation connection as written: the event's and association's ids."""

    activity: str
    handler: str
    event: str
    association: str


def write_compensation_event(scope: etree._Element, activity: Activity, unique: Callable[[str], str]) -> Drawn | None:
    """The compensation boundary event of `activity`, appended to `scope`, if it has a handler."""
    if activity.compensated_by is None:
        return None
    event = unique(f"{activity.id}_compensation")
    node = etree.SubElement(scope, qualified(BPMN, "boundaryEvent"), id=event, attachedToRef=activity.id)
    etree.SubElement(node, qualified(BPMN, "compensateEventDefinition"))
    return Drawn(activity.id, activity.compensated_by, event, unique(f"{activity.id}_compensation_association"))


def write_association(scope: etree._Element, drawn: Drawn) -> None:
    etree.SubElement(
        scope,
        qualified(BPMN, "association"),
        id=drawn.association,
        associationDirection="One",
        sourceRef=drawn.event,
        targetRef=drawn.handler,
    )


def with_compensation(diagram: Diagram, definition: ProcessDefinition, drawn: list[Drawn]) -> Diagram:
    """`diagram` with a shape for each compensation event and an edge for its association.

    An activity or handler the diagram does not draw gets neither (a modeler would not
    know where to put them).
    """
    boxes = {shape.element: shape.bounds for shape in diagram.shapes}
    shapes: list[Shape] = []
    edges: list[Edge] = []
    for item in drawn:
        host, handler = boxes.get(item.activity), boxes.get(item.handler)
        if host is None or handler is None:
            continue
        places = len(definition.boundary_events(item.activity)) + 1
        center = host.x + host.width * places / (places + 1)
        event = Bounds(x=center - EVENT / 2, y=host.y + host.height - EVENT / 2, width=EVENT, height=EVENT)
        shapes.append(Shape(element=item.event, bounds=event))
        edges.append(Edge(element=item.association, waypoints=_association(event, handler)))
    return Diagram(id=diagram.id, shapes=diagram.shapes + tuple(shapes), edges=diagram.edges + tuple(edges))


def _association(event: Bounds, handler: Bounds) -> tuple[tuple[float, float], ...]:
    x = event.x + event.width / 2
    below = handler.y >= event.y + event.height
    start = (x, event.y + event.height) if below else (x, event.y)
    if handler.x <= x <= handler.x + handler.width:
        return (start, (x, handler.y if below else handler.y + handler.height))
    middle = handler.y + handler.height / 2
    side = handler.x if handler.x > x else handler.x + handler.width
    return (start, (x, middle), (side, middle))
