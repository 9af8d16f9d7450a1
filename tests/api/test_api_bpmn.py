"""BPMN through the API and CLI: import warnings reach the caller, every process exports."""

from __future__ import annotations

from pathlib import Path

from api_helpers import API, ORDER_YAML, TestClient

from legato.formats.bpmn import load_bpmn
from legato.model.serialize import checksum
from legato.runtime.app import Legato

WITH_VENDOR_EXTENSION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:acme="http://acme.example/bpmn" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="hello" isExecutable="true">
    <bpmn:extensionElements><acme:owner name="ops" /></bpmn:extensionElements>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_import_warnings_are_returned_by_the_deploy(client: TestClient, legato: Legato) -> None:
    response = client.post(
        f"{API}/definitions", content=WITH_VENDOR_EXTENSION, headers={"content-type": "application/xml"}
    )
    assert response.status_code == 201, response.text
    assert any("acme" in warning or "owner" in warning for warning in response.json()["warnings"])
    deployment = legato.deploy(WITH_VENDOR_EXTENSION, source_format="bpmn")
    assert deployment.created is False and deployment.warnings  # the Python API says so too


def test_a_yaml_process_exports_as_bpmn_that_imports_to_the_same_model(client: TestClient, legato: Legato) -> None:
    client.post(f"{API}/definitions", content=ORDER_YAML, headers={"content-type": "application/yaml"})
    response = client.get(f"{API}/definitions/order/bpmn")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    imported = load_bpmn(response.text).definition
    stored = legato.store.definitions.get("order").model
    assert {e.id for e in imported.elements.values()} == set(stored.elements)
    assert imported.diagram is not None and len(imported.diagram.shapes) >= len(stored.elements)
    assert checksum(load_bpmn(legato.export_bpmn("order")).definition) == checksum(imported)
    assert client.get(f"{API}/definitions/nope/bpmn").status_code == 404


def test_the_cli_exports_and_prints_import_warnings(tmp_path: Path, client: TestClient) -> None:
    from click.testing import CliRunner

    from legato.cli.context import CliContext
    from legato.cli.main import cli

    model = tmp_path / "hello.bpmn"
    model.write_text(WITH_VENDOR_EXTENSION)
    context = CliContext(env={}, http=client)
    deployed = CliRunner().invoke(cli, ["deploy", str(model)], obj=context)
    assert deployed.exit_code == 0, deployed.output
    assert "warning: hello.bpmn:" in deployed.stderr
    out = tmp_path / "out.bpmn"
    exported = CliRunner().invoke(cli, ["export", "hello", "-o", str(out)], obj=context)
    assert exported.exit_code == 0, exported.output
    assert load_bpmn(out.read_text()).definition.id == "hello"
