"""Authentication and permissions at the door, route by route, and the ways in: sessions and tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem

from legato.access.authenticator import Authenticator, ensure_admin
from legato.api import create_app
from legato.api.security import AUTHENTICATED, PUBLIC, ROUTE_PERMISSIONS, AuthSettings
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.store import Store
from support import ORDER_YAML

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_legato(clock: FakeClock) -> Iterator[Legato]:
    legato = Legato(Store.memory(), clock=clock)
    ensure_admin(Authenticator(legato.store, clock=clock), PASSWORD)
    yield legato
    legato.close()


@pytest.fixture
def anonymous(app_legato: Legato) -> Iterator[TestClient]:
    with TestClient(create_app(app_legato)) as client:
        yield client


def login(client: TestClient, username: str = "admin", password: str = PASSWORD) -> dict[str, Any]:
    response = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def token_for(client: TestClient, csrf: str, **body: Any) -> str:
    response = client.post(f"{API}/tokens", json={"name": "t", **body}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operations(client: TestClient) -> list[tuple[str, str]]:
    document = client.get("/openapi.json").json()
    return [
        (method.upper(), path.removeprefix(API)) for path, methods in document["paths"].items() for method in methods
    ]


def concrete(path: str) -> str:
    return re.sub(
        r"\{[^}]+\}", lambda m: "1" if m.group(0).endswith("_id}") and "incident" in m.group(0) else "x", path
    )


# -- every route -------------------------------------------------------------------------------


def test_every_route_in_the_openapi_document_has_a_permission_and_no_entry_is_stale(anonymous: TestClient) -> None:
    documented = set(operations(anonymous))
    assert documented == set(ROUTE_PERMISSIONS), documented ^ set(ROUTE_PERMISSIONS)


def test_every_route_refuses_an_anonymous_caller(anonymous: TestClient) -> None:
    for method, path in operations(anonymous):
        if ROUTE_PERMISSIONS[(method, path)] == PUBLIC:
            continue
        response = anonymous.request(method, API + concrete(path), json={})
        assert_problem(response, 401, "AUTHENTICATION_REQUIRED")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_every_route_refuses_a_caller_without_its_permission_and_admits_one_with_it(
    app_legato: Legato, anonymous: TestClient
) -> None:
    authenticator = Authenticator(app_legato.store, clock=app_legato.clock)
    admin = authenticator.principal_of(authenticator.directory.user("admin"))

    def service_token(permission: str) -> str:
        return authenticator.issue_token(name=permission, kind="service", creator=admin, permissions=[permission]).token

    for method, path in operations(anonymous):
        needed = ROUTE_PERMISSIONS[(method, path)]
        if needed in (PUBLIC, AUTHENTICATED):
            continue
        other = "audit:read" if needed != "audit:read" else "jobs:read"
        lacking, holding = service_token(other), service_token(needed)
        refused = anonymous.request(method, API + concrete(path), json={}, headers=bearer(lacking))
        problem = assert_problem(refused, 403, "PERMISSION_DENIED")
        assert problem["permission"] == needed, (method, path)
        admitted = anonymous.request(method, API + concrete(path), json={}, headers=bearer(holding))
        assert admitted.status_code not in (401, 403), (method, path, admitted.text)


def test_public_routes_answer_without_credentials(anonymous: TestClient) -> None:
    assert anonymous.get(f"{API}/health").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200
    document = anonymous.get("/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"bearer", "session"}
    assert document["paths"][f"{API}/health"]["get"]["security"] == []
    assert document["paths"][f"{API}/instances"]["get"]["x-permission"] == "instances:read"


# -- sessions ----------------------------------------------------------------------------------


def test_login_sets_an_http_only_session_and_a_readable_csrf_cookie(anonymous: TestClient) -> None:
    response = anonymous.post(f"{API}/auth/login", json={"username": "ADMIN", "password": PASSWORD})
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("legato_session="))
    csrf = next(c for c in cookies if c.startswith("legato_csrf="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert "HttpOnly" not in csrf
    assert "Secure" not in session  # plain http in the test; https gets Secure
    me = anonymous.get(f"{API}/auth/me").json()
    assert me["username"] == "admin" and me["permissions"] == ["*"]


def test_changes_through_a_session_need_the_csrf_token(anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    upload = {"file": ("order.yaml", ORDER_YAML)}
    assert_problem(anonymous.post(f"{API}/definitions", files=upload), 403, "CSRF_FAILED")
    forged = anonymous.post(f"{API}/definitions", files=upload, headers={"X-CSRF-Token": "forged"})
    assert_problem(forged, 403, "CSRF_FAILED")
    assert anonymous.get(f"{API}/definitions").json()["items"] == []  # nothing was deployed
    ok = anonymous.post(f"{API}/definitions", files=upload, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text


def test_logout_ends_the_session(anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    session = anonymous.cookies.get("legato_session")
    assert anonymous.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    anonymous.cookies.set("legato_session", str(session))
    assert_problem(anonymous.get(f"{API}/auth/me"), 401, "SESSION_EXPIRED")


def test_an_idle_session_expires_and_so_does_every_session_eventually(app_legato: Legato, clock: FakeClock) -> None:
    from legato.access.authenticator import SessionPolicy

    policy = SessionPolicy(idle_seconds=600, absolute_seconds=3600)
    with TestClient(create_app(app_legato, auth=AuthSettings(sessions=policy))) as client:
        login(client)
        clock.advance(seconds=500)
        assert client.get(f"{API}/auth/me").status_code == 200  # used: the idle clock restarts
        clock.advance(seconds=500)
        assert client.get(f"{API}/auth/me").status_code == 200
        clock.advance(seconds=601)
        assert_problem(client.get(f"{API}/auth/me"), 401, "SESSION_EXPIRED")
        login(client)
        for _ in range(8):
            clock.advance(seconds=500)
            client.get(f"{API}/auth/me")
        assert_problem(client.get(f"{API}/auth/me"), 401, "SESSION_EXPIRED")  # past the absolute limit


def test_failed_logins_lock_with_back_off_even_for_the_right_password(anonymous: TestClient, clock: FakeClock) -> None:
    for _ in range(4):
        wrong = anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": "nope-nope"})
        assert_problem(wrong, 401, "LOGIN_FAILED")
    assert_problem(
        anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": "x" * 9}), 401, "LOGIN_FAILED"
    )
    locked = anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": PASSWORD})
    assert_problem(locked, 429, "LOGIN_LOCKED")
    assert int(locked.headers["retry-after"]) >= 1
    clock.advance(seconds=2)
    assert anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": PASSWORD}).status_code == 200
    # a success clears the count: the next failure does not lock at once
    wrong = anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": "nope-nope"})
    assert_problem(wrong, 401, "LOGIN_FAILED")


def test_an_unknown_user_and_a_wrong_password_look_the_same(anonymous: TestClient) -> None:
    unknown = anonymous.post(f"{API}/auth/login", json={"username": "nobody", "password": PASSWORD})
    wrong = anonymous.post(f"{API}/auth/login", json={"username": "admin", "password": "wrong-password"})
    assert unknown.json()["detail"] == wrong.json()["detail"]
    assert unknown.status_code == wrong.status_code == 401


# -- tokens ------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_works_until_revoked(anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    created = anonymous.post(f"{API}/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf}).json()
    token = created["token"]
    listed = anonymous.get(f"{API}/tokens").json()["items"]
    assert token not in str(listed) and all("secret" not in str(t) for t in listed)
    with TestClient(anonymous.app) as program:
        assert program.get(f"{API}/auth/me", headers=bearer(token)).json()["username"] == "admin"
        assert anonymous.delete(f"{API}/tokens/{created['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert_problem(program.get(f"{API}/auth/me", headers=bearer(token)), 401, "TOKEN_INVALID")
        assert_problem(program.get(f"{API}/auth/me", headers=bearer(token[:-2] + "xx")), 401, "TOKEN_INVALID")
        assert_problem(program.get(f"{API}/auth/me", headers=bearer("not-ours")), 401, "TOKEN_INVALID")
        assert_problem(
            program.get(f"{API}/auth/me", headers={"Authorization": "Basic abc"}), 401, "AUTHENTICATION_REQUIRED"
        )


def test_a_token_expires(anonymous: TestClient, clock: FakeClock) -> None:
    csrf = login(anonymous)["csrf_token"]
    token = token_for(anonymous, csrf, expires_in_days=1)
    with TestClient(anonymous.app) as program:
        assert program.get(f"{API}/auth/me", headers=bearer(token)).status_code == 200
        clock.advance(days=1, seconds=1)
        problem = assert_problem(program.get(f"{API}/auth/me", headers=bearer(token)), 401, "TOKEN_INVALID")
        assert "expired" in problem["detail"]


def test_a_personal_token_holds_at_most_what_its_owner_holds_now(anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    anonymous.post(
        f"{API}/users", json={"username": "vic", "password": "viewer-password", "roles": ["viewer"]}, headers=headers
    )
    with TestClient(anonymous.app) as vic:
        vic_csrf = login(vic, "vic", "viewer-password")["csrf_token"]
        asked = vic.post(
            f"{API}/tokens",
            json={"name": "mine", "permissions": ["instances:read", "instances:cancel"]},
            headers={"X-CSRF-Token": vic_csrf},
        )
        assert asked.status_code == 201
        assert asked.json()["permissions"] == ["instances:read"]  # cancel is not vic's to give
        token = asked.json()["token"]
        service = vic.post(
            f"{API}/tokens",
            json={"name": "svc", "kind": "service", "permissions": ["instances:read"]},
            headers={"X-CSRF-Token": vic_csrf},
        )
        assert_problem(service, 403, "PERMISSION_DENIED")
    with TestClient(anonymous.app) as program:
        assert program.get(f"{API}/instances", headers=bearer(token)).status_code == 200
        anonymous.delete(f"{API}/grants/viewer/user/vic", headers=headers)
        assert_problem(program.get(f"{API}/instances", headers=bearer(token)), 403, "PERMISSION_DENIED")
        anonymous.patch(f"{API}/users/vic", json={"disabled": True}, headers=headers)
        assert_problem(program.get(f"{API}/instances", headers=bearer(token)), 401, "TOKEN_INVALID")


def test_a_worker_token_is_scoped_to_its_task_types(app_legato: Legato, anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    refused = anonymous.post(f"{API}/tokens", json={"name": "w", "kind": "worker"}, headers={"X-CSRF-Token": csrf})
    assert_problem(refused, 400, "INVALID_INPUT")
    token = token_for(anonymous, csrf, kind="worker", task_types=["credit.check"])
    principal = Authenticator(app_legato.store, clock=app_legato.clock).from_token(token)
    assert principal.may_work_on("credit.check") and not principal.may_work_on("mail.send")
    assert not principal.may("instances:cancel")
    with TestClient(anonymous.app) as worker:
        assert_problem(worker.get(f"{API}/instances", headers=bearer(token)), 403, "PERMISSION_DENIED")


# -- users, groups, roles ---------------------------------------------------------------------


def test_roles_through_nested_groups_and_narrowed_to_a_process(anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    anonymous.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}, headers=headers)
    anonymous.post(f"{API}/users", json={"username": "ann", "password": "ann-password"}, headers=headers)
    for group in ("sales", "emea-sales"):
        assert anonymous.post(f"{API}/groups", json={"group": group}, headers=headers).status_code == 201
    anonymous.put(f"{API}/groups/emea-sales/members/user/ann", headers=headers)
    anonymous.put(f"{API}/groups/sales/members/group/emea-sales", headers=headers)
    cycle = anonymous.put(f"{API}/groups/emea-sales/members/group/sales", headers=headers)
    assert_problem(cycle, 409, "IDENTITY_CONFLICT")
    grant = {"role": "operator", "kind": "group", "subject": "sales", "process_keys": ["order"]}
    assert anonymous.post(f"{API}/grants", json=grant, headers=headers).status_code == 201
    with TestClient(anonymous.app) as ann:
        ann_csrf = login(ann, "ann", "ann-password")["csrf_token"]
        me = ann.get(f"{API}/auth/me").json()
        assert me["groups"] == ["emea-sales", "sales"]
        assert me["scoped_permissions"]["instances:*"] == ["order"]
        started = ann.post(
            f"{API}/definitions/order/instances", json={"variables": {"amount": 1}}, headers={"X-CSRF-Token": ann_csrf}
        )
        assert started.status_code == 201, started.text
        other = ann.post(f"{API}/definitions/refund/instances", json={}, headers={"X-CSRF-Token": ann_csrf})
        assert_problem(other, 403, "PERMISSION_DENIED")
        assert_problem(ann.get(f"{API}/instances"), 403, "PERMISSION_DENIED")  # a list across processes


def test_users_never_show_a_password_and_custom_roles_are_checked(anonymous: TestClient) -> None:
    csrf = login(anonymous)["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    created = anonymous.post(
        f"{API}/users",
        json={"username": "bo", "password": "bo-password-1", "attributes": {"skills": ["german"], "manager": "admin"}},
        headers=headers,
    )
    assert created.status_code == 201 and "bo-password-1" not in created.text and "argon2" not in created.text
    assert "argon2" not in anonymous.get(f"{API}/users").text
    duplicate = anonymous.post(f"{API}/users", json={"username": "BO", "password": "bo-password-1"}, headers=headers)
    assert_problem(duplicate, 409, "IDENTITY_CONFLICT")
    typo = anonymous.post(f"{API}/roles", json={"role": "auditor", "permissions": ["audit:reed"]}, headers=headers)
    assert_problem(typo, 400, "INVALID_INPUT")
    assert (
        anonymous.post(
            f"{API}/roles", json={"role": "auditor", "permissions": ["audit:read"]}, headers=headers
        ).status_code
        == 201
    )
    assert_problem(
        anonymous.post(f"{API}/grants", json={"role": "nope", "kind": "user", "subject": "bo"}, headers=headers),
        404,
        "ROLE_NOT_FOUND",
    )
    assert_problem(anonymous.get(f"{API}/users/ghost"), 404, "USER_NOT_FOUND")
    short = anonymous.put(f"{API}/users/bo/password", json={"password": "short"}, headers=headers)
    assert_problem(short, 400, "INVALID_INPUT")


def test_insecure_mode_serves_everyone_as_admin(app_legato: Legato) -> None:
    with TestClient(create_app(app_legato, auth=AuthSettings(enabled=False))) as client:
        assert client.get(f"{API}/auth/me").json()["permissions"] == ["*"]
        assert client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}).status_code == 201
