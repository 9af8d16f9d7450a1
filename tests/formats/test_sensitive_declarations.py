"""Declaring sensitive variables: YAML, the builder, BPMN (Legato's attribute and Camunda's
extension properties), the stored form; bad names refused at deploy."""

from __future__ import annotations

import pytest

from legato.errors import ModelInvalid
from legato.formats.bpmn import dump_bpmn, load_bpmn
from legato.formats.builder import Process
from legato.formats.yaml_format import dump_yaml, load_yaml
from legato.model import serialize

YAML = """\
process: pay
sensitive: [iban, "*_token"]
steps:
  - start: s
  - service: charge
    task_type: pay.charge
  - end: e
"""


def plain() -> Process:
    p = Process("pay", sensitive=["iban", "*_token"])
    p.start("s").then(p.service("charge", "pay.charge")).then(p.end("e"))
    return p


def test_yaml_and_the_builder_declare_the_same_and_both_round_trip() -> None:
    from_yaml = load_yaml(YAML)
    built = plain().build()
    assert from_yaml.sensitive == built.sensitive == ("iban", "*_token")
    assert serialize.checksum(from_yaml) == serialize.checksum(built)
    assert load_yaml(dump_yaml(built)).sensitive == ("iban", "*_token")
    assert serialize.from_dict(serialize.to_dict(built)).sensitive == ("iban", "*_token")


def test_a_model_without_a_declaration_keeps_its_stored_form() -> None:
    p = Process("pay")
    p.start("s").then(p.end("e"))
    assert "sensitive" not in serialize.to_dict(p.build())


def test_bpmn_carries_it_in_legato_sensitive_and_reads_camunda_properties() -> None:
    xml = dump_bpmn(plain().build())
    assert 'legato:sensitive="iban *_token"' in xml
    assert load_bpmn(xml).definition.sensitive == ("iban", "*_token")
    camunda = xml.replace(' legato:sensitive="iban *_token"', "").replace(
        'isExecutable="true">',
        'isExecutable="true"><bpmn:extensionElements>'
        '<camunda:properties xmlns:camunda="http://camunda.org/schema/1.0/bpmn">'
        '<camunda:property name="sensitive" value="iban, pin"/><camunda:property name="color" value="red"/>'
        "</camunda:properties></bpmn:extensionElements>",
        1,
    )
    assert camunda.count("camunda:property ") == 2
    imported = load_bpmn(camunda)
    assert imported.definition.sensitive == ("iban", "pin")
    assert any("'color' is not kept" in warning for warning in imported.warnings)


@pytest.mark.parametrize("bad", ["pass word", "", "a,b"])
def test_a_bad_name_is_refused_at_deploy(bad: str) -> None:
    with pytest.raises(ModelInvalid) as caught:
        load_yaml(YAML.replace('"*_token"', repr(bad)))
    assert "sensitive variable" in str(caught.value)


def test_a_declaration_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(Exception, match="must be a list"):
        load_yaml(YAML.replace('[iban, "*_token"]', "iban"))
