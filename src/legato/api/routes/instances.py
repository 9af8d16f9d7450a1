"""Start process instances, look at them, cancel them.

`POST /definitions/{key}/instances` honours an `Idempotency-Key` header: the same key with
the same request returns the instance it started the first time (200 instead of 201),
the same key with a different request is refused (409 IDEMPOTENCY_CONFLICT). A client
that retries after a timeout therefore never starts a process twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from legato.access.tenancy import filter_tenant, work_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.inputs import MAX_INTEGER
from legato.api.listing import CursorQuery, LimitQuery
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.schemas import (
    CancelInstance,
    ChangeVariables,
    HistoryList,
    InstanceDetail,
    InstanceList,
    InstanceStatus,
    InstanceSummary,
    StartedInstance,
    StartInstance,
)
from legato.api.security import PrincipalDep
from legato.store.pages import DEFAULT_PAGE
from legato.store.search import InstanceFilter, VariableFilter

router = APIRouter(tags=["instances"])


@router.post(
    "/definitions/{key}/instances",
    status_code=201,
    response_model=StartedInstance,
    summary="Start an instance of a process",
    description=(
        "201 with the new instance. With an `Idempotency-Key` that was used before for the "
        "same request: 200 and that instance (`created: false`)."
    ),
    responses=problem_responses(
        404,
        409,
        422,
        also={
            200: {
                "model": StartedInstance,
                "description": "an earlier start with the same Idempotency-Key",
            }
        },
    ),
)
def start_instance(
    key: str,
    request: Request,
    response: Response,
    legato: LegatoDep,
    actor: ActorDep,
    principal: PrincipalDep,
    body: StartInstance | None = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="retry-safe starts: one key, one instance",
        ),
    ] = None,
) -> dict[str, Any]:
    body = body or StartInstance()
    started = legato.start(
        key,
        body.variables,
        business_key=body.business_key,
        idempotency_key=idempotency_key,
        version=body.version,
        actor=actor,
        tenant=work_tenant(principal, body.tenant),
    )
    response.status_code = 201 if started.created else 200
    response.headers["Location"] = str(request.url_for("get_instance", instance_id=started.instance_id).path)
    return {
        "instance_id": started.instance_id,
        "process": started.process,
        "tenant": started.tenant,
        "version": started.version,
        "status": started.status,
        "created": started.created,
        "warnings": legato.task_type_warnings(started.jobs) if started.jobs else [],
    }


@router.get(
    "/instances",
    response_model=InstanceList,
    summary="Search instances, newest first, a page at a time",
    description=(
        "Filters combine with AND. `var=name:value` (repeatable) matches a variable equal to a JSON "
        'scalar (`var=amount:100`, `var=vip:true`, `var=city:Berlin`, `var=code:"42"` for the text 42). '
        "`waiting_at` finds active instances with a token at an element, `error` those with an open "
        "incident whose message contains the text. Pass `next_cursor` back as `cursor` for the next page."
    ),
    responses=problem_responses(404),
)
def list_instances(
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    tenant: TenantQuery = None,
    process: str | None = Query(default=None, max_length=255, description="the process key"),
    version: int | None = Query(default=None, ge=1, le=MAX_INTEGER, description="with `process`: that version"),
    status: InstanceStatus | None = None,
    business_key: str | None = Query(default=None, max_length=255),
    var: list[str] = Query(default=[], max_length=10, description="`name:value`, repeatable"),
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    ended_after: datetime | None = None,
    ended_before: datetime | None = None,
    waiting_at: str | None = Query(default=None, max_length=255, description="an element id"),
    error: str | None = Query(default=None, min_length=1, max_length=255, description="text in an open incident"),
    variables: bool = Query(default=False, description="include each instance's variables"),
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    where = InstanceFilter(
        process=process,
        version=version,
        status=status,
        business_key=business_key,
        variables=tuple(VariableFilter.parse(raw) for raw in var),
        started_after=started_after,
        started_before=started_before,
        ended_after=ended_after,
        ended_before=ended_before,
        waiting_at=waiting_at,
        error=error,
        visible=visible,
        tenant=filter_tenant(principal, tenant),
    )
    page = legato.store.search.instances(where, limit=limit, cursor=cursor, variables=variables)
    return {**page.to_dict(), "items": masker.instances(page.items)}


@router.get(
    "/instances/{instance_id}",
    response_model=InstanceDetail,
    summary="One instance: variables, where it waits, open tasks and incidents, history",
    responses=problem_responses(404),
)
def get_instance(instance_id: str, legato: LegatoDep, masker: MaskerDep, visible: VisibleDep) -> dict[str, Any]:
    return masker.instance(legato.instance(instance_id, visible=visible))


@router.get(
    "/instances/{instance_id}/history",
    response_model=HistoryList,
    summary="An instance's history: every step, who took it, what it changed",
    responses=problem_responses(404),
)
def get_history(instance_id: str, legato: LegatoDep, masker: MaskerDep, visible: VisibleDep) -> dict[str, Any]:
    history = legato.store.queries.history(instance_id, visible)
    if not history:  # every instance has at least its start; tell "none" from "no such instance"
        legato.store.queries.instance(instance_id, with_history=False)
    return {"items": masker.history(instance_id, history)}


@router.patch(
    "/instances/{instance_id}/variables",
    response_model=InstanceDetail,
    summary="Set and remove an active instance's variables (a repair)",
    description=(
        "One step: `set` writes process-level variables, `remove` deletes them; the history records "
        "`variables_changed` with the actor. Jobs already waiting keep their inputs until they are retried."
    ),
    responses=problem_responses(404, 409, 422),
)
def change_variables(
    instance_id: str, body: ChangeVariables, legato: LegatoDep, actor: ActorDep, masker: MaskerDep, visible: VisibleDep
) -> dict[str, Any]:
    changed = legato.set_variables(instance_id, body.set or {}, remove=tuple(body.remove), actor=actor, visible=visible)
    return masker.instance(changed)


@router.post(
    "/instances/{instance_id}/cancel",
    response_model=InstanceSummary,
    summary="Cancel an active instance",
    responses=problem_responses(404, 409),
)
def cancel_instance(
    instance_id: str,
    legato: LegatoDep,
    actor: ActorDep,
    masker: MaskerDep,
    visible: VisibleDep,
    body: CancelInstance | None = None,
) -> dict[str, Any]:
    legato.cancel(instance_id, reason=body.reason if body else None, actor=actor, visible=visible)
    return masker.instance(legato.store.queries.instance(instance_id, with_history=False))
