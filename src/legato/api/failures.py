"""Failures that are not the caller's fault: an unreachable database (503) and bugs (500).

- **DATABASE_UNAVAILABLE** (503, with `Retry-After`): the store could not reach the
  database or it did not answer within its timeouts (`legato.store.database`). The caller
  should retry later; nothing was changed.
- **INTERNAL_ERROR** (500): anything unexpected. The traceback goes to the log, never to
  the caller, and the answer carries `Connection: close`: after an unexpected error the
  server cannot vouch for the state of the connection, and a client that reuses it would
  otherwise see the next request reset.

Both are logged through a `LogThrottle`: the first occurrence of each kind with its
details, then at most one line per interval saying how many more there were, so an
outage of ten seconds is a few lines in the log, not a thousand tracebacks. The 500 is
handled by an ASGI middleware rather than an exception handler for `Exception`, because
Starlette re-raises exceptions after such a handler ran (for the server to log them
again, unthrottled).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.problems import http_problem, problem_response
from legato.errors import DatabaseUnavailable
from legato.runtime.log_throttle import LogThrottle

log = logging.getLogger("legato.api")


class UnexpectedErrors:
    """ASGI middleware: an exception no handler took becomes a 500 problem with `Connection: close`."""

    def __init__(self, app: ASGIApp, *, throttle: LogThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            suppressed = self.throttle.allow(("unexpected", type(exc).__name__, str(exc)[:200]))
            if suppressed is not None:
                log.error(
                    "unexpected error in %s %s%s",
                    scope["method"],
                    scope["path"],
                    self.throttle.note(suppressed),
                    exc_info=exc,
                )
            if started:  # too late for a problem document: let the server drop the connection
                raise
            problem = http_problem(500, "an unexpected error occurred; the server log has the details")
            problem["code"] = "INTERNAL_ERROR"
            await problem_response(problem, headers={"Connection": "close"})(scope, receive, send)


def install(app: FastAPI, *, throttle: LogThrottle | None = None) -> None:
    """Add the 503 handler and the 500 middleware; call right after `problems.install`."""
    throttle = throttle or LogThrottle()
    app.state.log_throttle = throttle

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DatabaseUnavailable)
        suppressed = throttle.allow(("database-unavailable",))
        if suppressed is not None:
            log.error(
                "%s %s answered 503: %s%s",
                request.method,
                request.url.path,
                exc.message,
                throttle.note(suppressed),
            )
        return problem_response(exc.to_problem(), headers={"Retry-After": str(exc.retry_after)})

    app.add_exception_handler(DatabaseUnavailable, on_database_unavailable)
    app.add_middleware(UnexpectedErrors, throttle=throttle)


__all__ = ["UnexpectedErrors", "install"]
