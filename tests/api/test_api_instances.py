"""Starting, listing, reading and cancelling instances over HTTP; idempotent starts."""

from __future__ import annotations

from typing import Any

from api_helpers import API, ORDER_YAML, TestClient, assert_problem, order_json, snapshot, start, waiting_at

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_headers
from support import eventually, install_handlers


def test_an_instance_runs_and_is_visible_with_its_history(database_url: str, switch: Any) -> None:
    """The happy path end to end, on SQLite and on PostgreSQL."""
    legato = Legato(database_url)
    install_handlers(legato, switch)
    try:
        with TestClient(create_app(legato, worker=True), headers=admin_headers(legato)) as client:
            client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
            response = client.post(
                f"{API}/definitions/order/instances",
                json={"variables": {"amount": 10, "order_id": "A-1"}, "business_key": "A-1"},
            )
            assert response.status_code == 201, response.text
            started = response.json()
            assert started["process"] == "order" and started["version"] == 1
            assert started["created"] is True
            instance_id = started["instance_id"]
            assert response.headers["location"] == f"{API}/instances/{instance_id}"

            instance = eventually(lambda: waiting_at(client, instance_id, "approve"))
            assert instance["status"] == "active"
            assert instance["business_key"] == "A-1"
            assert instance["variables"] == {"amount": 10, "order_id": "A-1", "credit_ok": True}
            assert [t["element"] for t in instance["tasks"]] == ["approve"]
            assert instance["incidents"] == []
            types = [event["type"] for event in instance["history"]]
            assert types[0] == "instance_started"
            assert "element_completed" in types
            completed = next(e for e in instance["history"] if e["type"] == "element_completed")
            assert completed["element"] == "check"
            assert completed["actor"].startswith("worker:")
            assert completed["data"]["variables"] == {"credit_ok": True}

            history = client.get(f"{API}/instances/{instance_id}/history").json()["items"]
            assert history == instance["history"]
    finally:
        legato.close()


def test_listing_filters_and_pages(client: TestClient, deployed: dict[str, Any]) -> None:
    ids = [start(client, variables={"amount": 10 * n}, business_key=f"B-{n}")["instance_id"] for n in range(3)]
    denied = start(client, variables={"amount": 5000})["instance_id"]  # CREDIT_DENIED: ends at once
    eventually(lambda: client.get(f"{API}/instances/{denied}").json()["status"] == "completed")

    everything = client.get(f"{API}/instances").json()
    assert everything["total"] == 4 and everything["next_cursor"] is None
    assert [i["id"] for i in everything["items"]] == [denied, *reversed(ids)]  # newest first

    def listed(**params: Any) -> list[str]:
        return [i["id"] for i in client.get(f"{API}/instances", params=params).json()["items"]]

    assert listed(status="completed") == [denied]
    assert listed(status="active", process="order") == list(reversed(ids))
    assert listed(business_key="B-1") == [ids[1]]
    assert listed(process="other") == []
    first = client.get(f"{API}/instances", params={"limit": 2}).json()
    assert [i["id"] for i in first["items"]] == [denied, ids[2]] and first["total"] == 4
    assert listed(limit=2, cursor=first["next_cursor"]) == [ids[1], ids[0]]


def test_bad_filters_are_400_naming_the_parameter(client: TestClient) -> None:
    problem = assert_problem(
        client.get(f"{API}/instances", params={"status": "sleeping", "limit": 0}), 400, "INVALID_INPUT"
    )
    assert {e["field"] for e in problem["errors"]} == {"query.status", "query.limit"}
    assert "query.status" in problem["detail"]


def test_the_same_idempotency_key_and_body_return_the_first_instance(
    client: TestClient, deployed: dict[str, Any], legato: Legato
) -> None:
    body = {"variables": {"amount": 10, "order_id": "A-1"}}
    key = {"Idempotency-Key": "order-A-1"}
    first = client.post(f"{API}/definitions/order/instances", json=body, headers=key)
    assert first.status_code == 201
    again = client.post(f"{API}/definitions/order/instances", json=body, headers=key)
    assert again.status_code == 200
    assert again.json()["instance_id"] == first.json()["instance_id"]
    assert again.json()["created"] is False

    before = snapshot(legato)
    other = client.post(f"{API}/definitions/order/instances", json={"variables": {"amount": 11}}, headers=key)
    problem = assert_problem(other, 409, "IDEMPOTENCY_CONFLICT")
    assert problem["instance_id"] == first.json()["instance_id"]
    assert len(legato.store.queries.instances()) == 1
    assert snapshot(legato)["definitions"] == before["definitions"]


def test_a_version_can_be_chosen(client: TestClient, deployed: dict[str, Any]) -> None:
    client.post(f"{API}/definitions", files={"file": ("order.json", order_json(name="v2"))})
    assert start(client)["version"] == 2
    assert start(client, version=1)["version"] == 1
    missing = client.post(f"{API}/definitions/order/instances", json={"version": 9})
    assert_problem(missing, 404, "DEFINITION_NOT_FOUND")


def test_an_empty_body_starts_without_variables(client: TestClient, deployed: dict[str, Any]) -> None:
    response = client.post(f"{API}/definitions/order/instances")
    assert response.status_code == 201, response.text


def test_bad_starts_are_refused_and_store_nothing(client: TestClient, deployed: dict[str, Any], legato: Legato) -> None:
    before = snapshot(legato)
    url = f"{API}/definitions/order/instances"
    json_headers = {"content-type": "application/json"}

    assert_problem(client.post(f"{API}/definitions/nope/instances", json={}), 404, "DEFINITION_NOT_FOUND")

    for variables in ([1, 2], "text", 5, True):
        problem = assert_problem(client.post(url, json={"variables": variables}), 400, "VARIABLES_INVALID")
        assert "body.variables" in problem["detail"] and "JSON object" in problem["detail"]

    broken = client.post(url, content='{\n  "variables": {"a": }\n}', headers=json_headers)
    problem = assert_problem(broken, 400, "INVALID_INPUT")
    assert (problem["line"], problem["column"]) == (2, 22)
    assert "line 2, column 22" in problem["detail"]

    typo = assert_problem(client.post(url, json={"variable": {"a": 1}}), 400, "INVALID_INPUT")
    assert typo["errors"][0]["field"] == "body.variable"
    not_object = assert_problem(client.post(url, json=[1]), 400, "INVALID_INPUT")
    assert not_object["errors"][0]["field"] == "body"
    long_key = assert_problem(client.post(url, headers={"Idempotency-Key": "k" * 300}), 400, "INVALID_INPUT")
    assert long_key["errors"][0]["field"] == "header.Idempotency-Key"

    big = {"variables": {"blob": "x" * (1024 * 1024)}}
    assert_problem(client.post(url, json=big), 413, "PAYLOAD_TOO_LARGE")

    assert snapshot(legato) == before


def test_unknown_instances_are_404(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/instances/nope"), 404, "INSTANCE_NOT_FOUND")
    assert_problem(client.get(f"{API}/instances/nope/history"), 404, "INSTANCE_NOT_FOUND")
    assert_problem(client.post(f"{API}/instances/nope/cancel"), 404, "INSTANCE_NOT_FOUND")


def test_cancel_ends_an_active_instance_once(client: TestClient, deployed: dict[str, Any], legato: Legato) -> None:
    instance_id = start(client, variables={"amount": 10})["instance_id"]
    eventually(lambda: waiting_at(client, instance_id, "approve"))
    response = client.post(f"{API}/instances/{instance_id}/cancel", json={"reason": "customer called"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert client.get(f"{API}/tasks", params={"instance_id": instance_id}).json()["items"] == []

    before = snapshot(legato)
    assert_problem(client.post(f"{API}/instances/{instance_id}/cancel"), 409, "INSTANCE_NOT_ACTIVE")
    assert snapshot(legato) == before
