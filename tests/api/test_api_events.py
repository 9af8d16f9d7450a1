"""The change feed over HTTP: pages after a position, server-sent events that resume, tenants kept apart."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_helpers import API, ORDER_YAML, TestClient, assert_problem, start
from tenant_helpers import Tenanted, tenanted, waiting_yaml

from legato.api import create_app
from legato.api.live import ChangeHub, Subscriber
from legato.runtime.app import Legato
from legato.store.changes import Change
from legato.testing.identity import admin_token


def kinds(page: dict[str, Any], instance_id: str) -> list[str]:
    return [item["kind"] for item in page["items"] if item["instance_id"] == instance_id]


def test_pages_give_the_position_then_what_came_after_it(client: TestClient, deployed: dict[str, Any]) -> None:
    empty = client.get(f"{API}/events")
    assert empty.status_code == 200, empty.text
    position = empty.json()["last_id"]
    assert empty.json()["items"] == []
    instance = start(client, variables={"order_id": "A-1", "amount": 10})
    page: dict[str, Any] = {"items": []}
    deadline = time.monotonic() + 10
    while "task_opened" not in kinds(page, instance["instance_id"]) and time.monotonic() < deadline:
        time.sleep(0.05)
        page = client.get(f"{API}/events", params={"after": position}).json()
    assert kinds(page, instance["instance_id"])[0] == "instance_started"
    opened = next(i for i in page["items"] if i["kind"] == "task_opened")
    assert opened["element"] == "approve" and opened["process"] == "order" and opened["ref"]
    assert page["last_id"] >= opened["id"] > position
    later = client.get(f"{API}/events", params={"after": page["last_id"]}).json()
    assert later == {"items": [], "last_id": page["last_id"]}
    narrowed = client.get(f"{API}/events", params={"after": position, "instance_id": "nobody"}).json()
    assert narrowed["items"] == [] and narrowed["last_id"] == page["last_id"]


@pytest.mark.parametrize("after", ["-1", "x", str(2**63)])
def test_a_bad_position_is_a_400_naming_it(client: TestClient, after: str) -> None:
    problem = assert_problem(client.get(f"{API}/events", params={"after": after}), 400, "INVALID_INPUT")
    assert "after" in json.dumps(problem)


@pytest.fixture
def t(database_url: str) -> Iterator[Tenanted]:
    legato = Legato(database_url)
    try:
        yield from tenanted(legato)
    finally:
        legato.close()


def test_a_tenant_sees_the_changes_of_its_own_instances_only(t: Tenanted) -> None:
    assert t.deploy(t.alice, waiting_yaml(key="a_order")).status_code == 201
    assert t.deploy(t.bob, waiting_yaml(key="b_order")).status_code == 201
    position = t.admin.get(f"{API}/events").json()["last_id"]
    a = t.alice.post(f"{API}/definitions/a_order/instances", json={"variables": {"order_id": "1"}}).json()
    b = t.bob.post(f"{API}/definitions/b_order/instances", json={"variables": {"order_id": "2"}}).json()
    seen = {
        who: {i["instance_id"] for i in client.get(f"{API}/events", params={"after": position}).json()["items"]}
        for who, client in (("alice", t.alice), ("bob", t.bob), ("admin", t.admin))
    }
    ida, idb = a["instance_id"], b["instance_id"]
    assert seen == {"alice": {ida}, "bob": {idb}, "admin": {ida, idb}}


# -- the stream, from a real server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(legato: Legato) -> Iterator[tuple[str, dict[str, str]]]:
    import uvicorn

    legato.deploy(ORDER_YAML)
    app = create_app(legato, worker=True)
    port = _free_port()
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=served.run, name="events-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {admin_token(legato)}"}
    finally:
        served.should_exit = True
        thread.join(timeout=30)


def read_events(response: httpx.Response, until: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Parse the stream's events until `until(events)` holds."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    for line in response.iter_lines():
        if line == "":
            if "event" in current:
                events.append(current)
                if until(events):
                    return events
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            current[name] = value.removeprefix(" ")
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"the stream did not deliver in time: {events}")


def test_a_stream_delivers_changes_as_they_happen_and_resumes_after_the_last_id(
    server: tuple[str, dict[str, str]],
) -> None:
    url, headers = server
    stream_headers = {**headers, "Accept": "text/event-stream"}
    with httpx.Client(base_url=url, headers=headers, timeout=15) as http:
        with http.stream("GET", f"{API}/events", headers=stream_headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            started = time.monotonic()
            first = http.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "A-1"}}).json()
            events = read_events(response, lambda es: any(json.loads(e["data"])["kind"] == "task_opened" for e in es))
            delivered_in = time.monotonic() - started
        changes = [json.loads(e["data"]) for e in events]
        assert {c["instance_id"] for c in changes} == {first["instance_id"]}
        assert [e["id"] for e in events] == [str(c["id"]) for c in changes]
        assert delivered_in < 10
        last = events[-1]["id"]
        second = http.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "A-2"}}).json()
        resumed_headers = {**stream_headers, "Last-Event-ID": last}
        with http.stream("GET", f"{API}/events", headers=resumed_headers) as response:
            events = read_events(
                response,
                lambda es: any(json.loads(e["data"]).get("instance_id") == second["instance_id"] for e in es),
            )
        resumed = [json.loads(e["data"]) for e in events]
        assert resumed[0]["id"] == int(last) + 1 or resumed[0]["instance_id"] == second["instance_id"]
        assert all(c["id"] > int(last) for c in resumed)


def test_a_stream_that_resumes_behind_pruned_rows_is_told_to_reload(
    server: tuple[str, dict[str, str]], legato: Legato
) -> None:
    url, headers = server
    with httpx.Client(base_url=url, headers=headers, timeout=15) as http:
        start_body = {"variables": {"order_id": "A-1"}}
        assert http.post(f"{API}/definitions/order/instances", json=start_body).status_code == 201
        assert http.post(f"{API}/definitions/order/instances", json=start_body).status_code == 201
        time.sleep(0.2)
        legato.store.changes.prune(before=time.time() + 10)  # everything so far is gone
        assert http.post(f"{API}/definitions/order/instances", json=start_body).status_code == 201
        stream_headers = {**headers, "Accept": "text/event-stream", "Last-Event-ID": "1"}
        with http.stream("GET", f"{API}/events", headers=stream_headers) as response:
            events = read_events(response, lambda es: bool(es))
    assert events[0]["event"] == "reset"


# -- the poller, on PostgreSQL's out-of-order commits ---------------------------------------------


def change(n: int, tenant: str | None = None) -> Change:
    return Change(n, 0.0, "instance_advanced", f"i{n}", "order", None, None, None, tenant)


class _NoFeed:
    def after(self, last_id: int, *, limit: int = 1000) -> list[Change]:
        return []


def test_the_poller_delivers_a_late_commit_and_waits_for_a_gap_only_so_long() -> None:
    hub = ChangeHub(_NoFeed(), gap_wait=2.0)  # type: ignore[arg-type]
    hub.position = 0
    listener = Subscriber(visible=None)
    hub._subscribers.add(listener)
    hub.absorb([change(1), change(3)], now=0.0)  # 2 is not committed yet
    assert hub.position == 1
    hub.absorb([change(3)], now=1.0)  # read again: not delivered twice
    hub.absorb([change(2), change(3)], now=1.5)  # 2 commits late: delivered, position moves on
    assert hub.position == 3
    hub.absorb([change(5)], now=2.0)  # 4 never comes (a rolled-back transaction)
    assert hub.position == 3
    hub.absorb([], now=4.5)
    assert hub.position == 5
    delivered = []
    while not listener.queue.empty():
        item = listener.queue.get_nowait()
        assert item is not None
        delivered.append(item.id)
    assert delivered == [1, 3, 2, 5]


def test_a_subscriber_kept_to_tenants_and_one_that_falls_behind() -> None:
    hub = ChangeHub(_NoFeed())  # type: ignore[arg-type]
    hub.position = 0
    tenant_a = Subscriber(visible=frozenset({"a"}))
    slow = Subscriber(visible=None)
    slow.queue = type(slow.queue)(maxsize=2)
    hub._subscribers.update({tenant_a, slow})
    hub.absorb([change(1, "a"), change(2, "b"), change(3), change(4, "a")], now=0.0)
    got = [tenant_a.queue.get_nowait().id for _ in range(tenant_a.queue.qsize())]  # type: ignore[union-attr]
    assert got == [1, 3, 4]  # its tenant's and the shared tenant's
    assert slow.queue.qsize() == 1 and slow.queue.get_nowait() is None  # a reset, nothing else
