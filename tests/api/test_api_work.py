"""Messages, user tasks and incidents over HTTP: the work that moves instances along."""

from __future__ import annotations

from typing import Any

from api_helpers import API, TestClient, assert_problem, message_start_json, snapshot, start, waiting_at

from legato.runtime.app import Legato
from support import Switch, eventually


def _open_task(client: TestClient, instance_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        items = client.get(f"{API}/tasks", params={"instance_id": instance_id}).json()["items"]
        return items[0] if items else None

    return dict(eventually(found))


def test_a_task_completes_once_then_is_not_active(client: TestClient, deployed: dict[str, Any], legato: Legato) -> None:
    instance_id = start(client, variables={"amount": 10, "order_id": "A-1"})["instance_id"]
    task = _open_task(client, instance_id)
    assert task["element"] == "approve" and task["name"] == "Approve order"
    assert task["candidate_groups"] == ["sales"] and task["status"] == "open"
    assert client.get(f"{API}/tasks/{task['id']}").json() == task

    done = client.post(f"{API}/tasks/{task['id']}/complete", json={"variables": {"approved": True}})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["ended_by"] == "admin"
    instance = eventually(lambda: waiting_at(client, instance_id, "delivered"))
    assert instance["variables"]["approved"] is True

    listed = client.get(f"{API}/tasks", params={"status": "completed"}).json()["items"]
    assert [t["id"] for t in listed] == [task["id"]]

    before = snapshot(legato)
    again = client.post(f"{API}/tasks/{task['id']}/complete", json={"variables": {"approved": False}})
    assert assert_problem(again, 409, "TASK_NOT_ACTIVE")["task_id"] == task["id"]
    assert snapshot(legato) == before


def test_bad_completions_are_refused(client: TestClient, deployed: dict[str, Any], legato: Legato) -> None:
    instance_id = start(client, variables={"amount": 10})["instance_id"]
    task = _open_task(client, instance_id)
    before = snapshot(legato)
    assert_problem(client.post(f"{API}/tasks/nope:1/complete", json={}), 404, "TASK_NOT_FOUND")
    assert_problem(client.get(f"{API}/tasks/nope:1"), 404, "TASK_NOT_FOUND")
    url = f"{API}/tasks/{task['id']}/complete"
    assert_problem(client.post(url, json={"variables": ["yes"]}), 400, "VARIABLES_INVALID")
    assert_problem(
        client.post(url, content="{oops", headers={"content-type": "application/json"}), 400, "INVALID_INPUT"
    )
    assert_problem(client.post(url, json={"variables": {"x": "y" * 1_100_000}}), 413, "PAYLOAD_TOO_LARGE")
    assert_problem(client.get(f"{API}/tasks", params={"status": "done"}), 400, "INVALID_INPUT")
    assert snapshot(legato) == before


def test_a_message_reaches_the_waiting_instance_or_is_refused(
    client: TestClient, deployed: dict[str, Any], legato: Legato
) -> None:
    instance_id = start(client, variables={"amount": 10, "order_id": "A-1"})["instance_id"]
    task = _open_task(client, instance_id)
    client.post(f"{API}/tasks/{task['id']}/complete")
    eventually(lambda: waiting_at(client, instance_id, "delivered"))

    before = snapshot(legato)
    wrong_key = client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": "B-2"})
    problem = assert_problem(wrong_key, 404, "MESSAGE_NOT_CORRELATED")
    assert problem["correlation_key"] == "B-2"
    assert_problem(client.post(f"{API}/messages", json={"name": "nobody.listens"}), 404, "MESSAGE_NOT_CORRELATED")
    assert_problem(client.post(f"{API}/messages", json={"name": ""}), 400, "INVALID_INPUT")
    assert_problem(client.post(f"{API}/messages", json={"correlation_key": "A-1"}), 400, "INVALID_INPUT")
    assert_problem(
        client.post(f"{API}/messages", json={"name": "order.delivered", "variables": "late"}),
        400,
        "VARIABLES_INVALID",
    )
    assert snapshot(legato) == before

    delivered = client.post(
        f"{API}/messages",
        json={"name": "order.delivered", "correlation_key": "A-1", "variables": {"signed_by": "Ada"}},
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json() == {"correlated": "instance", "instance_id": instance_id}
    ended = legato.wait(instance_id)
    assert ended["status"] == "completed"
    assert ended["variables"]["signed_by"] == "Ada"


def test_a_message_can_start_an_instance(client: TestClient) -> None:
    deployed = client.post(
        f"{API}/definitions", content=message_start_json(), headers={"content-type": "application/json"}
    )
    assert deployed.status_code == 201, deployed.text
    response = client.post(
        f"{API}/messages",
        json={"name": "refund.requested", "correlation_key": "R-9", "variables": {"amount": 5}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["correlated"] == "start"
    instance = client.get(f"{API}/instances/{response.json()['instance_id']}").json()
    assert instance["process"] == "refund" and instance["business_key"] == "R-9"


def test_an_incident_is_listed_and_retried_once(
    client: TestClient, deployed: dict[str, Any], legato: Legato, switch: Switch
) -> None:
    switch.failing = True
    instance_id = start(client, variables={"amount": 10, "order_id": "A-1"})["instance_id"]
    client.post(f"{API}/tasks/{_open_task(client, instance_id)['id']}/complete")
    eventually(lambda: waiting_at(client, instance_id, "delivered"))
    client.post(f"{API}/messages", json={"name": "order.delivered", "correlation_key": "A-1"})

    incidents = eventually(lambda: client.get(f"{API}/incidents").json()["items"])
    incident = incidents[0]
    assert incident["element"] == "ship" and incident["status"] == "open"
    assert incident["error_type"] == "RuntimeError" and incident["message"] == "the carrier is down"
    assert "Traceback" in incident["details"]
    assert (incident["process"], incident["version"]) == ("order", 1)  # lists name the instance's process
    alone = {k: v for k, v in incident.items() if k not in ("process", "version")}
    assert client.get(f"{API}/incidents/{incident['id']}").json() == alone
    shown = client.get(f"{API}/instances/{instance_id}").json()
    assert [i["id"] for i in shown["incidents"]] == [incident["id"]]
    by_instance = client.get(f"{API}/incidents", params={"instance_id": instance_id}).json()["items"]
    assert by_instance == incidents

    switch.failing = False
    retried = client.post(f"{API}/incidents/{incident['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "resolved" and retried.json()["resolved_by"] == "admin"
    assert legato.wait(instance_id)["status"] == "completed"
    assert client.get(f"{API}/incidents").json()["items"] == []
    resolved = client.get(f"{API}/incidents", params={"status": "resolved"}).json()["items"]
    assert [i["id"] for i in resolved] == [incident["id"]]

    before = snapshot(legato)
    assert_problem(client.post(f"{API}/incidents/{incident['id']}/retry"), 409, "INCIDENT_NOT_OPEN")
    assert_problem(client.post(f"{API}/incidents/999/retry"), 404, "INCIDENT_NOT_FOUND")
    assert_problem(client.get(f"{API}/incidents/999"), 404, "INCIDENT_NOT_FOUND")
    assert_problem(client.post(f"{API}/incidents/abc/retry"), 400, "INVALID_INPUT")
    assert snapshot(legato) == before


def test_a_credit_denial_ends_the_instance_by_its_boundary_event(
    client: TestClient, deployed: dict[str, Any], legato: Legato
) -> None:
    instance_id = start(client, variables={"amount": 5000})["instance_id"]
    ended = legato.wait(instance_id)
    assert ended["status"] == "completed"
    history = client.get(f"{API}/instances/{instance_id}/history").json()["items"]
    assert any(e["type"] == "error_thrown" for e in history)
    assert any(e["element"] == "rejected" for e in history)


def test_a_signal_reaches_every_waiting_instance_and_a_signal_no_one_catches_is_not_an_error(
    client: TestClient, legato: Legato
) -> None:
    from legato.model.elements import EndEvent, IntermediateCatchEvent, SequenceFlow, SignalDefinition, StartEvent
    from legato.model.process import ProcessDefinition

    catch = IntermediateCatchEvent(id="wait", event=SignalDefinition(signal="stock.refilled"))
    elements = [StartEvent(id="s"), catch, EndEvent(id="e")]
    model = ProcessDefinition(
        id="restock",
        elements={e.id: e for e in elements},
        flows={
            "f1": SequenceFlow(id="f1", source="s", target="wait"),
            "f2": SequenceFlow(id="f2", source="wait", target="e"),
        },
    )
    legato.deploy(model)
    ids = [client.post(f"{API}/definitions/restock/instances", json={}).json()["instance_id"] for _ in range(2)]
    nobody = client.post(f"{API}/signals", json={"name": "nobody.listens"})
    assert nobody.status_code == 200 and nobody.json() == {"signal": "nobody.listens", "instances": 0, "started": 0}
    assert_problem(client.post(f"{API}/signals", json={"name": ""}), 400, "INVALID_INPUT")
    sent = client.post(f"{API}/signals", json={"name": "stock.refilled", "variables": {"units": 3}})
    assert sent.json() == {"signal": "stock.refilled", "instances": 2, "started": 0}
    for instance_id in ids:
        instance = client.get(f"{API}/instances/{instance_id}").json()
        assert (instance["status"], instance["variables"]) == ("completed", {"units": 3})


def test_conditions_start_the_processes_whose_condition_holds(client: TestClient, legato: Legato) -> None:
    from legato.model.elements import ConditionalDefinition, EndEvent, SequenceFlow, StartEvent
    from legato.model.process import ProcessDefinition

    begin = StartEvent(id="s", event=ConditionalDefinition(condition="amount > 1000"))
    model = ProcessDefinition(
        id="big",
        elements={"s": begin, "e": EndEvent(id="e")},
        flows={"f": SequenceFlow(id="f", source="s", target="e")},
    )
    legato.deploy(model)
    assert client.post(f"{API}/conditions", json={"variables": {"amount": 3}}).json() == {"started": []}
    started = client.post(f"{API}/conditions", json={"variables": {"amount": 3000}}).json()["started"]
    assert [s["process"] for s in started] == ["big"]
    assert_problem(client.post(f"{API}/conditions", json={"variables": [1]}), 400, "VARIABLES_INVALID")
