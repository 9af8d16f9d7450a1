"""Boundary timer and message events (BPMN 2.0, 10.5.6), interrupting and not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from legato.engine import CompleteJob
from legato.engine import effects as fx
from legato.errors import StaleCommand
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def guarded(*, interrupting: bool, cycle: str | None = None) -> ProcessDefinition:
    p = Process("guarded")
    call = p.start("start").then(p.service("call", "partner.call"))
    if cycle is None:
        timer = call.on_timer(duration="PT10M", interrupting=interrupting, id="too_slow")
    else:
        timer = call.on_timer(cycle=cycle, interrupting=interrupting, id="too_slow")
    timer.then(p.service("escalate", "escalate")).then(p.end("escalated"))
    call.then(p.end("done"))
    return p.build()


def test_boundary_timer_is_armed_with_the_activity_and_cancelled_with_it(start: Start) -> None:
    h = start(guarded(interrupting=True))
    assert h.waiting_at() == ["call", "too_slow"]
    timer = h.timer("too_slow")
    assert timer.due == h.now + timedelta(minutes=10)
    h.complete_job("call")
    assert fx.CancelJob(wait=timer.wait) in h.effects
    assert h.waits() == []
    assert h.status == "completed"


def test_interrupting_boundary_timer_cancels_the_job_and_continues_from_the_boundary(
    start: Start,
) -> None:
    h = start(guarded(interrupting=True))
    job = h.job("call")
    assert h.advance(timedelta(minutes=9)) == []
    assert h.advance(timedelta(minutes=1)) == ["too_slow"]
    assert fx.CancelJob(wait=job.wait) in h.effects
    assert h.waiting_at() == ["escalate"]
    assert ("element_terminated", "call") in h.trail()
    assert ("boundary_triggered", "too_slow") in h.trail()
    # The handler finishes late: its completion is stale and changes nothing.
    before = h.state.to_dict()
    with pytest.raises(StaleCommand):
        h.send(CompleteJob(wait=job.wait, variables={"late": True}))
    assert h.state.to_dict() == before
    assert "late" not in h.variables
    h.complete_job("escalate")
    assert h.status == "completed"
    assert [r.element for r in h.history("element_passed")][-1] == "escalated"


def test_non_interrupting_boundary_timer_runs_another_path_beside_the_activity(
    start: Start,
) -> None:
    h = start(guarded(interrupting=False))
    job = h.job("call")
    h.fire_timer("too_slow")
    assert h.waiting_at() == ["call", "escalate"]
    assert h.job("call").wait == job.wait  # the activity goes on
    assert h.waits("timer") == []  # a duration fires once
    h.complete_job("escalate")
    assert h.status == "active"
    h.complete_job("call")
    assert h.status == "completed"


def test_non_interrupting_cycle_timer_re_arms_until_its_repetitions_are_spent(
    start: Start,
) -> None:
    h = start(guarded(interrupting=False, cycle="R3/PT1M"))
    started = h.now
    dues = []
    for _ in range(3):
        dues.append(h.timer("too_slow").due)
        h.fire_timer("too_slow")
    assert dues == [started + timedelta(minutes=n) for n in (1, 2, 3)]
    assert h.waits("timer") == []
    assert [w.element for w in h.waits("job")] == ["call", "escalate", "escalate", "escalate"]
    assert len(h.history("boundary_triggered")) == 3
    h.complete_job("call")
    for job in h.waits("job"):
        h.send(CompleteJob(wait=job.wait))
    assert h.status == "completed"


def test_unbounded_cycle_keeps_firing_while_the_activity_runs(start: Start) -> None:
    h = start(guarded(interrupting=False, cycle="R/PT1H"))
    fired = h.advance(timedelta(hours=5))
    assert fired == ["too_slow"] * 5
    assert h.timer("too_slow").due == h.now + timedelta(hours=1)
    h.complete_job("call")
    assert h.waits("timer") == []


def approval() -> ProcessDefinition:
    p = Process("approval")
    review = p.start("start").then(p.user("review", assignee="ann"))
    review.on_message("withdrawn", correlation_key="request_id", id="withdrawn").then(p.end("cancelled_by_requester"))
    review.on_message("nudge", correlation_key="request_id", interrupting=False, id="nudged").then(
        p.service("remind", "remind")
    ).then(p.end("reminded"))
    review.on_timer(duration="P2D", id="overdue").then(p.user("review_by_boss")).then(p.end("boss_done"))
    review.then(p.end("approved"))
    return p.build()


def test_interrupting_message_boundary_closes_the_task_and_records_variables(
    start: Start,
) -> None:
    h = start(approval(), variables={"request_id": 42})
    task = h.task("review")
    assert h.subscription("withdrawn").correlation_key == "42"
    h.correlate("withdrawn", {"reason": "changed my mind"}, correlation_key="42")
    assert fx.CloseUserTask(wait=task.wait, outcome="cancelled") in h.effects
    assert h.status == "completed"
    assert h.variables == {"request_id": 42, "reason": "changed my mind"}
    [triggered] = h.history("boundary_triggered")
    assert triggered.element == "withdrawn"
    assert triggered.data is not None
    assert triggered.data["variables"] == {"reason": "changed my mind"}


def test_non_interrupting_message_boundary_stays_subscribed(start: Start) -> None:
    h = start(approval(), variables={"request_id": 42})
    h.correlate("nudge", correlation_key="42")
    h.correlate("nudge", {"count": 2}, correlation_key="42")
    assert sorted(w.element for w in h.waits("job")) == ["remind", "remind"]
    assert h.subscription("nudged").message == "nudge"
    assert h.task("review").element == "review"
    h.complete_task("review")
    assert h.waits("message") == []
    assert h.waits("timer") == []
    for job in h.waits("job"):
        h.send(CompleteJob(wait=job.wait))
    assert h.status == "completed"


def test_boundary_timer_on_a_user_task_escalates(start: Start) -> None:
    h = start(approval(), variables={"request_id": 42})
    assert h.advance(timedelta(days=2)) == ["overdue"]
    assert h.waiting_at() == ["review_by_boss"]
    assert h.waits("message") == []


def test_interrupting_timer_on_a_subprocess_ends_everything_inside(start: Start) -> None:
    p = Process("timed_sub")
    sub = p.start("start").then(p.subprocess("work"))
    fork = sub.start("work_start").then(sub.parallel("fork"))
    fork.then(sub.service("left", "left")).then(sub.end("left_end"))
    fork.then(sub.user("right")).then(sub.end("right_end"))
    sub.on_timer(duration="PT1H", id="deadline").then(p.service("late", "late")).then(p.end("late_end"))
    sub.then(p.end("end"))
    h = start(p.build())
    left, right = h.job("left"), h.task("right")
    h.advance(timedelta(hours=1))
    assert fx.CancelJob(wait=left.wait) in h.effects
    assert fx.CloseUserTask(wait=right.wait, outcome="cancelled") in h.effects
    assert h.waiting_at() == ["late"]
    assert h.state.scopes == {}
    terminated = {r.element for r in h.history("element_terminated")}
    assert terminated == {"left", "right", "work"}


def test_non_interrupting_timer_on_a_subprocess_leaves_it_running(start: Start) -> None:
    p = Process("reminded_sub")
    sub = p.start("start").then(p.subprocess("work"))
    sub.start("work_start").then(sub.user("do_it")).then(sub.end("work_end"))
    sub.on_timer(cycle="R2/PT1H", interrupting=False, id="remind").then(p.service("send_reminder", "remind")).then(
        p.end("reminded")
    )
    sub.then(p.end("end"))
    h = start(p.build())
    assert h.advance(timedelta(hours=3)) == ["remind", "remind"]
    assert sorted(h.waiting_at()) == ["do_it", "send_reminder", "send_reminder"]
    h.complete_task("do_it")
    assert h.status == "active"
    for job in h.waits("job"):
        h.send(CompleteJob(wait=job.wait))
    assert h.status == "completed"
