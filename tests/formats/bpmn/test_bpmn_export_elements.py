"""Exporting the elements added to the engine: what a modeler sees in the file.

Compensation is drawn as BPMN draws it (a boundary event, an association, a handler
marked isForCompensation), multi-instance as zeebe:loopCharacteristics, event
subprocesses expanded and triggeredByEvent, call activities and business rule tasks with
their Zeebe extensions, and what Zeebe cannot say in `legato:` extensions."""

from __future__ import annotations

from bpmn_helpers import conformance
from lxml import etree

from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.builder import Process, RetryPolicy
from legato.model.elements import (
    BusinessRuleTask,
    CallActivity,
    MultiInstance,
    ServiceTask,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.serialize import checksum

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "zeebe": "http://camunda.org/schema/zeebe/1.0",
    "legato": "https://legato.dev/schema/bpmn/1.0",
}


def definition(name: str) -> ProcessDefinition:
    return conformance(name).definition


def exported(name: str) -> etree._Element:
    return etree.fromstring(dump_bpmn(definition(name)).encode())


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.findall(path, NS)
    assert len(found) == 1, (path, found)
    return found[0]


def bounds(root: etree._Element, element: str) -> tuple[float, float, float, float]:
    node = one(root, f".//bpmndi:BPMNShape[@bpmnElement='{element}']/dc:Bounds")
    return tuple(float(node.get(name, "")) for name in ("x", "y", "width", "height"))  # type: ignore[return-value]


def test_compensation_is_a_boundary_event_an_association_and_a_marked_handler() -> None:
    root = exported("compensation")
    boundary = one(root, ".//bpmn:boundaryEvent[@attachedToRef='Activity_flight']")
    assert boundary.get("id") == "Activity_flight_compensation"
    assert one(boundary, "bpmn:compensateEventDefinition") is not None
    association = one(root, ".//bpmn:association[@sourceRef='Activity_flight_compensation']")
    assert association.get("targetRef") == "Activity_cancel_flight" and association.get("associationDirection") == "One"
    handler = one(root, ".//bpmn:serviceTask[@id='Activity_cancel_flight']")
    assert handler.get("isForCompensation") == "true" and handler.find("bpmn:incoming", NS) is None
    undo_hotel = one(root, ".//bpmn:intermediateThrowEvent[@id='Event_undo_hotel']/bpmn:compensateEventDefinition")
    assert undo_hotel.get("activityRef") == "Activity_hotel"
    # drawn on the bottom edge of the activity, the association down to the handler
    x, y, width, height = bounds(root, "Activity_flight")
    bx, by, _, bh = bounds(root, "Activity_flight_compensation")
    assert by + bh / 2 == y + height and x <= bx <= x + width
    waypoints = one(root, ".//bpmndi:BPMNEdge[@bpmnElement='Activity_flight_compensation_association']")
    points = [(float(p.get("x", "")), float(p.get("y", ""))) for p in waypoints.findall("di:waypoint", NS)]
    hx, hy, hw, _ = bounds(root, "Activity_cancel_flight")
    assert points[0] == (bx + 18, by + bh) and points[-1][1] == hy and hx <= points[-1][0] <= hx + hw


def test_multi_instance_is_written_as_zeebe_loop_characteristics() -> None:
    root = exported("multi_instance")
    loop = one(root, ".//bpmn:serviceTask[@id='Activity_request']/bpmn:multiInstanceLoopCharacteristics")
    assert loop.get("isSequential") is None
    characteristics = one(loop, "bpmn:extensionElements/zeebe:loopCharacteristics")
    assert dict(characteristics.attrib) == {
        "inputCollection": "=suppliers",
        "inputElement": "supplier",
        "outputCollection": "quotes",
        "outputElement": "={supplier: supplier, price: price}",
    }
    review = one(root, ".//bpmn:userTask[@id='Activity_review']/bpmn:multiInstanceLoopCharacteristics")
    assert review.get("isSequential") == "true"
    assert one(review, "bpmn:completionCondition").text == "=accepted"
    cardinality = one(exported("multi_instance_camunda7"), ".//bpmn:loopCardinality")
    assert cardinality.text == "${copies}"


def test_a_loop_zeebe_would_misread_goes_in_a_legato_extension() -> None:
    p = Process("loop")
    task = p.user("each", multi_instance=MultiInstance(collection="items + extra", element_variable="item"))
    p.start("s").then(task).then(p.end("e"))
    built = p.build()
    root = etree.fromstring(dump_bpmn(built).encode())
    assert one(root, ".//legato:loopCharacteristics").get("inputCollection") == "items + extra"
    assert root.find(".//zeebe:loopCharacteristics", NS) is None
    again = load_bpmn(dump_bpmn(built)).definition.elements["each"]
    assert isinstance(again, UserTask) and again.multi_instance == built.elements["each"].multi_instance  # type: ignore[attr-defined]


def test_event_subprocesses_are_expanded_and_triggered_by_event() -> None:
    root = exported("event_subprocesses")
    subprocess = one(root, ".//bpmn:subProcess[@id='Activity_updates']")
    assert subprocess.get("triggeredByEvent") == "true"
    assert one(subprocess, "bpmn:startEvent").get("isInterrupting") == "false"
    assert one(root, ".//bpmn:subProcess[@id='Activity_expiry']/bpmn:startEvent").get("isInterrupting") is None
    shape = one(root, ".//bpmndi:BPMNShape[@bpmnElement='Activity_updates']")
    assert shape.get("isExpanded") == "true"


def test_signals_escalations_and_links_are_declared_and_referenced() -> None:
    root = exported("signal_order_picking")
    signal = one(root, "bpmn:signal[@name='stock.low']")
    reference = one(root, ".//bpmn:intermediateThrowEvent[@id='Event_stock_low']/bpmn:signalEventDefinition")
    assert reference.get("signalRef") == signal.get("id")
    escalations = exported("escalation")
    declared = one(escalations, "bpmn:escalation[@escalationCode='DELAY']")
    thrown = one(escalations, ".//bpmn:intermediateThrowEvent[@id='Event_delay']/bpmn:escalationEventDefinition")
    assert thrown.get("escalationRef") == declared.get("id")
    links = exported("link_events")
    link = one(links, ".//bpmn:intermediateThrowEvent[@id='Event_to_payout']/bpmn:linkEventDefinition")
    assert link.get("name") == "Payout"


def test_call_activities_say_what_zeebe_passes() -> None:
    root = exported("call_activity_parent")
    called = one(root, ".//bpmn:callActivity[@id='Activity_pay']/bpmn:extensionElements/zeebe:calledElement")
    assert dict(called.attrib) == {
        "processId": "payment",
        "propagateAllParentVariables": "false",  # only the input mappings go in
        "propagateAllChildVariables": "false",  # only the output mappings come back
    }
    pinned = exported("call_activity_parent_camunda7")
    assert one(pinned, ".//legato:calledElement").get("version") == "1"
    p = Process("all")
    p.start("s").then(p.call("c", "child")).then(p.end("e"))
    everything = etree.fromstring(dump_bpmn(p.build()).encode())
    assert dict(one(everything, ".//zeebe:calledElement").attrib) == {"processId": "child"}


def test_business_rule_tasks_are_called_decisions() -> None:
    root = exported("business_rule_task")
    task = one(root, ".//bpmn:businessRuleTask[@id='Activity_fee']/bpmn:extensionElements")
    assert dict(one(task, "zeebe:calledDecision").attrib) == {"decisionId": "shipping_fee", "resultVariable": "fee"}
    assert task.find("zeebe:taskDefinition", NS) is None and task.find("legato:retry", NS) is None
    p = Process("rules")
    decide = p.decision("d", "risk", retry=RetryPolicy(max_attempts=5), timeout=10)
    p.start("s").then(decide).then(p.end("e"))
    built = p.build()
    text = dump_bpmn(built)
    assert '<legato:retry maxAttempts="5"' in text and '<legato:timeout seconds="10.0"' in text
    again = load_bpmn(text).definition.elements["d"]
    assert isinstance(again, BusinessRuleTask) and again == built.elements["d"]


def test_every_new_element_survives_a_builder_round_trip() -> None:
    p = Process("everything")
    call = p.call("call", "child", version=4, inputs={"a": "x + 1"}, outputs={"b": "result"})
    p.start("s").then(call).then(p.end("e"))
    built = p.build()
    again = load_bpmn(dump_bpmn(built)).definition
    assert again.elements["call"] == CallActivity(
        id="call", process="child", version=4, inputs={"a": "x + 1"}, outputs={"b": "result"}
    )
    assert checksum(load_bpmn(dump_bpmn(again)).definition) == checksum(again)
    assert isinstance(definition("tasks").elements["Activity_welcome"], ServiceTask)
