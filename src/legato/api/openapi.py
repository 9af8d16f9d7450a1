"""The OpenAPI document, made to say what the API really does.

FastAPI documents every error response as `application/json` and adds a 422 "validation
error" to every route that takes input. Legato answers bad input with 400 and every error
with `application/problem+json` (RFC 9457), so the generated document is corrected here:
error responses move to the problem media type, and the 422s FastAPI invented are dropped
(a documented 422 is a real EVALUATION_ERROR and stays).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from legato.api.problems import PROBLEM_MEDIA_TYPE

_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def install(app: FastAPI) -> None:
    """Replace `app.openapi` with a cached builder of the corrected document."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = secure(correct(document))
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def correct(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.get("responses", {})
            for status in list(responses):
                response = responses[status]
                content = response.get("content", {})
                if status == "422" and _schema_ref(content) == _FASTAPI_VALIDATION:
                    del responses[status]
                elif status[:1] in ("4", "5") and status != "503" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def secure(document: dict[str, Any]) -> dict[str, Any]:
    """Declare how callers authenticate: a bearer token or the session cookie (+ CSRF header)."""
    from legato.api.security import PUBLIC, ROUTE_PERMISSIONS, SESSION_COOKIE

    components = document.setdefault("components", {})
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token lgt_<id>_<secret>, or a JWT from the single sign-on provider",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "the browser session from POST /api/v1/auth/login; changes also send X-CSRF-Token",
        },
    }
    document["security"] = [{"bearer": []}, {"session": []}]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            needed = ROUTE_PERMISSIONS.get((method.upper(), path.removeprefix("/api/v1")))
            if needed == PUBLIC:
                operation["security"] = []
            elif needed is not None:
                operation["x-permission"] = needed
    return document


def _schema_ref(content: dict[str, Any]) -> str | None:
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return ref if isinstance(ref, str) else None
