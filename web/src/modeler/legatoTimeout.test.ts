// The Legato group's reading and writing of legato:timeout, on documents bpmn-moddle reads
// as bpmn-js does (Legato's namespace unregistered, so its elements are generic).
import { describe, expect, it } from "vitest";
import { BpmnModdle } from "bpmn-moddle";
import zeebe from "zeebe-bpmn-moddle/resources/zeebe.json";
import { hasTimeout, setTimeoutOf, timeoutOf, type GenericElement } from "./legatoTimeout";

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"
  xmlns:legato="https://legato.dev/schema/bpmn/1.0" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:serviceTask id="timed">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="charge" />
        <legato:retry maxAttempts="5" initialBackoff="2.0" />
        <legato:timeout seconds="30.0" />
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="plain" />
    <bpmn:userTask id="person" />
  </bpmn:process>
</bpmn:definitions>`;

type Moddle = InstanceType<typeof BpmnModdle> & {
  createAny(name: string, uri: string, properties: Record<string, unknown>): GenericElement;
  create(type: string, properties: Record<string, unknown>): GenericElement;
  toXML(element: unknown, options?: unknown): Promise<{ xml: string }>;
};

async function read() {
  const moddle = new BpmnModdle({ zeebe }) as Moddle;
  const { rootElement } = await moddle.fromXML(XML);
  const process = (rootElement as { rootElements: { flowElements: GenericElement[] }[] }).rootElements[0]!;
  const byId = (id: string) => process.flowElements.find((e) => e.id === id)! as never;
  const services = {
    moddle,
    bpmnFactory: { create: (type: string, properties: Record<string, unknown>) => moddle.create(type, properties) },
    commandStack: {
      execute: (_command: string, context: { moddleElement: Record<string, unknown>; properties: Record<string, unknown> }) =>
        Object.assign(context.moddleElement, context.properties),
    },
  };
  return { moddle, rootElement, byId, services };
}

describe("the Legato properties group", () => {
  it("reads legato:timeout, and is offered on tasks a handler runs only", async () => {
    const { byId } = await read();
    expect(timeoutOf(byId("timed"))).toBe(30);
    expect(timeoutOf(byId("plain"))).toBeUndefined();
    expect(hasTimeout(byId("plain"))).toBe(true);
    expect(hasTimeout(byId("person"))).toBe(false);
  });

  it("writes a timeout into the file, keeping the other Legato extensions, and takes it out again", async () => {
    const { moddle, rootElement, byId, services } = await read();
    setTimeoutOf({ businessObject: byId("timed") }, 45, services);
    setTimeoutOf({ businessObject: byId("plain") }, 5, services);
    let { xml } = await moddle.toXML(rootElement, { format: true });
    expect(xml).toContain('<legato:retry maxAttempts="5" initialBackoff="2.0" />');
    expect(xml).toContain('<legato:timeout seconds="45" />');
    expect(xml).not.toContain('seconds="30.0"');
    expect(xml.match(/<legato:timeout seconds="5" \/>/g)).toHaveLength(1);

    setTimeoutOf({ businessObject: byId("timed") }, undefined, services);
    ({ xml } = await moddle.toXML(rootElement, { format: true }));
    expect(xml).not.toContain('seconds="45"');
    expect(xml).toContain("<legato:retry");
  });
});
