"""Single sign-on and provider JWTs against a real OpenID provider, both sides served over loopback HTTP.

The browser is an httpx client with a cookie jar: it follows Legato's redirect to the
provider, the provider's back to Legato's callback, and Legato's into the app, exactly as
a browser would. The provider (`legato.testing.identity_provider`) checks PKCE itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from api_helpers import API, assert_problem
from joserfc.jwk import RSAKey
from sqlalchemy import text

from legato.access.authenticator import Authenticator, ensure_admin
from legato.access.oidc import OidcSettings
from legato.api import create_app
from legato.api.security import AuthSettings
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from legato.testing.identity_provider import FakeIdentityProvider, serve_on_loopback, unsigned_token

GROUP_MAP = {"idp-engineers": "engineers", "idp-ops": "operators"}


@pytest.fixture
def idp() -> Iterator[FakeIdentityProvider]:
    provider = FakeIdentityProvider()
    with provider.serve():
        yield provider


@pytest.fixture
def sso_legato(tmp_path: Any) -> Iterator[Legato]:
    legato = Legato(str(tmp_path / "sso.db"))
    authenticator = Authenticator(legato.store)
    ensure_admin(authenticator, "correct horse battery")
    directory = authenticator.directory
    for group, role in (("engineers", "viewer"), ("operators", "operator"), ("reviewers", "task-worker")):
        directory.create_group(group, now=time.time())
        directory.grant(role, "group", group, now=time.time())
    yield legato
    legato.close()


@pytest.fixture
def oidc_settings(idp: FakeIdentityProvider) -> OidcSettings:
    return OidcSettings(
        issuer=idp.issuer,
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        group_map=GROUP_MAP,
        audiences=(idp.audience,),
        display_name="Test IdP",
        jwks_min_refresh_seconds=0,
    )


@pytest.fixture
def server(sso_legato: Legato, oidc_settings: OidcSettings) -> Iterator[str]:
    with serve_on_loopback(create_app(sso_legato, auth=AuthSettings(oidc=oidc_settings))) as url:
        yield url


@pytest.fixture
def browser(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, follow_redirects=True, timeout=20) as client:
        yield client


def directory(legato: Legato) -> Any:
    return Authenticator(legato.store).directory


def login_steps(browser: httpx.Client, return_to: str | None = None) -> str:
    """Start a login and let the provider answer: the callback URL the browser is sent to (not yet followed)."""
    query = f"?{urlencode({'return_to': return_to})}" if return_to else ""
    started = browser.get(f"{API}/auth/oidc/login{query}", follow_redirects=False)
    assert started.status_code == 302, started.text
    answered = browser.get(started.headers["location"], follow_redirects=False)
    assert answered.status_code == 302, answered.text
    return str(answered.headers["location"])


def me(browser: httpx.Client) -> dict[str, Any]:
    response = browser.get(f"{API}/auth/me")
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- the login screen ---------------------------------------------------------------------------


def test_providers_lists_the_configured_provider_for_the_login_screen(browser: httpx.Client) -> None:
    response = browser.get(f"{API}/auth/providers")
    assert response.status_code == 200
    assert response.json() == {
        "password": True,
        "providers": [{"id": "oidc", "name": "Test IdP", "login_url": "/api/v1/auth/oidc/login"}],
    }


def test_without_a_provider_there_are_no_buttons_and_the_login_routes_say_so(sso_legato: Legato) -> None:
    with serve_on_loopback(create_app(sso_legato)) as url, httpx.Client(base_url=url) as client:
        assert client.get(f"{API}/auth/providers").json() == {"password": True, "providers": []}
        assert_problem(client.get(f"{API}/auth/oidc/login"), 404, "OIDC_NOT_CONFIGURED")
        assert_problem(client.get(f"{API}/auth/oidc/callback?state=x&code=y"), 404, "OIDC_NOT_CONFIGURED")
        jwt_shaped = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
        refused = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {jwt_shaped}"})
        assert_problem(refused, 401, "TOKEN_INVALID")


# -- the browser flow ---------------------------------------------------------------------------


def test_login_through_the_provider_ends_in_a_session_with_the_mapped_groups(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    idp.login_as(
        "sub-alice",
        preferred_username="Alice",
        email="alice@example.com",
        name="Alice Example",
        groups=["idp-engineers", "some-unmapped-group"],
    )
    landed = browser.get(f"{API}/auth/oidc/login", params={"return_to": "/app/tasks?filter=mine"})
    assert [r.status_code for r in landed.history] == [302, 302, 303]
    assert urlsplit(str(landed.history[1].url)).path == "/realms/test/authorize"
    authorize = parse_qs(urlsplit(str(landed.history[1].url)).query)
    assert authorize["code_challenge_method"] == ["S256"] and authorize["nonce"] and authorize["state"]
    assert landed.url.path == "/app/tasks" and landed.url.query == b"filter=mine"
    callback_cookies = landed.history[2].headers.get_list("set-cookie")
    session = next(c for c in callback_cookies if c.startswith("legato_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert any(c.startswith("legato_csrf=") and "HttpOnly" not in c for c in callback_cookies)
    assert any(c.startswith('legato_oidc=""') or c.startswith("legato_oidc=;") for c in callback_cookies)

    who = me(browser)
    assert who["username"] == "alice" and who["kind"] == "user"
    assert who["display_name"] == "Alice Example"
    assert who["groups"] == ["engineers"]  # the unmapped provider group is ignored
    assert "instances:read" in who["permissions"] and "instances:cancel" not in who["permissions"]
    user = directory(sso_legato).user("alice")
    assert user.password_hash is None and user.email == "alice@example.com"
    assert user.attributes["oidc"] == {"issuer": idp.issuer, "subject": "sub-alice"}

    # A normal session: changes need the CSRF token, exactly as after POST /auth/login.
    assert_problem(browser.post(f"{API}/auth/logout"), 403, "CSRF_FAILED")
    csrf = browser.cookies["legato_csrf"]
    assert browser.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert_problem(browser.get(f"{API}/auth/me"), 401, "AUTHENTICATION_REQUIRED")


def test_group_mapping_follows_the_claim_and_leaves_unmapped_memberships_alone(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    idp.login_as("sub-bob", preferred_username="bob", groups=["idp-engineers", "idp-ops"])
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["groups"] == ["engineers", "operators"]
    directory(sso_legato).add_member("reviewers", "user", "bob")  # given by hand: not the provider's to take

    idp.login_as("sub-bob", preferred_username="bob", groups=["idp-ops"])
    browser.cookies.clear()
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["groups"] == ["operators", "reviewers"]
    assert directory(sso_legato).direct_groups_of("bob") == {"operators", "reviewers"}

    idp.login_as("sub-bob", preferred_username="bob")  # no groups claim at all
    browser.cookies.clear()
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["groups"] == ["reviewers"]


def test_a_mapped_group_that_does_not_exist_yet_is_created(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    directory(sso_legato).delete_group("engineers")
    idp.login_as("sub-carol", preferred_username="carol", groups=["idp-engineers"])
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["groups"] == ["engineers"]


def test_the_provider_checks_the_pkce_verifier_and_a_wrong_one_logs_nobody_in(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    idp.login_as("sub-dave", preferred_username="dave")
    callback = login_steps(browser)
    with sso_legato.store.database.write() as conn:  # what an attacker with a stolen code lacks
        conn.execute(text("UPDATE oidc_logins SET code_verifier = 'not-the-verifier-that-made-the-challenge'"))
    refused = browser.get(callback, follow_redirects=False)
    problem = assert_problem(refused, 401, "OIDC_CODE_REJECTED")
    assert problem["error"] == "invalid_grant" and "PKCE" in problem["detail"]
    assert "legato_session" not in browser.cookies
    assert directory(sso_legato).find_user("dave") is None


def test_a_replayed_callback_or_code_is_refused(browser: httpx.Client, idp: FakeIdentityProvider) -> None:
    callback = login_steps(browser)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    # The same callback again: its state was used.
    assert_problem(browser.get(callback, follow_redirects=False), 400, "OIDC_STATE_INVALID")
    # The old code with a fresh state of this browser: the provider takes a code once.
    fresh = parse_qs(urlsplit(login_steps(browser)).query)["state"][0]
    old_code = parse_qs(urlsplit(callback).query)["code"][0]
    replay = browser.get(f"{API}/auth/oidc/callback", params={"code": old_code, "state": fresh})
    assert_problem(replay, 401, "OIDC_CODE_REJECTED")


def test_a_tampered_state_or_another_browser_is_refused_before_the_provider_is_asked(
    browser: httpx.Client, idp: FakeIdentityProvider, server: str, sso_legato: Legato
) -> None:
    callback = login_steps(browser)
    query = parse_qs(urlsplit(callback).query)
    state, code = query["state"][0], query["code"][0]
    tokens_before = idp.requests["token"]
    tampered = browser.get(f"{API}/auth/oidc/callback", params={"code": code, "state": state[:-2] + "xx"})
    assert_problem(tampered, 400, "OIDC_STATE_INVALID")
    assert_problem(browser.get(f"{API}/auth/oidc/callback", params={"code": code}), 400, "OIDC_STATE_INVALID")
    with httpx.Client(base_url=server) as victim:  # a callback link sent to someone else's browser
        assert_problem(victim.get(callback), 400, "OIDC_STATE_INVALID")
        assert "legato_session" not in victim.cookies
    assert idp.requests["token"] == tokens_before
    assert directory(sso_legato).find_user("alice") is None


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "a-nonce-from-another-login"}, "nonce"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"aud": "another-client"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
    ],
)
def test_an_id_token_failing_a_check_logs_nobody_in_and_changes_nothing(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato, claims: dict[str, Any], reason: str
) -> None:
    idp.login_as("sub-erin", preferred_username="erin", groups=["idp-ops"])
    idp.id_token_claims = claims
    refused = browser.get(f"{API}/auth/oidc/login")
    problem = assert_problem(refused, 401, "OIDC_ID_TOKEN_INVALID")
    assert problem["reason"] == reason
    assert "legato_session" not in browser.cookies
    assert directory(sso_legato).find_user("erin") is None
    assert "erin" not in directory(sso_legato).group("operators")["users"]


def test_an_id_token_signed_by_a_key_not_in_the_jwks_is_refused(
    browser: httpx.Client, idp: FakeIdentityProvider
) -> None:
    forged = RSAKey.generate_key(2048, parameters={"kid": idp.keys[0].kid})  # the provider's kid, another key
    idp.login_as("sub-x", preferred_username="x")
    original_sign = idp.sign
    idp.sign = lambda claims, **kw: original_sign(claims, key=forged)  # type: ignore[method-assign]
    problem = assert_problem(browser.get(f"{API}/auth/oidc/login"), 401, "OIDC_ID_TOKEN_INVALID")
    assert problem["reason"] == "signature"


def test_a_disabled_user_is_refused_whatever_the_provider_says(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    idp.login_as("sub-fay", preferred_username="fay")
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["username"] == "fay"
    directory(sso_legato).update_user("fay", {"disabled": True}, now=time.time())  # ends her sessions too
    browser.cookies.clear()
    problem = assert_problem(browser.get(f"{API}/auth/oidc/login"), 403, "USER_DISABLED")
    assert problem["user"] == "fay"
    assert "legato_session" not in browser.cookies


def test_a_local_user_of_the_same_name_is_not_taken_over(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    idp.login_as("sub-mallory", preferred_username="admin")
    problem = assert_problem(browser.get(f"{API}/auth/oidc/login"), 409, "OIDC_ACCOUNT_CONFLICT")
    assert problem["user"] == "admin"
    assert "oidc" not in directory(sso_legato).user("admin").attributes
    assert "legato_session" not in browser.cookies


def test_a_login_the_provider_denies_and_a_provider_that_is_down_are_problems(
    browser: httpx.Client, idp: FakeIdentityProvider
) -> None:
    idp.deny = True
    problem = assert_problem(browser.get(f"{API}/auth/oidc/login"), 401, "OIDC_LOGIN_DENIED")
    assert problem["error"] == "access_denied"
    idp.deny = False
    callback = login_steps(browser)
    idp.down = True
    assert_problem(browser.get(callback), 502, "OIDC_PROVIDER_UNAVAILABLE")
    assert "legato_session" not in browser.cookies


def test_a_provider_down_at_the_first_login_is_a_502_not_a_500(
    idp: FakeIdentityProvider, sso_legato: Legato, oidc_settings: OidcSettings
) -> None:
    idp.down = True
    app = create_app(sso_legato, auth=AuthSettings(oidc=oidc_settings))
    with serve_on_loopback(app) as url, httpx.Client(base_url=url) as client:
        assert_problem(client.get(f"{API}/auth/oidc/login"), 502, "OIDC_PROVIDER_UNAVAILABLE")


def test_the_return_path_stays_on_this_site(browser: httpx.Client, idp: FakeIdentityProvider) -> None:
    for hostile in ("//evil.example/phish", "https://evil.example/", "/\\evil.example"):
        landed = browser.get(f"{API}/auth/oidc/login", params={"return_to": hostile})
        assert landed.history[-1].headers["location"] == "/", hostile
        browser.cookies.clear()


def test_a_key_rotation_at_the_provider_is_picked_up(browser: httpx.Client, idp: FakeIdentityProvider) -> None:
    idp.login_as("sub-gus", preferred_username="gus")
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["username"] == "gus"
    fetched = idp.requests["jwks"]
    idp.rotate_key()
    browser.cookies.clear()
    browser.get(f"{API}/auth/oidc/login")
    assert me(browser)["username"] == "gus"
    assert idp.requests["jwks"] == fetched + 1


# -- bearer JWTs for programs -------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_provider_jwt_acts_with_its_mapped_groups(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    token = idp.access_token(sub="svc-ci", preferred_username="ci-bot", groups=["idp-ops", "unmapped"])
    who = browser.get(f"{API}/auth/me", headers=bearer(token)).json()
    assert who["username"] == "jwt:ci-bot" and who["kind"] == "token"
    assert who["groups"] == ["operators"]
    assert "instances:*" in who["permissions"]
    assert browser.get(f"{API}/instances", headers=bearer(token)).status_code == 200
    assert_problem(browser.get(f"{API}/users", headers=bearer(idp.access_token())), 403, "PERMISSION_DENIED")
    # Opaque Legato tokens keep working beside JWTs.
    assert browser.get(f"{API}/users", headers=bearer(admin_token(sso_legato))).status_code == 200
    assert directory(sso_legato).find_user("ci-bot") is None  # a bearer request writes nothing


def test_a_provider_jwt_of_a_linked_user_acts_as_that_user_until_disabled(
    browser: httpx.Client, idp: FakeIdentityProvider, sso_legato: Legato
) -> None:
    idp.login_as("sub-hal", preferred_username="hal", groups=["idp-engineers"])
    browser.get(f"{API}/auth/oidc/login")
    browser.cookies.clear()
    directory(sso_legato).grant("modeler", "user", "hal", now=time.time())
    token = idp.access_token(sub="sub-hal", preferred_username="hal", groups=["idp-ops"])
    who = browser.get(f"{API}/auth/me", headers=bearer(token)).json()
    assert who["username"] == "hal"
    assert who["groups"] == ["operators"]  # the claim decides mapped groups now, not the last login
    assert "definitions:deploy" in who["permissions"]  # the user's own grant
    impostor = idp.access_token(sub="another-subject", preferred_username="hal")
    assert browser.get(f"{API}/auth/me", headers=bearer(impostor)).json()["username"] == "jwt:hal"
    directory(sso_legato).update_user("hal", {"disabled": True}, now=time.time())
    problem = assert_problem(browser.get(f"{API}/auth/me", headers=bearer(token)), 401, "JWT_INVALID")
    assert problem["reason"] == "user_disabled"


def forged_claims(idp: FakeIdentityProvider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": idp.issuer, "sub": "svc", "aud": idp.audience, "iat": now, "exp": now + 300, **changes}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda idp: idp.access_token(lifetime=-3600), "expired"),
        (lambda idp: idp.access_token(aud="some-other-api"), "audience"),
        (lambda idp: idp.access_token(iss="https://evil.example"), "issuer"),
        (lambda idp: idp.access_token(nbf=int(time.time()) + 3600), "not_yet_valid"),
        (lambda idp: idp.sign({k: v for k, v in forged_claims(idp).items() if k != "exp"}), "missing_claim"),
        (lambda idp: unsigned_token(forged_claims(idp)), "algorithm"),
        (lambda idp: hs256_with_public_key(idp), "algorithm"),
        (
            lambda idp: idp.sign(forged_claims(idp), key=RSAKey.generate_key(2048, parameters={"kid": "x"})),
            "unknown_key",
        ),
        (
            lambda idp: idp.sign(
                forged_claims(idp), key=RSAKey.generate_key(2048, parameters={"kid": idp.keys[0].kid})
            ),
            "signature",
        ),
        (lambda idp: idp.access_token()[:-6] + "AAAAAA", "signature"),
    ],
)
def test_a_provider_jwt_failing_a_check_is_a_401_naming_why(
    browser: httpx.Client, idp: FakeIdentityProvider, make: Any, reason: str
) -> None:
    response = browser.get(f"{API}/instances", headers=bearer(make(idp)))
    problem = assert_problem(response, 401, "JWT_INVALID")
    assert problem["reason"] == reason, problem
    assert response.headers["www-authenticate"].startswith("Bearer")


def hs256_with_public_key(idp: FakeIdentityProvider) -> str:
    """The classic confusion attack: an HMAC keyed with the provider's public key (made by hand: joserfc refuses)."""
    import base64
    import hashlib
    import hmac
    import json

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    public = idp.keys[0].as_pem(private=False)
    signing_input = ".".join(
        (
            part(json.dumps({"alg": "HS256", "kid": idp.keys[0].kid}).encode()),
            part(json.dumps(forged_claims(idp)).encode()),
        )
    )
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def test_a_provider_jwt_after_a_key_rotation_is_accepted(browser: httpx.Client, idp: FakeIdentityProvider) -> None:
    assert browser.get(f"{API}/auth/me", headers=bearer(idp.access_token())).status_code == 200
    idp.rotate_key()
    assert browser.get(f"{API}/auth/me", headers=bearer(idp.access_token())).status_code == 200


def test_a_public_client_logs_in_with_pkce_alone(sso_legato: Legato) -> None:
    public = FakeIdentityProvider(client_secret=None)
    with public.serve():
        settings = OidcSettings(issuer=public.issuer, client_id=public.client_id, group_map=GROUP_MAP)
        public.login_as("sub-ivy", preferred_username="ivy", groups=["idp-ops"])
        app = create_app(sso_legato, auth=AuthSettings(oidc=settings))
        with serve_on_loopback(app) as url, httpx.Client(base_url=url, follow_redirects=True) as client:
            client.get(f"{API}/auth/oidc/login")
            assert me(client)["groups"] == ["operators"]


def test_a_wrong_client_secret_is_named_and_logs_nobody_in(
    idp: FakeIdentityProvider, sso_legato: Legato, oidc_settings: OidcSettings
) -> None:
    from dataclasses import replace

    app = create_app(sso_legato, auth=AuthSettings(oidc=replace(oidc_settings, client_secret="not-the-secret")))
    with serve_on_loopback(app) as url, httpx.Client(base_url=url, follow_redirects=True) as client:
        problem = assert_problem(client.get(f"{API}/auth/oidc/login"), 401, "OIDC_CODE_REJECTED")
        assert problem["error"] == "invalid_client"
        assert "legato_session" not in client.cookies
