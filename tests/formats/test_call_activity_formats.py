"""Call activities in the Python builder, in YAML, in the stored JSON form, and in validation."""

from __future__ import annotations

import textwrap

import pytest

from legato.errors import ModelInvalid, ModelParseError
from legato.formats.builder import Process
from legato.formats.yaml_format import dump_yaml, load_yaml
from legato.model import serialize
from legato.model.elements import CallActivity, EndEvent, SequenceFlow, StartEvent
from legato.model.process import ProcessDefinition
from legato.model.validate import validate

YAML = textwrap.dedent(
    """\
    process: order
    steps:
      - start: received
      - call: pay
        name: Take payment
        process: payment
        version: 2
        inputs:
          amount: total
        outputs:
          receipt_id: receipt.id
        on_error:
          id: pay_error
          code: DECLINED
          steps:
            - end: rejected
      - end: paid
    """
)


def built() -> ProcessDefinition:
    p = Process("order")
    pay = p.start("received").then(
        p.call(
            "pay",
            "payment",
            version=2,
            name="Take payment",
            inputs={"amount": "total"},
            outputs={"receipt_id": "receipt.id"},
        )
    )
    pay.on_error("DECLINED").then(p.end("rejected"))
    pay.then(p.end("paid"))
    return p.build()


def test_the_builder_makes_a_call_activity() -> None:
    call = built().elements["pay"]
    assert call == CallActivity(
        id="pay",
        name="Take payment",
        process="payment",
        version=2,
        inputs={"amount": "total"},
        outputs={"receipt_id": "receipt.id"},
    )


def test_yaml_reads_the_same_definition_as_the_builder_and_writes_it_back() -> None:
    definition = load_yaml(YAML)
    assert serialize.checksum(definition) == serialize.checksum(built())
    assert dump_yaml(definition) == YAML
    assert serialize.checksum(load_yaml(dump_yaml(definition))) == serialize.checksum(definition)


def test_a_call_without_a_version_calls_the_latest_and_writes_no_version() -> None:
    definition = load_yaml("process: p\nsteps:\n  - start: s\n  - call: c\n    process: child\n  - end: e\n")
    call = definition.elements["c"]
    assert isinstance(call, CallActivity) and call.version is None
    assert "version" not in dump_yaml(definition)


def test_the_stored_form_round_trips() -> None:
    definition = built()
    stored = serialize.to_dict(definition)
    [call] = [e for e in stored["elements"] if e["kind"] == "callActivity"]
    assert (call["process"], call["version"]) == ("payment", 2)
    assert serialize.from_dict(stored) == definition


@pytest.mark.parametrize(
    ("step", "line", "message"),
    [
        ("  - call: c\n", 3, "call 'c' needs 'process'"),
        ("  - call: c\n    process: child\n    version: 1.5\n", 5, "'version' in call 'c' must be a whole number"),
        ("  - call: c\n    process: child\n    version: two\n", 5, "must be a number"),
        ("  - call: c\n    process: child\n    task_type: x\n", 5, "unknown key 'task_type'"),
    ],
)
def test_yaml_shape_errors_name_the_line(step: str, line: int, message: str) -> None:
    with pytest.raises(ModelParseError) as caught:
        load_yaml("process: p\nsteps:\n" + step + "  - end: e\n")
    assert caught.value.line == line
    assert message in caught.value.message


def test_validation_refuses_a_bad_process_key_or_version_with_the_line() -> None:
    text = "process: p\nsteps:\n  - start: s\n  - call: c\n    process: 'no spaces'\n    version: 0\n  - end: e\n"
    with pytest.raises(ModelInvalid) as caught:
        load_yaml(text)
    messages = [(p.element, p.line, p.message) for p in caught.value.problems]
    assert ("c", 4, "a call activity needs the key of the process it calls: 'no spaces'") in messages
    assert ("c", 4, "the called version must be a whole number from 1, not 0") in messages


@pytest.mark.parametrize("version", [True, -1, "2"])
def test_validation_refuses_versions_that_are_not_whole_numbers_from_one(version: object) -> None:
    elements = [StartEvent(id="s"), CallActivity(id="c", process="child", version=version), EndEvent(id="e")]  # type: ignore[arg-type]
    flows = [SequenceFlow(id="f1", source="s", target="c"), SequenceFlow(id="f2", source="c", target="e")]
    definition = ProcessDefinition(id="p", elements={e.id: e for e in elements}, flows={f.id: f for f in flows})
    with pytest.raises(ModelInvalid, match="the called version"):
        validate(definition)
