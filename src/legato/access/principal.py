"""The authenticated caller of a request, as every layer above `access` sees it.

A `Principal` is a value: the API puts one on `request.state.principal` once it has
authenticated the request, and route code passes `principal.name` on as the `actor` it
records in the history and the audit log. Permissions are strings `"<resource>:<action>"`
(`"instances:cancel"`); a resource-wide grant `"<resource>:*"` and the global `"*"` exist
for the built-in roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["user", "token", "anonymous-dev"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """Who is calling: a person (session), a program (token), or nobody in dev mode."""

    name: str
    kind: PrincipalKind
    permissions: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    tenants: frozenset[str] | None = None
    """The tenants whose work it may see and touch: None for all of them (administrators,
    installations without tenants); the shared tenant is everyone's (access/tenancy.py)."""
    scoped: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Permissions granted for some processes only: permission -> process keys."""
    task_types: frozenset[str] | None = None
    """A worker token's task types; None for every other principal."""

    def may(self, permission: str, process: str | None = None) -> bool:
        """Whether this principal holds `permission` ("resource:action"), directly or by wildcard.

        With `process`, a grant narrowed to that process key counts too; without it, only
        grants for every process do (a list across processes needs the wide grant).
        """
        if implies(self.permissions, permission):
            return True
        if process is None:
            return False
        resource, _, _action = permission.partition(":")
        return any(process in self.scoped.get(candidate, ()) for candidate in ("*", f"{resource}:*", permission))

    def may_work_on(self, task_type: str) -> bool:
        """Whether it may fetch and complete jobs of `task_type` (worker tokens are scoped to theirs)."""
        if not self.may("jobs:work"):
            return False
        return self.task_types is None or task_type in self.task_types


def implies(held: frozenset[str], permission: str) -> bool:
    """Whether a set of grants holds `permission`, directly or through a wildcard."""
    if "*" in held or permission in held:
        return True
    resource, _, _action = permission.partition(":")
    return f"{resource}:*" in held


ANONYMOUS_DEV = Principal(name="anonymous", kind="anonymous-dev", permissions=frozenset({"*"}))
"""The caller of a server run with `--insecure-no-auth` (loopback only): may do everything."""
