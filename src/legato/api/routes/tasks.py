"""User tasks: the work people do inside a process, listed and completed over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from legato.access.tenancy import filter_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.schemas import CompleteTask, Task, TaskList, TaskStatus
from legato.api.security import PrincipalDep
from legato.store.queries import MAX_PAGE

router = APIRouter(tags=["tasks"])


@router.get(
    "/tasks",
    response_model=TaskList,
    summary="List user tasks, oldest first",
    responses=problem_responses(),
)
def list_tasks(
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    status: TaskStatus = "open",
    instance_id: str | None = None,
    tenant: TenantQuery = None,
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    only = filter_tenant(principal, tenant)
    found = legato.tasks(status=status, instance_id=instance_id, limit=limit, visible=visible, tenant=only)
    return {"items": masker.tasks(found)}


@router.get(
    "/tasks/{task_id}",
    response_model=Task,
    summary="One user task",
    responses=problem_responses(404),
)
def get_task(task_id: str, legato: LegatoDep, masker: MaskerDep, visible: VisibleDep) -> dict[str, Any]:
    return masker.task(legato.store.queries.task(task_id, visible))


@router.post(
    "/tasks/{task_id}/complete",
    response_model=Task,
    summary="Complete an open user task, with its output variables",
    description="409 TASK_NOT_ACTIVE when the task is already completed or was cancelled.",
    responses=problem_responses(404, 409, 422),
)
def complete_task(
    task_id: str,
    legato: LegatoDep,
    actor: ActorDep,
    masker: MaskerDep,
    visible: VisibleDep,
    body: CompleteTask | None = None,
) -> dict[str, Any]:
    legato.complete_task(task_id, body.variables if body else None, actor=actor, visible=visible)
    return masker.task(legato.store.queries.task(task_id))
