"""A Camunda Modeler file deployed and run to the end: through Python, and through the API."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from bpmn_helpers import FILES

from legato import Legato, Store
from legato.runtime.handlers import Job

with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SHIPPING = FILES / "camunda8_shipping.bpmn"


def register(app: Legato) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @app.handler("label.print")
    def print_label(job: Job) -> dict[str, Any]:
        seen.append(dict(job.variables))
        return {"url": f"https://labels.example/{job.variables['orderId']}"}

    @app.handler("courier.book")
    def book_courier(job: Job) -> dict[str, Any]:
        return {"courier": "DHL"}

    return seen


@pytest.fixture
def app() -> Iterator[Legato]:
    legato = Legato(Store.memory())
    yield legato
    legato.close()


def test_a_bpmn_file_deploys_and_runs_to_completion(app: Legato) -> None:
    seen = register(app)
    deployment = app.deploy(SHIPPING)
    assert deployment.created and deployment.definition.key == "shipping_label"
    assert app.deploy(str(SHIPPING)).created is False  # the same model again: no new version
    with app.running():
        started = app.start("shipping_label", {"order": {"id": "A1"}, "express": True})
        ended = app.wait(started.instance_id)
    assert ended["status"] == "completed"
    assert seen == [{"orderId": "A1"}]  # the handler got its zeebe:input mapping
    assert ended["variables"] == {
        "order": {"id": "A1"},
        "express": True,
        "labelUrl": "https://labels.example/A1",  # zeebe:output
        "courier": "DHL",  # the `=express` condition held
        "summary": "Label https://labels.example/A1",  # zeebe:script
    }


def test_the_api_deploys_a_bpmn_upload(app: Legato) -> None:
    from legato.api import create_app
    from legato.testing.identity import admin_headers

    register(app)
    with TestClient(create_app(app, worker=True), headers=admin_headers(app)) as client:
        upload = client.post("/api/v1/definitions", files={"file": ("shipping.bpmn", SHIPPING.read_bytes())})
        assert upload.status_code == 201, upload.text
        raw = client.post(
            "/api/v1/definitions", content=SHIPPING.read_bytes(), headers={"content-type": "application/xml"}
        )
        assert raw.status_code == 200 and raw.json()["created"] is False
        model = client.get("/api/v1/definitions/shipping_label").json()["model"]
        assert {e["id"]: e["kind"] for e in model["elements"]}["Activity_print"] == "serviceTask"
        source = client.get("/api/v1/definitions/shipping_label/source")
        assert source.headers["content-type"].startswith("application/xml") and "zeebe:taskDefinition" in source.text
        started = client.post(
            "/api/v1/definitions/shipping_label/instances",
            json={"variables": {"order": {"id": "B2"}, "express": False}},
        )
        assert started.status_code == 201, started.text
        ended = app.wait(started.json()["instance_id"])
    assert ended["status"] == "completed" and ended["variables"]["summary"] == "Label https://labels.example/B2"


def test_the_api_stores_a_model_that_cannot_run_and_refuses_only_its_start(app: Legato) -> None:
    from legato.api import create_app
    from legato.testing.identity import admin_headers

    drawn = SHIPPING.read_text().replace('<zeebe:taskDefinition type="courier.book" />', "")
    with TestClient(create_app(app), headers=admin_headers(app)) as client:
        response = client.post("/api/v1/definitions", files={"file": ("shipping.bpmn", drawn)})
        assert response.status_code == 201, response.text
        deployed = response.json()
        assert deployed["not_executable"] == [
            "'Activity_courier': a service task needs a task type, the name of its handler: "
            'zeebe:taskDefinition type="..." (Camunda 8) or camunda:type="external" camunda:topic="..." (Camunda 7)'
        ]
        assert any(warning.startswith("cannot run: 'Activity_courier'") for warning in deployed["warnings"])
        exported = client.get(f"/api/v1/definitions/{deployed['key']}/bpmn")
        assert exported.status_code == 200 and 'id="Activity_courier"' in exported.text
        started = client.post(f"/api/v1/definitions/{deployed['key']}/instances", json={"variables": {}})
    assert started.status_code == 409
    problem = started.json()
    assert problem["code"] == "DEFINITION_NOT_EXECUTABLE"
    assert "cannot run: 'Activity_courier': a service task needs a task type" in problem["detail"]
    assert problem["reasons"] == deployed["not_executable"]
