"""Request and response bodies of the decision (DMN) endpoints, as pydantic models.

They mirror `legato.store.decisions`: a deployed model's summary, an evaluation's result,
and an evaluation kept for an instance. Kept apart from `schemas.py` so that the decision
endpoints are one concept in two modules (this one and routes/decisions.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from legato.api.inputs import RequestBody, Variables
from legato.api.problems import ModelProblem
from legato.api.schemas import MASKED, PageInfo


class DecisionRef(BaseModel):
    id: str = Field(description="the decision's id: what business rule tasks and evaluate calls name")
    name: str | None


class DecisionModelSummary(BaseModel):
    id: int = Field(description="the id of this version")
    key: str = Field(description="the DMN definitions id, shared by all versions")
    tenant: str | None = Field(default=None, description="the tenant it belongs to; null: the shared tenant")
    version: int
    name: str | None
    checksum: str = Field(description="SHA-256 of what the decisions mean; equal models, equal checksums")
    deployed_at: datetime
    decisions: list[DecisionRef]


class DecisionsDeployed(DecisionModelSummary):
    kind: Literal["decisions"] = Field(description="tells a DMN deployment from a process deployment")
    created: bool = Field(description="false when the model equals the latest version (a no-op)")
    warnings: list[ModelProblem] = Field(description="what the import ignored (vendor extensions, ...)")


class DecisionModelList(BaseModel):
    items: list[DecisionModelSummary]


class EvaluateDecision(RequestBody):
    model_config = ConfigDict(extra="forbid")

    variables: Variables | None = Field(default=None, description="a JSON object: the decision's inputs")


class RequiredResult(BaseModel):
    """The result of a decision the evaluated one required (DMN 1.3, 6.3.7)."""

    decision_id: str
    decision_name: str | None
    value: Any
    matched_rules: list[str]
    required: list[RequiredResult]


class DecisionEvaluated(BaseModel):
    decision: str
    name: str | None
    key: str = Field(description="the decision model that holds it")
    tenant: str | None = Field(default=None, description="the tenant of that model; null: the shared tenant")
    version: int = Field(description="the model version evaluated: the latest that holds the decision")
    value: Any = Field(description="a value, an object by output name, or a list for multiple hits")
    matched_rules: list[str] = Field(description="ids of the rules the value was built from, in its order")
    required: list[RequiredResult] = Field(description="the decisions it needed, in evaluation order")
    masked: list[str] = Field(default_factory=list, description=MASKED)


class DecisionEvaluation(DecisionEvaluated):
    """An evaluation kept for an instance: a business rule task ran the decision."""

    id: int
    instance_id: str | None
    element: str | None = Field(description="the business rule task")
    job_id: str | None
    attempt: int | None
    evaluated_at: datetime


class DecisionEvaluationList(PageInfo):
    """Newest first."""

    items: list[DecisionEvaluation]
