"""User tasks: the work people do inside a process, listed, claimed, delegated and completed.

Who may do what is decided in the store, in the action's transaction (store/task_actions.py):
the route's permission lets a caller try (`tasks:claim`, `tasks:complete`, `tasks:assign`),
the task's people decide (a candidate claims, the assignee completes), and holders of
`tasks:assign` act on any task as operators.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query

from legato.access import Principal
from legato.access.tenancy import filter_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.listing import CursorQuery, LimitQuery
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.schemas import (
    AssignTask,
    CompleteTask,
    DelegateTask,
    ResolveTask,
    SaveDraft,
    Task,
    TaskList,
    TaskStatus,
    UpdateTask,
)
from legato.api.security import PrincipalDep
from legato.api.task_queries import task_query
from legato.store.pages import DEFAULT_PAGE
from legato.store.task_actions import TaskActor

TaskSort = Literal["created", "due", "priority"]

router = APIRouter(tags=["tasks"])


@router.get(
    "/tasks",
    response_model=TaskList,
    summary="List user tasks: my tasks, my groups' tasks, by process, due date, priority, variable",
    description="Filters combine with AND; `filter` applies a saved filter (`/task-filters`) under the "
    "parameters given. `mine`: assigned to you; `offered`: unassigned and offered to you or one of your "
    "groups (nested ones count); `overdue`: due before now; `due_within`: due within an ISO 8601 duration "
    "from now (`PT4H`). `sort`: `created` (oldest first), `due` (soonest first, undated last) or `priority` "
    "(most urgent first, then oldest). `var=name:value` as for instances. 400 INVALID_FILTER names a wrong field.",
    responses=problem_responses(404),
)
def list_tasks(
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    status: TaskStatus | None = None,
    instance_id: str | None = Query(default=None, max_length=255),
    tenant: TenantQuery = None,
    process: str | None = Query(default=None, max_length=255),
    element: str | None = Query(default=None, max_length=255),
    assignee: str | None = Query(default=None, max_length=255),
    mine: bool | None = None,
    offered: bool | None = None,
    unassigned: bool | None = None,
    candidate_group: str | None = Query(default=None, max_length=255),
    candidate_user: str | None = Query(default=None, max_length=255),
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    overdue: bool | None = None,
    due_within: str | None = Query(default=None, max_length=64, description="an ISO 8601 duration: PT4H, P2D"),
    follow_up_before: datetime | None = None,
    priority_min: int | None = Query(default=None, ge=0, le=1_000_000),
    priority_max: int | None = Query(default=None, ge=0, le=1_000_000),
    var: list[str] = Query(default=[], max_length=10, description="`name:value`, repeatable"),
    sort: TaskSort | None = None,
    filter: int | None = Query(default=None, ge=1, description="a saved filter's id"),
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Pass `next_cursor` back as `cursor` for the next page (with the same filters)."""
    given = {
        name: value
        for name, value in (
            ("status", status),
            ("instance_id", instance_id),
            ("process", process),
            ("element", element),
            ("assignee", assignee),
            ("mine", mine),
            ("offered", offered),
            ("unassigned", unassigned),
            ("candidate_group", candidate_group),
            ("candidate_user", candidate_user),
            ("due_before", due_before),
            ("due_after", due_after),
            ("overdue", overdue),
            ("due_within", due_within),
            ("follow_up_before", follow_up_before),
            ("priority_min", priority_min),
            ("priority_max", priority_max),
            ("var", var or None),
            ("sort", sort),
        )
        if value is not None
    }
    if filter is not None:
        saved = legato.store.task_filters.get(filter, user=principal.name, groups=principal.groups)
        given = {**saved["query"], **given}
    where, order = task_query(given, principal, legato.clock.now())
    where = dataclasses.replace(where, visible=visible, tenant=filter_tenant(principal, tenant))
    page = legato.store.task_search.tasks(where, sort=order, limit=limit, cursor=cursor)
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
    description="The assignee or an operator (tasks:assign): 403 TASK_NOT_ASSIGNEE otherwise. "
    "409 TASK_NOT_ACTIVE when the task is already completed or was cancelled, 409 TASK_DELEGATION_PENDING "
    "while it is delegated.",
    responses=problem_responses(403, 404, 409, 422),
)
def complete_task(
    task_id: str,
    legato: LegatoDep,
    actor: ActorDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    body: CompleteTask | None = None,
) -> dict[str, Any]:
    legato.complete_task(
        task_id, body.variables if body else None, actor=actor, visible=visible, user=task_actor(principal)
    )
    return masker.task(legato.store.queries.task(task_id))


def task_actor(principal: Principal) -> TaskActor:
    """The caller as the task rules see them: holders of tasks:assign act as operators."""
    return TaskActor(name=principal.name, groups=principal.groups, operator=principal.may("tasks:assign"))


_ACTION_PROBLEMS = problem_responses(403, 404, 409, 422)


@router.post(
    "/tasks/{task_id}/claim",
    response_model=Task,
    summary="Claim an open task offered to you",
    description="Only a candidate (a candidate user, or a member of a candidate group, nested groups included) "
    "or an operator claims; a task without candidates is open to anyone. 409 TASK_ALREADY_CLAIMED when "
    "someone else holds it, 403 TASK_NOT_CANDIDATE when it is not offered to you.",
    responses=_ACTION_PROBLEMS,
)
def claim_task(
    task_id: str, legato: LegatoDep, masker: MaskerDep, principal: PrincipalDep, visible: VisibleDep
) -> dict[str, Any]:
    return masker.task(legato.claim_task(task_id, task_actor(principal), visible=visible))


@router.post(
    "/tasks/{task_id}/unclaim",
    response_model=Task,
    summary="Give a claimed task back to its candidates",
    description="The assignee or an operator; 409 TASK_DELEGATION_PENDING while it is delegated.",
    responses=_ACTION_PROBLEMS,
)
def unclaim_task(
    task_id: str, legato: LegatoDep, masker: MaskerDep, principal: PrincipalDep, visible: VisibleDep
) -> dict[str, Any]:
    return masker.task(legato.unclaim_task(task_id, user=task_actor(principal), visible=visible))


@router.post(
    "/tasks/{task_id}/assign",
    response_model=Task,
    summary="Assign, reassign or unassign a task",
    description="An operator's action (tasks:assign); `assignee: null` takes the assignment away. "
    "404 USER_NOT_FOUND for a user the directory does not know, once it holds users.",
    responses=_ACTION_PROBLEMS,
)
def assign_task(
    task_id: str,
    body: AssignTask,
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
) -> dict[str, Any]:
    if body.assignee is not None:
        _known_user(legato, body.assignee)
    return masker.task(legato.assign_task(task_id, body.assignee, user=task_actor(principal), visible=visible))


@router.post(
    "/tasks/{task_id}/delegate",
    response_model=Task,
    summary="Delegate a task: the delegate works on it and resolves it back to you",
    description="The assignee or an operator. The assignee becomes the task's owner (Camunda 7's delegation).",
    responses=_ACTION_PROBLEMS,
)
def delegate_task(
    task_id: str,
    body: DelegateTask,
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
) -> dict[str, Any]:
    _known_user(legato, body.user)
    return masker.task(legato.delegate_task(task_id, body.user, user=task_actor(principal), visible=visible))


@router.post(
    "/tasks/{task_id}/resolve",
    response_model=Task,
    summary="Resolve a delegated task back to its owner",
    description="The delegate (the assignee) or an operator; the variables sent are kept as the task's draft. "
    "409 TASK_NOT_DELEGATED when nothing is delegated.",
    responses=_ACTION_PROBLEMS,
)
def resolve_task(
    task_id: str,
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    body: ResolveTask | None = None,
) -> dict[str, Any]:
    variables = body.variables if body else None
    return masker.task(legato.resolve_task(task_id, variables, user=task_actor(principal), visible=visible))


@router.patch(
    "/tasks/{task_id}",
    response_model=Task,
    summary="Change an open task's due or follow-up date, priority, name or description",
    description="The assignee, the owner or an operator. Dates are ISO 8601 date-times or durations from now "
    "(`P2D`); one that does not parse is 422 TASK_DATE_INVALID naming the field. Only the fields sent change.",
    responses=_ACTION_PROBLEMS,
)
def update_task(
    task_id: str,
    body: UpdateTask,
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
) -> dict[str, Any]:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return masker.task(legato.update_task(task_id, changes, user=task_actor(principal), visible=visible))


@router.put(
    "/tasks/{task_id}/draft",
    response_model=Task,
    summary="Save the form data entered so far, without completing the task",
    description="The assignee or an operator; a later draft replaces it, completing the task ends it.",
    responses=_ACTION_PROBLEMS,
)
def save_draft(
    task_id: str,
    body: SaveDraft,
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
) -> dict[str, Any]:
    return masker.task(legato.save_task_draft(task_id, body.variables, user=task_actor(principal), visible=visible))


def _known_user(legato: Any, user: str) -> None:
    """A user the directory knows, once it knows any: an assignment to a typo would strand the task."""
    directory = legato.store.directory
    if directory.has_users():
        directory.user(user)
