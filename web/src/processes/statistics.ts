// Counts of tokens and incidents per element, from GET /definitions/{key}/statistics.
import type { Schemas } from "../api/client";
import type { ElementCounts } from "../diagram/stateOverlays";

export interface ProcessStatistics {
  byElement: Record<string, ElementCounts>;
  active: number;
  incidents: number;
  completed: number;
}

/** The server's statistics as the diagram draws them: tokens waiting and incidents per element. */
export function fromStatistics(statistics: Schemas["DefinitionStatistics"]): ProcessStatistics {
  const byElement: Record<string, ElementCounts> = {};
  for (const element of statistics.elements) {
    if (element.active > 0 || element.incidents > 0) {
      byElement[element.element] = { tokens: element.active, incidents: element.incidents };
    }
  }
  return {
    byElement,
    active: statistics.instances.active,
    incidents: statistics.instances.incidents,
    completed: statistics.instances.completed,
  };
}
