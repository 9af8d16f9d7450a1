"""The access log: one line per request, with the trace id of the caller's trace.

    GET /api/v1/instances 200 3.1 ms  (logger legato.http, level info)

A JSON log (`legato server --log-format json`) gets the parts as fields: `method`, `path`,
`status`, `duration_ms`, `client`, and `trace_id` when the request carried a W3C
`traceparent` header; every other line logged while the request runs (a 503, a handler
started by it) carries the same `trace_id`. Query strings are left out: they can hold
business keys, and the log is not the place for them. `legato server` turns it on (off
with `--no-access-log`); `create_app(..., access_log=True)` elsewhere.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.runtime.log_setup import log_context

log = logging.getLogger("legato.http")

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def ids_of(traceparent: str | None) -> tuple[str | None, str | None]:
    """The trace id and parent span id of a W3C `traceparent` header, if valid."""
    if not traceparent:
        return None, None
    match = _TRACEPARENT.match(traceparent.strip().lower())
    if match is None or match.group(1) == "0" * 32 or match.group(2) == "0" * 16:
        return None, None
    return match.group(1), match.group(2)


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C `traceparent` header (https://www.w3.org/TR/trace-context/), if valid."""
    if not traceparent:
        return None
    match = _TRACEPARENT.match(traceparent.strip().lower())
    if match is None or match.group(1) == "0" * 32:
        return None
    return match.group(1)


class AccessLog:
    """ASGI middleware: log each HTTP request once it is answered (or failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the server sends if the app fails before it answers
        traceparent = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"traceparent"), None)
        trace_id, span_id = ids_of(traceparent)  # the caller's, if no span of ours is current

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with log_context(trace_id=trace_id, span_id=span_id):
            try:
                await self.app(scope, receive, send_status)
            finally:
                duration = (time.perf_counter() - began) * 1000
                client = scope.get("client")
                log.info(
                    "%s %s %d %.1f ms",
                    scope["method"],
                    scope["path"],
                    status,
                    duration,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(duration, 2),
                        "client": client[0] if client else None,
                    },
                )


__all__ = ["AccessLog", "ids_of", "trace_id_of"]
