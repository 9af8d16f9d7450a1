"""Lanes and the diagram: how a process is drawn, kept so that it can be drawn again.

BPMN 2.0 keeps the picture apart from the semantics (chapter 12, BPMN Diagram
Interchange): shapes with bounds for elements, edges with waypoints for flows. Legato
keeps them the same way, so a model imported from a modeler exports with its layout, and
the engine never looks at them. Lanes (10.8, "Lanes") partition a process's elements by
who does the work; they are informational here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True, slots=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Shape:
    element: str  # an element id, a lane id, or the participant (pool) id
    bounds: Bounds
    expanded: bool | None = None  # subprocesses: drawn open or collapsed
    horizontal: bool | None = None  # pools and lanes
    label: Bounds | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Edge:
    element: str  # a sequence flow id
    waypoints: tuple[tuple[float, float], ...]
    label: Bounds | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Diagram:
    id: str = "diagram"
    shapes: tuple[Shape, ...] = ()
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Lane:
    id: str
    name: str | None = None
    elements: tuple[str, ...] = ()
    lanes: tuple[Lane, ...] = field(default=())  # a child lane set


@dataclass(frozen=True, kw_only=True, slots=True)
class Participant:
    """The pool the process is drawn in (BPMN 2.0, 9.2 Collaboration)."""

    id: str
    name: str | None = None
