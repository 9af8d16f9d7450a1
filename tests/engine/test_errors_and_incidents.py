"""BPMN errors (business failures) and technical failures: retries, incidents, retry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from legato.engine import CompleteJob, RetryIncident, ThrowError
from legato.engine import effects as fx
from legato.errors import EvaluationError, IncidentNotOpen, StaleCommand, VariablesInvalid
from legato.formats.builder import Process, RetryPolicy
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def credit_check(*, catch_all_first: bool = False, catch_all: bool = True) -> ProcessDefinition:
    p = Process("credit")
    check = p.start("start").then(p.service("check", "credit.check"))
    if catch_all and catch_all_first:
        check.on_error(id="any_error").then(p.end("failed"))
    check.on_error("CREDIT_DENIED", id="denied").then(p.service("notify", "notify")).then(p.end("rejected"))
    if catch_all and not catch_all_first:
        check.on_error(id="any_error").then(p.end("failed"))
    check.then(p.end("approved"))
    return p.build()


@pytest.mark.parametrize("catch_all_first", [False, True])
def test_bpmn_error_is_caught_by_the_boundary_with_its_code(start: Start, catch_all_first: bool) -> None:
    """A boundary with the thrown code wins over a catch-all on the same activity."""
    h = start(credit_check(catch_all_first=catch_all_first))
    job = h.job("check")
    h.throw_error("check", "CREDIT_DENIED", "score too low", {"score": 12})
    assert fx.CancelJob(wait=job.wait) in h.effects
    assert h.waiting_at() == ["notify"]
    assert h.variables == {"score": 12}
    [thrown] = h.history("error_thrown")
    assert thrown.data == {
        "code": "CREDIT_DENIED",
        "message": "score too low",
        "variables": {"score": 12},
    }
    [triggered] = h.history("boundary_triggered")
    assert triggered.element == "denied"
    assert triggered.data == {"code": "CREDIT_DENIED", "message": "score too low"}


def test_bpmn_error_with_another_code_is_caught_by_the_catch_all(start: Start) -> None:
    h = start(credit_check())
    h.throw_error("check", "SERVICE_CLOSED")
    assert h.status == "completed"
    assert [r.element for r in h.history("element_passed")][-1] == "failed"


def test_uncaught_bpmn_error_holds_the_job_in_an_incident(start: Start) -> None:
    h = start(credit_check(catch_all=False))
    job = h.job("check")
    h.throw_error("check", "SERVICE_CLOSED")
    incident = h.incident("check")
    assert incident.wait == job.wait
    assert incident.error_type == "UnhandledBpmnError"
    assert "SERVICE_CLOSED" in incident.message
    assert h.job("check").held
    assert any(isinstance(e, fx.HoldJob) for e in h.effects)
    # While held, the job's handler cannot report on it.
    for command in (CompleteJob(wait=job.wait), ThrowError(wait=job.wait, code="CREDIT_DENIED")):
        with pytest.raises(StaleCommand):
            h.send(command)
    h.retry_incident("check")
    assert fx.RetryJob(wait=job.wait, due=h.now, attempts=0, payload={}) in h.effects
    assert not h.job("check").held
    h.complete_job("check")
    assert h.status == "completed"


def test_error_from_a_task_is_caught_on_the_enclosing_subprocess(start: Start) -> None:
    p = Process("caught_outside")
    sub = p.start("start").then(p.subprocess("booking"))
    fork = sub.start("booking_start").then(sub.parallel("fork"))
    fork.then(sub.service("flight", "flight")).then(sub.end("flight_end"))
    fork.then(sub.service("hotel", "hotel")).then(sub.end("hotel_end"))
    sub.on_error("SOLD_OUT", id="sold_out").then(p.service("refund", "refund")).then(p.end("refunded"))
    sub.then(p.end("booked"))
    h = start(p.build())
    hotel = h.job("hotel")
    h.throw_error("flight", "SOLD_OUT")
    assert fx.CancelJob(wait=hotel.wait) in h.effects
    assert h.waiting_at() == ["refund"]
    assert h.state.scopes == {}


def error_end_in_subprocess(boundary_code: str | None) -> ProcessDefinition:
    p = Process("error_end")
    sub = p.start("start").then(p.subprocess("payment"))
    pay = sub.start("payment_start").then(sub.service("charge", "charge"))
    ok = pay.then(sub.exclusive("paid"))
    ok.then(sub.end("payment_done"), when="paid")
    ok.otherwise(sub.end("payment_failed", error="PAYMENT_FAILED"))
    sub.on_error(boundary_code, id="on_failure").then(p.service("dunning", "dunning")).then(p.end("dunned"))
    sub.then(p.service("ship", "ship")).then(p.end("shipped"))
    return p.build()


@pytest.mark.parametrize("boundary_code", ["PAYMENT_FAILED", None])
def test_error_end_event_in_a_subprocess_is_caught_by_its_boundary(start: Start, boundary_code: str | None) -> None:
    h = start(error_end_in_subprocess(boundary_code))
    h.complete_job("charge", {"paid": False})
    assert h.waiting_at() == ["dunning"]
    assert h.state.scopes == {}
    assert ("error_thrown", "payment_failed") in h.trail()
    assert ("boundary_triggered", "on_failure") in h.trail()
    h.complete_job("dunning")
    assert h.status == "completed"


def test_error_end_event_not_thrown_when_the_subprocess_succeeds(start: Start) -> None:
    h = start(error_end_in_subprocess("PAYMENT_FAILED"))
    h.complete_job("charge", {"paid": True})
    assert h.waiting_at() == ["ship"]


def test_uncaught_error_end_event_raises_an_incident_at_the_end_event(start: Start) -> None:
    h = start(error_end_in_subprocess("OTHER_CODE"))
    h.complete_job("charge", {"paid": False})
    incident = h.incident("payment_failed")
    assert incident.error_type == "UnhandledBpmnError"
    assert h.status == "active"


def retrying(policy: RetryPolicy) -> ProcessDefinition:
    p = Process("retrying")
    p.start("start").then(p.service("call", "flaky.call", retry=policy)).then(p.end("end"))
    return p.build()


def test_failures_below_max_attempts_retry_with_growing_capped_backoff(start: Start) -> None:
    policy = RetryPolicy(max_attempts=6, initial_backoff=1.0, multiplier=3.0, max_backoff=20.0, jitter=0.0)
    h = start(retrying(policy))
    delays = []
    for attempt in range(1, 6):
        h.fail_job("call", "TimeoutError", f"attempt {attempt} timed out")
        [retry] = [e for e in h.effects if isinstance(e, fx.RetryJob)]
        assert retry.attempts == attempt
        assert retry.error == f"attempt {attempt} timed out"
        delays.append((retry.due - h.now).total_seconds())
        assert h.incidents == []
    assert delays == [1.0, 3.0, 9.0, 20.0, 20.0]
    assert [r.data["attempt"] for r in h.history("job_failed") if r.data] == [1, 2, 3, 4, 5]
    h.fail_job("call", "TimeoutError", "attempt 6 timed out")
    incident = h.incident("call")
    assert (incident.error_type, incident.message) == ("TimeoutError", "attempt 6 timed out")
    assert fx.HoldJob(wait=incident.wait, error="attempt 6 timed out") in h.effects


@pytest.mark.parametrize("sample", [0.0, 0.25, 0.5, 0.75, 0.999999])
def test_retry_jitter_stays_within_its_bounds(start: Start, sample: float) -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff=10.0, multiplier=2.0, jitter=0.2)
    h = start(retrying(policy))
    for attempt, base in ((1, 10.0), (2, 20.0), (3, 40.0)):
        h.fail_job("call", jitter=sample)
        [retry] = [e for e in h.effects if isinstance(e, fx.RetryJob)]
        delay = (retry.due - h.now).total_seconds()
        assert base * 0.8 <= delay <= base * 1.2, (attempt, delay)
        assert delay == pytest.approx(base * (1 + 0.2 * (2 * sample - 1)))


def test_non_retryable_error_type_goes_straight_to_an_incident(start: Start) -> None:
    policy = RetryPolicy(max_attempts=10, non_retryable=("ValueError",))
    h = start(retrying(policy))
    h.fail_job("call", "ValueError", "bad input", details="Traceback ...")
    assert not any(isinstance(e, fx.RetryJob) for e in h.effects)
    created = [e for e in h.effects if isinstance(e, fx.CreateIncident)]
    assert [(e.error_type, e.details) for e in created] == [("ValueError", "Traceback ...")]
    assert h.job("call").held


def test_retrying_an_incident_reschedules_the_job_with_attempts_reset(start: Start) -> None:
    h = start(retrying(RetryPolicy(max_attempts=2, initial_backoff=5.0, jitter=0.0)))
    h.fail_job("call")
    h.fail_job("call")
    assert h.job("call").held
    h.advance(timedelta(hours=3))  # someone fixes the partner system
    h.retry_incident("call", actor="ops")
    [retry] = [e for e in h.effects if isinstance(e, fx.RetryJob)]
    assert (retry.due, retry.attempts) == (h.now, 0)
    assert fx.ResolveIncident(wait=retry.wait, actor="ops") in h.effects
    assert h.history()[-1].type == "incident_resolved"
    assert h.history()[-1].actor == "ops"
    h.fail_job("call")  # counts from one again: a retry, not an incident
    assert h.incidents == []
    assert [e.attempts for e in h.effects if isinstance(e, fx.RetryJob)] == [1]
    h.complete_job("call")
    assert h.status == "completed"


def test_retrying_a_job_without_an_incident_is_refused(start: Start) -> None:
    h = start(retrying(RetryPolicy()))
    with pytest.raises(IncidentNotOpen):
        h.send(RetryIncident(wait=h.job("call").wait))


def test_a_boundary_timer_still_interrupts_a_job_held_by_an_incident(start: Start) -> None:
    p = Process("held_then_timed_out")
    call = p.start("start").then(p.service("call", "call", retry=RetryPolicy(max_attempts=1)))
    call.on_timer(duration="PT1H", id="give_up").then(p.end("gave_up"))
    call.then(p.end("end"))
    h = start(p.build())
    h.fail_job("call")
    incident = h.incident("call")
    h.advance(timedelta(hours=1))
    assert fx.ResolveIncident(wait=incident.wait) in h.effects
    assert h.incidents == []
    assert h.status == "completed"


def test_an_output_mapping_that_fails_holds_the_job_until_it_is_run_again(start: Start) -> None:
    """The result cannot be written and is not kept: the job is held, and a retry reruns it."""
    p = Process("bad_outputs")
    call = p.start("start").then(p.service("call", "call", outputs={"id": "result.id"}))
    call.on_timer(duration="PT1H", id="call_timeout").then(p.end("timed_out"))
    call.then(p.end("end"))
    h = start(p.build())
    h.complete_job("call", {"other": 1})
    incident = h.incident("call")
    assert incident.error_type == "ExpressionError"
    assert "result" in incident.message
    assert h.job("call").held
    assert h.variables == {}
    assert h.timer("call_timeout")  # the activity is still running
    h.retry_incident("call")
    h.complete_job("call", {"result": {"id": 7}})
    assert h.variables == {"id": 7}
    assert h.status == "completed"


def test_a_user_task_result_whose_outputs_fail_is_refused(start: Start) -> None:
    p = Process("bad_task_outputs")
    p.start("start").then(p.user("review", outputs={"ok": "decision == 'yes'"})).then(p.end("end"))
    h = start(p.build())
    before = h.state.to_dict()
    with pytest.raises(EvaluationError, match="decision"):
        h.complete_task("review", {"other": 1})
    assert h.state.to_dict() == before
    h.complete_task("review", {"decision": "yes"})
    assert h.variables == {"ok": True}


def test_subprocess_outputs_that_fail_raise_an_incident_on_the_subprocess(start: Start) -> None:
    p = Process("bad_sub_outputs")
    fork = p.start("start").then(p.parallel("fork"))
    sub = fork.then(p.subprocess("sub", outputs={"total": "price * quantity"}))
    sub.start("sub_start").then(sub.service("price", "price")).then(sub.end("sub_end"))
    sub.then(p.end("sub_done"))
    fork.then(p.service("count", "count")).then(p.end("count_done"))
    h = start(p.build())
    h.complete_job("price", {"price": 3})
    incident = h.incident("sub")
    assert "quantity" in incident.message
    # the subprocess's scope stays, without tokens, so that a retry maps from its locals
    (kept,) = h.state.scopes.values()
    assert kept.element == "sub" and not [t for t in h.state.tokens.values() if t.scope == kept.id]
    h.retry_incident("sub")  # nothing changed: fails again
    assert h.incident("sub").wait != incident.wait
    h.complete_job("count", {"quantity": 4})
    h.retry_incident("sub")
    assert h.incidents == []
    assert h.variables["total"] == 12
    assert h.status == "completed"


def nested_catchers() -> ProcessDefinition:
    p = Process("nested_catchers")
    outer = p.start("start").then(p.subprocess("outer"))
    inner = outer.start("outer_start").then(outer.subprocess("inner"))
    inner.start("inner_start").then(inner.service("deep", "deep")).then(inner.end("inner_end"))
    inner.on_error("INNER_ONLY", id="inner_caught").then(outer.end("inner_handled"))
    inner.then(outer.end("outer_end"))
    outer.on_error("BOOM", id="outer_caught").then(p.service("cleanup", "cleanup")).then(p.end("cleaned"))
    outer.then(p.end("end"))
    return p.build()


def test_bpmn_error_travels_out_through_subprocesses_to_the_first_catcher(start: Start) -> None:
    h = start(nested_catchers())
    h.throw_error("deep", "BOOM")
    assert h.waiting_at() == ["cleanup"]
    assert h.state.scopes == {}
    assert {r.element for r in h.history("element_terminated")} == {"deep", "inner", "outer"}


def test_the_innermost_catcher_wins(start: Start) -> None:
    h = start(nested_catchers())
    h.throw_error("deep", "INNER_ONLY")
    assert h.status == "completed"
    assert [r.element for r in h.history("element_passed")][-2:] == ["inner_handled", "end"]


def lookup(inputs: dict[str, str] | None = None) -> ProcessDefinition:
    p = Process("lookup")
    p.start("start").then(
        p.service("call", "crm.lookup", retry=RetryPolicy(max_attempts=1), inputs=inputs or {"customer": "customer_id"})
    ).then(p.end("done"))
    return p.build()


def test_retry_with_variables_sets_them_and_reads_the_jobs_inputs_again(start: Start) -> None:
    """The operator's fix and the retry are one step; the job runs with the repaired data."""
    h = start(lookup(), variables={"customer_id": "C-0"})
    assert h.job("call").payload == {"customer": "C-0"}
    h.fail_job("call", message="no such customer C-0")
    h.retry_incident("call", {"customer_id": "C-17"}, actor="ops")
    assert h.variables == {"customer_id": "C-17"}
    [retry] = [e for e in h.effects if isinstance(e, fx.RetryJob)]
    assert retry.payload == {"customer": "C-17"}
    assert h.job("call").payload == {"customer": "C-17"}
    changed, resolved = h.history()[-2:]
    assert (changed.type, changed.actor, changed.data) == (
        "variables_changed",
        "ops",
        {"variables": {"customer_id": "C-17"}, "reason": "incident retry"},
    )
    assert resolved.type == "incident_resolved"
    h.complete_job("call")
    assert h.status == "completed"


def test_set_variables_then_retry_also_runs_with_the_repaired_data(start: Start) -> None:
    h = start(lookup(), variables={"customer_id": "C-0", "debug": True})
    h.fail_job("call")
    h.set_variables({"customer_id": "C-18"}, remove=("debug",), actor="ops")
    assert h.variables == {"customer_id": "C-18"}
    [changed] = h.history("variables_changed")
    assert (changed.actor, changed.data) == ("ops", {"variables": {"customer_id": "C-18"}, "removed": ["debug"]})
    assert h.job("call").held  # setting variables alone does not retry
    h.retry_incident("call")
    assert h.job("call").payload == {"customer": "C-18"}


def test_a_retry_whose_inputs_still_fail_opens_a_new_incident(start: Start) -> None:
    h = start(lookup({"customer": "customer.id"}), variables={"customer": {"id": "C-1"}})
    h.fail_job("call")
    h.retry_incident("call", {"customer": "not an object"})
    assert h.job("call").held
    [incident] = h.incidents
    assert incident.error_type == "InputMappingFailed"


def test_set_variables_refuses_a_name_both_set_and_removed(start: Start) -> None:
    h = start(lookup(), variables={"customer_id": "C-0"})
    with pytest.raises(VariablesInvalid):
        h.set_variables({"customer_id": "C-1"}, remove=("customer_id",))
    assert h.variables == {"customer_id": "C-0"}
