"""Waypoints for the sequence flows of an automatic layout (`layout`), drawn orthogonally.

The layout puts elements in a grid of cells (a column per layer, rows within lane bands)
with free channels between: `LAYER_GAP` between columns, `ROW_GAP` between rows. A flow
runs inside those channels, so it never crosses an element: straight when its ends are
level and nothing stands between them; through the channel between two neighbouring
columns otherwise; and, when it has columns to cross, along the gap under (or over) its
source's row to the channel in front of its target. A gateway that forks sends a flow out
of its bottom corner to the row below, and a join takes one in the same way: the layout
keeps the cell under such gateways, and under an activity with boundary events, empty.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from legato.model.elements import BoundaryEvent, Element, ExclusiveGateway, ParallelGateway, SequenceFlow
from legato.model.process import ProcessDefinition

LAYER_GAP = 50.0  # between the columns of a scope
ROW_GAP = 50.0  # between rows: room for boundary events, which hang 18 below their activity
TRACK = 8.0  # between flows that share a gap or a channel

Box = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]


class Tracks:
    """Spreads the flows that run along one gap or channel a few pixels apart."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, int], int] = {}

    def offset(self, kind: str, at: float) -> float:
        key = (kind, round(at))
        count = self._used.get(key, 0)
        self._used[key] = count + 1
        return TRACK * (count % 3)


@dataclass(frozen=True, slots=True)
class Cell:
    """Where an element sits in its scope's grid: column, (lane band, row), and extent."""

    column: int
    row: tuple[int, int]
    left: float
    right: float
    top: float
    bottom: float

    def shifted(self, dx: float, dy: float) -> Cell:
        return Cell(self.column, self.row, self.left + dx, self.right + dx, self.top + dy, self.bottom + dy)


def is_gateway(element: Element) -> bool:
    return isinstance(element, ExclusiveGateway | ParallelGateway) or element.kind.endswith("Gateway")


def route(
    definition: ProcessDefinition,
    flow: SequenceFlow,
    boxes: Mapping[str, Box],
    cells: Mapping[str, Cell],
    occupied: Collection[tuple[str | None, tuple[int, int], int]],
    tracks: Tracks,
) -> tuple[Point, ...]:
    """The waypoints of `flow`, from the side of its source to the side of its target.

    `occupied` holds (scope, row, column) for every element placed in the grid.
    """
    source = definition.elements.get(flow.source)
    target = definition.elements.get(flow.target)
    if source is None or target is None or flow.source not in boxes or flow.target not in boxes:
        return ()
    host = source.attached_to if isinstance(source, BoundaryEvent) else flow.source
    if host not in cells or flow.target not in cells:
        return ()
    sx, sy, sw, sh = boxes[flow.source]
    tx, ty, tw, th = boxes[flow.target]
    s_mid, t_mid, s_center, t_center = sy + sh / 2, ty + th / 2, sx + sw / 2, tx + tw / 2
    here, there = cells[host], cells[flow.target]
    after, before = here.right + LAYER_GAP / 2, there.left - LAYER_GAP / 2
    below_row = (here.row[0], here.row[1] + 1)
    into = (tx, t_mid)
    if isinstance(source, BoundaryEvent):
        start = (s_center, sy + sh)
        if there.column == here.column + 1 and there.row == below_row:
            return (start, (s_center, t_mid), into)
        gap = max(here.bottom, there.bottom if there.column <= here.column else here.bottom) + ROW_GAP / 2
        gap += tracks.offset("gap", gap)
        before -= tracks.offset("channel", before)
        return (start, (s_center, gap), (before, gap), (before, t_mid), into)
    if there.column <= here.column:  # a loop back, under both rows
        gap = max(here.bottom, there.bottom) + ROW_GAP / 2
        gap += tracks.offset("gap", gap)
        after += tracks.offset("channel", after)
        before -= tracks.offset("channel", before)
        return ((sx + sw, s_mid), (after, s_mid), (after, gap), (before, gap), (before, t_mid), into)
    if there.column == here.column + 1:
        if abs(s_mid - t_mid) < 0.5:
            return ((sx + sw, s_mid), into)
        if is_gateway(source) and there.row == below_row:
            return ((s_center, sy + sh), (s_center, t_mid), into)
        if is_gateway(target) and here.row == (there.row[0], there.row[1] + 1):
            return ((sx + sw, s_mid), (t_center, s_mid), (t_center, ty + th))
        return ((sx + sw, s_mid), (after, s_mid), (after, t_mid), into)
    scope = target.parent
    if abs(s_mid - t_mid) < 0.5 and not any(
        (scope, here.row, column) in occupied for column in range(here.column + 1, there.column)
    ):
        return ((sx + sw, s_mid), into)
    downwards = there.top >= here.top
    gap = here.bottom + ROW_GAP / 2 if downwards else here.top - ROW_GAP / 2
    gap += tracks.offset("gap", gap) * (1 if downwards else -1)
    if is_gateway(source):
        exit_points: tuple[Point, ...] = ((s_center, sy + sh if downwards else sy), (s_center, gap))
    else:
        after += tracks.offset("channel", after)
        exit_points = ((sx + sw, s_mid), (after, s_mid), (after, gap))
    if is_gateway(target) and there.row == here.row:  # a join: in through the corner on this side
        return (*exit_points, (t_center, gap), (t_center, ty + th if downwards else ty))
    before -= tracks.offset("channel", before)
    return (*exit_points, (before, gap), (before, t_mid), into)
