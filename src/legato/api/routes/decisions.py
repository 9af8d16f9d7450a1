"""DMN decisions: deployed through POST /definitions, listed, evaluated, and audited.

A DMN file goes through the same deploy endpoint as a process (routes/definitions.py hands
it here when the file name ends in `.dmn` or the XML root is in a DMN namespace), so one
upload command serves both. Evaluating a decision directly is a read: it stores nothing.
The evaluations that business rule tasks made are kept, with the rules that matched, and
listed per instance.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from legato.access.tenancy import work_tenant
from legato.api.decision_schemas import (
    DecisionEvaluated,
    DecisionEvaluationList,
    DecisionModelList,
    EvaluateDecision,
)
from legato.api.deps import LegatoDep, TenantQuery, VisibleDep
from legato.api.listing import CursorQuery, LimitQuery
from legato.api.masking import MaskerDep
from legato.api.problems import problem_responses
from legato.api.security import PrincipalDep
from legato.errors import EvaluationError
from legato.runtime.app import Legato
from legato.runtime.decisions import deploy_decisions
from legato.store.pages import DEFAULT_PAGE

router = APIRouter(tags=["decisions"])


@router.get(
    "/decisions",
    response_model=DecisionModelList,
    summary="List deployed decision models and their decisions",
    responses=problem_responses(),
)
def list_decisions(legato: LegatoDep, visible: VisibleDep, all_versions: bool = False) -> dict[str, Any]:
    """The latest version of each DMN model per tenant, or every version with `all_versions=true`."""
    stored = legato.store.decisions.list(all_versions=all_versions, visible=visible)
    return {"items": [model.summary() for model in stored]}


@router.get(
    "/decisions/evaluations",
    response_model=DecisionEvaluationList,
    summary="Evaluations made by business rule tasks",
    responses=problem_responses(),
)
def list_evaluations(
    legato: LegatoDep,
    masker: MaskerDep,
    visible: VisibleDep,
    instance_id: str | None = Query(default=None, max_length=255, description="only this instance's evaluations"),
    decision_id: str | None = Query(default=None, max_length=255, description="only this decision's"),
    limit: LimitQuery = DEFAULT_PAGE,
    cursor: CursorQuery = None,
) -> dict[str, Any]:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page."""
    ids, total, next_cursor = legato.store.search.evaluation_page(
        instance_id=instance_id, decision_id=decision_id, limit=limit, cursor=cursor, visible=visible
    )
    items = legato.store.decisions.evaluations_by_id(ids)
    return {"items": masker.evaluations(items), "total": total, "total_exact": True, "next_cursor": next_cursor}


@router.post(
    "/decisions/{decision_id}/evaluate",
    response_model=DecisionEvaluated,
    summary="Evaluate the latest version of a decision",
    description="404 DECISION_NOT_FOUND for an unknown id; 422 EVALUATION_ERROR when the decision fails on "
    "these variables (a UNIQUE table with overlapping rules names them in `rules`).",
    responses=problem_responses(404, 422),
)
def evaluate_decision(
    decision_id: str,
    body: EvaluateDecision,
    legato: LegatoDep,
    masker: MaskerDep,
    principal: PrincipalDep,
    tenant: TenantQuery = None,
) -> dict[str, Any]:
    inputs = body.variables or {}
    try:
        result = legato.evaluate_decision(decision_id, body.variables, tenant=work_tenant(principal, tenant))
    except EvaluationError as error:  # a message may quote the inputs it failed on
        message = masker.message(error.message, inputs)
        if message == error.message:
            raise
        raise EvaluationError(message, details=error.details) from None
    return masker.evaluated(result, inputs)


async def deploy_decision_model(
    response: Response, legato: Legato, text: str, tenant: str | None = None
) -> dict[str, Any]:
    """POST /definitions with a DMN file: 201 with the new version, 200 when unchanged."""
    deployment = await run_in_threadpool(
        lambda: deploy_decisions(legato.store, text, now=legato.clock.now(), tenant=tenant)
    )
    response.status_code = 201 if deployment.created else 200
    return deployment.summary()


__all__ = ["deploy_decision_model", "router"]
