"""A process deployed from BPMN exports the document that was deployed (#6 item 20).

The file is ours, written as Camunda Modeler 5 writes a Camunda 7 model: a collaboration of
three pools (one executable, with two lanes; one with a non-executable process; one empty),
message flows between them, a data object with its reference and association, a data store,
a group with its category, text annotations, a transaction, a compensation handler, and every
event type: start (message; timer, signal, message, conditional, error and escalation in
event subprocesses), intermediate catch (timer, message, signal, conditional, link), throw
(none, message, signal, escalation, compensation, link), boundary (error, timer, message,
signal, escalation, conditional, compensation, cancel) and end (none, message, error,
escalation, signal, terminate, compensation, cancel). It goes in through the API, is
stored, and comes out byte for byte; ids, DI bounds and waypoints are compared as well, so a
failure says what changed. Conversion to a flavour happens only when asked for.
"""

from __future__ import annotations

from pathlib import Path

from api_helpers import API, ORDER_YAML, TestClient, assert_problem
from lxml import etree

from legato.formats.bpmn import load_bpmn
from legato.model.serialize import checksum
from legato.runtime.app import Legato

FILE = Path(__file__).parents[1] / "formats" / "bpmn" / "files" / "order_collaboration.bpmn"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
DI = "{http://www.omg.org/spec/DD/20100524/DI}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"


def ids(document: bytes) -> set[str]:
    return {str(node.get("id")) for node in etree.fromstring(document).iter() if node.get("id")}


def bounds(document: bytes) -> dict[str, tuple[str, ...]]:
    root = etree.fromstring(document)
    return {
        str(shape.get("bpmnElement")): tuple(
            str(shape.find(f"{DC}Bounds").get(k)) for k in ("x", "y", "width", "height")
        )
        for shape in root.iter(f"{BPMNDI}BPMNShape")
    }


def waypoints(document: bytes) -> dict[str, list[tuple[str, str]]]:
    root = etree.fromstring(document)
    return {
        str(edge.get("bpmnElement")): [(str(p.get("x")), str(p.get("y"))) for p in edge.iter(f"{DI}waypoint")]
        for edge in root.iter(f"{BPMNDI}BPMNEdge")
    }


def test_the_deployed_document_comes_back_byte_for_byte(client: TestClient, legato: Legato) -> None:
    original = FILE.read_bytes()
    deployed = client.post(f"{API}/definitions", files={"file": ("order_collaboration.bpmn", original)})
    assert deployed.status_code == 201, deployed.text
    exported = client.get(f"{API}/definitions/order_fulfilment/bpmn")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/xml")
    assert ids(exported.content) == ids(original)
    assert bounds(exported.content) == bounds(original)
    assert waypoints(exported.content) == waypoints(original)
    assert exported.content == original
    assert legato.export_bpmn("order_fulfilment").encode() == original  # the Python API too
    source = client.get(f"{API}/definitions/order_fulfilment/source")
    assert source.content == original


def test_what_the_model_leaves_out_is_still_in_the_export(client: TestClient) -> None:
    client.post(f"{API}/definitions", files={"file": ("order_collaboration.bpmn", FILE.read_bytes())})
    exported = client.get(f"{API}/definitions/order_fulfilment/bpmn").content
    kept = ids(exported)
    other_pools = {"Participant_customer", "Participant_bank", "Process_customer", "Activity_place"}
    message_flows = {"Flow_msg_order", "Flow_msg_payment", "Flow_msg_receipt"}
    artifacts = {"DataObject_order", "DataObjectReference_order", "DataStoreReference_erp", "Group_billing"}
    artifacts |= {"Association_compensation", "CategoryValue_billing"}
    annotations = {"TextAnnotation_check", "TextAnnotation_bank", "Association_check", "Association_bank"}
    assert other_pools | message_flows | artifacts | annotations <= kept
    assert b'camunda:type="external" camunda:topic="stock.check"' in exported  # Camunda 7, as written
    assert b"zeebe:" not in exported


def test_a_flavour_is_a_conversion_on_request(client: TestClient, legato: Legato) -> None:
    client.post(f"{API}/definitions", files={"file": ("order_collaboration.bpmn", FILE.read_bytes())})
    converted = client.get(f"{API}/definitions/order_fulfilment/bpmn", params={"flavour": "camunda8"})
    assert converted.status_code == 200, converted.text
    assert b'zeebe:taskDefinition type="stock.check"' in converted.content
    stored = legato.store.definitions.get("order_fulfilment").model
    assert checksum(load_bpmn(converted.text).definition) == checksum(stored)
    assert legato.export_bpmn("order_fulfilment", flavour="camunda8") == converted.text
    camunda7 = client.get(f"{API}/definitions/order_fulfilment/bpmn", params={"flavour": "camunda7"})
    assert b'camunda:type="external" camunda:topic="stock.check"' in camunda7.content
    assert b"Camunda Platform" in camunda7.content and b"<zeebe:taskDefinition" not in camunda7.content
    assert checksum(load_bpmn(camunda7.text).definition) == checksum(stored)
    assert camunda7.content != FILE.read_bytes()  # generated: ids of definitions, layout of the XML
    wrong = client.get(f"{API}/definitions/order_fulfilment/bpmn", params={"flavour": "camunda6"})
    assert_problem(wrong, 400, "INVALID_INPUT")


def test_a_yaml_process_is_still_generated_with_a_layout(client: TestClient) -> None:
    client.post(f"{API}/definitions", content=ORDER_YAML, headers={"content-type": "application/yaml"})
    exported = client.get(f"{API}/definitions/order/bpmn").text
    assert "<bpmndi:BPMNDiagram" in exported and "zeebe:taskDefinition" in exported
    assert load_bpmn(exported).definition.id == "order"


def test_the_cli_exports_the_deployed_file_or_converts_it(tmp_path: Path, client: TestClient) -> None:
    from click.testing import CliRunner

    from legato.cli.context import CliContext
    from legato.cli.main import cli

    client.post(f"{API}/definitions", files={"file": ("order_collaboration.bpmn", FILE.read_bytes())})
    context = CliContext(env={}, http=client)
    as_deployed = tmp_path / "as_deployed.bpmn"
    converted = tmp_path / "converted.bpmn"
    first = CliRunner().invoke(cli, ["export", "order_fulfilment", "-o", str(as_deployed)], obj=context)
    second = CliRunner().invoke(
        cli, ["export", "order_fulfilment", "--flavour", "camunda8", "-o", str(converted)], obj=context
    )
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert as_deployed.read_bytes() == FILE.read_bytes()
    assert "zeebe:taskDefinition" in converted.read_text()
