// What a change of the server's feed (GET /api/v1/events) makes stale on screen.
// Pure, so it is tested without a server; useLiveUpdates applies it to the query cache.
import type { Schemas } from "../api/client";

export type Change = Schemas["ChangeEvent"];
export type QueryKey = readonly unknown[];

const COUNTED = new Set(["instance_started", "instance_ended", "incident_created", "incident_resolved"]);

/** The query-key prefixes to refetch after `change` (React Query matches by prefix). */
export function staleKeys(change: Change): QueryKey[] {
  const keys: QueryKey[] = [["instance", change.instance_id], ["instances"]];
  if (change.process) keys.push(["statistics", change.process]);
  if (COUNTED.has(change.kind)) keys.push(["definitions"]);
  if (change.kind === "incident_created" || change.kind === "incident_resolved") keys.push(["incidents"]);
  if (change.kind === "task_opened" || change.kind === "task_closed") keys.push(["tasks"]);
  return keys;
}

/** Keys collected over a burst of changes, each once: a thousand starts refetch a list once. */
export class StaleSet {
  private readonly keys = new Map<string, QueryKey>();

  add(change: Change): void {
    for (const key of staleKeys(change)) this.keys.set(JSON.stringify(key), key);
  }

  get size(): number {
    return this.keys.size;
  }

  /** The keys collected so far, forgetting them. */
  take(): QueryKey[] {
    const keys = [...this.keys.values()];
    this.keys.clear();
    return keys;
  }
}
