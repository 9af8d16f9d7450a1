"""The business rule task in the Python builder (`p.decision`) and in YAML (`- decision:`)."""

from __future__ import annotations

import pytest

from legato.errors import ModelInvalid, ModelParseError
from legato.formats.builder import Process, RetryPolicy
from legato.formats.yaml_format import dump_yaml, load_yaml
from legato.model import serialize
from legato.model.elements import BusinessRuleTask

YAML = """\
process: loan
steps:
  - start: applied
  - decision: rate
    name: Rate the risk
    decision_ref: Decision_risk
    result_variable: risk
    retry:
      max_attempts: 5
    timeout: 10.0
    inputs:
      amount: application.amount
  - end: rated
"""


def built() -> Process:
    p = Process("loan")
    p.start("applied").then(
        p.decision(
            "rate",
            "Decision_risk",
            name="Rate the risk",
            result_variable="risk",
            retry=RetryPolicy(max_attempts=5),
            timeout=10,
            inputs={"amount": "application.amount"},
        )
    ).then(p.end("rated"))
    return p


def test_the_builder_and_yaml_make_the_same_business_rule_task() -> None:
    from_yaml = load_yaml(YAML)
    task = from_yaml.elements["rate"]
    assert isinstance(task, BusinessRuleTask)
    assert (task.decision, task.result_variable, task.retry.max_attempts, task.timeout) == (
        "Decision_risk",
        "risk",
        5,
        10.0,
    )
    assert serialize.checksum(from_yaml) == serialize.checksum(built().build())


def test_yaml_writes_it_back_as_it_was_read() -> None:
    assert dump_yaml(load_yaml(YAML)) == YAML


def test_without_a_result_variable_none_is_written() -> None:
    p = Process("p")
    p.start("s").then(p.decision("d", "Decision_x")).then(p.end("e"))
    text = dump_yaml(p.build())
    assert "  - decision: d\n    decision_ref: Decision_x\n  - end: e\n" in text
    assert "result_variable" not in text and "task_type" not in text


def test_a_decision_step_needs_its_decision_ref() -> None:
    with pytest.raises(ModelParseError) as caught:
        load_yaml("process: p\nsteps:\n  - start: s\n  - decision: d\n  - end: e\n")
    assert caught.value.line == 4
    assert "needs 'decision_ref'" in caught.value.message


def test_a_decision_step_takes_no_task_type() -> None:
    with pytest.raises(ModelParseError) as caught:
        load_yaml("process: p\nsteps:\n  - start: s\n  - decision: d\n    decision_ref: x\n    task_type: y\n")
    assert "task_type" in caught.value.message


def test_a_bad_result_variable_is_refused_with_its_line() -> None:
    text = YAML.replace("result_variable: risk", "result_variable: 2fast")
    with pytest.raises(ModelInvalid) as caught:
        load_yaml(text)
    [problem] = caught.value.problems
    assert (problem.element, problem.line) == ("rate", 4)
    assert "result variable '2fast' is not a valid variable name" in problem.message
