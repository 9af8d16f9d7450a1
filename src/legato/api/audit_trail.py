"""Every operator action through the API, and every refusal, appended to the audit log.

One ASGI middleware records, one table says what: `ROUTE_ACTIONS` maps each
state-changing route (the same keys as `ROUTE_PERMISSIONS`) to a stable action name, the
kind of thing it acts on, and a function that says what changed, taken from the path,
the JSON request and the JSON answer. Routes need not call anything; a route that knows
more can add it with `note(request, **details)`.

What is recorded:

- every request to a route in the table, whatever its outcome: `ok` (2xx/3xx), `refused`
  (401, 403, 429) or `failed` (any other error, with its problem code);
- every 401 and 403 on any other route, as `access.denied` (with the permission that was
  missing), except a read sent with no credentials at all: that is a browser before login,
  not an event, and recording it would let anyone fill the log;
- failed logins as `auth.login_failed`, with the user name that was tried as the actor.

Details name what changed, never values that could be secret: variable *names*, not their
values; the fields of a user that were set; a token's id and scope, never the token;
never a password (and `legato.store.audit` drops secret-looking keys again).

Tenants: each row names the tenant whose work it is about (`TENANT_OF`), and a reader kept to
tenants sees their rows and the shared tenant's only; rows about no tenant's work (identity,
tokens, logins, refusals) only callers who see every tenant read.

Atomicity: the action commits in its own transaction first, then the audit row is
appended in another. The answer to a change is held back until the row is written, so a
caller that saw success knows the action was recorded. If the append fails (the database
went away between the two), the answer still goes out, because the action did happen,
and the row is written to the server log (`legato.audit`, level ERROR) with everything it
would have held, to be re-entered by hand. An answer of 503 DATABASE_UNAVAILABLE is not
recorded: nothing changed, and the append would only wait out the same outage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.access.secrets import split_token
from legato.api.problems import PROBLEM_MEDIA_TYPE
from legato.api.security import SAFE_METHODS
from legato.store.audit import SHARED, AuditEntry, AuditLog

log = logging.getLogger("legato.audit")

MAX_CAPTURED_REQUEST: Final = 1024 * 1024  # the API's body limit for commands
MAX_HELD_RESPONSE: Final = 256 * 1024  # answers to changes are small; larger ones stream on unrecorded


@dataclass(frozen=True, kw_only=True, slots=True)
class Exchange:
    """What the middleware saw of one request: the input of the detail functions."""

    method: str
    path: str  # the route's template, e.g. /instances/{instance_id}/cancel
    params: Mapping[str, Any]
    query: Mapping[str, str]
    body: Any  # the JSON request body, or None
    answer: Any  # the JSON answer, or None
    status: int

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None else str(value)

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None

    def answered(self, name: str) -> Any:
        return self.answer.get(name) if isinstance(self.answer, dict) and self.status < 400 else None


Target = Callable[[Exchange], Any]
Details = Callable[[Exchange], dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Action:
    name: str
    target_kind: str | None = None
    target: Target | None = None
    details: Details | None = None


def _param(name: str) -> Target:
    return lambda exchange: exchange.param(name)


def _field(name: str) -> Target:
    return lambda exchange: exchange.field(name)


def _answered(name: str) -> Target:
    return lambda exchange: exchange.answered(name)


def _variable_names(exchange: Exchange, key: str = "variables") -> list[str] | None:
    variables = exchange.field(key)
    return sorted(variables) if isinstance(variables, dict) else None


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _deployed(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "key": exchange.answered("key") or exchange.answered("id"),
            "version": exchange.answered("version"),
            "kind": exchange.answered("kind") or ("process" if exchange.status < 400 else None),
            "created": exchange.answered("created"),
        }
    )


def _started(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "process": exchange.param("key"),
            "version": exchange.answered("version") or exchange.field("version"),
            "created": exchange.answered("created"),
            "business_key": exchange.field("business_key"),
            "variables": _variable_names(exchange),
        }
    )


def _message(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "correlation_key": exchange.field("correlation_key"),
            "variables": _variable_names(exchange),
            "correlated": exchange.answered("correlated"),
            "instance_id": exchange.answered("instance_id"),
        }
    )


def _signal(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "variables": _variable_names(exchange),
            "instances": exchange.answered("instances"),
            "started": exchange.answered("started"),
        }
    )


def _conditions(exchange: Exchange) -> dict[str, Any]:
    started = exchange.answered("started")
    ids = [s.get("instance_id") for s in started if isinstance(s, dict)] if isinstance(started, list) else None
    return _compact({"variables": _variable_names(exchange), "started": ids})


def _variables_only(exchange: Exchange) -> dict[str, Any]:
    return _compact({"variables": _variable_names(exchange), "instance_id": exchange.answered("instance_id")})


def _task_completed(exchange: Exchange) -> dict[str, Any]:
    return _compact({"variables": _variable_names(exchange), "instance_id": exchange.answered("instance_id")})


def _assigned(exchange: Exchange) -> dict[str, Any]:
    return _compact({"assignee": exchange.field("assignee") or exchange.field("user")})


def _delegated(exchange: Exchange) -> dict[str, Any]:
    return _compact({"delegate": exchange.field("user"), "owner": exchange.answered("owner")})


def _commented(exchange: Exchange) -> dict[str, Any]:
    return _compact({"comment_id": exchange.answered("id")})  # the id, never the text


def _attached(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "attachment_id": exchange.answered("id"),
            "name": exchange.answered("name"),
            "size": exchange.answered("size"),
            "content_type": exchange.answered("content_type"),
        }
    )


def _task_updated(exchange: Exchange) -> dict[str, Any]:
    return _compact({"fields": sorted(exchange.body) if isinstance(exchange.body, dict) else None})


def _task_filter(exchange: Exchange) -> dict[str, Any]:
    query = exchange.field("query")
    return _compact(
        {
            "name": exchange.field("name"),
            "group": exchange.field("group"),
            "fields": sorted(query) if isinstance(query, dict) else None,
        }
    )


def _cancelled(exchange: Exchange) -> dict[str, Any]:
    return _compact({"reason": exchange.field("reason")})


def _retried(exchange: Exchange) -> dict[str, Any]:
    return _compact({"variables": _variable_names(exchange), "instance_id": exchange.answered("instance_id")})


def _variables_changed(exchange: Exchange) -> dict[str, Any]:
    """The names set and the names removed; never the values."""
    removed = exchange.field("remove")
    return _compact(
        {
            "set": _variable_names(exchange, "set"),
            "removed": sorted(str(name) for name in removed) if isinstance(removed, list) and removed else None,
        }
    )


def _user_created(exchange: Exchange) -> dict[str, Any]:
    attributes = exchange.field("attributes")
    return _compact(
        {
            "display_name": exchange.field("display_name"),
            "email": exchange.field("email"),
            "roles": exchange.field("roles") or None,
            "attributes": sorted(attributes) if isinstance(attributes, dict) else None,
            "password_set": exchange.field("password") is not None if isinstance(exchange.body, dict) else None,
        }
    )


def _user_changed(exchange: Exchange) -> dict[str, Any]:
    """The fields that were set and their new values; for attributes, which ones changed."""
    if not isinstance(exchange.body, dict):
        return {}
    changed = {key: value for key, value in exchange.body.items() if key != "attributes"}
    attributes = exchange.body.get("attributes")
    if isinstance(attributes, dict):
        changed["attributes"] = sorted(attributes)
    return {"changed": changed}


def _group_created(exchange: Exchange) -> dict[str, Any]:
    return _compact({"name": exchange.field("name")})


def _member(exchange: Exchange) -> dict[str, Any]:
    return {"member_kind": exchange.param("kind"), "member": exchange.param("member")}


def _role_created(exchange: Exchange) -> dict[str, Any]:
    return _compact({"permissions": exchange.field("permissions"), "description": exchange.field("description")})


def _grant_id(exchange: Exchange) -> str | None:
    parts = [exchange.field("role"), exchange.field("kind"), exchange.field("subject")]
    return "/".join(str(part) for part in parts) if all(parts) else None


def _grant_created(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "role": exchange.field("role"),
            "subject_kind": exchange.field("kind"),
            "subject": exchange.field("subject"),
            "process_keys": exchange.field("process_keys"),
        }
    )


def _grant_revoked(exchange: Exchange) -> dict[str, Any]:
    return {
        "role": exchange.param("role"),
        "subject_kind": exchange.param("kind"),
        "subject": exchange.param("subject"),
    }


def _token_created(exchange: Exchange) -> dict[str, Any]:
    """Who holds the new token and what it may do; the token itself never."""
    return _compact(
        {
            "name": exchange.answered("name") or exchange.field("name"),
            "kind": exchange.answered("kind") or exchange.field("kind"),
            "owner": exchange.answered("owner"),
            "permissions": exchange.answered("permissions") or exchange.field("permissions"),
            "task_types": exchange.answered("task_types") or exchange.field("task_types"),
            "tenants": exchange.answered("tenants") or exchange.field("tenants"),
            "expires_at": exchange.answered("expires_at"),
        }
    )


def _bulk(exchange: Exchange) -> dict[str, Any]:
    """The filter, whether it was a preview, the counts, and the instances acted on (no values)."""
    body = exchange.body if isinstance(exchange.body, dict) else {}
    selection = {k: v for k, v in body.items() if k not in ("variables", "reason", "cursor") and v is not None}
    items = exchange.answered("items")
    done = [i.get("instance_id") for i in items if isinstance(i, dict) and i.get("result") == "done"] if items else None
    return _compact(
        {
            "filter": selection or None,
            "variables": _variable_names(exchange),
            "reason": exchange.field("reason"),
            "done": exchange.answered("done"),
            "skipped": exchange.answered("skipped"),
            "failed": exchange.answered("failed"),
            "instances": done or None,
            "more": True if exchange.answered("next_cursor") else None,
        }
    )


def _modified(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "cancel": exchange.field("cancel") or None,
            "start_before": exchange.field("start_before") or None,
            "reason": exchange.field("reason"),
        }
    )


def _migrated(exchange: Exchange) -> dict[str, Any]:
    """The versions, the instructions given, a preview or not, the counts and the instances moved."""
    details = _bulk(exchange)
    details.pop("filter", None)
    return _compact(
        {
            "from_version": exchange.field("from_version"),
            "to_version": exchange.field("to_version"),
            "mapping": exchange.field("mapping") or None,
            "dry_run": True if exchange.field("dry_run") else None,
            **details,
        }
    )


def _filters(exchange: Exchange) -> dict[str, Any]:
    return {"filters": dict(exchange.query)} if exchange.query else {}


ROUTE_ACTIONS: dict[tuple[str, str], Action] = {
    # identity
    ("POST", "/auth/login"): Action(name="auth.login", target_kind="user", target=_answered("username")),
    ("GET", "/auth/oidc/callback"): Action(name="auth.login", target_kind="user"),  # single sign-on
    ("POST", "/auth/logout"): Action(name="auth.logout"),
    ("POST", "/users"): Action(
        name="user.create", target_kind="user", target=_field("username"), details=_user_created
    ),
    ("PATCH", "/users/{username}"): Action(
        name="user.update", target_kind="user", target=_param("username"), details=_user_changed
    ),
    ("DELETE", "/users/{username}"): Action(name="user.delete", target_kind="user", target=_param("username")),
    ("PUT", "/users/{username}/password"): Action(name="user.password", target_kind="user", target=_param("username")),
    ("POST", "/groups"): Action(
        name="group.create", target_kind="group", target=_field("group"), details=_group_created
    ),
    ("DELETE", "/groups/{group}"): Action(name="group.delete", target_kind="group", target=_param("group")),
    ("PUT", "/groups/{group}/members/{kind}/{member}"): Action(
        name="group.member_add", target_kind="group", target=_param("group"), details=_member
    ),
    ("DELETE", "/groups/{group}/members/{kind}/{member}"): Action(
        name="group.member_remove", target_kind="group", target=_param("group"), details=_member
    ),
    # tenants (the tenants helper)
    ("POST", "/tenants"): Action(
        name="tenant.create", target_kind="tenant", target=_field("tenant"), details=_group_created
    ),
    ("DELETE", "/tenants/{tenant}"): Action(name="tenant.delete", target_kind="tenant", target=_param("tenant")),
    ("PUT", "/tenants/{tenant}/members/{kind}/{member}"): Action(
        name="tenant.member_add", target_kind="tenant", target=_param("tenant"), details=_member
    ),
    ("DELETE", "/tenants/{tenant}/members/{kind}/{member}"): Action(
        name="tenant.member_remove", target_kind="tenant", target=_param("tenant"), details=_member
    ),
    ("POST", "/roles"): Action(name="role.create", target_kind="role", target=_field("role"), details=_role_created),
    ("DELETE", "/roles/{role}"): Action(name="role.delete", target_kind="role", target=_param("role")),
    ("POST", "/grants"): Action(name="grant.create", target_kind="grant", target=_grant_id, details=_grant_created),
    ("DELETE", "/grants/{role}/{kind}/{subject}"): Action(
        name="grant.revoke",
        target_kind="grant",
        target=lambda e: f"{e.param('role')}/{e.param('kind')}/{e.param('subject')}",
        details=_grant_revoked,
    ),
    ("POST", "/tokens"): Action(
        name="token.create", target_kind="token", target=_answered("id"), details=_token_created
    ),
    ("DELETE", "/tokens/{token_id}"): Action(name="token.revoke", target_kind="token", target=_param("token_id")),
    # definitions and decisions
    ("POST", "/definitions"): Action(
        name="definition.deploy",
        target_kind="definition",
        target=lambda e: e.answered("key") or e.answered("id"),
        details=_deployed,
    ),
    ("POST", "/decisions/{decision_id}/evaluate"): Action(
        name="decision.evaluate", target_kind="decision", target=_param("decision_id"), details=_variables_only
    ),
    # instances, events
    ("POST", "/definitions/{key}/instances"): Action(
        name="instance.start", target_kind="instance", target=_answered("instance_id"), details=_started
    ),
    ("POST", "/instances/{instance_id}/cancel"): Action(
        name="instance.cancel", target_kind="instance", target=_param("instance_id"), details=_cancelled
    ),
    ("PATCH", "/instances/{instance_id}/variables"): Action(
        name="variables.update", target_kind="instance", target=_param("instance_id"), details=_variables_changed
    ),
    ("POST", "/messages"): Action(
        name="message.publish", target_kind="message", target=_field("name"), details=_message
    ),
    ("POST", "/signals"): Action(name="signal.broadcast", target_kind="signal", target=_field("name"), details=_signal),
    ("POST", "/conditions"): Action(name="conditions.evaluate", details=_conditions),
    # tasks and incidents
    ("POST", "/tasks/{task_id}/complete"): Action(
        name="task.complete", target_kind="task", target=_param("task_id"), details=_task_completed
    ),
    ("POST", "/tasks/{task_id}/claim"): Action(name="task.claim", target_kind="task", target=_param("task_id")),
    ("POST", "/tasks/{task_id}/unclaim"): Action(name="task.unclaim", target_kind="task", target=_param("task_id")),
    ("POST", "/tasks/{task_id}/assign"): Action(
        name="task.assign", target_kind="task", target=_param("task_id"), details=_assigned
    ),
    ("POST", "/tasks/{task_id}/delegate"): Action(
        name="task.delegate", target_kind="task", target=_param("task_id"), details=_delegated
    ),
    ("POST", "/tasks/{task_id}/resolve"): Action(
        name="task.resolve", target_kind="task", target=_param("task_id"), details=_task_completed
    ),
    ("PATCH", "/tasks/{task_id}"): Action(
        name="task.update", target_kind="task", target=_param("task_id"), details=_task_updated
    ),
    ("PUT", "/tasks/{task_id}/draft"): Action(
        name="task.draft", target_kind="task", target=_param("task_id"), details=_task_completed
    ),
    ("POST", "/tasks/{task_id}/comments"): Action(
        name="task.comment", target_kind="task", target=_param("task_id"), details=_commented
    ),
    ("POST", "/tasks/{task_id}/attachments"): Action(
        name="task.attach", target_kind="task", target=_param("task_id"), details=_attached
    ),
    ("POST", "/task-filters"): Action(
        name="task_filter.create", target_kind="task_filter", target=_answered("id"), details=_task_filter
    ),
    ("PUT", "/task-filters/{filter_id}"): Action(
        name="task_filter.update", target_kind="task_filter", target=_param("filter_id"), details=_task_filter
    ),
    ("DELETE", "/task-filters/{filter_id}"): Action(
        name="task_filter.delete", target_kind="task_filter", target=_param("filter_id")
    ),
    ("POST", "/incidents/{incident_id}/retry"): Action(
        name="incident.retry", target_kind="incident", target=_param("incident_id"), details=_retried
    ),
    # repair in bulk
    ("POST", "/incidents/retry"): Action(name="incident.retry_bulk", details=_bulk),
    ("POST", "/instances/cancel"): Action(name="instance.cancel_bulk", details=_bulk),
    ("POST", "/instances/{instance_id}/modify"): Action(
        name="instance.modify", target_kind="instance", target=_param("instance_id"), details=_modified
    ),
    ("POST", "/definitions/{key}/migrations"): Action(
        name="instance.migrate_bulk", target_kind="definition", target=_param("key"), details=_migrated
    ),
    # the audit log itself: taking a copy of it away is worth knowing about
    ("GET", "/audit/export"): Action(name="audit.export", details=_filters),
}
"""The audited routes. Every route that changes something must have an entry (a test checks)."""

TENANT_OF: Final[dict[str, str]] = {
    "definition.deploy": "work",
    "instance.start": "work",
    "decision.evaluate": "work",
    "instance.cancel": "target",
    "variables.update": "target",
    "task.complete": "target",
    "task.claim": "target",
    "task.unclaim": "target",
    "task.assign": "target",
    "task.delegate": "target",
    "task.draft": "target",
    "task.resolve": "target",
    "task.comment": "target",
    "task.attach": "target",
    "task.update": "target",
    "incident.retry": "target",
    "message.publish": "sender",
    "signal.broadcast": "sender",
    "conditions.evaluate": "sender",
    "incident.retry_bulk": "sender",
    "instance.cancel_bulk": "sender",
    "instance.modify": "target",
    "job.retries": "target",
    "instance.migrate_bulk": "work",
}
"""Which tenant an action's row is filed under, so that readers kept to tenants see it (module docstring):

- `work`: the tenant the deploy, start or evaluation worked in (the answer's `tenant`, else
  the one named, else the caller's only tenant, else the shared one; a failure that names
  none of these, administrators only);
- `target`: the tenant of the instance, task or incident acted on, looked up by its id, if
  the caller may see that tenant (a probe of another tenant's ids stays with administrators);
- `sender`: the tenant a message, signal, condition or bulk repair was sent within: the one named, else
  the caller's only tenant; sent to several tenants, administrators only.

Actions not listed (users, groups, roles, tokens, tenants, logins, refusals) belong to no
tenant: only callers who see every tenant read them."""

FALLBACK = "api.request"  # a changing route missing from the table is still recorded, under this name

UNRECORDED: Final = Action(name="unrecorded")
"""For a changing route that is machine traffic, not an operator action (a worker fetching or
completing jobs, many times a second): its successes would flood the log. Refusals on it
are still recorded as `access.denied`."""

# External workers' traffic: each report is in the instance's history already, with the
# worker as its actor.
ROUTE_ACTIONS.update(
    {
        ("POST", f"/external-tasks/{path}"): UNRECORDED
        for path in (
            "fetch-and-lock",
            "{task_id}/complete",
            "{task_id}/failure",
            "{task_id}/bpmn-error",
            "{task_id}/extend-lock",
            "{task_id}/unlock",
        )
    }
)
# The same for Camunda 7's external-task protocol (api/camunda).
ROUTE_ACTIONS.update(
    {
        ("POST", f"/engine-rest/external-task/{path}"): UNRECORDED
        for path in (
            "fetchAndLock",
            "{task_id}/complete",
            "{task_id}/failure",
            "{task_id}/bpmnError",
            "{task_id}/extendLock",
            "{task_id}/unlock",
        )
    }
)


def _camunda_started(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "process": exchange.param("key"),
            "business_key": exchange.field("businessKey"),
            "variables": _variable_names(exchange),
            "via": "engine-rest",
        }
    )


def _camunda_message(exchange: Exchange) -> dict[str, Any]:
    return _compact(
        {
            "business_key": exchange.field("businessKey"),
            "correlation_keys": _variable_names(exchange, "correlationKeys"),
            "variables": _variable_names(exchange, "processVariables"),
            "via": "engine-rest",
        }
    )


# Camunda 7 clients' starts and messages are operator actions like the native ones.
ROUTE_ACTIONS[("POST", "/engine-rest/process-definition/key/{key}/start")] = Action(
    name="instance.start", target_kind="instance", target=_answered("id"), details=_camunda_started
)
ROUTE_ACTIONS[("POST", "/engine-rest/deployment/create")] = Action(
    name="definition.deploy",
    target_kind="definition",
    target=_answered("id"),
    details=lambda exchange: _compact({"name": exchange.answered("name"), "via": "engine-rest"}),
)


def _job_instance(name: str) -> Target:
    """A job id is `<instance>:<wait>`: the row is about the instance (and files under its tenant)."""
    return lambda exchange: str(exchange.param(name) or "").rpartition(":")[0] or None


def _retries_details(name: str) -> Details:
    return lambda exchange: _compact(
        {"job": exchange.param(name), "retries": exchange.field("retries"), "via": "engine-rest"}
    )


for _param_name, _retries in (
    ("task_id", "/engine-rest/external-task/{task_id}/retries"),
    ("job_id", "/engine-rest/job/{job_id}/retries"),
):
    ROUTE_ACTIONS[("PUT", _retries)] = Action(
        name="job.retries",
        target_kind="instance",
        target=_job_instance(_param_name),
        details=_retries_details(_param_name),
    )
ROUTE_ACTIONS[("POST", "/engine-rest/message")] = Action(
    name="message.publish", target_kind="message", target=_field("messageName"), details=_camunda_message
)
# A validate-only deploy changes nothing, and the modeler sends one per Validate click.
ROUTE_ACTIONS[("POST", "/definitions/validate")] = UNRECORDED


def note(request: Request, **details: Any) -> None:
    """Add to the details the audit row of this request will carry (from inside a route)."""
    noted: dict[str, Any] = getattr(request.state, "audit_details", None) or {}
    noted.update(details)
    request.state.audit_details = noted


class _Seen:
    """The parts of the request and answer the audit row needs, captured as they pass."""

    def __init__(self, scope: Scope) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.json_request = headers.get("content-type", "").split(";")[0].strip() == "application/json"
        self.authorization = headers.get("authorization", "")
        self.credentials = bool(self.authorization) or "legato_session=" in headers.get("cookie", "")
        self.request = bytearray()
        self.request_overflow = False
        self.status: int | None = None
        self.media = ""
        self.response = bytearray()
        self.response_overflow = False

    def on_request(self, chunk: bytes) -> None:
        if not self.json_request or self.request_overflow:
            return
        if len(self.request) + len(chunk) > MAX_CAPTURED_REQUEST:
            self.request_overflow = True
            self.request.clear()
            return
        self.request.extend(chunk)

    def on_start(self, message: Message) -> None:
        self.status = int(message["status"])
        for key, value in message.get("headers", []):
            if key.lower() == b"content-type":
                self.media = value.decode("latin-1").split(";")[0].strip()

    def on_body(self, chunk: bytes) -> None:
        if self.media not in ("application/json", PROBLEM_MEDIA_TYPE) or self.response_overflow:
            return
        if len(self.response) + len(chunk) > MAX_HELD_RESPONSE:
            self.response_overflow = True
            self.response.clear()
            return
        self.response.extend(chunk)

    def body(self) -> Any:
        return _json(bytes(self.request)) if self.request and not self.request_overflow else None

    def answer(self) -> Any:
        return _json(bytes(self.response)) if self.response and not self.response_overflow else None


class AuditTrail:
    """ASGI middleware: the audit row of each request under the API prefix (module docstring)."""

    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.api_prefix):
            await self.app(scope, receive, send)
            return
        seen = _Seen(scope)
        hold = scope["method"] not in SAFE_METHODS  # answers to changes wait for their audit row
        held: list[Message] = []
        recorded = False

        async def receive_and_see() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen.on_request(message.get("body", b""))
            return message

        async def see_and_send(message: Message) -> None:
            nonlocal hold, recorded
            if message["type"] == "http.response.start":
                seen.on_start(message)
            elif message["type"] == "http.response.body":
                seen.on_body(message.get("body", b""))
            if not hold:
                await send(message)
                return
            held.append(message)
            final = message["type"] == "http.response.body" and not message.get("more_body", False)
            if final:
                recorded = True
                await self._record(scope, seen, crashed=False)
            if final or seen.response_overflow:
                hold = False
                for waiting in held:
                    await send(waiting)
                held.clear()

        try:
            await self.app(scope, receive_and_see, see_and_send)
        except Exception:
            if not recorded:
                await self._record(scope, seen, crashed=True)
            raise
        if not recorded:
            await self._record(scope, seen, crashed=False)

    async def _record(self, scope: Scope, seen: _Seen, *, crashed: bool) -> None:
        try:
            built = self._entry(scope, seen, crashed=crashed)
        except Exception:  # a detail function tripped on an odd request: record without details
            log.exception("audit: building the details of %s %s failed", scope["method"], scope["path"])
            built = self._entry(scope, seen, crashed=crashed, with_details=False)
        if built is None or built[1].code == "DATABASE_UNAVAILABLE":
            return  # nothing changed, and the append would wait out the same outage
        tenant, entry = built
        app = scope["app"]
        try:
            now = app.state.authenticator.now()
            await run_in_threadpool(_append, app.state.legato.store.audit, entry, tenant, now)
        except Exception:
            row = orjson.dumps(
                {
                    "action": entry.action,
                    "actor": entry.actor,
                    "actor_kind": entry.actor_kind,
                    "source": entry.source,
                    "target": [entry.target_kind, entry.target_id],
                    "details": entry.details,
                    "outcome": entry.outcome,
                    "code": entry.code,
                },
                default=str,
            ).decode()
            # One line per lost row, always (it is the row's only record); the traceback once per interval.
            throttle = getattr(app.state, "log_throttle", None)
            traceback = throttle is None or throttle.allow(("audit-append",)) is not None
            log.error("audit append failed; the row it would have held: %s", row, exc_info=traceback)

    def _entry(
        self, scope: Scope, seen: _Seen, *, crashed: bool, with_details: bool = True
    ) -> tuple[str | _TargetTenant | None, AuditEntry] | None:
        """The row of this exchange, and where its tenant comes from; None: nothing to record."""
        method = scope["method"]
        route = scope.get("route")
        template = getattr(route, "path_format", None)
        path = (template or scope["path"]).removeprefix(self.api_prefix)
        status = 500 if crashed or seen.status is None else seen.status
        problem = seen.answer() if status >= 400 else None
        problem = problem if isinstance(problem, dict) else {}
        code = str(problem.get("code") or ("INTERNAL_ERROR" if status >= 500 else f"HTTP_{status}"))
        action = ROUTE_ACTIONS.get((method, path))
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get("principal")
        changing = method not in SAFE_METHODS
        exchange = Exchange(
            method=method,
            path=path,
            params=scope.get("path_params") or {},
            query=_query(scope),
            body=seen.body(),
            answer=seen.answer(),
            status=status,
        )
        details: dict[str, Any] = {}
        target_kind: str | None = None
        target: Any = None
        if action is not None and action.name == "auth.login" and status >= 400:
            claimed = exchange.field("username")
            name = "auth.login_failed"
            actor, actor_kind = (str(claimed).strip().lower() if claimed else "anonymous"), "anonymous"
            if claimed:
                target_kind, target = "user", actor
        elif status in (401, 403):
            if status == 401 and not changing and not seen.credentials:
                return None  # a read without credentials: a browser before login, not an event
            name = "access.denied"
            actor, actor_kind = _caller(principal)
            if action is not None:
                target_kind, target = _target(action, exchange)
            details = _compact(
                {
                    "attempted": action.name if action is not None and action is not UNRECORDED else None,
                    "request": f"{method} {path}",
                    "permission": problem.get("permission"),
                    "reason": problem.get("detail"),
                    "token_id": _presented_token(seen) if principal is None else None,
                }
            )
        elif action is UNRECORDED:
            return None
        elif action is None:
            if not changing or template is None:
                return None  # reads are not operator actions; an unknown path changed nothing
            name = FALLBACK
            actor, actor_kind = _caller(principal)
            details = {"request": f"{method} {path}", "params": dict(exchange.params)}
        else:
            name = action.name
            actor, actor_kind = _caller(principal)
            target_kind, target = _target(action, exchange)
            if name == "auth.login" and target is None:
                target = actor  # who logged in is who the login was about
            if with_details and action.details is not None:
                details = action.details(exchange)
        if with_details:
            details.update(state.get("audit_details") or {})
        if status >= 400 and name not in ("access.denied",):
            details.setdefault("reason", problem.get("detail"))
        client = scope.get("client")
        refused = name in ("auth.login_failed", "access.denied")
        rule = TENANT_OF.get(action.name) if action is not None and not refused else None
        tenant = _tenant(rule, exchange, principal, target_kind, target)
        return (
            tenant,
            AuditEntry(
                action=name,
                actor=actor,
                actor_kind=actor_kind,
                source=client[0] if client else None,
                target_kind=target_kind,
                target_id=None if target is None else str(target),
                details=_compact(details),
                outcome="ok" if status < 400 else "refused" if status in (401, 403, 429) else "failed",
                code=None if status < 400 else code,
            ),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class _TargetTenant:
    """The row's tenant is its target's, looked up by id when the row is appended (off the loop)."""

    caller_tenants: frozenset[str] | None  # the caller's tenants: a target outside them is not filed there


def _tenant(
    rule: str | None, exchange: Exchange, principal: Any, target_kind: str | None, target: Any
) -> str | _TargetTenant | None:
    """The `tenant_id` of a row, by the action's rule in `TENANT_OF` (None: no tenant's work)."""
    if rule is None:
        return None
    tenants: frozenset[str] | None = getattr(principal, "tenants", None)
    named = exchange.query.get("tenant") or exchange.field("tenant")
    named = str(named).strip().lower() if named else None
    only = next(iter(tenants)) if tenants is not None and len(tenants) == 1 else None
    if rule == "work":
        answer = exchange.answer if isinstance(exchange.answer, dict) and exchange.status < 400 else {}
        if "tenant" in answer:
            return SHARED if answer["tenant"] is None else str(answer["tenant"])
        # A failure names no tenant it worked in: one named (the caller passed the check for
        # it) or the caller's only one; else it may be about another tenant's key: admins only.
        return named or only or (SHARED if exchange.status < 400 else None)
    if rule == "sender":
        return named or only
    if target is None or target_kind is None:
        return None
    return _TargetTenant(caller_tenants=tenants)


def _append(log: AuditLog, entry: AuditEntry, tenant: str | _TargetTenant | None, now: float) -> None:
    """Append the row, first looking up the tenant of its target if its rule says so."""
    if isinstance(tenant, _TargetTenant):
        found = log.tenant_of(entry.target_kind or "", entry.target_id or "")
        visible = tenant.caller_tenants
        seen = found is not None and (visible is None or found == SHARED or found in visible)
        tenant = found if seen else None
    log.append(replace(entry, tenant_id=tenant), now=now)


def _caller(principal: Any) -> tuple[str, str]:
    """Who asked: the authenticated principal, or anonymous for a caller refused at the door."""
    if principal is not None and getattr(principal, "name", None):
        return str(principal.name), str(principal.kind)
    return "anonymous", "anonymous"


def _presented_token(seen: _Seen) -> str | None:
    """The id of the bearer token a refused caller sent (not secret: it says which token was tried)."""
    scheme, _, token = seen.authorization.partition(" ")
    parts = split_token(token.strip()) if scheme.lower() == "bearer" else None
    return None if parts is None else parts[0]


def _target(action: Action, exchange: Exchange) -> tuple[str | None, Any]:
    return action.target_kind, action.target(exchange) if action.target is not None else None


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return dict(parse_qsl(raw, keep_blank_values=False))


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


__all__ = ["FALLBACK", "ROUTE_ACTIONS", "TENANT_OF", "UNRECORDED", "Action", "AuditTrail", "Exchange", "note"]
