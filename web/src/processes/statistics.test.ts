import { describe, expect, it } from "vitest";
import { fromStatistics } from "./statistics";

describe("fromStatistics", () => {
  it("keeps the elements where tokens wait or incidents are open", () => {
    const stats = fromStatistics({
      key: "p",
      version: 1,
      definition_id: 1,
      instances: { active: 3, completed: 5, cancelled: 0, terminated: 0, incidents: 1 },
      elements: [
        { element: "pay", active: 2, incidents: 1, completed: 4 },
        { element: "start", active: 0, incidents: 0, completed: 8 },
      ],
    });
    expect(stats.byElement).toEqual({ pay: { tokens: 2, incidents: 1 } });
    expect(stats.active).toBe(3);
    expect(stats.incidents).toBe(1);
    expect(stats.completed).toBe(5);
  });
});
