"""The YAML format: the shared example, implicit sequencing, round trips, and bad input."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from legato.errors import ModelInvalid, ModelParseError, PayloadTooLarge
from legato.formats.builder import Process, RetryPolicy
from legato.formats.yaml_format import MAX_DOCUMENT_BYTES, STEP_KINDS, dump_yaml, load_yaml
from legato.model.elements import (
    BoundaryEvent,
    EndEvent,
    ErrorDefinition,
    ExclusiveGateway,
    MessageDefinition,
    ScriptTask,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.serialize import checksum, to_dict

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_YAML = files("legato.examples").joinpath("order_to_cash.yaml").read_text()


def example_builder() -> Any:
    spec = importlib.util.spec_from_file_location("order_to_cash", ROOT / "examples" / "order_to_cash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(text: str) -> ProcessDefinition:
    return load_yaml(textwrap.dedent(text))


def parse_error(text: str) -> ModelParseError:
    with pytest.raises(ModelParseError) as caught:
        load(text)
    return caught.value


def invalid(text: str) -> ModelInvalid:
    with pytest.raises(ModelInvalid) as caught:
        load(text)
    return caught.value


def flow(definition: ProcessDefinition, source: str, target: str) -> SequenceFlow:
    (found,) = [f for f in definition.outgoing(source) if f.target == target]
    return found


# --- the shared example ----------------------------------------------------------------------


def test_the_yaml_and_the_builder_example_are_the_same_process() -> None:
    from_yaml = load_yaml(EXAMPLE_YAML)
    from_python = example_builder().build()
    assert to_dict(from_yaml) == to_dict(from_python)
    assert checksum(from_yaml) == checksum(from_python)


def test_the_example_has_the_shape_the_docs_describe() -> None:
    definition = load_yaml(EXAMPLE_YAML)
    check_credit = definition.elements["check_credit"]
    assert isinstance(check_credit, ServiceTask)
    assert check_credit.retry == RetryPolicy(max_attempts=5, initial_backoff=1.0)
    assert check_credit.timeout == 10.0
    denied = definition.elements["credit_denied"]
    assert isinstance(denied, BoundaryEvent) and denied.attached_to == "check_credit"
    assert denied.event == ErrorDefinition(code="CREDIT_DENIED")
    assert {f.source for f in definition.incoming("notify_rejection")} == {
        "credit_denied",
        "approval_decision",
    }
    order_size = definition.elements["order_size"]
    assert isinstance(order_size, ExclusiveGateway)
    assert order_size.default == "order_size_to_order_accepted"
    # the two ways of acceptance merge exclusively: a parallel gateway there would join them
    assert {f.source for f in definition.incoming("order_accepted")} == {"order_size", "approval_decision"}
    assert [f.source for f in definition.incoming("fulfil")] == ["order_accepted"]
    assert flow(definition, "order_size", "approve_order").condition == "amount > 10000"
    reminder = definition.elements["approval_overdue"]
    assert isinstance(reminder, BoundaryEvent) and reminder.cancel_activity is False
    assert {f.target for f in definition.outgoing("fulfil")} == {"reserve_stock", "create_invoice"}
    assert {e.id for e in definition.children("shipping")} == {
        "shipping_started",
        "book_carrier",
        "delivered",
        "shipping_done",
    }
    overdue = definition.elements["delivery_overdue"]
    assert isinstance(overdue, BoundaryEvent) and overdue.attached_to == "shipping"
    assert overdue.parent is None and overdue.cancel_activity is True


def test_the_docs_show_both_forms_of_the_example() -> None:
    docs = (ROOT / "docs" / "modeling.md").read_text()
    yaml_blocks = re.findall(r"```yaml\n(.*?)```", docs, flags=re.DOTALL)
    python_blocks = re.findall(r"```python\n(.*?)```", docs, flags=re.DOTALL)
    expected = checksum(load_yaml(EXAMPLE_YAML))
    without_comments = "".join(line for line in EXAMPLE_YAML.splitlines(keepends=True) if not line.startswith("#"))
    assert without_comments in yaml_blocks, "docs/modeling.md differs from the shipped YAML"
    shown = [block for block in python_blocks if "def build()" in block]
    assert shown, "the builder form of the example is missing from docs/modeling.md"
    namespace: dict[str, Any] = {}
    exec(shown[0], namespace)
    assert checksum(namespace["build"]()) == expected


# --- reading -------------------------------------------------------------------------------


def test_each_step_flows_to_the_next_by_default() -> None:
    definition = load(
        """
        process: refund
        steps:
          - start: requested
          - service: pay
            task_type: billing.refund
          - end: refunded
        """
    )
    assert [(f.id, f.source, f.target) for f in definition.flows.values()] == [
        ("requested_to_pay", "requested", "pay"),
        ("pay_to_refunded", "pay", "refunded"),
    ]


def test_next_replaces_the_implicit_flow_and_can_loop_back() -> None:
    definition = load(
        """
        process: p
        steps:
          - start: s
          - service: attempt
            task_type: x
          - exclusive: is_done
            next:
              - to: attempt
                when: not done
                name: again
              - default: finished
          - end: finished
        """
    )
    assert flow(definition, "is_done", "attempt").condition == "not done"
    assert flow(definition, "is_done", "attempt").name == "again"
    gateway = definition.elements["is_done"]
    assert isinstance(gateway, ExclusiveGateway) and gateway.default == "is_done_to_finished"
    # `next` replaced the implicit flow to `finished`: it is not there twice.
    assert len(definition.outgoing("is_done")) == 2


def test_an_end_step_does_not_flow_into_the_step_after_it() -> None:
    definition = load(
        """
        process: p
        steps:
          - start: s
          - exclusive: g
            next:
              - to: a
                when: x
              - default: b
          - end: a
          - end: b
        """
    )
    assert definition.outgoing("a") == ()


def test_boundary_events_with_nested_steps_and_with_next() -> None:
    definition = load(
        """
        process: p
        steps:
          - start: s
          - user: approve
            candidate_groups: [leads]
            on_timer:
              - duration: P2D
                interrupting: false
                steps:
                  - service: remind
                    task_type: mail.remind
                  - end: reminded
              - id: give_up
                duration: P5D
                next: rejected
            on_message:
              message: order.cancelled
              correlation_key: order_id
              next: rejected
            on_error:
              next: rejected
          - end: approved
          - end: rejected
        """
    )
    boundaries = {b.id: b for b in definition.boundary_events("approve")}
    timer, give_up = boundaries["approve_timer"], boundaries["give_up"]
    assert timer.id == "approve_timer" and timer.cancel_activity is False
    assert [f.target for f in definition.outgoing("approve_timer")] == ["remind"]
    assert give_up.event == TimerDefinition(kind="duration", value="P5D")
    message = definition.elements["approve_message"]
    assert isinstance(message, BoundaryEvent)
    assert message.event == MessageDefinition(message="order.cancelled", correlation_key="order_id")
    catch_all = definition.elements["approve_error"]
    assert isinstance(catch_all, BoundaryEvent) and catch_all.event == ErrorDefinition(code=None)
    # Nested steps are in the activity's scope and end their own path.
    assert definition.elements["remind"].parent is None
    assert definition.outgoing("reminded") == ()
    assert [f.target for f in definition.outgoing("approve")] == ["approved"]


def test_every_step_kind_and_field() -> None:
    definition = load(
        """
        process: everything
        name: Everything
        documentation: Every kind of step.
        steps:
          - start: placed
            message: order.placed
            correlation_key: order_id
          - script: total
            code: |
              total = price * quantity
              vat = total * 0.2
            outputs: {sum: total}
          - user: review
            assignee: ann
            candidate_groups: [sales, finance]
            form:
              fields:
                - {name: ok, type: boolean, required: true, max: 3, label: "no"}
            inputs:
              amount: total
          - service: charge
            task_type: billing.charge
            retry:
              max_attempts: 4
              initial_backoff: 0.5
              multiplier: 3
              max_backoff: 60
              jitter: 0
              non_retryable: [CardDeclined]
            timeout: 30
          - catch_timer: cool_off
            cycle: R3/PT10M
          - catch_message: paid
            message: payment.received
          - subprocess: ship
            steps:
              - start: ship_start
              - end: ship_end
          - end: failed
            error: PAYMENT_FAILED
            error_message: The payment failed
          - start: nightly
            cycle: R/P1D
          - end: stop_all
            terminate: true
        """
    )
    assert definition.name == "Everything" and definition.documentation == "Every kind of step."
    placed = definition.elements["placed"]
    assert isinstance(placed, StartEvent)
    assert placed.event == MessageDefinition(message="order.placed", correlation_key="order_id")
    script = definition.elements["total"]
    assert isinstance(script, ScriptTask)
    assert script.script == "total = price * quantity\nvat = total * 0.2\n"
    review = definition.elements["review"]
    assert isinstance(review, UserTask) and review.candidate_groups == ("sales", "finance")
    assert review.form == {"fields": [{"name": "ok", "type": "boolean", "required": True, "max": 3, "label": "no"}]}
    charge = definition.elements["charge"]
    assert isinstance(charge, ServiceTask)
    assert charge.retry == RetryPolicy(
        max_attempts=4,
        initial_backoff=0.5,
        multiplier=3.0,
        max_backoff=60.0,
        jitter=0.0,
        non_retryable=("CardDeclined",),
    )
    assert charge.timeout == 30.0
    failed = definition.elements["failed"]
    assert isinstance(failed, EndEvent)
    assert failed.event == ErrorDefinition(code="PAYMENT_FAILED", message="The payment failed")
    # `failed` ends its path; the next start begins a new one, nothing flows into it.
    assert definition.incoming("nightly") == () and definition.outgoing("failed") == ()
    assert [f.target for f in definition.outgoing("nightly")] == ["stop_all"]
    assert definition.elements["ship_start"].parent == "ship"


def test_text_fields_keep_what_was_written() -> None:
    definition = load(
        """
        process: p
        steps:
          - start: s
            name: no
          - service: t
            task_type: 1.10
          - end: e
        """
    )
    assert definition.elements["s"].name == "no"
    task = definition.elements["t"]
    assert isinstance(task, ServiceTask) and task.task_type == "1.10"


def test_bytes_with_a_byte_order_mark_are_read() -> None:
    definition = load_yaml(b"\xef\xbb\xbfprocess: p\nsteps:\n  - start: s\n  - end: e\n")
    assert list(definition.elements) == ["s", "e"]


# --- writing and reading back ---------------------------------------------------------------


def rich_process() -> ProcessDefinition:
    p = Process("rich", name="Rich", documentation="Line one\nline two")
    start = p.start("s", message="go", correlation_key="key")
    task = start.then(
        p.service(
            "t",
            "x.y",
            retry=RetryPolicy(max_attempts=7, jitter=0.5, non_retryable=("Fatal",)),
            timeout=2.5,
            inputs={"a": "b + 1"},
        )
    )
    task.on_error("E1", id="e1", error_message="first").then(p.end("e1_end", error="E1_OUT"))
    task.on_error(id="any_error").then(p.end("any_end", terminate=True))
    task.on_timer(cycle="R2/PT1M", interrupting=False, name="Tick").then(p.end("tick_end"))
    task.on_message("poke", interrupting=False).then(p.end("poke_end"))
    script = task.then(p.script("calc", "a = 1\nb = a + 1"), id="custom_id", name="to calc")
    gateway = script.then(p.exclusive("g"))
    gateway.then(task, when="b < 3")
    user = gateway.then(p.user("u", form={"x": [1, 2.5, None, True, "y"]}), when="b == 3")
    gateway.otherwise(p.end("g_default"), name="otherwise")
    with user.then(p.subprocess("sub", outputs={"r": "result"})) as sub:
        inner = sub.start("sub_s").then(sub.catch_timer("wait", date="2026-12-01T10:00:00Z"))
        inner.then(sub.catch_message("msg", "m")).then(sub.end("sub_e"))
    sub.on_timer(duration="P1D").then(p.end("late"))
    fork = sub.then(p.parallel("fork"))
    join = p.parallel("join")
    fork.then(join)
    fork.then(p.service("side", "z")).then(join)
    join.then(p.end("done"))
    return p.build()


def test_dump_then_load_gives_the_same_checksum() -> None:
    for definition in (rich_process(), load_yaml(EXAMPLE_YAML)):
        text = dump_yaml(definition)
        again = load_yaml(text)
        assert to_dict(again) == to_dict(definition)
        assert checksum(again) == checksum(definition)
        assert dump_yaml(again) == text


def test_dump_writes_next_only_where_the_sequence_does_not_say_it() -> None:
    text = dump_yaml(load_yaml(EXAMPLE_YAML))
    assert "next: [reserve_stock, create_invoice]" in text
    assert "next: fulfilled" in text  # reserve_stock is not followed by the join
    assert text.count("next:") == 5
    assert "- default: notify_rejection" in text
    # Steps only a boundary event leads to are nested under it.
    assert "      steps:\n        - service: remind_approver" in text
    assert "&" not in text and "*" not in text


def test_dump_writes_multiline_text_as_a_block() -> None:
    text = dump_yaml(rich_process())
    assert "    code: |-\n      a = 1\n      b = a + 1\n" in text


def test_dump_refuses_what_yaml_cannot_say() -> None:
    bad = ProcessDefinition(
        id="p",
        elements={
            "s": StartEvent(id="s"),
            "g": ExclusiveGateway(id="g"),
            "b": BoundaryEvent(id="b", attached_to="g", event=TimerDefinition(kind="duration", value="P1D")),
        },
        flows={},
    )
    with pytest.raises(ModelInvalid, match="cannot be written as YAML") as caught:
        dump_yaml(bad)
    assert caught.value.problems[0].element == "b"


# --- bad input -------------------------------------------------------------------------------


def test_an_unknown_key_is_named_with_its_line_and_a_suggestion() -> None:
    error = parse_error(
        """
        process: p
        steps:
          - start: s
          - service: check_credit
            task_type: credit.check
            retrys: 3
          - end: e
        """
    )
    assert error.line == 7 and error.column == 5
    assert "unknown key 'retrys' in service 'check_credit'" in error.message
    assert "did you mean 'retry'?" in error.message


def test_an_unknown_key_in_a_nested_mapping() -> None:
    error = parse_error(
        """
        process: p
        steps:
          - service: t
            task_type: x
            retry:
              max_attempt: 3
        """
    )
    assert error.line == 7
    assert "unknown key 'max_attempt' in 'retry' of service 't'" in error.message
    assert "'max_attempts'" in error.message


def test_a_key_that_belongs_elsewhere_says_where() -> None:
    error = parse_error(
        """
        process: p
        steps:
          - start: s
          - parallel: g
            on_timer: {duration: P1D}
        """
    )
    assert error.line == 6
    assert "boundary events go on tasks and subprocesses only" in error.message
    assert parse_error("process: p\nsteps:\n  - end: e\n    next: s\n").line == 4


def test_an_unknown_step_kind_lists_the_known_kinds() -> None:
    error = parse_error(
        """
        process: p
        steps:
          - start: s
          - servce: a
        """
    )
    assert error.line == 5
    assert "unknown step kind 'servce'" in error.message and "'service'" in error.message
    assert ", ".join(STEP_KINDS) in error.message


HEAD = "process: p\nsteps:\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (HEAD + "  - user: u\n    candidate_groups: 5\n", 4, "must be a list, not the number 5"),
        ("process: p\nsteps: 5\n", 2, "'steps' in the process must be a list"),
        (HEAD + "  - start\n", 3, "a step must be a mapping"),
        (HEAD + "  - service: t\n    task_type: x\n    timeout: soon\n", 5, "must be a number"),
        (HEAD + "  - service: t\n    task_type: [x]\n", 4, "must be text, not a list"),
        (HEAD + "  - service: t\n    task_type: x\n    timeout: .inf\n", 5, "finite"),
        (HEAD + "  - service: t\n    task_type: x\n    timeout: " + "9" * 5000, 5, "too long"),
        (
            HEAD + "  - user: u\n    on_timer: {duration: P1D, interrupting: 0}\n",
            4,
            "true or false",
        ),
        (HEAD + "  - service: t\n", 3, "service 't' needs 'task_type'"),
        (HEAD + "  - script: t\n    code: x = 1\n    on_error: {interrupting: no}\n", 5, "always"),
        (HEAD + "  - start: s\n    end: e\n", 3, "has 'start' and 'end'"),
        (HEAD + "  - {}\n", 3, "an empty step"),
        (HEAD + "  - start: s\n    name: a\n    name: b\n", 5, "duplicate key 'name' in start 's'"),
        (HEAD + "  - parallel: g\n    next:\n      - default: e\n", 5, "only an exclusive gateway"),
        (
            HEAD + "  - exclusive: g\n    next:\n      - default: e\n        when: x\n",
            6,
            "no 'when'",
        ),
        (HEAD + "  - exclusive: g\n    next:\n      - when: x\n", 5, "needs 'to: <step id>'"),
        (HEAD + "  - user: u\n    form: [1]\n", 4, "'form' of user 'u' must be a mapping"),
        (HEAD + "  - user: u\n    form: {a: {b: .nan}}\n", 4, "finite"),
        (HEAD + "  - user: u\n    inputs: [a]\n", 4, "must be a mapping"),
        (HEAD + "  - start: s\n    [a]: b\n", 4, "must be a word"),
        ("steps: []\n", 1, "needs 'process: <id>'"),
        ("process: p\n", 1, "needs 'steps'"),
        ("process: p\nstep: []\n", 2, "did you mean 'steps'?"),
    ],
)
def test_wrong_shapes_are_named_with_their_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ModelParseError) as caught:
        load_yaml(text)
    assert caught.value.line == line
    assert message in caught.value.message
    assert caught.value.details["line"] == line


def test_a_next_that_names_no_step_has_its_line_and_a_suggestion() -> None:
    error = invalid(
        """
        process: p
        steps:
          - start: s
            next: fulfill
          - parallel: fulfil
            next: e
          - end: e
        """
    )
    (problem,) = error.problems
    assert problem.element == "s" and problem.line == 5
    assert "no step has the id 'fulfill'" in problem.message and "'fulfil'" in problem.message


def test_a_next_into_a_start_event_is_refused() -> None:
    (problem,) = invalid("process: p\nsteps:\n  - start: s\n    next: s\n").problems
    assert problem.line == 4 and "no flow can lead into 's'" in problem.message


def test_a_duplicate_id_has_the_line_of_the_second_step() -> None:
    (problem,) = invalid("process: p\nsteps:\n  - start: s\n  - end: e\n  - end: s\n").problems
    assert problem.element == "s" and problem.line == 5 and "duplicate id" in problem.message


def test_a_flow_into_a_subprocess_has_its_line() -> None:
    error = invalid(
        """
        process: p
        steps:
          - start: s
            next: inner
          - subprocess: sub
            steps:
              - start: inner_start
              - end: inner
          - end: e
        """
    )
    (problem,) = error.problems
    assert problem.line == 5 and "cannot cross a subprocess boundary" in problem.message


def test_validation_problems_carry_the_line_of_their_step_or_flow() -> None:
    error = invalid(
        """
        process: p
        steps:
          - start: s
          - start: stuck
            next: []
          - exclusive: g
            next:
              - to: e
                when: "amount >"
              - default: e
          - end: e
        """
    )
    lines = {(problem.element, problem.line) for problem in error.problems}
    assert ("stuck", 5) in lines
    assert ("g_to_e", 9) in lines  # the bad condition, at its `next` entry
    assert all(problem.line is not None for problem in error.problems)
    assert error.details["problems"][0]["line"] == 5


def test_an_invalid_timer_has_the_line_of_its_step() -> None:
    error = invalid(
        """
        process: p
        steps:
          - start: s
          - catch_timer: wait
            duration: soon
          - end: e
        """
    )
    (problem,) = error.problems
    assert problem.element == "wait" and problem.line == 5 and "soon" in problem.message


def test_a_boundary_event_problem_has_the_line_of_the_event() -> None:
    error = invalid(
        """
        process: p
        steps:
          - start: s
          - service: t
            task_type: x
            on_timer:
              duration: soon
              next: e
          - end: e
        """
    )
    (problem,) = error.problems
    assert problem.element == "t_timer" and problem.line == 8


@pytest.mark.parametrize(
    "text",
    [
        "process: p\nsteps:\n  - &first {start: s}\n  - end: e\n",
        "process: p\nname: &n x\ndocumentation: *n\nsteps: []\n",
        "process: p\nsteps: *nowhere\n",
    ],
)
def test_anchors_and_aliases_are_refused(text: str) -> None:
    with pytest.raises(ModelParseError, match=r"(anchors|aliases) \(.\w+\) are not allowed") as caught:
        load_yaml(text)
    assert caught.value.line is not None and caught.value.line >= 2


def test_a_billion_laughs_is_refused_before_it_expands() -> None:
    lines = ["process: p", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(ModelParseError, match="anchors") as caught:
        load_yaml("\n".join(lines) + "\nsteps: []\n")
    assert caught.value.line == 2


def test_custom_tags_are_refused() -> None:
    error = parse_error("process: !!python/object/apply:os.system [echo hi]\nsteps: []\n")
    assert error.line == 1 and "tags" in error.message


def test_deep_nesting_is_refused() -> None:
    error = parse_error("process: p\nsteps: " + "[" * 500 + "]" * 500 + "\n")
    assert error.line == 2 and "levels deep" in error.message


def test_an_oversized_document_is_refused() -> None:
    padding = "# " + "x" * 98 + "\n"
    text = "process: p\nsteps: []\n" + padding * (MAX_DOCUMENT_BYTES // len(padding) + 1)
    with pytest.raises(PayloadTooLarge, match="limit is 1,048,576 bytes"):
        load_yaml(text)
    with pytest.raises(PayloadTooLarge):
        load_yaml(text.encode())
    # Multi-byte characters count as bytes, not characters.
    with pytest.raises(PayloadTooLarge):
        load_yaml("process: p\nname: " + "é" * (MAX_DOCUMENT_BYTES // 2 + 10) + "\nsteps: []\n")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_an_empty_document_is_refused(text: str) -> None:
    error = parse_error(text)
    assert "empty" in error.message and error.line == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- start: s\n- end: e\n", 1, "must be a mapping with 'process:' and 'steps:', not a list"),
        ("just words\n", 1, "not the text 'just words'"),
        ("42\n", 1, "not the number 42"),
    ],
)
def test_a_root_that_is_not_a_mapping_is_refused(text: str, line: int, message: str) -> None:
    error = parse_error(text)
    assert error.line == line and message in error.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("process: p\nsteps:\n\t- start: s\n", 3),  # a tab for indentation
        ("process: p\nsteps: [a, {b\n", 3),  # unclosed
        ("process: p\n  steps: []\n", 2),  # bad indentation
        ("process: p\nsteps: []\n---\nprocess: q\n", 3),  # two documents
        ("process: p\nname: \x00\nsteps: []\n", 2),  # a control character
        ("process: 'p\n", 2),  # unterminated quote
    ],
)
def test_garbage_is_a_parse_error_with_its_line(text: str, line: int) -> None:
    error = parse_error(text)
    assert error.message.startswith("not valid YAML")
    assert error.line == line


def test_bytes_that_are_not_utf8_are_refused_with_their_line() -> None:
    with pytest.raises(ModelParseError, match="not UTF-8") as caught:
        load_yaml(b"process: p\nsteps: []\nname: \xff\xfe\n")
    assert caught.value.line == 3


def test_load_yaml_takes_only_text() -> None:
    with pytest.raises(TypeError):
        load_yaml(42)  # type: ignore[arg-type]


def random_processes() -> Any:
    """The random processes of test_builder.py, reused for round trips."""
    path = Path(__file__).with_name("test_builder.py")
    spec = importlib.util.spec_from_file_location("_builder_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", range(25))
def test_random_processes_round_trip(seed: int) -> None:
    helpers = random_processes()
    definition = helpers.build_in_order(helpers.random_process(seed), shuffle_seed=None)
    again = load_yaml(dump_yaml(definition))
    assert checksum(again) == checksum(definition)
