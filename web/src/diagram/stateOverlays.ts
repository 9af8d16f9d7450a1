// A bpmn-js module that draws the state of a process on its diagram: badges with the number
// of tokens waiting and incidents open on each element, markers for the elements where an
// instance waits and for the path it has taken. Written the way bpmn-io writes its own
// extensions (an injectable service registered under a name), so the modeler reuses it.
import type Canvas from "diagram-js/lib/core/Canvas";
import type ElementRegistry from "diagram-js/lib/core/ElementRegistry";
import type Overlays from "diagram-js/lib/features/overlays/Overlays";

export interface ElementCounts {
  tokens: number;
  incidents: number;
}

export interface DiagramState {
  counts?: Record<string, ElementCounts>;
  active?: string[];
  incidents?: string[];
  taken?: string[];
}

const OVERLAY_TYPE = "legato-state";
type Marker = "legato-active" | "legato-incident" | "legato-taken";

export class StateOverlays {
  static $inject = ["canvas", "elementRegistry", "overlays"];
  private marked: Array<[string, string]> = [];

  constructor(
    private readonly canvas: Canvas,
    private readonly elementRegistry: ElementRegistry,
    private readonly overlays: Overlays,
  ) {}

  /** Replace what is drawn with `state`; ids the diagram does not have are ignored. */
  show(state: DiagramState): void {
    this.clear();
    for (const [id, counts] of Object.entries(state.counts ?? {})) {
      if (!this.elementRegistry.get(id)) continue;
      if (counts.tokens > 0) this.badge(id, "legato-tokens", counts.tokens, "waiting", { bottom: 12, left: -8 });
      if (counts.incidents > 0) this.badge(id, "legato-incidents", counts.incidents, "incidents", { bottom: 12, right: 8 });
    }
    this.mark(this.withFlowsBetween(state.taken ?? []), "legato-taken");
    this.mark(state.active, "legato-active");
    this.mark(state.incidents, "legato-incident");
  }

  /** The taken elements and every sequence flow that joins two of them. */
  private withFlowsBetween(taken: string[]): string[] {
    const visited = new Set(taken);
    const flows = this.elementRegistry
      .filter((element) => element.type === "bpmn:SequenceFlow")
      .filter((flow) => {
        const connection = flow as unknown as { source?: { id: string }; target?: { id: string } };
        return !!connection.source && !!connection.target && visited.has(connection.source.id) && visited.has(connection.target.id);
      })
      .map((flow) => flow.id);
    return [...new Set([...taken, ...flows])];
  }

  clear(): void {
    this.overlays.remove({ type: OVERLAY_TYPE });
    for (const [id, marker] of this.marked) this.canvas.removeMarker(id, marker);
    this.marked = [];
  }

  private mark(ids: string[] | undefined, marker: Marker): void {
    for (const id of ids ?? []) {
      if (!this.elementRegistry.get(id)) continue;
      this.canvas.addMarker(id, marker);
      this.marked.push([id, marker]);
    }
  }

  private badge(id: string, className: string, count: number, noun: string, position: Record<string, number>): void {
    const html = document.createElement("span");
    html.className = `legato-badge ${className}`;
    html.textContent = String(count);
    html.title = `${count} ${noun} at ${id}`;
    html.dataset.element = id;
    html.dataset.kind = noun;
    this.overlays.add(id, OVERLAY_TYPE, { position, html });
  }
}

export const stateOverlaysModule = {
  __init__: ["stateOverlays"],
  stateOverlays: ["type", StateOverlays],
};
