"""Camunda 7's REST API under /engine-rest: the external-task protocol with typed variables,
starts, messages, instances and incidents, as Camunda's clients call them."""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem
from external_helpers import deploy_invoice

from legato.api.camunda.variables import camunda_time, from_camunda, to_camunda
from legato.errors import VariablesInvalid
from legato.runtime.app import Legato

REST = "/engine-rest"


def fetch(client: TestClient, topic: str = "invoice.check", **body: Any) -> list[dict[str, Any]]:
    request = {
        "workerId": "camunda-worker",
        "maxTasks": 5,
        "usePriority": True,  # sent by the clients, ignored
        "topics": [{"topicName": topic, "lockDuration": 10_000, "variables": None, "processVariables": {}}],
        **body,
    }
    response = client.post(f"{REST}/external-task/fetchAndLock", json=request)
    assert response.status_code == 200, response.text
    return list(response.json())


def start(client: TestClient, **variables: Any) -> dict[str, Any]:
    body = {"variables": {name: {"value": value} for name, value in variables.items()}, "businessKey": "INV-7"}
    response = client.post(f"{REST}/process-definition/key/invoice/start", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def report(client: TestClient, task_id: str, action: str, **body: Any) -> Any:
    return client.post(f"{REST}/external-task/{task_id}/{action}", json={"workerId": "camunda-worker", **body})


# -- typed variables -------------------------------------------------------------------------


def test_typed_values_are_read_as_camunda_sends_them() -> None:
    plain = from_camunda(
        {
            "text": {"type": "String", "value": "Ada"},
            "count": {"type": "Integer", "value": 7},
            "big": {"type": "Long", "value": 2**40},
            "ratio": {"type": "Double", "value": 1},
            "ok": {"type": "boolean", "value": True},
            "order": {"type": "Json", "value": '{"lines": [1, 2]}'},
            "customer": {
                "type": "Object",
                "value": '{"id": 4}',
                "valueInfo": {"serializationDataFormat": "application/json"},
            },
            "when": {"type": "Date", "value": "2026-12-03T10:00:00.000+0100"},
            "nothing": {"type": "Null"},
            "untyped": {"value": [1, "a"]},
        }
    )
    assert plain == {
        "text": "Ada",
        "count": 7,
        "big": 2**40,
        "ratio": 1.0,
        "ok": True,
        "order": {"lines": [1, 2]},
        "customer": {"id": 4},
        "when": "2026-12-03T10:00:00+01:00",
        "nothing": None,
        "untyped": [1, "a"],
    }


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"type": "Integer", "value": 2**31}, "variables/x/value"),
        ({"type": "Integer", "value": "7"}, "variables/x/value"),
        ({"type": "Boolean", "value": 1}, "variables/x/value"),
        ({"type": "Json", "value": "{not json"}, "variables/x/value"),
        (
            {
                "type": "Object",
                "value": "rO0AB",
                "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"},
            },
            "variables/x/valueInfo/serializationDataFormat",
        ),
        ({"type": "Bytes", "value": "AAEC"}, "variables/x/type"),
        ({"type": "Groovy", "value": 1}, "variables/x/type"),
        ({"type": "String"}, "variables/x"),
        ("just a value", "variables/x"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_it(typed: Any, field: str) -> None:
    with pytest.raises(VariablesInvalid) as caught:
        from_camunda({"x": typed})
    assert caught.value.details["field"] == field


def test_values_go_out_typed_as_camunda_answers() -> None:
    assert to_camunda({"a": "x", "b": 3, "c": 2**40, "d": 1.5, "e": False, "f": None, "g": {"k": [1]}}) == {
        "a": {"type": "String", "value": "x", "valueInfo": {}},
        "b": {"type": "Integer", "value": 3, "valueInfo": {}},
        "c": {"type": "Long", "value": 2**40, "valueInfo": {}},
        "d": {"type": "Double", "value": 1.5, "valueInfo": {}},
        "e": {"type": "Boolean", "value": False, "valueInfo": {}},
        "f": {"type": "Null", "value": None, "valueInfo": {}},
        "g": {"type": "Json", "value": '{"k":[1]}', "valueInfo": {}},
    }
    assert to_camunda({"a": 1, "b": 2}, ["b", "missing"]) == {"b": {"type": "Integer", "value": 2, "valueInfo": {}}}


def test_times_are_written_in_camundas_format() -> None:
    from datetime import UTC, datetime

    assert camunda_time(datetime(2026, 12, 3, 9, 5, 7, 123456, tzinfo=UTC)) == "2026-12-03T09:05:07.123+0000"


# -- the external-task protocol --------------------------------------------------------------


def test_a_camunda_worker_fetches_typed_variables_and_completes(client: TestClient) -> None:
    deploy_invoice(client)
    started = start(client, amount=120, invoice_id="I-1")
    assert started["businessKey"] == "INV-7" and started["ended"] is False
    assert started["definitionId"].startswith("invoice:1:")
    [task] = fetch(client)
    assert task["topicName"] == "invoice.check" and task["activityId"] == "check_invoice"
    assert task["processInstanceId"] == started["id"] and task["processDefinitionKey"] == "invoice"
    assert task["businessKey"] == "INV-7" and task["workerId"] == "camunda-worker" and task["retries"] is None
    assert task["variables"]["amount"] == {"type": "Integer", "value": 120, "valueInfo": {}}
    assert task["lockExpirationTime"][-5] in "+-"  # 2026-...T10:00:00.000+0000
    done = report(
        client,
        task["id"],
        "complete",
        variables={"approved": {"type": "Boolean", "value": True}},
        localVariables={"checked_by": {"value": "bot"}},
    )
    assert done.status_code == 204, done.text
    variables = client.get(f"{REST}/process-instance/{started['id']}/variables").json()
    assert variables["approved"] == {"type": "Boolean", "value": True, "valueInfo": {}}
    assert variables["checked_by"]["value"] == "bot"
    assert fetch(client, "invoice.pay")[0]["variables"]["approved"]["value"] is True
    assert_problem(report(client, task["id"], "complete"), 404, "EXTERNAL_TASK_NOT_FOUND")


def test_failures_count_down_the_retries_the_worker_gives_then_open_an_incident(client: TestClient) -> None:
    deploy_invoice(client)
    instance_id = start(client, amount=1)["id"]
    [task] = fetch(client)
    failed = report(
        client, task["id"], "failure", errorMessage="bank down", errorDetails="trace", retries=2, retryTimeout=0
    )
    assert failed.status_code == 204, failed.text
    [again] = fetch(client)
    assert again["id"] == task["id"] and again["retries"] == 2  # as the worker said: Camunda clients count down from it
    assert report(client, again["id"], "failure", errorMessage="bank down", retries=0).status_code == 204
    assert fetch(client) == []
    [incident] = client.get(f"{REST}/incident", params={"processInstanceId": instance_id}).json()
    assert incident["activityId"] == "check_invoice" and incident["incidentMessage"] == "bank down"
    assert incident["incidentType"] == "failedExternalTask"


def test_a_bpmn_error_takes_the_boundary_path(client: TestClient, legato: Legato) -> None:
    deploy_invoice(client)
    instance_id = start(client, amount=1)["id"]
    [task] = fetch(client)
    thrown = report(
        client,
        task["id"],
        "bpmnError",
        errorCode="INVOICE_INVALID",
        errorMessage="no VAT id",
        variables={"reason": {"type": "String", "value": "no VAT id"}},
    )
    assert thrown.status_code == 204, thrown.text
    assert [t["element"] for t in legato.tasks(instance_id=instance_id)] == ["clarify_invoice"]
    assert legato.instance(instance_id)["variables"]["reason"] == "no VAT id"


def test_locks_are_extended_in_milliseconds_and_unlocked_without_a_worker_id(
    client: TestClient, legato: Legato
) -> None:
    deploy_invoice(client)
    start(client, amount=1)
    [task] = fetch(client)
    extended = report(client, task["id"], "extendLock", newDuration=600_000)
    assert extended.status_code == 204 and extended.content == b""
    assert "content-type" not in extended.headers  # Camunda's Node client parses a JSON content type
    lock = legato.store.jobs.lock_of(task["id"])
    assert lock is not None and lock.lock_expires_at is not None
    assert lock.lock_expires_at - legato.clock.now().timestamp() > 500  # ~600 s, not 600,000
    assert client.post(f"{REST}/external-task/{task['id']}/unlock").status_code == 204
    [again] = fetch(client, workerId="another")
    assert again["id"] == task["id"] and again["workerId"] == "another"
    assert_problem(report(client, task["id"], "complete"), 409, "EXTERNAL_TASK_NOT_LOCKED")


def test_filters_legato_cannot_honour_are_refused_not_ignored(client: TestClient) -> None:
    body = {"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "t", "lockDuration": 1000, "businessKey": "A"}]}
    refused = client.post(f"{REST}/external-task/fetchAndLock", json=body)
    assert_problem(refused, 400, "INVALID_INPUT")
    assert refused.json()["field"] == "topics/0/businessKey", refused.json()
    bad = {"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "t", "lockDuration": 0}]}
    assert client.post(f"{REST}/external-task/fetchAndLock", json=bad).status_code == 400


def test_a_java_object_in_a_completion_is_a_400_naming_it(client: TestClient) -> None:
    deploy_invoice(client)
    start(client, amount=1)
    [task] = fetch(client)
    java = {
        "type": "Object",
        "value": "rO0AB",
        "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"},
    }
    refused = report(client, task["id"], "complete", variables={"customer": java})
    assert_problem(refused, 400, "VARIABLES_INVALID")
    assert "customer" in refused.json()["detail"]


# -- starts, messages, instances ---------------------------------------------------------------


def test_instances_are_listed_and_a_message_correlates_by_business_key(client: TestClient, legato: Legato) -> None:
    message_bpmn = _message_model()
    assert client.post(f"{API}/definitions", files={"file": ("wait.bpmn", message_bpmn)}).status_code == 201
    started = client.post(
        f"{REST}/process-definition/key/wait_for_payment/start",
        json={"businessKey": "ORD-1", "variables": {"order": {"type": "String", "value": "ORD-1"}}},
    )
    assert started.status_code == 200, started.text
    listed = client.get(f"{REST}/process-instance", params={"processDefinitionKey": "wait_for_payment"}).json()
    assert [i["id"] for i in listed] == [started.json()["id"]]
    sent = client.post(
        f"{REST}/message",
        json={
            "messageName": "payment.received",
            "businessKey": "ORD-1",
            "processVariables": {"paid": {"type": "Boolean", "value": True}},
        },
    )
    assert sent.status_code == 204, sent.text
    detail = legato.instance(started.json()["id"])
    assert detail["status"] == "completed" and detail["variables"]["paid"] is True
    assert client.get(f"{REST}/process-instance/{started.json()['id']}").json()["ended"] is True
    nobody = client.post(f"{REST}/message", json={"messageName": "payment.received", "businessKey": "ORD-404"})
    assert_problem(nobody, 404, "MESSAGE_NOT_CORRELATED")
    two = client.post(
        f"{REST}/message", json={"messageName": "m", "correlationKeys": {"a": {"value": 1}, "b": {"value": 2}}}
    )
    assert_problem(two, 400, "INVALID_INPUT")


def test_the_camunda_paths_need_a_token_and_the_native_permission(legato: Legato) -> None:
    from legato.api import create_app
    from sensitive_support import token_with

    with TestClient(create_app(legato)) as anonymous:
        assert_problem(anonymous.post(f"{REST}/external-task/fetchAndLock", json={}), 401, "AUTHENTICATION_REQUIRED")
        assert_problem(anonymous.get(f"{API}{REST}/process-instance"), 401, "AUTHENTICATION_REQUIRED")
        reader = token_with(legato, "reader", permissions=("instances:read",))
        headers = {"Authorization": f"Bearer {reader}"}
        assert anonymous.get(f"{REST}/process-instance", headers=headers).status_code == 200
        denied = anonymous.post(f"{REST}/process-definition/key/invoice/start", json={}, headers=headers)
        assert_problem(denied, 403, "PERMISSION_DENIED")


def _message_model() -> str:
    return """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_pay" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:message id="Message_paid" name="payment.received" />
  <bpmn:process id="wait_for_payment" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="paid" />
    <bpmn:intermediateCatchEvent id="paid">
      <bpmn:messageEventDefinition messageRef="Message_paid" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="paid" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


# -- deployments and retries ---------------------------------------------------------------------


def test_a_deployment_of_several_resources_deploys_them_all(client: TestClient) -> None:
    from external_models import INVOICE_BPMN

    files = [
        ("data", ("invoice.bpmn", INVOICE_BPMN, "application/octet-stream")),
        ("credit", ("credit.dmn11.xml", _credit_dmn(), "application/octet-stream")),
    ]
    answer = client.post(f"{REST}/deployment/create", data={"deployment-name": "from-modeler"}, files=files)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["name"] == "from-modeler"
    [(definition_id, process)] = body["deployedProcessDefinitions"].items()
    assert process["key"] == "invoice" and process["version"] == 1 and process["resource"] == "invoice.bpmn"
    assert definition_id.startswith("invoice:1:")
    assert [d["key"] for d in body["deployedDecisionDefinitions"].values()] == ["camunda_credit"]
    again = client.post(f"{REST}/deployment/create", files=files[:1]).json()
    [(_, unchanged)] = again["deployedProcessDefinitions"].items()
    assert unchanged["version"] == 1  # unchanged: duplicate filtering


def test_one_broken_resource_deploys_nothing_and_is_named(client: TestClient, legato: Legato) -> None:
    from external_models import INVOICE_BPMN

    files = [
        ("data", ("invoice.bpmn", INVOICE_BPMN, "application/octet-stream")),
        ("broken", ("broken.bpmn", "<definitions>not bpmn", "application/octet-stream")),
    ]
    refused = client.post(f"{REST}/deployment/create", files=files)
    assert refused.status_code == 400, refused.text
    assert refused.json()["resource"] == "broken.bpmn" and refused.json()["detail"].startswith("broken.bpmn: ")
    assert legato.store.definitions.list() == []  # invoice.bpmn was not stored either
    unknown = client.post(f"{REST}/deployment/create", files=[("data", ("form.html", "<form/>", "text/html"))])
    assert_problem(unknown, 400, "INVALID_INPUT")
    assert_problem(client.post(f"{REST}/deployment/create", data={"deployment-name": "x"}), 400, "INVALID_INPUT")


def test_giving_a_failed_task_retries_runs_it_again(client: TestClient, legato: Legato) -> None:
    deploy_invoice(client)
    instance_id = start(client, amount=1)["id"]
    [task] = fetch(client)
    assert report(client, task["id"], "failure", errorMessage="down", retries=0).status_code == 204
    assert len(legato.incidents(instance_id=instance_id)) == 1
    given = client.put(f"{REST}/external-task/{task['id']}/retries", json={"retries": 3})
    assert given.status_code == 204, given.text
    assert legato.incidents(instance_id=instance_id) == []
    [again] = fetch(client)
    assert again["id"] == task["id"]
    assert (
        client.put(f"{REST}/job/{task['id']}/retries", json={"retries": 1}).status_code == 204
    )  # no incident: nothing to do
    assert_problem(client.put(f"{REST}/job/{task['id']}/retries", json={"retries": 0}), 400, "INVALID_INPUT")
    assert_problem(client.put(f"{REST}/job/nope:1/retries", json={"retries": 1}), 404, "EXTERNAL_TASK_NOT_FOUND")
    audit = client.get(f"{API}/audit", params={"action": "job.retries"}).json()["items"]
    assert {"kind": "instance", "id": instance_id} in [row["target"] for row in audit]


def _credit_dmn() -> str:
    return """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="camunda_credit_defs" name="Credit" \
namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="camunda_credit" name="Credit">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_amount" label="Amount">
        <inputExpression id="expr_amount" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="out_risk" name="risk" typeRef="string" />
      <rule id="small">
        <inputEntry id="e1"><text>&lt; 1000</text></inputEntry>
        <outputEntry id="o1"><text>"low"</text></outputEntry>
      </rule>
      <rule id="large">
        <inputEntry id="e2"><text>&gt;= 1000</text></inputEntry>
        <outputEntry id="o2"><text>"high"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""
