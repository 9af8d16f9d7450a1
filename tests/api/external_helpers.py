"""Calls of the external-task API for its tests, on the invoice model of `external_models`."""

from __future__ import annotations

from typing import Any

from api_helpers import API, TestClient

from external_models import INVOICE_BPMN


def deploy_invoice(client: TestClient, tenant: str | None = None) -> None:
    params = {"tenant": tenant} if tenant else {}
    response = client.post(f"{API}/definitions", params=params, files={"file": ("invoice.bpmn", INVOICE_BPMN)})
    assert response.status_code == 201, response.text


def start_invoice(client: TestClient, tenant: str | None = None, **variables: Any) -> str:
    body = {"variables": variables, **({"tenant": tenant} if tenant else {})}
    response = client.post(f"{API}/definitions/invoice/instances", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["instance_id"])


def fetch(
    client: TestClient,
    *types: str,
    worker: str = "w1",
    lock: float = 30.0,
    wait: float = 0.0,
    max_tasks: int = 10,
    headers: dict[str, str] | None = None,
) -> Any:
    body = {
        "worker_id": worker,
        "max_tasks": max_tasks,
        "topics": [{"task_type": t, "lock_duration": lock} for t in types or ("invoice.check",)],
        "async_response_timeout": wait,
    }
    return client.post(f"{API}/external-tasks/fetch-and-lock", json=body, headers=headers)


def fetched(client: TestClient, *types: str, **options: Any) -> list[dict[str, Any]]:
    response = fetch(client, *types, **options)
    assert response.status_code == 200, response.text
    return list(response.json())


def report(client: TestClient, task_id: str, action: str, **body: Any) -> Any:
    body.setdefault("worker_id", "w1")
    return client.post(f"{API}/external-tasks/{task_id}/{action}", json=body)
