// Counts of instances per process and of tokens and incidents per element.
//
// Computed here from the instance and incident lists the API has today (up to one page of
// each: `capped` says when there were more); the per-element statistics endpoint replaces
// this function's body without changing its callers.
import type { Schemas } from "../api/client";
import type { ElementCounts } from "../diagram/stateOverlays";

type Instance = Pick<Schemas["InstanceSummary"], "id" | "process" | "status" | "waiting_at">;
type Incident = Pick<Schemas["Incident"], "instance_id" | "element">;

export interface ProcessStatistics {
  byElement: Record<string, ElementCounts>;
  active: number;
  incidents: number;
  capped: boolean;
}

export function countByElement(instances: Instance[], incidents: Incident[], capped = false): ProcessStatistics {
  const byElement: Record<string, ElementCounts> = {};
  const slot = (id: string) => (byElement[id] ??= { tokens: 0, incidents: 0 });
  const ids = new Set<string>();
  for (const instance of instances) {
    if (instance.status !== "active") continue;
    ids.add(instance.id);
    for (const element of instance.waiting_at) slot(element).tokens += 1;
  }
  let open = 0;
  for (const incident of incidents) {
    if (!ids.has(incident.instance_id)) continue;
    slot(incident.element).incidents += 1;
    open += 1;
  }
  return { byElement, active: ids.size, incidents: open, capped };
}
