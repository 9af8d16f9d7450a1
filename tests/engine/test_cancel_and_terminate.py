"""Cancelling an instance, and terminate end events (BPMN 2.0, 10.5.3) at each level."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from legato.engine import CancelInstance, CompleteJob
from legato.engine import effects as fx
from legato.errors import InstanceNotActive
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def everything_waits() -> ProcessDefinition:
    p = Process("everything_waits")
    fork = p.start("start").then(p.parallel("fork"))
    fork.then(p.service("job", "job")).then(p.end("end_job"))
    fork.then(p.user("task")).then(p.end("end_task"))
    fork.then(p.catch_timer("timer", duration="PT1H")).then(p.end("end_timer"))
    fork.then(p.catch_message("message", "ping")).then(p.end("end_message"))
    sub = fork.then(p.subprocess("sub"))
    sub.start("sub_start").then(sub.service("inner_job", "inner")).then(sub.end("sub_end"))
    sub.then(p.end("end_sub"))
    fork.then(p.exclusive("broken")).then(p.end("end_broken"), when="missing > 1")
    return p.build()


def test_cancel_closes_every_wait_and_ends_the_instance(start: Start) -> None:
    h = start(everything_waits())
    assert h.waiting_at() == ["broken", "inner_job", "job", "message", "task", "timer"]
    job, task, timer = h.job("job"), h.task("task"), h.timer("timer")
    message, inner, incident = h.subscription("message"), h.job("inner_job"), h.incident("broken")
    h.cancel("customer withdrew", actor="ann")
    assert h.status == "cancelled"
    assert h.waits() == []
    assert h.incidents == []
    for effect in (
        fx.CancelJob(wait=job.wait),
        fx.CancelJob(wait=timer.wait),
        fx.CancelJob(wait=inner.wait),
        fx.CloseUserTask(wait=task.wait, outcome="cancelled", actor="ann"),
        fx.Unsubscribe(wait=message.wait),
        fx.ResolveIncident(wait=incident.wait, actor="ann"),
        fx.InstanceEnded(status="cancelled"),
    ):
        assert effect in h.effects
    assert h.state.tokens == {} and h.state.scopes == {} and h.state.waits == {}
    assert h.history()[-1].type == "instance_cancelled"
    assert h.history()[-1].actor == "ann"
    with pytest.raises(InstanceNotActive):
        h.send(CompleteJob(wait=job.wait))
    with pytest.raises(InstanceNotActive):
        h.send(CancelInstance())


def test_terminate_end_at_process_level_ends_every_branch(start: Start) -> None:
    p = Process("race")
    fork = p.start("start").then(p.parallel("fork"))
    fork.then(p.service("fast", "fast")).then(p.end("won", terminate=True))
    fork.then(p.service("slow", "slow")).then(p.end("slow_end"))
    sub = fork.then(p.subprocess("sub"))
    sub.start("sub_start").then(sub.user("inner_task")).then(sub.end("sub_end"))
    sub.then(p.end("sub_done"))
    h = start(p.build())
    slow, inner = h.job("slow"), h.task("inner_task")
    h.complete_job("fast")
    assert h.status == "terminated"
    assert fx.CancelJob(wait=slow.wait) in h.effects
    assert fx.CloseUserTask(wait=inner.wait, outcome="cancelled") in h.effects
    assert fx.InstanceEnded(status="terminated") in h.effects
    assert h.waits() == []
    assert h.history()[-1].type == "instance_terminated"
    assert {r.element for r in h.history("element_terminated")} == {"slow", "inner_task", "sub"}


def test_terminate_end_in_a_subprocess_ends_only_the_subprocess(start: Start) -> None:
    p = Process("inner_race")
    fork = p.start("start").then(p.parallel("fork"))
    sub = fork.then(p.subprocess("quotes"))
    inner = sub.start("quotes_start").then(sub.parallel("ask"))
    inner.then(sub.service("quote_a", "quote")).then(sub.end("first_quote", terminate=True))
    inner.then(sub.service("quote_b", "quote")).then(sub.end("b_end"))
    sub.then(p.service("choose", "choose")).then(p.end("chosen"))
    fork.then(p.service("outside", "outside")).then(p.end("outside_end"))
    h = start(p.build())
    quote_b = h.job("quote_b")
    h.complete_job("quote_a", {"price": 10})
    assert h.status == "active"
    assert fx.CancelJob(wait=quote_b.wait) in h.effects
    assert h.waiting_at() == ["choose", "outside"]
    assert h.state.scopes == {}
    assert ("element_completed", "quotes") in h.trail()
    h.complete_job("choose")
    h.complete_job("outside")
    assert h.status == "completed"


def test_terminate_in_a_nested_subprocess_ends_only_the_innermost(start: Start) -> None:
    p = Process("nested_terminate")
    outer = p.start("start").then(p.subprocess("outer"))
    fork = outer.start("outer_start").then(outer.parallel("fork"))
    inner = fork.then(outer.subprocess("inner"))
    inner_fork = inner.start("inner_start").then(inner.parallel("inner_fork"))
    inner_fork.then(inner.end("stop", terminate=True))
    inner_fork.then(inner.service("never", "never")).then(inner.end("never_end"))
    inner.then(outer.end("inner_done"))
    fork.then(outer.service("sibling", "sibling")).then(outer.end("sibling_end"))
    outer.then(p.end("end"))
    h = start(p.build())
    assert h.waiting_at() == ["sibling"]
    assert len(h.state.scopes) == 1
    h.complete_job("sibling")
    assert h.status == "completed"


def test_message_start_event_starts_where_it_is_named(start: Start) -> None:
    p = Process("two_starts")
    p.start("plain").then(p.service("manual", "manual")).then(p.end("manual_end"))
    p.start("by_message", message="order_placed").then(p.service("auto", "auto")).then(p.end("auto_end"))
    h = start(p.build(), start_event="by_message", variables={"order": 1})
    assert h.waiting_at() == ["auto"]
    assert h.history("instance_started")[0].data == {
        "variables": {"order": 1},
        "start_event": "by_message",
    }
