"""The app factory: `create_app(legato)` is the REST API of one `Legato`.

    app = create_app(Legato("orders.db"), worker=True)   # uvicorn runs it
    client = TestClient(create_app(legato))             # tests call it in-process

The app holds no globals: everything it serves comes from the `Legato` it was made for,
so tests make as many apps as they like. With `worker=True` the app runs that Legato's
in-process worker for its lifetime (started in the lifespan, drained and stopped on
shutdown, which uvicorn begins on SIGTERM or SIGINT).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import metadata

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from legato.api import openapi, problems
from legato.api.limits import BodySizeLimit
from legato.api.routes import ROUTERS
from legato.runtime.app import Legato

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024
MAX_MODEL_BYTES = 5 * 1024 * 1024

DESCRIPTION = """\
Deploy process models, start and inspect instances, send messages, complete user tasks,
retry incidents. Every error is an RFC 9457 problem document (`application/problem+json`)
with a stable `code`; request bodies are limited in size (413 PAYLOAD_TOO_LARGE)."""


def create_app(
    legato: Legato,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_model_bytes: int = MAX_MODEL_BYTES,
    worker: bool = False,
) -> FastAPI:
    """The REST API for `legato`; with `worker=True`, also its in-process worker."""
    app = FastAPI(
        title="Legato",
        version=_version(),
        description=DESCRIPTION,
        lifespan=_run_worker(legato) if worker else None,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.legato = legato
    app.state.expects_worker = worker
    problems.install(app)
    openapi.install(app)
    deploy_path = f"{API_PREFIX}/definitions"

    def limit_for(method: str, path: str) -> int:
        return max_model_bytes if method == "POST" and path.rstrip("/") == deploy_path else max_body_bytes

    app.add_middleware(BodySizeLimit, limit_for=limit_for)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    return app


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
