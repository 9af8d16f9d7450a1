// The bpmn-js Modeler as a React component, with the properties panel of the file's flavour
// (Camunda 8's zeebe: or Camunda 7's camunda: attributes, the ones Legato reads) and lint as
// one draws. A flavour is a different moddle and different panels, so the parent remounts
// the editor (a `key`) to change it. The server's validation problems come in as `problems`
// and are drawn on their elements: a red outline and a badge that names the problem.
import { useEffect, useImperativeHandle, useRef, useState, type Ref } from "react";
import Modeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
  ZeebePropertiesProviderModule,
} from "bpmn-js-properties-panel";
import ZeebeBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-cloud";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import zeebeModdle from "zeebe-bpmn-moddle/resources/zeebe.json";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import lintModule from "bpmn-js-bpmnlint";
import { debounce } from "min-dash";
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";
import type { Flavour } from "./flavour";
import { legatoPanelModule } from "./legatoPanel";
import { lintConfig } from "./lint/config";
import { headline, type ProblemPlacement } from "./problems";

export interface LintIssue {
  element: string;
  message: string;
  category: string;
  rule: string;
}

/** What the page does with the drawing: save it, know what is drawn, show an element. */
export interface EditorHandle {
  saveXML(): Promise<string>;
  drawnIds(): Set<string>;
  select(elementId: string): void;
}

interface Props {
  xml: string;
  flavour: Flavour;
  problems: ProblemPlacement | null;
  onChange: () => void;
  onLint: (issues: LintIssue[]) => void;
  onImportError: (message: string) => void;
  handle: Ref<EditorHandle>;
}

interface Service {
  get<T = unknown>(name: string): T;
}

interface RegistryElement {
  id: string;
  type: string;
  parent?: unknown;
  labelTarget?: unknown;
}

const FLAVOURS: Record<Flavour, { modules: unknown[]; moddle: Record<string, unknown> }> = {
  camunda8: { modules: [ZeebePropertiesProviderModule, ZeebeBehaviorsModule], moddle: { zeebe: zeebeModdle } },
  camunda7: { modules: [CamundaPlatformPropertiesProviderModule, CamundaBehaviorsModule], moddle: { camunda: camundaModdle } },
};

type Debounced = ((...args: unknown[]) => void) & { flush(): void };
type DebounceInput = ((fn: (...args: unknown[]) => void) => Debounced) & { flushAll(): void };

/**
 * The properties panel's `debounceInput` (it waits 300 ms after the last keystroke before
 * changing the diagram), able to apply every pending edit at once: Validate, Deploy and
 * Download call it first, so that what was typed just before the click is in the file.
 */
function flushableDebounceInput(): DebounceInput {
  const made = new Set<Debounced>();
  const make = ((fn: (...args: unknown[]) => void) => {
    const debounced = debounce(fn, 300) as Debounced;
    made.add(debounced);
    return debounced;
  }) as DebounceInput;
  make.flushAll = () => made.forEach((debounced) => debounced.flush());
  return make;
}

const flushableInputModule = { debounceInput: ["factory", flushableDebounceInput] };

const INVALID = "legato-invalid";
const CANNOT_RUN = "legato-cannot-run";

export function BpmnEditor({ xml, flavour, problems, onChange, onLint, onImportError, handle }: Props) {
  const canvasRef = useRef<HTMLDivElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const modelerRef = useRef<Modeler | null>(null);
  const [imported, setImported] = useState(0);
  const callbacks = useRef({ onChange, onLint, onImportError });
  useEffect(() => {
    callbacks.current = { onChange, onLint, onImportError };
  }, [onChange, onLint, onImportError]);

  useEffect(() => {
    if (!canvasRef.current || !panelRef.current) return;
    const chosen = FLAVOURS[flavour];
    const modeler = new Modeler({
      container: canvasRef.current,
      propertiesPanel: { parent: panelRef.current },
      additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ...chosen.modules, legatoPanelModule, lintModule, flushableInputModule],
      moddleExtensions: chosen.moddle,
      linting: { bpmnlint: lintConfig, active: true },
    } as ConstructorParameters<typeof Modeler>[0]);
    modelerRef.current = modeler;
    // for scripts and browser tests driving the modeler's own API (bpmn-js's documented way to draw)
    Object.assign(canvasRef.current, { bpmnModeler: modeler });
    modeler.on("commandStack.changed", () => callbacks.current.onChange());
    modeler.on("linting.completed", (event: { issues: Record<string, { id: string; message: string; category: string; rule: string }[]> }) => {
      const issues = Object.values(event.issues).flat().map((issue) => ({
        element: issue.id,
        message: issue.message,
        category: issue.category,
        rule: issue.rule,
      }));
      callbacks.current.onLint(issues);
    });
    return () => {
      modeler.destroy();
      modelerRef.current = null;
    };
  }, [flavour]);

  useEffect(() => {
    const modeler = modelerRef.current;
    if (!modeler) return;
    let cancelled = false;
    modeler
      .importXML(xml)
      .then(() => {
        if (cancelled) return;
        (modeler.get("canvas") as { zoom: (level: string, center?: string) => void }).zoom("fit-viewport", "auto");
        setImported((n) => n + 1);
      })
      .catch((error: unknown) => !cancelled && callbacks.current.onImportError(String(error instanceof Error ? error.message : error)));
    return () => {
      cancelled = true;
    };
  }, [xml, flavour]);

  useImperativeHandle(handle, () => ({
    async saveXML() {
      const modeler = modelerRef.current;
      if (!modeler) throw new Error("the modeler is not ready");
      (modeler.get("debounceInput") as DebounceInput).flushAll();
      const { xml: saved } = await modeler.saveXML({ format: true });
      if (!saved) throw new Error("the modeler gave no XML");
      return saved;
    },
    drawnIds() {
      const modeler = modelerRef.current as unknown as Service | null;
      if (!modeler) return new Set<string>();
      const registry = modeler.get<{ getAll(): RegistryElement[] }>("elementRegistry");
      return new Set(registry.getAll().filter((e) => e.parent && !e.labelTarget).map((e) => e.id));
    },
    select(elementId: string) {
      const modeler = modelerRef.current as unknown as Service | null;
      if (!modeler) return;
      const element = modeler.get<{ get(id: string): unknown }>("elementRegistry").get(elementId);
      if (!element) return;
      modeler.get<{ select(e: unknown): void }>("selection").select(element);
      modeler.get<{ scrollToElement(e: unknown): void }>("canvas").scrollToElement(element);
    },
  }));

  useEffect(() => {
    const modeler = modelerRef.current as unknown as Service | null;
    if (!modeler || imported === 0) return;
    const overlays = modeler.get<{ remove(filter: { type: string }): void; add(id: string, type: string, overlay: unknown): void }>("overlays");
    const canvas = modeler.get<{ addMarker(id: string, marker: string): void; removeMarker(id: string, marker: string): void }>("canvas");
    const registry = modeler.get<{ getAll(): RegistryElement[]; get(id: string): unknown }>("elementRegistry");
    overlays.remove({ type: "legato-problem" });
    for (const element of registry.getAll()) {
      canvas.removeMarker(element.id, INVALID);
      canvas.removeMarker(element.id, CANNOT_RUN);
    }
    if (!problems) return;
    for (const [elementId, found] of problems.byElement) {
      if (!registry.get(elementId)) continue;
      const refused = found.some((p) => p.severity === "error");
      canvas.addMarker(elementId, refused ? INVALID : CANNOT_RUN);
      const badge = document.createElement("div");
      badge.className = refused ? "legato-problem" : "legato-problem legato-problem-warning";
      badge.dataset.element = elementId;
      badge.setAttribute("role", "note");
      badge.title = found.map((p) => p.message).join("\n");
      const first = headline(found[0]!.message);
      badge.textContent = found.length === 1 ? first : `${found.length} problems: ${first}`;
      overlays.add(elementId, "legato-problem", { position: { bottom: -6, left: 0 }, html: badge });
    }
  }, [problems, imported]);

  return (
    <div className="modeler">
      <div ref={canvasRef} className="modeler-canvas" data-testid="modeler" data-imported={imported > 0 ? "yes" : "no"}
        role="application" aria-label="BPMN diagram editor" />
      <aside ref={panelRef} className="modeler-panel" aria-label="Properties of the selected element" />
    </div>
  );
}
