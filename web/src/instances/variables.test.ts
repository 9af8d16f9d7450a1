import { describe, expect, it } from "vitest";
import { asEditable, isMasked, nameProblem, parseJsonObject, parseJsonValue } from "./variables";

describe("parseJsonValue", () => {
  it("accepts any JSON value", () => {
    expect(parseJsonValue("120")).toEqual({ ok: true, value: 120 });
    expect(parseJsonValue('"valid"')).toEqual({ ok: true, value: "valid" });
    expect(parseJsonValue("null")).toEqual({ ok: true, value: null });
  });
  it("says what is wrong with text that is not JSON", () => {
    const bare = parseJsonValue("valid");
    expect(bare.ok).toBe(false);
    expect(!bare.ok && bare.error).toMatch(/Not valid JSON.*double quotes/);
    expect(parseJsonValue("  ").ok).toBe(false);
    expect(parseJsonValue('{"a": 1,}').ok).toBe(false);
  });
});

describe("parseJsonObject", () => {
  it("wants an object", () => {
    expect(parseJsonObject('{"card": "valid"}')).toEqual({ ok: true, value: { card: "valid" } });
    const list = parseJsonObject("[1]");
    expect(!list.ok && list.error).toMatch(/JSON object/);
  });
});

describe("nameProblem", () => {
  it("refuses empty, padded, duplicate names", () => {
    expect(nameProblem("", [])).toMatch(/Enter/);
    expect(nameProblem(" a", [])).toMatch(/space/);
    expect(nameProblem("a", ["a"])).toMatch(/already/);
    expect(nameProblem("b", ["a"])).toBeNull();
  });
});

describe("isMasked", () => {
  it("matches the JSON Pointer of the name, escaped", () => {
    expect(isMasked(["/iban"], "iban")).toBe(true);
    expect(isMasked(["/a~1b"], "a/b")).toBe(true);
    expect(isMasked(["/iban"], "amount")).toBe(false);
    expect(isMasked(undefined, "iban")).toBe(false);
  });
});

describe("asEditable", () => {
  it("indents structures and quotes strings", () => {
    expect(asEditable("x")).toBe('"x"');
    expect(asEditable({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
