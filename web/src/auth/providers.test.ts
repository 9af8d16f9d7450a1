import { describe, expect, it } from "vitest";
import { providerHref, readOptions } from "./providers";

describe("readOptions", () => {
  it("keeps well-formed providers on this server only", () => {
    const options = readOptions({
      password: true,
      providers: [
        { id: "oidc", name: "Company login", login_url: "/api/v1/auth/oidc/login" },
        { id: "evil", name: "Elsewhere", login_url: "https://evil.example/login" },
        { id: 3 },
      ],
    });
    expect(options.providers.map((p) => p.id)).toEqual(["oidc"]);
  });
  it("never leaves the screen without a way in", () => {
    expect(readOptions({ password: false, providers: [] }).password).toBe(true);
    expect(readOptions(null)).toEqual({ password: true, providers: [] });
  });
});

describe("providerHref", () => {
  it("carries where to come back to", () => {
    expect(providerHref({ id: "oidc", name: "x", login_url: "/api/v1/auth/oidc/login" }, "/instances?status=active")).toBe(
      "/api/v1/auth/oidc/login?return_to=%2Finstances%3Fstatus%3Dactive",
    );
  });
});
