"""Hostile BPMN and DMN files over HTTP: each refused with a 4xx code naming the problem, nothing stored.

The encoding is settled before the DOCTYPE check (a UTF-16 body without a byte-order mark
used to slip past it, and its internal entity was expanded), and the structure is bounded
while parsing. The same refusals come from a deploy and from POST /definitions/validate.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_helpers import API, TestClient, assert_problem, snapshot

from legato.formats.xml_safety import MAX_ATTRIBUTE_LENGTH, MAX_ELEMENTS
from legato.runtime.app import Legato

BPMN = """<?xml version="1.0" encoding="{encoding}"?>
{doctype}<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_1"
    targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.17.0">
  <bpmn:process id="hostile" name="{name}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1">{filler}<bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_1</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
ENTITY = '<!DOCTYPE bpmn:definitions [<!ENTITY who "EXPANDED">]>\n'
LAUGHS = (
    '<!DOCTYPE bpmn:definitions [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n'
)
DMN_ENTITY = """<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE definitions [<!ENTITY x "EXPANDED">]>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_1" name="D" namespace="urn:x">
  <decision id="Decision_1" name="&x;"><literalExpression><text>1</text></literalExpression></decision>
</definitions>
"""


def bpmn(*, encoding: str = "UTF-8", doctype: str = "", name: str = "Hostile", filler: str = "") -> str:
    return BPMN.format(encoding=encoding, doctype=doctype, name=name, filler=filler)


HOSTILE: list[Any] = [
    pytest.param(
        bpmn(encoding="UTF-16", doctype=ENTITY, name="&who;").encode("utf-16"), "XML_DOCTYPE_REFUSED", id="utf16-bom"
    ),
    pytest.param(
        bpmn(encoding="UTF-16", doctype=ENTITY, name="&who;").encode("utf-16-le"),
        "XML_DOCTYPE_REFUSED",
        id="utf16-nobom",
    ),
    pytest.param(bpmn(doctype=ENTITY, name="&who;").encode(), "XML_DOCTYPE_REFUSED", id="internal-entity"),
    pytest.param(bpmn(doctype=LAUGHS, name="&d;").encode(), "XML_DOCTYPE_REFUSED", id="billion-laughs"),
    pytest.param(bpmn(name="x" * (MAX_ATTRIBUTE_LENGTH + 1)).encode(), "XML_LIMIT_EXCEEDED", id="huge-attribute"),
    pytest.param(
        bpmn(filler="<bpmn:documentation/>" * (MAX_ELEMENTS + 1)).encode(), "XML_LIMIT_EXCEEDED", id="many-elements"
    ),
    pytest.param(bpmn(encoding="klingon").encode(), "XML_ENCODING_INVALID", id="unknown-encoding"),
    pytest.param(DMN_ENTITY.encode("utf-16-le"), "XML_DOCTYPE_REFUSED", id="dmn-utf16-nobom"),
]


@pytest.mark.parametrize(("data", "code"), HOSTILE)
def test_a_hostile_upload_is_refused_with_its_code_and_nothing_is_stored(
    client: TestClient, legato: Legato, data: bytes, code: str
) -> None:
    before = snapshot(legato)
    uploaded = client.post(f"{API}/definitions", files={"file": ("hostile.bpmn", data)})
    problem = assert_problem(uploaded, 400, code)
    assert "EXPANDED" not in uploaded.text and "lollol" not in uploaded.text
    raw = client.post(f"{API}/definitions", content=data, headers={"content-type": "application/xml"})
    assert assert_problem(raw, 400, code)["detail"] == problem["detail"]
    checked = client.post(f"{API}/definitions/validate", files={"file": ("hostile.bpmn", data)})
    if code == "XML_ENCODING_INVALID":  # no readable model at all: refused as a deploy refuses it
        assert_problem(checked, 400, code)
    else:
        assert checked.status_code == 200, checked.text
        assert checked.json()["valid"] is False and checked.json()["problems"][0]["code"] == code
    assert snapshot(legato) == before


def test_the_refusal_names_the_problem_and_its_line(client: TestClient) -> None:
    data = bpmn(encoding="UTF-16", doctype=ENTITY, name="&who;").encode("utf-16-le")
    problem = assert_problem(
        client.post(f"{API}/definitions", files={"file": ("hostile.bpmn", data)}), 400, "XML_DOCTYPE_REFUSED"
    )
    assert problem["line"] == 2 and "DOCTYPE" in problem["detail"]
    huge = bpmn(name="x" * (MAX_ATTRIBUTE_LENGTH + 1)).encode()
    limit = assert_problem(
        client.post(f"{API}/definitions", files={"file": ("h.bpmn", huge)}), 400, "XML_LIMIT_EXCEEDED"
    )
    assert limit["limit"] == "attribute_length" and limit["maximum"] == MAX_ATTRIBUTE_LENGTH and limit["line"] == 4


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "iso-8859-1"])
def test_a_harmless_file_in_another_encoding_deploys_and_its_source_is_utf8(client: TestClient, encoding: str) -> None:
    data = bpmn(encoding=encoding.upper(), name="Prüfung").encode(encoding)
    deployed = client.post(f"{API}/definitions", files={"file": ("check.bpmn", data)})
    assert deployed.status_code == 201, deployed.text
    assert client.get(f"{API}/definitions/hostile").json()["name"] == "Prüfung"
    source = client.get(f"{API}/definitions/hostile/source").text
    assert source.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "Prüfung" in source
