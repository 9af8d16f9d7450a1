"""Repairing an instance over HTTP: set and remove variables, retry an incident with the fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem, onboarding_legato, snapshot

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from support import eventually


@pytest.fixture
def legato(tmp_path: Any) -> Iterator[Legato]:
    app = onboarding_legato(str(tmp_path / "repair.db"))
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as test_client:
        yield test_client


def _incident_of(client: TestClient, instance_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        items = client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"]
        return items[0] if items else None

    return dict(eventually(found))


def _start(client: TestClient, **variables: Any) -> str:
    response = client.post(f"{API}/definitions/onboarding/instances", json={"variables": variables})
    assert response.status_code == 201, response.text
    return str(response.json()["instance_id"])


def test_retry_with_the_fixed_variable_completes_the_step(client: TestClient, legato: Legato) -> None:
    instance_id = _start(client, customer_id="C-0")
    incident = _incident_of(client, instance_id)
    assert incident["message"] == "no customer C-0"
    retried = client.post(f"{API}/incidents/{incident['id']}/retry", json={"variables": {"customer_id": "C-17"}})
    assert retried.status_code == 200, retried.text
    shown = eventually(
        lambda: (i := client.get(f"{API}/instances/{instance_id}").json())["waiting_at"] == ["welcome"] and i
    )
    assert shown["variables"] == {"customer_id": "C-17", "customer_name": "Ada Lovelace"}
    history = client.get(f"{API}/instances/{instance_id}/history").json()["items"]
    [changed] = [event for event in history if event["type"] == "variables_changed"]
    assert changed["actor"] == "admin" and changed["element"] == "lookup"


def test_set_then_plain_retry_runs_with_the_repaired_data(client: TestClient) -> None:
    instance_id = _start(client, customer_id="C-0", debug=True)
    incident = _incident_of(client, instance_id)
    changed = client.patch(
        f"{API}/instances/{instance_id}/variables", json={"set": {"customer_id": "C-17"}, "remove": ["debug"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["variables"] == {"customer_id": "C-17"}
    assert client.get(f"{API}/incidents/{incident['id']}").json()["status"] == "open"  # a change is not a retry
    assert client.post(f"{API}/incidents/{incident['id']}/retry").status_code == 200
    eventually(lambda: client.get(f"{API}/instances/{instance_id}").json()["waiting_at"] == ["welcome"])
    history = client.get(f"{API}/instances/{instance_id}/history").json()["items"]
    [event] = [e for e in history if e["type"] == "variables_changed"]
    assert event["actor"] == "admin" and event["data"]["removed"] == ["debug"]


def test_bad_variable_changes_are_refused_and_change_nothing(client: TestClient, legato: Legato) -> None:
    instance_id = _start(client, customer_id="C-0")
    incident = _incident_of(client, instance_id)
    before = snapshot(legato)
    url = f"{API}/instances/{instance_id}/variables"
    assert_problem(client.patch(url, json={"set": {"a": 1}, "remove": ["a"]}), 400, "VARIABLES_INVALID")
    assert_problem(client.patch(url, json={"set": [1, 2]}), 400, "INVALID_INPUT")
    assert_problem(client.patch(url, json={"sett": {}}), 400, "INVALID_INPUT")
    assert_problem(
        client.patch(url, content=b"{not json", headers={"content-type": "application/json"}), 400, "INVALID_INPUT"
    )
    assert_problem(client.patch(f"{API}/instances/nope/variables", json={"set": {"a": 1}}), 404, "INSTANCE_NOT_FOUND")
    retry = f"{API}/incidents/{incident['id']}/retry"
    assert_problem(client.post(retry, json={"variables": "C-17"}), 400, "VARIABLES_INVALID")
    assert snapshot(legato) == before
    client.post(f"{API}/instances/{instance_id}/cancel")
    assert_problem(client.patch(url, json={"set": {"a": 1}}), 409, "INSTANCE_NOT_ACTIVE")


def test_retrying_with_variables_needs_the_right_to_change_them(client: TestClient, legato: Legato) -> None:
    instance_id = _start(client, customer_id="C-0")
    incident = _incident_of(client, instance_id)
    authenticator = client.app.state.authenticator
    directory = legato.store.directory
    authenticator.create_user("rita", "rita-password-1")
    directory.create_role("retrier", ["incidents:retry", "incidents:read"], now=0, description=None)
    directory.grant("retrier", "user", "rita", now=0)
    token = authenticator.issue_token(
        name="t", kind="personal", creator=authenticator.principal_of(directory.user("rita"))
    ).token
    rita = {"Authorization": f"Bearer {token}"}
    retry = f"{API}/incidents/{incident['id']}/retry"
    refused = client.post(retry, json={"variables": {"customer_id": "C-17"}}, headers=rita)
    assert_problem(refused, 403, "PERMISSION_DENIED")
    assert client.get(f"{API}/instances/{instance_id}").json()["variables"] == {"customer_id": "C-0"}
    assert_problem(
        client.patch(f"{API}/instances/{instance_id}/variables", json={"set": {"x": 1}}, headers=rita),
        403,
        "PERMISSION_DENIED",
    )
    assert client.post(retry, headers=rita).status_code == 200  # a plain retry is hers to make
