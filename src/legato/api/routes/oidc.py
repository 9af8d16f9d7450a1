"""Single sign-on through an OpenID Connect provider: the login screen's buttons and the browser's way round.

    GET /auth/providers            what the login screen offers: the password form and the SSO buttons
    GET /auth/oidc/login           302 to the provider (sets the short-lived `legato_oidc` cookie)
    GET /auth/oidc/callback        the provider sends the browser back here: 303 into the app, logged in

The callback ends like `POST /auth/login`: the same `legato_session` and `legato_csrf`
cookies, so the app cannot tell the two apart. The decisions are `legato.access.sso`'s.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from legato.access.sso import SingleSignOn
from legato.api.audit_trail import note
from legato.api.problems import problem_responses
from legato.api.routes.auth import secure_cookies, set_session_cookies
from legato.api.security import RateLimiter, source_of
from legato.errors import OidcNotConfigured

router = APIRouter(tags=["identity"])

BROWSER_COOKIE = "legato_oidc"


def _redirect(where: str) -> dict[str, Any]:
    return {
        "description": f"Redirect {where}",
        "headers": {"Location": {"description": "where the browser goes next", "schema": {"type": "string"}}},
    }


class Provider(BaseModel):
    id: str = Field(description="stable: `oidc` for the configured OpenID Connect provider")
    name: str = Field(description="what the button says (LEGATO_OIDC_DISPLAY_NAME)")
    login_url: str = Field(description="where the button goes: a path on this server, e.g. /api/v1/auth/oidc/login")


class Providers(BaseModel):
    password: bool = Field(description="whether the user name and password form (POST /auth/login) is offered")
    providers: list[Provider]


@router.get(
    "/auth/providers",
    response_model=Providers,
    summary="The ways to log in: the password form and any single sign-on providers",
    responses=problem_responses(),
)
def providers(request: Request) -> dict[str, Any]:
    sso: SingleSignOn | None = request.app.state.sso
    offered = []
    if sso is not None:
        offered.append(
            {
                "id": "oidc",
                "name": sso.settings.display_name,
                "login_url": f"{request.app.state.api_prefix}/auth/oidc/login",
            }
        )
    return {"password": True, "providers": offered}


@router.get(
    "/auth/oidc/login",
    status_code=302,
    response_class=RedirectResponse,
    summary="Start a single sign-on: redirects the browser to the identity provider",
    responses=problem_responses(404, 429, 502, also={302: _redirect("to the identity provider's login")}),
)
def oidc_login(
    request: Request,
    return_to: Annotated[str | None, Query(max_length=2000, description="a path in the app to return to")] = None,
) -> RedirectResponse:
    sso = _sso(request)
    _limit(request)
    started = sso.start_login(redirect_uri=_redirect_uri(request, sso), return_to=return_to or "/")
    response = RedirectResponse(started.redirect_to, status_code=302)
    response.set_cookie(
        BROWSER_COOKIE,
        started.browser_secret,
        max_age=int(sso.settings.login_seconds),
        path=_cookie_path(request),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back, not on others' subrequests
        secure=secure_cookies(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/auth/oidc/callback",
    name="oidc_callback",
    status_code=303,
    response_class=RedirectResponse,
    summary="Where the identity provider sends the browser back: logs in and redirects into the app",
    responses=problem_responses(404, 409, 429, 502, also={303: _redirect("into the app, logged in")}),
)
def oidc_callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    sso = _sso(request)
    _limit(request)
    session, return_to = sso.finish_login(
        state=state,
        code=code,
        error=error,
        browser_secret=request.cookies.get(BROWSER_COOKIE),
        redirect_uri=_redirect_uri(request, sso),
        source=source_of(request),
    )
    request.state.principal = session.principal  # the audit trail records who logged in
    note(request, method="oidc")
    response = RedirectResponse(return_to, status_code=303)
    set_session_cookies(request, response, session)
    response.delete_cookie(BROWSER_COOKIE, path=_cookie_path(request))
    return response


def _sso(request: Request) -> SingleSignOn:
    sso: SingleSignOn | None = request.app.state.sso
    if sso is None:
        raise OidcNotConfigured("single sign-on is not set up on this server (LEGATO_OIDC_ISSUER)")
    return sso


def _limit(request: Request) -> None:
    limiter: RateLimiter = request.app.state.login_limiter
    limiter.check(f"oidc:{source_of(request)}")


def _redirect_uri(request: Request, sso: SingleSignOn) -> str:
    """The callback URL registered at the provider: the setting, else this server's own (behind a proxy: set it)."""
    return sso.settings.redirect_url or str(request.url_for("oidc_callback"))


def _cookie_path(request: Request) -> str:
    return f"{request.app.state.api_prefix}/auth/oidc"
