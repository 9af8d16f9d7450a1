import { describe, expect, it } from "vitest";
import { attemptsText, isRunning } from "./WorkPanel";

describe("attemptsText", () => {
  it("counts a service job's attempts against its retry policy", () => {
    expect(attemptsText({ kind: "service", attempts: 1, max_attempts: 4 })).toBe("1 of 4 attempts");
    expect(attemptsText({ kind: "service", attempts: 1, max_attempts: null })).toBe("1 attempt");
    expect(attemptsText({ kind: "timer", attempts: 0, max_attempts: null })).toBe("—");
  });
});

describe("isRunning", () => {
  const now = new Date("2026-12-03T08:00:00Z");
  it("holds while a worker's lock has not run out", () => {
    expect(isRunning({ locked_by: "w1", lock_expires_at: "2026-12-03T08:00:30Z" }, now)).toBe(true);
    expect(isRunning({ locked_by: "w1", lock_expires_at: "2026-12-03T07:59:30Z" }, now)).toBe(false);
    expect(isRunning({ locked_by: null, lock_expires_at: null }, now)).toBe(false);
  });
});
