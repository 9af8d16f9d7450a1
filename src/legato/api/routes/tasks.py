"""User tasks: the work people do inside a process, listed and completed over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from legato.access.tenancy import filter_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.listing import CursorQuery, LimitQuery
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.schemas import CompleteTask, Task, TaskList, TaskStatus
from legato.api.security import PrincipalDep
from legato.store.pages import DEFAULT_PAGE

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
    instance_id: str | None = Query(default=None, max_length=255),
    tenant: TenantQuery = None,
    element: str | None = Query(default=None, max_length=255),
    assignee: str | None = Query(default=None, max_length=255),
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Oldest first. Pass `next_cursor` back as `cursor` for the next page."""
    page = legato.store.search.tasks(
        status=status,
        instance_id=instance_id,
        element=element,
        assignee=assignee,
        limit=limit,
        cursor=cursor,
        visible=visible,
        tenant=filter_tenant(principal, tenant),
    )
    return {**page.to_dict(), "items": masker.tasks(page.items)}


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
