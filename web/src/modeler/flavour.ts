// Which Camunda dialect a BPMN file speaks, so that the modeler edits its execution details in
// the attributes that file already uses (docs/bpmn.md "Extensions"): Camunda 7 writes
// `camunda:` attributes (Activiti's namespace is read as the same), Camunda 8 `zeebe:`
// extension elements. Legato reads both; mixing them in one file would be read, but no
// Camunda tool would open it as its own, so the editor keeps one.

export type Flavour = "camunda7" | "camunda8";

export const DEFAULT_FLAVOUR: Flavour = "camunda8";

export const FLAVOUR_NAMES: Record<Flavour, string> = {
  camunda7: "Camunda 7 (camunda:)",
  camunda8: "Camunda 8 (zeebe:)",
};

export const NAMESPACES = {
  camunda: "http://camunda.org/schema/1.0/bpmn",
  activiti: "http://activiti.org/bpmn",
  zeebe: "http://camunda.org/schema/zeebe/1.0",
  modeler: "http://camunda.org/schema/modeler/1.0",
} as const;

/** The prefixes a document binds to `namespace` (`xmlns:p="..."`), in the order declared. */
export function prefixesOf(xml: string, namespace: string): string[] {
  const found: string[] = [];
  const declaration = /xmlns:([A-Za-z_][\w.-]*)\s*=\s*(["'])(.*?)\2/g;
  for (const match of xml.matchAll(declaration)) {
    if (match[3] === namespace && match[1]) found.push(match[1]);
  }
  return found;
}

/** How often the document uses one of `prefixes` on an element or an attribute. */
function uses(xml: string, prefixes: string[]): number {
  let count = 0;
  for (const prefix of prefixes) {
    const escaped = prefix.replace(/[.-]/g, "\\$&");
    count += xml.match(new RegExp(`(?:<|\\s)${escaped}:[A-Za-z]`, "g"))?.length ?? 0;
  }
  return count;
}

/**
 * The flavour of `xml`, or null when nothing in it says (a bpmn.io or hand-written file).
 *
 * What the file uses decides, not what it merely declares (Camunda Modeler 5 declares both
 * `camunda:` and `modeler:` in a Camunda 8 file); without any use, the declared namespace, then
 * Camunda Modeler's `modeler:executionPlatform`, decide.
 */
export function detectFlavour(xml: string): Flavour | null {
  const zeebe = prefixesOf(xml, NAMESPACES.zeebe);
  const camunda = [...prefixesOf(xml, NAMESPACES.camunda), ...prefixesOf(xml, NAMESPACES.activiti)];
  const zeebeUses = uses(xml, zeebe);
  const camundaUses = uses(xml, camunda);
  if (zeebeUses > camundaUses) return "camunda8";
  if (camundaUses > zeebeUses) return "camunda7";
  const platform = /executionPlatform\s*=\s*["']([^"']*)["']/.exec(xml)?.[1]?.toLowerCase() ?? "";
  if (platform.includes("cloud") || platform.includes("8")) return "camunda8";
  if (platform.includes("platform") || platform.includes("7")) return "camunda7";
  if (zeebe.length > 0 && camunda.length === 0) return "camunda8";
  if (camunda.length > 0 && zeebe.length === 0) return "camunda7";
  return null;
}
