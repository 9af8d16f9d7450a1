"""The audit log per tenant, on SQLite and PostgreSQL: a reader kept to tenants sees its tenants' rows only.

alice (tenant a) and bob (tenant b) are operators, so both hold `audit:read`; what keeps
them apart is their tenant. Rows about no tenant's work (users, tenants, tokens, logins,
refusals) are for the administrator only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from api_helpers import API, TestClient, assert_problem
from sqlalchemy import text
from tenant_helpers import Tenanted, tenanted, waiting_yaml

from legato.runtime.app import Legato
from legato.store import Store

KEY = b"audit-tenant-test-key-0123456789"


@pytest.fixture
def t(database_url: str) -> Iterator[Tenanted]:
    legato = Legato(Store(database_url, audit_keys=(KEY,)))
    try:
        yield from tenanted(legato)
    finally:
        legato.close()


def audit(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def exported(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit/export", params=params)
    assert response.status_code == 200, response.text
    return [orjson.loads(line) for line in response.text.splitlines()]


def seen(rows: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    return {(row["action"], row["actor"], row["tenant"]) for row in rows}


def work(t: Tenanted) -> dict[str, str]:
    """Each tenant deploys, starts and works; the admin deploys a shared process; ids by name."""
    assert t.deploy(t.alice, waiting_yaml()).status_code == 201
    assert t.deploy(t.bob, waiting_yaml()).status_code == 201
    assert t.deploy(t.admin, waiting_yaml(key="shared")).status_code == 201
    alice_id = t.alice.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "A-1"}}).json()
    bob_id = t.bob.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "B-1"}}).json()
    shared_id = t.admin.post(f"{API}/definitions/shared/instances", json={}).json()
    bob_task = t.bob.get(f"{API}/tasks").json()["items"][0]
    assert t.bob.post(f"{API}/tasks/{bob_task['id']}/complete", json={}).status_code == 200
    alice_task = t.alice.get(f"{API}/tasks").json()["items"][0]
    assert t.alice.post(f"{API}/tasks/{alice_task['id']}/complete", json={}).status_code == 200
    assert t.alice.post(f"{API}/messages", json={"name": "order.paid", "correlation_key": "A-1"}).status_code == 200
    return {
        "alice": alice_id["instance_id"],
        "bob": bob_id["instance_id"],
        "shared": shared_id["instance_id"],
        "bob_task": bob_task["id"],
    }


def test_each_tenant_reads_its_own_rows_and_the_shared_ones_the_admin_all(t: Tenanted) -> None:
    ids = work(t)
    everything = audit(t.admin)
    by_action = {(row["action"], row["actor"]): row["tenant"] for row in everything}
    assert by_action[("definition.deploy", "alice")] == "a"
    assert by_action[("instance.start", "bob")] == "b"
    assert by_action[("task.complete", "bob")] == "b"  # looked up: the task's tenant
    assert by_action[("message.publish", "alice")] == "a"  # sent within her only tenant
    assert [row["tenant"] for row in everything if row["target"] == {"kind": "instance", "id": ids["shared"]}] == [""]
    assert by_action[("tenant.create", "admin")] is None  # installation-wide
    assert by_action[("user.create", "admin")] is None

    alice = audit(t.alice)
    assert {row["tenant"] for row in alice} == {"a", ""}
    assert ("instance.start", "alice", "a") in seen(alice)
    assert ("instance.start", "admin", "") in seen(alice)  # the shared tenant is everyone's
    assert not [row for row in alice if row["actor"] == "bob"]
    assert not [row for row in alice if row["action"].startswith(("user.", "tenant.", "group."))]
    bob = audit(t.bob)
    assert {row["tenant"] for row in bob} == {"b", ""}
    assert ("task.complete", "bob", "b") in seen(bob)
    assert not [row for row in bob if row["actor"] == "alice"]

    assert seen(exported(t.alice)) == seen(alice)  # the export filters the same way
    assert seen(exported(t.bob)) == seen(bob)
    assert len(exported(t.admin)) >= len(everything)  # plus the export rows just written


def test_a_tenant_filter_narrows_and_a_foreign_tenant_is_refused(t: Tenanted) -> None:
    work(t)
    only_a = audit(t.admin, tenant="a")
    assert only_a and {row["tenant"] for row in only_a} == {"a"}
    assert {row["actor"] for row in only_a} == {"alice"}
    assert {row["tenant"] for row in audit(t.alice, tenant="a")} == {"a"}
    for path in ("/audit", "/audit/export"):
        refused = t.alice.get(f"{API}{path}", params={"tenant": "b"})
        assert_problem(refused, 403, "TENANT_DENIED")
    assert_problem(t.alice.get(f"{API}/audit", params={"tenant": ""}), 400, "INVALID_INPUT")
    # Paging goes through the filtered rows only.
    first = t.bob.get(f"{API}/audit", params={"limit": 2}).json()
    second = t.bob.get(f"{API}/audit", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert all(row["tenant"] in ("b", "") for row in first["items"] + second["items"])


def test_a_probe_of_another_tenants_ids_is_filed_with_no_tenant(t: Tenanted) -> None:
    ids = work(t)
    probe = t.alice.post(f"{API}/instances/{ids['bob']}/cancel", json={})
    assert_problem(probe, 404, "INSTANCE_NOT_FOUND")
    claimed = t.alice.post(f"{API}/tasks/{ids['bob_task']}/complete", json={})
    assert_problem(claimed, 404, "TASK_NOT_FOUND")
    probes = [row for row in audit(t.admin) if row["actor"] == "alice" and row["outcome"] == "failed"]
    assert {(row["action"], row["tenant"]) for row in probes} == {("instance.cancel", None), ("task.complete", None)}
    assert not [row for row in audit(t.bob) if row["actor"] == "alice"]  # bob's tenant learns nothing of alice
    assert not [row for row in audit(t.alice) if row["outcome"] == "failed"]
    assert t.bob.post(f"{API}/instances/{ids['bob']}/cancel", json={}).status_code == 200
    cancelled = [row for row in audit(t.bob) if row["action"] == "instance.cancel"]
    assert [(row["actor"], row["tenant"]) for row in cancelled] == [("bob", "b")]


def test_refusals_and_logins_are_for_the_admin_only(t: Tenanted) -> None:
    denied = t.alice.post(f"{API}/users", json={"username": "mallory", "password": "long-enough-1"})
    assert_problem(denied, 403, "PERMISSION_DENIED")
    failed = t.alice.post(f"{API}/auth/login", json={"username": "alice", "password": "wrong-password"})
    assert failed.status_code == 401
    assert {row["action"] for row in audit(t.admin) if row["tenant"] is None} >= {
        "access.denied",
        "auth.login_failed",
    }
    assert not [row for row in audit(t.alice) if row["tenant"] is None]


def test_a_changed_tenant_breaks_the_chain_and_a_tenant_reader_is_not_told_whose_row(t: Tenanted) -> None:
    work(t)
    assert t.admin.get(f"{API}/audit/verify").json()["ok"] is True
    start = next(row for row in audit(t.admin) if row["action"] == "instance.start" and row["actor"] == "bob")
    with t.legato.store.database.write() as conn:  # move bob's start into tenant a, where alice would read it
        conn.execute(text("UPDATE audit_log SET tenant_id = 'a' WHERE seq = :seq"), {"seq": start["seq"]})
    broken = t.admin.get(f"{API}/audit/verify").json()
    assert (broken["ok"], broken["broken"]["seq"], broken["broken"]["reason"]) == (False, start["seq"], "changed")
    assert "bob" in broken["broken"]["detail"]
    told = t.alice.get(f"{API}/audit/verify").json()
    assert (told["ok"], told["broken"]["seq"], told["broken"]["reason"]) == (False, start["seq"], "changed")
    assert "bob" not in told["broken"]["detail"] and "instance.start" not in told["broken"]["detail"]


def test_every_action_on_a_tenants_work_has_a_tenant_rule() -> None:
    """A new route acting on an instance, task, incident, definition or decision must say
    which tenant its rows go under, or they would be administrators' only by accident."""
    from legato.api.audit_trail import ROUTE_ACTIONS, TENANT_OF

    work_kinds = {"instance", "task", "incident", "definition", "decision", "message", "signal"}
    missing = sorted(
        {
            action.name
            for action in ROUTE_ACTIONS.values()
            if action.target_kind in work_kinds and action.name not in TENANT_OF
        }
    )
    assert missing == []
    assert set(TENANT_OF) <= {action.name for action in ROUTE_ACTIONS.values()}
