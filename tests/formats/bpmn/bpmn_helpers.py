"""What the BPMN tests share: the sample files, and small documents built around a snippet."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.errors import ModelInvalid, Problem
from legato.formats.bpmn import BpmnImport, load_bpmn

FILES = Path(__file__).parent / "files"
CONFORMANCE = Path(__file__).parent / "conformance"
SAMPLES = ("camunda7_invoice", "camunda8_payment", "bpmnio_leave", "signavio_claims", "camunda8_shipping")

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
)


def sample(name: str) -> BpmnImport:
    return load_bpmn((FILES / f"{name}.bpmn").read_bytes())


def conformance(name: str) -> BpmnImport:
    """A file of the conformance suite (conformance/), written as Camunda Modeler writes it."""
    return load_bpmn((CONFORMANCE / f"{name}.bpmn").read_bytes())


def document(body: str, *, after: str = "", process: str = 'id="p" isExecutable="true"') -> str:
    """A BPMN document whose process holds `body`, and `after` it messages, errors, more."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions {NAMESPACES} id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">\n'
        f"  <bpmn:process {process}>\n{body}\n  </bpmn:process>\n{after}</bpmn:definitions>\n"
    )


def around(middle: str, middle_id: str) -> str:
    """Process elements: a start event, then `middle` (with id `middle_id`), then an end event."""
    return f"""    <bpmn:startEvent id="start" />
    {middle}
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{middle_id}" />
    <bpmn:sequenceFlow id="f2" sourceRef="{middle_id}" targetRef="end" />"""


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of `needle` in `text`."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def refused(text: str) -> list[Problem]:
    with pytest.raises(ModelInvalid) as caught:
        load_bpmn(text)
    return caught.value.problems


def problem_for(text: str, element: str) -> Problem:
    problems = [p for p in refused(text) if p.element == element]
    assert problems, f"no problem names {element!r}"
    return problems[0]
