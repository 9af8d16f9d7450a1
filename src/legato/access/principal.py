"""The authenticated caller of a request, as every layer above `access` sees it.

A `Principal` is a value: the API puts one on `request.state.principal` once it has
authenticated the request, and route code passes `principal.name` on as the `actor` it
records in the history and the audit log. Permissions are strings `"<resource>:<action>"`
(`"instances:cancel"`); a resource-wide grant `"<resource>:*"` and the global `"*"` exist
for the built-in roles.
"""

from __future__ import annotations

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
    tenants: frozenset[str] = field(default_factory=frozenset)

    def may(self, permission: str) -> bool:
        """Whether this principal holds `permission` ("resource:action"), directly or by wildcard."""
        if "*" in self.permissions or permission in self.permissions:
            return True
        resource, _, _action = permission.partition(":")
        return f"{resource}:*" in self.permissions


ANONYMOUS_DEV = Principal(name="anonymous", kind="anonymous-dev", permissions=frozenset({"*"}))
"""The caller of a server run with `--insecure-no-auth` (loopback only): may do everything."""
