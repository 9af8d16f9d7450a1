// The permission check of legato.access.Principal.may, for hiding what the API would refuse.
// The API decides; this only keeps a person from being offered a button that cannot work.
import type { Schemas } from "../api/client";

export type Me = Schemas["Me"];

function implies(held: readonly string[], permission: string): boolean {
  if (held.includes("*") || held.includes(permission)) return true;
  const [resource] = permission.split(":");
  return held.includes(`${resource}:*`);
}

/** Whether `me` holds `permission`, for every process or (with `process`) for that one. */
export function may(me: Me | null | undefined, permission: string, process?: string | null): boolean {
  if (!me) return false;
  if (implies(me.permissions, permission)) return true;
  if (!process) return false;
  const [resource] = permission.split(":");
  return ["*", `${resource}:*`, permission].some((candidate) => (me.scoped_permissions[candidate] ?? []).includes(process));
}
