import { describe, expect, it } from "vitest";
import { csrfToken } from "./client";

describe("csrfToken", () => {
  it("reads the legato_csrf cookie among others", () => {
    expect(csrfToken("a=1; legato_csrf=abc%3D%3D; b=2")).toBe("abc==");
  });
  it("is null without the cookie", () => {
    expect(csrfToken("legato_csrf_other=1")).toBeNull();
  });
});
