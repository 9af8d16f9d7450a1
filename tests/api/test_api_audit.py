"""The audit trail through the API, on SQLite and PostgreSQL: what each action records, refusals, the routes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem
from sqlalchemy import text

from legato.access.authenticator import Authenticator, ensure_admin
from legato.api import create_app
from legato.api.audit_trail import ROUTE_ACTIONS, UNRECORDED
from legato.api.security import ROUTE_PERMISSIONS, SAFE_METHODS
from legato.runtime.app import Legato
from legato.store import Store
from legato.store.audit import AuditFilter
from legato.testing.identity import admin_token
from support import Switch, eventually, install_handlers

ADMIN_PASSWORD = "admin-password-1"
KEY = b"audit-test-key-0123456789abcdef"


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def legato(database_url: str, switch: Switch) -> Iterator[Legato]:
    app = Legato(Store(database_url, audit_keys=(KEY,)))
    install_handlers(app, switch)
    ensure_admin(Authenticator(app.store, clock=app.clock), ADMIN_PASSWORD)
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as test_client:
        yield test_client


@pytest.fixture
def anonymous(legato: Legato) -> Iterator[TestClient]:
    with TestClient(create_app(legato)) as test_client:
        yield test_client


def rows(legato: Legato, **where: Any) -> list[dict[str, Any]]:
    """Matching rows, oldest first, as the API shows them."""
    return [record.public() for record in legato.store.audit.export(AuditFilter(**where))]


def one(legato: Legato, action: str, **where: Any) -> dict[str, Any]:
    found = rows(legato, action=action, **where)
    assert len(found) == 1, found
    return found[0]


def everything(legato: Legato) -> str:
    return "\n".join(orjson.dumps(row).decode() for row in rows(legato))


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def open_task(client: TestClient, instance_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        items = client.get(f"{API}/tasks", params={"instance_id": instance_id}).json()["items"]
        return items[0] if items else None

    task: dict[str, Any] = eventually(find)
    return task


def test_every_changing_route_has_an_audit_action() -> None:
    changing = {route for route in ROUTE_PERMISSIONS if route[0] not in SAFE_METHODS}
    missing = changing - set(ROUTE_ACTIONS)
    assert not missing, f"add these routes to legato.api.audit_trail.ROUTE_ACTIONS: {sorted(missing)}"
    assert all(action.name.count(".") == 1 for action in ROUTE_ACTIONS.values() if action is not UNRECORDED)


def test_process_actions_are_recorded_with_the_actor_and_what_changed(
    client: TestClient, legato: Legato, switch: Switch
) -> None:
    deployed = ok(client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}), 201)
    row = one(legato, "definition.deploy")
    assert row["actor"] == "admin" and row["actor_kind"] == "token" and row["source"] == "testclient"
    assert row["target"] == {"kind": "definition", "id": "order"}
    assert row["details"] == {"key": "order", "version": deployed["version"], "kind": "process", "created": True}
    assert row["outcome"] == "ok" and row["code"] is None

    switch.failing = True
    variables = {"amount": 10, "order_id": "A-1", "card_note": "sk-live-SECRET-VALUE"}
    started = ok(
        client.post(f"{API}/definitions/order/instances", json={"variables": variables, "business_key": "B-1"}), 201
    )
    instance_id = started["instance_id"]
    row = one(legato, "instance.start")
    assert row["target"] == {"kind": "instance", "id": instance_id}
    assert row["details"] == {
        "process": "order",
        "version": 1,
        "created": True,
        "business_key": "B-1",
        "variables": ["amount", "card_note", "order_id"],
    }

    task = open_task(client, instance_id)
    change = {"set": {"limit": "raised-to-SECRET-LIMIT"}, "remove": ["card_note"]}
    ok(client.patch(f"{API}/instances/{instance_id}/variables", json=change))
    row = one(legato, "variables.update")
    assert row["target"] == {"kind": "instance", "id": instance_id}
    assert row["details"] == {"set": ["limit"], "removed": ["card_note"]}
    ok(client.post(f"{API}/tasks/{task['id']}/complete", json={"variables": {"approved": True}}))
    row = one(legato, "task.complete")
    assert row["target"] == {"kind": "task", "id": task["id"]}
    assert row["details"] == {"variables": ["approved"], "instance_id": instance_id}

    eventually(lambda: "delivered" in client.get(f"{API}/instances/{instance_id}").json()["waiting_at"])
    ok(client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": "A-1"}))
    row = one(legato, "message.publish")
    assert row["target"] == {"kind": "message", "id": "order.delivered"}
    assert row["details"] == {
        "correlation_key": "A-1",
        "correlated": "instance",
        "instance_id": instance_id,
    }

    incident = eventually(lambda: client.get(f"{API}/incidents").json()["items"])[0]
    switch.failing = False
    ok(client.post(f"{API}/incidents/{incident['id']}/retry", json={"variables": {"carrier": "other"}}))
    row = one(legato, "incident.retry")
    assert row["target"] == {"kind": "incident", "id": str(incident["id"])}
    assert row["details"] == {"variables": ["carrier"], "instance_id": instance_id}

    second = ok(client.post(f"{API}/definitions/order/instances", json={"variables": {"amount": 1}}), 201)
    ok(client.post(f"{API}/instances/{second['instance_id']}/cancel", json={"reason": "duplicate order"}))
    row = one(legato, "instance.cancel")
    assert row["target"] == {"kind": "instance", "id": second["instance_id"]}
    assert row["details"] == {"reason": "duplicate order"}

    ok(client.post(f"{API}/signals", json={"name": "nobody.listens", "variables": {"x": 1}}))
    row = one(legato, "signal.broadcast")
    assert row["target"] == {"kind": "signal", "id": "nobody.listens"}
    assert row["details"] == {"variables": ["x"], "instances": 0, "started": 0}

    ok(client.post(f"{API}/conditions", json={"variables": {"y": 2}}))
    assert one(legato, "conditions.evaluate")["details"] == {"variables": ["y"], "started": []}

    log = everything(legato)
    assert "sk-live-SECRET-VALUE" not in log and "SECRET-LIMIT" not in log  # variable names, never their values
    assert legato.store.audit.verify().ok


def test_identity_changes_are_recorded_and_no_secret_is(
    client: TestClient, anonymous: TestClient, legato: Legato
) -> None:
    ok(client.post(f"{API}/users", json={"username": "ann", "password": "ann-password-1", "roles": ["operator"]}), 201)
    row = one(legato, "user.create")
    assert row["target"] == {"kind": "user", "id": "ann"}
    assert row["details"] == {"roles": ["operator"], "password_set": True}

    changes = {"display_name": "Ann Lee", "disabled": False, "attributes": {"skills": ["credit"]}}
    ok(client.patch(f"{API}/users/ann", json=changes))
    assert one(legato, "user.update")["details"] == {
        "changed": {"display_name": "Ann Lee", "disabled": False, "attributes": ["skills"]}
    }
    ok(client.put(f"{API}/users/ann/password", json={"password": "ann-password-2"}), 204)
    assert one(legato, "user.password")["target"] == {"kind": "user", "id": "ann"}

    ok(client.post(f"{API}/groups", json={"group": "sales", "name": "Sales"}), 201)
    ok(client.put(f"{API}/groups/sales/members/user/ann"))
    ok(client.delete(f"{API}/groups/sales/members/user/ann"))
    assert one(legato, "group.create")["details"] == {"name": "Sales"}
    assert one(legato, "group.member_add")["details"] == {"member_kind": "user", "member": "ann"}
    assert one(legato, "group.member_remove")["target"] == {"kind": "group", "id": "sales"}

    ok(client.post(f"{API}/roles", json={"role": "auditor", "permissions": ["audit:read"]}), 201)
    ok(client.post(f"{API}/grants", json={"role": "auditor", "kind": "user", "subject": "ann"}), 201)
    ok(client.delete(f"{API}/grants/auditor/user/ann"), 204)
    assert one(legato, "role.create")["details"] == {"permissions": ["audit:read"]}
    assert one(legato, "grant.create")["target"] == {"kind": "grant", "id": "auditor/user/ann"}
    assert one(legato, "grant.revoke")["details"] == {"role": "auditor", "subject_kind": "user", "subject": "ann"}

    created = ok(
        client.post(f"{API}/tokens", json={"name": "ci", "kind": "service", "permissions": ["jobs:read"]}), 201
    )
    row = one(legato, "token.create")
    assert row["target"] == {"kind": "token", "id": created["id"]}
    assert row["details"]["permissions"] == ["jobs:read"] and row["details"]["kind"] == "service"
    ok(client.delete(f"{API}/tokens/{created['id']}"), 204)
    assert one(legato, "token.revoke")["target"] == {"kind": "token", "id": created["id"]}

    session = ok(anonymous.post(f"{API}/auth/login", json={"username": "ann", "password": "ann-password-2"}))
    row = one(legato, "auth.login")
    assert (row["actor"], row["actor_kind"], row["target"]) == ("ann", "user", {"kind": "user", "id": "ann"})
    ok(anonymous.post(f"{API}/auth/logout", headers={"X-CSRF-Token": session["csrf_token"]}), 204)
    assert one(legato, "auth.logout")["actor"] == "ann"

    ok(client.delete(f"{API}/users/ann"), 204)
    ok(client.delete(f"{API}/roles/auditor"), 204)
    ok(client.delete(f"{API}/groups/sales"), 204)
    for action in ("user.delete", "role.delete", "group.delete"):
        assert one(legato, action)["outcome"] == "ok"

    log = everything(legato)
    for secret in ("ann-password-1", "ann-password-2", created["token"], session["csrf_token"]):
        assert secret not in log
    assert legato.store.audit.verify().ok


def test_refusals_and_failed_logins_are_recorded(client: TestClient, anonymous: TestClient, legato: Legato) -> None:
    ok(client.post(f"{API}/users", json={"username": "vic", "password": "viewer-password", "roles": ["viewer"]}), 201)
    session = ok(anonymous.post(f"{API}/auth/login", json={"username": "vic", "password": "viewer-password"}))
    vic_token = ok(
        anonymous.post(
            f"{API}/tokens",
            json={"name": "mine", "expires_in_days": 1},
            headers={"X-CSRF-Token": session["csrf_token"]},
        ),
        201,
    )["token"]

    refused = anonymous.post(f"{API}/instances/i-1/cancel", headers={"Authorization": f"Bearer {vic_token}"})
    assert_problem(refused, 403, "PERMISSION_DENIED")
    denials = rows(legato, action="access.denied")
    assert len(denials) == 1
    denied = denials[0]
    assert (denied["actor"], denied["actor_kind"], denied["outcome"], denied["code"]) == (
        "vic",
        "token",
        "refused",
        "PERMISSION_DENIED",
    )
    assert denied["target"] == {"kind": "instance", "id": "i-1"}
    assert denied["details"]["attempted"] == "instance.cancel"
    assert denied["details"]["permission"] == "instances:cancel"
    assert denied["details"]["request"] == "POST /instances/{instance_id}/cancel"

    assert_problem(
        anonymous.get(f"{API}/audit", headers={"Authorization": f"Bearer {vic_token}"}), 403, "PERMISSION_DENIED"
    )
    assert rows(legato, action="access.denied")[-1]["details"]["permission"] == "audit:read"

    # a change through the session cookie without its CSRF token: refused, and recorded against vic
    assert_problem(anonymous.post(f"{API}/instances/i-1/cancel"), 403, "CSRF_FAILED")
    csrf = rows(legato, action="access.denied")[-1]
    assert (csrf["actor"], csrf["code"]) == ("vic", "CSRF_FAILED")

    with TestClient(create_app(legato)) as stranger:
        failed = stranger.post(f"{API}/auth/login", json={"username": "Vic", "password": "guessed-wrong"})
        assert_problem(failed, 401, "LOGIN_FAILED")
        row_failed = one(legato, "auth.login_failed")
        assert (row_failed["actor"], row_failed["actor_kind"], row_failed["outcome"], row_failed["code"]) == (
            "vic",
            "anonymous",
            "refused",
            "LOGIN_FAILED",
        )
        assert "guessed-wrong" not in everything(legato)

        before = legato.store.audit.count()
        assert_problem(stranger.get(f"{API}/instances"), 401, "AUTHENTICATION_REQUIRED")
        assert legato.store.audit.count() == before  # a read with no credentials at all is not an event

        bad = stranger.get(f"{API}/instances", headers={"Authorization": "Bearer lgt_nosuchid_secretpart"})
        assert_problem(bad, 401, "TOKEN_INVALID")
        row_bad = rows(legato, action="access.denied")[-1]
        assert (row_bad["actor"], row_bad["code"]) == ("anonymous", "TOKEN_INVALID")
        assert row_bad["details"]["token_id"] == "nosuchid" and "secretpart" not in everything(legato)

        assert_problem(stranger.post(f"{API}/signals", json={"name": "s"}), 401, "AUTHENTICATION_REQUIRED")
        row_change = rows(legato, action="access.denied")[-1]
        assert (row_change["code"], row_change["details"]["attempted"]) == (
            "AUTHENTICATION_REQUIRED",
            "signal.broadcast",
        )

        foreign = stranger.post(f"{API}/signals", json={"name": "s"}, headers={"Origin": "https://evil.example"})
        assert_problem(foreign, 403, "ORIGIN_REFUSED")
        assert rows(legato, action="access.denied")[-1]["code"] == "ORIGIN_REFUSED"

    missing = client.post(f"{API}/instances/no-such-instance/cancel")
    assert_problem(missing, 404, "INSTANCE_NOT_FOUND")
    row_missing = one(legato, "instance.cancel")
    assert (row_missing["outcome"], row_missing["code"], row_missing["actor"]) == (
        "failed",
        "INSTANCE_NOT_FOUND",
        "admin",
    )
    assert row_missing["details"]["reason"]

    invalid = client.post(f"{API}/users", json={"username": ""})
    assert_problem(invalid, 400, "INVALID_INPUT")
    assert rows(legato, action="user.create")[-1]["outcome"] == "failed"
    assert legato.store.audit.verify().ok


def test_the_audit_routes_filter_page_export_and_verify(client: TestClient, legato: Legato) -> None:
    for name in ("u1", "u2", "u3"):
        ok(client.post(f"{API}/users", json={"username": name}), 201)
    ok(client.post(f"{API}/groups", json={"group": "g1"}), 201)

    first = ok(client.get(f"{API}/audit", params={"action": "user.*", "limit": 2}))
    assert [item["target"]["id"] for item in first["items"]] == ["u3", "u2"] and first["next_cursor"]
    second = ok(client.get(f"{API}/audit", params={"action": "user.*", "limit": 2, "cursor": first["next_cursor"]}))
    assert [item["target"]["id"] for item in second["items"]] == ["u1"] and second["next_cursor"] is None
    by_target = ok(client.get(f"{API}/audit", params={"target_kind": "group", "target_id": "g1"}))["items"]
    assert [item["action"] for item in by_target] == ["group.create"]
    assert ok(client.get(f"{API}/audit", params={"actor": "nobody"}))["items"] == []
    assert ok(client.get(f"{API}/audit", params={"since": "2999-01-01T00:00:00Z"}))["items"] == []
    assert len(ok(client.get(f"{API}/audit", params={"until": "2999-01-01T00:00:00"}))["items"]) == 4
    assert_problem(client.get(f"{API}/audit", params={"since": "yesterday"}), 400, "INVALID_INPUT")
    assert_problem(client.get(f"{API}/audit", params={"cursor": "abc"}), 400, "INVALID_INPUT")
    assert_problem(client.get(f"{API}/audit", params={"outcome": "maybe"}), 400, "INVALID_INPUT")

    exported = client.get(f"{API}/audit/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in exported.text.splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, 5))
    assert lines[0]["prev_hash"] == "0" * 64 and lines[1]["prev_hash"] == lines[0]["hash"]
    assert one(legato, "audit.export")["outcome"] == "ok"  # who took a copy of the log is recorded too

    verified = ok(client.get(f"{API}/audit/verify"))
    assert verified["ok"] is True and verified["broken"] is None and verified["rows"] == 5
    assert verified["key_source"] == "configured" and verified["head"]["seq"] == 5

    with legato.store.database.write() as conn:
        conn.execute(text('UPDATE audit_log SET details = \'{"roles":["admin"]}\' WHERE seq = 2'))
    broken = ok(client.get(f"{API}/audit/verify"))
    assert broken["ok"] is False
    assert broken["broken"]["seq"] == 2 and broken["broken"]["reason"] == "changed"


def test_an_append_that_fails_keeps_the_answer_and_logs_the_row(
    client: TestClient, legato: Legato, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(legato.store.audit, "append", broken)
    with caplog.at_level(logging.ERROR, logger="legato.audit"):
        created = client.post(f"{API}/users", json={"username": "kept"})
    assert created.status_code == 201  # the action happened: its answer stands
    assert legato.store.directory.find_user("kept") is not None
    message = "\n".join(record.getMessage() for record in caplog.records)
    assert "audit append failed" in message and '"user.create"' in message and '"kept"' in message


def test_machine_traffic_marked_unrecorded_logs_only_its_refusals(
    client: TestClient, anonymous: TestClient, legato: Legato, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ROUTE_ACTIONS, ("POST", "/signals"), UNRECORDED)
    ok(client.post(f"{API}/signals", json={"name": "tick"}))
    assert rows(legato, action="signal.broadcast") == [] and legato.store.audit.count() == 0
    assert_problem(anonymous.post(f"{API}/signals", json={"name": "tick"}), 401, "AUTHENTICATION_REQUIRED")
    refused = one(legato, "access.denied")
    assert refused["details"]["request"] == "POST /signals" and "attempted" not in refused["details"]


def test_the_audit_key_setting_is_checked_and_never_printed() -> None:
    from legato.errors import InvalidInput
    from legato.settings import Settings

    settings = Settings.from_env({"LEGATO_AUDIT_KEY": "first-key-0123456789, older-key-0123456789"})
    assert settings.audit_keys == (b"first-key-0123456789", b"older-key-0123456789")
    assert "first-key" not in repr(settings)
    with pytest.raises(InvalidInput, match="LEGATO_AUDIT_KEY"):
        Settings.from_env({"LEGATO_AUDIT_KEY": "short"})


def test_a_single_sign_on_login_and_a_denied_one_are_recorded(tmp_path: Any) -> None:
    import httpx

    from legato.access.oidc import OidcSettings
    from legato.api.security import AuthSettings
    from legato.testing.identity_provider import FakeIdentityProvider, serve_on_loopback

    legato = Legato(str(tmp_path / "sso.db"))
    idp = FakeIdentityProvider()
    try:
        with idp.serve():
            settings = OidcSettings(issuer=idp.issuer, client_id=idp.client_id, client_secret=idp.client_secret)
            app = create_app(legato, auth=AuthSettings(oidc=settings))
            with (
                serve_on_loopback(app) as url,
                httpx.Client(base_url=url, follow_redirects=True, timeout=20) as browser,
            ):
                idp.login_as("sub-alice", preferred_username="alice")
                assert browser.get(f"{API}/auth/oidc/login").history[-1].status_code == 303
                row = one(legato, "auth.login")
                assert (row["actor"], row["actor_kind"]) == ("alice", "user")
                assert row["target"] == {"kind": "user", "id": "alice"}
                assert row["details"] == {"method": "oidc"} and row["source"] == "127.0.0.1"
                idp.deny = True
                assert_problem(browser.get(f"{API}/auth/oidc/login"), 401, "OIDC_LOGIN_DENIED")
                failed = one(legato, "auth.login_failed")
                assert (failed["outcome"], failed["code"]) == ("refused", "OIDC_LOGIN_DENIED")
        assert legato.store.audit.verify().ok
    finally:
        legato.close()
