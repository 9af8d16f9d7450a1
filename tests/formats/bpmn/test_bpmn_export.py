"""Exporting BPMN: round trips to the same checksum, Camunda 8 extensions, and the layout."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib.resources import files
from typing import ClassVar

import pytest
from bpmn_helpers import SAMPLES, sample
from lxml import etree

from legato.errors import ModelInvalid
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.bpmn.layout import layout
from legato.formats.builder import Process, RetryPolicy
from legato.formats.yaml_format import load_yaml
from legato.model.diagram import Bounds, Diagram
from legato.model.elements import BoundaryEvent, Element, SubProcess
from legato.model.process import ProcessDefinition
from legato.model.serialize import checksum, to_dict

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
LEGATO = "https://legato.dev/schema/bpmn/1.0"
ORDER_TO_CASH = files("legato.examples").joinpath("order_to_cash.yaml").read_text()


def without_diagram(definition: ProcessDefinition) -> dict[str, object]:
    return to_dict(dataclasses.replace(definition, diagram=None))


@pytest.mark.parametrize("name", SAMPLES)
def test_import_export_import_keeps_everything(name: str) -> None:
    imported = sample(name).definition
    again = load_bpmn(dump_bpmn(imported))
    assert to_dict(again.definition) == to_dict(imported)
    assert checksum(again.definition) == checksum(imported)
    assert again.warnings == []  # what the first import left out is gone; nothing new is
    assert dump_bpmn(again.definition) == dump_bpmn(imported)  # the export is stable


def test_order_to_cash_from_yaml_through_bpmn_is_the_same_process() -> None:
    original = load_yaml(ORDER_TO_CASH)
    text = dump_bpmn(original)
    imported = load_bpmn(text).definition
    assert without_diagram(imported) == to_dict(original)
    assert list(imported.elements) == list(original.elements)  # stored in the same reading order
    assert imported.diagram is not None  # a layout was added
    assert checksum(load_bpmn(dump_bpmn(imported)).definition) == checksum(imported)


def test_a_process_never_drawn_gets_a_shape_per_element_and_an_edge_per_flow() -> None:
    definition = load_yaml(ORDER_TO_CASH)
    diagram = load_bpmn(dump_bpmn(definition)).definition.diagram
    assert diagram is not None
    shapes = {shape.element: shape.bounds for shape in diagram.shapes}
    assert set(shapes) == set(definition.elements)
    assert {edge.element for edge in diagram.edges} == set(definition.flows)
    for element in definition.elements.values():
        box = shapes[element.id]
        if isinstance(element, BoundaryEvent):  # on the bottom edge of its activity
            host = shapes[element.attached_to]
            assert box.y + box.height / 2 == host.y + host.height
            assert host.x <= box.x and box.x + box.width <= host.x + host.width
        if element.parent is not None:  # inside its expanded subprocess
            outer = shapes[element.parent]
            assert outer.x < box.x and box.x + box.width < outer.x + outer.width
            assert outer.y < box.y and box.y + box.height < outer.y + outer.height
    assert next(s for s in diagram.shapes if s.element == "shipping").expanded is True


def test_the_layout_reads_left_to_right_without_overlaps_and_with_right_angles() -> None:
    definition = load_yaml(ORDER_TO_CASH)
    diagram = layout(definition)
    boxes = {shape.element: shape.bounds for shape in diagram.shapes}
    assert boxes["order_received"].x < boxes["check_credit"].x < boxes["order_size"].x < boxes["fulfil"].x
    assert boxes["reserve_stock"].x == boxes["create_invoice"].x  # the two parallel branches share a column
    assert boxes["order_received"].y + 18 == boxes["check_credit"].y + 40  # the main path runs straight
    for first, second in _pairs(definition, boxes):
        assert not _overlap(boxes[first], boxes[second]), (first, second)
    for edge in diagram.edges:
        assert len(edge.waypoints) >= 2
        for (x1, y1), (x2, y2) in zip(edge.waypoints, edge.waypoints[1:], strict=False):
            assert x1 == x2 or y1 == y2, edge.element
        flow = definition.flows[edge.element]
        assert _touches(boxes[flow.source], edge.waypoints[0]) and _touches(boxes[flow.target], edge.waypoints[-1])


def test_lanes_and_the_pool_are_laid_out_around_their_elements() -> None:
    definition = dataclasses.replace(sample("signavio_claims").definition, diagram=None)
    diagram = load_bpmn(dump_bpmn(definition)).definition.diagram
    assert diagram is not None
    shapes = {shape.element: shape for shape in diagram.shapes}
    assert definition.participant is not None
    pool = shapes[definition.participant.id]
    assert pool.horizontal is True
    department, service = definition.lanes
    for lane in (*department.lanes, service):
        band = shapes[lane.id].bounds
        assert shapes[lane.id].horizontal is True and _inside(band, pool.bounds)
        for element_id in lane.elements:
            assert _inside(shapes[element_id].bounds, band), (lane.name, element_id)
    assert _inside(shapes[department.lanes[0].id].bounds, shapes[department.id].bounds)


def test_the_export_speaks_camunda_8() -> None:
    root = etree.fromstring(dump_bpmn(sample("camunda7_invoice").definition).encode())
    assert {"bpmn", "bpmndi", "dc", "di", "xsi", "zeebe"} <= set(root.nsmap)
    ns = {"bpmn": BPMN, "zeebe": ZEEBE, "legato": LEGATO}
    prepare = root.find(".//bpmn:serviceTask[@id='Activity_prepare']", ns)
    assert prepare is not None
    task = prepare.find("bpmn:extensionElements/zeebe:taskDefinition", ns)
    assert task is not None and task.attrib == {"type": "invoice.prepare", "retries": "3"}
    inputs = prepare.findall("bpmn:extensionElements/zeebe:ioMapping/zeebe:input", ns)
    assert [dict(i.attrib) for i in inputs] == [
        {"source": "=invoice.id", "target": "invoiceId"},
        {"source": "EUR", "target": "currency"},
    ]
    retry = prepare.find("bpmn:extensionElements/legato:retry", ns)  # ten minutes apart: Legato's own
    assert retry is not None and retry.get("initialBackoff") == "600.0" and retry.get("multiplier") == "1.0"
    approve = root.find(".//bpmn:userTask[@id='Activity_approve']/bpmn:extensionElements", ns)
    assert approve is not None
    assignment = approve.find("zeebe:assignmentDefinition", ns)
    assert assignment is not None and assignment.get("candidateGroups") == "accounting, management"
    form = approve.find("zeebe:formDefinition", ns)
    assert form is not None and form.get("formKey") == "embedded:app:forms/approve-invoice.html"
    condition = root.find(".//bpmn:sequenceFlow[@id='Flow_approved']/bpmn:conditionExpression", ns)
    assert condition is not None and condition.text == "${approved}"
    assert condition.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "bpmn:tFormalExpression"
    assert root.find("bpmn:collaboration/bpmn:participant[@processRef='invoice_approval']", ns) is not None
    assert len(root.findall(".//bpmn:laneSet/bpmn:lane", ns)) == 2


def test_message_subscriptions_are_written_on_the_message() -> None:
    root = etree.fromstring(dump_bpmn(sample("camunda8_payment").definition).encode())
    ns = {"bpmn": BPMN, "zeebe": ZEEBE}
    message = root.find("bpmn:message[@name='payment.settled']", ns)
    assert message is not None
    subscription = message.find("bpmn:extensionElements/zeebe:subscription", ns)
    assert subscription is not None and subscription.get("correlationKey") == "=orderId"


def test_what_camunda_cannot_say_survives_in_legato_extensions() -> None:
    p = Process("extras", name="Extras", documentation="What Zeebe has no attribute for.")
    call = p.service(
        "call",
        "api.call",
        retry=RetryPolicy(max_attempts=7, initial_backoff=2, multiplier=3, max_backoff=60, non_retryable=("Fatal",)),
        timeout=15,
        inputs={"doubled": "amount * 2", "code": '"X-1"', "flag": "true", "first": "=items[0]"},
        outputs={"total": "${a + b}"},
    )
    review = p.user("review", form={"fields": [{"id": "ok", "type": "boolean"}]})
    route = p.exclusive("route")
    answer = p.catch_message("answer", "reply", correlation_key='order["id"]')
    later = p.catch_timer("later", duration="=delay")
    p.start("start").then(call).then(review).then(route)
    route.then(answer, when="answer_wanted").then(p.end("answered"))
    route.otherwise(later).then(p.end("waited"))
    call.on_error("FATAL", error_message="Fatal failure").then(p.end("failed", error="GIVE_UP", error_message="no"))
    definition = p.build()
    text = dump_bpmn(definition)
    for extension in ("retry", "timeout", "form", "subscription", "ioMapping"):
        assert f"<legato:{extension}" in text, extension
    assert 'legato:message="Fatal failure"' in text
    assert without_diagram(load_bpmn(text).definition) == to_dict(definition)


def test_a_drawn_diagram_is_written_as_it_is() -> None:
    definition = sample("camunda8_shipping").definition
    moved = Diagram(
        id="mine",
        shapes=tuple(
            dataclasses.replace(s, bounds=dataclasses.replace(s.bounds, x=s.bounds.x + 0.5))
            for s in definition.diagram.shapes  # type: ignore[union-attr]
        ),
    )
    again = load_bpmn(dump_bpmn(dataclasses.replace(definition, diagram=moved))).definition
    assert again.diagram == moved


def test_an_element_bpmn_cannot_express_yet_is_refused() -> None:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class Milestone(Element):
        kind: ClassVar[str] = "milestoneTask"

    base = load_yaml(ORDER_TO_CASH)
    odd = dataclasses.replace(base, elements={**base.elements, "odd": Milestone(id="odd")})
    with pytest.raises(ModelInvalid, match="a milestoneTask cannot be written as BPMN yet"):
        dump_bpmn(odd)


def _pairs(definition: ProcessDefinition, boxes: dict[str, Bounds]) -> list[tuple[str, str]]:
    """Pairs of elements that must not overlap: not nested, and not a boundary and its host."""
    ids = sorted(boxes)
    pairs = []
    for index, first in enumerate(ids):
        for second in ids[index + 1 :]:
            a, b = definition.elements[first], definition.elements[second]
            related = {first, second} & {getattr(a, "attached_to", None), getattr(b, "attached_to", None)}
            nested = a.parent == second or b.parent == first or isinstance(a, SubProcess) or isinstance(b, SubProcess)
            if not related and not nested:
                pairs.append((first, second))
    return pairs


def _overlap(a: Bounds, b: Bounds) -> bool:
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer.x <= inner.x
        and inner.x + inner.width <= outer.x + outer.width
        and outer.y <= inner.y
        and inner.y + inner.height <= outer.y + outer.height
    )


def _touches(box: Bounds, point: tuple[float, float]) -> bool:
    x, y = point
    on_x = box.x <= x <= box.x + box.width
    on_y = box.y <= y <= box.y + box.height
    return on_x and on_y and (x in (box.x, box.x + box.width) or y in (box.y, box.y + box.height))


def test_fields_bpmn_cannot_express_yet_are_refused_not_dropped() -> None:
    from legato.formats.bpmn.writer import _unwritten_fields
    from legato.model.elements import ServiceTask

    @dataclass(frozen=True, kw_only=True, slots=True)
    class Priced(ServiceTask):
        price: int = 0
        owner: str

    assert _unwritten_fields(Priced(id="a", task_type="t", owner="me")) == ["owner"]
    assert _unwritten_fields(Priced(id="a", task_type="t", owner="me", price=3)) == ["price", "owner"]
    assert _unwritten_fields(ServiceTask(id="a", task_type="t", retry=RetryPolicy(max_attempts=9))) == []
