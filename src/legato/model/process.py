"""A process definition: elements and flows, with the indexes the engine walks.

The definition is immutable. Indexes (outgoing flows, boundary events per activity,
the start event of each scope) are computed once when it is built, because the engine
consults them on every step and a definition serves many thousands of instances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from legato.model.diagram import Diagram, Lane, Participant
from legato.model.elements import (
    BoundaryEvent,
    CompensationDefinition,
    Element,
    SequenceFlow,
    StartEvent,
    SubProcess,
)

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, kw_only=True)
class ProcessDefinition:
    """A process model as data; `id` is the key that versions group under."""

    id: str
    name: str | None = None
    elements: Mapping[str, Element]
    flows: Mapping[str, SequenceFlow]
    documentation: str | None = None
    lanes: tuple[Lane, ...] = ()
    participant: Participant | None = None
    diagram: Diagram | None = None
    sensitive: tuple[str, ...] = ()
    """Names (glob patterns) of the variables this process holds sensitive (model/sensitive.py)."""
    not_executable: tuple[str, ...] = ()
    """Why the process cannot run, when it cannot: a model stored for viewing and export (a
    pool marked isExecutable="false", a service task without an implementation). Starting
    it is refused with these reasons (DefinitionNotExecutable); empty: it runs."""

    _outgoing: Mapping[str, tuple[SequenceFlow, ...]] = field(init=False, repr=False, compare=False)
    _incoming: Mapping[str, tuple[SequenceFlow, ...]] = field(init=False, repr=False, compare=False)
    _boundaries: Mapping[str, tuple[BoundaryEvent, ...]] = field(init=False, repr=False, compare=False)
    _children: Mapping[str | None, tuple[Element, ...]] = field(init=False, repr=False, compare=False)
    _reaching: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)
    _starts: dict[str | None, tuple[StartEvent, ...]] = field(init=False, repr=False, compare=False)
    _implicit: dict[str | None, tuple[Element, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        outgoing: dict[str, list[SequenceFlow]] = {}
        incoming: dict[str, list[SequenceFlow]] = {}
        for flow in self.flows.values():
            outgoing.setdefault(flow.source, []).append(flow)
            incoming.setdefault(flow.target, []).append(flow)
        boundaries: dict[str, list[BoundaryEvent]] = {}
        children: dict[str | None, list[Element]] = {}
        for element in self.elements.values():
            children.setdefault(element.parent, []).append(element)
            if isinstance(element, BoundaryEvent):
                boundaries.setdefault(element.attached_to, []).append(element)
        object.__setattr__(self, "elements", MappingProxyType(dict(self.elements)))
        object.__setattr__(self, "flows", MappingProxyType(dict(self.flows)))
        object.__setattr__(self, "_outgoing", _freeze(outgoing))
        object.__setattr__(self, "_incoming", _freeze(incoming))
        object.__setattr__(self, "_boundaries", _freeze(boundaries))
        object.__setattr__(self, "_children", _freeze(children))
        object.__setattr__(self, "_reaching", {})
        object.__setattr__(self, "_starts", {})
        object.__setattr__(self, "_implicit", {})

    def element(self, element_id: str) -> Element:
        return self.elements[element_id]

    def outgoing(self, element_id: str) -> tuple[SequenceFlow, ...]:
        return self._outgoing.get(element_id, ())

    def incoming(self, element_id: str) -> tuple[SequenceFlow, ...]:
        return self._incoming.get(element_id, ())

    def boundary_events(self, activity_id: str) -> tuple[BoundaryEvent, ...]:
        return self._boundaries.get(activity_id, ())

    def children(self, scope_id: str | None) -> tuple[Element, ...]:
        """Elements directly inside a subprocess (or the process, for None)."""
        return self._children.get(scope_id, ())

    def start_events(self, scope_id: str | None = None) -> tuple[StartEvent, ...]:
        cached = self._starts.get(scope_id)
        if cached is None:  # asked at every start: a definition never changes, so once per scope
            cached = self._starts[scope_id] = tuple(e for e in self.children(scope_id) if isinstance(e, StartEvent))
        return cached

    def compensation_event_subprocess(self, activity_id: str) -> str | None:
        """The compensation event subprocess of an embedded subprocess, if it has one: the
        event subprocess inside it whose start event is a compensation start (BPMN 2.0.2,
        10.3.5), which undoes the subprocess as a whole when it is compensated."""
        for child in self.children(activity_id):
            if isinstance(child, SubProcess) and child.triggered_by_event:
                starts = self.start_events(child.id)
                if starts and isinstance(starts[0].event, CompensationDefinition):
                    return child.id
        return None

    def compensation_handler(self, activity_id: str) -> str | None:
        """What undoes a completed activity: its handler (`compensated_by`), or for a
        subprocess its compensation event subprocess; None when nothing does."""
        activity = self.elements[activity_id]
        handler = getattr(activity, "compensated_by", None)
        if handler is not None:
            return str(handler)
        return self.compensation_event_subprocess(activity_id) if isinstance(activity, SubProcess) else None

    def none_start_event(self, scope_id: str | None = None) -> StartEvent | None:
        """The start event without a trigger: where a plain start (or a subprocess) begins."""
        for event in self.start_events(scope_id):
            if event.event is None:
                return event
        return None

    def implicit_starts(self, scope_id: str | None = None) -> tuple[Element, ...]:
        """Where a scope without start events begins (BPMN 2.0.2, 10.5.2): every flow node
        without an incoming flow, except what is entered otherwise (boundary events, event
        subprocesses, compensation handlers, link catch events). Empty when the scope has a
        start event: then the start events alone begin it."""
        cached = self._implicit.get(scope_id)
        if cached is None:  # asked at every start and every subprocess entry
            cached = self._implicit[scope_id] = self._find_implicit_starts(scope_id)
        return cached

    def _find_implicit_starts(self, scope_id: str | None) -> tuple[Element, ...]:
        from legato.model.elements import Activity, EndEvent, IntermediateCatchEvent, LinkDefinition, SubProcess

        if self.start_events(scope_id):
            return ()
        return tuple(
            e
            for e in self.children(scope_id)
            if not self.incoming(e.id)
            and not isinstance(e, BoundaryEvent | EndEvent)
            and not (isinstance(e, SubProcess) and e.triggered_by_event)
            and not (isinstance(e, Activity) and e.for_compensation)
            and not (isinstance(e, IntermediateCatchEvent) and isinstance(e.event, LinkDefinition))
        )

    def elements_reaching(self, target: str) -> frozenset[str]:
        """Elements from which a token can still arrive at `target` without passing it.

        Walks the flows backwards, from a boundary event to its activity (a waiting
        activity may leave through it) and from a link catch to its throws. This is the
        question an inclusive join asks (BPMN 2.0, 13.4.3); the answer is cached, since a
        definition never changes.
        """
        cached = self._reaching.get(target)
        if cached is not None:
            return cached
        from legato.model.elements import BoundaryEvent, IntermediateCatchEvent, IntermediateThrowEvent, LinkDefinition

        reached: set[str] = set()
        pending = [flow.source for flow in self.incoming(target)]
        while pending:
            element_id = pending.pop()
            if element_id in reached or element_id == target:
                continue
            reached.add(element_id)
            element = self.elements[element_id]
            pending.extend(flow.source for flow in self.incoming(element_id))
            if isinstance(element, BoundaryEvent):
                pending.append(element.attached_to)
            if isinstance(element, IntermediateCatchEvent) and isinstance(element.event, LinkDefinition):
                name = element.event.name
                pending.extend(
                    e.id
                    for e in self.children(element.parent)
                    if isinstance(e, IntermediateThrowEvent)
                    and isinstance(e.event, LinkDefinition)
                    and e.event.name == name
                )
        result = frozenset(reached)
        self._reaching[target] = result
        return result

    def ancestors(self, element_id: str) -> Iterable[str]:
        """Enclosing subprocess ids, innermost first."""
        parent = self.elements[element_id].parent
        while parent is not None:
            yield parent
            parent = self.elements[parent].parent


def _freeze(index: dict[K, list[V]]) -> Mapping[K, tuple[V, ...]]:
    return MappingProxyType({key: tuple(value) for key, value in index.items()})
