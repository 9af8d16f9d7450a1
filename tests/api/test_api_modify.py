"""Modifying an instance over HTTP: move a token, the waits follow, bad moves are 422 naming the element."""

from __future__ import annotations

from typing import Any

from api_helpers import API, TestClient, assert_problem, start, waiting_at

from legato.runtime.app import Legato
from legato.store.audit import AuditFilter
from support import Switch, eventually


def _at(client: TestClient, instance_id: str, element: str) -> dict[str, Any]:
    return dict(eventually(lambda: waiting_at(client, instance_id, element)))


def test_a_token_moves_back_and_its_task_and_subscription_follow(
    client: TestClient, deployed: dict[str, Any], legato: Legato
) -> None:
    instance_id = start(client, variables={"amount": 5, "order_id": "A-1"})["instance_id"]
    _at(client, instance_id, "approve")
    [task] = client.get(f"{API}/tasks", params={"instance_id": instance_id}).json()["items"]
    moved = client.post(
        f"{API}/instances/{instance_id}/modify",
        json={"cancel": ["approve"], "start_before": ["delivered"], "reason": "approved by phone"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["waiting_at"] == ["delivered"]
    assert client.get(f"{API}/tasks/{task['id']}").json()["status"] == "cancelled"
    history = client.get(f"{API}/instances/{instance_id}/history").json()["items"]
    [modified] = [e for e in history if e["type"] == "instance_modified"]
    assert modified["actor"] == "admin"
    assert modified["data"] == {
        "cancelled": ["approve"],
        "started_before": ["delivered"],
        "reason": "approved by phone",
    }
    # the new wait is real: the message is correlated to it, and the instance runs to its end
    assert client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": "A-1"}).status_code == 200
    assert legato.wait(instance_id)["status"] == "completed"
    [row] = [r.public() for r in legato.store.audit.export(AuditFilter(action="instance.modify"))]
    assert row["target"] == {"kind": "instance", "id": instance_id}
    assert row["details"] == {"cancel": ["approve"], "start_before": ["delivered"], "reason": "approved by phone"}


def test_skipping_a_failed_step_resolves_its_incident(
    client: TestClient, deployed: dict[str, Any], legato: Legato, switch: Switch
) -> None:
    switch.failing = True
    instance_id = start(client, variables={"amount": 5, "order_id": "B-1"})["instance_id"]
    _at(client, instance_id, "approve")
    moved = client.post(f"{API}/instances/{instance_id}/modify", json={"cancel": ["approve"], "start_before": ["ship"]})
    assert moved.status_code == 200, moved.text
    [incident] = eventually(lambda: client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"])
    assert incident["element"] == "ship"
    done = client.post(f"{API}/instances/{instance_id}/modify", json={"cancel": ["ship"], "start_before": ["done"]})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert client.get(f"{API}/incidents/{incident['id']}").json()["status"] == "resolved"


def test_bad_moves_are_422_naming_the_element_and_change_nothing(client: TestClient, deployed: dict[str, Any]) -> None:
    instance_id = start(client, variables={"amount": 5, "order_id": "C-1"})["instance_id"]
    before = _at(client, instance_id, "approve")
    for body, element in (
        ({"cancel": ["approve"], "start_before": ["nowhere"]}, "nowhere"),
        ({"cancel": ["ship"], "start_before": ["delivered"]}, "ship"),
        ({"cancel": ["approve"], "start_before": ["denied"]}, "denied"),
        ({"cancel": ["approve"]}, None),
        ({}, None),
    ):
        response = client.post(f"{API}/instances/{instance_id}/modify", json=body)
        problem = assert_problem(response, 422, "MODIFICATION_INVALID")
        assert problem["element"] == element, (body, problem)
    after = client.get(f"{API}/instances/{instance_id}").json()
    assert (after["waiting_at"], after["revision"], after["tasks"]) == (
        before["waiting_at"],
        before["revision"],
        before["tasks"],
    )
    too_long = client.post(f"{API}/instances/{instance_id}/modify", json={"cancel": ["x" * 256]})
    assert 400 <= too_long.status_code < 500
    unknown_field = client.post(f"{API}/instances/{instance_id}/modify", json={"move": ["approve"]})
    assert 400 <= unknown_field.status_code < 500


def test_an_ended_instance_is_409_and_an_unknown_one_404(client: TestClient, deployed: dict[str, Any]) -> None:
    instance_id = start(client, variables={"amount": 5, "order_id": "D-1"})["instance_id"]
    _at(client, instance_id, "approve")
    assert client.post(f"{API}/instances/{instance_id}/cancel").status_code == 200
    body = {"start_before": ["approve"]}
    assert_problem(client.post(f"{API}/instances/{instance_id}/modify", json=body), 409, "INSTANCE_NOT_ACTIVE")
    assert_problem(client.post(f"{API}/instances/nope/modify", json=body), 404, "INSTANCE_NOT_FOUND")
