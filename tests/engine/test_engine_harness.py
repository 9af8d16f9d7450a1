"""The harness itself: finding waits, moving time, reloading, and catching a broken engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from legato.engine import StepResult
from legato.engine import effects as fx
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness, HarnessError, engine_harness

Start = Callable[..., EngineHarness]


def timers() -> ProcessDefinition:
    p = Process("timers")
    fork = p.start("start").then(p.parallel("fork"))
    fork.then(p.catch_timer("late", duration="PT3H")).then(p.end("late_end"))
    fork.then(p.catch_timer("early", duration="PT1H")).then(p.end("early_end"))
    fork.then(p.service("job", "job")).then(p.end("job_end"))
    return p.build()


def test_asking_for_a_wait_that_is_not_there_says_where_the_instance_waits(start: Start) -> None:
    h = start(timers())
    with pytest.raises(HarnessError, match=r"nothing waits at 'nowhere'.*\['early', 'job', 'late'\]"):
        h.complete_job("nowhere")
    with pytest.raises(HarnessError, match="as a job"):
        h.complete_job("early")  # a timer, not a job


def test_advance_fires_timers_in_due_order_and_moves_the_clock(start: Start) -> None:
    h = start(timers())
    began = h.now
    assert h.advance(timedelta(minutes=30)) == []
    assert h.now == began + timedelta(minutes=30)
    assert h.advance(timedelta(hours=5)) == ["early", "late"]
    assert [r.at - began for r in h.history("element_completed")] == [
        timedelta(hours=1),
        timedelta(hours=3),
    ]
    assert h.now == began + timedelta(hours=5, minutes=30)


def test_reload_mode_stores_and_loads_after_every_step(start: Start, reload: bool) -> None:
    h = start(timers())
    before = h.state
    h.complete_job("job", {"pair": (1, 2)})
    assert h.state is not before
    # Through JSON, as a store keeps them, a tuple comes back as a list.
    assert h.state.variables["pair"] == ([1, 2] if reload else (1, 2))


def test_the_harness_notices_an_engine_that_changes_its_input(start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    h = start(timers())
    real_apply = engine_harness.apply

    def mutating_apply(definition: ProcessDefinition, state: Any, command: Any, now: Any) -> StepResult:
        state.variables["oops"] = True
        return real_apply(definition, state, command, now)

    monkeypatch.setattr(engine_harness, "apply", mutating_apply)
    with pytest.raises(HarnessError, match="changed the state it was given"):
        h.complete_job("job")


def test_the_harness_notices_a_wait_closed_without_its_effect(start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    h = start(timers())
    real_apply = engine_harness.apply

    def forgetful_apply(definition: ProcessDefinition, state: Any, command: Any, now: Any) -> StepResult:
        result = real_apply(definition, state, command, now)
        kept = [e for e in result.effects if not isinstance(e, fx.CancelJob)]
        return StepResult(result.state, kept)

    monkeypatch.setattr(engine_harness, "apply", forgetful_apply)
    with pytest.raises(HarnessError, match=r"left .* open"):
        h.complete_job("job")


def test_resume_rebuilds_the_open_waits_from_a_stored_state(reload: bool) -> None:
    original = EngineHarness(timers())
    resumed = EngineHarness.resume(timers(), original.state.copy(), reload=reload)
    assert resumed.waiting_at() == original.waiting_at()
    resumed.fire_timer("early")
    resumed.fire_timer("late")
    resumed.complete_job("job")
    assert resumed.status == "completed"
