"""Users, groups, roles, grants and API tokens: the directory, managed over HTTP.

The permission each route needs is in `legato.api.security.ROUTE_PERMISSIONS`; routes that
anyone may call for themselves (their own password, their own tokens) check the rest here.
A token's secret is in the answer to its creation only.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import ConfigDict, Field

from legato.access.authenticator import Authenticator
from legato.access.roles import BUILTIN_ROLES, ROLE_DESCRIPTIONS, check_permissions
from legato.api.inputs import RequestBody
from legato.api.problems import problem_responses
from legato.api.security import PrincipalDep, RateLimiter, source_of
from legato.errors import IdentityConflict, IdentityNotFound, InvalidInput, PermissionDenied

router = APIRouter(tags=["identity"])

Name = Field(min_length=1, max_length=128)


class OutOfOffice(RequestBody):
    model_config = ConfigDict(extra="forbid")
    start: str | None = Field(default=None, description="ISO 8601 date or date-time")
    end: str | None = None
    delegate: str | None = Field(default=None, description="the user who takes the tasks meanwhile")


class UserAttributes(RequestBody):
    """What the task manager uses to assign work: manager, skills, working hours, absence."""

    model_config = ConfigDict(extra="forbid")
    manager: str | None = None
    skills: list[str] | None = None
    working_hours: dict[str, str] | None = Field(default=None, description='{"mon": "09:00-17:00", ...}')
    calendar: str | None = None
    out_of_office: OutOfOffice | None = None


class NewUser(RequestBody):
    model_config = ConfigDict(extra="forbid")
    username: str = Name
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    attributes: UserAttributes | None = None
    roles: list[str] = Field(default_factory=list, description="roles granted to the user at once")


class UserChanges(RequestBody):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    disabled: bool | None = None
    attributes: UserAttributes | None = None


class NewPassword(RequestBody):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=1024)


class NewGroup(RequestBody):
    model_config = ConfigDict(extra="forbid")
    group: str = Name
    name: str | None = Field(default=None, max_length=200)


class NewRole(RequestBody):
    model_config = ConfigDict(extra="forbid")
    role: str = Name
    permissions: list[str] = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=500)


class NewGrant(RequestBody):
    model_config = ConfigDict(extra="forbid")
    role: str = Name
    kind: Literal["user", "group"]
    subject: str = Name
    process_keys: list[str] | None = Field(default=None, description="only for these processes; null: all")


class NewToken(RequestBody):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["personal", "service", "worker"] = "personal"
    permissions: list[str] | None = Field(
        default=None, description="a subset of the creator's; personal tokens default to all of the owner's"
    )
    task_types: list[str] | None = Field(default=None, description="worker tokens: the task types they may work on")
    tenants: list[str] | None = Field(
        default=None,
        description="service and worker tokens: the tenants whose work they see (each one the creator's); "
        "default: the creator's tenants",
    )
    expires_in_days: float | None = Field(default=90, description="null: never (service tokens only)")


def _auth(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


# -- users -----------------------------------------------------------------------------------


@router.get("/users", summary="Every user", responses=problem_responses(401, 403))
def list_users(request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    return {"items": [user.public() for user in _auth(request).directory.users()]}


@router.post("/users", status_code=201, summary="Create a user", responses=problem_responses(401, 403, 404, 409))
def create_user(body: NewUser, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    authenticator = _auth(request)
    for role in body.roles:
        _known_role(authenticator, role)
    attributes = body.attributes.model_dump(exclude_none=True) if body.attributes else None
    user = authenticator.create_user(
        body.username, body.password, display_name=body.display_name, email=body.email, attributes=attributes
    )
    for role in body.roles:
        authenticator.directory.grant(role.strip().lower(), "user", user.id, now=authenticator.now())
    return user.public()


@router.get("/users/{username}", summary="One user, with groups and grants", responses=problem_responses(401, 403, 404))
def get_user(username: str, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    directory = _auth(request).directory
    user = directory.user(username)
    return {
        **user.public(),
        "groups": sorted(directory.groups_of(user.id)),
        "grants": [grant.public() for grant in directory.grants([("user", user.id)])],
    }


@router.patch(
    "/users/{username}",
    summary="Change a user (disabling ends their sessions)",
    responses=problem_responses(401, 403, 404),
)
def update_user(username: str, body: UserChanges, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    authenticator = _auth(request)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"attributes"})
    if body.attributes is not None:
        changes["attributes"] = body.attributes.model_dump(exclude_unset=True)
    return authenticator.directory.update_user(username, changes, now=authenticator.now()).public()


@router.delete(
    "/users/{username}",
    status_code=204,
    summary="Delete a user; their tokens are revoked",
    responses=problem_responses(401, 403, 404),
)
def delete_user(username: str, request: Request, principal: PrincipalDep) -> Response:
    if username.strip().lower() == principal.name:
        raise InvalidInput("you cannot delete yourself", details={"field": "username"})
    authenticator = _auth(request)
    authenticator.directory.delete_user(username, now=authenticator.now())
    return Response(status_code=204)


@router.put(
    "/users/{username}/password",
    status_code=204,
    summary="Set a password (one's own, or any as admin)",
    responses=problem_responses(401, 403, 404),
)
def set_password(username: str, body: NewPassword, request: Request, principal: PrincipalDep) -> Response:
    if username.strip().lower() != principal.name and not principal.may("users:admin"):
        raise PermissionDenied("users:admin", who=principal.name)
    _auth(request).set_password(username, body.password)
    return Response(status_code=204)


# -- groups ----------------------------------------------------------------------------------


@router.get("/groups", summary="Every group with its direct members", responses=problem_responses(401, 403))
def list_groups(request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    return {"items": _auth(request).directory.groups()}


@router.post("/groups", status_code=201, summary="Create a group", responses=problem_responses(401, 403, 409))
def create_group(body: NewGroup, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    authenticator = _auth(request)
    return authenticator.directory.create_group(body.group, name=body.name, now=authenticator.now())


@router.get("/groups/{group}", summary="One group", responses=problem_responses(401, 403, 404))
def get_group(group: str, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    return _auth(request).directory.group(group)


@router.delete("/groups/{group}", status_code=204, summary="Delete a group", responses=problem_responses(401, 403, 404))
def delete_group(group: str, request: Request, _principal: PrincipalDep) -> Response:
    _auth(request).directory.delete_group(group)
    return Response(status_code=204)


@router.put(
    "/groups/{group}/members/{kind}/{member}",
    summary="Put a user or a group into a group (nesting)",
    responses=problem_responses(401, 403, 404, 409),
)
def add_member(
    group: str, kind: Literal["user", "group"], member: str, request: Request, _principal: PrincipalDep
) -> dict[str, Any]:
    directory = _auth(request).directory
    directory.add_member(group, kind, member)
    return directory.group(group)


@router.delete(
    "/groups/{group}/members/{kind}/{member}",
    summary="Take a member out of a group",
    responses=problem_responses(401, 403, 404),
)
def remove_member(
    group: str, kind: Literal["user", "group"], member: str, request: Request, _principal: PrincipalDep
) -> dict[str, Any]:
    directory = _auth(request).directory
    directory.remove_member(group, kind, member)
    return directory.group(group)


# -- roles and grants ------------------------------------------------------------------------


@router.get("/roles", summary="Built-in and custom roles with their permissions", responses=problem_responses(401, 403))
def list_roles(request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    builtin = [
        {"role": name, "builtin": True, "description": ROLE_DESCRIPTIONS[name], "permissions": sorted(permissions)}
        for name, permissions in BUILTIN_ROLES.items()
    ]
    custom = [
        {"role": name, "builtin": False, "description": role["description"], "permissions": role["permissions"]}
        for name, role in _auth(request).directory.custom_roles().items()
    ]
    return {"items": builtin + custom}


@router.post("/roles", status_code=201, summary="Create a custom role", responses=problem_responses(401, 403, 409))
def create_role(body: NewRole, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    authenticator = _auth(request)
    if body.role.strip().lower() in BUILTIN_ROLES:
        raise IdentityConflict(f"{body.role!r} is a built-in role", details={"role": body.role})
    permissions = check_permissions(body.permissions)
    authenticator.directory.create_role(body.role, permissions, now=authenticator.now(), description=body.description)
    return {
        "role": body.role.strip().lower(),
        "builtin": False,
        "description": body.description,
        "permissions": sorted(permissions),
    }


@router.delete(
    "/roles/{role}",
    status_code=204,
    summary="Delete a custom role and its grants",
    responses=problem_responses(401, 403, 404, 409),
)
def delete_role(role: str, request: Request, _principal: PrincipalDep) -> Response:
    if role.strip().lower() in BUILTIN_ROLES:
        raise IdentityConflict(f"{role!r} is a built-in role", details={"role": role})
    _auth(request).directory.delete_role(role)
    return Response(status_code=204)


@router.get("/grants", summary="Every role grant", responses=problem_responses(401, 403))
def list_grants(request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    return {"items": [grant.public() for grant in _auth(request).directory.grants()]}


@router.post(
    "/grants",
    status_code=201,
    summary="Grant a role to a user or group, optionally for some processes",
    responses=problem_responses(401, 403, 404),
)
def create_grant(body: NewGrant, request: Request, _principal: PrincipalDep) -> dict[str, Any]:
    authenticator = _auth(request)
    role = _known_role(authenticator, body.role)
    grant = authenticator.directory.grant(
        role, body.kind, body.subject, now=authenticator.now(), process_keys=body.process_keys
    )
    return grant.public()


@router.delete(
    "/grants/{role}/{kind}/{subject}",
    status_code=204,
    summary="Take a role away",
    responses=problem_responses(401, 403, 404),
)
def delete_grant(
    role: str, kind: Literal["user", "group"], subject: str, request: Request, _principal: PrincipalDep
) -> Response:
    _auth(request).directory.revoke(role, kind, subject)
    return Response(status_code=204)


# -- tokens ----------------------------------------------------------------------------------


@router.get(
    "/tokens",
    summary="API tokens: one's own, or all of them as admin (never their secrets)",
    responses=problem_responses(401),
)
def list_tokens(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    directory = _auth(request).directory
    tokens = directory.tokens() if principal.may("users:admin") else directory.tokens(owner=principal.name)
    return {"items": [token.public() for token in tokens]}


@router.post(
    "/tokens",
    status_code=201,
    summary="Create an API token: the `token` in the answer is shown this once",
    responses=problem_responses(401, 403, 404, 429),
)
def create_token(body: NewToken, request: Request, principal: PrincipalDep) -> dict[str, Any]:
    limiter: RateLimiter = request.app.state.login_limiter
    limiter.check(f"token:{source_of(request)}")
    if body.expires_in_days is None and body.kind == "personal":
        raise InvalidInput("personal tokens expire: set expires_in_days", details={"field": "expires_in_days"})
    new = _auth(request).issue_token(
        name=body.name,
        kind=body.kind,
        creator=principal,
        permissions=body.permissions,
        task_types=body.task_types,
        tenants=body.tenants,
        expires_in_days=body.expires_in_days,
    )
    return {**new.stored.public(), "token": new.token}


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoke a token (one's own, or any as admin)",
    responses=problem_responses(401, 403, 404),
)
def revoke_token(token_id: str, request: Request, principal: PrincipalDep) -> Response:
    _auth(request).revoke_token(token_id, by=principal)
    return Response(status_code=204)


def _known_role(authenticator: Authenticator, role: str) -> str:
    name = role.strip().lower()
    if name not in BUILTIN_ROLES and name not in authenticator.directory.custom_roles():
        raise IdentityNotFound("role", role)
    return name
