import { describe, expect, it } from "vitest";
import { may, type Me } from "./permissions";

function me(permissions: string[], scoped: Record<string, string[]> = {}): Me {
  return { username: "u", kind: "user", groups: [], permissions, scoped_permissions: scoped, tenants: [] };
}

describe("may", () => {
  it("follows wildcards like the server", () => {
    expect(may(me(["*"]), "incidents:retry")).toBe(true);
    expect(may(me(["incidents:*"]), "incidents:retry")).toBe(true);
    expect(may(me(["incidents:read"]), "incidents:retry")).toBe(false);
  });
  it("counts a grant narrowed to a process only for that process", () => {
    const scoped = me([], { "instances:start": ["order"] });
    expect(may(scoped, "instances:start", "order")).toBe(true);
    expect(may(scoped, "instances:start", "refund")).toBe(false);
    expect(may(scoped, "instances:start")).toBe(false);
  });
  it("refuses nobody-logged-in", () => {
    expect(may(null, "definitions:read")).toBe(false);
  });
});
