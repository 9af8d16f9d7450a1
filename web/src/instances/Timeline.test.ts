import { describe, expect, it } from "vitest";
import { changedVariables, describeEvent, removedVariables } from "./Timeline";

const at = "2026-01-01T00:00:00Z";

describe("the timeline's words", () => {
  it("names the step and the element", () => {
    expect(describeEvent({ seq: 1, at, type: "element_completed", element: "charge", actor: null, data: null })).toBe("Completed charge");
    expect(describeEvent({ seq: 1, at, type: "variables_changed", element: null, actor: "olga", data: {} })).toBe("Variables changed");
    expect(describeEvent({ seq: 1, at, type: "job_locked", element: "x", actor: null, data: null })).toBe("job locked x");
  });
  it("shows what a step changed and removed", () => {
    const event = { seq: 2, at, type: "variables_changed", element: null, actor: "olga", data: { variables: { card: "valid" }, removed: ["old"] } };
    expect(changedVariables(event)).toEqual({ card: "valid" });
    expect(removedVariables(event)).toEqual(["old"]);
    expect(changedVariables({ ...event, data: { variables: {} } })).toBeNull();
  });
});
