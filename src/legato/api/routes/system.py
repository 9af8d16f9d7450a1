"""Health and statistics, for load balancers, dashboards and people."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response

from legato.api.deps import LegatoDep, VisibleDep
from legato.api.problems import problem_responses
from legato.api.schemas import Health, Stats
from legato.errors import MetricsTenantLimited
from legato.telemetry import CONTENT_TYPE

router = APIRouter(tags=["system"])
log = logging.getLogger("legato.api")


@router.get(
    "/health",
    response_model=Health,
    summary="Is the database reachable, is the worker running?",
    description=(
        "503 when the database is unreachable, or when this server was started to run a worker "
        "and it is not running. A server without a worker of its own is healthy without one."
    ),
    responses={503: {"model": Health, "description": "unavailable"}},
)
def health(request: Request, response: Response, legato: LegatoDep) -> dict[str, Any]:
    try:
        with legato.store.database.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        database = "ok"
    except Exception as exc:
        throttle = getattr(request.app.state, "log_throttle", None)
        suppressed = 0 if throttle is None else throttle.allow(("health", type(exc).__name__))
        if suppressed is not None:
            note = throttle.note(suppressed) if throttle is not None else ""
            log.warning("health check: the database is unreachable: %s%s", exc, note)
        database = "unreachable"
    worker = "running" if legato.worker is not None else "stopped"
    expects_worker = bool(getattr(request.app.state, "expects_worker", False))
    healthy = database == "ok" and (worker == "running" or not expects_worker)
    response.status_code = 200 if healthy else 503
    return {"status": "ok" if healthy else "unavailable", "database": database, "worker": worker}


@router.get("/stats", response_model=Stats, summary="Instance counts by status, job counts")
def stats(legato: LegatoDep, visible: VisibleDep) -> dict[str, Any]:
    """Counts of the caller's tenants and the shared one only: other tenants' volume is theirs."""
    worker = legato.worker
    return {
        "instances": legato.store.queries.count_instances(visible=visible),
        "jobs": legato.store.queries.job_counts(visible),
        "worker": dict(worker.stats) if worker is not None else None,
    }


@router.get(
    "/metrics",
    summary="Prometheus metrics of the whole installation",
    description=(
        "The Prometheus text format: instances started, completed and failed per process and version, "
        "step and job durations per element, job queue depth and the age of the oldest due job, open "
        "incidents and user tasks, lock expirations, claim and commit sizes and times, HTTP requests by "
        "route and status (docs/metrics.md). Needs `metrics:read`: scrape with a service token "
        "(`legato tokens create prometheus --kind service --permission metrics:read --no-expiry`). The numbers cover "
        "every tenant, so a caller kept to some tenants is refused (403 METRICS_TENANT_LIMITED)."
    ),
    response_class=Response,
    responses=problem_responses(
        also={
            200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}, "description": "the metrics"}
        }
    ),
)
def metrics(legato: LegatoDep, visible: VisibleDep) -> Response:
    if visible is not None:
        raise MetricsTenantLimited(
            "the metrics count every tenant's work; this caller is kept to some tenants",
            details={"tenants": sorted(visible)},
        )
    store = legato.store
    body = store.metrics.render(store.gauges.reader(legato.clock.now))
    return Response(body, media_type=CONTENT_TYPE.split(";")[0], headers={"Content-Type": CONTENT_TYPE})
