"""What a `Client` raises: the server's problem document as a typed exception.

Every error answer of the API is an RFC 9457 problem document with a stable `code`. The
client raises it as an `ApiError` whose class follows the HTTP status and which is *also*
the matching category of `legato.errors`, so one `except` serves a script that drives a
remote server and one that embeds `Legato`:

    LegatoError
    ├── ApiError                      any error answer: .status, .code, .detail, .problem
    │   ├── ApiInvalidInput           400, 413, 422 (also an InvalidInput)
    │   ├── ApiUnauthenticated        401 (also an Unauthenticated): log in or send a token
    │   ├── ApiForbidden              403 (also a Forbidden): PERMISSION_DENIED names the permission
    │   ├── ApiNotFound               404 (also a NotFound): INSTANCE_NOT_FOUND, TASK_NOT_FOUND, ...
    │   ├── ApiConflict               409 (also a Conflict): TASK_NOT_ACTIVE, IDEMPOTENCY_CONFLICT, ...
    │   ├── ApiTooManyRequests        429 (also a TooManyRequests): .retry_after seconds
    │   └── ApiServerError            5xx: .retry_after when the server named one (503)
    └── ServerUnreachable             SERVER_UNREACHABLE: no answer (refused, unknown host, timed out)

Scripts match on `.code` (`"INSTANCE_NOT_FOUND"`), never on the wording of `.detail`.
An answer that is not a problem document (a proxy's HTML page) gets the code `HTTP_<status>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from legato.errors import Conflict, Forbidden, InvalidInput, LegatoError, NotFound, TooManyRequests, Unauthenticated


class ApiError(LegatoError):
    """The server refused or failed a request; `problem` is its problem document, whole."""

    def __init__(self, problem: Mapping[str, Any], *, status: int | None = None, retry_after: float | None = None):
        self.problem: dict[str, Any] = dict(problem)
        code = str(self.problem.get("code") or f"HTTP_{status or 0}")
        detail = str(self.problem.get("detail", ""))
        # LegatoError's own initialiser, not the category's: those take the server side's arguments
        LegatoError.__init__(self, f"{code}: {detail}" if detail else code, details=self.problem)
        self.code = code  # the server's stable code, over the category's class attribute
        self.detail = detail
        found = self.problem.get("status")
        self.status = status if status is not None else found if isinstance(found, int) else 0
        self.retry_after = retry_after

    def to_problem(self) -> dict[str, Any]:
        """The problem document as the server sent it."""
        return dict(self.problem)


class ApiInvalidInput(ApiError, InvalidInput):
    """400, 413 or 422: the request itself is wrong; `problem` names the field (`errors`)."""


class ApiUnauthenticated(ApiError, Unauthenticated):
    """401: no token, a wrong or expired one, or a failed login."""


class ApiForbidden(ApiError, Forbidden):
    """403: known, but without the permission (or tenant) the request needs."""


class ApiNotFound(ApiError, NotFound):
    """404: no such definition, instance, task, incident, decision, or route."""


class ApiConflict(ApiError, Conflict):
    """409: the request does not fit the current state (a task already completed, ...)."""


class ApiTooManyRequests(ApiError, TooManyRequests):  # type: ignore[misc]  # retry_after: None without the header
    """429: slow down; `retry_after` says for how many seconds."""


class ApiServerError(ApiError):
    """5xx: the server failed (503 DATABASE_UNAVAILABLE comes with `retry_after`)."""


class ServerUnreachable(LegatoError):
    """No answer from the server at `url` (refused, unknown host, timed out)."""

    code = "SERVER_UNREACHABLE"
    status = 503

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the Legato server at {url}: {reason}", details={"url": url})
        self.url = url
        self.reason = reason


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ApiInvalidInput,
    401: ApiUnauthenticated,
    403: ApiForbidden,
    404: ApiNotFound,
    409: ApiConflict,
    413: ApiInvalidInput,
    422: ApiInvalidInput,
    429: ApiTooManyRequests,
}


def error_for(response: httpx.Response) -> ApiError:
    """The typed exception for an error answer, whatever its body is."""
    status = response.status_code
    kind = _BY_STATUS.get(status) or (ApiServerError if status >= 500 else ApiError)
    return kind(problem_of(response), status=status, retry_after=_retry_after(response))


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error answer; a stand-in for a body that is not one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return body
    text = " ".join(response.text.split())[:200]
    detail = text or "the server gave no detail"
    return {"code": f"HTTP_{response.status_code}", "status": response.status_code, "detail": detail}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: not one our server sends
        return None


__all__ = [
    "ApiConflict",
    "ApiError",
    "ApiForbidden",
    "ApiInvalidInput",
    "ApiNotFound",
    "ApiServerError",
    "ApiTooManyRequests",
    "ApiUnauthenticated",
    "ServerUnreachable",
    "error_for",
    "problem_of",
]
