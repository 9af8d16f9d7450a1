// The diagrams a new model can start from, in Camunda 8's flavour (the default for a new one).
import empty from "./templates/empty.bpmn?raw";
import serviceTask from "./templates/service-task.bpmn?raw";
import approval from "./templates/approval.bpmn?raw";
import messageWait from "./templates/message-wait.bpmn?raw";

export interface Template {
  id: string;
  name: string;
  description: string;
  xml: string;
}

export const TEMPLATES: Template[] = [
  { id: "empty", name: "Empty", description: "a start event, to draw from", xml: empty },
  { id: "service-task", name: "Service task flow", description: "start, one service task with retries and mappings, end", xml: serviceTask },
  { id: "approval", name: "Approval", description: "a user task for a candidate group, then approved or refused", xml: approval },
  { id: "message-wait", name: "Wait for a message", description: "waits for a message correlated by a key", xml: messageWait },
];

export function template(id: string | null): Template {
  return TEMPLATES.find((t) => t.id === id) ?? TEMPLATES[0]!;
}

/** The process id of a BPMN file (the key a deploy would use), for the file's name. */
export function processKey(xml: string): string | null {
  const executable = /<(?:[\w-]+:)?process\b[^>]*\bisExecutable\s*=\s*["']true["'][^>]*>/.exec(xml)?.[0];
  const tag = executable ?? /<(?:[\w-]+:)?process\b[^>]*>/.exec(xml)?.[0];
  return tag ? (/\bid\s*=\s*["']([^"']+)["']/.exec(tag)?.[1] ?? null) : null;
}
