"""The body size limit, at the ASGI level: refused before the application reads a byte."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from api_helpers import API, TestClient, assert_problem

from legato.api import create_app
from legato.api.limits import BodySizeLimit
from legato.runtime.app import Legato
from legato.testing.identity import admin_headers


class Recorder:
    """An ASGI app that records the body it was given."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.body = b"".join(chunks)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _call(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[list[Any], int]:
    sent: list[Any] = []
    remaining = list(chunks)
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        chunk = remaining.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(remaining)}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent, read


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    inner = Recorder()
    app = BodySizeLimit(inner, limit_for=lambda method, path: 10)
    sent, read = _call(app, [b"x" * 11], [(b"content-length", b"11")])
    assert read == 0 and inner.body is None
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    problem = orjson.loads(sent[1]["body"])
    assert problem["code"] == "PAYLOAD_TOO_LARGE" and problem["limit"] == 10


def test_a_stream_is_cut_off_as_soon_as_it_passes_the_limit() -> None:
    inner = Recorder()
    app = BodySizeLimit(inner, limit_for=lambda method, path: 10)
    sent, read = _call(app, [b"x" * 6, b"x" * 6, b"x" * 6, b"x" * 6], [])
    assert read == 2 and inner.body is None
    assert sent[0]["status"] == 413


def test_a_body_within_the_limit_is_passed_on_whole() -> None:
    inner = Recorder()
    app = BodySizeLimit(inner, limit_for=lambda method, path: 10)
    sent, _ = _call(app, [b"abc", b"def", b"ghij"], [(b"content-length", b"10")])
    assert inner.body == b"abcdefghij"
    assert sent[0]["status"] == 204


def test_limits_are_configurable_and_depend_on_the_route(legato: Legato) -> None:
    with TestClient(
        create_app(legato, max_body_bytes=100, max_model_bytes=1000), headers=admin_headers(legato)
    ) as client:
        small = {"name": "m", "variables": {"x": "y" * 200}}
        assert_problem(client.post(f"{API}/messages", json=small), 413, "PAYLOAD_TOO_LARGE")

        def chunked() -> Any:
            yield b'{"name": "m", "variables": {"x": "'
            yield b"y" * 200
            yield b'"}}'

        streamed = client.post(f"{API}/messages", content=chunked(), headers={"content-type": "application/json"})
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "PAYLOAD_TOO_LARGE")

        model = "process: x\nsteps:\n  - start: a\n  - end: b\n" + "#" * 400 + "\n"
        deployed = client.post(f"{API}/definitions", content=model, headers={"content-type": "application/yaml"})
        assert deployed.status_code == 201, deployed.text
        too_big = client.post(f"{API}/definitions", content=model * 3, headers={"content-type": "application/yaml"})
        assert assert_problem(too_big, 413, "PAYLOAD_TOO_LARGE")["limit"] == 1000
