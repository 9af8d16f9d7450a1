"""Every error leaves the API as an RFC 9457 problem document (`application/problem+json`).

A `LegatoError` already knows its code, status and body (`to_problem()`); this module adds
the errors that arise in the HTTP layer itself and maps them onto the same codes:

- request validation (pydantic): 400 INVALID_INPUT naming each failing field path; a
  `variables` field that is not an object is 400 VARIABLES_INVALID, as the Python API says;
- a body that is not JSON: 400 INVALID_INPUT with the line, column and character position;
- routing errors (unknown path, wrong method): the HTTP status, with its phrase as the code;
  a 405 names in `Allow` every method the path serves;
- anything unexpected: 500 INTERNAL_ERROR, logged with its traceback, never sent out, and
  an unreachable database: 503 DATABASE_UNAVAILABLE (both in `legato.api.failures`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from legato.api.inputs import VARIABLES_ERROR
from legato.errors import InvalidInput, LegatoError, TooManyRequests, VariablesInvalid

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ModelProblem(BaseModel):
    """One thing wrong with a deployed model (in MODEL_INVALID problems)."""

    element: str | None = Field(description="the element or flow at fault; null for the process")
    message: str
    line: int | None = Field(default=None, description="line in the uploaded source, when known")


class FieldError(BaseModel):
    """One failing field of a request (in INVALID_INPUT problems from request validation)."""

    field: str = Field(description="where: `body.variables`, `query.limit`, `header.Idempotency-Key`")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document. `code` is stable: match on it, not on `detail`."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://legato.dev/problems/task-not-active",
                    "title": "Task not active",
                    "status": 409,
                    "code": "TASK_NOT_ACTIVE",
                    "detail": "user task '01a2...:3' is already completed",
                    "task_id": "01a2...:3",
                }
            ]
        },
    )

    type: str
    title: str
    status: int
    code: str
    detail: str
    problems: list[ModelProblem] | None = Field(default=None, description="MODEL_INVALID only")
    errors: list[FieldError] | None = Field(default=None, description="request validation only")
    line: int | None = Field(default=None, description="MODEL_PARSE_ERROR, invalid JSON")
    column: int | None = Field(default=None, description="MODEL_PARSE_ERROR, invalid JSON")


_DESCRIPTIONS = {
    400: "Bad input: INVALID_INPUT, VARIABLES_INVALID, MODEL_INVALID, MODEL_PARSE_ERROR, ...",
    404: "Not found: DEFINITION_NOT_FOUND, INSTANCE_NOT_FOUND, TASK_NOT_FOUND, ...",
    409: "Conflict with the current state: TASK_NOT_ACTIVE, INSTANCE_NOT_ACTIVE, IDEMPOTENCY_CONFLICT, ...",
    401: "AUTHENTICATION_REQUIRED, LOGIN_FAILED, TOKEN_INVALID, SESSION_EXPIRED: who is asking is not known",
    403: "PERMISSION_DENIED (names the permission), CSRF_FAILED",
    429: "LOGIN_LOCKED, RATE_LIMITED: wait for Retry-After seconds",
    413: "PAYLOAD_TOO_LARGE: the body is over the limit (checked before it is parsed)",
    422: "EVALUATION_ERROR: an expression of the model failed on these variables",
    503: "The database is unreachable or the expected worker is not running",
}


def problem_responses(
    *statuses: int, also: Mapping[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry of a route: its problem documents, after the responses `also`."""
    responses: dict[int | str, dict[str, Any]] = dict(also or {})
    for status in (400, 401, 403, 413, *statuses):
        description = _DESCRIPTIONS.get(status, HTTPStatus(status).phrase)
        responses[status] = {"model": Problem, "description": description}
    return responses


def problem_response(problem: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        dict(problem),
        status_code=int(problem["status"]),
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def http_problem(status: int, detail: str) -> dict[str, Any]:
    """A problem for an error of the HTTP layer: the status phrase is the code."""
    phrase = HTTPStatus(status).phrase
    code = phrase.upper().replace(" ", "_").replace("-", "_")
    return {
        "type": f"https://legato.dev/problems/{code.lower().replace('_', '-')}",
        "title": phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }


def validation_error(errors: Sequence[Any], body: Any = None) -> LegatoError:
    """Turn pydantic's errors into the LegatoError a caller can act on."""
    for error in errors:
        if error.get("type") == "json_invalid":
            return _invalid_json(error, body)
    for error in errors:
        location = tuple(error.get("loc", ()))
        if error.get("type") == VARIABLES_ERROR:
            field, message = _path(location), str(error.get("msg", "invalid"))
            return VariablesInvalid(
                f"{field}: {message}",
                details={
                    "errors": [{"field": field, "message": message}],
                    "path": (error.get("ctx") or {}).get("path"),
                },
            )
        if location[-1:] == ("variables",) and error.get("type") == "dict_type":
            return VariablesInvalid(
                f"{_path(location)}: variables must be a JSON object, not {_json_type(error.get('input'))}",
                details={"errors": [{"field": _path(location), "message": "must be a JSON object"}]},
            )
    fields = [{"field": _path(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in errors]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or "the request is invalid"
    return InvalidInput(detail, details={"errors": fields})


def install(app: FastAPI) -> None:
    """Register the handlers that make every error response a problem document."""

    async def on_legato_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LegatoError)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="legato"'}
        if exc.status == 500:  # a fault of the server's own (AUDIT_KEY_INVALID): as after any 500
            headers = {"Connection": "close"}
        return problem_response(exc.to_problem(), headers=headers)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_error(exc.errors(), exc.body).to_problem())

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.method} {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(http_problem(exc.status_code, detail), headers=headers or None)

    app.add_exception_handler(LegatoError, on_legato_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path (Starlette names only the first route's).

    Asked of the routes through `matches` (a full match needs path and method), so routers
    nested in routers answer as well.
    """
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _invalid_json(error: Mapping[str, Any], body: Any) -> InvalidInput:
    location = tuple(error.get("loc", ()))
    position = location[1] if len(location) > 1 and isinstance(location[1], int) else 0
    reason = str((error.get("ctx") or {}).get("error", "malformed JSON"))
    text = body if isinstance(body, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return InvalidInput(
        f"the request body is not valid JSON: {reason} at line {line}, column {column} (character {position})",
        details={"line": line, "column": column, "position": position},
    )


def _path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {list: "an array", str: "a string", type(None): "null"}.get(type(value), type(value).__name__)
