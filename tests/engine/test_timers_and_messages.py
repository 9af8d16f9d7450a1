"""Intermediate timer and message catch events (BPMN 2.0, 10.5.5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from legato.engine import FireTimer
from legato.engine import effects as fx
from legato.errors import MessageNotCorrelated, StaleCommand
from legato.formats.builder import Process
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def test_intermediate_timer_waits_until_due(start: Start) -> None:
    p = Process("cooling_off")
    p.start("start").then(p.catch_timer("cool_off", duration="PT10M")).then(p.service("proceed", "proceed")).then(
        p.end("end")
    )
    h = start(p.build())
    started = h.now
    timer = h.timer("cool_off")
    assert timer.due == started + timedelta(minutes=10)
    assert fx.ScheduleJob(wait=timer.wait, element="cool_off", due=timer.due) in h.effects
    assert h.advance(timedelta(minutes=9, seconds=59)) == []
    assert h.waiting_at() == ["cool_off"]
    assert h.advance(timedelta(seconds=1)) == ["cool_off"]
    assert h.waiting_at() == ["proceed"]
    [completed] = h.history("element_completed")
    assert (completed.element, completed.at, completed.data) == (
        "cool_off",
        started + timedelta(minutes=10),
        {"trigger": "timer"},
    )
    with pytest.raises(StaleCommand):
        h.send(FireTimer(wait=timer.wait))  # a timer delivered twice


def test_timer_date_and_timer_from_an_expression(start: Start) -> None:
    p = Process("dated")
    p.start("start").then(p.catch_timer("until_date", date="2030-06-01T12:00:00Z")).then(
        p.catch_timer("grace", duration="=grace_period")
    ).then(p.end("end"))
    h = start(p.build(), variables={"grace_period": "PT2H"})
    assert h.timer("until_date").due == datetime(2030, 6, 1, 12, tzinfo=UTC)
    h.fire_timer("until_date")
    assert h.now == datetime(2030, 6, 1, 12, tzinfo=UTC)
    assert h.timer("grace").due == datetime(2030, 6, 1, 14, tzinfo=UTC)
    h.fire_timer("grace")
    assert h.status == "completed"


def test_a_timer_expression_that_gives_no_timer_raises_an_incident(start: Start) -> None:
    p = Process("bad_timer")
    p.start("start").then(p.catch_timer("wait", duration="=grace_period")).then(p.end("end"))
    h = start(p.build(), variables={"grace_period": "soon"})
    assert h.waits() == []
    assert h.incident("wait").error_type == "ExpressionError"


def payment() -> Process:
    p = Process("payment")
    p.start("start").then(p.service("invoice", "invoice")).then(
        p.catch_message("paid", "payment_received", correlation_key="order.id")
    ).then(p.service("ship", "ship")).then(p.end("end"))
    return p


def test_message_catch_event_subscribes_with_its_correlation_key(start: Start) -> None:
    h = start(payment().build(), variables={"order": {"id": 1001}})
    h.complete_job("invoice")
    subscription = h.subscription("paid")
    assert (subscription.message, subscription.correlation_key) == ("payment_received", "1001")
    subscribe = fx.Subscribe(wait=subscription.wait, element="paid", message="payment_received", correlation_key="1001")
    assert subscribe in h.effects
    with pytest.raises(MessageNotCorrelated):
        h.correlate("payment_received", {"amount": 5}, correlation_key="1002")
    with pytest.raises(MessageNotCorrelated):
        h.correlate("payment_received", {"amount": 5})  # no key reaches only keyless waits
    h.correlate("payment_received", {"amount": 99.5}, correlation_key="1001", actor="bank")
    assert fx.Unsubscribe(wait=subscription.wait) in h.effects
    assert h.waiting_at() == ["ship"]
    assert h.variables == {"order": {"id": 1001}, "amount": 99.5}
    [completed] = [r for r in h.history("element_completed") if r.element == "paid"]
    assert completed.actor == "bank"
    assert completed.data == {
        "trigger": "message",
        "message": "payment_received",
        "variables": {"amount": 99.5},
    }


def test_correlation_key_is_evaluated_when_the_subscription_opens(start: Start) -> None:
    h = start(payment().build(), variables={"order": {"id": "A-1"}})
    h.complete_job("invoice", {"order": {"id": "B-2"}})  # changed before the catch event
    assert h.subscription("paid").correlation_key == "B-2"


def test_message_without_correlation_key(start: Start) -> None:
    p = Process("plain_message")
    p.start("start").then(p.catch_message("go", "go_signal")).then(p.end("end"))
    h = start(p.build())
    assert h.subscription("go").correlation_key is None
    h.correlate("go_signal")
    assert h.status == "completed"


def test_a_correlation_key_that_fails_to_evaluate_raises_an_incident(start: Start) -> None:
    h = start(payment().build(), variables={})
    h.complete_job("invoice")
    assert h.waits("message") == []
    assert h.incident("paid").error_type == "ExpressionError"
