"""Permissions and the built-in roles: a small table of our own, not a policy engine.

Why not Casbin: our policy is "a role is a set of permission strings, granted to a user or
a group, optionally narrowed to process keys". That is a set union and a membership test,
about forty lines that tests cover exhaustively; a policy engine would add a model file
language, an adapter to our database and a second place where permissions live, without
deciding anything this cannot.

A permission is `"<resource>:<action>"`. `"<resource>:*"` grants every action on one
resource and `"*"` everything (the admin role).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from legato.access.principal import implies
from legato.errors import InvalidInput

RESOURCES: Mapping[str, tuple[str, ...]] = {
    "definitions": ("read", "deploy"),
    "instances": ("read", "start", "cancel", "update", "message", "signal", "modify", "migrate"),
    "variables": ("read", "update", "read-sensitive"),
    "tasks": ("read", "complete", "claim", "assign", "comment"),
    "incidents": ("read", "retry", "read-stack"),
    "decisions": ("read", "deploy", "evaluate"),
    "jobs": ("read", "work"),
    "users": ("read", "admin"),
    "tokens": ("create",),
    "audit": ("read",),
    "settings": ("read", "admin"),
    "metrics": ("read",),  # GET /metrics, every tenant's numbers: docs/metrics.md
}

ALL_PERMISSIONS = frozenset(f"{resource}:{action}" for resource, actions in RESOURCES.items() for action in actions)

_READ = frozenset(
    {
        "definitions:read",
        "instances:read",
        "variables:read",
        "tasks:read",
        "incidents:read",
        "decisions:read",
        "jobs:read",
    }
)

BUILTIN_ROLES: Mapping[str, frozenset[str]] = {
    "admin": frozenset({"*"}),
    "operator": _READ
    | {
        "instances:*",
        "variables:*",
        "tasks:*",
        "incidents:*",
        "jobs:work",  # stands in for a worker: fetches and reports on external tasks
        "decisions:evaluate",
        "tokens:create",
        "users:read",
        "audit:read",
        "metrics:read",
    },
    "modeler": _READ
    | {"definitions:deploy", "decisions:deploy", "decisions:evaluate", "instances:start", "tokens:create"},
    "task-worker": frozenset(
        {
            "tasks:read",
            "tasks:complete",
            "tasks:claim",
            "tasks:comment",
            "definitions:read",
            "instances:read",
            "variables:read",
            "tokens:create",
        }
    ),
    "viewer": _READ | {"tokens:create", "metrics:read"},
}

ROLE_DESCRIPTIONS: Mapping[str, str] = {
    "admin": "everything, including users, roles, tokens and settings",
    "operator": "runs the operation: instances, variables, tasks, incidents; reads the audit log",
    "modeler": "deploys processes and decisions, starts instances to try them",
    "task-worker": "sees and completes user tasks",
    "viewer": "reads everything except sensitive variables, stack traces, users and the audit log",
}


def check_permissions(permissions: Iterable[str]) -> frozenset[str]:
    """The permissions, each checked against the catalogue: a typo must not grant nothing silently."""
    checked = set()
    for permission in permissions:
        resource, _, action = permission.partition(":")
        valid = (
            permission == "*"
            or (resource in RESOURCES and action == "*")
            or (resource in RESOURCES and action in RESOURCES[resource])
        )
        if not valid:
            raise InvalidInput(
                f"unknown permission {permission!r}: use resource:action with a resource of "
                f"{', '.join(RESOURCES)} (or resource:*, or *)",
                details={"permission": permission},
            )
        checked.add(permission)
    return frozenset(checked)


def narrow(wanted: frozenset[str], held: frozenset[str]) -> frozenset[str]:
    """The part of `wanted` that `held` covers: a token never holds more than its owner."""
    if "*" in held:
        return wanted
    result = set()
    for permission in wanted:
        if permission == "*":
            result |= {p for p in held}
        elif permission.endswith(":*"):
            resource = permission[:-2]
            if f"{resource}:*" in held:
                result.add(permission)
            else:
                result |= {p for p in held if p.startswith(resource + ":")}
        elif implies(held, permission):
            result.add(permission)
    return frozenset(result)
