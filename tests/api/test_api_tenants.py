"""Tenants over the API: definitions and instances of one tenant are invisible to another.

Every scenario runs on SQLite and PostgreSQL (`database_url`). A row of another tenant is
answered 404, as if it did not exist; naming a tenant one lacks is 403 TENANT_DENIED; and
neither changes anything.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_helpers import API
from tenant_helpers import Tenanted, tenanted, waiting_yaml

from legato.runtime.app import Legato


@pytest.fixture
def t(database_url: str) -> Iterator[Tenanted]:
    legato = Legato(database_url)

    def fail(job: object) -> None:
        raise RuntimeError("the service is down")

    legato.register("always.fails", fail)  # before the app starts its worker, which serves what is registered
    try:
        yield from tenanted(legato)
    finally:
        legato.close()


def _versions(client, key: str = "order") -> set[tuple[str | None, int]]:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/definitions", params={"all_versions": "true"})
    assert response.status_code == 200, response.text
    return {(d["tenant"], d["version"]) for d in response.json()["items"] if d["key"] == key}


def test_the_same_key_deploys_per_tenant_with_versions_counted_per_tenant(t: Tenanted) -> None:
    first = t.deploy(t.alice, waiting_yaml(name="A one"))  # alice's only tenant: a
    assert first.status_code == 201, first.text
    assert (first.json()["tenant"], first.json()["version"]) == ("a", 1)
    assert t.deploy(t.alice, waiting_yaml(name="A two")).json()["version"] == 2
    again = t.deploy(t.alice, waiting_yaml(name="A two"))
    assert (again.status_code, again.json()["version"]) == (200, 2)  # unchanged: no new version
    assert (t.deploy(t.bob, waiting_yaml(name="B one")).json()["tenant"], 1) == ("b", 1)
    shared = t.deploy(t.admin, waiting_yaml(name="Shared"))  # an admin has every tenant: default shared
    assert (shared.json()["tenant"], shared.json()["version"]) == (None, 1)
    assert t.deploy(t.admin, waiting_yaml(name="B two"), tenant="b").json()["version"] == 2

    assert _versions(t.admin) == {("a", 1), ("a", 2), ("b", 1), ("b", 2), (None, 1)}
    assert _versions(t.alice) == {("a", 1), ("a", 2), (None, 1)}
    assert _versions(t.bob) == {("b", 1), ("b", 2), (None, 1)}
    latest = t.alice.get(f"{API}/definitions").json()["items"]
    assert sorted((d["tenant"] or "", d["name"]) for d in latest) == [("", "Shared"), ("a", "A two")]
    assert t.alice.get(f"{API}/definitions/order").json()["name"] == "A two"
    assert t.bob.get(f"{API}/definitions/order").json()["name"] == "B two"
    assert t.admin.get(f"{API}/definitions/order").json()["name"] == "Shared"
    assert t.admin.get(f"{API}/definitions/order", params={"tenant": "a", "version": 1}).json()["name"] == "A one"
    source = t.bob.get(f"{API}/definitions/order/source")
    assert "B two" in source.text


def test_a_tenant_the_caller_lacks_is_refused_and_nothing_is_stored(t: Tenanted) -> None:
    response = t.deploy(t.alice, waiting_yaml(), tenant="b")
    assert response.status_code == 403
    assert response.json()["code"] == "TENANT_DENIED"
    assert t.deploy(t.alice, waiting_yaml(), tenant="nowhere").json()["code"] == "TENANT_DENIED"  # no existence leak
    assert _versions(t.admin) == set()
    for path in ("/definitions/order", "/definitions", "/instances"):
        refused = t.alice.get(f"{API}{path}", params={"tenant": "b"})
        assert (refused.status_code, refused.json()["code"]) == (403, "TENANT_DENIED"), path
    assert t.deploy(t.bob, waiting_yaml()).status_code == 201
    start = t.alice.post(f"{API}/definitions/order/instances", json={"tenant": "b"})
    assert (start.status_code, start.json()["code"]) == (403, "TENANT_DENIED")
    assert t.admin.get(f"{API}/instances").json()["items"] == []
    missing = t.admin.post(f"{API}/definitions", params={"tenant": "nowhere"}, content=waiting_yaml())
    assert (missing.status_code, missing.json()["code"]) == (404, "TENANT_NOT_FOUND")


def test_instances_of_another_tenant_are_not_found_and_not_changed(t: Tenanted) -> None:
    assert t.deploy(t.alice, waiting_yaml()).status_code == 201
    assert t.deploy(t.bob, waiting_yaml()).status_code == 201
    mine = t.alice.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "A-1"}})
    assert mine.status_code == 201, mine.text
    assert mine.json()["tenant"] == "a"
    theirs = t.bob.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "B-1"}}).json()
    assert theirs["tenant"] == "b"
    alice_id, bob_id = mine.json()["instance_id"], theirs["instance_id"]

    for path in (f"/instances/{bob_id}", f"/instances/{bob_id}/history"):
        response = t.alice.get(f"{API}{path}")
        assert (response.status_code, response.json()["code"]) == (404, "INSTANCE_NOT_FOUND"), path
    cancel = t.alice.post(f"{API}/instances/{bob_id}/cancel", json={})
    assert (cancel.status_code, cancel.json()["code"]) == (404, "INSTANCE_NOT_FOUND")
    repair = t.alice.patch(f"{API}/instances/{bob_id}/variables", json={"set": {"order_id": "stolen"}})
    assert (repair.status_code, repair.json()["code"]) == (404, "INSTANCE_NOT_FOUND")
    assert t.bob.get(f"{API}/instances/{bob_id}").json()["variables"] == {"order_id": "B-1"}
    assert t.bob.get(f"{API}/instances/{bob_id}").json()["status"] == "active"

    assert [i["id"] for i in t.alice.get(f"{API}/instances").json()["items"]] == [alice_id]
    assert [i["id"] for i in t.bob.get(f"{API}/instances").json()["items"]] == [bob_id]
    everyone = t.admin.get(f"{API}/instances").json()["items"]
    assert {(i["id"], i["tenant"]) for i in everyone} == {(alice_id, "a"), (bob_id, "b")}
    only_b = t.admin.get(f"{API}/instances", params={"tenant": "b"}).json()["items"]
    assert [i["id"] for i in only_b] == [bob_id]
    assert t.alice.get(f"{API}/instances/{alice_id}").json()["tenant"] == "a"
    assert t.alice.post(f"{API}/instances/{alice_id}/cancel", json={}).json()["status"] == "cancelled"


def test_a_shared_process_started_from_a_tenant_runs_in_that_tenant(t: Tenanted) -> None:
    assert t.deploy(t.admin, waiting_yaml()).json()["tenant"] is None
    started = t.alice.post(f"{API}/definitions/order/instances", json={}).json()
    assert (started["tenant"], started["version"]) == ("a", 1)
    assert t.bob.get(f"{API}/instances/{started['instance_id']}").status_code == 404
    assert t.bob.get(f"{API}/instances").json()["items"] == []
    shared = t.admin.post(f"{API}/definitions/order/instances", json={}).json()
    assert shared["tenant"] is None
    assert t.bob.get(f"{API}/instances/{shared['instance_id']}").status_code == 200  # shared work is everyone's


def test_tenants_and_members_are_managed_by_admins(t: Tenanted) -> None:
    listed = t.admin.get(f"{API}/tenants").json()["items"]
    assert [(x["tenant"], x["users"], x["groups"]) for x in listed] == [("a", ["alice"], []), ("b", [], ["b-staff"])]
    refused = t.alice.post(f"{API}/tenants", json={"tenant": "c"})
    assert (refused.status_code, refused.json()["code"]) == (403, "PERMISSION_DENIED")
    assert t.admin.post(f"{API}/tenants", json={"tenant": "a"}).json()["code"] == "IDENTITY_CONFLICT"
    bad = t.admin.post(f"{API}/tenants", json={"tenant": "has space"})
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_INPUT")
    assert t.admin.put(f"{API}/tenants/a/members/user/nobody").json()["code"] == "USER_NOT_FOUND"
    me = t.alice.get(f"{API}/auth/me").json()
    assert me["tenants"] == ["a"]
    assert t.admin.get(f"{API}/auth/me").json()["tenants"] is None

    assert t.deploy(t.alice, waiting_yaml()).status_code == 201
    busy = t.admin.delete(f"{API}/tenants/a")
    assert (busy.status_code, busy.json()["code"]) == (409, "IDENTITY_CONFLICT")
    assert t.admin.delete(f"{API}/tenants/a/members/user/alice").json()["users"] == []
    assert t.alice.get(f"{API}/auth/me").json()["tenants"] == []  # tenants exist: alice now sees shared work only
    assert _versions(t.alice) == set()
    assert t.admin.post(f"{API}/tenants", json={"tenant": "c"}).status_code == 201
    assert t.admin.delete(f"{API}/tenants/c").status_code == 204
    assert t.admin.get(f"{API}/tenants/c").json()["code"] == "TENANT_NOT_FOUND"


FAILING_YAML = """\
process: flaky
steps:
  - start: begin
  - service: call
    task_type: always.fails
    retry:
      max_attempts: 1
  - end: done
"""


def _wait_for(predicate, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_tasks_of_another_tenant_are_not_found_and_cannot_be_completed(t: Tenanted) -> None:
    assert t.deploy(t.admin, waiting_yaml()).status_code == 201  # shared: both tenants start it
    mine = t.alice.post(f"{API}/definitions/order/instances", json={}).json()["instance_id"]
    theirs = t.bob.post(f"{API}/definitions/order/instances", json={}).json()["instance_id"]
    alice_tasks = t.alice.get(f"{API}/tasks").json()["items"]
    assert [(x["instance_id"], x["tenant"]) for x in alice_tasks] == [(mine, "a")]
    bob_task = t.bob.get(f"{API}/tasks").json()["items"][0]
    assert bob_task["instance_id"] == theirs
    for response in (
        t.alice.get(f"{API}/tasks/{bob_task['id']}"),
        t.alice.post(f"{API}/tasks/{bob_task['id']}/complete", json={"variables": {"x": 1}}),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "TASK_NOT_FOUND")
    assert t.bob.get(f"{API}/tasks/{bob_task['id']}").json()["status"] == "open"  # not completed
    assert t.alice.get(f"{API}/tasks", params={"instance_id": theirs}).json()["items"] == []
    assert len(t.admin.get(f"{API}/tasks").json()["items"]) == 2
    assert [x["instance_id"] for x in t.admin.get(f"{API}/tasks", params={"tenant": "a"}).json()["items"]] == [mine]
    done = t.bob.post(f"{API}/tasks/{bob_task['id']}/complete", json={})
    assert done.json()["status"] == "completed"


def test_incidents_and_stats_count_only_the_callers_tenants(t: Tenanted) -> None:
    assert t.deploy(t.admin, FAILING_YAML).status_code == 201
    assert t.deploy(t.admin, waiting_yaml()).status_code == 201
    theirs = t.bob.post(f"{API}/definitions/flaky/instances", json={}).json()["instance_id"]
    for _ in range(2):
        assert t.bob.post(f"{API}/definitions/order/instances", json={}).status_code == 201
    assert t.alice.post(f"{API}/definitions/order/instances", json={}).status_code == 201
    incident = _wait_for(lambda: t.bob.get(f"{API}/incidents").json()["items"])[0]
    assert (incident["instance_id"], incident["tenant"]) == (theirs, "b")
    assert t.alice.get(f"{API}/incidents").json()["items"] == []
    for response in (
        t.alice.get(f"{API}/incidents/{incident['id']}"),
        t.alice.post(f"{API}/incidents/{incident['id']}/retry"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "INCIDENT_NOT_FOUND")
    assert t.bob.get(f"{API}/incidents/{incident['id']}").json()["status"] == "open"
    assert t.alice.get(f"{API}/stats").json()["instances"] == {"active": 1}
    assert t.bob.get(f"{API}/stats").json()["instances"] == {"active": 3}
    assert t.admin.get(f"{API}/stats").json()["instances"] == {"active": 4}


def test_a_message_reaches_only_instances_of_the_senders_tenants(t: Tenanted) -> None:
    assert t.deploy(t.admin, waiting_yaml()).status_code == 201
    theirs = t.bob.post(f"{API}/definitions/order/instances", json={"variables": {"order_id": "X"}}).json()
    task = t.bob.get(f"{API}/tasks").json()["items"][0]
    assert t.bob.post(f"{API}/tasks/{task['id']}/complete", json={}).status_code == 200  # now waits for the message
    refused = t.alice.post(f"{API}/messages", json={"name": "order.paid", "correlation_key": "X"})
    assert (refused.status_code, refused.json()["code"]) == (404, "MESSAGE_NOT_CORRELATED")
    assert t.bob.get(f"{API}/instances/{theirs['instance_id']}").json()["status"] == "active"
    named = t.admin.post(f"{API}/messages", json={"name": "order.paid", "correlation_key": "X", "tenant": "a"})
    assert named.json()["code"] == "MESSAGE_NOT_CORRELATED"  # an admin naming tenant a stays in a
    denied = t.alice.post(f"{API}/messages", json={"name": "order.paid", "correlation_key": "X", "tenant": "b"})
    assert (denied.status_code, denied.json()["code"]) == (403, "TENANT_DENIED")
    delivered = t.bob.post(f"{API}/messages", json={"name": "order.paid", "correlation_key": "X"})
    assert delivered.json() == {"correlated": "instance", "instance_id": theirs["instance_id"]}
    assert t.bob.get(f"{API}/instances/{theirs['instance_id']}").json()["status"] == "completed"


SIGNAL_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:signal id="S" name="go" />
  <bpmn:process id="waiter" isExecutable="true">
    <bpmn:startEvent id="begin" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:signalEventDefinition signalRef="S" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="done" />
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="done" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_signal_reaches_only_the_senders_tenants(t: Tenanted) -> None:
    deployed = t.admin.post(f"{API}/definitions", content=SIGNAL_BPMN, headers={"Content-Type": "application/xml"})
    assert deployed.status_code == 201, deployed.text
    a = t.alice.post(f"{API}/definitions/waiter/instances", json={}).json()["instance_id"]
    b = t.bob.post(f"{API}/definitions/waiter/instances", json={}).json()["instance_id"]
    sent = t.alice.post(f"{API}/signals", json={"name": "go"}).json()
    assert (sent["instances"], sent["started"]) == (1, 0)
    assert t.alice.get(f"{API}/instances/{a}").json()["status"] == "completed"
    assert t.bob.get(f"{API}/instances/{b}").json()["status"] == "active"
    assert t.admin.post(f"{API}/signals", json={"name": "go"}).json()["instances"] == 1
    assert t.bob.get(f"{API}/instances/{b}").json()["status"] == "completed"
