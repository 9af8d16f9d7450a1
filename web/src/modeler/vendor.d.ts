// Types for the bpmn.io packages that ship JavaScript only: just what the modeler uses.

declare module "bpmnlint/lib/resolver/static-resolver" {
  export default class StaticResolver {
    constructor(cache: Record<string, unknown>);
    resolveRule(pkg: string, name: string): unknown;
    resolveConfig(pkg: string, name: string): unknown;
  }
}

declare module "bpmnlint/config/recommended" {
  const config: { rules: Record<string, string> };
  export default config;
}

declare module "bpmnlint/rules/*" {
  const rule: (options?: unknown) => { check: unknown };
  export default rule;
}

declare module "bpmnlint" {
  export class Linter {
    constructor(options: { config?: unknown; resolver: unknown });
    lint(root: unknown, config?: unknown): Promise<Record<string, { id: string; message: string; category: string }[]>>;
  }
}

declare module "bpmn-js-bpmnlint" {
  const module: unknown;
  export default module;
}

declare module "bpmn-js-properties-panel" {
  export const BpmnPropertiesPanelModule: unknown;
  export const BpmnPropertiesProviderModule: unknown;
  export const ZeebePropertiesProviderModule: unknown;
  export const CamundaPlatformPropertiesProviderModule: unknown;
  export function useService<T = any>(name: string, strict?: boolean): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

declare module "camunda-bpmn-js-behaviors/lib/camunda-cloud" {
  const module: unknown;
  export default module;
}

declare module "camunda-bpmn-js-behaviors/lib/camunda-platform" {
  const module: unknown;
  export default module;
}

declare module "zeebe-bpmn-moddle/resources/zeebe.json" {
  const descriptor: Record<string, unknown>;
  export default descriptor;
}

declare module "camunda-bpmn-moddle/resources/camunda.json" {
  const descriptor: Record<string, unknown>;
  export default descriptor;
}

declare module "bpmn-moddle" {
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>);
    fromXML(xml: string): Promise<{ rootElement: unknown; warnings: unknown[] }>;
  }
}

declare module "@bpmn-io/properties-panel/preact" {
  export function h(component: unknown, props: Record<string, unknown>, ...children: unknown[]): unknown;
}

declare module "@bpmn-io/properties-panel" {
  export const NumberFieldEntry: unknown;
  export const isNumberFieldEntryEdited: unknown;
}
