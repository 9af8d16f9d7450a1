"""The Python builder: what each call adds to the definition, and the errors at the call."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import Any

import pytest

from legato.errors import ModelInvalid
from legato.formats.builder import (
    ActivityNode,
    ExclusiveNode,
    Process,
    RetryPolicy,
    SubProcessNode,
    flow_id,
    reading_order,
)
from legato.model.elements import (
    BoundaryEvent,
    EndEvent,
    ErrorDefinition,
    ExclusiveGateway,
    IntermediateCatchEvent,
    MessageDefinition,
    ServiceTask,
    StartEvent,
    TerminateDefinition,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.serialize import checksum, from_dict, to_dict

ROOT = Path(__file__).resolve().parents[2]


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("order_to_cash", ROOT / "examples" / "order_to_cash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flows_of(definition: ProcessDefinition) -> set[tuple[str, str, str | None]]:
    return {(f.source, f.target, f.condition) for f in definition.flows.values()}


def test_a_chain_reads_top_down_and_gets_generated_flow_ids() -> None:
    p = Process("refund", name="Refund")
    p.start("requested").then(p.service("pay", "billing.refund")).then(p.end("refunded"))
    definition = p.build()
    assert list(definition.elements) == ["requested", "pay", "refunded"]
    assert list(definition.flows) == ["requested_to_pay", "pay_to_refunded"]
    assert definition.name == "Refund"
    task = definition.elements["pay"]
    assert isinstance(task, ServiceTask) and task.task_type == "billing.refund"


def test_then_returns_its_target_with_its_handle_type() -> None:
    p = Process("p")
    task = p.start("s").then(p.service("t", "x"))
    gateway = task.then(p.exclusive("g"))
    assert isinstance(task, ActivityNode) and isinstance(gateway, ExclusiveNode)
    assert task.id == "t" and repr(gateway) == "<ExclusiveNode 'g'>"


def test_conditions_and_the_default_flow() -> None:
    p = Process("p")
    gateway = p.start("s").then(p.exclusive("size"))
    gateway.then(p.end("big"), when="amount > 100", name="big order")
    gateway.otherwise(p.end("small"), id="small_orders")
    definition = p.build()
    size = definition.elements["size"]
    assert isinstance(size, ExclusiveGateway)
    assert size.default == "small_orders"
    flows = definition.outgoing("size")
    assert [(f.id, f.condition, f.name) for f in flows] == [
        ("size_to_big", "amount > 100", "big order"),
        ("small_orders", None, None),
    ]


def test_the_default_flow_is_stored_last_wherever_it_was_written() -> None:
    def build(default_first: bool) -> ProcessDefinition:
        p = Process("p")
        gateway = p.start("s").then(p.exclusive("g"))
        a, b = p.end("a"), p.end("b")
        if default_first:
            gateway.otherwise(b)
            gateway.then(a, when="x")
        else:
            gateway.then(a, when="x")
            gateway.otherwise(b)
        return p.build()

    first, last = build(True), build(False)
    assert [f.target for f in first.outgoing("g")] == ["a", "b"]
    assert checksum(first) == checksum(last)


def test_start_events_are_stored_plain_first_then_by_id() -> None:
    def build(order: list[str]) -> ProcessDefinition:
        p = Process("p")
        end = p.end("e")
        starts = {
            "plain": lambda: p.start("plain"),
            "by_message": lambda: p.start("by_message", message="m"),
            "at_night": lambda: p.start("at_night", cycle="R/P1D"),
        }
        for start_id in order:
            starts[start_id]().then(end)
        return p.build()

    one, other = (
        build(["by_message", "plain", "at_night"]),
        build(["at_night", "by_message", "plain"]),
    )
    assert list(one.elements) == ["plain", "at_night", "by_message", "e"]
    assert checksum(one) == checksum(other)


def test_then_to_an_earlier_element_is_a_loop_back() -> None:
    p = Process("p")
    attempt = p.start("s").then(p.service("attempt", "x"))
    check = attempt.then(p.exclusive("is_done"))
    check.then(attempt, when="not done")
    check.otherwise(p.end("e"))
    definition = p.build()
    assert ("is_done", "attempt", "not done") in flows_of(definition)
    assert {f.source for f in definition.incoming("attempt")} == {"s", "is_done"}
    assert reading_order(definition) == ["s", "attempt", "is_done", "e"]


def test_parallel_fork_and_join() -> None:
    p = Process("p")
    fork = p.start("s").then(p.parallel("fork"))
    join = p.parallel("join")
    fork.then(p.service("a", "x")).then(join)
    fork.then(p.service("b", "x")).then(join)
    join.then(p.end("e"))
    definition = p.build()
    assert [f.target for f in definition.outgoing("fork")] == ["a", "b"]
    assert {f.source for f in definition.incoming("join")} == {"a", "b"}
    # The join comes after both branches, in reading order.
    assert reading_order(definition) == ["s", "fork", "a", "b", "join", "e"]


def test_subprocess_elements_get_their_parent() -> None:
    p = Process("p")
    with p.start("s").then(p.subprocess("ship", name="Ship")) as ship:
        assert isinstance(ship, SubProcessNode)
        ship.start("ship_start").then(ship.service("book", "carrier.book")).then(ship.end("ship_end"))
    ship.then(p.end("e"))
    definition = p.build()
    assert {e.id for e in definition.children("ship")} == {"ship_start", "book", "ship_end"}
    assert definition.elements["book"].parent == "ship"
    assert definition.elements["ship"].parent is None
    assert list(definition.elements) == ["s", "ship", "ship_start", "book", "ship_end", "e"]


def test_a_flow_cannot_cross_into_a_subprocess() -> None:
    p = Process("p")
    ship = p.subprocess("ship")
    inner = ship.service("book", "x")
    with pytest.raises(ModelInvalid, match="cannot cross a subprocess boundary") as caught:
        p.start("s").then(inner)
    assert caught.value.problems[0].element == "s"


def test_boundary_events() -> None:
    p = Process("p")
    task = p.start("s").then(p.user("approve", candidate_groups=["leads"]))
    task.on_error("DENIED", id="denied").then(p.end("rejected", error="REJECTED"))
    task.on_timer(duration="P2D", interrupting=False).then(p.end("reminded"))
    task.on_message("order.cancelled", correlation_key="order_id").then(p.end("cancelled", terminate=True))
    task.then(p.end("e"))
    definition = p.build()
    denied, timer, message = definition.boundary_events("approve")
    assert isinstance(denied.event, ErrorDefinition) and denied.event.code == "DENIED"
    assert denied.cancel_activity is True and denied.attached_to == "approve"
    assert timer.id == "approve_timer" and timer.cancel_activity is False
    assert timer.event == TimerDefinition(kind="duration", value="P2D")
    assert message.id == "approve_message" and message.cancel_activity is True
    assert message.event == MessageDefinition(message="order.cancelled", correlation_key="order_id")
    assert definition.elements["rejected"] == EndEvent(id="rejected", event=ErrorDefinition(code="REJECTED"))
    assert isinstance(definition.elements["cancelled"], EndEvent)
    assert definition.elements["cancelled"].event == TerminateDefinition()


def test_boundary_events_on_a_subprocess_sit_in_its_parent_scope() -> None:
    definition = load_example().build()
    overdue = definition.elements["delivery_overdue"]
    assert isinstance(overdue, BoundaryEvent)
    assert overdue.attached_to == "shipping" and overdue.parent is None
    assert overdue.event == TimerDefinition(kind="duration", value="P14D")


def test_generated_boundary_ids_do_not_collide() -> None:
    p = Process("p")
    task = p.start("s").then(p.service("t", "x"))
    first = task.on_timer(duration="PT1H")
    second = task.on_timer(duration="PT2H")
    assert (first.id, second.id) == ("t_timer", "t_timer_2")


def test_every_element_kind_and_its_fields() -> None:
    p = Process("p", documentation="All of it")
    start = p.start("s", message="order.placed", correlation_key="order_id", name="Placed")
    script = start.then(p.script("total", "total = price * quantity", outputs={"sum": "total"}))
    user = script.then(
        p.user(
            "review",
            assignee="ann",
            candidate_groups=("sales",),
            form={"fields": [{"name": "ok", "type": "boolean"}]},
            inputs={"amount": "total"},
        )
    )
    wait = user.then(p.catch_timer("cool_off", cycle="R3/PT10M"))
    wait.then(p.catch_message("paid", "payment.received")).then(p.end("e"))
    p.start("nightly", cycle="R/P1D").then(p.end("nightly_done"))
    definition = p.build()
    start_event = definition.elements["s"]
    assert isinstance(start_event, StartEvent) and start_event.name == "Placed"
    assert start_event.event == MessageDefinition(message="order.placed", correlation_key="order_id")
    review = definition.elements["review"]
    assert isinstance(review, UserTask)
    assert review.candidate_groups == ("sales",) and review.assignee == "ann"
    assert review.form == {"fields": [{"name": "ok", "type": "boolean"}]}
    assert review.inputs == {"amount": "total"}
    cool_off = definition.elements["cool_off"]
    assert isinstance(cool_off, IntermediateCatchEvent)
    assert cool_off.event == TimerDefinition(kind="cycle", value="R3/PT10M")
    assert definition.documentation == "All of it"


def test_retry_and_timeout_are_stored_the_same_however_the_numbers_are_written() -> None:
    def build(backoff: float, timeout: float) -> ProcessDefinition:
        p = Process("p")
        task = p.service("t", "x", retry=RetryPolicy(max_attempts=5, initial_backoff=backoff), timeout=timeout)
        p.start("s").then(task).then(p.end("e"))
        return p.build()

    as_int, as_float = build(2, 10), build(2.0, 10.0)
    assert checksum(as_int) == checksum(as_float)
    task = as_int.elements["t"]
    assert isinstance(task, ServiceTask)
    assert task.retry == RetryPolicy(max_attempts=5, initial_backoff=2.0) and task.timeout == 10.0


def test_duplicate_ids_fail_at_the_call_naming_the_id() -> None:
    p = Process("p")
    p.start("check")
    with pytest.raises(ModelInvalid, match="duplicate id 'check': start event 'check'") as caught:
        p.service("check", "credit.check")
    assert caught.value.problems[0].element == "check"


def test_a_flow_id_that_an_element_has_is_a_duplicate() -> None:
    p = Process("p")
    start, end = p.start("s"), p.end("e")
    with pytest.raises(ModelInvalid, match="duplicate id 'e'"):
        start.then(end, id="e")
    start.then(end, id="f")
    with pytest.raises(ModelInvalid, match="duplicate id 'f': a sequence flow has it"):
        p.service("f", "x")


def test_an_exclusive_gateway_has_one_default() -> None:
    p = Process("p")
    gateway = p.exclusive("g")
    gateway.otherwise(p.end("a"))
    with pytest.raises(ModelInvalid, match="only one default flow"):
        gateway.otherwise(p.end("b"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: p.catch_timer("t"), "needs a duration, date or cycle"),
        (lambda p: p.catch_timer("t", duration="P1D", date="2026-01-01"), "not duration and date"),
        (lambda p: p.start("s", message="m", duration="P1D"), "a message or a timer, not both"),
        (lambda p: p.start("s", correlation_key="k"), "a correlation key needs a message"),
        (lambda p: p.end("e", terminate=True, error="E"), "not both"),
        (lambda p: p.user("u", candidate_groups="sales"), "not one string"),
        (lambda p: p.service("t", "x").on_timer(), "needs a duration, date or cycle"),
    ],
)
def test_mistakes_found_at_the_call(call: Any, message: str) -> None:
    with pytest.raises(ModelInvalid, match=message):
        call(Process("p"))


def test_then_takes_a_handle_of_the_same_process() -> None:
    p, other = Process("p"), Process("q")
    with pytest.raises(TypeError, match="element handle"):
        p.start("s").then("e")  # type: ignore[type-var]
    with pytest.raises(ModelInvalid, match="another Process"):
        p.start("s2").then(other.end("e"))


def test_validation_problems_surface_from_build() -> None:
    p = Process("p")
    p.start("stuck")
    with pytest.raises(ModelInvalid) as caught:
        p.build()
    problems = caught.value.problems
    assert {problem.element for problem in problems} == {"stuck"}
    assert any("a start event needs an outgoing flow" in pr.message for pr in problems)


def test_validation_catches_a_bad_condition_on_a_generated_flow() -> None:
    p = Process("p")
    gateway = p.start("s").then(p.exclusive("g"))
    gateway.then(p.end("a"), when="amount >")
    gateway.otherwise(p.end("b"))
    with pytest.raises(ModelInvalid) as caught:
        p.build()
    assert [problem.element for problem in caught.value.problems] == ["g_to_a"]


def test_build_without_check_returns_an_unsound_definition() -> None:
    p = Process("p")
    p.start("s")
    definition = p.build(check=False)
    assert list(definition.elements) == ["s"]


def test_the_definition_round_trips_through_its_stored_form() -> None:
    definition = load_example().build()
    assert checksum(from_dict(to_dict(definition))) == checksum(definition)


def test_flow_ids_stay_within_the_id_limit() -> None:
    long = "x" * 150
    assert flow_id("a", "b") == "a_to_b"
    generated = flow_id(long, long)
    assert generated.startswith("flow_") and len(generated) <= 200
    assert generated == flow_id(long, long)


def test_duplicate_flows_between_the_same_pair_get_numbered_ids() -> None:
    p = Process("p")
    gateway = p.start("s").then(p.exclusive("g"))
    end = p.end("e")
    gateway.then(end, when="a")
    gateway.then(end, when="b")
    gateway.then(p.end("g_to_e_2"), when="c")  # an element already has the second id
    gateway.otherwise(end)
    definition = p.build()
    assert [f.id for f in definition.outgoing("g")] == [
        "g_to_e",
        "g_to_e_3",
        "g_to_g_to_e_2",
        "g_to_e_4",
    ]


# --- the order the process is written in does not change the definition --------------------


def random_process(seed: int) -> list[tuple[str, ...]]:
    """A random, valid process as a list of builder steps: ('element', ...) and ('flow', ...)."""
    rng = random.Random(seed)
    steps: list[tuple[str, ...]] = [("element", "start", "s0", "")]
    current, count = "s0", 0

    def new(kind: str, scope: str = "") -> str:
        nonlocal count
        count += 1
        element_id = f"{kind}{count}"
        steps.append(("element", kind, element_id, scope))
        return element_id

    for _ in range(rng.randint(3, 8)):
        shape = rng.choice(["task", "xor", "and", "loop", "boundary", "sub"])
        if shape == "task":
            task = new("service")
            steps.append(("flow", current, task, ""))
            current = task
        elif shape in ("xor", "and"):
            kind = "exclusive" if shape == "xor" else "parallel"
            split, join = new(kind), new(kind)
            steps.append(("flow", current, split, ""))
            for branch in range(rng.randint(2, 3)):
                task = new("service")
                condition = f"x == {branch}" if kind == "exclusive" and branch else ""
                steps.append(("flow", split, task, condition))
                steps.append(("flow", task, join, ""))
            current = join
        elif shape == "loop":
            task, check = new("service"), new("exclusive")
            steps += [("flow", current, task, ""), ("flow", check, task, "again")]
            steps.append(("flow", task, check, ""))
            current = check
        elif shape == "boundary":
            task = new("user")
            steps.append(("flow", current, task, ""))
            boundary = f"{task}_timer"
            steps.append(("boundary", task, boundary))
            steps.append(("flow", boundary, new("end"), ""))
            current = task
        else:
            sub = new("subprocess")
            steps.append(("flow", current, sub, ""))
            inner_start, inner_task, inner_end = (new(k, sub) for k in ("start", "service", "end"))
            steps += [("flow", inner_start, inner_task, ""), ("flow", inner_task, inner_end, "")]
            current = sub
    steps.append(("flow", current, new("end"), ""))
    return steps


def build_in_order(steps: list[tuple[str, ...]], shuffle_seed: int | None) -> ProcessDefinition:
    elements = [s for s in steps if s[0] == "element"]
    boundaries = [s for s in steps if s[0] == "boundary"]
    flows = [s for s in steps if s[0] == "flow"]
    if shuffle_seed is not None:
        rng = random.Random(shuffle_seed)
        rng.shuffle(elements)
        elements.sort(key=lambda s: bool(s[3]))  # a subprocess before what it holds
        # Shuffle the flows but keep each source's flows in order: that order is semantic.
        by_source: dict[str, list[tuple[str, ...]]] = {}
        for flow in flows:
            by_source.setdefault(flow[1], []).append(flow)
        sources = [flow[1] for flow in flows]
        rng.shuffle(sources)
        flows = [by_source[source].pop(0) for source in sources]
    p = Process("random")
    handles: dict[str, Any] = {}
    for _, kind, element_id, scope in elements:
        owner = handles[scope] if scope else p
        if kind == "service":
            handles[element_id] = owner.service(element_id, "x")
        elif kind == "user":
            handles[element_id] = owner.user(element_id)
        else:
            handles[element_id] = getattr(owner, kind)(element_id)
    for _, host, boundary_id in boundaries:
        handles[boundary_id] = handles[host].on_timer(duration="P1D", id=boundary_id)
    for _, source, target, condition in flows:
        handles[source].then(handles[target], when=condition or None)
    return p.build()


@pytest.mark.parametrize("seed", range(25))
def test_the_order_of_writing_does_not_change_the_checksum(seed: int) -> None:
    steps = random_process(seed)
    written = build_in_order(steps, shuffle_seed=None)
    for shuffle in range(3):
        shuffled = build_in_order(steps, shuffle_seed=shuffle)
        assert to_dict(shuffled) == to_dict(written)
        assert checksum(shuffled) == checksum(written)
