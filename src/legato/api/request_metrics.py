"""HTTP requests counted by route template and status, timed by route template.

    legato_http_requests_total{method="GET", route="/api/v1/instances/{instance_id}", status="200"}

The route is the template the router matched, never the path itself: a path holds ids
and would make a series per instance. A request no route takes (a 404 at the door, a
refusal before routing) counts under `route="unmatched"`, the browser app's files under
`route="files"`.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.telemetry import Metrics

UNMATCHED = "unmatched"
FILES = "files"  # the browser app's files (legato.api.web)


class RequestMetrics:
    """ASGI middleware: count and time each HTTP request once it is answered (or failed)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, api_prefix: str = "") -> None:
        self.app = app
        self.metrics = metrics
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.metrics.enabled:
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the server sends if the app fails before it answers

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.http(
                scope["method"], route_template(scope, self.api_prefix), status, time.perf_counter() - began
            )


def route_template(scope: Scope, prefix: str = "") -> str:
    """The template of the route that answered (after the app ran), under the API's `prefix`.

    The router leaves the route it matched in the scope; a route of a router included
    with a prefix may know only its path inside that router, so the prefix is put back.
    """
    template = getattr(scope.get("route"), "path_format", None)
    if isinstance(template, str) and template:
        if prefix and scope["path"].startswith(prefix + "/") and not template.startswith(prefix + "/"):
            return prefix + template
        return template
    return FILES if "endpoint" in scope else UNMATCHED


__all__ = ["FILES", "UNMATCHED", "RequestMetrics", "route_template"]
