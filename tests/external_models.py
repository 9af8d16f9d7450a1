"""An invoice process as Camunda Modeler 5 writes it, with two external tasks, for the
external-task and agent tests: `invoice.check` (two attempts, no pause between them)
with an error boundary for `INVOICE_INVALID` leading to a user task, then `invoice.pay`."""

INVOICE_BPMN = """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" \
xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" \
xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1x8f2ka" \
targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.17.0" \
modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:process id="invoice" name="Invoice" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1" name="Invoice received">
      <bpmn:outgoing>Flow_0a1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:serviceTask id="check_invoice" name="Check invoice" camunda:type="external" camunda:topic="invoice.check">
      <bpmn:extensionElements>
        <camunda:failedJobRetryTimeCycle>R2/PT0S</camunda:failedJobRetryTimeCycle>
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_0a1</bpmn:incoming>
      <bpmn:outgoing>Flow_0b2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="invoice_invalid" name="Invoice invalid" attachedToRef="check_invoice">
      <bpmn:outgoing>Flow_0c3</bpmn:outgoing>
      <bpmn:errorEventDefinition id="ErrorEventDefinition_1" errorRef="Error_invalid" />
    </bpmn:boundaryEvent>
    <bpmn:serviceTask id="pay_invoice" name="Pay invoice" camunda:type="external" camunda:topic="invoice.pay">
      <bpmn:incoming>Flow_0b2</bpmn:incoming>
      <bpmn:outgoing>Flow_0d4</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:endEvent id="invoice_paid" name="Invoice paid">
      <bpmn:incoming>Flow_0d4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:userTask id="clarify_invoice" name="Clarify invoice">
      <bpmn:incoming>Flow_0c3</bpmn:incoming>
      <bpmn:outgoing>Flow_0e5</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="invoice_rejected" name="Invoice rejected">
      <bpmn:incoming>Flow_0e5</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_0a1" sourceRef="StartEvent_1" targetRef="check_invoice" />
    <bpmn:sequenceFlow id="Flow_0b2" sourceRef="check_invoice" targetRef="pay_invoice" />
    <bpmn:sequenceFlow id="Flow_0c3" sourceRef="invoice_invalid" targetRef="clarify_invoice" />
    <bpmn:sequenceFlow id="Flow_0d4" sourceRef="pay_invoice" targetRef="invoice_paid" />
    <bpmn:sequenceFlow id="Flow_0e5" sourceRef="clarify_invoice" targetRef="invoice_rejected" />
  </bpmn:process>
  <bpmn:error id="Error_invalid" name="Invoice invalid" errorCode="INVOICE_INVALID" />
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="invoice">
      <bpmndi:BPMNShape id="_BPMNShape_StartEvent_2" bpmnElement="StartEvent_1">
        <dc:Bounds x="179" y="99" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_1_di" bpmnElement="check_invoice">
        <dc:Bounds x="270" y="77" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_2_di" bpmnElement="pay_invoice">
        <dc:Bounds x="430" y="77" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_1_di" bpmnElement="invoice_paid">
        <dc:Bounds x="592" y="99" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Activity_3_di" bpmnElement="clarify_invoice">
        <dc:Bounds x="430" y="200" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_2_di" bpmnElement="invoice_rejected">
        <dc:Bounds x="592" y="222" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Event_3_di" bpmnElement="invoice_invalid">
        <dc:Bounds x="302" y="139" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_0a1_di" bpmnElement="Flow_0a1">
        <di:waypoint x="215" y="117" />
        <di:waypoint x="270" y="117" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_0b2_di" bpmnElement="Flow_0b2">
        <di:waypoint x="370" y="117" />
        <di:waypoint x="430" y="117" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_0c3_di" bpmnElement="Flow_0c3">
        <di:waypoint x="320" y="175" />
        <di:waypoint x="320" y="240" />
        <di:waypoint x="430" y="240" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_0d4_di" bpmnElement="Flow_0d4">
        <di:waypoint x="530" y="117" />
        <di:waypoint x="592" y="117" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_0e5_di" bpmnElement="Flow_0e5">
        <di:waypoint x="530" y="240" />
        <di:waypoint x="592" y="240" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
