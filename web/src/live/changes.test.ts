import { describe, expect, it } from "vitest";
import { StaleSet, staleKeys, type Change } from "./changes";

function change(kind: string, instance = "i1", process: string | null = "order"): Change {
  return { id: 1, at: "2026-12-03T08:00:00Z", kind, instance_id: instance, process, element: null, ref: null, status: null };
}

describe("staleKeys", () => {
  it("refetches the instance, the lists and its process's diagram counts on every change", () => {
    expect(staleKeys(change("instance_advanced"))).toEqual([["instance", "i1"], ["instances"], ["statistics", "order"]]);
  });

  it("refetches the process list's counts when an instance starts or ends, incidents when one opens", () => {
    expect(staleKeys(change("instance_started"))).toContainEqual(["definitions"]);
    const incident = staleKeys(change("incident_created"));
    expect(incident).toContainEqual(["incidents"]);
    expect(incident).toContainEqual(["definitions"]);
    expect(staleKeys(change("task_opened"))).toContainEqual(["tasks"]);
  });
});

describe("StaleSet", () => {
  it("keeps each key once over a burst and forgets them when taken", () => {
    const stale = new StaleSet();
    for (let n = 0; n < 1000; n += 1) stale.add(change("instance_advanced", `i${n % 2}`));
    const keys = stale.take();
    expect(keys).toHaveLength(4);
    expect(keys).toContainEqual(["instance", "i0"]);
    expect(stale.size).toBe(0);
  });
});
