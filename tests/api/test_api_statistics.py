"""Numbers on the process diagram, on SQLite and PostgreSQL: tokens, incidents, passes, time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem

from legato.api import create_app
from legato.runtime.app import Legato
from legato.runtime.clock import FakeClock
from legato.testing.identity import admin_token
from support import Switch, eventually, install_handlers


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def client(database_url: str, clock: FakeClock, switch: Switch) -> Iterator[TestClient]:
    legato = Legato(database_url, clock=clock)
    install_handlers(legato, switch)
    headers = {"Authorization": f"Bearer {admin_token(legato)}"}
    with TestClient(create_app(legato, worker=True), headers=headers) as test_client:
        assert test_client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)}).status_code == 201
        yield test_client
    legato.close()


def start(client: TestClient, **variables: Any) -> str:
    response = client.post(f"{API}/definitions/order/instances", json={"variables": variables})
    assert response.status_code == 201, response.text
    return str(response.json()["instance_id"])


def waiting(client: TestClient, instance_id: str, element: str) -> bool:
    return element in client.get(f"{API}/instances/{instance_id}").json()["waiting_at"]


def by_element(statistics: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {e["element"]: (e["active"], e["incidents"], e["completed"]) for e in statistics["elements"]}


def test_statistics_count_tokens_incidents_and_passes_per_element(
    client: TestClient, clock: FakeClock, switch: Switch
) -> None:
    started = [start(client, order_id=f"o-{n}") for n in range(4)]
    denied = start(client, amount=5000)  # the error boundary ends it at `rejected`
    for instance in started:
        eventually(lambda instance=instance: waiting(client, instance, "approve"))
    eventually(lambda: client.get(f"{API}/instances/{denied}").json()["status"] == "completed")
    switch.failing = True
    for n in range(2):  # two go on to the message, one of them on to an incident at ship
        task = client.get(f"{API}/tasks", params={"instance_id": started[n]}).json()["items"][0]
        clock.advance(30 * (n + 1))
        assert client.post(f"{API}/tasks/{task['id']}/complete", json={}).status_code == 200
    assert client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": "o-0"}).status_code == 200
    eventually(lambda: client.get(f"{API}/incidents").json()["total"] == 1)

    statistics = client.get(f"{API}/definitions/order/statistics").json()
    assert statistics["version"] == 1 and statistics["key"] == "order"
    assert statistics["instances"] == {"active": 4, "completed": 1, "cancelled": 0, "terminated": 0, "incidents": 1}
    counts = by_element(statistics)
    assert counts["approve"] == (2, 0, 2)
    assert counts["delivered"] == (1, 0, 1)
    assert counts["ship"] == (1, 1, 0)  # the token waits at the failed step, with its incident
    assert counts["check"] == (0, 0, 4)  # four completed; the denied one left by its boundary
    assert counts["received"] == (0, 0, 5)
    assert counts["rejected"][2] == 1
    assert client.get(f"{API}/definitions/order/statistics", params={"version": 1}).json() == statistics

    heat = {e["element"]: e for e in client.get(f"{API}/definitions/order/heatmap").json()["elements"]}
    assert heat["approve"]["passes"] == 2
    assert heat["approve"]["p50_seconds"] == pytest.approx(30.0)
    assert heat["approve"]["p90_seconds"] == pytest.approx(90.0)
    assert heat["received"]["passes"] == 5 and heat["received"]["p90_seconds"] == 0.0
    later = client.get(f"{API}/definitions/order/heatmap", params={"since": clock.now().isoformat(), "percentile": 99})
    assert later.status_code == 200, later.text
    assert {e["element"] for e in later.json()["elements"]} <= {"approve", "delivered", "ship"}
    assert later.json()["percentile"] == 99


def test_statistics_bad_input(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/definitions/nothing/statistics"), 404, "DEFINITION_NOT_FOUND")
    missing = client.get(f"{API}/definitions/order/statistics", params={"version": 7})
    assert_problem(missing, 404, "DEFINITION_NOT_FOUND")
    assert_problem(client.get(f"{API}/definitions/order/statistics", params={"version": 0}), 400, "INVALID_INPUT")
    assert_problem(client.get(f"{API}/definitions/order/heatmap", params={"percentile": 0}), 400, "INVALID_INPUT")
    problem = assert_problem(
        client.get(
            f"{API}/definitions/order/heatmap",
            params={"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
        ),
        400,
        "INVALID_FILTER",
    )
    assert problem["field"] == "since"
    empty = client.get(f"{API}/definitions/order/statistics").json()
    assert empty["elements"] == [] and empty["instances"]["active"] == 0
