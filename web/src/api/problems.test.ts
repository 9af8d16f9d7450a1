import { describe, expect, it } from "vitest";
import { ApiError, explain, problemFrom } from "./problems";

describe("problemFrom", () => {
  it("keeps the code, detail and extra members of a problem document", () => {
    const error = problemFrom(403, { code: "PERMISSION_DENIED", detail: "needs incidents:retry", permission: "incidents:retry" });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("PERMISSION_DENIED");
    expect(error.problem.permission).toBe("incidents:retry");
    expect(error.message).toBe("needs incidents:retry");
  });

  it("names the status when the body is not a problem document", () => {
    const error = problemFrom(502, "<html>bad gateway</html>");
    expect(error.code).toBe("HTTP_502");
    expect(error.detail).toContain("502");
  });
});

describe("explain", () => {
  it("says which permission a refused action needs", () => {
    expect(explain(problemFrom(403, { code: "PERMISSION_DENIED", detail: "x", permission: "variables:update" }))).toContain(
      "variables:update",
    );
  });
  it("tells a stale page from a refusal", () => {
    expect(explain(problemFrom(403, { code: "CSRF_FAILED", detail: "x" }))).toMatch(/reload/i);
    expect(explain(problemFrom(409, { code: "INCIDENT_NOT_OPEN", detail: "resolved already." }))).toMatch(/changed meanwhile/);
  });
  it("asks to log in again on 401", () => {
    expect(explain(problemFrom(401, { code: "AUTHENTICATION_REQUIRED", detail: "log in" }))).toMatch(/log in again/);
  });
});
