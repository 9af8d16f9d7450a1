"""Migrating instances over HTTP: plan, preview, a result per instance, bad plans, permissions, audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem

from legato.access.authenticator import Authenticator
from legato.api import create_app
from legato.runtime.app import Legato
from legato.store.audit import AuditFilter
from legato.testing.identity import admin_token

# Hand-written BPMN, optional attributes left out, as a person writes it for a test.
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" '
    'targetNamespace="http://example.com/claims">\n'
)
VERSION_1 = (
    HEAD
    + """  <process id="claim" isExecutable="true">
    <startEvent id="filed"/>
    <sequenceFlow id="f1" sourceRef="filed" targetRef="assess"/>
    <userTask id="assess" name="Assess the claim"/>
    <sequenceFlow id="f2" sourceRef="assess" targetRef="settled"/>
    <endEvent id="settled"/>
  </process>
</definitions>
"""
)
VERSION_2 = (
    HEAD
    + """  <process id="claim" isExecutable="true">
    <startEvent id="filed"/>
    <sequenceFlow id="f1" sourceRef="filed" targetRef="triage"/>
    <userTask id="triage" name="Triage the claim"/>
    <sequenceFlow id="f2" sourceRef="triage" targetRef="approve"/>
    <userTask id="approve" name="Approve the payout"/>
    <sequenceFlow id="f3" sourceRef="approve" targetRef="settled"/>
    <endEvent id="settled"/>
  </process>
</definitions>
"""
)


@pytest.fixture
def legato(tmp_path: Any) -> Iterator[Legato]:
    app = Legato(str(tmp_path / "migrate.db"))
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as test_client:
        for source in (VERSION_1, VERSION_2):
            deployed = test_client.post(f"{API}/definitions", files={"file": ("claim.bpmn", source)})
            assert deployed.status_code == 201, deployed.text
        yield test_client


def start_v1(client: TestClient, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        response = client.post(f"{API}/definitions/claim/instances", json={"version": 1})
        assert response.status_code == 201, response.text
        ids.append(response.json()["instance_id"])
    return ids


def test_preview_then_migrate_with_a_mapping_and_the_task_follows(client: TestClient, legato: Legato) -> None:
    [first, second] = start_v1(client, 2)
    [task] = client.get(f"{API}/tasks", params={"instance_id": first}).json()["items"]
    body: dict[str, Any] = {"from_version": 1, "to_version": 2}
    preview = client.post(f"{API}/definitions/claim/migrations", json={**body, "dry_run": True})
    assert preview.status_code == 200, preview.text
    found = preview.json()
    assert found["action"] == "migrate" and found["matched"] == 2 and found["failed"] == 2
    assert found["items"][0]["problems"] == [
        {"element": "assess", "reason": "a token is at this element, which the plan does not map"}
    ]
    assert client.get(f"{API}/instances/{first}").json()["version"] == 1  # a preview moves nothing
    moved = client.post(f"{API}/definitions/claim/migrations", json={**body, "mapping": {"assess": "triage"}})
    assert moved.status_code == 200, moved.text
    report = moved.json()
    assert (report["done"], report["skipped"], report["failed"]) == (2, 0, 0)
    assert report["mapping"] == {"assess": "triage", "filed": "filed", "settled": "settled"}
    assert {item["instance_id"] for item in report["items"]} == {first, second}
    instance = client.get(f"{API}/instances/{first}").json()
    assert instance["version"] == 2 and instance["waiting_at"] == ["triage"]
    moved_task = client.get(f"{API}/tasks/{task['id']}").json()
    assert moved_task["element"] == "triage" and moved_task["status"] == "open"
    history = client.get(f"{API}/instances/{first}/history").json()["items"]
    [migrated] = [e for e in history if e["type"] == "instance_migrated"]
    assert migrated["actor"] == "admin"
    assert migrated["data"]["from_version"] == 1 and migrated["data"]["to_version"] == 2
    completed = client.post(f"{API}/tasks/{task['id']}/complete", json={"variables": {}})
    assert completed.status_code == 200, completed.text
    assert client.get(f"{API}/instances/{first}").json()["waiting_at"] == ["approve"]  # version 2's path
    preview_row, row = [r.public() for r in legato.store.audit.export(AuditFilter(action="instance.migrate_bulk"))]
    assert preview_row["details"]["dry_run"] is True and "instances" not in preview_row["details"]
    assert row["target"] == {"kind": "definition", "id": "claim"}
    assert row["details"]["from_version"] == 1 and row["details"]["mapping"] == {"assess": "triage"}
    assert row["details"]["done"] == 2 and sorted(row["details"]["instances"]) == sorted([first, second])
    again = client.post(f"{API}/definitions/claim/migrations", json={**body, "mapping": {"assess": "triage"}})
    assert again.json()["matched"] == 0  # nothing is migrated twice


def test_a_plan_that_cannot_hold_is_422_naming_each_element(client: TestClient) -> None:
    start_v1(client, 1)
    refused = client.post(
        f"{API}/definitions/claim/migrations",
        json={"from_version": 1, "to_version": 2, "mapping": {"assess": "settled", "ghost": "triage"}},
    )
    problem = assert_problem(refused, 422, "MIGRATION_INVALID")
    assert problem["problems"] == [
        {
            "element": "assess",
            "reason": "is a UserTask but is mapped to 'settled', a EndEvent",
            "target": "settled",
        },
        {"element": "ghost", "reason": "the source version has no element 'ghost'"},
    ]
    same = client.post(f"{API}/definitions/claim/migrations", json={"from_version": 2, "to_version": 2})
    assert_problem(same, 422, "MIGRATION_INVALID")


def test_bad_input_is_a_4xx_naming_what_is_wrong(client: TestClient) -> None:
    url = f"{API}/definitions/claim/migrations"
    assert_problem(client.post(url, json={"from_version": 1, "to_version": 9}), 404, "DEFINITION_NOT_FOUND")
    assert_problem(
        client.post(f"{API}/definitions/nothing/migrations", json={"from_version": 1, "to_version": 2}),
        404,
        "DEFINITION_NOT_FOUND",
    )
    for body in (
        {},
        {"from_version": 1},
        {"from_version": 0, "to_version": 2},
        {"from_version": 1, "to_version": 2, "limit": 501},
        {"from_version": 1, "to_version": 2, "mapping": {"assess": ""}},
        {"from_version": 1, "to_version": 2, "mapping": ["assess"]},
        {"from_version": 1, "to_version": 2, "colour": "red"},
        {"from_version": 2**70, "to_version": 2},
    ):
        response = client.post(url, json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    bad_cursor = client.post(url, json={"from_version": 1, "to_version": 2, "cursor": "bogus"})
    assert_problem(bad_cursor, 400, "INVALID_CURSOR")


def test_migrating_needs_instances_migrate(client: TestClient, legato: Legato) -> None:
    start_v1(client, 1)
    authenticator = Authenticator(legato.store, clock=legato.clock)
    admin = authenticator.principal_of(authenticator.directory.user("admin"))
    token = authenticator.issue_token(
        name="ops", kind="service", creator=admin, permissions=["instances:read", "instances:modify"]
    ).token
    url = f"{API}/definitions/claim/migrations"
    body = {"from_version": 1, "to_version": 2, "mapping": {"assess": "triage"}}
    refused = client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    problem = assert_problem(refused, 403, "PERMISSION_DENIED")
    assert problem["permission"] == "instances:migrate"
    anonymous = client.post(url, json=body, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    allowed = authenticator.issue_token(
        name="migrator", kind="service", creator=admin, permissions=["instances:migrate"]
    ).token
    moved = client.post(url, json=body, headers={"Authorization": f"Bearer {allowed}"})
    assert moved.status_code == 200 and moved.json()["done"] == 1
