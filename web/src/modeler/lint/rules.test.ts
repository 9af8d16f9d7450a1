// Legato's lint rules against models written as Camunda Modeler 7 and 8 and bpmn.io write them.
import { describe, expect, it } from "vitest";
import { BpmnModdle } from "bpmn-moddle";
import { Linter } from "bpmnlint";
import zeebe from "zeebe-bpmn-moddle/resources/zeebe.json";
import camunda from "camunda-bpmn-moddle/resources/camunda.json";
import { lintConfig } from "./config";

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">`;

function process(body: string, extra = ""): string {
  return `${HEAD}${extra}<bpmn:process id="p" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`;
}

/** The Legato rules' reports, as `element: message` lines (bpmnlint's own rules are left out). */
async function legatoIssues(xml: string, flavour: "zeebe" | "camunda" = "zeebe"): Promise<string[]> {
  const moddle = new BpmnModdle(flavour === "zeebe" ? { zeebe } : { camunda });
  const { rootElement } = await moddle.fromXML(xml);
  const linter = new Linter(lintConfig);
  const reports = await linter.lint(rootElement);
  return Object.entries(reports)
    .filter(([rule]) => rule.startsWith("legato/"))
    .flatMap(([, found]) => found.map((issue) => `${issue.id}: ${issue.message}`))
    .sort();
}

describe("task types", () => {
  it("accepts a Camunda 8 job type and a Camunda 7 external topic or delegate", async () => {
    expect(await legatoIssues(process(`<bpmn:serviceTask id="charge"><bpmn:extensionElements>
      <zeebe:taskDefinition type="charge-card" retries="3" /></bpmn:extensionElements></bpmn:serviceTask>`))).toEqual([]);
    expect(await legatoIssues(process(`<bpmn:serviceTask id="charge" camunda:type="external" camunda:topic="charge" />
      <bpmn:serviceTask id="mail" camunda:delegateExpression="\${mailer}" />`), "camunda")).toEqual([]);
  });

  it("warns of a service or send task without one (it deploys, but cannot run) and refuses a message end event without one", async () => {
    const xml = process(`<bpmn:serviceTask id="charge" /><bpmn:sendTask id="notify" />
      <bpmn:endEvent id="done"><bpmn:messageEventDefinition id="m" /></bpmn:endEvent>`);
    const issues = await legatoIssues(xml);
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatch(/^charge: no task type: the process cannot run until/);
    expect(issues[1]).toMatch(/^done: no task type: .* the handler that sends the message$/);
    const { rootElement } = await new BpmnModdle({ zeebe }).fromXML(xml);
    const reports = await new Linter(lintConfig).lint(rootElement);
    expect(reports["legato/implementation"]?.map((issue) => [issue.id, issue.category])).toEqual([
      ["charge", "warn"],
      ["notify", "warn"],
    ]);
    expect(reports["legato/task-type"]?.map((issue) => [issue.id, issue.category])).toEqual([["done", "error"]]);
  });

  it("reports a computed job type, a connector and a non-external camunda:type", async () => {
    expect(await legatoIssues(process(`<bpmn:serviceTask id="t"><bpmn:extensionElements>
      <zeebe:taskDefinition type="=kind" /></bpmn:extensionElements></bpmn:serviceTask>`))).toEqual([
      "t: the task type is computed at run time (=...): Legato needs a fixed task type",
    ]);
    const issues = await legatoIssues(process(`<bpmn:serviceTask id="http"><bpmn:extensionElements>
      <camunda:connector><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>
      </bpmn:extensionElements></bpmn:serviceTask><bpmn:serviceTask id="odd" camunda:type="mail" camunda:topic="x" />`), "camunda");
    expect(issues).toEqual([
      "http: camunda:connector cannot run in Legato: make it an external task and call the service from a handler",
      'odd: camunda:type="mail" cannot run in Legato: make it an external task (camunda:topic)',
    ]);
  });
});

describe("scripts and conditions", () => {
  it("refuses Groovy and JavaScript, accepts Legato scripts and one FEEL expression", async () => {
    const issues = await legatoIssues(process(`
      <bpmn:scriptTask id="groovy" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
      <bpmn:scriptTask id="legato" scriptFormat="legato"><bpmn:script>total = price * 2</bpmn:script></bpmn:scriptTask>
      <bpmn:scriptTask id="feel"><bpmn:extensionElements><zeebe:script expression="=a + b" resultVariable="c" /></bpmn:extensionElements></bpmn:scriptTask>
      <bpmn:scriptTask id="empty" />`));
    expect(issues).toEqual([
      'empty: a script task needs a script: zeebe:script (Camunda 8) or scriptFormat="legato" and its lines',
      'groovy: groovy cannot run in Legato: write name = expression lines with scriptFormat="legato", or move the code into a service task handler',
    ]);
  });

  it("refuses a condition in a script language on a flow, accepts FEEL and JUEL", async () => {
    const issues = await legatoIssues(process(`<bpmn:exclusiveGateway id="g" /><bpmn:task id="a" /><bpmn:task id="b" />
      <bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="a"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="groovy">x &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="b"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">=x &lt;= 1</bpmn:conditionExpression></bpmn:sequenceFlow>`));
    expect(issues).toEqual(["f1: a condition in groovy cannot run in Legato: write it as an expression (FEEL or JUEL)"]);
  });
});

describe("events, loops, retries, gateways", () => {
  it("reports a timer without its value and a message catch without a named message", async () => {
    const issues = await legatoIssues(process(`
      <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="td" /></bpmn:intermediateCatchEvent>
      <bpmn:intermediateCatchEvent id="ok"><bpmn:timerEventDefinition id="td2"><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
      <bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition id="md" messageRef="Message_1" /></bpmn:intermediateCatchEvent>
      <bpmn:receiveTask id="answer" />`, `<bpmn:message id="Message_1" />`));
    expect(issues).toEqual([
      "answer: a message event needs a message: choose or create a global message",
      "paid: message Message_1 has no name, and messages are correlated by name",
      "wait: a timer needs exactly one of timeDuration, timeDate or timeCycle, with a value",
    ]);
  });

  it("reports an endless loop, a multi-instance over nothing and a retry cycle that is a list", async () => {
    const issues = await legatoIssues(process(`
      <bpmn:task id="again"><bpmn:standardLoopCharacteristics /></bpmn:task>
      <bpmn:task id="each"><bpmn:multiInstanceLoopCharacteristics /></bpmn:task>
      <bpmn:task id="items"><bpmn:multiInstanceLoopCharacteristics camunda:collection="items" camunda:elementVariable="item" /></bpmn:task>
      <bpmn:serviceTask id="retry" camunda:type="external" camunda:topic="x"><bpmn:extensionElements>
        <camunda:failedJobRetryTimeCycle>PT1M,PT5M</camunda:failedJobRetryTimeCycle></bpmn:extensionElements></bpmn:serviceTask>`), "camunda");
    expect(issues).toEqual([
      "again: a loop needs a loop condition or a loop maximum",
      "each: a multi-instance needs a collection to run over, or a cardinality",
      "retry: retry cycle PT1M,PT5M is not R<n>/<duration>: write it as R3/PT10M",
    ]);
  });

  it("reports an instantiating event-based gateway; bpmnlint's own rule reports a complex gateway", async () => {
    const xml = process(`<bpmn:eventBasedGateway id="first" instantiate="true" /><bpmn:complexGateway id="complex" />`);
    expect(await legatoIssues(xml)).toEqual([
      "first: an event-based gateway that starts the process is not supported: use several message start events",
    ]);
    const moddle = new BpmnModdle({ zeebe });
    const { rootElement } = await moddle.fromXML(xml);
    const reports = await new Linter(lintConfig).lint(rootElement);
    expect(reports["no-complex-gateway"]?.map((issue) => issue.id)).toEqual(["complex"]);
  });
});
