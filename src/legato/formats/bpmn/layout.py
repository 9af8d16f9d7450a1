"""An automatic diagram for a process that was never drawn (built in Python or YAML).

Left to right, in layers: each element's layer is the longest path to it from a start
event, following the builder's `reading_order` so that loops (flows back to an element
read earlier) do not push anything right. Within a layer an element takes the row of the
element it comes from when that row is free, so the main path runs straight and branches
open below it; the paths that leave a boundary event start one row under its activity,
and nothing is placed right under an activity with boundary events (they hang there) or
under a gateway that forks or joins (its flows leave and arrive there).
Subprocesses are laid out the same way inside, and drawn expanded around their elements;
event subprocesses, which no flow enters, get a row of their own under their scope. A
compensation handler (no flows either) sits right under the activity it undoes, where the
association from its compensation boundary event reaches it (`compensation`), and a link
catch event is placed right after its throw, as the connector it is.
Boundary events sit on the bottom edge of their activity. Sequence flows are drawn
orthogonally: straight when source and target are level, through a bend half-way
otherwise, out of a gateway's top or bottom corner when it forks, and under both ends
when they loop back. With a pool, lanes are horizontal bands, one per lane, in order.

Sizes are Camunda Modeler's: events 36, gateways 50, tasks 100 by 80.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from legato.formats.bpmn.routes import LAYER_GAP, ROW_GAP, Box, Cell, Tracks, is_gateway, route
from legato.formats.builder import reading_order
from legato.model.diagram import Bounds, Diagram, Edge, Lane, Shape
from legato.model.elements import (
    Activity,
    BoundaryEvent,
    Element,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    StartEvent,
    SubProcess,
)
from legato.model.process import ProcessDefinition

EVENT = 36.0
GATEWAY = 50.0
TASK = (100.0, 80.0)
PADDING = 30.0  # inside a subprocess or a lane, around its elements
SUBPROCESS_TITLE = 20.0  # room for a subprocess's name above its elements
HEADER = 30.0  # the name strip of a pool, and of each lane
ORIGIN = (160.0, 80.0)
MIN_LANE_HEIGHT = 120.0


def layout(definition: ProcessDefinition) -> Diagram:
    """A diagram with a shape for every element, lane and the pool, an edge for every flow."""
    return _Layout(definition).run()


@dataclass
class _Grid:
    """One scope placed relative to its own top-left corner."""

    boxes: dict[str, Box]
    cells: dict[str, Cell]
    width: float
    height: float
    bands: list[tuple[float, float]]  # (y, height) of each lane band


@dataclass
class _Layout:
    definition: ProcessDefinition
    order: list[str] = field(init=False)
    index: dict[str, int] = field(init=False)
    boxes: dict[str, Box] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)
    top: float = ORIGIN[1]

    def __post_init__(self) -> None:
        self.order = reading_order(self.definition)
        self.index = {element_id: position for position, element_id in enumerate(self.order)}

    def run(self) -> Diagram:
        leaves = _leaf_lanes(self.definition.lanes)
        lane_of: dict[str, int] = {}
        for number, lane in enumerate(leaves):
            for element_id in lane.elements:
                lane_of.setdefault(element_id, number)
        has_pool = self.definition.participant is not None
        # Lanes are drawn inside the pool only; without one they still group the rows.
        # Elements in no lane get a band of their own, last.
        if leaves:
            unlisted = any(element_id not in lane_of for element_id in self._members(None))
            grid = self._scope(None, lane_of, len(leaves) + (1 if unlisted else 0))
        else:
            grid = self._scope(None, None, 1)
        left = ORIGIN[0] + (HEADER * (1 + _depth(self.definition.lanes)) if has_pool else 0.0)
        self._place(grid, left + (PADDING if has_pool else 0.0), ORIGIN[1])
        shapes: list[Shape] = []
        if has_pool:
            shapes.extend(self._pool(grid, left))
        shapes.extend(self._element_shapes())
        tracks = Tracks()
        occupied = {(self.definition.elements[e].parent, cell.row, cell.column) for e, cell in self.cells.items()}
        edges = [
            Edge(element=flow.id, waypoints=route(self.definition, flow, self.boxes, self.cells, occupied, tracks))
            for flow in self.definition.flows.values()
        ]
        return Diagram(id=f"{self.definition.id}_diagram", shapes=tuple(shapes), edges=tuple(edges))

    # -- placing ---------------------------------------------------------------------------

    def _members(self, scope: str | None) -> list[str]:
        return [
            element_id
            for element_id in self.order
            if self.definition.elements[element_id].parent == scope
            and not isinstance(self.definition.elements[element_id], BoundaryEvent)
        ]

    def _scope(self, scope: str | None, lane_of: dict[str, int] | None, bands: int) -> _Grid:
        members = self._members(scope)
        inner = {m: self._scope(m, None, 1) for m in members if isinstance(self.definition.elements[m], SubProcess)}
        padding = PADDING if lane_of is not None else 0.0

        def band_of(element_id: str) -> int:
            return 0 if lane_of is None else lane_of.get(element_id, bands - 1)

        sizes = {m: _size(self.definition.elements[m], inner.get(m)) for m in members}
        handlers = self._handlers(members)
        beneath = [m for m in members if _is_event_subprocess(self.definition.elements[m])]
        apart = set(beneath) | {handler for items in handlers.values() for handler in items}
        flowing = [m for m in members if m not in apart]
        layer: dict[str, int] = {}
        incoming: dict[str, list[tuple[str, bool]]] = {}
        for member in flowing:
            incoming[member] = self._predecessors(member, layer)
            layer[member] = max((layer[p] + 1 for p, _ in incoming[member]), default=0)
        # Rows, a layer at a time: the element that wants the highest row goes first, so a
        # main path keeps its row whatever order the branches were read in. A compensation
        # handler goes right under its activity, below the boundary events hanging there.
        row: dict[str, int] = {}
        taken: set[tuple[int, int, int]] = set()
        by_layer: dict[int, list[str]] = {}
        for member in flowing:
            by_layer.setdefault(layer[member], []).append(member)
        for number in sorted(by_layer):
            wanted: dict[str, int] = {}
            for member in by_layer[number]:
                wanted[member] = 0
                if incoming[member]:
                    first, below = incoming[member][0]
                    if band_of(first) == band_of(member):
                        wanted[member] = row[first] + (1 if below else 0)
            for member in sorted(wanted, key=lambda m: (wanted[m], self.index[m])):
                band, free = band_of(member), wanted[member]
                while (band, number, free) in taken:
                    free += 1
                taken.add((band, number, free))
                row[member] = free
                if self._needs_room_below(member):
                    taken.add((band, number, free + 1))
                for handler in handlers.get(member, ()):
                    layer[handler] = number
                    place = free + 1 if band_of(handler) == band else 0
                    while (band_of(handler), number, place) in taken:
                        place += 1
                    taken.add((band_of(handler), number, place))
                    row[handler] = place
        for member in beneath:  # event subprocesses: a row of their own under their band
            band = band_of(member)
            row[member] = max((r + 1 for b, _, r in taken if b == band), default=0)
        widths: dict[int, float] = {}
        heights: dict[tuple[int, int], float] = {}
        for member in members:
            width, height = sizes[member]
            if member not in beneath:
                widths[layer[member]] = max(widths.get(layer[member], 0.0), width)
            key = (band_of(member), row[member])
            heights[key] = max(heights.get(key, 0.0), height)
        columns: dict[int, float] = {}
        x = 0.0
        for number in range(max(widths, default=-1) + 1):
            columns[number] = x
            x += widths.get(number, 0.0) + LAYER_GAP
        lefts: dict[str, float] = {}
        ends: dict[int, float] = {}
        for member in beneath:
            lefts[member] = ends.get(band_of(member), 0.0)
            ends[band_of(member)] = lefts[member] + sizes[member][0] + LAYER_GAP
        band_boxes: list[tuple[float, float]] = []
        rows: dict[tuple[int, int], float] = {}
        y = 0.0
        for band in range(bands):
            top = y
            y += padding
            used = sorted(r for b, r in heights if b == band)
            for number in range(used[-1] + 1 if used else 0):
                rows[(band, number)] = y
                y += heights.get((band, number), 0.0) + ROW_GAP
            y = max(y - ROW_GAP + padding if used else y + padding, top + (MIN_LANE_HEIGHT if padding else 0.0))
            band_boxes.append((top, y - top))
        width = max([x - LAYER_GAP, *(end - LAYER_GAP for end in ends.values()), 0.0])
        grid = _Grid(boxes={}, cells={}, width=width, height=y, bands=band_boxes)
        for member in members:
            width, height = sizes[member]
            key = (band_of(member), row[member])
            if member in beneath:
                column, number, extent = lefts[member], -1, width
            else:
                column, number, extent = columns[layer[member]], layer[member], widths[layer[member]]
            left = column + (extent - width) / 2
            top = rows[key] + (heights[key] - height) / 2
            grid.boxes[member] = (left, top, width, height)
            grid.cells[member] = Cell(number, key, column, column + extent, rows[key], rows[key] + heights[key])
        for member, child in inner.items():
            dx, dy = grid.boxes[member][0] + PADDING, grid.boxes[member][1] + PADDING + SUBPROCESS_TITLE
            grid.boxes.update({key: (x + dx, y + dy, w, h) for key, (x, y, w, h) in child.boxes.items()})
            grid.cells.update({key: cell.shifted(dx, dy) for key, cell in child.cells.items()})
        return grid

    def _handlers(self, members: list[str]) -> dict[str, list[str]]:
        """The compensation handlers among `members`, by the activity they undo."""
        present = set(members)
        handlers: dict[str, list[str]] = {}
        claimed: set[str] = set()
        for member in members:
            element = self.definition.elements[member]
            handler = element.compensated_by if isinstance(element, Activity) else None
            if handler in present and handler not in claimed and handler != member:
                handlers.setdefault(member, []).append(handler)
                claimed.add(handler)
        return handlers

    def _needs_room_below(self, element_id: str) -> bool:
        """Boundary events hang under an activity; branches leave and join a gateway there.

        A compensation boundary event alone needs no room: its handler goes there.
        """
        if self.definition.boundary_events(element_id):
            return True
        element = self.definition.elements[element_id]
        flows = max(len(self.definition.outgoing(element_id)), len(self.definition.incoming(element_id)))
        return is_gateway(element) and flows > 1

    def _predecessors(self, member: str, placed: dict[str, int]) -> list[tuple[str, bool]]:
        """Elements placed before `member` that lead to it, and whether via a boundary event."""
        found = []
        for flow in self.definition.incoming(member):
            source = self.definition.elements.get(flow.source)
            below = isinstance(source, BoundaryEvent)
            origin = source.attached_to if isinstance(source, BoundaryEvent) else flow.source
            if origin in placed and self.index.get(origin, len(self.order)) < self.index[member]:
                found.append((origin, below))
        element = self.definition.elements[member]
        if isinstance(element, IntermediateCatchEvent) and isinstance(element.event, LinkDefinition):
            # A link catch continues its throw: drawn right after it, as a connector.
            found.extend(
                (other.id, False)
                for other in self.definition.children(element.parent)
                if isinstance(other, IntermediateThrowEvent)
                and isinstance(other.event, LinkDefinition)
                and other.event.name == element.event.name
                and other.id in placed
            )
        return found

    def _place(self, grid: _Grid, left: float, top: float) -> None:
        for element_id, (x, y, width, height) in grid.boxes.items():
            self.boxes[element_id] = (x + left, y + top, width, height)
        self.cells = {element_id: cell.shifted(left, top) for element_id, cell in grid.cells.items()}
        self.top = top
        for element_id in self.order:
            element = self.definition.elements[element_id]
            if isinstance(element, BoundaryEvent) and element.attached_to in self.boxes:
                self._attach(element)

    def _attach(self, event: BoundaryEvent) -> None:
        host_x, host_y, host_width, host_height = self.boxes[event.attached_to]
        siblings = [b.id for b in self.definition.boundary_events(event.attached_to)]
        siblings.sort(key=lambda element_id: self.index.get(element_id, 0))
        position = siblings.index(event.id)
        host = self.definition.elements[event.attached_to]
        places = len(siblings) + (1 if isinstance(host, Activity) and host.compensated_by is not None else 0)
        center = host_x + host_width * (position + 1) / (places + 1)  # the last place is compensation's
        self.boxes[event.id] = (center - EVENT / 2, host_y + host_height - EVENT / 2, EVENT, EVENT)

    # -- shapes and edges ------------------------------------------------------------------

    def _pool(self, grid: _Grid, left: float) -> list[Shape]:
        participant = self.definition.participant
        assert participant is not None
        pool_left = ORIGIN[0]
        width = left - pool_left + PADDING * 2 + grid.width
        height = grid.height if self.definition.lanes else grid.height + 2 * PADDING
        top = self.top - (0.0 if self.definition.lanes else PADDING)
        shapes = [
            Shape(
                element=participant.id, bounds=Bounds(x=pool_left, y=top, width=width, height=height), horizontal=True
            )
        ]
        bands = iter(grid.bands)

        def lanes(items: tuple[Lane, ...], x: float) -> tuple[float, float]:
            first = last = None
            for lane in items:
                if lane.lanes:
                    lane_top, lane_bottom = lanes(lane.lanes, x + HEADER)
                else:
                    band_top, band_height = next(bands, (0.0, MIN_LANE_HEIGHT))
                    lane_top, lane_bottom = top + band_top, top + band_top + band_height
                bounds = Bounds(x=x, y=lane_top, width=pool_left + width - x, height=lane_bottom - lane_top)
                shapes.append(Shape(element=lane.id, bounds=bounds, horizontal=True))
                first = lane_top if first is None else first
                last = lane_bottom
            return (first or top, last or top)

        lanes(self.definition.lanes, pool_left + HEADER)
        return shapes

    def _element_shapes(self) -> list[Shape]:
        shapes = []
        for element_id in self.order:
            if element_id not in self.boxes:
                continue
            x, y, width, height = self.boxes[element_id]
            expanded = True if isinstance(self.definition.elements[element_id], SubProcess) else None
            shapes.append(
                Shape(element=element_id, bounds=Bounds(x=x, y=y, width=width, height=height), expanded=expanded)
            )
        return shapes


def _is_event_subprocess(element: Element) -> bool:
    return isinstance(element, SubProcess) and element.triggered_by_event


def _size(element: Element, inner: _Grid | None) -> tuple[float, float]:
    if isinstance(element, StartEvent | EndEvent | IntermediateCatchEvent | IntermediateThrowEvent | BoundaryEvent):
        return (EVENT, EVENT)
    if is_gateway(element):
        return (GATEWAY, GATEWAY)
    if isinstance(element, SubProcess) and inner is not None:
        return (
            max(inner.width + 2 * PADDING, TASK[0]),
            max(inner.height + 2 * PADDING + SUBPROCESS_TITLE, TASK[1]),
        )
    return TASK


def _leaf_lanes(lanes: tuple[Lane, ...]) -> list[Lane]:
    leaves: list[Lane] = []
    for lane in lanes:
        leaves.extend(_leaf_lanes(lane.lanes) if lane.lanes else [lane])
    return leaves


def _depth(lanes: tuple[Lane, ...]) -> int:
    return max((1 + _depth(lane.lanes) for lane in lanes), default=0)
