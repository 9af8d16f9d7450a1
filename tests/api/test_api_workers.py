"""Unserved task types over HTTP: GET /workers, and the warnings of start, the instance and the incident list."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem

from legato.access.authenticator import Authenticator
from legato.runtime.app import Legato

FAX_YAML = """\
process: fax
steps:
  - start: received
  - service: send_fax
    task_type: fax.send
  - end: sent
"""


def deploy_fax(client: TestClient) -> None:
    response = client.post(f"{API}/definitions", files={"file": ("fax.yaml", FAX_YAML)})
    assert response.status_code == 201, response.text


def test_the_in_process_worker_is_listed_with_its_task_types(client: TestClient) -> None:
    answer = client.get(f"{API}/workers").json()
    [worker] = answer["items"]
    assert worker["kind"] == "in-process" and worker["live"] is True
    # the test's handlers (support.install_handlers) and the built-in one of business rule tasks
    assert {"credit.check", "ship"} <= set(worker["task_types"])
    assert answer["live_seconds"] == 60 and answer["unserved"] == []


def test_a_task_type_nobody_serves_is_named_in_start_show_incidents_and_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    deploy_fax(client)
    with caplog.at_level(logging.WARNING, logger="legato.jobs"):
        started = client.post(f"{API}/definitions/fax/instances", json={})
    assert started.status_code == 201, started.text
    [warning] = started.json()["warnings"]
    assert warning["code"] == "TASK_TYPE_UNSERVED"
    assert warning["task_type"] == "fax.send" and warning["elements"] == ["send_fax"]
    assert "no live worker serves task type 'fax.send'" in warning["message"]
    assert any("which no live worker serves" in r.getMessage() and "fax.send" in r.getMessage() for r in caplog.records)
    instance_id = started.json()["instance_id"]
    assert client.get(f"{API}/instances/{instance_id}").json()["warnings"] == [warning]
    incidents = client.get(f"{API}/incidents").json()
    assert incidents["items"] == [] and [w["task_type"] for w in incidents["warnings"]] == ["fax.send"]
    assert [w["task_type"] for w in client.get(f"{API}/workers").json()["unserved"]] == ["fax.send"]

    # an external worker asks for fax.send: it is served now, and listed
    body = {"worker_id": "fax-agent", "topics": [{"task_type": "fax.send", "lock_duration": 30}]}
    fetched = client.post(f"{API}/external-tasks/fetch-and-lock", json=body)
    assert fetched.status_code == 200 and len(fetched.json()) == 1
    workers = {w["id"]: w for w in client.get(f"{API}/workers").json()["items"]}
    assert workers["external:fax-agent"]["kind"] == "external"
    assert workers["external:fax-agent"]["task_types"] == ["fax.send"]
    again = client.post(f"{API}/definitions/fax/instances", json={})
    assert again.json()["warnings"] == []
    assert client.get(f"{API}/incidents").json()["warnings"] == []


def test_a_process_whose_task_types_are_served_starts_without_warnings(
    client: TestClient, deployed: dict[str, Any]
) -> None:
    started = client.post(f"{API}/definitions/order/instances", json={"variables": {"amount": 5, "order_id": "W-1"}})
    assert started.status_code == 201 and started.json()["warnings"] == []


def test_the_worker_list_needs_authentication_and_instances_read(client: TestClient, legato: Legato) -> None:
    assert client.get(f"{API}/workers", headers={"Authorization": ""}).status_code == 401
    authenticator = Authenticator(legato.store, clock=legato.clock)
    admin = authenticator.principal_of(authenticator.directory.user("admin"))
    token = authenticator.issue_token(name="t", kind="service", creator=admin, permissions=["tasks:read"]).token
    refused = client.get(f"{API}/workers", headers={"Authorization": f"Bearer {token}"})
    assert assert_problem(refused, 403, "PERMISSION_DENIED")["permission"] == "instances:read"
    assert_problem(client.get(f"{API}/workers", params={"all": "maybe"}), 400, "INVALID_INPUT")
