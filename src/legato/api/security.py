"""Authentication and permissions at the door: one table, one dependency, every route.

`ROUTE_PERMISSIONS` maps each route (method and path under /api/v1) to the permission it
needs, to `AUTHENTICATED` (anyone who logged in) or to `PUBLIC`. `authorize` runs before
every route of the app: it finds the caller (a bearer token, or a session cookie whose
state-changing requests must carry the session's CSRF token in `X-CSRF-Token`), puts the
`Principal` on `request.state.principal`, and refuses what the table does not allow. A
route missing from the table is refused for everyone (fail closed), and a test walks the
OpenAPI document so that a new route without an entry fails CI.

Grants narrowed to process keys count on routes whose path names the process
(`/definitions/{key}/...`); every other route needs the grant for all processes.

The browser app's files (`legato.api.web`, every path outside /api) are public, like /docs:
they are a plain Starlette route after the API routes, not an API route, so this table and
`authorize` never see them, and a path under /api that no route takes is a 404 there.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import Depends, Request

from legato.access import ANONYMOUS_DEV, Principal
from legato.access.authenticator import Authenticator, SessionPolicy
from legato.access.oidc import OidcSettings, looks_like_jwt
from legato.access.secrets import same
from legato.errors import AuthenticationRequired, CsrfFailed, LegatoError, PermissionDenied, RateLimited

SESSION_COOKIE: Final = "legato_session"
CSRF_COOKIE: Final = "legato_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

PUBLIC: Final = "public"
AUTHENTICATED: Final = "authenticated"

ROUTE_PERMISSIONS: dict[tuple[str, str], str] = {
    # system
    ("GET", "/health"): PUBLIC,  # for load balancers; says nothing but up or down
    ("GET", "/stats"): "instances:read",
    ("GET", "/events"): "instances:read",  # the change feed names instances, elements and tasks
    ("GET", "/metrics"): "metrics:read",  # Prometheus: a service token with this permission only (docs/metrics.md)
    # identity
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/logout"): AUTHENTICATED,
    ("GET", "/auth/me"): AUTHENTICATED,
    # single sign-on (OpenID Connect): the login screen's buttons and the browser's way through the provider
    ("GET", "/auth/providers"): PUBLIC,
    ("GET", "/auth/oidc/login"): PUBLIC,
    ("GET", "/auth/oidc/callback"): PUBLIC,
    ("GET", "/users"): "users:read",
    ("POST", "/users"): "users:admin",
    ("GET", "/users/{username}"): "users:read",
    ("PATCH", "/users/{username}"): "users:admin",
    ("DELETE", "/users/{username}"): "users:admin",
    ("PUT", "/users/{username}/password"): AUTHENTICATED,  # one's own; others' needs users:admin (checked in the route)
    ("GET", "/groups"): "users:read",
    ("POST", "/groups"): "users:admin",
    ("GET", "/groups/{group}"): "users:read",
    ("DELETE", "/groups/{group}"): "users:admin",
    ("PUT", "/groups/{group}/members/{kind}/{member}"): "users:admin",
    ("DELETE", "/groups/{group}/members/{kind}/{member}"): "users:admin",
    ("GET", "/roles"): "users:read",
    ("POST", "/roles"): "users:admin",
    ("DELETE", "/roles/{role}"): "users:admin",
    ("GET", "/grants"): "users:read",
    ("POST", "/grants"): "users:admin",
    ("DELETE", "/grants/{role}/{kind}/{subject}"): "users:admin",
    ("GET", "/tokens"): AUTHENTICATED,  # one's own; all of them with users:admin (the route filters)
    ("POST", "/tokens"): "tokens:create",
    ("DELETE", "/tokens/{token_id}"): AUTHENTICATED,  # one's own; others' needs users:admin (the route checks)
    # tenants (the tenants helper)
    ("GET", "/tenants"): "users:read",
    ("POST", "/tenants"): "users:admin",
    ("GET", "/tenants/{tenant}"): "users:read",
    ("DELETE", "/tenants/{tenant}"): "users:admin",
    ("PUT", "/tenants/{tenant}/members/{kind}/{member}"): "users:admin",
    ("DELETE", "/tenants/{tenant}/members/{kind}/{member}"): "users:admin",
    # definitions
    ("POST", "/definitions"): "definitions:deploy",
    ("POST", "/definitions/validate"): "definitions:deploy",
    ("GET", "/definitions"): "definitions:read",
    ("GET", "/definitions/{key}"): "definitions:read",
    ("GET", "/definitions/{key}/source"): "definitions:read",
    ("GET", "/definitions/{key}/bpmn"): "definitions:read",
    # operations views (webapi): numbers on the diagram
    ("GET", "/definitions/{key}/statistics"): "instances:read",
    ("GET", "/definitions/{key}/heatmap"): "instances:read",
    ("GET", "/definitions/{key}/kpis"): "instances:read",
    # decisions
    ("GET", "/decisions"): "decisions:read",
    ("GET", "/decisions/evaluations"): "decisions:read",
    ("POST", "/decisions/{decision_id}/evaluate"): "decisions:evaluate",
    # instances
    ("POST", "/definitions/{key}/instances"): "instances:start",
    ("GET", "/instances"): "instances:read",
    ("GET", "/instances/{instance_id}"): "instances:read",
    ("GET", "/instances/{instance_id}/history"): "instances:read",
    ("POST", "/instances/{instance_id}/cancel"): "instances:cancel",
    ("PATCH", "/instances/{instance_id}/variables"): "variables:update",
    # events
    ("POST", "/messages"): "instances:message",
    ("POST", "/signals"): "instances:signal",
    ("POST", "/conditions"): "instances:start",
    # tasks and incidents
    ("GET", "/tasks"): "tasks:read",
    ("GET", "/tasks/{task_id}"): "tasks:read",
    ("POST", "/tasks/{task_id}/complete"): "tasks:complete",  # and the assignee, or tasks:assign (task_actions.py)
    ("POST", "/tasks/{task_id}/claim"): "tasks:claim",  # and a candidate, or tasks:assign
    ("POST", "/tasks/{task_id}/unclaim"): "tasks:claim",  # and the assignee, or tasks:assign
    ("POST", "/tasks/{task_id}/assign"): "tasks:assign",
    ("POST", "/tasks/{task_id}/delegate"): "tasks:claim",  # and the assignee, or tasks:assign
    ("POST", "/tasks/{task_id}/resolve"): "tasks:complete",  # and the delegate, or tasks:assign
    ("PUT", "/tasks/{task_id}/draft"): "tasks:complete",  # and the assignee, or tasks:assign
    ("PATCH", "/tasks/{task_id}"): "tasks:claim",  # and the assignee or owner, or tasks:assign
    ("GET", "/tasks/{task_id}/comments"): "tasks:read",
    ("POST", "/tasks/{task_id}/comments"): "tasks:comment",  # and one of the task's people, or tasks:assign
    ("GET", "/tasks/{task_id}/attachments"): "tasks:read",
    ("POST", "/tasks/{task_id}/attachments"): "tasks:comment",  # and one of the task's people, or tasks:assign
    ("GET", "/tasks/{task_id}/attachments/{attachment_id}"): "tasks:read",
    ("GET", "/task-filters"): "tasks:read",  # saved filters: the store decides whose (task_filters.py)
    ("POST", "/task-filters"): "tasks:read",
    ("GET", "/task-filters/{filter_id}"): "tasks:read",
    ("PUT", "/task-filters/{filter_id}"): "tasks:read",
    ("DELETE", "/task-filters/{filter_id}"): "tasks:read",
    ("GET", "/incidents"): "incidents:read",
    ("GET", "/incidents/{incident_id}"): "incidents:read",
    ("POST", "/incidents/{incident_id}/retry"): "incidents:retry",
    # repair in bulk (legato.api.routes.repair)
    ("POST", "/incidents/retry"): "incidents:retry",
    ("POST", "/instances/cancel"): "instances:cancel",
    ("POST", "/instances/{instance_id}/modify"): "instances:modify",
    ("POST", "/definitions/{key}/migrations"): "instances:migrate",
    # the registry of live workers (legato.api.routes.workers): which task types are served
    ("GET", "/workers"): "instances:read",
    # external tasks: workers in other processes (worker tokens: their task types and tenants only)
    ("POST", "/external-tasks/fetch-and-lock"): "jobs:work",
    ("POST", "/external-tasks/{task_id}/complete"): "jobs:work",
    ("POST", "/external-tasks/{task_id}/failure"): "jobs:work",
    ("POST", "/external-tasks/{task_id}/bpmn-error"): "jobs:work",
    ("POST", "/external-tasks/{task_id}/extend-lock"): "jobs:work",
    ("POST", "/external-tasks/{task_id}/unlock"): "jobs:work",
    # Camunda 7 compatibility (api/camunda): the same permissions as the native routes
    ("POST", "/engine-rest/external-task/fetchAndLock"): "jobs:work",
    ("POST", "/engine-rest/external-task/{task_id}/complete"): "jobs:work",
    ("POST", "/engine-rest/external-task/{task_id}/failure"): "jobs:work",
    ("POST", "/engine-rest/external-task/{task_id}/bpmnError"): "jobs:work",
    ("POST", "/engine-rest/external-task/{task_id}/extendLock"): "jobs:work",
    ("POST", "/engine-rest/external-task/{task_id}/unlock"): "jobs:work",
    ("POST", "/engine-rest/process-definition/key/{key}/start"): "instances:start",
    ("POST", "/engine-rest/message"): "instances:message",
    ("GET", "/engine-rest/process-instance"): "instances:read",
    ("GET", "/engine-rest/process-instance/{instance_id}"): "instances:read",
    ("GET", "/engine-rest/process-instance/{instance_id}/variables"): "instances:read",
    ("GET", "/engine-rest/incident"): "incidents:read",
    ("POST", "/engine-rest/deployment/create"): "definitions:deploy",
    ("PUT", "/engine-rest/external-task/{task_id}/retries"): "incidents:retry",
    ("PUT", "/engine-rest/job/{job_id}/retries"): "incidents:retry",
    # audit log (legato.api.audit_trail records; these read it)
    ("GET", "/audit"): "audit:read",
    ("GET", "/audit/export"): "audit:read",
    ("GET", "/audit/verify"): "audit:read",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthSettings:
    """How the API authenticates. `enabled=False` is `--insecure-no-auth`: everyone is admin."""

    enabled: bool = True
    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    secure_cookies: bool | None = None  # None: Secure when the request came over https
    login_rate: int = 20  # login and token-creation requests per source address per minute
    oidc: OidcSettings | None = None  # single sign-on and bearer JWTs from this identity provider


class RateLimiter:
    """A sliding window per key, in this process: enough to slow a brute force down.

    Lockout in the store (per user, per address) is the durable defence; this keeps one
    address from spending the server's CPU on Argon2 hashes.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                raise RateLimited("too many requests from this address: slow down", retry_after=hits[0] + 60 - now)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget quiet addresses rather than grow without bound
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[stale]


def source_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def authorize(request: Request) -> Principal:
    """The app-wide dependency: authenticate the caller, then check the route's permission."""
    settings: AuthSettings = request.app.state.auth
    route = request.scope.get("route")
    path = getattr(route, "path_format", request.url.path).removeprefix(request.app.state.api_prefix)
    needed = ROUTE_PERMISSIONS.get((request.method, path))
    if not settings.enabled:
        request.state.principal = ANONYMOUS_DEV
        return ANONYMOUS_DEV
    authenticator: Authenticator = request.app.state.authenticator
    if needed == PUBLIC:
        principal = _try_authenticate(request, authenticator)
        request.state.principal = principal
        return principal or Principal(name="anonymous", kind="anonymous-dev")  # no permissions
    principal = _authenticate(request, authenticator)
    request.state.principal = principal
    if needed is None:
        raise PermissionDenied(f"route:{request.method} {path}", who=principal.name)
    if needed != AUTHENTICATED:
        by_key = path.startswith(("/definitions/{key}", "/engine-rest/process-definition/key/{key}"))
        process = request.path_params.get("key") if by_key else None
        if not principal.may(needed, process):
            raise PermissionDenied(needed, who=principal.name)
    return principal


def _authenticate(request: Request, authenticator: Authenticator) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationRequired("send `Authorization: Bearer <token>`")
        return _bearer(request, authenticator, token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal, csrf = authenticator.from_session(cookie)
        request.state.principal = principal  # a CSRF refusal is recorded against the session's user
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not same(sent, csrf):
                raise CsrfFailed(f"a change made with a session cookie needs the session's {CSRF_HEADER} header")
        return principal
    raise AuthenticationRequired("log in (POST /api/v1/auth/login) or send `Authorization: Bearer <token>`")


def _bearer(request: Request, authenticator: Authenticator, token: str) -> Principal:
    """A Legato token (`lgt_...`) or, told apart by its shape, an identity provider's JWT."""
    sso = getattr(request.app.state, "sso", None)
    if sso is not None and looks_like_jwt(token):
        principal: Principal = sso.principal_of_bearer(token)
        return principal
    return authenticator.from_token(token)


def _try_authenticate(request: Request, authenticator: Authenticator) -> Principal | None:
    try:
        return _authenticate(request, authenticator)
    except LegatoError:
        return None


PrincipalDep = Annotated[Principal, Depends(authorize)]
