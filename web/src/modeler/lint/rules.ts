// bpmnlint rules for what a Legato deploy refuses (docs/bpmn.md "Refused, and what to use
// instead"), so that a person sees it on the element while drawing rather than at deploy.
// The server stays the judge (Validate asks it); these catch the common cases early, in
// the words of the server's refusal. A rule reads both dialects: Camunda 8's `zeebe:`
// extension elements and Camunda 7's `camunda:` attributes, whichever moddle is loaded.

/** A moddle element, as bpmnlint hands it to a rule. */
export interface ModdleNode {
  $type: string;
  $attrs?: Record<string, unknown>;
  $instanceOf?: (type: string) => boolean;
  get?: (name: string) => unknown;
  id?: string;
  [property: string]: unknown;
}

export interface Reporter {
  report(id: string, message: string, path?: (string | number)[]): void;
}

export interface Rule {
  check(node: ModdleNode, reporter: Reporter): void;
}

export type RuleFactory = () => Rule;

function is(node: ModdleNode | undefined | null, type: string): boolean {
  if (!node) return false;
  return typeof node.$instanceOf === "function" ? node.$instanceOf(type) : node.$type === type;
}

function isAny(node: ModdleNode | undefined | null, types: string[]): boolean {
  return types.some((type) => is(node, type));
}

/** A prefixed attribute (`camunda:topic`), whether its moddle is loaded (a property) or not (in $attrs). */
export function attribute(node: ModdleNode, name: string): string | undefined {
  let value: unknown;
  try {
    value = node.get?.(name);
  } catch {
    value = undefined;
  }
  if (value === undefined || value === null) value = node.$attrs?.[name];
  if (value === undefined || value === null) return undefined;
  return String(value);
}

/** The extension elements of `node` whose type is `prefix:Name` (any capitalisation, as unknown ones keep the XML's). */
export function extensions(node: ModdleNode, type: string): ModdleNode[] {
  const holder = node.extensionElements as { values?: ModdleNode[] } | undefined;
  const wanted = type.toLowerCase();
  return (holder?.values ?? []).filter((value) => value.$type.toLowerCase() === wanted);
}

function text(node: unknown): string {
  if (!node || typeof node !== "object") return "";
  const body = (node as { body?: unknown }).body;
  return typeof body === "string" ? body.trim() : "";
}

function id(node: ModdleNode): string {
  return node.id ?? "";
}

const CAMUNDA_INVOCATIONS = ["camunda:class", "camunda:delegateExpression", "camunda:expression"];
const CONDITION_LANGUAGES = ["feel", "juel", "legato", "xpath"];

/** A message throw or end event needs a task type (the handler that sends), and a task's must be one Legato can run. */
const taskType: RuleFactory = () => ({
  check(node, reporter) {
    const task = isAny(node, ["bpmn:ServiceTask", "bpmn:SendTask"]);
    const messageDefinition = isAny(node, ["bpmn:IntermediateThrowEvent", "bpmn:EndEvent"])
      ? ((node.eventDefinitions as ModdleNode[] | undefined) ?? []).find((d) => is(d, "bpmn:MessageEventDefinition"))
      : undefined;
    if (!task && !messageDefinition) return;
    const zeebe = extensions(node, "zeebe:TaskDefinition")[0];
    if (zeebe) {
      const type = attribute(zeebe, "type")?.trim() ?? "";
      if (type.startsWith("=")) {
        reporter.report(id(node), "the task type is computed at run time (=...): Legato needs a fixed task type");
      } else if (!type) {
        reporter.report(id(node), "no task type: set the job type (zeebe:taskDefinition type) of the handler that runs it");
      }
      return;
    }
    const holder = messageDefinition ?? node; // Camunda 7 puts a message event's topic on its definition
    if (extensions(holder, "camunda:Connector").length > 0) {
      reporter.report(id(node), "camunda:connector cannot run in Legato: make it an external task and call the service from a handler");
      return;
    }
    const camundaType = attribute(holder, "camunda:type");
    if (camundaType !== undefined && camundaType !== "external") {
      reporter.report(id(node), `camunda:type="${camundaType}" cannot run in Legato: make it an external task (camunda:topic)`);
      return;
    }
    if (camundaType === "external" && attribute(holder, "camunda:topic")?.trim()) return;
    if (CAMUNDA_INVOCATIONS.some((name) => attribute(holder, name)?.trim())) return;
    if (task) return; // a task without one is stored, as a process that cannot run: `implementation` says so
    reporter.report(id(node), "no task type: set the job type (Camunda 8) or the external task topic (Camunda 7) of the handler that sends the message");
  },
});

/**
 * A service or send task without any implementation is kept as an abstract task (as a process
 * repository draws it): the deploy stores the process, but it cannot run, and starting it is
 * refused. A warning, not an error: a deploy accepts it.
 */
const implementation: RuleFactory = () => ({
  check(node, reporter) {
    if (!isAny(node, ["bpmn:ServiceTask", "bpmn:SendTask"])) return;
    if (extensions(node, "zeebe:TaskDefinition").length > 0 || extensions(node, "camunda:Connector").length > 0) return;
    if (attribute(node, "camunda:type") !== undefined) return;
    if (CAMUNDA_INVOCATIONS.some((name) => attribute(node, name)?.trim())) return;
    reporter.report(id(node), "no task type: the process cannot run until the job type (Camunda 8) or external task topic (Camunda 7) of its handler is set");
  },
});

/** Scripts run in Legato's own dialect (or as one FEEL/JUEL expression), never as code. */
const scriptFormat: RuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, "bpmn:ScriptTask")) return;
    if (extensions(node, "zeebe:TaskDefinition").length > 0) {
      reporter.report(id(node), "a script task run by a job worker is a service task in Legato: make it a service task of that type");
      return;
    }
    if (extensions(node, "zeebe:Script").length > 0) return;
    if (attribute(node, "camunda:resource")) {
      reporter.report(id(node), "a script from a resource (camunda:resource) cannot run in Legato: write the script in the model");
      return;
    }
    const format = (attribute(node, "scriptFormat") ?? "").trim().toLowerCase();
    const body = typeof node.script === "string" ? node.script.trim() : "";
    if (format === "legato") return;
    if (format === "feel" || format === "juel") {
      if (!attribute(node, "camunda:resultVariable") || !body) {
        reporter.report(id(node), `a ${format} script needs camunda:resultVariable and an expression`);
      }
      return;
    }
    if (format || body) {
      reporter.report(id(node), `${format || "a script without scriptFormat"} cannot run in Legato: write name = expression lines with scriptFormat="legato", or move the code into a service task handler`);
      return;
    }
    reporter.report(id(node), 'a script task needs a script: zeebe:script (Camunda 8) or scriptFormat="legato" and its lines');
  },
});

/** Conditions are expressions (FEEL, JUEL, Legato's), not scripts in Groovy or JavaScript. */
const conditionLanguage: RuleFactory = () => ({
  check(node, reporter) {
    let condition: ModdleNode | undefined;
    if (is(node, "bpmn:SequenceFlow")) condition = node.conditionExpression as ModdleNode | undefined;
    const conditional = ((node.eventDefinitions as ModdleNode[] | undefined) ?? []).find((d) => is(d, "bpmn:ConditionalEventDefinition"));
    if (conditional) {
      condition = conditional.condition as ModdleNode | undefined;
      if (!text(condition)) {
        reporter.report(id(node), "a conditional event needs a condition");
        return;
      }
    }
    if (!condition) return;
    const language = (attribute(condition, "language") ?? "").toLowerCase();
    if (language && !CONDITION_LANGUAGES.some((known) => language.includes(known))) {
      reporter.report(id(node), `a condition in ${language} cannot run in Legato: write it as an expression (FEEL or JUEL)`);
    }
  },
});

/** What each event trigger needs to mean anything: a timer its one value, a message or signal its named reference. */
const eventTriggers: RuleFactory = () => ({
  check(node, reporter) {
    const catching = isAny(node, ["bpmn:StartEvent", "bpmn:IntermediateCatchEvent", "bpmn:BoundaryEvent"]);
    const definitions = (node.eventDefinitions as ModdleNode[] | undefined) ?? [];
    for (const definition of definitions) {
      if (is(definition, "bpmn:TimerEventDefinition")) {
        const given = ["timeDuration", "timeDate", "timeCycle"].filter((name) => text(definition[name]));
        if (given.length !== 1) {
          reporter.report(id(node), "a timer needs exactly one of timeDuration, timeDate or timeCycle, with a value");
        }
      }
      if (is(definition, "bpmn:MessageEventDefinition") && catching) messageRef(node, definition, reporter);
      if (is(definition, "bpmn:SignalEventDefinition")) {
        const signal = definition.signalRef as ModdleNode | undefined;
        if (!signal) reporter.report(id(node), "a signal event needs a signal: choose or create a global signal");
        else if (!attribute(signal, "name")?.trim()) reporter.report(id(node), `signal ${id(signal)} has no name, and signals are broadcast by name`);
      }
    }
    if (is(node, "bpmn:ReceiveTask")) {
      if (node.instantiate === true) reporter.report(id(node), "a receive task that starts the process is not supported: use a message start event");
      messageRef(node, node, reporter);
    }
  },
});

function messageRef(node: ModdleNode, holder: ModdleNode, reporter: Reporter): void {
  const message = holder.messageRef as ModdleNode | undefined;
  if (!message) reporter.report(id(node), "a message event needs a message: choose or create a global message");
  else if (!attribute(message, "name")?.trim()) reporter.report(id(node), `message ${id(message)} has no name, and messages are correlated by name`);
}

/** Loops that would never end, and multi-instances that do not say how many. */
const loops: RuleFactory = () => ({
  check(node, reporter) {
    const loop = node.loopCharacteristics as ModdleNode | undefined;
    if (!loop) return;
    if (is(loop, "bpmn:StandardLoopCharacteristics")) {
      if (!text(loop.loopCondition) && loop.loopMaximum === undefined) {
        reporter.report(id(node), "a loop needs a loop condition or a loop maximum");
      }
      return;
    }
    if (!is(loop, "bpmn:MultiInstanceLoopCharacteristics")) return;
    if (loop.complexBehaviorDefinition && (loop.complexBehaviorDefinition as unknown[]).length > 0) {
      reporter.report(id(node), "complexBehaviorDefinition is not supported: end the instances early with a completion condition");
    }
    const zeebe = extensions(loop, "zeebe:LoopCharacteristics")[0];
    const collection =
      (zeebe && attribute(zeebe, "inputCollection")?.trim()) ||
      attribute(loop, "camunda:collection")?.trim() ||
      loop.loopDataInputRef ||
      text(loop.loopCardinality);
    if (!collection) reporter.report(id(node), "a multi-instance needs a collection to run over, or a cardinality");
  },
});

/** Camunda 7 retry cycles: R<n>/<duration> only (no lists, no cron). */
const retryCycle: RuleFactory = () => ({
  check(node, reporter) {
    for (const cycle of extensions(node, "camunda:FailedJobRetryTimeCycle")) {
      const value = text(cycle);
      if (!/^R\d+\/P[0-9A-Z.]+$/i.test(value)) {
        reporter.report(id(node), `retry cycle ${value || "(empty)"} is not R<n>/<duration>: write it as R3/PT10M`);
      }
    }
  },
});

/** Gateways of a kind Legato does not run, beyond bpmnlint's own complex-gateway rule. */
const gateways: RuleFactory = () => ({
  check(node, reporter) {
    if (!is(node, "bpmn:EventBasedGateway")) return;
    if (node.instantiate === true) reporter.report(id(node), "an event-based gateway that starts the process is not supported: use several message start events");
    if (node.eventGatewayType === "Parallel") reporter.report(id(node), "a parallel event-based gateway is not supported: the first event wins in Legato");
  },
});

/** The rules reported as warnings: what a deploy accepts, though the process cannot run yet. */
export const LEGATO_WARNINGS = new Set(["implementation"]);

/** Our rules, by their name in the `legato` plug-in (`legato/task-type` in a config). */
export const LEGATO_RULES: Record<string, RuleFactory> = {
  "task-type": taskType,
  implementation,
  "script-format": scriptFormat,
  "condition-language": conditionLanguage,
  "event-triggers": eventTriggers,
  loops,
  "retry-cycle": retryCycle,
  gateways,
};
