"""The Python client of a Legato server's REST API (`legato.Client`).

It imports only `legato.errors` and httpx, never the server's layers (an import-linter
contract in pyproject.toml keeps it so): what it knows of the server is the HTTP API.
"""

from legato.client._client import API_PREFIX, DEFAULT_URL, Client, segment
from legato.client._errors import (
    ApiConflict,
    ApiError,
    ApiForbidden,
    ApiInvalidInput,
    ApiNotFound,
    ApiServerError,
    ApiTooManyRequests,
    ApiUnauthenticated,
    ServerUnreachable,
)
from legato.client._pages import Page

__all__ = [
    "API_PREFIX",
    "DEFAULT_URL",
    "ApiConflict",
    "ApiError",
    "ApiForbidden",
    "ApiInvalidInput",
    "ApiNotFound",
    "ApiServerError",
    "ApiTooManyRequests",
    "ApiUnauthenticated",
    "Client",
    "Page",
    "ServerUnreachable",
    "segment",
]
