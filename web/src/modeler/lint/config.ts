// The lint configuration the modeler runs as a person draws: bpmnlint's recommended rules and
// Legato's own (rules.ts), resolved from a static table. This is what bpmnlint-pack-config
// and the bundler plug-ins generate from a .bpmnlintrc; written out, it needs no build step
// of its own, so Vite bundles it and Vitest runs it in Node as they are.
import StaticResolver from "bpmnlint/lib/resolver/static-resolver";
import recommended from "bpmnlint/config/recommended";
import adHocSubProcess from "bpmnlint/rules/ad-hoc-sub-process";
import conditionalEvent from "bpmnlint/rules/conditional-event";
import conditionalFlows from "bpmnlint/rules/conditional-flows";
import endEventRequired from "bpmnlint/rules/end-event-required";
import eventBasedGateway from "bpmnlint/rules/event-based-gateway";
import eventSubProcessTypedStartEvent from "bpmnlint/rules/event-sub-process-typed-start-event";
import fakeJoin from "bpmnlint/rules/fake-join";
import globalRule from "bpmnlint/rules/global";
import labelRequired from "bpmnlint/rules/label-required";
import linkEvent from "bpmnlint/rules/link-event";
import noBpmndi from "bpmnlint/rules/no-bpmndi";
import noComplexGateway from "bpmnlint/rules/no-complex-gateway";
import noDisconnected from "bpmnlint/rules/no-disconnected";
import noDuplicateSequenceFlows from "bpmnlint/rules/no-duplicate-sequence-flows";
import noGatewayJoinFork from "bpmnlint/rules/no-gateway-join-fork";
import noImplicitEnd from "bpmnlint/rules/no-implicit-end";
import noImplicitSplit from "bpmnlint/rules/no-implicit-split";
import noImplicitStart from "bpmnlint/rules/no-implicit-start";
import noInclusiveGateway from "bpmnlint/rules/no-inclusive-gateway";
import noOverlappingElements from "bpmnlint/rules/no-overlapping-elements";
import singleBlankStartEvent from "bpmnlint/rules/single-blank-start-event";
import singleEventDefinition from "bpmnlint/rules/single-event-definition";
import standardSize from "bpmnlint/rules/standard-size";
import startEventRequired from "bpmnlint/rules/start-event-required";
import subProcessBlankStartEvent from "bpmnlint/rules/sub-process-blank-start-event";
import superfluousGateway from "bpmnlint/rules/superfluous-gateway";
import superfluousLabel from "bpmnlint/rules/superfluous-label";
import superfluousTermination from "bpmnlint/rules/superfluous-termination";
import { LEGATO_RULES, LEGATO_WARNINGS, type RuleFactory } from "./rules";

const BPMNLINT_RULES: Record<string, unknown> = {
  "ad-hoc-sub-process": adHocSubProcess,
  "conditional-event": conditionalEvent,
  "conditional-flows": conditionalFlows,
  "end-event-required": endEventRequired,
  "event-based-gateway": eventBasedGateway,
  "event-sub-process-typed-start-event": eventSubProcessTypedStartEvent,
  "fake-join": fakeJoin,
  "global": globalRule,
  "label-required": labelRequired,
  "link-event": linkEvent,
  "no-bpmndi": noBpmndi,
  "no-complex-gateway": noComplexGateway,
  "no-disconnected": noDisconnected,
  "no-duplicate-sequence-flows": noDuplicateSequenceFlows,
  "no-gateway-join-fork": noGatewayJoinFork,
  "no-implicit-end": noImplicitEnd,
  "no-implicit-split": noImplicitSplit,
  "no-implicit-start": noImplicitStart,
  "no-inclusive-gateway": noInclusiveGateway,
  "no-overlapping-elements": noOverlappingElements,
  "single-blank-start-event": singleBlankStartEvent,
  "single-event-definition": singleEventDefinition,
  "standard-size": standardSize,
  "start-event-required": startEventRequired,
  "sub-process-blank-start-event": subProcessBlankStartEvent,
  "superfluous-gateway": superfluousGateway,
  "superfluous-label": superfluousLabel,
  "superfluous-termination": superfluousTermination,
};

export type RuleLevel = "off" | "warn" | "error" | "info";

/**
 * The rules and their levels: bpmnlint's recommended ones (inclusive gateways are fine:
 * Legato joins them as BPMN says), and every Legato rule as an error, since a deploy refuses
 * what it finds, but `legato/implementation` (a task without a type deploys, as a process
 * that cannot run yet) as a warning.
 */
export const LINT_RULES: Record<string, RuleLevel> = {
  ...(recommended.rules as Record<string, RuleLevel>),
  "no-inclusive-gateway": "off",
  ...Object.fromEntries(
    Object.keys(LEGATO_RULES).map((name) => [`legato/${name}`, LEGATO_WARNINGS.has(name) ? ("warn" as const) : ("error" as const)]),
  ),
};

const cache: Record<string, unknown> = {};
for (const [name, rule] of Object.entries(BPMNLINT_RULES)) cache[`rule:bpmnlint/${name}`] = rule;
for (const [name, rule] of Object.entries(LEGATO_RULES)) cache[`rule:bpmnlint-plugin-legato/${name}`] = rule as RuleFactory;

export interface LintConfig {
  config: { rules: Record<string, RuleLevel> };
  resolver: { resolveRule(pkg: string, name: string): unknown; resolveConfig(pkg: string, name: string): unknown };
}

/** What bpmn-js-bpmnlint's `linting.bpmnlint` option and bpmnlint's Linter take. */
export const lintConfig: LintConfig = {
  config: { rules: LINT_RULES },
  resolver: new StaticResolver(cache),
};
