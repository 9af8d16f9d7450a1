import { describe, expect, it } from "vitest";
import { filterFrom, takenPath, totalText } from "./queries";

describe("filterFrom", () => {
  it("reads known statuses and ignores unknown ones", () => {
    expect(filterFrom(new URLSearchParams("process=p&status=active&version=2"))).toEqual({
      process: "p", status: "active", business_key: undefined, version: 2, element: undefined,
    });
    expect(filterFrom(new URLSearchParams("status=bogus")).status).toBeUndefined();
  });
});

describe("takenPath", () => {
  it("collects visited elements and chosen flows", () => {
    const at = "2026-01-01T00:00:00Z";
    const path = takenPath([
      { seq: 1, at, type: "instance_started", element: null, actor: "api", data: {} },
      { seq: 2, at, type: "element_passed", element: "start", actor: null, data: null },
      { seq: 3, at, type: "element_passed", element: "gw", actor: null, data: { flow: "gw_to_b" } },
      { seq: 4, at, type: "element_entered", element: "b", actor: null, data: null },
    ]);
    expect(path.sort()).toEqual(["b", "gw", "gw_to_b", "start"]);
  });
});

describe("totalText", () => {
  it("marks a total the server did not finish counting", () => {
    expect(totalText(1234, true)).toBe("1,234");
    expect(totalText(10000, false)).toBe("10,000+");
  });
});
