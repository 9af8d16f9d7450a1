"""What the API tests share: the model, its handlers, and helpers for asserting problems.

The model is small but has every kind of wait: a service task with a BPMN error
boundary, a user task, a message catch, and a service task without retries that a test
can make fail into an incident (`Switch`).
"""

from __future__ import annotations

import warnings
from typing import Any

from legato.formats.builder import Process, RetryPolicy
from legato.model.process import ProcessDefinition
from legato.runtime.app import Legato, serialize_source
from support import ORDER_YAML as ORDER_YAML  # re-exported: this folder's tests import it from here

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

API = "/api/v1"


def order_definition(name: str = "Order") -> ProcessDefinition:
    p = Process("order", name=name)
    check = p.start("received").then(p.service("check", "credit.check"))
    check.on_error("CREDIT_DENIED", id="denied").then(p.end("rejected"))
    check.then(p.user("approve", name="Approve order", candidate_groups=["sales"])).then(
        p.catch_message("delivered", "order.delivered", correlation_key="order_id")
    ).then(p.service("ship", "ship", retry=RetryPolicy(max_attempts=1))).then(p.end("done"))
    return p.build()


def order_json(name: str = "Order") -> str:
    """The model in the stored JSON form (what `application/json` deploys take)."""
    return serialize_source(order_definition(name))


def message_start_json() -> str:
    p = Process("refund")
    p.start("refund_requested", message="refund.requested").then(p.user("review")).then(p.end("refunded"))
    return serialize_source(p.build())


KNOWN_CUSTOMERS = {"C-17": "Ada Lovelace"}


def lookup(job: Any) -> dict[str, Any]:
    """The `crm.lookup` handler of the repair tests: an unknown customer is an incident."""
    customer = job.variables["customer"]
    if customer not in KNOWN_CUSTOMERS:
        raise LookupError(f"no customer {customer}")
    return {"customer_name": KNOWN_CUSTOMERS[customer]}


def onboarding_legato(path: str) -> Legato:
    """A Legato whose `onboarding` process looks the customer up (one attempt), then waits at `welcome`."""
    app = Legato(path)
    app.register("crm.lookup", lookup)
    p = Process("onboarding")
    p.start("start").then(
        p.service("lookup", "crm.lookup", retry=RetryPolicy(max_attempts=1), inputs={"customer": "customer_id"})
    ).then(p.user("welcome")).then(p.end("done"))
    app.deploy(p.build())
    return app


def start(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/definitions/order/instances", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def waiting_at(client: TestClient, instance_id: str, element: str) -> dict[str, Any] | None:
    instance = client.get(f"{API}/instances/{instance_id}").json()
    return instance if element in instance["waiting_at"] else None


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = dict(response.json())
    assert problem["code"] == code, problem
    assert problem["status"] == status
    assert problem["detail"]
    assert problem["type"].startswith("https://legato.dev/problems/")
    return problem


def snapshot(legato: Legato) -> dict[str, Any]:
    """Everything a failed request must leave as it was."""
    return {
        "definitions": [d.summary() for d in legato.store.definitions.list(all_versions=True)],
        "instances": legato.store.queries.instances(limit=1000),
        "tasks": legato.store.queries.tasks(status="open"),
        "done_tasks": legato.store.queries.tasks(status="completed"),
        "incidents": legato.store.queries.incidents(),
        "jobs": legato.store.queries.job_counts(),
        "history": {i["id"]: legato.store.queries.history(i["id"]) for i in legato.store.queries.instances(limit=1000)},
    }
