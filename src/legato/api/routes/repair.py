"""Repair: retry the incidents, or cancel the instances, that a filter selects; move tokens.

Both answer a result per row and a cursor when more match (store/bulk.py); `dry_run` is the
preview. The filters name no process in the path, so a grant narrowed to some processes does
not reach these routes (api/security.py): a bulk action needs the permission for all.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from legato.access.tenancy import filter_tenant
from legato.api.deps import ActorDep, LegatoDep, VisibleDep
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.repair_schemas import (
    BulkCancel,
    BulkReport,
    BulkRetry,
    MigrateInstances,
    MigrationReport,
    ModifyInstance,
)
from legato.api.schemas import InstanceDetail
from legato.api.security import PrincipalDep
from legato.errors import PermissionDenied

router = APIRouter(tags=["repair"])


@router.post(
    "/incidents/retry",
    response_model=BulkReport,
    summary="Retry, in bulk, the open incidents a filter selects",
    description=(
        "At most `limit` incidents per request, oldest first, in transactions of a few dozen; a result per "
        "incident (`done`, `skipped` with the reason, `failed` with the code) and `next_cursor` when more match. "
        "`dry_run: true` counts and names the first without changing anything. Running it again does "
        "nothing twice: a resolved incident no longer matches, and one resolved meanwhile is skipped. "
        "`variables` need `variables:update` as well."
    ),
    responses=problem_responses(400, 404, 422),
)
def retry_incidents(
    body: BulkRetry, legato: LegatoDep, actor: ActorDep, principal: PrincipalDep, visible: VisibleDep
) -> dict[str, Any]:
    if body.variables and not principal.may("variables:update"):
        raise PermissionDenied("variables:update", who=principal.name)
    return legato.retry_incidents(
        process=body.process,
        version=body.version,
        element=body.element,
        error_type=body.error_type,
        error=body.error,
        business_key=body.business_key,
        started_after=body.started_after,
        started_before=body.started_before,
        instance_id=body.instance_id,
        tenant=filter_tenant(principal, body.tenant),
        all=body.all,
        limit=body.limit,
        cursor=body.cursor,
        dry_run=body.dry_run,
        variables=body.variables,
        actor=actor,
        visible=visible,
    )


@router.post(
    "/instances/cancel",
    response_model=BulkReport,
    summary="Cancel, in bulk, the active instances a filter selects",
    description=(
        "At most `limit` instances per request, newest first, in transactions of a few dozen; a result per "
        "instance and `next_cursor` when more match. `dry_run: true` counts and names the first. An instance "
        "that ended meanwhile is skipped. The filters are the instance list's (`var` is `name:value`)."
    ),
    responses=problem_responses(400, 404, 422),
)
def cancel_instances(
    body: BulkCancel, legato: LegatoDep, actor: ActorDep, principal: PrincipalDep, visible: VisibleDep
) -> dict[str, Any]:
    return legato.cancel_instances(
        process=body.process,
        version=body.version,
        business_key=body.business_key,
        started_after=body.started_after,
        started_before=body.started_before,
        waiting_at=body.waiting_at,
        error=body.error,
        variables=body.var,
        tenant=filter_tenant(principal, body.tenant),
        all=body.all,
        limit=body.limit,
        cursor=body.cursor,
        dry_run=body.dry_run,
        reason=body.reason,
        actor=actor,
        visible=visible,
    )


@router.post(
    "/instances/{instance_id}/modify",
    response_model=InstanceDetail,
    summary="Move tokens: cancel at some elements, start before others (Camunda's modify instance)",
    description=(
        "One step, all of it or nothing: the tokens at each `cancel` element are cancelled with their jobs, "
        "timers, subscriptions, user tasks and incidents, then a token starts before each `start_before` "
        "element and creates what that element waits for. 422 MODIFICATION_INVALID names the element that "
        "does not exist, has no token, or cannot be started there; 409 INSTANCE_NOT_ACTIVE for an ended instance."
    ),
    responses=problem_responses(404, 409, 422),
)
def modify_instance(
    instance_id: str,
    body: ModifyInstance,
    legato: LegatoDep,
    actor: ActorDep,
    masker: MaskerDep,
    visible: VisibleDep,
) -> dict[str, Any]:
    modified = legato.modify_instance(
        instance_id,
        cancel=body.cancel,
        start_before=body.start_before,
        reason=body.reason,
        actor=actor,
        visible=visible,
    )
    return masker.instance(modified)


@router.post(
    "/definitions/{key}/migrations",
    response_model=MigrationReport,
    summary="Migrate running instances to another version of the process (Camunda 7's migration)",
    description=(
        "The plan maps the elements of `from_version` to those of `to_version`: generated for the ids both "
        "share with the same kind (unless `generate: false`), `mapping` over it. A plan that cannot hold is "
        "422 MIGRATION_INVALID with `problems` (each `element` and `reason`) before any instance moves. Then at "
        "most `limit` active instances, oldest first, each moved atomically with its jobs, timers, "
        "subscriptions, user tasks and incidents: a result per instance (`failed` with `problems` when it "
        "stands at an element the plan does not map), `next_cursor` when more match. `dry_run: true` checks "
        "the page and names the instances that would fail."
    ),
    responses=problem_responses(404, 422),
)
def migrate_instances(
    key: str,
    body: MigrateInstances,
    legato: LegatoDep,
    actor: ActorDep,
    principal: PrincipalDep,
    visible: VisibleDep,
) -> dict[str, Any]:
    return legato.migrate_instances(
        key,
        from_version=body.from_version,
        to_version=body.to_version,
        mapping=body.mapping,
        generate=body.generate,
        instance_ids=body.instance_ids,
        business_key=body.business_key,
        tenant=filter_tenant(principal, body.tenant),
        limit=body.limit,
        cursor=body.cursor,
        dry_run=body.dry_run,
        actor=actor,
        visible=visible,
    )
