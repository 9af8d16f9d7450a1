"""Importing the elements added to the engine, in the spellings that conformance files do
not show: what Camunda means differently (a warning naming it), Legato's own extensions,
and the edges of compensation, signals and escalations."""

from __future__ import annotations

import pytest
from bpmn_helpers import around, document, line_of, problem_for

from legato.formats.bpmn import load_bpmn
from legato.model.elements import (
    BoundaryEvent,
    CallActivity,
    CompensationDefinition,
    EscalationDefinition,
    IntermediateThrowEvent,
    MultiInstance,
    SendTask,
    StartEvent,
    UserTask,
)


def warnings_for(middle: str, middle_id: str, after: str = "") -> str:
    return "\n".join(load_bpmn(document(around(middle, middle_id), after=after)).warnings)


# --- call activities -----------------------------------------------------------------------


def test_camunda7_without_in_or_out_passes_and_returns_all_variables_with_a_warning() -> None:
    text = warnings_for('<bpmn:callActivity id="call" calledElement="child" />', "call")
    assert "without camunda:in, Camunda 7 passes no variables to the called process; Legato passes all" in text
    assert "without camunda:out, Camunda 7 copies no variables back; Legato copies all" in text


def test_camunda7_all_variables_both_ways_is_exact() -> None:
    call = """<bpmn:callActivity id="call" calledElement="child"><bpmn:extensionElements>
      <camunda:in variables="all" /><camunda:out variables="all" /><camunda:in source="a" target="a" />
    </bpmn:extensionElements></bpmn:callActivity>"""
    imported = load_bpmn(document(around(call, "call")))
    assert imported.warnings == []
    assert imported.definition.elements["call"] == CallActivity(id="call", process="child")


def test_camunda7_bindings() -> None:
    deployment = '<bpmn:callActivity id="call" calledElement="child" camunda:calledElementBinding="deployment">'
    deployment += '<bpmn:extensionElements><camunda:in variables="all" /><camunda:out variables="all" />'
    deployment += '<camunda:in businessKey="#{execution.processBusinessKey}" /></bpmn:extensionElements>'
    deployment += "</bpmn:callActivity>"
    text = warnings_for(deployment, "call")
    assert "a binding to the version deployed with the caller is not kept: Legato calls the latest" in text
    assert "camunda:in businessKey is ignored: a called instance does not inherit a business key" in text
    pinned = '<bpmn:callActivity id="call" calledElement="child" camunda:calledElementVersion="3" />'
    call = load_bpmn(document(around(pinned, "call"))).definition.elements["call"]
    assert isinstance(call, CallActivity) and call.version == 3


@pytest.mark.parametrize(
    ("attributes", "mappings", "warning"),
    [
        ("", '<zeebe:input source="=a" target="a" />', 'as propagateAllParentVariables="false" does'),
        ('propagateAllParentVariables="false"', "", "passes no variables in Camunda 8; Legato passes all"),
        ('propagateAllChildVariables="false"', "", "copies nothing back in Camunda 8; Legato copies all"),
    ],
)
def test_zeebe_propagation_that_legato_cannot_match_is_a_warning(attributes: str, mappings: str, warning: str) -> None:
    call = f"""<bpmn:callActivity id="call"><bpmn:extensionElements>
      <zeebe:calledElement processId="child" {attributes} />
      <zeebe:ioMapping>{mappings}</zeebe:ioMapping>
    </bpmn:extensionElements></bpmn:callActivity>"""
    assert warning in warnings_for(call, "call")


def test_a_pinned_version_in_legato_extension() -> None:
    call = """<bpmn:callActivity id="call"><bpmn:extensionElements>
      <zeebe:calledElement processId="child" /><legato:calledElement version="2" />
    </bpmn:extensionElements></bpmn:callActivity>"""
    text = document(around(call, "call")).replace(
        "<bpmn:definitions ", '<bpmn:definitions xmlns:legato="https://legato.dev/schema/bpmn/1.0" '
    )
    assert load_bpmn(text).definition.elements["call"] == CallActivity(id="call", process="child", version=2)


# --- business rule tasks -------------------------------------------------------------------


def test_camunda7_pinned_decisions_are_warnings_and_the_result_list_is_kept() -> None:
    task = '<bpmn:businessRuleTask id="rule" camunda:decisionRef="d" camunda:decisionRefBinding="version" '
    task += 'camunda:decisionRefVersion="2" camunda:resultVariable="r" />'
    text = warnings_for(task, "rule")
    assert "mapDecisionResult" not in text  # Camunda 7's default mapper, resultList, is what Legato does
    assert "camunda:decisionRefBinding=version is ignored: Legato evaluates the latest deployed version" in text


def test_zeebe_called_decision_binding_is_a_warning() -> None:
    task = """<bpmn:businessRuleTask id="rule"><bpmn:extensionElements>
      <zeebe:calledDecision decisionId="d" resultVariable="r" bindingType="deployment" />
    </bpmn:extensionElements></bpmn:businessRuleTask>"""
    assert "Legato evaluates the latest deployed version" in warnings_for(task, "rule")


# --- multi-instance -----------------------------------------------------------------------


def test_legato_loop_characteristics_keep_legato_expressions() -> None:
    task = """<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics>
      <bpmn:extensionElements>
        <legato:loopCharacteristics inputCollection="items + extra" inputElement="item" outputCollection="out"
          outputElement="item * 2" />
      </bpmn:extensionElements>
    </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"""
    text = document(around(task, "each")).replace(
        "<bpmn:definitions ", '<bpmn:definitions xmlns:legato="https://legato.dev/schema/bpmn/1.0" '
    )
    each = load_bpmn(text).definition.elements["each"]
    assert isinstance(each, UserTask)
    assert each.multi_instance == MultiInstance(
        collection="items + extra", element_variable="item", output_collection="out", output_element="item * 2"
    )


def test_camunda7_collection_must_be_a_name_or_an_expression() -> None:
    task = """<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics camunda:collection="a b" />
    </bpmn:userTask>"""
    text = document(around(task, "each"))
    assert "neither a variable name nor an expression" in problem_for(text, "each").message


# --- events -------------------------------------------------------------------------------


def test_an_escalation_catch_without_a_reference_catches_any() -> None:
    body = """    <bpmn:startEvent id="start" />
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="in" /><bpmn:endEvent id="out" />
      <bpmn:sequenceFlow id="f0" sourceRef="in" targetRef="out" />
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="any" attachedToRef="sub" cancelActivity="false"><bpmn:escalationEventDefinition />
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="end" /><bpmn:endEvent id="handled" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub" />
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="any" targetRef="handled" />"""
    caught = load_bpmn(document(body)).definition.elements["any"]
    assert isinstance(caught, BoundaryEvent) and caught.event == EscalationDefinition(code=None)


def test_is_interrupting_means_nothing_outside_an_event_subprocess() -> None:
    start = '<bpmn:startEvent id="start" isInterrupting="false" /><bpmn:endEvent id="end" />'
    start += '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />'
    assert load_bpmn(document(start)).definition.elements["start"] == StartEvent(id="start")


def test_a_signal_named_by_an_expression_is_refused() -> None:
    catch = """<bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="S" />
    </bpmn:intermediateCatchEvent>"""
    text = document(around(catch, "wait"), after='  <bpmn:signal id="S" name="=kind" />\n')
    problem = problem_for(text, "S")
    assert problem.line == line_of(text, 'id="S"') and "Legato needs a fixed name" in problem.message


def test_wait_for_completion_false_is_a_warning_and_the_throw_waits_anyway() -> None:
    body = """    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="book"><bpmn:extensionElements><zeebe:taskDefinition type="book" />
    </bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:boundaryEvent id="comp" attachedToRef="book"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
    <bpmn:serviceTask id="undo" isForCompensation="true"><bpmn:extensionElements>
      <zeebe:taskDefinition type="unbook" /></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:intermediateThrowEvent id="throw">
      <bpmn:compensateEventDefinition activityRef="book" waitForCompletion="false" />
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="book" />
    <bpmn:sequenceFlow id="f2" sourceRef="book" targetRef="throw" />
    <bpmn:sequenceFlow id="f3" sourceRef="throw" targetRef="end" />
    <bpmn:association id="a1" sourceRef="comp" targetRef="undo" />"""
    imported = load_bpmn(document(body))
    assert imported.definition.elements["throw"] == IntermediateThrowEvent(
        id="throw", event=CompensationDefinition(activity="book")
    )
    assert any('waitForCompletion="false" is ignored' in warning for warning in imported.warnings)


def compensation(handler_attributes: str = 'isForCompensation="true"', association: str = "comp") -> str:
    return f"""    <bpmn:startEvent id="start" />
    <bpmn:userTask id="book" />
    <bpmn:boundaryEvent id="comp" attachedToRef="book"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>
    <bpmn:userTask id="undo" {handler_attributes} />
    <bpmn:endEvent id="end" />
    <bpmn:textAnnotation id="note"><bpmn:text>why</bpmn:text></bpmn:textAnnotation>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="book" />
    <bpmn:sequenceFlow id="f2" sourceRef="book" targetRef="end" />
    <bpmn:association id="a1" associationDirection="One" sourceRef="{association}" targetRef="undo" />
    <bpmn:association id="a2" sourceRef="book" targetRef="note" />"""


def test_a_compensation_association_is_read_and_other_associations_are_still_warned_about() -> None:
    imported = load_bpmn(document(compensation()))
    book = imported.definition.elements["book"]
    assert isinstance(book, UserTask) and book.compensated_by == "undo"
    (association,) = [w for w in imported.warnings if "association" in w]
    assert "'a2'" in association and "'a1'" not in association


def test_a_compensation_boundary_event_needs_a_marked_handler() -> None:
    text = document(compensation(handler_attributes=""))
    problem = problem_for(text, "comp")
    assert problem.line == line_of(text, 'id="comp"')
    assert 'needs one association to its handler, an activity marked isForCompensation="true"' in problem.message
    unlinked = document(compensation(association="elsewhere"))
    assert "needs one association" in problem_for(unlinked, "comp").message


def test_a_send_task_message_is_drawn_only() -> None:
    send = """<bpmn:sendTask id="send" messageRef="M"><bpmn:extensionElements><zeebe:taskDefinition type="mail" />
    </bpmn:extensionElements></bpmn:sendTask>"""
    imported = load_bpmn(document(around(send, "send"), after='  <bpmn:message id="M" name="m" />\n'))
    assert imported.definition.elements["send"] == SendTask(id="send", task_type="mail")
    assert any("the messageRef of a send task is left out" in w for w in imported.warnings)


def test_a_lane_listing_a_compensation_boundary_event_loses_only_that_reference() -> None:
    lanes = """    <bpmn:laneSet id="ls"><bpmn:lane id="desk" name="Desk">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>book</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>comp</bpmn:flowNodeRef><bpmn:flowNodeRef>undo</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
"""
    imported = load_bpmn(document(lanes + compensation()))
    (desk,) = imported.definition.lanes
    assert desk.elements == ("start", "book", "undo")


def test_a_conditional_start_event_of_a_process_imports_and_round_trips() -> None:
    import dataclasses

    from legato.formats.bpmn import dump_bpmn, load_bpmn
    from legato.model.elements import ConditionalDefinition, StartEvent
    from legato.model.serialize import checksum

    xml = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="big_order" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:outgoing>f1</bpmn:outgoing>
      <bpmn:conditionalEventDefinition>
        <bpmn:condition xsi:type="bpmn:tFormalExpression">${amount &gt; 1000}</bpmn:condition>
      </bpmn:conditionalEventDefinition>
    </bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""
    definition = load_bpmn(xml).definition
    start = definition.elements["start"]
    assert isinstance(start, StartEvent) and start.event == ConditionalDefinition(condition="${amount > 1000}")
    again = load_bpmn(dump_bpmn(definition)).definition
    assert again.diagram is not None  # the export draws what was never drawn
    assert checksum(dataclasses.replace(again, diagram=None)) == checksum(definition)
