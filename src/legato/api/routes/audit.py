"""The audit log, read: a filtered, paged list, a streaming export, and the chain's check.

Writing happens in `legato.api.audit_trail`, for every operator action; these routes only
read (they need `audit:read`). A caller kept to tenants reads the rows about its tenants'
work and the shared tenant's only; rows about no tenant (identity, tokens, logins,
refusals) are for callers who see every tenant. Pages go newest first: pass `next_cursor` back as `cursor`
for older rows. The export streams every matching row oldest first as JSON lines
(`application/x-ndjson`), a page of rows per database read, so it holds no lock however
long the log is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from legato.access import Principal
from legato.access.tenancy import filter_tenant, visible
from legato.api.deps import LegatoDep
from legato.api.problems import problem_responses
from legato.api.security import PrincipalDep
from legato.store.audit import MAX_PAGE, AuditFilter

router = APIRouter(tags=["audit"])

NDJSON = "application/x-ndjson"


class AuditTarget(BaseModel):
    kind: str
    id: str | None


class AuditRow(BaseModel):
    seq: int = Field(description="position in the chain, from 1, without gaps")
    at: str = Field(description="ISO 8601, UTC")
    actor: str = Field(description="who: a user name, `token:<id>`, or the name a failed login tried")
    actor_kind: str = Field(description="user | token | anonymous | anonymous-dev")
    source: str | None = Field(description="the caller's address")
    action: str = Field(description="instance.cancel, task.complete, auth.login_failed, access.denied, ...")
    target: AuditTarget | None
    details: dict[str, Any] = Field(description="what changed (variable names, user fields); never secrets")
    outcome: Literal["ok", "refused", "failed"]
    code: str | None = Field(description="the problem code of a refusal or failure")
    tenant: str | None = Field(
        description="whose work the row is about: a tenant, `\"\"` for the shared tenant's, null for no tenant's "
        "(users, roles, tokens, logins, refusals; only callers who see every tenant read those)"
    )
    key_id: str
    prev_hash: str
    hash: str


class AuditList(BaseModel):
    items: list[AuditRow]
    next_cursor: str | None = Field(description="pass as `cursor` for the next, older page; null: no more")


class AuditHead(BaseModel):
    seq: int
    hash: str


class AuditBreak(BaseModel):
    seq: int = Field(description="the first row where the chain does not hold")
    reason: Literal["changed", "missing", "reordered", "unknown_key", "head"]
    detail: str


class AuditVerification(BaseModel):
    ok: bool
    rows: int = Field(description="rows checked")
    head: AuditHead = Field(description="the chain's end: keep it elsewhere to notice rows cut off later")
    key_source: Literal["configured", "file", "database"]
    broken: AuditBreak | None


def _filter(
    principal: Principal,
    tenant: str | None,
    actor: str | None,
    action: str | None,
    target_kind: str | None,
    target_id: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        outcome=outcome,
        since=_epoch(since),
        until=_epoch(until),
        tenant=filter_tenant(principal, tenant),
        visible=visible(principal),
    )


def _epoch(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


ActorQuery = Query(default=None, max_length=256, description="exactly this actor")
ActionQuery = Query(default=None, max_length=256, description="an action, or a prefix ending in .* (`task.*`)")
TargetKindQuery = Query(default=None, max_length=256, description="instance, task, user, token, ...")
TargetIdQuery = Query(default=None, max_length=256)
SinceQuery = Query(default=None, description="from this time on (ISO 8601; UTC if no offset)")
UntilQuery = Query(default=None, description="before this time")
AuditTenantQuery = Query(
    default=None,
    min_length=1,
    max_length=128,
    description="only rows about this tenant's work (one of the caller's tenants)",
)


@router.get(
    "/audit",
    response_model=AuditList,
    summary="The audit log, newest first, filtered and paged",
    responses=problem_responses(401, 403),
)
def list_audit(
    legato: LegatoDep,
    principal: PrincipalDep,
    tenant: str | None = AuditTenantQuery,
    actor: str | None = ActorQuery,
    action: str | None = ActionQuery,
    target_kind: str | None = TargetKindQuery,
    target_id: str | None = TargetIdQuery,
    outcome: Literal["ok", "refused", "failed"] | None = None,
    since: datetime | None = SinceQuery,
    until: datetime | None = UntilQuery,
    cursor: str | None = Query(default=None, max_length=32, description="`next_cursor` of the page before"),
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    where = _filter(principal, tenant, actor, action, target_kind, target_id, outcome, since, until)
    page = legato.store.audit.query(where, cursor=cursor, limit=limit)
    return {"items": [record.public() for record in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/audit/export",
    summary="Every matching row, oldest first, as JSON lines",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "one row (as in GET /audit) per line",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 403),
    },
)
def export_audit(
    legato: LegatoDep,
    principal: PrincipalDep,
    tenant: str | None = AuditTenantQuery,
    actor: str | None = ActorQuery,
    action: str | None = ActionQuery,
    target_kind: str | None = TargetKindQuery,
    target_id: str | None = TargetIdQuery,
    outcome: Literal["ok", "refused", "failed"] | None = None,
    since: datetime | None = SinceQuery,
    until: datetime | None = UntilQuery,
) -> StreamingResponse:
    where = _filter(principal, tenant, actor, action, target_kind, target_id, outcome, since, until)

    def lines() -> Iterator[bytes]:
        for record in legato.store.audit.export(where):
            yield orjson.dumps(record.public()) + b"\n"

    return StreamingResponse(
        lines(), media_type=NDJSON, headers={"Content-Disposition": 'attachment; filename="audit.jsonl"'}
    )


@router.get(
    "/audit/verify",
    response_model=AuditVerification,
    summary="Check the whole hash chain: the first changed, missing or reordered row",
    description="200 either way: `ok` says whether the chain holds, `broken` names the first row where it does not.",
    responses=problem_responses(401, 403),
)
def verify_audit(legato: LegatoDep, principal: PrincipalDep) -> dict[str, Any]:
    result = legato.store.audit.verify().public()
    if principal.tenants is not None and result["broken"] is not None:
        # The break's detail quotes the row (its action and actor), which may be another
        # tenant's: a caller kept to tenants learns where and how the chain broke, not what.
        result["broken"]["detail"] = f"the chain does not hold at row {result['broken']['seq']}"
    return result
