"""One router per resource; `ROUTERS` is what the app factory mounts under /api/v1."""

from legato.api.routes import (
    audit,
    auth,
    decisions,
    definitions,
    events,
    external_tasks,
    identity,
    incidents,
    instances,
    messages,
    oidc,
    repair,
    system,
    task_files,
    task_filters,
    tasks,
    tenants,
    workers,
)

ROUTERS = [
    auth.router,
    oidc.router,
    identity.router,
    tenants.router,
    definitions.router,
    decisions.router,
    repair.router,
    instances.router,
    messages.router,
    tasks.router,
    task_files.router,
    task_filters.router,
    external_tasks.router,
    incidents.router,
    events.router,
    workers.router,
    system.router,
    audit.router,
]

__all__ = ["ROUTERS"]
