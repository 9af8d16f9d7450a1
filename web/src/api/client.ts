// The one HTTP client of the app: typed by the generated OpenAPI schema, session cookie +
// CSRF header on every change, every error turned into an ApiError carrying the problem
// document's code and detail. Screens never call fetch themselves (STYLE.md 13).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError, problemFrom } from "./problems";

export type Schemas = components["schemas"];

export const API_PREFIX = "/api/v1";
export const CSRF_COOKIE = "legato_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

/** The CSRF token the server set at login, from its readable cookie. */
export function csrfToken(cookies: string = document.cookie): string | null {
  for (const part of cookies.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return null;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

const csrf: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method)) {
      const token = csrfToken();
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
};

export const client = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
client.use(csrf);

/** The data of an openapi-fetch result, or an ApiError from its problem document. */
export async function unwrap<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (cause) {
    throw new ApiError({ status: 0, code: "NETWORK", detail: `the server did not answer (${String(cause)})` });
  }
  if (!result.response.ok) throw problemFrom(result.response.status, result.error);
  return result.data as T;
}

/** A raw text GET (the BPMN export), with the same error handling. */
export async function getText(path: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin" });
  } catch (cause) {
    throw new ApiError({ status: 0, code: "NETWORK", detail: `the server did not answer (${String(cause)})` });
  }
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw problemFrom(response.status, body);
  }
  return response.text();
}

/** A model file as a multipart upload (field `file`; its name's suffix tells the format). */
function modelForm(body: { file: string }, filename: string): FormData {
  const form = new FormData();
  form.append("file", new Blob([body.file], { type: "application/xml" }), filename);
  return form;
}

/** POST /definitions/validate: every problem a deploy of this file would refuse, nothing stored. */
export function validateModel(filename: string, text: string) {
  return unwrap(
    client.POST("/api/v1/definitions/validate", {
      body: { file: text },
      bodySerializer: (body) => modelForm(body as { file: string }, filename),
    }),
  );
}

/** POST /definitions: deploy the file as the process's next version (or answer the latest, unchanged). */
export function deployModel(filename: string, text: string) {
  return unwrap(
    client.POST("/api/v1/definitions", {
      body: { file: text },
      bodySerializer: (body) => modelForm(body as { file: string }, filename),
    }),
  );
}
