"""Logging in and out, and who am I: the browser's session and its CSRF token.

`POST /auth/login` sets two cookies: `legato_session` (HttpOnly: scripts never see it) and
`legato_csrf` (readable by the app, which echoes it in `X-CSRF-Token` on every change; a
page of another site can send the first cookie but cannot read the second). Both are
SameSite=Lax, and Secure when the request came over https or the settings say so.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from legato.access.authenticator import Authenticator, NewSession
from legato.api.inputs import RequestBody
from legato.api.problems import problem_responses
from legato.api.security import CSRF_COOKIE, SESSION_COOKIE, AuthSettings, PrincipalDep, RateLimiter, source_of

router = APIRouter(tags=["identity"])


class Login(RequestBody):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    username: str
    kind: str
    display_name: str | None = None
    groups: list[str]
    permissions: list[str]
    scoped_permissions: dict[str, list[str]] = Field(description="permissions held for some process keys only")
    tenants: list[str] | None = Field(description="the tenants it may see; null: every tenant")
    csrf_token: str | None = Field(default=None, description="login only: echo it in X-CSRF-Token")


@router.post(
    "/auth/login",
    response_model=Me,
    summary="Log in with a user name and password: sets the session and CSRF cookies",
    responses=problem_responses(401, 429),
)
def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
    limiter: RateLimiter = request.app.state.login_limiter
    source = source_of(request)
    limiter.check(f"login:{source}")
    authenticator: Authenticator = request.app.state.authenticator
    session = authenticator.login(body.username, body.password, source=source)
    set_session_cookies(request, response, session)
    return {**_me(request, session.principal), "csrf_token": session.csrf}


def secure_cookies(request: Request) -> bool:
    settings: AuthSettings = request.app.state.auth
    return settings.secure_cookies if settings.secure_cookies is not None else request.url.scheme == "https"


def set_session_cookies(request: Request, response: Response, session: NewSession) -> None:
    """The session and CSRF cookies of a new session: one place, for password and single sign-on alike."""
    authenticator: Authenticator = request.app.state.authenticator
    secure = secure_cookies(request)
    max_age = int(session.expires_at - authenticator.now())
    response.set_cookie(SESSION_COOKIE, session.secret, max_age=max_age, httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, session.csrf, max_age=max_age, httponly=False, samesite="lax", secure=secure)
    response.headers["Cache-Control"] = "no-store"
    request.state.principal = session.principal


@router.post("/auth/logout", status_code=204, summary="End this browser session", responses=problem_responses(401))
def logout(request: Request, _principal: PrincipalDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        authenticator: Authenticator = request.app.state.authenticator
        authenticator.logout(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get(
    "/auth/me", response_model=Me, summary="Who is calling, with what permissions", responses=problem_responses(401)
)
def me(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    return _me(request, principal)


def _me(request: Request, principal: Any) -> dict[str, Any]:
    display_name = None
    if principal.kind == "user" or (principal.kind == "token" and not principal.name.startswith("token:")):
        authenticator: Authenticator = request.app.state.authenticator
        user = authenticator.directory.find_user(principal.name)
        display_name = None if user is None else user.display_name
    return {
        "username": principal.name,
        "kind": principal.kind,
        "display_name": display_name,
        "groups": sorted(principal.groups),
        "permissions": sorted(principal.permissions),
        "scoped_permissions": {p: sorted(keys) for p, keys in principal.scoped.items()},
        "tenants": None if principal.tenants is None else sorted(principal.tenants),
    }
