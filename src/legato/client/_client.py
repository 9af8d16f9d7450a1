"""`legato.Client`: a Legato server driven over its REST API, with the embedded verbs.

    from legato import Client

    with Client("http://127.0.0.1:8080", token="lgt_...") as legato:
        legato.deploy(Path("order.yaml"))
        started = legato.start("order", {"amount": 120, "order_id": "A-1"})
        for incident in legato.iter_incidents(process="order"):
            legato.retry_incident(incident["id"], {"carrier": "backup"})

The verbs are the embedded `Legato` object's (`start`, `start_many`, `send_message`,
`complete_task`, `retry_incident`, `set_variables`, `cancel`, `wait`, ...), so a script moves
from an embedded engine to a remote server by changing one line; the answers are the
API's JSON documents (docs/api.md), as dicts. Lists answer a `Page` (items, total, next
cursor), and `iter_*` walks every page by the keyset cursor.

Failures are typed (`legato.client.ApiError` and its tree in `_errors`), carrying the
problem document's stable code; no answer at all is `ServerUnreachable`.

The client speaks only HTTP: it imports no layer of the server, so it runs where only the
API is reachable. The HTTP client is httpx; pass your own `httpx.Client` as `http` for
proxies, TLS settings, or a mock transport in tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from legato.client._errors import ApiError, ServerUnreachable, error_for
from legato.client._pages import Page, follow

API_PREFIX = "/api/v1"
DEFAULT_URL = "http://127.0.0.1:8080"
USER_AGENT = "legato-client"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMAT_SUFFIX = {"yaml": ".yaml", "json": ".json", "bpmn": ".bpmn", "dmn": ".dmn"}
_MODEL_SUFFIXES = (".yaml", ".yml", ".json", ".bpmn", ".xml", ".dmn")
_UPLOAD_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml", ".json": "application/json"}
_ENDED = frozenset({"completed", "cancelled", "terminated"})


class Client:
    """A Legato server at `url`, authenticated by an API `token` or by `login()`.

    Without `http` the client owns an `httpx.Client` (closed by `close()` or `with`), sent
    through `transport` if given (`httpx.MockTransport` in tests); with `http`, it uses that
    client's base URL and leaves it open.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        if http is None:
            self.url = (url or DEFAULT_URL).rstrip("/")
            headers = {"User-Agent": user_agent}
            self.http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers, transport=transport)
            self._owns_http = True
        else:
            self.url = (url or str(http.base_url)).rstrip("/")
            self.http = http
            self._owns_http = False
        self.token = token
        self._csrf: str | None = None

    # -- lifecycle and identity -------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Log in with a password: a session (cookie and CSRF token) for the calls that follow.

        For scripts that run long or unattended, prefer an API token (`create_token`, or
        `legato tokens create`): a session expires and is bound to this client's cookies.
        """
        me = self._object("POST", "/auth/login", json={"username": username, "password": password})
        self._csrf = me.get("csrf_token") if isinstance(me.get("csrf_token"), str) else None
        return me

    def logout(self) -> None:
        """End the session `login()` began (an API token stays valid: revoke it with DELETE /tokens)."""
        try:
            self.call("POST", "/auth/logout")
        finally:
            self._csrf = None
            self.http.cookies.clear()

    def me(self) -> dict[str, Any]:
        """Who the server takes this client for, with its permissions and tenants."""
        return self._object("GET", "/auth/me")

    def create_token(
        self,
        name: str,
        *,
        kind: str = "personal",
        permissions: Sequence[str] | None = None,
        task_types: Sequence[str] | None = None,
        tenants: Sequence[str] | None = None,
        expires_in_days: float | None = 90,
    ) -> dict[str, Any]:
        """A new API token (its secret is in `token`, shown this once)."""
        body: dict[str, Any] = {"name": name, "kind": kind, "expires_in_days": expires_in_days}
        for field, value in (("permissions", permissions), ("task_types", task_types), ("tenants", tenants)):
            if value is not None:
                body[field] = list(value)
        return self._object("POST", "/tokens", json=body)

    def health(self) -> dict[str, Any]:
        return self._object("GET", "/health")

    # -- definitions and decisions ----------------------------------------------------------

    def deploy(
        self, model: str | Path | bytes, *, source_format: str | None = None, tenant: str | None = None
    ) -> dict[str, Any]:
        """Deploy a model: a `Path` (or a one-line str naming a .yaml/.bpmn/.dmn/... file), or its text.

        Text without `source_format` is BPMN/DMN XML when it starts with `<`, else YAML. A
        DMN model deploys its decisions (`kind: decisions` in the answer).
        """
        name, data = _model_upload(model, source_format)
        media = _UPLOAD_TYPES.get(Path(name).suffix.lower(), "application/xml")
        return self._object("POST", "/definitions", files={"file": (name, data, media)}, params=_given(tenant=tenant))

    def definitions(
        self,
        *,
        all_versions: bool = False,
        tenant: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page:
        return self.page("/definitions", all_versions=all_versions, tenant=tenant, limit=limit, cursor=cursor)

    def iter_definitions(self, *, all_versions: bool = False, tenant: str | None = None) -> Iterator[dict[str, Any]]:
        return self.iterate("/definitions", all_versions=all_versions, tenant=tenant)

    def definition(self, key: str, *, version: int | None = None, tenant: str | None = None) -> dict[str, Any]:
        """One deployed process with its model (the latest version unless `version`)."""
        return self._object("GET", f"/definitions/{segment(key)}", params=_given(version=version, tenant=tenant))

    def export_bpmn(
        self, process: str, version: int | None = None, tenant: str | None = None, *, flavour: str | None = None
    ) -> str:
        """A deployed process as BPMN 2.0 XML with a diagram (for Camunda Modeler or bpmn.io): the
        deployed document itself, or one generated in `flavour` ("camunda8", "camunda7")."""
        params = _given(version=version, tenant=tenant, flavour=flavour)
        return self._send("GET", f"/definitions/{segment(process)}/bpmn", params=params).text

    def decisions(self, *, all_versions: bool = False) -> list[dict[str, Any]]:
        """The deployed decision models (DMN files) with their decisions."""
        return self.page("/decisions", all_versions=all_versions).items

    def evaluate_decision(self, decision_id: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = {"variables": dict(variables or {})}
        return self._object("POST", f"/decisions/{segment(decision_id)}/evaluate", json=body)

    def decision_evaluations(self, instance_id: str) -> list[dict[str, Any]]:
        """What the business rule tasks of an instance decided, every page of it."""
        return list(self.iterate("/decisions/evaluations", instance_id=instance_id))

    # -- instances ----------------------------------------------------------------------------

    def start(
        self,
        process: str,
        variables: Mapping[str, Any] | None = None,
        *,
        business_key: str | None = None,
        idempotency_key: str | None = None,
        version: int | None = None,
        tenant: str | None = None,
    ) -> dict[str, Any]:
        """Start an instance; with an `idempotency_key`, at most once (a retry returns the first)."""
        body: dict[str, Any] = {"variables": dict(variables or {})}
        body.update(_given(business_key=business_key, version=version, tenant=tenant))
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._object("POST", f"/definitions/{segment(process)}/instances", json=body, headers=headers)

    def start_many(
        self,
        process: str,
        variables: Iterable[Mapping[str, Any] | None],
        *,
        business_key: str | None = None,
        idempotency_key: str | None = None,
        version: int | None = None,
        tenant: str | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """One instance per item of `variables`, in order; `progress` hears of each as it starts.

        With `idempotency_key` the n-th start (from 1) carries `KEY-n`, so running the same
        batch again after a failure part-way starts only the ones that are missing. Each
        start is its own request: a refusal stops the batch there, the earlier ones stay.
        """
        results = []
        for number, values in enumerate(variables, start=1):
            key = None if idempotency_key is None else f"{idempotency_key}-{number}"
            started = self.start(
                process, values, business_key=business_key, idempotency_key=key, version=version, tenant=tenant
            )
            results.append(started)
            if progress is not None:
                progress(started)
        return results

    def instances(
        self,
        *,
        process: str | None = None,
        version: int | None = None,
        status: str | None = None,
        business_key: str | None = None,
        tenant: str | None = None,
        waiting_at: str | None = None,
        error: str | None = None,
        var: Sequence[str] = (),
        variables: bool = False,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> Page:
        """A page of instances, newest first. `var=["amount:100"]` matches variable values;
        `variables=True` includes each instance's variables; other filters (`started_after`,
        ...) pass through as the API names them."""
        return self.page(
            "/instances",
            process=process,
            version=version,
            status=status,
            business_key=business_key,
            tenant=tenant,
            waiting_at=waiting_at,
            error=error,
            var=list(var) or None,
            variables=variables or None,
            limit=limit,
            cursor=cursor,
            **filters,
        )

    def iter_instances(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every instance matching the filters of `instances()`, page after page."""
        start = filters.pop("cursor", None)
        return follow(lambda cursor: self.instances(**filters, cursor=cursor), cursor=start)

    def instance(self, instance_id: str) -> dict[str, Any]:
        """One instance: variables, where it waits, open tasks and incidents, history."""
        return self._object("GET", f"/instances/{segment(instance_id)}")

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        return self.page(f"/instances/{segment(instance_id)}/history").items

    def cancel(self, instance_id: str, reason: str | None = None) -> dict[str, Any]:
        return self._object("POST", f"/instances/{segment(instance_id)}/cancel", json={"reason": reason})

    def set_variables(
        self, instance_id: str, variables: Mapping[str, Any] | None = None, remove: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Set and remove an active instance's variables in one step (recorded with the actor)."""
        body = {"set": dict(variables or {}), "remove": list(remove)}
        return self._object("PATCH", f"/instances/{segment(instance_id)}/variables", json=body)

    def wait(self, instance_id: str, timeout: float = 30.0, *, interval: float = 0.05) -> dict[str, Any]:
        """The instance once it has ended (completed, cancelled, terminated), as the embedded
        `wait`; TimeoutError after `timeout` seconds. Polls, backing off to once a second."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.instance(instance_id)
            if found.get("status") in _ENDED:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"instance {instance_id} still {found.get('status')} after {timeout} s")
            time.sleep(min(interval, left))
            interval = min(interval * 2, 1.0)

    # -- messages, signals, conditions ----------------------------------------------------------

    def send_message(
        self, message: str, correlation_key: str | None = None, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"name": message, "correlation_key": correlation_key, "variables": dict(variables or {})}
        return self._object("POST", "/messages", json=body)

    def broadcast_signal(self, signal: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._object("POST", "/signals", json={"name": signal, "variables": dict(variables or {})})

    def evaluate_conditions(self, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._object("POST", "/conditions", json={"variables": dict(variables or {})})

    # -- tasks and incidents ------------------------------------------------------------------

    def tasks(
        self,
        *,
        status: str | None = None,
        instance_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> Page:
        """A page of user tasks, oldest first (open ones unless `status`)."""
        return self.page("/tasks", status=status, instance_id=instance_id, limit=limit, cursor=cursor, **filters)

    def iter_tasks(self, **filters: Any) -> Iterator[dict[str, Any]]:
        start = filters.pop("cursor", None)
        return follow(lambda cursor: self.tasks(**filters, cursor=cursor), cursor=start)

    def task(self, task_id: str) -> dict[str, Any]:
        return self._object("GET", f"/tasks/{segment(task_id)}")

    def complete_task(self, task_id: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._object("POST", f"/tasks/{segment(task_id)}/complete", json={"variables": dict(variables or {})})

    # The people's side of a task (docs/api.md, "User tasks"): each returns the task after it.

    def claim_task(self, task_id: str) -> dict[str, Any]:
        return self._object("POST", f"/tasks/{segment(task_id)}/claim")

    def unclaim_task(self, task_id: str) -> dict[str, Any]:
        return self._object("POST", f"/tasks/{segment(task_id)}/unclaim")

    def assign_task(self, task_id: str, assignee: str | None) -> dict[str, Any]:
        """Assign, reassign, or (None) unassign: needs tasks:assign."""
        return self._object("POST", f"/tasks/{segment(task_id)}/assign", json={"assignee": assignee})

    def delegate_task(self, task_id: str, user: str) -> dict[str, Any]:
        return self._object("POST", f"/tasks/{segment(task_id)}/delegate", json={"user": user})

    def resolve_task(self, task_id: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = {"variables": dict(variables)} if variables is not None else None
        return self._object("POST", f"/tasks/{segment(task_id)}/resolve", json=body)

    def update_task(self, task_id: str, **changes: Any) -> dict[str, Any]:
        """Change `due`, `follow_up`, `priority`, `name` or `description` (None clears a date or text)."""
        return self._object("PATCH", f"/tasks/{segment(task_id)}", json=changes)

    def save_task_draft(self, task_id: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("PUT", f"/tasks/{segment(task_id)}/draft", json={"variables": dict(variables)})

    def comment_task(self, task_id: str, text: str) -> dict[str, Any]:
        return self._object("POST", f"/tasks/{segment(task_id)}/comments", json={"text": text})

    def task_comments(self, task_id: str) -> list[dict[str, Any]]:
        return list(self._object("GET", f"/tasks/{segment(task_id)}/comments")["items"])

    def attach_to_task(
        self, task_id: str, name: str, content: bytes, *, content_type: str | None = None
    ) -> dict[str, Any]:
        """Upload a file to a task; the answer is its metadata (the name as the server keeps it)."""
        upload = (name, content, content_type or "application/octet-stream")
        return self._object("POST", f"/tasks/{segment(task_id)}/attachments", files={"file": upload})

    def task_attachments(self, task_id: str) -> list[dict[str, Any]]:
        return list(self._object("GET", f"/tasks/{segment(task_id)}/attachments")["items"])

    def download_task_attachment(self, task_id: str, attachment_id: int) -> bytes:
        return self._send("GET", f"/tasks/{segment(task_id)}/attachments/{int(attachment_id)}").content

    def incidents(
        self,
        *,
        status: str | None = None,
        instance_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> Page:
        """A page of incidents, oldest first (open ones unless `status`); `process`,
        `element`, `error_type`, `error` (text in the message) narrow it."""
        return self.page("/incidents", status=status, instance_id=instance_id, limit=limit, cursor=cursor, **filters)

    def iter_incidents(self, **filters: Any) -> Iterator[dict[str, Any]]:
        start = filters.pop("cursor", None)
        return follow(lambda cursor: self.incidents(**filters, cursor=cursor), cursor=start)

    def incident(self, incident_id: int) -> dict[str, Any]:
        return self._object("GET", f"/incidents/{int(incident_id)}")

    def retry_incident(self, incident_id: int, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run the failed step again; `variables` (the fix) are set on the instance in the same step."""
        body = {"variables": dict(variables)} if variables else None
        return self._object("POST", f"/incidents/{int(incident_id)}/retry", json=body)

    def modify_instance(
        self,
        instance_id: str,
        *,
        cancel: Sequence[str] = (),
        start_before: Sequence[str] = (),
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Cancel the tokens at `cancel`'s elements, then start tokens before `start_before`'s:
        one step, all of it or nothing (422 MODIFICATION_INVALID names the element). The instance."""
        body: dict[str, Any] = {"cancel": list(cancel), "start_before": list(start_before)}
        if reason is not None:
            body["reason"] = reason
        return self._object("POST", f"/instances/{segment(instance_id)}/modify", json=body)

    def retry_incidents(
        self,
        *,
        all: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        dry_run: bool = False,
        variables: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> dict[str, Any]:
        """Retry, in bulk, the open incidents the filters select (`process`, `version`, `element`,
        `error_type`, `error`, `business_key`, `started_after`, `started_before`, `instance_id`,
        `tenant`); at most `limit` per call, `next_cursor` for the rest; a result per incident.
        `dry_run` counts and names the first; no filter at all needs `all=True`."""
        body = _bulk_body(filters, all=all, limit=limit, cursor=cursor, dry_run=dry_run)
        if variables:
            body["variables"] = dict(variables)
        return self._object("POST", "/incidents/retry", json=body)

    def cancel_instances(
        self,
        *,
        all: bool = False,
        limit: int = 100,
        cursor: str | None = None,
        dry_run: bool = False,
        reason: str | None = None,
        variables: Sequence[str] = (),
        **filters: Any,
    ) -> dict[str, Any]:
        """Cancel, in bulk, the active instances the filters select (`process`, `version`,
        `business_key`, `started_after`, `started_before`, `waiting_at`, `error`, `tenant`, and
        `variables` as `name:value`); at most `limit` per call, `next_cursor` for the rest."""
        body = _bulk_body(filters, all=all, limit=limit, cursor=cursor, dry_run=dry_run)
        if variables:
            body["var"] = list(variables)
        if reason is not None:
            body["reason"] = reason
        return self._object("POST", "/instances/cancel", json=body)

    def migrate_instances(
        self,
        process: str,
        *,
        from_version: int,
        to_version: int,
        mapping: Mapping[str, str] | None = None,
        generate: bool = True,
        instance_ids: Sequence[str] = (),
        business_key: str | None = None,
        tenant: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Move the active instances of `from_version` to `to_version` by the generated mapping
        with `mapping` over it; at most `limit` per call, `next_cursor` for the rest; a result
        per instance (422 MIGRATION_INVALID names each element a plan cannot map)."""
        body: dict[str, Any] = {
            "from_version": from_version,
            "to_version": to_version,
            "mapping": dict(mapping or {}),
            "generate": generate,
            "limit": limit,
            "dry_run": dry_run,
        }
        if instance_ids:
            body["instance_ids"] = list(instance_ids)
        for name, value in (("business_key", business_key), ("tenant", tenant), ("cursor", cursor)):
            if value is not None:
                body[name] = value
        return self._object("POST", f"/definitions/{segment(process)}/migrations", json=body)

    def workers(self, *, all: bool = False) -> dict[str, Any]:
        """The live workers with their task types and when last seen (`all`: also those no
        longer live), and `unserved`: task types jobs wait on that no live worker serves."""
        return self._object("GET", "/workers", params={"all": "true"} if all else None)

    # -- any route ----------------------------------------------------------------------------

    def page(self, path: str, **params: Any) -> Page:
        """One page of any list route (`/audit`, `/decisions/evaluations`, ...); None params are left out."""
        answer = self._object("GET", path, params=_given(**params))
        try:
            return Page.from_answer(answer)
        except ValueError:
            raise ApiError({"code": "UNEXPECTED_RESPONSE", "detail": f"{path} did not return items"}) from None

    def iterate(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of any list route, following `next_cursor` page after page."""
        start = params.pop("cursor", None)
        return follow(lambda cursor: self.page(path, **params, cursor=cursor), cursor=start)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any route under /api/v1: the parsed JSON answer, or None for 204 No Content."""
        response = self._send(method, path, **kwargs)
        return None if response.status_code == 204 or not response.content else response.json()

    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[bytes]:
        """A long answer (an audit export) chunk by chunk, never held in memory whole."""
        try:
            with self.http.stream(method, API_PREFIX + path, headers=self._headers(method, kwargs), **kwargs) as answer:
                if answer.status_code >= 400:
                    answer.read()
                    raise error_for(answer)
                yield from answer.iter_bytes()
        except httpx.TimeoutException:
            raise ServerUnreachable(self.url, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from None

    # -- plumbing -----------------------------------------------------------------------------

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self.call(method, path, **kwargs)
        if not isinstance(body, dict):
            raise ApiError({"code": "UNEXPECTED_RESPONSE", "detail": f"{path} did not return an object"})
        return body

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, API_PREFIX + path, headers=self._headers(method, kwargs), **kwargs)
        except httpx.TimeoutException:
            raise ServerUnreachable(self.url, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from None
        if response.status_code >= 400:
            raise error_for(response)
        return response

    def _headers(self, method: str, kwargs: dict[str, Any]) -> dict[str, str]:
        """The caller's headers with the credentials laid over them (the token, the CSRF token)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self._csrf and method.upper() not in _SAFE_METHODS:
            headers[CSRF_HEADER] = self._csrf
        return headers


def _model_upload(model: str | Path | bytes, source_format: str | None) -> tuple[str, bytes]:
    """The file name (its suffix tells the server the format) and bytes of a model to deploy."""
    if source_format is not None and source_format not in _FORMAT_SUFFIX:
        raise ValueError(f"source_format must be one of {', '.join(_FORMAT_SUFFIX)}, not {source_format!r}")
    if isinstance(model, Path) or (isinstance(model, str) and "\n" not in model and model.endswith(_MODEL_SUFFIXES)):
        path = Path(model)
        name = path.name if source_format is None else path.stem + _FORMAT_SUFFIX[source_format]
        return name, path.read_bytes()
    data = model.encode("utf-8") if isinstance(model, str) else bytes(model)
    guessed = "bpmn" if data.lstrip().startswith(b"<") else "yaml"
    return "model" + _FORMAT_SUFFIX[source_format or guessed], data


def _given(**params: Any) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def segment(value: str) -> str:
    """An id escaped for one path segment of `call()`: a '/' or '?' in it must not change the route."""
    return quote(value, safe=":")


def _bulk_body(filters: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    """A bulk request's JSON body: the filters given (times as ISO 8601) and the options."""
    body = {key: value.isoformat() if isinstance(value, datetime) else value for key, value in filters.items()}
    body = {key: value for key, value in body.items() if value is not None}
    return {**body, **{key: value for key, value in options.items() if value is not None}}


__all__ = ["API_PREFIX", "DEFAULT_URL", "USER_AGENT", "Client", "segment"]
