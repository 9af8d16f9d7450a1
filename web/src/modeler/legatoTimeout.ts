// Legato's `legato:timeout seconds` on a task's job (docs/bpmn.md "Extensions"), read and
// written on the generic element bpmn-js keeps for Legato's namespace (it has no moddle
// descriptor here, so `legato:retry`, `legato:form` and the others pass through untouched).
// Apart from the panel (legatoPanel.ts) so that it runs in Node too.

export const LEGATO_NAMESPACE = "https://legato.dev/schema/bpmn/1.0";
const TIMED = ["bpmn:ServiceTask", "bpmn:SendTask", "bpmn:BusinessRuleTask"];

export interface GenericElement {
  $type: string;
  $instanceOf?: (type: string) => boolean;
  $parent?: unknown;
  [property: string]: unknown;
}

export interface BusinessObject extends GenericElement {
  extensionElements?: GenericElement & { values?: GenericElement[] };
}

export interface DiagramElement {
  businessObject: BusinessObject;
}

function timeoutElement(bo: BusinessObject): GenericElement | undefined {
  return (bo.extensionElements?.values ?? []).find((value) => value.$type.toLowerCase() === "legato:timeout");
}

/** Whether an element's job can have a timeout: a task that a handler runs. */
export function hasTimeout(bo: BusinessObject): boolean {
  return TIMED.some((type) => (typeof bo.$instanceOf === "function" ? bo.$instanceOf(type) : bo.$type === type));
}

/** The timeout in seconds written in `legato:timeout`, or undefined. */
export function timeoutOf(bo: BusinessObject): number | undefined {
  const found = timeoutElement(bo);
  const seconds = found ? Number(found.seconds) : Number.NaN;
  return Number.isFinite(seconds) ? seconds : undefined;
}

export interface Services {
  moddle: { createAny(name: string, uri: string, properties: Record<string, unknown>): GenericElement };
  bpmnFactory: { create(type: string, properties: Record<string, unknown>): GenericElement };
  commandStack: { execute(command: string, context: unknown): void };
}

/** Write `seconds` (or take the timeout out, for none) as one undoable command. */
export function setTimeoutOf(element: DiagramElement, seconds: number | undefined, services: Services): void {
  const bo = element.businessObject;
  const existing = bo.extensionElements;
  const kept = (existing?.values ?? []).filter((value) => value.$type.toLowerCase() !== "legato:timeout");
  const values = [...kept];
  if (seconds !== undefined) {
    const timeout = services.moddle.createAny("legato:timeout", LEGATO_NAMESPACE, { seconds: String(seconds) });
    values.push(timeout);
  }
  if (existing) {
    for (const value of values) value.$parent = existing;
    services.commandStack.execute("element.updateModdleProperties", { element, moddleElement: existing, properties: { values } });
    return;
  }
  if (values.length === 0) return;
  const created = services.bpmnFactory.create("bpmn:ExtensionElements", { values });
  created.$parent = bo;
  for (const value of values) value.$parent = created;
  services.commandStack.execute("element.updateModdleProperties", { element, moddleElement: bo, properties: { extensionElements: created } });
}
