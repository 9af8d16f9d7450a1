// Editing variables: what a person typed, checked before anything is sent.

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/** `text` as one JSON value, or a sentence saying what is wrong with it and where. */
export function parseJsonValue(text: string): Parsed {
  if (!text.trim()) return { ok: false, error: "Enter a JSON value: a number, \"a string\" in quotes, true, null, [..] or {..}." };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `Not valid JSON: ${reason}. Strings need "double quotes".` };
  }
}

/** `text` as a JSON object of variables (the fix sent with a retry). */
export function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const parsed = parseJsonValue(text);
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: 'Enter a JSON object of variables, such as {"amount": 120}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Why `name` cannot be a new variable's name, or null when it can. */
export function nameProblem(name: string, existing: readonly string[]): string | null {
  if (!name.trim()) return "Enter a name.";
  if (name !== name.trim()) return "A name cannot start or end with a space.";
  if (name.length > 255) return "A name has at most 255 characters.";
  if (existing.includes(name)) return `There is a variable ${name} already: edit it instead.`;
  return null;
}

/** Whether the server masked `name` for this caller (a JSON Pointer in `masked`). */
export function isMasked(masked: readonly string[] | undefined, name: string): boolean {
  const pointer = "/" + name.replaceAll("~", "~0").replaceAll("/", "~1");
  return (masked ?? []).includes(pointer);
}

/** A value as the editor shows it: JSON, indented when it is an object or an array. */
export function asEditable(value: unknown): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}
