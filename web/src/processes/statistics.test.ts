import { describe, expect, it } from "vitest";
import { countByElement } from "./statistics";

describe("countByElement", () => {
  it("counts tokens of active instances and the incidents of those instances only", () => {
    const stats = countByElement(
      [
        { id: "a", process: "p", status: "active", waiting_at: ["pay", "ship"] },
        { id: "b", process: "p", status: "active", waiting_at: ["pay"] },
        { id: "c", process: "p", status: "completed", waiting_at: [] },
      ],
      [
        { instance_id: "b", element: "pay" },
        { instance_id: "other-process", element: "pay" },
      ],
    );
    expect(stats.byElement).toEqual({ pay: { tokens: 2, incidents: 1 }, ship: { tokens: 1, incidents: 0 } });
    expect(stats.active).toBe(2);
    expect(stats.incidents).toBe(1);
  });
});
