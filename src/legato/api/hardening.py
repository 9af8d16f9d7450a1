"""The browser-facing defences around the API: Host names, origins, security headers.

- **Allowed Host names** (a DNS-rebinding guard): a page on `evil.example` that resolves
  its own name to 127.0.0.1 still sends `Host: evil.example`; with `allowed_hosts` set the
  request is refused (400 HOST_NOT_ALLOWED) before any route runs. `legato server` allows
  the loopback names, its own `--host` and `LEGATO_ALLOWED_HOSTS`.
- **Origins**: a state-changing request whose `Origin` is neither this server nor in
  `cors_origins` is refused (403 ORIGIN_REFUSED) whatever its credentials, so another
  site's page cannot post a multipart deploy even where a cookie would ride along. CORS is
  off unless `cors_origins` lists origins (Starlette's CORSMiddleware answers preflights).
- **Headers** on every answer: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
  `Referrer-Policy: no-referrer`; API answers also get `Cache-Control: no-store` and a
  `Content-Security-Policy` that allows nothing (JSON is never a document to render);
  other pages (the browser app) get a policy that allows this server's own files and
  nothing else, no inline script (`_APP_CSP`); a page with a policy of its own (/docs,
  /redoc: legato.api.docs_pages) keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import orjson
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.problems import PROBLEM_MEDIA_TYPE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# The browser app (legato.api.web): scripts, styles and fonts from this server only; images
# also as data: URIs (bpmn-js draws its icons so); fetches and the event stream to this
# server only; no plugins, no <base>, forms post here, no framing.
_APP_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class Hardening:
    """ASGI middleware for the Host check, the Origin check and the security headers."""

    def __init__(
        self, app: ASGIApp, *, api_prefix: str, allowed_hosts: Sequence[str] | None, cors_origins: Sequence[str]
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        self.cors_origins = {o.rstrip("/").lower() for o in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _hostname(host) not in self.allowed_hosts:
            await _refuse(send, 400, "HOST_NOT_ALLOWED", f"the Host {host!r} is not one this server answers to")
            return
        origin = headers.get("origin")
        if origin and scope["method"] not in SAFE_METHODS and not self._origin_ok(origin, host, scope):
            await _refuse(send, 403, "ORIGIN_REFUSED", f"changes from pages of {origin!r} are refused")
            return
        is_api = scope["path"].startswith(self.api_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in _COMMON if h[0] not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", _API_CSP if is_api else _APP_CSP))
                if is_api and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _origin_ok(self, origin: str, host: str, scope: Scope) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.cors_origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc == host.lower()


def install(app: FastAPI, *, api_prefix: str, allowed_hosts: Sequence[str] | None, cors_origins: Sequence[str]) -> None:
    """Add the middleware; CORS only when origins are configured (it is off by default)."""
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", "Idempotency-Key"],
            max_age=600,
        )
    app.add_middleware(Hardening, api_prefix=api_prefix, allowed_hosts=allowed_hosts, cors_origins=cors_origins)


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    body = orjson.dumps(
        {
            "type": f"https://legato.dev/problems/{code.lower().replace('_', '-')}",
            "title": code.replace("_", " ").capitalize(),
            "status": status,
            "code": code,
            "detail": detail,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
