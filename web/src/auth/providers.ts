// The ways to log in (GET /auth/providers): the password form and single sign-on buttons.
// A server without single sign-on has no such route (404): then it is the password form alone.
import { useQuery } from "@tanstack/react-query";
import { API_PREFIX } from "../api/client";
import { ApiError, problemFrom } from "../api/problems";

export interface LoginProvider {
  id: string;
  name: string;
  login_url: string;
}

export interface LoginOptions {
  password: boolean;
  providers: LoginProvider[];
}

const PASSWORD_ONLY: LoginOptions = { password: true, providers: [] };

/** The answer checked member by member: the login screen must not break on a surprise. */
export function readOptions(body: unknown): LoginOptions {
  if (typeof body !== "object" || body === null) return PASSWORD_ONLY;
  const { password, providers } = body as { password?: unknown; providers?: unknown };
  const valid = (Array.isArray(providers) ? providers : []).filter(
    (p): p is LoginProvider =>
      typeof p === "object" && p !== null && typeof p.id === "string" && typeof p.name === "string" &&
      typeof p.login_url === "string" && p.login_url.startsWith("/"),
  );
  return { password: password !== false || valid.length === 0, providers: valid };
}

/** Where a provider's button goes, bringing the person back to `next` afterwards. */
export function providerHref(provider: LoginProvider, next: string): string {
  const separator = provider.login_url.includes("?") ? "&" : "?";
  return `${provider.login_url}${separator}return_to=${encodeURIComponent(next)}`;
}

export function useLoginOptions() {
  return useQuery({
    queryKey: ["auth", "providers"],
    queryFn: async () => {
      const response = await fetch(`${API_PREFIX}/auth/providers`, { credentials: "same-origin" });
      if (response.status === 404) return PASSWORD_ONLY;
      if (!response.ok) throw problemFrom(response.status, await response.json().catch(() => null));
      return readOptions(await response.json());
    },
    staleTime: Infinity,
    retry: (count, error) => count < 1 && !(error instanceof ApiError),
  });
}
