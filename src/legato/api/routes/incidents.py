"""Incidents: steps that ran out of retries and hold their instance until a person acts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from legato.access.tenancy import filter_tenant
from legato.api.deps import ActorDep, LegatoDep, TenantQuery, VisibleDep
from legato.api.inputs import MAX_INTEGER
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.schemas import Incident, IncidentList, IncidentStatus, RetryIncident
from legato.api.security import PrincipalDep
from legato.errors import PermissionDenied
from legato.store.queries import MAX_PAGE

router = APIRouter(tags=["incidents"])
IncidentId = Annotated[int, Path(ge=1, le=MAX_INTEGER)]


@router.get(
    "/incidents",
    response_model=IncidentList,
    summary="List incidents",
    responses=problem_responses(),
)
def list_incidents(
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    visible: VisibleDep,
    status: IncidentStatus = "open",
    instance_id: str | None = None,
    tenant: TenantQuery = None,
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    only = filter_tenant(principal, tenant)
    found = legato.incidents(status=status, instance_id=instance_id, limit=limit, visible=visible, tenant=only)
    return {"items": masker.incidents(found)}


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
