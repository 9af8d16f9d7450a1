"""Paged lists on SQLite and PostgreSQL: keyset cursors, totals, filters, and their bad input.

Runs with a fake clock, so many instances share one start time: the id tie-break is what
keeps pages from skipping or repeating rows, and these tests would catch it if it did.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
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
def app(database_url: str, clock: FakeClock, switch: Switch) -> Iterator[Legato]:
    legato = Legato(database_url, clock=clock)
    install_handlers(legato, switch)
    yield legato
    legato.close()


@pytest.fixture
def client(app: Legato) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {admin_token(app)}"}
    with TestClient(create_app(app, worker=True), headers=headers) as test_client:
        response = test_client.post(f"{API}/definitions", files={"file": ("order.yaml", ORDER_YAML)})
        assert response.status_code == 201, response.text
        yield test_client


def start(client: TestClient, **body: Any) -> str:
    response = client.post(f"{API}/definitions/order/instances", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["instance_id"])


def at_approve(client: TestClient, instance_id: str) -> bool:
    return "approve" in client.get(f"{API}/instances/{instance_id}").json()["waiting_at"]


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_instance_pages_cover_every_row_once_in_order_and_stay_stable_under_inserts(
    client: TestClient, clock: FakeClock
) -> None:
    started = [start(client, variables={"amount": n}) for n in range(5)]
    clock.advance(1)
    started += [start(client, variables={"amount": n}) for n in range(4)]  # two start times, ties in each

    first = client.get(f"{API}/instances", params={"limit": 4}).json()
    assert first["total"] == 9 and first["total_exact"] is True and len(first["items"]) == 4
    assert "variables" not in first["items"][0] or first["items"][0]["variables"] is None  # not unless asked
    clock.advance(1)
    newer = start(client)  # lands before the first page: later pages must not shift
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = client.get(f"{API}/instances", params={"limit": 4, "cursor": cursor}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(started) and len(seen) == len(set(seen)) == 9
    everything = client.get(f"{API}/instances", params={"limit": 1000}).json()["items"]
    assert [i["id"] for i in everything] == [newer, *seen]
    keys = [(i["created_at"], i["id"]) for i in everything]
    assert keys == sorted(keys, reverse=True)
    with_variables = client.get(f"{API}/instances", params={"limit": 1, "variables": "true"}).json()
    assert isinstance(with_variables["items"][0]["variables"], dict)


def test_instance_filters(client: TestClient, clock: FakeClock, switch: Switch) -> None:
    berlin = start(client, variables={"city": "Berlin", "amount": 100, "vip": True, "order_id": "o-1"})
    clock.advance(60)
    paris = start(client, variables={"city": "Paris", "amount": 100.0, "vip": False, "code": "42", "order_id": "o-2"})
    quoted = start(client, variables={"code": 42, "order_id": "o-3"}, business_key="B-3")
    for instance in (berlin, paris, quoted):
        eventually(lambda instance=instance: at_approve(client, instance))

    def listed(**params: Any) -> set[str]:
        return set(ids(client.get(f"{API}/instances", params=params)))

    assert listed(var="city:Berlin") == {berlin}
    assert listed(var="amount:100") == {berlin, paris}  # 100 and 100.0 are the same number
    assert listed(var=["amount:100", "vip:false"]) == {paris}
    assert listed(var="vip:true") == {berlin}
    assert listed(var='code:"42"') == {paris} and listed(var="code:42") == {quoted}
    assert listed(var="missing:1") == set()
    assert listed(business_key="B-3") == {quoted}
    assert listed(process="order", version=1) == {berlin, paris, quoted}
    start_time = client.get(f"{API}/instances/{paris}").json()["created_at"]
    assert listed(started_after=start_time) == {paris, quoted}
    assert listed(started_before=start_time) == {berlin}
    assert listed(waiting_at="approve") == {berlin, paris, quoted}
    assert listed(waiting_at="ship") == set()

    # drive Berlin to an incident at `ship`, Paris to its end
    switch.failing = True
    task = client.get(f"{API}/tasks", params={"instance_id": berlin}).json()["items"][0]
    assert client.post(f"{API}/tasks/{task['id']}/complete", json={}).status_code == 200
    assert client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": "o-1"}).status_code == 200
    eventually(lambda: client.get(f"{API}/incidents", params={"instance_id": berlin}).json()["items"])
    assert listed(error="CARRIER is") == {berlin}  # any case, any part of the message
    assert listed(error="100%") == set()  # % is literal
    assert listed(waiting_at="ship") == {berlin}
    counted = client.get(f"{API}/instances", params={"error": "carrier"}).json()
    assert counted["total"] == 1 and counted["total_exact"] is True
    clock.advance(60)
    assert client.post(f"{API}/instances/{paris}/cancel", json={}).status_code == 200
    ended = client.get(f"{API}/instances/{paris}").json()["ended_at"]
    assert listed(ended_after=ended) == {paris}
    assert listed(ended_before=ended) == set()
    assert listed(status="cancelled") == {paris}


def test_bad_cursors_and_filters_are_400s_with_stable_codes(client: TestClient) -> None:
    for cursor in ("not-a-cursor", "!!!", base64.urlsafe_b64encode(b'["instances", 1]').decode()):
        problem = assert_problem(client.get(f"{API}/instances", params={"cursor": cursor}), 400, "INVALID_CURSOR")
        assert "cursor" in problem["detail"]
    foreign = base64.urlsafe_b64encode(b'["tasks", 1.0, "x"]').decode().rstrip("=")
    assert_problem(client.get(f"{API}/instances", params={"cursor": foreign}), 400, "INVALID_CURSOR")
    assert_problem(client.get(f"{API}/incidents", params={"cursor": foreign}), 400, "INVALID_CURSOR")
    assert_problem(client.get(f"{API}/tasks", params={"cursor": "e30"}), 400, "INVALID_CURSOR")
    assert_problem(client.get(f"{API}/definitions", params={"cursor": foreign}), 400, "INVALID_CURSOR")
    assert_problem(client.get(f"{API}/decisions/evaluations", params={"cursor": foreign}), 400, "INVALID_CURSOR")
    huge = base64.urlsafe_b64encode(b'["incidents", 99999999999999999999999]').decode()
    assert_problem(client.get(f"{API}/incidents", params={"cursor": huge}), 400, "INVALID_CURSOR")

    problem = assert_problem(client.get(f"{API}/instances", params={"var": "no-colon"}), 400, "INVALID_FILTER")
    assert problem["field"] == "var"
    assert_problem(client.get(f"{API}/instances", params={"var": 'x:{"a":1}'}), 400, "INVALID_FILTER")
    assert_problem(client.get(f"{API}/instances", params={"var": 'a"b:1'}), 400, "INVALID_FILTER")
    problem = assert_problem(client.get(f"{API}/instances", params={"version": 1}), 400, "INVALID_FILTER")
    assert problem["field"] == "version"
    missing = client.get(f"{API}/instances", params={"process": "order", "version": 9})
    assert_problem(missing, 404, "DEFINITION_NOT_FOUND")
    problem = assert_problem(client.get(f"{API}/instances", params={"limit": 1001}), 400, "INVALID_INPUT")
    assert problem["errors"][0]["field"] == "query.limit"
    assert_problem(client.get(f"{API}/instances", params={"started_after": "yesterday"}), 400, "INVALID_INPUT")


def test_tasks_incidents_definitions_and_evaluations_page_the_same_way(
    client: TestClient, clock: FakeClock, switch: Switch
) -> None:
    started = [start(client, variables={"order_id": f"o-{n}"}) for n in range(5)]
    for instance in started:
        eventually(lambda instance=instance: at_approve(client, instance))

    def walk(path: str, **params: Any) -> tuple[list[Any], int]:
        seen: list[Any] = []
        page = client.get(f"{API}{path}", params={**params, "limit": 2}).json()
        total = page["total"]
        while True:
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                return seen, total
            page = client.get(f"{API}{path}", params={**params, "limit": 2, "cursor": page["next_cursor"]}).json()

    tasks, total = walk("/tasks")
    assert total == 5 and len(set(tasks)) == 5
    assert {t.split(":")[0] for t in tasks} == set(started)

    switch.failing = True
    for n, instance in enumerate(started[:3]):
        task = client.get(f"{API}/tasks", params={"instance_id": instance}).json()["items"][0]
        client.post(f"{API}/tasks/{task['id']}/complete", json={})
        client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": f"o-{n}"})
    eventually(lambda: client.get(f"{API}/incidents").json()["total"] == 3)
    incidents, total = walk("/incidents", process="order")
    assert total == 3 and incidents == sorted(incidents)
    listed = client.get(f"{API}/incidents", params={"element": "ship", "error": "carrier"}).json()
    assert listed["total"] == 3 and listed["items"][0]["process"] == "order" and listed["items"][0]["version"] == 1
    assert client.get(f"{API}/incidents", params={"element": "approve"}).json()["total"] == 0

    second = ORDER_YAML.replace("name: Order", "name: Order v2")
    assert client.post(f"{API}/definitions", files={"file": ("order.yaml", second)}).status_code == 201
    other = ORDER_YAML.replace("process: order", "process: another")
    assert client.post(f"{API}/definitions", files={"file": ("another.yaml", other)}).status_code == 201
    every = client.get(f"{API}/definitions", params={"all_versions": "true", "limit": 2}).json()
    assert every["total"] == 3 and [(d["key"], d["version"]) for d in every["items"]] == [("another", 1), ("order", 1)]
    rest = client.get(f"{API}/definitions", params={"all_versions": "true", "cursor": every["next_cursor"]}).json()
    assert [(d["key"], d["version"]) for d in rest["items"]] == [("order", 2)] and rest["next_cursor"] is None
    v1 = every["items"][1]
    assert v1["instances"] == {"active": 5, "completed": 0, "cancelled": 0, "terminated": 0, "incidents": 3}
    latest = client.get(f"{API}/definitions").json()
    assert [(d["key"], d["version"]) for d in latest["items"]] == [("another", 1), ("order", 2)]
    order = latest["items"][1]
    assert order["instances"]["active"] == 0 and order["instances_all_versions"]["active"] == 5

    evaluations = client.get(f"{API}/decisions/evaluations").json()
    assert evaluations == {"items": [], "total": 0, "total_exact": True, "next_cursor": None}


def test_old_history_rows_and_timestamps_do_not_break_time_filters(client: TestClient, clock: FakeClock) -> None:
    first = start(client)
    later = (clock.now() + timedelta(hours=1)).isoformat()
    assert ids(client.get(f"{API}/instances", params={"started_after": later})) == []
    assert ids(client.get(f"{API}/instances", params={"started_before": later})) == [first]
    naive = clock.now().replace(tzinfo=None).isoformat()  # a time without zone is UTC
    assert ids(client.get(f"{API}/instances", params={"started_after": naive})) == [first]
