"""`dump_bpmn(definition, flavour="camunda7")`: the same model in Camunda 7's spelling (#6 item 20).

A conversion asked for by `legato export --flavour camunda7`: service tasks become external
tasks, user tasks, business rule tasks, mappings and multi-instance loops take `camunda:`
attributes and elements, and what Camunda 7 cannot say stays in a `zeebe:` or `legato:`
extension, so importing the conversion gives back the model that was exported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.formats.bpmn import FLAVOURS, dump_bpmn, load_bpmn
from legato.formats.builder import Process
from legato.model.serialize import checksum

HERE = Path(__file__).parent
FILES = sorted([*HERE.glob("files/*.bpmn"), *HERE.glob("conformance/*.bpmn")])


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_a_conversion_to_camunda7_imports_as_the_camunda8_conversion_does(path: Path) -> None:
    model = load_bpmn(path.read_bytes()).definition
    as_camunda8 = load_bpmn(dump_bpmn(model, flavour="camunda8")).definition
    as_camunda7 = load_bpmn(dump_bpmn(model, flavour="camunda7")).definition
    assert checksum(as_camunda7) == checksum(as_camunda8)
    if checksum(as_camunda8) == checksum(model):
        assert checksum(as_camunda7) == checksum(model)


def test_tasks_are_written_in_camunda7s_own_attributes() -> None:
    p = Process("onboarding")
    start = p.start("start")
    check = start.then(p.service("check", "credit.check", inputs={"customerId": "customer.id"}))
    review = check.then(p.user("review", assignee="demo", candidate_groups=("risk",), form={"key": "review-form"}))
    review.then(p.end("done"))
    model = p.build()
    written = dump_bpmn(model, flavour="camunda7")
    assert 'camunda:type="external" camunda:topic="credit.check"' in written
    assert '<camunda:inputParameter name="customerId">${customer.id}</camunda:inputParameter>' in written
    assert 'camunda:assignee="demo"' in written and 'camunda:candidateGroups="risk"' in written
    assert 'camunda:formKey="review-form"' in written
    assert 'modeler:executionPlatform="Camunda Platform"' in written
    assert "<zeebe:" not in written
    as_camunda8 = load_bpmn(dump_bpmn(model, flavour="camunda8")).definition  # the model with its layout
    assert checksum(load_bpmn(written).definition) == checksum(as_camunda8)


def test_the_flavours() -> None:
    assert FLAVOURS == ("camunda8", "camunda7")
    model = load_bpmn((HERE / "files" / "bpmnio_leave.bpmn").read_bytes()).definition
    with pytest.raises(ValueError, match="unknown flavour"):
        dump_bpmn(model, flavour="camunda6")
