"""Request size limits, enforced before anything parses the body.

A declared `Content-Length` over the limit is refused at once, without reading a byte. A
body without one (chunked) is read up to the limit and refused as soon as it goes over.
A body within the limit is buffered and replayed to the application, so the JSON and
multipart parsers only ever see bodies that fit. The limit depends on the route: model
uploads may be larger than commands (`limit_for`).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.problems import PROBLEM_MEDIA_TYPE
from legato.errors import PayloadTooLarge

LimitFor = Callable[[str, str], int]  # (method, path) -> bytes


class BodySizeLimit:
    """ASGI middleware: 413 PAYLOAD_TOO_LARGE for request bodies over `limit_for(method, path)`."""

    def __init__(self, app: ASGIApp, *, limit_for: LimitFor) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit, declared)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, limit, None)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int, declared: int | None) -> None:
    size = f" ({declared} bytes)" if declared is not None else ""
    error = PayloadTooLarge(
        f"the request body{size} is larger than the limit of {limit} bytes for this endpoint",
        details={"limit": limit},
    )
    body = orjson.dumps(error.to_problem())
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
