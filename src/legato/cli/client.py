"""The CLI's client of the REST API: one method per call, errors as exceptions.

The HTTP client is injected. In use it is an `httpx.Client` with `base_url=LEGATO_URL`;
in tests it is a `fastapi.testclient.TestClient` around an app in the same process, so
every command is tested against the real API without a socket. Anything with httpx's
`request(method, url, ...)` will do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

API_PREFIX = "/api/v1"
USER_AGENT = "legato-cli"
_UPLOAD_TYPES = {
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".json": "application/json",
}


class HttpClient(Protocol):
    """The part of `httpx.Client` the CLI uses."""

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = ...,
        json: Any = ...,
        files: Any = ...,
        headers: Any = ...,
    ) -> Any: ...


class ApiError(Exception):
    """The server answered with an error: `problem` is its RFC 9457 problem document."""

    def __init__(self, problem: Mapping[str, Any]) -> None:
        self.problem = dict(problem)
        self.code = str(problem.get("code", "ERROR"))
        self.detail = str(problem.get("detail", ""))
        super().__init__(f"{self.code}: {self.detail}")


class ServerUnreachable(Exception):
    """No answer from the server at `url` (refused, unknown host, timed out)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach the Legato server at {url}: {reason}")


class ApiClient:
    def __init__(self, http: HttpClient, url: str) -> None:
        self.http = http
        self.url = url

    # -- definitions -----------------------------------------------------------------------

    def deploy(self, path: Path, *, tenant: str | None = None) -> dict[str, Any]:
        media = _UPLOAD_TYPES.get(path.suffix.lower(), "application/xml")
        files = {"file": (path.name, path.read_bytes(), media)}
        params = {} if tenant is None else {"tenant": tenant}
        return self._object("POST", "/definitions", files=files, params=params)

    def definitions(self, *, all_versions: bool = False, tenant: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"all_versions": all_versions}
        if tenant is not None:
            params["tenant"] = tenant
        return self._items("/definitions", params)

    # -- decisions -------------------------------------------------------------------------

    def decisions(self, *, all_versions: bool = False) -> list[dict[str, Any]]:
        return self._items("/decisions", {"all_versions": all_versions})

    def evaluate(self, decision_id: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("POST", f"/decisions/{_segment(decision_id)}/evaluate", json={"variables": dict(variables)})

    # -- instances -------------------------------------------------------------------------

    def start(
        self,
        process: str,
        variables: Mapping[str, Any],
        *,
        business_key: str | None = None,
        version: int | None = None,
        idempotency_key: str | None = None,
        tenant: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"variables": dict(variables)}
        if tenant is not None:
            body["tenant"] = tenant
        if business_key is not None:
            body["business_key"] = business_key
        if version is not None:
            body["version"] = version
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._object("POST", f"/definitions/{_segment(process)}/instances", json=body, headers=headers)

    def instances(self, **filters: Any) -> list[dict[str, Any]]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._items("/instances", params)

    def instance(self, instance_id: str) -> dict[str, Any]:
        return self._object("GET", f"/instances/{_segment(instance_id)}")

    def cancel(self, instance_id: str, reason: str | None = None) -> dict[str, Any]:
        return self._object("POST", f"/instances/{_segment(instance_id)}/cancel", json={"reason": reason})

    # -- messages, tasks, incidents --------------------------------------------------------

    def send(self, name: str, correlation_key: str | None, variables: Mapping[str, Any]) -> dict[str, Any]:
        body = {"name": name, "correlation_key": correlation_key, "variables": dict(variables)}
        return self._object("POST", "/messages", json=body)

    def conditions(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("POST", "/conditions", json={"variables": dict(variables)})

    def signal(self, name: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("POST", "/signals", json={"name": name, "variables": dict(variables)})

    def tasks(self, **filters: Any) -> list[dict[str, Any]]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._items("/tasks", params)

    def complete(self, task_id: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self._object("POST", f"/tasks/{_segment(task_id)}/complete", json={"variables": dict(variables)})

    def incidents(self, **filters: Any) -> list[dict[str, Any]]:
        params = {name: value for name, value in filters.items() if value is not None}
        return self._items("/incidents", params)

    def retry(self, incident_id: int, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = {"variables": dict(variables)} if variables else None
        return self._object("POST", f"/incidents/{incident_id}/retry", json=body)

    def set_variables(
        self, instance_id: str, variables: Mapping[str, Any], remove: Sequence[str] = ()
    ) -> dict[str, Any]:
        body = {"set": dict(variables), "remove": list(remove)}
        return self._object("PATCH", f"/instances/{_segment(instance_id)}/variables", json=body)

    # -- plumbing --------------------------------------------------------------------------

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self._call(method, path, **kwargs)
        if not isinstance(body, dict):
            raise ApiError({"code": "UNEXPECTED_RESPONSE", "detail": f"{path} did not return an object"})
        return body

    def page(self, path: str, **filters: Any) -> dict[str, Any]:
        """One page of a list: `items`, `total`, `total_exact` and `next_cursor`."""
        params = {name: value for name, value in filters.items() if value is not None}
        body = self._object("GET", path, params=params)
        if not isinstance(body.get("items"), list):
            raise ApiError({"code": "UNEXPECTED_RESPONSE", "detail": f"{path} did not return items"})
        return body

    def _items(self, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        items = self._object("GET", path, params=params).get("items")
        if not isinstance(items, list):
            raise ApiError({"code": "UNEXPECTED_RESPONSE", "detail": f"{path} did not return items"})
        return items

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any route: the parsed JSON answer, or None for 204."""
        response = self._send(method, path, **kwargs)
        return None if response.status_code == 204 else response.json()

    def export_bpmn(self, key: str, version: int | None = None) -> str:
        params = {} if version is None else {"version": version}
        return str(self._send("GET", f"/definitions/{_segment(key)}/bpmn", params=params).text)

    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[bytes]:
        """A long answer (an export) chunk by chunk, never held in memory whole."""
        opener = getattr(self.http, "stream", None)
        if opener is None:  # a client without streaming: one chunk
            yield bytes(self._send(method, path, **kwargs).content)
            return
        try:
            with opener(method, API_PREFIX + path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise ApiError(_problem(response))
                yield from response.iter_bytes()
        except httpx.TimeoutException:
            raise ServerUnreachable(self.url, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, API_PREFIX + path, **kwargs)
        except httpx.TimeoutException:
            raise ServerUnreachable(self.url, "no answer in time") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(self.url, str(exc) or type(exc).__name__) from None
        if response.status_code >= 400:
            raise ApiError(_problem(response))
        return response


def make_http(url: str, timeout: float = 30.0, *, token: str | None = None) -> httpx.Client:
    headers = {"User-Agent": USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=url, timeout=timeout, headers=headers)


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return body
    text = " ".join(str(response.text).split())[:200]
    return {"code": f"HTTP_{response.status_code}", "detail": text or "the server gave no detail"}


def _segment(value: str) -> str:
    """A path segment, escaped: an id with a '/' or '?' must not change the route."""
    return quote(value, safe=":")
