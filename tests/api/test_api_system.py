"""Health, statistics, problem documents for routing and server errors, the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem, start, waiting_at
from openapi_spec_validator import validate

from legato.api import create_app
from legato.runtime.app import Legato
from legato.testing.identity import admin_headers
from support import eventually

ALL_PATHS = {
    "/api/v1/definitions",
    "/api/v1/metrics",
    "/api/v1/definitions/{key}/kpis",
    "/api/v1/definitions/{key}",
    "/api/v1/definitions/{key}/source",
    "/api/v1/definitions/{key}/bpmn",
    "/api/v1/definitions/{key}/instances",
    # operations views (webapi)
    "/api/v1/definitions/{key}/statistics",
    "/api/v1/definitions/{key}/heatmap",
    "/api/v1/decisions",
    "/api/v1/decisions/evaluations",
    "/api/v1/decisions/{decision_id}/evaluate",
    "/api/v1/instances",
    "/api/v1/instances/{instance_id}",
    "/api/v1/instances/{instance_id}/history",
    "/api/v1/instances/{instance_id}/cancel",
    "/api/v1/instances/{instance_id}/variables",
    "/api/v1/messages",
    "/api/v1/signals",
    "/api/v1/conditions",
    "/api/v1/tasks",
    "/api/v1/tasks/{task_id}",
    "/api/v1/tasks/{task_id}/complete",
    "/api/v1/incidents",
    "/api/v1/incidents/{incident_id}",
    "/api/v1/incidents/{incident_id}/retry",
    "/api/v1/health",
    "/api/v1/stats",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/me",
    "/api/v1/auth/providers",
    "/api/v1/auth/oidc/login",
    "/api/v1/auth/oidc/callback",
    "/api/v1/users",
    "/api/v1/users/{username}",
    "/api/v1/users/{username}/password",
    "/api/v1/groups",
    "/api/v1/groups/{group}",
    "/api/v1/groups/{group}/members/{kind}/{member}",
    "/api/v1/roles",
    "/api/v1/tenants",
    "/api/v1/tenants/{tenant}",
    "/api/v1/tenants/{tenant}/members/{kind}/{member}",
    "/api/v1/roles/{role}",
    "/api/v1/grants",
    "/api/v1/grants/{role}/{kind}/{subject}",
    "/api/v1/tokens",
    "/api/v1/tokens/{token_id}",
    "/api/v1/audit",
    "/api/v1/audit/export",
    "/api/v1/audit/verify",
    # live screens
    "/api/v1/events",
    # workers in any language (docs/workers.md)
    "/api/v1/external-tasks/fetch-and-lock",
    "/api/v1/external-tasks/{task_id}/complete",
    "/api/v1/external-tasks/{task_id}/failure",
    "/api/v1/external-tasks/{task_id}/bpmn-error",
    "/api/v1/external-tasks/{task_id}/extend-lock",
    "/api/v1/external-tasks/{task_id}/unlock",
    # repair (docs/repair.md)
    "/api/v1/definitions/validate",
    "/api/v1/incidents/retry",
    "/api/v1/instances/cancel",
    "/api/v1/instances/{instance_id}/modify",
    "/api/v1/definitions/{key}/migrations",
    # the registry of live workers
    "/api/v1/workers",
    # the task lifecycle and the inbox
    "/api/v1/tasks/{task_id}/claim",
    "/api/v1/tasks/{task_id}/unclaim",
    "/api/v1/tasks/{task_id}/assign",
    "/api/v1/tasks/{task_id}/delegate",
    "/api/v1/tasks/{task_id}/resolve",
    "/api/v1/tasks/{task_id}/draft",
    "/api/v1/tasks/{task_id}/comments",
    "/api/v1/tasks/{task_id}/attachments",
    "/api/v1/tasks/{task_id}/attachments/{attachment_id}",
    "/api/v1/task-filters",
    "/api/v1/task-filters/{filter_id}",
    # Camunda 7 compatibility (docs/workers.md), also served at /engine-rest
    "/api/v1/engine-rest/external-task/fetchAndLock",
    "/api/v1/engine-rest/external-task/{task_id}/complete",
    "/api/v1/engine-rest/external-task/{task_id}/failure",
    "/api/v1/engine-rest/external-task/{task_id}/bpmnError",
    "/api/v1/engine-rest/external-task/{task_id}/extendLock",
    "/api/v1/engine-rest/external-task/{task_id}/unlock",
    "/api/v1/engine-rest/process-definition/key/{key}/start",
    "/api/v1/engine-rest/message",
    "/api/v1/engine-rest/process-instance",
    "/api/v1/engine-rest/process-instance/{instance_id}",
    "/api/v1/engine-rest/process-instance/{instance_id}/variables",
    "/api/v1/engine-rest/incident",
    "/api/v1/engine-rest/deployment/create",
    "/api/v1/engine-rest/external-task/{task_id}/retries",
    "/api/v1/engine-rest/job/{job_id}/retries",
}


def test_health_reports_the_database_and_the_worker(client: TestClient) -> None:
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "worker": "running"}


def test_health_is_503_when_the_expected_worker_is_not_running(legato: Legato) -> None:
    client = TestClient(
        create_app(legato, worker=True), headers=admin_headers(legato)
    )  # no `with`: the lifespan never ran
    response = client.get(f"{API}/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "worker": "stopped"}


def test_an_api_only_server_is_healthy_without_a_worker(legato: Legato) -> None:
    with TestClient(create_app(legato), headers=admin_headers(legato)) as client:
        assert client.get(f"{API}/health").json() == {"status": "ok", "database": "ok", "worker": "stopped"}
        assert client.get(f"{API}/stats").json()["worker"] is None


def test_stats_count_instances_and_jobs(client: TestClient, deployed: dict[str, Any]) -> None:
    instance_id = start(client, variables={"amount": 10})["instance_id"]
    start(client, variables={"amount": 5000})
    eventually(lambda: waiting_at(client, instance_id, "approve"))
    stats = eventually(lambda: (s := client.get(f"{API}/stats").json())["instances"].get("completed") and s)
    assert stats["instances"] == {"active": 1, "completed": 1}
    assert isinstance(stats["jobs"], dict)
    assert stats["worker"]["completed"] >= 2


def test_unknown_routes_and_methods_are_problems(client: TestClient) -> None:
    problem = assert_problem(client.get(f"{API}/nothing-here"), 404, "NOT_FOUND")
    assert "/api/v1/nothing-here" in problem["detail"]
    wrong = client.delete(f"{API}/tasks")
    assert_problem(wrong, 405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "GET"


def test_an_unexpected_error_is_a_500_problem_without_internals(
    legato: Legato, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(legato.store.search, "instances", broken)
    with TestClient(create_app(legato), headers=admin_headers(legato), raise_server_exceptions=False) as client:
        response = client.get(f"{API}/instances")
    assert_problem(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text


def test_the_openapi_document_is_valid_and_complete(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    validate(document)
    assert set(document["paths"]) == ALL_PATHS
    assert "HTTPValidationError" not in str(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            responses = operation["responses"]
            successes = [s for s in responses if s[0] in "23"]  # 3xx: the single sign-on redirects
            assert successes, where
            for status in successes:
                if status[0] == "3":
                    assert "Location" in responses[status].get("headers", {}), where
                    continue
                assert status == "204" or responses[status].get("content"), where
            if path not in ("/api/v1/health", "/api/v1/stats", "/api/v1/definitions") or method == "post":
                assert "400" in responses and "413" in responses, where
            for status, response in responses.items():
                if status[0] in "45" and status != "503":
                    assert list(response["content"]) == ["application/problem+json"], where
                    assert response["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }
    deploy = document["paths"]["/api/v1/definitions"]["post"]
    assert set(deploy["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/yaml",
        "application/json",
        "application/xml",
    }
    assert set(deploy["responses"]) >= {"200", "201", "400", "413"}
    start_instance = document["paths"]["/api/v1/definitions/{key}/instances"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in start_instance["parameters"]]
    assert set(start_instance["responses"]) >= {"200", "201", "404", "409"}
    assert document["paths"]["/api/v1/tasks/{task_id}/complete"]["post"]["responses"]["409"]
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "code", "detail"}
    assert schemas["StartInstance"]["additionalProperties"] is False


@pytest.mark.parametrize(("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
def test_the_docs_pages_need_nothing_from_the_internet(client: TestClient, page: str, asset: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert "/openapi.json" in response.text
    referenced = re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text)
    assert f"/docs/assets/{asset}" in referenced
    assert not [url for url in referenced if "//" in url], referenced  # no CDN, no Google Fonts
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for url in referenced:
        served = client.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 1000, url
