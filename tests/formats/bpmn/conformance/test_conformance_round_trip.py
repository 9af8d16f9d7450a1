"""Every conformance file survives import -> export -> import: the same checksum, with its
own diagram or, when it never had one, with the automatic layout."""

from __future__ import annotations

import dataclasses

import pytest
from conformance_helpers import SAMPLES, imported

from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.model.diagram import Bounds
from legato.model.elements import Activity, BoundaryEvent, SubProcess
from legato.model.serialize import checksum, to_dict


@pytest.mark.parametrize("name", SAMPLES)
def test_import_export_import_gives_the_same_checksum(name: str) -> None:
    first = imported(name).definition
    text = dump_bpmn(first)
    again = load_bpmn(text)
    # A file without a diagram (as engine test resources are) comes back with a layout drawn.
    drawn = again.definition if first.diagram is not None else dataclasses.replace(again.definition, diagram=None)
    assert checksum(drawn) == checksum(first)
    assert again.warnings == []  # what the first import left out is gone; nothing new is
    assert dump_bpmn(again.definition) == text  # and the export is stable


@pytest.mark.parametrize("name", SAMPLES)
def test_a_layout_is_drawn_for_every_element_and_reads_back_the_same(name: str) -> None:
    bare = dataclasses.replace(imported(name).definition, diagram=None)
    again = load_bpmn(dump_bpmn(bare)).definition
    assert to_dict(dataclasses.replace(again, diagram=None)) == to_dict(bare)
    assert again.diagram is not None
    boxes = {shape.element: shape.bounds for shape in again.diagram.shapes}
    if bare.participant is not None:
        boxes.pop(bare.participant.id)  # the pool, drawn around everything
    assert set(boxes) == set(bare.elements)
    for element in bare.elements.values():
        if element.parent is not None:
            assert _inside(boxes[element.id], boxes[element.parent]), element.id
        if isinstance(element, SubProcess):
            assert next(s for s in again.diagram.shapes if s.element == element.id).expanded is True
        if isinstance(element, Activity) and element.compensated_by is not None:
            host, handler = boxes[element.id], boxes[element.compensated_by]
            assert handler.y > host.y + host.height and handler.x < host.x + host.width  # under it
    drawn = [e for e in bare.elements.values() if not isinstance(e, BoundaryEvent)]
    for index, first in enumerate(drawn):
        for second in drawn[index + 1 :]:
            nested = first.id in _ancestors(bare, second.id) or second.id in _ancestors(bare, first.id)
            if not nested:
                assert not _overlap(boxes[first.id], boxes[second.id]), (first.id, second.id)


def _ancestors(definition: object, element_id: str) -> set[str]:
    return set(definition.ancestors(element_id))  # type: ignore[attr-defined]


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer.x <= inner.x
        and inner.x + inner.width <= outer.x + outer.width
        and outer.y <= inner.y
        and inner.y + inner.height <= outer.y + outer.height
    )


def _overlap(a: Bounds, b: Bounds) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height
