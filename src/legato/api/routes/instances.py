"""Start process instances, look at them, cancel them.

`POST /definitions/{key}/instances` honours an `Idempotency-Key` header: the same key with
the same request returns the instance it started the first time (200 instead of 201),
the same key with a different request is refused (409 IDEMPOTENCY_CONFLICT). A client
that retries after a timeout therefore never starts a process twice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from legato.access.tenancy import filter_tenant, work_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.inputs import MAX_INTEGER
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
from legato.store.queries import MAX_PAGE

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
    }


@router.get(
    "/instances",
    response_model=InstanceList,
    summary="List instances, newest first",
    responses=problem_responses(),
)
def list_instances(
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    process: str | None = None,
    status: InstanceStatus | None = None,
    business_key: str | None = None,
    tenant: TenantQuery = None,
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=MAX_INTEGER),
) -> dict[str, Any]:
    items = legato.instances(
        process=process,
        status=status,
        business_key=business_key,
        limit=limit,
        offset=offset,
        visible=visible,
        tenant=filter_tenant(principal, tenant),
    )
    return {"items": masker.instances(items), "limit": limit, "offset": offset}


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
