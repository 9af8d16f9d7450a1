"""Incidents: steps that ran out of retries and hold their instance until a person acts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from legato.access.tenancy import filter_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.inputs import MAX_INTEGER
from legato.api.listing import CursorQuery, LimitQuery
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.schemas import Incident, IncidentList, IncidentStatus, RetryIncident
from legato.api.security import PrincipalDep
from legato.errors import PermissionDenied
from legato.store.pages import DEFAULT_PAGE

router = APIRouter(tags=["incidents"])
IncidentId = Annotated[int, Path(ge=1, le=MAX_INTEGER)]


@router.get(
    "/incidents",
    response_model=IncidentList,
    summary="List incidents, a page at a time",
    responses=problem_responses(),
)
def list_incidents(
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    status: IncidentStatus = "open",
    instance_id: str | None = Query(default=None, max_length=255),
    tenant: TenantQuery = None,
    process: str | None = Query(default=None, max_length=255, description="the process key"),
    version: int | None = Query(default=None, ge=1, le=MAX_INTEGER, description="with `process`: that version"),
    element: str | None = Query(default=None, max_length=255),
    error_type: str | None = Query(default=None, max_length=255, description="the error code or type"),
    error: str | None = Query(default=None, min_length=1, max_length=255, description="text in the message"),
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Oldest first. Pass `next_cursor` back as `cursor` for the next page."""
    page = legato.store.search.incidents(
        status=status,
        instance_id=instance_id,
        process=process,
        version=version,
        element=element,
        error_type=error_type,
        error=error,
        limit=limit,
        cursor=cursor,
        visible=visible,
        tenant=filter_tenant(principal, tenant),
    )
    warnings = legato.waiting_warnings(visible=visible) if status == "open" else []
    return {**page.to_dict(), "items": masker.incidents(page.items), "warnings": warnings}


@router.get(
    "/incidents/{incident_id}",
    response_model=Incident,
    summary="One incident",
    responses=problem_responses(404),
)
def get_incident(incident_id: IncidentId, legato: LegatoDep, masker: MaskerDep, visible: VisibleDep) -> dict[str, Any]:
    return masker.incident(legato.store.queries.incident(incident_id, visible))


@router.post(
    "/incidents/{incident_id}/retry",
    response_model=Incident,
    summary="Retry the failed step of an open incident (after fixing its cause)",
    description=(
        "The incident is resolved and the step runs again; 409 INCIDENT_NOT_OPEN if it was resolved already. "
        "`variables` (the fix) are set on the instance in the same step, and a job's inputs are read again; "
        "sending them needs `variables:update` as well."
    ),
    responses=problem_responses(404, 409, 422),
)
def retry_incident(
    incident_id: IncidentId,
    legato: LegatoDep,
    actor: ActorDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    body: RetryIncident | None = None,
) -> dict[str, Any]:
    variables = body.variables if body else None
    if variables and not principal.may("variables:update"):
        raise PermissionDenied("variables:update", who=principal.name)
    legato.retry_incident(incident_id, variables=variables, actor=actor, visible=visible)
    return masker.incident(legato.store.queries.incident(incident_id))
