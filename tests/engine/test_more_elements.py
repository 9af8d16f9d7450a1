"""Tasks without handlers, receive and send tasks, link events, the inclusive gateway with
its converging join, the event-based gateway, escalations and signals.

Written from BPMN 2.0.2: 10.3.3 (tasks), 10.5.5 (link, signal, escalation event
definitions), 10.6.3 and 13.4.3 (inclusive gateway), 10.6.6 (event-based gateway).
Every scenario runs straight through and with the state reloaded at each wait state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.errors import ModelInvalid
from legato.model.elements import (
    BoundaryEvent,
    Element,
    EndEvent,
    EscalationDefinition,
    EventBasedGateway,
    InclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    LinkDefinition,
    ManualTask,
    MessageDefinition,
    ReceiveTask,
    SendTask,
    SequenceFlow,
    ServiceTask,
    SignalDefinition,
    StartEvent,
    SubProcess,
    Task,
    TimerDefinition,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def process(*elements: Element, flows: str, conditions: dict[str, str] | None = None) -> ProcessDefinition:
    """Flows written `a>b b>c`; a flow's id is `a_b`; conditions by flow id."""
    built = []
    for pair in flows.split():
        source, target = pair.split(">")
        flow_id = f"{source}_{target}"
        built.append(SequenceFlow(id=flow_id, source=source, target=target, condition=(conditions or {}).get(flow_id)))
    definition = ProcessDefinition(id="p", elements={e.id: e for e in elements}, flows={f.id: f for f in built})
    validate(definition)
    return definition


def service(element_id: str, **kwargs: Any) -> ServiceTask:
    return ServiceTask(id=element_id, task_type=element_id, **kwargs)


S, E = StartEvent(id="s"), EndEvent(id="e")


def joining(run: Any) -> list[str]:
    return sorted(t.element for t in run.state.tokens.values() if t.state == "joining")


def test_plain_and_manual_tasks_pass_and_send_tasks_are_jobs(start: Start) -> None:
    definition = process(
        S, Task(id="t"), ManualTask(id="m"), SendTask(id="send", task_type="mail"), E, flows="s>t t>m m>send send>e"
    )
    run = start(definition)
    assert run.job("send").task_type == "mail"
    run.complete_job("send", {"sent": True})
    assert run.status == "completed"
    assert [element for kind, element in run.trail() if kind == "element_passed"][:3] == ["s", "t", "m"]


def test_a_receive_task_waits_for_its_message_and_its_boundary_timer_closes_with_it(start: Start) -> None:
    receive = ReceiveTask(id="r", message="paid", correlation_key="order", outputs={"amount": "amount * 1"})
    timer = BoundaryEvent(id="late", attached_to="r", event=TimerDefinition(kind="duration", value="P1D"))
    definition = process(S, receive, timer, E, EndEvent(id="e2"), flows="s>r r>e late>e2")
    run = start(definition, variables={"order": "A-1"})
    assert sorted(w.kind for w in run.waits()) == ["message", "timer"]
    run.correlate("paid", {"amount": 10}, correlation_key="A-1")
    assert run.status == "completed" and run.variables["amount"] == 10
    assert run.waits() == []


def test_a_link_throw_continues_at_its_catch(start: Start) -> None:
    throw = IntermediateThrowEvent(id="go", event=LinkDefinition(name="page2"))
    catch = IntermediateCatchEvent(id="here", event=LinkDefinition(name="page2"))
    definition = process(S, service("a"), throw, catch, service("b"), E, flows="s>a a>go here>b b>e")
    run = start(definition)
    run.complete_job("a")
    assert run.waiting_at() == ["b"]
    run.complete_job("b")
    assert run.status == "completed"


def test_a_link_without_its_catch_is_refused() -> None:
    throw = IntermediateThrowEvent(id="go", event=LinkDefinition(name="nowhere"))
    with pytest.raises(ModelInvalid, match="exactly one link catch event named 'nowhere'"):
        process(S, throw, flows="s>go")


def inclusive_diamond() -> ProcessDefinition:
    fork, join = InclusiveGateway(id="fork", default="fork_c"), InclusiveGateway(id="join")
    return process(
        S,
        fork,
        service("a"),
        service("b"),
        service("c"),
        join,
        E,
        flows="s>fork fork>a fork>b fork>c a>join b>join c>join join>e",
        conditions={"fork_a": "x > 1", "fork_b": "x > 2"},
    )


def test_an_inclusive_fork_takes_every_true_flow_and_the_join_waits_for_exactly_those(start: Start) -> None:
    run = start(inclusive_diamond(), variables={"x": 5})
    assert run.waiting_at() == ["a", "b"]
    run.complete_job("a")
    assert run.waiting_at() == ["b"] and joining(run) == ["join"]  # a's token waits: b can still arrive
    run.complete_job("b")
    assert run.status == "completed"
    assert run.history("element_passed")[-2].element == "join"


def test_an_inclusive_fork_with_no_true_condition_takes_the_default(start: Start) -> None:
    run = start(inclusive_diamond(), variables={"x": 0})
    assert run.waiting_at() == ["c"]
    run.complete_job("c")
    assert run.status == "completed"


def test_an_inclusive_join_fires_when_the_other_path_can_no_longer_reach_it(start: Start) -> None:
    fork, join = InclusiveGateway(id="fork"), InclusiveGateway(id="join")
    from legato.model.elements import ExclusiveGateway

    choice = ExclusiveGateway(id="choice", default="choice_b")
    definition = process(
        S,
        fork,
        service("a"),
        service("check"),
        choice,
        service("b"),
        join,
        E,
        EndEvent(id="dropped"),
        flows="s>fork fork>a fork>check check>choice choice>dropped choice>b a>join b>join join>e",
        conditions={"choice_dropped": "drop"},
    )
    run = start(definition)
    run.complete_job("a")
    assert run.waiting_at() == ["check"] and joining(run) == ["join"]
    run.complete_job("check", {"drop": True})  # that path ends elsewhere: the join fires
    assert run.status == "completed"


def event_race() -> ProcessDefinition:
    gateway = EventBasedGateway(id="g")
    paid = IntermediateCatchEvent(id="paid", event=MessageDefinition(message="payment", correlation_key="order"))
    late = IntermediateCatchEvent(id="late", event=TimerDefinition(kind="duration", value="PT1H"))
    return process(
        S,
        gateway,
        paid,
        late,
        service("ship"),
        service("remind"),
        E,
        EndEvent(id="e2"),
        flows="s>g g>paid g>late paid>ship late>remind ship>e remind>e2",
    )


def test_an_event_based_gateway_takes_the_first_event_message_wins(start: Start) -> None:
    run = start(event_race(), variables={"order": "A-1"})
    assert sorted(w.kind for w in run.waits()) == ["message", "timer"]
    run.correlate("payment", {"paid": True}, correlation_key="A-1")
    assert run.waiting_at() == ["ship"] and run.waits("timer") == []
    assert ("element_passed", "g") in run.trail()


def test_an_event_based_gateway_takes_the_first_event_timer_wins(start: Start) -> None:
    run = start(event_race(), variables={"order": "A-1"})
    run.fire_timer("late")
    assert run.waiting_at() == ["remind"] and run.waits("message") == []


def test_an_event_based_gateway_leads_only_to_catch_events() -> None:
    with pytest.raises(ModelInvalid, match="event-based gateway leads only"):
        process(S, EventBasedGateway(id="g"), service("a"), service("b"), E, flows="s>g g>a g>b a>e b>e")


def escalating(interrupting: bool, code: str | None = "LATE") -> ProcessDefinition:
    sub = SubProcess(id="sub")
    inner = [
        StartEvent(id="sub_start", parent="sub"),
        IntermediateThrowEvent(id="raise", parent="sub", event=EscalationDefinition(code="LATE")),
        ServiceTask(id="work", task_type="work", parent="sub"),
        EndEvent(id="sub_end", parent="sub"),
    ]
    catch = BoundaryEvent(
        id="caught", attached_to="sub", cancel_activity=interrupting, event=EscalationDefinition(code=code)
    )
    return process(
        S,
        sub,
        *inner,
        catch,
        service("handle"),
        E,
        EndEvent(id="e2"),
        flows="s>sub sub_start>raise raise>work work>sub_end sub>e caught>handle handle>e2",
    )


def test_a_non_interrupting_escalation_starts_a_path_and_the_subprocess_goes_on(start: Start) -> None:
    run = start(escalating(interrupting=False))
    assert run.waiting_at() == ["handle", "work"]
    assert ("boundary_triggered", "caught") in run.trail()
    run.complete_job("handle")
    run.complete_job("work")
    assert run.status == "completed"


def test_an_interrupting_escalation_cancels_the_subprocess(start: Start) -> None:
    run = start(escalating(interrupting=True, code=None))  # a catch without code catches any
    assert run.waiting_at() == ["handle"]
    run.complete_job("handle")
    assert run.status == "completed"


def test_an_uncaught_escalation_is_recorded_and_the_path_continues(start: Start) -> None:
    throw = IntermediateThrowEvent(id="raise", event=EscalationDefinition(code="LATE"))
    run = start(process(S, throw, service("a"), E, flows="s>raise raise>a a>e"))
    assert run.waiting_at() == ["a"]
    assert ("escalation_uncaught", "raise") in run.trail()


def test_signals_are_thrown_as_broadcasts_and_caught_by_waits(start: Start) -> None:
    throw = IntermediateThrowEvent(id="announce", event=SignalDefinition(signal="stock.low"))
    catch = IntermediateCatchEvent(id="restocked", event=SignalDefinition(signal="stock.refilled"))
    guard = BoundaryEvent(id="recall", attached_to="a", event=SignalDefinition(signal="recall"), cancel_activity=False)
    definition = process(
        S,
        throw,
        catch,
        service("a"),
        guard,
        service("notify"),
        E,
        EndEvent(id="e2"),
        flows="s>announce announce>restocked restocked>a a>e recall>notify notify>e2",
    )
    run = start(definition)
    assert run.broadcasts == ["stock.low"]
    run.signal("stock.refilled", {"units": 40})
    assert run.waiting_at() == ["a", "recall"] and run.variables["units"] == 40
    run.signal("recall")  # non-interrupting: a new path, and the boundary stays armed
    assert run.waiting_at() == ["a", "notify", "recall"]
    assert [w.element for w in run.waits("signal")] == ["recall"]
    run.complete_job("notify")
    run.complete_job("a")
    assert run.status == "completed" and run.waits() == []


def test_a_signal_end_event_broadcasts_then_ends(start: Start) -> None:
    end = EndEvent(id="done", event=SignalDefinition(signal="order.closed"))
    run = start(process(S, end, flows="s>done"))
    assert run.status == "completed" and run.broadcasts == ["order.closed"]


def test_timer_values_may_be_feel_or_juel_expressions(start: Start) -> None:
    for value, expected_minutes in (('=duration("PT" + string(wait) + "M")', 5), ("${delay}", 7)):
        timer = IntermediateCatchEvent(id="t", event=TimerDefinition(kind="duration", value=value))
        run = start(process(S, timer, E, flows="s>t t>e"), variables={"wait": 5, "delay": "PT7M"})
        due = run.timer("t").due
        assert due is not None and (due - run.now).total_seconds() == expected_minutes * 60


def test_message_throw_events_are_sent_by_a_handler_job(start: Start) -> None:
    notify = IntermediateThrowEvent(id="notify", event=MessageDefinition(message="order.shipped"), task_type="mail")
    close = EndEvent(id="close", event=MessageDefinition(message="order.closed"), task_type="mail")
    run = start(process(S, notify, service("a"), close, flows="s>notify notify>a a>close"), variables={"n": 1})
    assert run.job("notify").payload == {"n": 1, "message": "order.shipped"}
    run.complete_job("notify", {"sent": 1})
    run.complete_job("a")
    assert run.status == "active" and run.job("close").payload["message"] == "order.closed"
    run.complete_job("close")
    assert run.status == "completed" and run.variables["sent"] == 1


def test_a_message_throw_event_needs_its_handler() -> None:
    throw = IntermediateThrowEvent(id="notify", event=MessageDefinition(message="order.shipped"))
    with pytest.raises(ModelInvalid, match="needs a task type"):
        process(S, throw, E, flows="s>notify notify>e")


def test_feel_now_is_the_time_the_engine_was_given(start: Start) -> None:
    """FEEL's now() reads the step's injected time, not the wall clock, so a replay agrees."""
    timer = IntermediateCatchEvent(id="t", event=TimerDefinition(kind="date", value='=now() + duration("PT10M")'))
    run = start(process(S, timer, E, flows="s>t t>e"))
    due = run.timer("t").due
    assert due is not None and (due - run.now).total_seconds() == 600
