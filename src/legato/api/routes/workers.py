"""The registry of live workers: who serves which task types (store/workers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query

from legato.api.deps import LegatoDep, VisibleDep
from legato.api.problems import problem_responses
from legato.api.schemas import WorkerList
from legato.store.workers import LIVE_SECONDS

router = APIRouter(tags=["workers"])


@router.get(
    "/workers",
    response_model=WorkerList,
    summary="The live workers, with the task types they serve and when they were last seen",
    description=(
        "In-process job executors (each server's, each `legato worker`) and external workers fetching over "
        "HTTP, as every server on the database sees them. `unserved`: task types that jobs wait on and no live "
        "worker serves: those jobs run only when a worker with a handler for them starts. `all=true` also lists "
        "workers not seen for a while (up to a day, `live: false`)."
    ),
    responses=problem_responses(),
)
def list_workers(
    legato: LegatoDep,
    visible: VisibleDep,
    everyone: bool = Query(default=False, alias="all", description="also workers that are no longer live"),
) -> dict[str, Any]:
    items = [
        {
            **worker,
            "started_at": datetime.fromtimestamp(worker["started_at"], UTC),
            "last_seen_at": datetime.fromtimestamp(worker["last_seen_at"], UTC),
        }
        for worker in legato.workers(everyone=everyone)
        # a caller kept to tenants sees the workers of everyone and of its tenants
        if visible is None or worker["tenants"] is None or visible & set(worker["tenants"])
    ]
    return {"items": items, "live_seconds": LIVE_SECONDS, "unserved": legato.waiting_warnings(visible=visible)}
