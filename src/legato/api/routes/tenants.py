"""Tenants and their members, managed over HTTP (users:read to look, users:admin to change).

Who belongs to a tenant decides what they see (access/tenancy.py): a user's tenants are its
own memberships and its groups'. Creating the first tenant is what turns tenancy on: from
then on a user who is not an administrator sees only its tenants' work and the shared work.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from legato.api.deps import LegatoDep
from legato.api.inputs import RequestBody
from legato.api.problems import problem_responses
from legato.api.security import PrincipalDep

router = APIRouter(tags=["tenants"])


class NewTenant(RequestBody):
    model_config = ConfigDict(extra="forbid")
    tenant: str = Field(min_length=1, max_length=128, description="the tenant id: lower case, no spaces or slashes")
    name: str | None = Field(default=None, max_length=200)


class TenantOut(BaseModel):
    tenant: str
    name: str | None
    users: list[str] = Field(description="users that are members directly")
    groups: list[str] = Field(description="groups whose members (nested groups too) belong to the tenant")
    created_at: str | None


class TenantList(BaseModel):
    items: list[TenantOut]


@router.get(
    "/tenants", response_model=TenantList, summary="Every tenant with its members", responses=problem_responses()
)
def list_tenants(legato: LegatoDep, _principal: PrincipalDep) -> dict[str, Any]:
    return {"items": legato.store.tenants.list()}


@router.post(
    "/tenants", status_code=201, response_model=TenantOut, summary="Create a tenant", responses=problem_responses(409)
)
def create_tenant(body: NewTenant, legato: LegatoDep, _principal: PrincipalDep) -> dict[str, Any]:
    return legato.store.tenants.create(body.tenant, name=body.name, now=legato.clock.now().timestamp())


@router.get("/tenants/{tenant}", response_model=TenantOut, summary="One tenant", responses=problem_responses(404))
def get_tenant(tenant: str, legato: LegatoDep, _principal: PrincipalDep) -> dict[str, Any]:
    return legato.store.tenants.get(tenant)


@router.delete(
    "/tenants/{tenant}",
    status_code=204,
    summary="Delete a tenant that no definition, decision or instance belongs to any more",
    responses=problem_responses(404, 409),
)
def delete_tenant(tenant: str, legato: LegatoDep, _principal: PrincipalDep) -> Response:
    legato.store.tenants.delete(tenant)
    return Response(status_code=204)


@router.put(
    "/tenants/{tenant}/members/{kind}/{member}",
    response_model=TenantOut,
    summary="Make a user, or every member of a group, a member of the tenant",
    responses=problem_responses(404),
)
def add_tenant_member(
    tenant: str, kind: Literal["user", "group"], member: str, legato: LegatoDep, _principal: PrincipalDep
) -> dict[str, Any]:
    legato.store.tenants.add_member(tenant, kind, member)
    return legato.store.tenants.get(tenant)


@router.delete(
    "/tenants/{tenant}/members/{kind}/{member}",
    response_model=TenantOut,
    summary="Take a user or a group out of a tenant",
    responses=problem_responses(404),
)
def remove_tenant_member(
    tenant: str, kind: Literal["user", "group"], member: str, legato: LegatoDep, _principal: PrincipalDep
) -> dict[str, Any]:
    legato.store.tenants.remove_member(tenant, kind, member)
    return legato.store.tenants.get(tenant)
