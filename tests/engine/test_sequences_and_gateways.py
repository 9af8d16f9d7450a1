"""Sequence flows, exclusive gateways, implicit forks, loops, script tasks and mappings."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from legato.engine import effects as fx
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def three_tasks() -> ProcessDefinition:
    p = Process("three_tasks")
    p.start("start").then(p.service("a", "do.a")).then(p.service("b", "do.b")).then(p.service("c", "do.c")).then(
        p.end("end")
    )
    return p.build()


def test_straight_sequence_runs_each_task_in_order(start: Start) -> None:
    h = start(three_tasks(), variables={"order": 7})
    assert h.waiting_at() == ["a"]
    assert h.job("a").task_type == "do.a"
    assert h.job("a").payload == {"order": 7}
    h.complete_job("a", {"a_done": True})
    assert h.waiting_at() == ["b"]
    assert h.job("b").payload == {"order": 7, "a_done": True}
    h.complete_job("b", {"b_done": True})
    h.complete_job("c", {"c_done": True})
    assert h.status == "completed"
    assert h.waiting_at() == []
    assert h.variables == {"order": 7, "a_done": True, "b_done": True, "c_done": True}
    assert h.trail() == [
        ("instance_started", None),
        ("element_passed", "start"),
        ("element_entered", "a"),
        ("element_completed", "a"),
        ("element_entered", "b"),
        ("element_completed", "b"),
        ("element_entered", "c"),
        ("element_completed", "c"),
        ("element_passed", "end"),
        ("instance_completed", None),
    ]
    assert fx.InstanceEnded(status="completed") in h.effects


def routing() -> ProcessDefinition:
    p = Process("routing")
    gateway = p.start("start").then(p.exclusive("size"))
    gateway.then(p.service("big", "route.big"), when="amount > 1000").then(p.end("end_big"))
    gateway.then(p.service("medium", "route.medium"), when="amount > 100").then(p.end("end_medium"))
    gateway.otherwise(p.service("small", "route.small")).then(p.end("end_small"))
    return p.build()


@pytest.mark.parametrize(
    ("amount", "route"),
    [(5000, "big"), (1001, "big"), (1000, "medium"), (101, "medium"), (100, "small"), (0, "small")],
)
def test_exclusive_gateway_takes_the_first_true_condition_else_the_default(
    start: Start, amount: int, route: str
) -> None:
    h = start(routing(), variables={"amount": amount})
    assert h.waiting_at() == [route]
    [passed] = h.history("element_passed")[1:]
    assert passed.element == "size"
    assert passed.data is not None and passed.data["flow"].startswith("size_to_")
    h.complete_job(route)
    assert h.status == "completed"


def no_default() -> ProcessDefinition:
    p = Process("no_default")
    fork = p.start("start").then(p.parallel("fork"))
    gateway = fork.then(p.exclusive("check"))
    gateway.then(p.service("approved", "approve"), when="score > 50").then(p.end("end_ok"))
    gateway.then(p.end("end_rejected"), when="score < 10")
    fork.then(p.service("fix_score", "fix")).then(p.end("end_fix"))
    return p.build()


def test_exclusive_gateway_without_match_or_default_raises_an_incident_there(
    start: Start,
) -> None:
    h = start(no_default(), variables={"score": 30})
    assert h.waiting_at() == ["check", "fix_score"]
    incident = h.incident("check")
    assert incident.error_type == "ExpressionError"
    assert "no condition" in incident.message
    assert h.status == "active"
    assert ("incident_created", "check") in h.trail()


def test_retrying_a_gateway_incident_evaluates_the_conditions_again(start: Start) -> None:
    h = start(no_default(), variables={"score": 30})
    first = h.incident("check")
    # Nothing changed: the retry evaluates again and fails again, with a new incident.
    h.retry_incident("check")
    second = h.incident("check")
    assert second.wait != first.wait
    assert [r.type for r in h.history()][-2:] == ["incident_resolved", "incident_created"]
    assert any(isinstance(e, fx.ResolveIncident) and e.wait == first.wait for e in h.effects)
    # Another path changes the variable through a command; now the retry goes through.
    h.complete_job("fix_score", {"score": 80})
    assert h.waiting_at() == ["check"]
    h.retry_incident("check")
    assert h.incidents == []
    assert h.waiting_at() == ["approved"]
    h.complete_job("approved")
    assert h.status == "completed"


def test_a_condition_that_fails_to_evaluate_raises_an_incident(start: Start) -> None:
    h = start(routing(), variables={})  # `amount` is missing
    incident = h.incident("size")
    assert incident.error_type == "ExpressionError"
    assert "amount" in incident.message


def implicit_fork() -> ProcessDefinition:
    p = Process("implicit_fork")
    a = p.start("start").then(p.service("a", "do.a"))
    a.then(p.service("b", "do.b")).then(p.end("end_b"))
    a.then(p.service("c", "do.c")).then(p.end("end_c"))
    return p.build()


def test_an_activity_with_two_unconditional_flows_forks(start: Start) -> None:
    h = start(implicit_fork())
    h.complete_job("a")
    assert h.waiting_at() == ["b", "c"]
    h.complete_job("b")
    assert h.status == "active"
    assert h.waiting_at() == ["c"]
    h.complete_job("c")
    assert h.status == "completed"
    assert [r.element for r in h.history("element_passed")][-2:] == ["end_b", "end_c"]


def conditional_flows() -> ProcessDefinition:
    p = Process("conditional_flows")
    a = p.start("start").then(p.service("a", "do.a"))
    a.then(p.service("b", "do.b"), when="wants_b").then(p.end("end_b"))
    a.then(p.service("c", "do.c"), when="wants_c").then(p.end("end_c"))
    return p.build()


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"wants_b": True, "wants_c": True}, ["b", "c"]),
        ({"wants_b": False, "wants_c": True}, ["c"]),
    ],
)
def test_conditional_flows_out_of_an_activity_take_every_true_one(
    start: Start, result: dict[str, bool], expected: list[str]
) -> None:
    h = start(conditional_flows())
    h.complete_job("a", result)
    assert h.waiting_at() == expected


def test_no_true_flow_out_of_an_activity_holds_it_in_an_incident_without_redoing_it(
    start: Start,
) -> None:
    h = start(conditional_flows())
    h.complete_job("a", {"wants_b": False, "wants_c": False})
    assert h.incident("a").error_type == "ExpressionError"
    assert h.waits("job") == []
    h.retry_incident("a")  # chooses again; the job is not run again
    assert h.waits("job") == []
    assert h.incident("a").element == "a"


def loop() -> ProcessDefinition:
    p = Process("loop")
    work = p.start("start").then(p.script("init", "count = 0")).then(p.service("work", "work"))
    check = work.then(p.script("bump", "count = count + 1")).then(p.exclusive("again"))
    check.then(work, when="count < 3")
    check.otherwise(p.end("end"))
    return p.build()


def test_exclusive_gateway_loops_back_to_an_earlier_task(start: Start) -> None:
    h = start(loop())
    waits = []
    for round_ in range(3):
        assert h.waiting_at() == ["work"]
        assert h.job("work").payload["count"] == round_
        waits.append(h.job("work").wait)
        h.complete_job("work", {"round": round_})
    assert h.status == "completed"
    assert h.variables == {"count": 3, "round": 2}
    assert len(set(waits)) == 3
    assert [r.element for r in h.history("element_entered")] == ["work"] * 3


def test_script_task_assigns_variables_and_records_them(start: Start) -> None:
    p = Process("scripted")
    p.start("start").then(p.script("price", "net = quantity * unit\ngross = round(net * 1.2, 2)")).then(
        p.service("bill", "bill")
    ).then(p.end("end"))
    h = start(p.build(), variables={"quantity": 3, "unit": 10})
    assert h.variables == {"quantity": 3, "unit": 10, "net": 30, "gross": 36.0}
    [record] = [r for r in h.history("element_passed") if r.element == "price"]
    assert record.data == {"variables": {"net": 30, "gross": 36.0}}


def test_script_task_outputs_choose_what_is_written(start: Start) -> None:
    p = Process("scripted_outputs")
    p.start("start").then(p.script("price", "net = quantity * 10\ntax = net / 5", outputs={"total": "net + tax"})).then(
        p.end("end")
    )
    h = start(p.build(), variables={"quantity": 2})
    assert h.status == "completed"
    assert h.variables == {"quantity": 2, "total": 24.0}


def test_script_task_sees_its_input_mappings(start: Start) -> None:
    p = Process("scripted_inputs")
    p.start("start").then(p.script("price", "total = base * rate", inputs={"rate": "tariff.rate"})).then(p.end("end"))
    h = start(p.build(), variables={"base": 100, "tariff": {"rate": 2}})
    assert h.variables["total"] == 200


def test_a_failing_script_raises_an_incident_and_retry_runs_it_again(start: Start) -> None:
    p = Process("bad_script")
    p.start("start").then(p.script("divide", "share = total / parts")).then(p.end("end"))
    h = start(p.build(), variables={"total": 10, "parts": 0})
    incident = h.incident("divide")
    assert "division by zero" in incident.message
    h.retry_incident("divide")
    assert h.incident("divide").wait != incident.wait


def test_inputs_mapping_shapes_the_job_payload(start: Start) -> None:
    p = Process("mapped")
    p.start("start").then(
        p.service(
            "charge",
            "payments.charge",
            inputs={"customer": "order.customer", "cents": "order.amount * 100"},
            outputs={"receipt": "id", "charged": "status == 'ok'"},
        )
    ).then(p.end("end"))
    h = start(p.build(), variables={"order": {"customer": "c-1", "amount": 12}})
    assert h.job("charge").payload == {"customer": "c-1", "cents": 1200}
    h.complete_job("charge", {"id": "r-9", "status": "ok", "noise": 1})
    assert h.variables == {
        "order": {"customer": "c-1", "amount": 12},
        "receipt": "r-9",
        "charged": True,
    }
    [completed] = h.history("element_completed")
    assert completed.data == {"variables": {"receipt": "r-9", "charged": True}}


def test_an_input_mapping_that_fails_raises_an_incident_at_the_task(start: Start) -> None:
    p = Process("bad_inputs")
    p.start("start").then(p.service("charge", "charge", inputs={"c": "order.customer"})).then(p.end("end"))
    h = start(p.build(), variables={})
    assert h.waits("job") == []
    assert h.incident("charge").error_type == "ExpressionError"


def test_retrying_a_script_whose_outgoing_flows_fail_does_not_run_it_again(
    start: Start,
) -> None:
    p = Process("script_then_nowhere")
    bump = p.start("start").then(p.script("bump", "count = count + 1"))
    bump.then(p.end("end_big"), when="count > 10")
    bump.then(p.end("end_small"), when="count < 0")
    h = start(p.build(), variables={"count": 0})
    assert h.incident("bump").error_type == "ExpressionError"
    assert h.variables == {"count": 1}
    h.retry_incident("bump")
    assert h.variables == {"count": 1}
    assert h.incident("bump").element == "bump"


def test_a_boundary_timer_that_fails_to_evaluate_opens_nothing_but_the_incident(
    start: Start,
) -> None:
    p = Process("bad_boundary")
    call = p.start("start").then(p.service("call", "call"))
    call.on_timer(duration="=limit", id="too_late").then(p.end("late"))
    call.then(p.end("end"))
    h = start(p.build(), variables={"limit": "never"})
    assert h.waits() == []
    assert h.incident("call").error_type == "ExpressionError"
    h.retry_incident("call")  # still failing: still no job was scheduled
    assert h.waits() == []
    assert len(h.incidents) == 1


def test_script_values_are_stored_as_json(start: Start) -> None:
    """A tuple becomes a list in both modes, so a reload never changes what a condition sees."""
    p = Process("json_values")
    check = (
        p.start("start").then(p.script("make", "pair = (1, (2, 3))\nlookup = {'a': (4,)}")).then(p.exclusive("same"))
    )
    check.then(p.end("as_lists"), when="pair == [1, [2, 3]] and lookup.a == [4]")
    check.otherwise(p.service("different", "different")).then(p.end("as_tuples"))
    h = start(p.build())
    assert h.variables == {"pair": [1, [2, 3]], "lookup": {"a": [4]}}
    assert h.status == "completed"


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("tags = {1, 2}", "set"),
        ("table = {1: 'one'}", "key"),
        ("big = 10 ** 30", "64-bit"),
    ],
)
def test_a_script_value_that_cannot_be_stored_raises_an_incident(start: Start, script: str, problem: str) -> None:
    p = Process("unstorable")
    p.start("start").then(p.script("make", script)).then(p.end("end"))
    h = start(p.build())
    incident = h.incident("make")
    assert problem in incident.message
    assert h.variables == {}


def test_an_input_mapping_is_handed_over_as_json(start: Start) -> None:
    p = Process("json_payload")
    p.start("start").then(p.service("call", "call", inputs={"pair": "(a, b)"})).then(p.end("end"))
    h = start(p.build(), variables={"a": 1, "b": 2})
    assert h.job("call").payload == {"pair": [1, 2]}
