"""Call activities (BPMN 2.0, 10.3.6), one instance at a time: the caller's side by the
commands the store would send it and the effects it emits, the called side by what it
reports when it ends. Each scenario runs straight and with reloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.engine import effects as fx
from legato.engine.commands import CompleteCallActivity, HoldCallActivity
from legato.engine.state import InstanceState
from legato.errors import StaleCommand
from legato.formats.builder import Process
from legato.model.elements import MultiInstance
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def calling(**call: Any) -> ProcessDefinition:
    """start -> call `pay` (process "payment") -> end, with a boundary error and timer."""
    p = Process("order")
    pay = p.start("start").then(p.call("pay", "payment", **call))
    pay.on_error("DECLINED", id="declined").then(p.end("rejected"))
    pay.on_timer(duration="PT1H", id="too_slow").then(p.end("timed_out"))
    pay.then(p.end("paid"))
    return p.build()


def started(h: EngineHarness) -> list[fx.StartChild]:
    return [e for e in h.effects if isinstance(e, fx.StartChild)]


def test_entering_starts_a_child_with_all_variables_and_waits(start: Start) -> None:
    h = start(calling(), variables={"order": 7, "amount": 120})
    [child] = started(h)
    assert child == fx.StartChild(
        wait=h.call("pay").wait,
        element="pay",
        process="payment",
        version=None,
        variables={"order": 7, "amount": 120},
    )
    assert sorted(h.waiting_at()) == ["pay", "too_slow"]
    [entered] = h.history("element_entered")
    assert entered.data == {"process": "payment"}


def test_the_child_completing_brings_all_its_variables_back(start: Start) -> None:
    h = start(calling(), variables={"order": 7})
    h.complete_call("pay", {"order": 7, "receipt": "R-1"})
    assert h.status == "completed"
    assert h.variables == {"order": 7, "receipt": "R-1"}
    assert not [e for e in h.effects if isinstance(e, fx.CancelChild)]  # the child is over already
    assert h.history("element_passed")[-1].element == "paid"


def test_inputs_and_outputs_map_what_goes_in_and_comes_back(start: Start) -> None:
    h = start(
        calling(version=3, inputs={"total": "amount * 2"}, outputs={"receipt_id": "receipt", "total_paid": "total"}),
        variables={"amount": 5, "secret": "s"},
    )
    [child] = started(h)
    assert (child.version, child.variables) == (3, {"total": 10})
    assert h.call("pay").payload == {"total": 10} and h.call("pay").process == "payment"
    h.complete_call("pay", {"total": 10, "receipt": "R-9", "noise": 1})
    assert h.variables == {"amount": 5, "secret": "s", "receipt_id": "R-9", "total_paid": 10}


def test_an_output_that_cannot_be_mapped_holds_the_call_and_a_retry_calls_again(start: Start) -> None:
    h = start(calling(outputs={"receipt_id": "receipt.id"}))
    wait = h.call("pay").wait
    h.complete_call("pay", {"receipt": None})
    incident = h.incident("pay")
    assert incident.error_type == "ExpressionError"
    assert sorted(h.waiting_at()) == ["pay", "too_slow"]  # the deadline stays armed
    h.retry_incident("pay")
    assert started(h) == [fx.StartChild(wait=wait, element="pay", process="payment", version=None, variables={})]
    assert h.history("call_repeated")[0].element == "pay"
    h.complete_call("pay", {"receipt": {"id": "R-2"}})
    assert (h.status, h.variables) == ("completed", {"receipt_id": "R-2"})


def test_an_error_that_ended_the_child_is_caught_on_the_call_activity(start: Start) -> None:
    h = start(calling())
    deadline = h.timer("too_slow").wait
    h.fail_call("pay", "DECLINED", "card expired")
    assert h.status == "completed"
    assert h.history("element_passed")[-1].element == "rejected"
    [thrown] = h.history("error_thrown")
    assert thrown.data == {"code": "DECLINED", "message": "card expired", "by": "child"}
    assert fx.CancelJob(wait=deadline) in h.effects
    assert not [e for e in h.all_effects if isinstance(e, fx.CancelChild)]  # the child ended by itself


def test_an_error_nothing_catches_is_an_incident_whose_retry_calls_again(start: Start) -> None:
    h = start(calling())
    wait = h.call("pay").wait
    h.fail_call("pay", "FRAUD")
    incident = h.incident("pay")
    assert (incident.error_type, incident.wait) == ("UnhandledBpmnError", wait)
    assert "FRAUD" in incident.message
    with pytest.raises(StaleCommand, match="held by an incident"):
        h.send(CompleteCallActivity(wait=wait))
    assert h.advance(3600) == ["too_slow"]  # the boundary timer still fires while held
    assert h.status == "completed" and [e for e in h.effects if isinstance(e, fx.ResolveIncident)]
    assert [e for e in h.effects if isinstance(e, fx.CancelChild)] == [fx.CancelChild(wait=wait)]


def test_a_call_that_could_not_start_holds_an_incident_and_is_retried(start: Start) -> None:
    h = start(calling(), variables={"n": 1})
    h.hold_call("pay", "DefinitionNotFound", "no process 'payment' is deployed")
    assert h.incident("pay").message == "no process 'payment' is deployed"
    with pytest.raises(StaleCommand):
        h.send(HoldCallActivity(wait=h.call("pay").wait, error_type="x", message="y"))
    h.retry_incident("pay")
    assert [c.variables for c in started(h)] == [{"n": 1}]
    assert h.incidents == []
    h.complete_call("pay")
    assert h.status == "completed"


def test_an_interrupting_timer_cancels_the_child(start: Start) -> None:
    h = start(calling())
    wait = h.call("pay").wait
    h.advance(3600)
    assert fx.CancelChild(wait=wait) in h.effects
    assert h.status == "completed" and h.history("element_passed")[-1].element == "timed_out"


def test_a_non_interrupting_timer_leaves_the_child_running(start: Start) -> None:
    p = Process("order")
    pay = p.start("start").then(p.call("pay", "payment"))
    pay.on_timer(duration="PT1H", id="remind", interrupting=False).then(p.end("reminded"))
    pay.then(p.end("paid"))
    h = start(p.build())
    h.advance(3600)
    assert not [e for e in h.effects if isinstance(e, fx.CancelChild)]
    h.complete_call("pay", {"ok": True})
    assert h.status == "completed"


def test_cancelling_the_caller_cancels_the_child(start: Start) -> None:
    h = start(calling())
    wait = h.call("pay").wait
    h.cancel()
    assert h.status == "cancelled"
    assert fx.CancelChild(wait=wait) in h.effects


def test_a_terminate_end_event_on_another_path_cancels_the_child(start: Start) -> None:
    p = Process("order")
    fork = p.start("start").then(p.parallel("fork"))
    fork.then(p.call("pay", "payment")).then(p.end("paid"))
    fork.then(p.end("abort", terminate=True))
    h = start(p.build())
    assert h.status == "terminated"
    # Started and cancelled in the same step: the store never starts this child at all.
    assert [type(e).__name__ for e in h.effects if isinstance(e, fx.StartChild | fx.CancelChild)] == [
        "StartChild",
        "CancelChild",
    ]


def test_an_input_that_fails_is_an_incident_before_anything_is_called(start: Start) -> None:
    h = start(calling(inputs={"total": "amount * 2"}))
    assert not started(h)
    assert h.incident("pay").error_type == "ExpressionError"
    assert h.waiting_at() == ["pay"]  # no boundary opened: a retry enters afresh


def test_an_error_from_a_child_reaches_an_enclosing_subprocess(start: Start) -> None:
    p = Process("order")
    box = p.start("start").then(p.subprocess("box"))
    box.start("inner_start").then(box.call("pay", "payment")).then(box.end("inner_end"))
    box.on_error("DECLINED", id="declined").then(p.end("rejected"))
    box.then(p.end("done"))
    h = start(p.build())
    h.fail_call("pay", "DECLINED")
    assert h.status == "completed" and h.history("element_passed")[-1].element == "rejected"


def test_a_multi_instance_call_starts_one_child_per_item(start: Start) -> None:
    p = Process("batch")
    loop = MultiInstance(
        collection="orders", element_variable="order", output_collection="receipts", output_element="receipt"
    )
    p.start("start").then(p.call("pay", "payment", inputs={"order": "order"}, multi_instance=loop)).then(p.end("end"))
    h = start(p.build(), variables={"orders": ["a", "b"]})
    assert [c.variables for c in started(h)] == [{"order": "a"}, {"order": "b"}]
    waits = [w.wait for w in h.waits("call")]
    for wait, receipt in zip(waits, ["R-a", "R-b"], strict=True):
        h.send(CompleteCallActivity(wait=wait, variables={"receipt": receipt}))
    assert h.status == "completed"
    assert h.variables["receipts"] == ["R-a", "R-b"]


# -- the called side ---------------------------------------------------------------------------


def payment(end: str = "plain") -> ProcessDefinition:
    p = Process("payment")
    charge = p.start("start").then(p.service("charge", "card.charge"))
    if end == "error":
        charge.then(p.end("declined", error="DECLINED", error_message="card expired"))
    elif end == "terminate":
        charge.then(p.end("stop", terminate=True))
    else:
        charge.then(p.end("end"))
    return p.build()


def returned(h: EngineHarness) -> fx.ReturnToCaller:
    [effect] = [e for e in h.effects if isinstance(e, fx.ReturnToCaller)]
    return effect


def test_a_called_instance_reports_its_end_with_its_variables(start: Start) -> None:
    h = start(payment(), variables={"amount": 3}, caller=("parent-1", 7))
    assert h.history("instance_started")[0].data["called_by"] == {"instance_id": "parent-1", "wait": 7}
    h.complete_job("charge", {"receipt": "R-1"})
    assert h.status == "completed"
    assert returned(h) == fx.ReturnToCaller(
        parent="parent-1", wait=7, status="completed", variables={"amount": 3, "receipt": "R-1"}
    )


def test_an_uncaught_error_ends_a_called_instance_and_goes_to_its_caller(start: Start) -> None:
    h = start(payment("error"), caller=("parent-1", 7))
    h.complete_job("charge")
    assert h.status == "terminated"
    assert h.incidents == []
    assert h.history("instance_terminated")[0].data == {"error": "DECLINED", "message": "card expired"}
    effect = returned(h)
    assert (effect.status, effect.error_code, effect.error_message) == ("terminated", "DECLINED", "card expired")


def test_an_uncaught_error_from_a_handler_ends_a_called_instance_too(start: Start) -> None:
    h = start(payment(), caller=("parent-1", 7))
    job = h.job("charge")
    h.throw_error("charge", "DECLINED", "no funds")
    assert h.status == "terminated"
    assert fx.CancelJob(wait=job.wait) in h.effects
    assert returned(h).error_code == "DECLINED"


def test_an_error_the_called_instance_catches_itself_stays_there(start: Start) -> None:
    p = Process("payment")
    charge = p.start("start").then(p.service("charge", "card.charge"))
    charge.on_error("DECLINED", id="declined").then(p.end("handled"))
    charge.then(p.end("end"))
    h = start(p.build(), caller=("parent-1", 7))
    h.throw_error("charge", "DECLINED")
    assert h.status == "completed"
    assert returned(h).error_code is None


def test_a_called_instance_ended_by_terminate_or_cancel_says_so(start: Start) -> None:
    h = start(payment("terminate"), caller=("parent-1", 7))
    h.complete_job("charge")
    assert (returned(h).status, returned(h).error_code) == ("terminated", None)
    h = start(payment(), caller=("parent-1", 7))
    h.cancel()
    assert returned(h).status == "cancelled"


def test_an_instance_nobody_called_keeps_its_uncaught_error_as_an_incident(start: Start) -> None:
    h = start(payment("error"))
    h.complete_job("charge")
    assert h.status == "active"
    assert h.incident("declined").error_type == "UnhandledBpmnError"
    assert not [e for e in h.all_effects if isinstance(e, fx.ReturnToCaller)]


def test_the_caller_link_is_stored_only_for_called_instances() -> None:
    called = EngineHarness(payment(), caller=("parent-1", 7)).state
    assert called.to_dict()["pa"] == ["parent-1", 7]
    assert InstanceState.from_dict(called.to_dict(), {}).caller == ("parent-1", 7)
    assert "pa" not in EngineHarness(payment()).state.to_dict()
