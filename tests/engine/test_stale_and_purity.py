"""The engine is pure: it never changes the state it is given, and a stale command changes
nothing at all. Both are what lets a store retry a transaction with the state it loaded."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta

import pytest

from legato.engine import (
    CancelInstance,
    Command,
    CompleteJob,
    CompleteUserTask,
    CorrelateMessage,
    FailJob,
    FireTimer,
    RetryIncident,
    ThrowError,
    apply,
    start,
)
from legato.errors import IncidentNotOpen, StaleCommand
from legato.formats.builder import Process, RetryPolicy
from legato.model.process import ProcessDefinition
from legato.testing.engine_harness import DEFAULT_START, EngineHarness

Start = Callable[..., EngineHarness]


def busy() -> ProcessDefinition:
    p = Process("busy")
    fork = p.start("start").then(p.parallel("fork"))
    call = fork.then(p.service("call", "call", retry=RetryPolicy(max_attempts=2)))
    call.on_timer(duration="PT1H", id="call_timeout").then(p.end("timed_out"))
    call.on_error("NOPE", id="call_error").then(p.end("errored"))
    call.then(p.end("call_end"))
    fork.then(p.user("task")).then(p.end("task_end"))
    fork.then(p.catch_message("message", "ping", correlation_key="key")).then(p.end("msg_end"))
    sub = fork.then(p.subprocess("sub"))
    sub.start("sub_start").then(sub.service("inner", "inner")).then(sub.end("sub_end"))
    sub.then(p.end("sub_done"))
    return p.build()


def commands_for(h: EngineHarness) -> list[Command]:
    call, task, timer = h.job("call"), h.task("task"), h.timer("call_timeout")
    message, inner = h.subscription("message"), h.job("inner")
    return [
        CompleteJob(wait=call.wait, variables={"deep": {"list": [1, 2]}}),
        FailJob(wait=call.wait, attempt=1, error_type="E", message="m"),
        FailJob(wait=call.wait, attempt=2, error_type="E", message="m"),
        ThrowError(wait=call.wait, code="NOPE", variables={"x": 1}),
        ThrowError(wait=call.wait, code="UNCAUGHT"),
        FireTimer(wait=timer.wait),
        CompleteUserTask(wait=task.wait, variables={"approved": True}),
        CorrelateMessage(wait=message.wait, message="ping", variables={"k": [1]}),
        CompleteJob(wait=inner.wait, variables={"inner": 1}),
        CancelInstance(),
    ]


def test_apply_never_changes_the_state_it_is_given() -> None:
    definition = busy()
    variables = {"key": "k-1", "nested": {"items": [1, 2, 3]}}
    given = copy.deepcopy(variables)
    result = start(definition, instance_id="i", variables=given, now=DEFAULT_START)
    assert given == variables
    h = EngineHarness(definition, variables=variables)
    for command in commands_for(h):
        state = result.state
        snapshot = copy.deepcopy(state)
        step = apply(definition, state, command, DEFAULT_START + timedelta(hours=1))
        assert state == snapshot, command
        assert step.state is not state


Stale = Callable[[EngineHarness], Command]


def _complete_twice(h: EngineHarness) -> Command:
    wait = h.job("call").wait
    h.complete_job("call")
    return CompleteJob(wait=wait)


def _cancelled_by_boundary_timer(h: EngineHarness) -> Command:
    wait = h.job("call").wait
    h.fire_timer("call_timeout")
    return CompleteJob(wait=wait, variables={"late": True})


def _failed_after_boundary_timer(h: EngineHarness) -> Command:
    wait = h.job("call").wait
    h.fire_timer("call_timeout")
    return FailJob(wait=wait, attempt=1, error_type="E", message="m")


def _error_after_completion(h: EngineHarness) -> Command:
    wait = h.job("call").wait
    h.complete_job("call")
    return ThrowError(wait=wait, code="NOPE")


def _timer_fired_twice(h: EngineHarness) -> Command:
    wait = h.timer("call_timeout").wait
    h.fire_timer("call_timeout")
    return FireTimer(wait=wait)


def _timer_of_a_completed_activity(h: EngineHarness) -> Command:
    wait = h.timer("call_timeout").wait
    h.complete_job("call")
    return FireTimer(wait=wait)


def _message_delivered_twice(h: EngineHarness) -> Command:
    wait = h.subscription("message").wait
    h.correlate("message")
    return CorrelateMessage(wait=wait, message="ping")


def _task_completed_twice(h: EngineHarness) -> Command:
    wait = h.task("task").wait
    h.complete_task("task")
    return CompleteUserTask(wait=wait)


def _inner_job_after_cancel_of_its_scope(h: EngineHarness) -> Command:
    wait = h.job("inner").wait
    h.send(ThrowError(wait=h.job("call").wait, code="NOPE"))
    h.complete_job("inner")
    return CompleteJob(wait=wait)


def _retry_of_a_resolved_incident(h: EngineHarness) -> Command:
    h.fail_job("call", "E")
    h.fail_job("call", "E")
    wait = h.incident("call").wait
    h.retry_incident("call")
    return RetryIncident(wait=wait)


def _wrong_kind(h: EngineHarness) -> Command:
    return CompleteJob(wait=h.timer("call_timeout").wait)


def _unknown_wait(h: EngineHarness) -> Command:
    return CompleteJob(wait=9999)


@pytest.mark.parametrize(
    "make_stale",
    [
        _complete_twice,
        _cancelled_by_boundary_timer,
        _failed_after_boundary_timer,
        _error_after_completion,
        _timer_fired_twice,
        _timer_of_a_completed_activity,
        _message_delivered_twice,
        _task_completed_twice,
        _inner_job_after_cancel_of_its_scope,
        _retry_of_a_resolved_incident,
        _wrong_kind,
        _unknown_wait,
    ],
)
def test_stale_commands_raise_and_change_nothing(start: Start, make_stale: Stale) -> None:
    h = start(busy(), variables={"key": "k-1"})
    command = make_stale(h)
    # A job whose incident was retried is open again: retrying it twice is a conflict of
    # its own, reported as such.
    error = IncidentNotOpen if make_stale is _retry_of_a_resolved_incident else StaleCommand
    snapshot = copy.deepcopy(h.state)
    with pytest.raises(error):
        apply(h.definition, h.state, command, h.now)
    assert h.state == snapshot
    with pytest.raises(error):
        h.send(command)
    assert h.state == snapshot
