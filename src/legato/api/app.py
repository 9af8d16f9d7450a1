"""The app factory: `create_app(legato)` is the REST API of one `Legato`.

    app = create_app(Legato("orders.db"), worker=True)   # uvicorn runs it
    client = TestClient(create_app(legato))             # tests call it in-process

The app holds no globals: everything it serves comes from the `Legato` it was made for,
so tests make as many apps as they like. With `worker=True` the app runs that Legato's
in-process worker for its lifetime (started in the lifespan, drained and stopped on
shutdown, which uvicorn begins on SIGTERM or SIGINT).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import metadata
from pathlib import Path

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.access.authenticator import Authenticator
from legato.access.oidc import OidcProvider
from legato.access.sso import SingleSignOn
from legato.api import docs_pages, failures, hardening, openapi, problems, web
from legato.api.access_log import AccessLog
from legato.api.audit_trail import AuditTrail
from legato.api.camunda import PREFIX as CAMUNDA_PREFIX
from legato.api.camunda import router as camunda_router
from legato.api.inputs import check_parameters
from legato.api.limits import BodySizeLimit
from legato.api.request_metrics import RequestMetrics
from legato.api.routes import ROUTERS
from legato.api.security import AuthSettings, RateLimiter, authorize
from legato.runtime.app import Legato

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024
MAX_MODEL_BYTES = 5 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024

DESCRIPTION = """\
Deploy process models, start and inspect instances, send messages, complete user tasks,
retry incidents. Every error is an RFC 9457 problem document (`application/problem+json`)
with a stable `code`; request bodies are limited in size (413 PAYLOAD_TOO_LARGE).

Every route but `/health`, `/auth/login`, `/auth/providers` and the single sign-on
redirects (`/auth/oidc/...`) needs a caller: a bearer token (`Authorization: Bearer lgt_...`,
from `POST /tokens` or `legato login`, or a JWT from the configured identity provider) or
the browser session cookie from a login, whose changes also send `X-CSRF-Token`. Each route
names the permission it needs (docs/security.md)."""


def create_app(
    legato: Legato,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_model_bytes: int = MAX_MODEL_BYTES,
    worker: bool = False,
    auth: AuthSettings | None = None,
    allowed_hosts: Sequence[str] | None = None,
    cors_origins: Sequence[str] = (),
    access_log: bool = False,
    web_directory: Path | None = None,
) -> FastAPI:
    """The REST API for `legato`; with `worker=True`, also its in-process worker.

    `auth` defaults to authentication on; `AuthSettings(enabled=False)` serves everyone as
    an admin, which only `legato server --insecure-no-auth` on loopback should do.
    `access_log` logs one line per request (`legato.api.access_log`; `legato server` turns it on).
    `allowed_hosts` (None: any) and `cors_origins` (none by default) are the browser-facing
    defences of `legato.api.hardening`. The browser app is served at `/` from
    `web_directory` (default: the one built into the package, `legato.api.web`).
    """
    auth = auth or AuthSettings()
    app = FastAPI(
        title="Legato",
        version=_version(),
        description=DESCRIPTION,
        lifespan=_run_worker(legato) if worker else None,
        docs_url=None,  # served from the package by legato.api.docs_pages, not from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(authorize), Depends(check_parameters)],
    )
    app.state.legato = legato
    app.state.auth = auth
    app.state.api_prefix = API_PREFIX
    app.state.authenticator = Authenticator(legato.store, clock=legato.clock, sessions=auth.sessions)
    app.state.login_limiter = RateLimiter(auth.login_rate)
    app.state.sso = None if auth.oidc is None else SingleSignOn(app.state.authenticator, OidcProvider(auth.oidc))
    app.state.expects_worker = worker
    problems.install(app)
    failures.install(app)  # right after: its middleware must sit inside every other
    openapi.install(app)
    docs_pages.install(app, openapi_url="/openapi.json", title="Legato")
    deploy_path = f"{API_PREFIX}/definitions"
    camunda_deploy = f"{API_PREFIX}{CAMUNDA_PREFIX}/deployment/create"

    attachments = re.compile(rf"{re.escape(API_PREFIX)}/tasks/[^/]+/attachments/?")

    def limit_for(method: str, path: str) -> int:
        if method == "POST" and attachments.fullmatch(path):
            # the file, and room for the multipart framing around it; the route checks the file itself
            return legato.max_attachment_bytes + MULTIPART_OVERHEAD
        models = method == "POST" and path.rstrip("/") in (deploy_path, f"{deploy_path}/validate", camunda_deploy)
        return max_model_bytes if models else max_body_bytes

    app.add_middleware(BodySizeLimit, limit_for=limit_for)
    hardening.install(app, api_prefix=API_PREFIX, allowed_hosts=allowed_hosts, cors_origins=cors_origins)
    app.add_middleware(AuditTrail, api_prefix=API_PREFIX)  # outside the checks: it sees ORIGIN_REFUSED too
    # outermost: they count, time and log every answer, refusals at the door included
    app.add_middleware(RequestMetrics, metrics=legato.store.metrics, api_prefix=API_PREFIX)
    if access_log:
        app.add_middleware(AccessLog)
    app.add_middleware(CamundaPath, api_prefix=API_PREFIX)  # /engine-rest/... is /api/v1/engine-rest/...
    app.add_middleware(NoContentNoType)
    for router in (*ROUTERS, camunda_router):  # Camunda 7's /engine-rest: api/camunda
        app.include_router(router, prefix=API_PREFIX)
    web.install(app, api_prefix=API_PREFIX, directory=web_directory or web.STATIC_DIR)
    return app


class NoContentNoType:
    """A 204 or 304 has no body, so it names no content type: FastAPI's JSON default set
    `application/json` on them, and clients that parse by content type (Camunda's Node
    client) failed on the empty body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (204, 304):
                message = {
                    **message,
                    "headers": [(k, v) for k, v in message["headers"] if k.lower() != b"content-type"],
                }
            await send(message)

        await self.app(scope, receive, sending)


class CamundaPath:
    """Camunda 7 clients call `<base>/engine-rest/...`: the same routes as
    `/api/v1/engine-rest/...`, rewritten before anything else sees the request, so that the
    checks keyed on the API prefix (authentication, audit, limits, headers) apply alike."""

    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        self.app = app
        self.prefix = CAMUNDA_PREFIX
        self.target = api_prefix + CAMUNDA_PREFIX

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == self.prefix or path.startswith(self.prefix + "/"):
            scope = {**scope, "path": self.target + path[len(self.prefix) :]}
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def _run_worker(legato: Legato) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(legato.start_worker)
        try:
            yield
        finally:
            await run_in_threadpool(legato.stop_worker)

    return lifespan


def _version() -> str:
    try:
        return metadata.version("legato")
    except metadata.PackageNotFoundError:
        return "0.0.0"
