"""Modifying an instance (Camunda's "modify instance"): cancel at A, start before B, atomically."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from legato.engine import effects as fx
from legato.errors import InstanceNotActive, ModificationInvalid
from legato.formats.builder import Process, RetryPolicy
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def order() -> ProcessDefinition:
    """check -> approve (a user task with a reminder timer) -> charge (one attempt) -> notify -> end."""
    p = Process("order")
    approve = p.start("received").then(p.service("check", "credit.check")).then(p.user("approve"))
    approve.on_timer(duration="P1D", id="remind").then(p.end("expired"))
    approve.then(p.service("charge", "card.charge", retry=RetryPolicy(max_attempts=1))).then(
        p.service("notify", "mail.send")
    ).then(p.end("done"))
    return p.build()


def branches() -> ProcessDefinition:
    p = Process("branches")
    fork = p.start("start").then(p.parallel("fork"))
    fork.then(p.user("legal_review")).then(p.end("legal_done"))
    fork.then(p.user("sales_review")).then(p.end("sales_done"))
    fork.then(p.catch_timer("cool_off", duration="PT1H")).then(p.end("cooled"))
    fork.then(p.catch_message("confirmation", "order.confirmed")).then(p.end("confirmed"))
    return p.build()


def with_subprocess() -> ProcessDefinition:
    p = Process("nested")
    sub = p.start("start").then(p.subprocess("fulfil"))
    sub.start("fulfil_start").then(sub.service("pick", "pick")).then(sub.service("pack", "pack")).then(
        sub.end("fulfil_end")
    )
    sub.then(p.service("invoice", "invoice")).then(p.end("end"))
    return p.build()


def test_cancel_at_a_and_start_before_b_moves_the_token_back(start: Start) -> None:
    h = start(order())
    h.complete_job("check")
    approve = h.task("approve")
    timer = h.timer("remind")
    h.modify(cancel=["approve"], start_before=["check"], reason="credit data was wrong", actor="ann")
    assert h.waiting_at() == ["check"]
    effects = h.effects
    assert fx.CloseUserTask(wait=approve.wait, outcome="cancelled", actor="ann") in effects
    assert fx.CancelJob(wait=timer.wait) in effects  # the boundary timer went with its activity
    assert any(isinstance(e, fx.ScheduleJob) and e.element == "check" for e in effects)
    [modified] = h.history("instance_modified")
    assert modified.actor == "ann"
    assert modified.data == {"cancelled": ["approve"], "started_before": ["check"], "reason": "credit data was wrong"}
    assert ("element_terminated", "approve") in h.trail()
    h.complete_job("check")
    assert h.waiting_at() == ["approve", "remind"]


def test_a_step_that_cannot_succeed_is_skipped_and_its_incident_resolved(start: Start) -> None:
    h = start(order())
    h.complete_job("check")
    h.complete_task("approve")
    h.fail_job("charge", error_type="CardExpired", message="card expired")
    incident = h.incident("charge")
    h.modify(cancel=["charge"], start_before=["notify"])
    assert fx.ResolveIncident(wait=incident.wait, actor=None) in h.effects
    assert h.incidents == [] and h.waiting_at() == ["notify"]
    h.complete_job("notify")
    assert h.status == "completed"


def test_start_before_without_cancelling_adds_a_token(start: Start) -> None:
    h = start(branches())
    h.modify(start_before=["legal_review"])
    assert sorted(w.element for w in h.waits("task")) == ["legal_review", "legal_review", "sales_review"]


def test_cancel_one_waiting_activity_of_several(start: Start) -> None:
    h = start(branches())
    cool_off, confirmation = h.timer("cool_off"), h.subscription("confirmation")
    h.modify(cancel=["legal_review", "cool_off", "confirmation"])
    assert h.waiting_at() == ["sales_review"]
    assert fx.CancelJob(wait=cool_off.wait) in h.effects
    assert fx.Unsubscribe(wait=confirmation.wait) in h.effects
    h.complete_task("sales_review")
    assert h.status == "completed"


def test_start_before_an_element_inside_a_running_subprocess(start: Start) -> None:
    h = start(with_subprocess())
    h.modify(cancel=["pick"], start_before=["pack"])
    assert h.waiting_at() == ["pack"]
    h.complete_job("pack")
    assert h.waiting_at() == ["invoice"]


def test_the_subprocess_itself_can_be_cancelled_with_everything_inside(start: Start) -> None:
    h = start(with_subprocess())
    pick = h.job("pick")
    h.modify(cancel=["fulfil"], start_before=["invoice"])
    assert fx.CancelJob(wait=pick.wait) in h.effects
    assert h.waiting_at() == ["invoice"]


@pytest.mark.parametrize(
    ("cancel", "start_before", "element", "reason"),
    [
        (["nowhere"], [], "nowhere", "has no such element"),
        ([], ["nowhere"], "nowhere", "has no such element"),
        (["notify"], [], "notify", "no token is at this element"),
        (["approve"], ["remind"], "remind", "boundary event"),
        (["approve", "approve"], [], "approve", "named twice"),
        (["approve"], [], None, "no token left"),
        ([], [], None, "name an element"),
    ],
)
def test_invalid_modifications_name_the_element_and_change_nothing(
    start: Start, cancel: list[str], start_before: list[str], element: str | None, reason: str
) -> None:
    h = start(order())
    h.complete_job("check")
    before = h.state.to_dict()
    with pytest.raises(ModificationInvalid) as refused:
        h.modify(cancel=cancel, start_before=start_before)
    assert refused.value.details["element"] == element
    assert reason in refused.value.message
    assert h.state.to_dict() == before  # the harness also checks the engine left its input alone


def test_an_element_of_a_subprocess_that_is_not_running_is_refused(start: Start) -> None:
    h = start(with_subprocess())
    h.complete_job("pick")
    h.complete_job("pack")
    assert h.waiting_at() == ["invoice"]
    with pytest.raises(ModificationInvalid) as refused:
        h.modify(cancel=["invoice"], start_before=["pack"])
    assert refused.value.details["element"] == "pack"
    assert "'fulfil' is not running" in refused.value.message
    h.modify(cancel=["invoice"], start_before=["fulfil"])  # what the refusal advised: the subprocess runs again
    assert h.waiting_at() == ["pick"]


def test_emptying_a_subprocess_without_cancelling_it_is_refused(start: Start) -> None:
    h = start(with_subprocess())
    with pytest.raises(ModificationInvalid) as refused:
        h.modify(cancel=["pick"])
    assert refused.value.details["element"] == "fulfil"


def test_an_ended_instance_cannot_be_modified(start: Start) -> None:
    h = start(branches())
    h.cancel()
    with pytest.raises(InstanceNotActive):
        h.modify(start_before=["legal_review"])
