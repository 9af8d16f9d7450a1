"""External tasks: workers in other processes and languages fetch service-task jobs and report.

The routes are a thin door onto `legato.runtime.external_tasks`, which claims and
reports through the same store paths as the in-process worker. What the door adds:

- who may: every route needs `jobs:work`; a worker token works only on its task types
  (403 TASK_TYPE_DENIED naming the type) and sees only its tenants' tasks (another
  tenant's task answers 404, as everywhere in the API);
- fetch-and-lock runs on the event loop while it waits (a long poll holds no thread).

Fetched variables are not masked: a worker runs the task, and needs its inputs as they are
(as an in-process handler does). Give worker tokens only to code trusted with them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, Request

from legato.access import Principal
from legato.access.tenancy import visible
from legato.api.deps import LegatoDep
from legato.api.external_task_schemas import (
    CompleteExternalTask,
    ExtendLock,
    ExternalBpmnError,
    FailExternalTask,
    FetchAndLock,
    LockedTask,
    LockExtended,
    UnlockExternalTask,
)
from legato.api.problems import problem_responses
from legato.api.security import PrincipalDep
from legato.errors import TaskTypeDenied
from legato.runtime.external_tasks import Topic

router = APIRouter(tags=["external tasks"])
TaskId = Path(min_length=1, max_length=300, description="the id from fetch-and-lock")


@router.post(
    "/external-tasks/fetch-and-lock",
    response_model=list[LockedTask],
    summary="Fetch and lock due service tasks of some task types, waiting for them if asked (long polling)",
    description=(
        "Locks up to `max_tasks` due tasks of the topics' task types for `worker_id`, each for its topic's "
        "`lock_duration`. With none due and `async_response_timeout` > 0 the request waits, and answers as soon "
        "as a task is due (woken by the commit that made it so, on this server or another), or with an empty "
        "list when the time is up. Report each task before its lock expires, or extend the lock."
    ),
    responses=problem_responses(),
)
async def fetch_and_lock(
    body: FetchAndLock, request: Request, legato: LegatoDep, principal: PrincipalDep
) -> list[dict[str, Any]]:
    for topic in body.topics:
        if not principal.may_work_on(topic.task_type):
            raise TaskTypeDenied(topic.task_type, who=principal.name)
    topics = [Topic(task_type=t.task_type, lock_seconds=t.lock_duration) for t in body.topics]
    external = legato.external_tasks
    tasks = await external.fetch_waiting(
        body.worker_id, topics, body.max_tasks, wait=body.async_response_timeout, visible=visible(principal)
    )
    if tasks and await request.is_disconnected():
        # The worker hung up while it waited (killed, timed out): give its tasks back now
        # rather than leave them locked, unrun, until their locks expire.
        for task in tasks:
            await asyncio.to_thread(external.unlock, task.id, body.worker_id)
        return []
    return [
        {
            "id": t.id,
            "idempotency_key": t.idempotency_key,
            "task_type": t.task_type,
            "instance_id": t.instance_id,
            "process": t.process,
            "business_key": t.business_key,
            "element": t.element,
            "attempt": t.attempt,
            "variables": t.variables,
            "tenant": t.tenant,
            "worker_id": t.worker_id,
            "lock_expires_at": t.lock_expires_at,
            "retries": t.retries,
            "traceparent": t.traceparent,
        }
        for t in tasks
    ]


_REPORT_RESPONSES = problem_responses(404, 409, 422)
_REPORTS = (
    "404 EXTERNAL_TASK_NOT_FOUND: no such open task (done already, or never was); 409 EXTERNAL_TASK_NOT_LOCKED: "
    "another worker id holds it, or nobody; 409 EXTERNAL_TASK_LOCK_EXPIRED: the lock ran out first (the task may "
    "be running elsewhere); 403 TASK_TYPE_DENIED: a task type outside the caller's scope."
)


def scope(principal: Principal) -> dict[str, Any]:
    """What every report checks the caller against: its tenants and its task types (also /engine-rest)."""
    return {"visible": visible(principal), "may_work_on": principal.may_work_on}


@router.post(
    "/external-tasks/{task_id}/complete",
    status_code=204,
    summary="Complete a locked task with its result variables",
    description="The variables are set on the instance and the instance moves on; exactly once. " + _REPORTS,
    responses=_REPORT_RESPONSES,
)
def complete(body: CompleteExternalTask, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.complete(task_id, body.worker_id, body.variables, **scope(principal))


@router.post(
    "/external-tasks/{task_id}/failure",
    status_code=204,
    summary="Report a technical failure: retried later, or an incident when no retries are left",
    description=_REPORTS,
    responses=_REPORT_RESPONSES,
)
def failure(body: FailExternalTask, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.fail(
        task_id,
        body.worker_id,
        error_message=body.error_message,
        error_details=body.error_details,
        error_type=body.error_type,
        retries=body.retries,
        retry_timeout=body.retry_timeout,
        **scope(principal),
    )


@router.post(
    "/external-tasks/{task_id}/bpmn-error",
    status_code=204,
    summary="Throw a BPMN error: an error boundary event or event subprocess catching its code takes over",
    description="Uncaught, the task holds in an incident. " + _REPORTS,
    responses=_REPORT_RESPONSES,
)
def bpmn_error(body: ExternalBpmnError, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.bpmn_error(
        task_id,
        body.worker_id,
        code=body.error_code,
        message=body.error_message,
        variables=body.variables,
        **scope(principal),
    )


@router.post(
    "/external-tasks/{task_id}/extend-lock",
    response_model=LockExtended,
    summary="Keep a locked task longer (a long-running handler)",
    description="Only before the lock expires. " + _REPORTS,
    responses=_REPORT_RESPONSES,
)
def extend_lock(body: ExtendLock, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> dict[str, Any]:
    until = legato.external_tasks.extend_lock(task_id, body.worker_id, body.new_duration, **scope(principal))
    return {"id": task_id, "lock_expires_at": until}


@router.post(
    "/external-tasks/{task_id}/unlock",
    status_code=204,
    summary="Give a locked task back unrun: free at once for any worker",
    description="The attempt is not counted. " + _REPORTS,
    responses=_REPORT_RESPONSES,
)
def unlock(body: UnlockExternalTask, legato: LegatoDep, principal: PrincipalDep, task_id: str = TaskId) -> None:
    legato.external_tasks.unlock(task_id, body.worker_id, **scope(principal))
