"""Sensitive variables over HTTP: masked for a viewer in every answer, shown to an operator;
stack traces for callers with incidents:read-stack only."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import API, TestClient

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_token
from sensitive_support import (
    API_TOKEN,
    CARD,
    IBAN,
    PASSWORD,
    PAY_YAML,
    bearer,
    pay_legato,
    pay_until_incident,
    start_pay,
    token_with,
)
from support import eventually

SECRETS = (IBAN, API_TOKEN, PASSWORD, CARD)


@pytest.fixture
def legato(tmp_path: Path) -> Iterator[Legato]:
    app = pay_legato(str(tmp_path / "sensitive.db"))
    yield app
    app.close()


@pytest.fixture
def client(legato: Legato) -> Iterator[TestClient]:
    with TestClient(create_app(legato, worker=True), headers=bearer(admin_token(legato))) as test_client:
        deployed = test_client.post(f"{API}/definitions", files={"file": ("pay.yaml", PAY_YAML)})
        assert deployed.status_code == 201, deployed.text
        yield test_client


@pytest.fixture
def viewer(legato: Legato, client: TestClient) -> dict[str, str]:
    return bearer(token_with(legato, "vera", role="viewer"))


@pytest.fixture
def operator(legato: Legato, client: TestClient) -> dict[str, str]:
    return bearer(token_with(legato, "otto", role="operator"))


def leaks(answer: Any) -> list[str]:
    text = json.dumps(answer)
    return [secret for secret in SECRETS if secret in text]


def test_an_instance_shows_a_viewer_masks_and_an_operator_the_values(
    client: TestClient, viewer: dict[str, str], operator: dict[str, str]
) -> None:
    instance_id = pay_until_incident(client)
    seen = client.get(f"{API}/instances/{instance_id}", headers=viewer)
    assert seen.status_code == 200
    body = seen.json()
    assert leaks(body) == []
    variables = body["variables"]
    assert variables["iban"] == "***"  # declared by the process
    assert variables["api_token"] == "***"  # *_token, from the settings
    # nested keys matching a pattern too: `password` (settings), `cards` (card*, the process)
    assert variables["customer"] == {"name": "Ada", "password": "***", "cards": "***"}
    assert variables["card_holder"] == "***"  # card*: the whole object, everything nested in it
    assert variables["amount"] == 120 and variables["approved"] is True
    assert body["masked"] == [
        "/variables/api_token",
        "/variables/card_holder",
        "/variables/customer/cards",
        "/variables/customer/password",
        "/variables/iban",
    ]
    started = body["history"][0]
    assert started["type"] == "instance_started"
    assert started["data"]["variables"]["iban"] == "***"
    assert "/data/variables/iban" in started["masked"]
    incident = body["incidents"][0]
    assert incident["message"] == "the bank refused account *** for ***"
    assert incident["masked"] == ["/message"]
    assert (incident["details"], incident["details_hidden"]) == (None, True)

    full = client.get(f"{API}/instances/{instance_id}", headers=operator).json()
    assert full["variables"]["iban"] == IBAN and full["variables"]["customer"]["password"] == PASSWORD
    assert full["masked"] == [] and all(event["masked"] == [] for event in full["history"])
    assert IBAN in full["incidents"][0]["message"]
    assert "Traceback" in full["incidents"][0]["details"] and full["incidents"][0]["details_hidden"] is False


def test_lists_history_tasks_and_incidents_are_masked_for_a_viewer(
    client: TestClient, viewer: dict[str, str], operator: dict[str, str]
) -> None:
    waiting = start_pay(client)
    eventually(lambda: client.get(f"{API}/tasks", params={"instance_id": waiting}).json()["items"])
    failed = pay_until_incident(client)
    answers = {
        "instances": client.get(f"{API}/instances", params={"variables": "true"}, headers=viewer),
        "history": client.get(f"{API}/instances/{failed}/history", headers=viewer),
        "tasks": client.get(f"{API}/tasks", headers=viewer),
        "done tasks": client.get(f"{API}/tasks", params={"status": "completed"}, headers=viewer),
        "incidents": client.get(f"{API}/incidents", headers=viewer),
    }
    for what, answer in answers.items():
        assert answer.status_code == 200, (what, answer.text)
        assert answer.json()["items"], what
        assert leaks(answer.json()) == [], what
    task = answers["tasks"].json()["items"][0]
    # `account` is the task's input mapped from `iban`: masked by its value, not its name
    assert task["payload"] == {"account": "***", "amount": 120}
    assert task["masked"] == ["/payload/account"]
    one_task = client.get(f"{API}/tasks/{task['id']}", headers=viewer).json()
    assert one_task["payload"]["account"] == "***"
    incident = answers["incidents"].json()["items"][0]
    assert incident["details"] is None and incident["details_hidden"] is True
    one = client.get(f"{API}/incidents/{incident['id']}", headers=viewer).json()
    assert (one["details"], one["details_hidden"], leaks(one)) == (None, True, [])
    failures = [e for e in answers["history"].json()["items"] if e["type"] == "incident_created"]
    assert failures[0]["data"]["message"] == "the bank refused account *** for ***"
    assert failures[0]["masked"] == ["/data/message"]

    for path in ("/instances?variables=true", f"/instances/{failed}/history", "/tasks", "/incidents"):
        shown = client.get(f"{API}{path}", headers=operator).json()
        assert IBAN in json.dumps(shown), path
    operator_task = client.get(f"{API}/tasks/{task['id']}", headers=operator).json()
    assert operator_task["payload"]["account"] == IBAN and operator_task["masked"] == []


def test_read_sensitive_narrowed_to_a_process_unmasks_that_process_only(legato: Legato, client: TestClient) -> None:
    other = """\
process: other
sensitive: [iban]
steps:
  - start: s
  - user: wait
  - end: e
"""
    assert client.post(f"{API}/definitions", files={"file": ("other.yaml", other)}).status_code == 201
    mine = start_pay(client)
    theirs = client.post(f"{API}/definitions/other/instances", json={"variables": {"iban": IBAN}}).json()
    token_with(
        legato,
        "pat",
        permissions=("variables:read-sensitive",),
        processes=("pay",),
        also=("viewer",),
        password="pat-password-1",
    )
    # A session, not a personal token: personal tokens keep only grants for every process
    # (Authenticator.issue_token narrows to the owner's wide permissions).
    with TestClient(client.app) as session:
        login = session.post(f"{API}/auth/login", json={"username": "pat", "password": "pat-password-1"})
        assert login.status_code == 200, login.text
        listed = session.get(f"{API}/instances", params={"variables": "true"}).json()["items"]
    by_id = {item["id"]: item for item in listed}
    assert by_id[mine]["variables"]["iban"] == IBAN
    assert by_id[theirs["instance_id"]]["variables"]["iban"] == "***"


def test_a_stack_trace_needs_read_stack_and_its_values_need_read_sensitive(legato: Legato, client: TestClient) -> None:
    instance_id = pay_until_incident(client)
    stacks_only = bearer(token_with(legato, "sam", permissions=("incidents:read", "incidents:read-stack")))
    incident = client.get(f"{API}/incidents", params={"instance_id": instance_id}, headers=stacks_only).json()
    shown = incident["items"][0]
    assert shown["details_hidden"] is False and "Traceback" in shown["details"]
    assert IBAN not in shown["details"] and "***" in shown["details"]
    assert sorted(shown["masked"]) == ["/details", "/message"]


def test_cancel_and_complete_answer_masked_too(client: TestClient, legato: Legato) -> None:
    worker = bearer(
        token_with(legato, "tia", permissions=("tasks:read", "tasks:complete", "instances:cancel", "instances:read"))
    )
    instance_id = start_pay(client)
    task = eventually(lambda: client.get(f"{API}/tasks", params={"instance_id": instance_id}).json()["items"])[0]
    assigned = client.post(f"{API}/tasks/{task['id']}/assign", json={"assignee": "tia"})  # only the assignee completes
    assert assigned.status_code == 200, assigned.text
    completed = client.post(f"{API}/tasks/{task['id']}/complete", json={"variables": {}}, headers=worker)
    assert completed.status_code == 200, completed.text
    assert completed.json()["payload"]["account"] == "***"
    other = start_pay(client)
    cancelled = client.post(f"{API}/instances/{other}/cancel", json={"reason": "test"}, headers=worker)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["variables"]["iban"] == "***" and leaks(cancelled.json()) == []


DECISION_DMN = """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="pricing" name="Pricing"
    namespace="https://legato.dev/tests">
  <decision id="price" name="Price">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in_total"><inputExpression id="e_total" typeRef="number"><text>total</text></inputExpression></input>
      <output id="out_fee" name="fee" typeRef="number" />
      <output id="out_note" name="note" typeRef="string" />
      <rule id="small">
        <inputEntry id="r1"><text>&lt; 100</text></inputEntry>
        <outputEntry id="o1"><text>7</text></outputEntry>
        <outputEntry id="o2"><text>"small order"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

CHECKOUT_YAML = """\
process: checkout
sensitive: [quote]
steps:
  - start: ordered
  - decision: rate
    decision_ref: price
    result_variable: quote
  - end: priced
"""


def test_decision_evaluations_hide_what_lands_in_sensitive_variables(client: TestClient, legato: Legato) -> None:
    assert client.post(f"{API}/definitions", files={"file": ("pricing.dmn", DECISION_DMN)}).status_code == 201
    assert client.post(f"{API}/definitions", files={"file": ("checkout.yaml", CHECKOUT_YAML)}).status_code == 201
    started = client.post(f"{API}/definitions/checkout/instances", json={"variables": {"total": 50}}).json()
    instance_id = started["instance_id"]
    eventually(lambda: client.get(f"{API}/instances/{instance_id}").json()["status"] == "completed")
    reader = bearer(token_with(legato, "dora", permissions=("decisions:read", "decisions:evaluate")))
    seen = client.get(f"{API}/decisions/evaluations", params={"instance_id": instance_id}, headers=reader).json()
    assert seen["items"][0]["value"] == "***" and seen["items"][0]["masked"] == ["/value"]
    full = client.get(f"{API}/decisions/evaluations", params={"instance_id": instance_id}).json()
    assert full["items"][0]["value"] == {"fee": 7, "note": "small order"} and full["items"][0]["masked"] == []
    # evaluated directly: outputs named by the settings' patterns (`fee`) are masked
    direct = client.post(f"{API}/decisions/price/evaluate", json={"variables": {"total": 10}}, headers=reader)
    assert direct.status_code == 200, direct.text
    assert direct.json()["value"] == {"fee": "***", "note": "small order"}
    assert direct.json()["masked"] == ["/value/fee"]
    unmasked = client.post(f"{API}/decisions/price/evaluate", json={"variables": {"total": 10}})
    assert unmasked.json()["value"] == {"fee": 7, "note": "small order"}


def test_no_sensitive_value_reaches_a_log_line(
    client: TestClient, operator: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    instance_id = pay_until_incident(client)
    client.get(f"{API}/instances/{instance_id}", headers=operator)
    refused = client.post(
        f"{API}/definitions/pay/instances",
        content='{"variables": {"iban": "' + IBAN + '", "x": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert refused.status_code in (400, 422) and IBAN not in refused.text, refused.text
    assert any("failed on attempt 1: ValueError" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "") + str(record.args)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        assert not [secret for secret in SECRETS if secret in text], (record.name, text)
