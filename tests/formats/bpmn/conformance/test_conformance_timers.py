"""Timers as Camunda writes them: cron cycles (Quartz's syntax, seconds first) and timers
given as expressions, evaluated when the timer is armed.

Camunda 7 reads a `timeCycle` that is not ISO 8601 as a Quartz cron expression
(`0 0 9 ? * MON-FRI`), Camunda 8 as a Spring one (`0 0 6 * * 1-5`, whose day numbers count
from Monday); both let a timer be an expression (`${approvalDeadline}` holding "P5D").
A value that is no timer at run time is an incident on the element that arms it, naming
the timer, and a retry with the variable fixed arms it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conformance_helpers import FILES, Start, definition, path
from sqlalchemy import text

from legato import Legato, Store
from legato.errors import ModelInvalid
from legato.formats.bpmn import load_bpmn
from legato.model.elements import BoundaryEvent, StartEvent, TimerDefinition
from legato.runtime.clock import FakeClock
from legato.store.codec import from_epoch
from support import eventually

MONDAY = datetime(2030, 1, 7, 8, 30, tzinfo=UTC)  # the harness's clock starts Tuesday 2030-01-01 09:00 UTC


def test_the_cycles_are_kept_with_day_numbers_as_names() -> None:
    reminder = definition("timers_camunda7").elements["Event_remind"]
    assert isinstance(reminder, BoundaryEvent)
    assert reminder.event == TimerDefinition(kind="cycle", value="0 0 9 ? * MON-FRI")
    daily = definition("timer_start_cron_camunda8").elements["StartEvent_workday"]
    assert isinstance(daily, StartEvent)
    # Spring's 1-5 is Monday to Friday; written as names, it means the same to Quartz
    assert daily.event == TimerDefinition(kind="cycle", value="0 0 6 * * MON-FRI")


def test_reminders_fire_each_weekday_at_nine_until_the_invoice_is_approved(start: Start) -> None:
    variables = {"approvalDeadline": "P10D", "paymentDate": "2030-01-20T08:00:00Z"}
    run = start(definition("timers_camunda7"), variables=variables)
    assert run.timer("Event_remind").due == datetime(2030, 1, 2, 9, tzinfo=UTC)  # Tuesday 09:00 was now
    assert run.timer("Event_deadline").due == datetime(2030, 1, 11, 9, tzinfo=UTC)  # ${approvalDeadline}
    reminded = run.advance(timedelta(days=1))
    assert reminded == ["Event_remind"]
    run.complete_job("Activity_remind")
    assert run.timer("Event_remind").due == datetime(2030, 1, 3, 9, tzinfo=UTC)
    run.advance(timedelta(days=2))  # Thursday and Friday
    assert run.timer("Event_remind").due == datetime(2030, 1, 7, 9, tzinfo=UTC)  # not on the weekend
    run.complete_task("Activity_approve")
    assert sorted(run.waiting_at()) == ["Activity_remind", "Activity_remind", "Event_payment_date"]
    assert run.timer("Event_payment_date").due == datetime(2030, 1, 20, 8, tzinfo=UTC)  # ${paymentDate}


def test_the_deadline_from_a_variable_escalates(start: Start) -> None:
    run = start(definition("timers_camunda7"), variables={"approvalDeadline": "PT4H", "paymentDate": "2030-02-01"})
    run.advance(timedelta(hours=4))
    assert run.status == "completed"
    assert path(run) == ["StartEvent_received", "Event_escalated"]  # the user task was interrupted
    assert [record.element for record in run.history("boundary_triggered")] == ["Event_deadline"]


def test_a_deadline_that_is_no_duration_is_an_incident_naming_the_timer(start: Start) -> None:
    run = start(definition("timers_camunda7"), variables={"approvalDeadline": "five days"})
    incident = run.incident("Activity_approve")
    assert incident.message.startswith(
        "timer 'Event_deadline' (duration '${approvalDeadline}') gave 'five days': "
        "'five days' is not an ISO 8601 duration"
    )
    run.retry_incident("Activity_approve", {"approvalDeadline": "P5D"})
    assert run.timer("Event_deadline").due == datetime(2030, 1, 6, 9, tzinfo=UTC)


def test_a_payment_date_that_is_not_set_is_an_incident_at_the_timer(start: Start) -> None:
    run = start(definition("timers_camunda7"), variables={"approvalDeadline": "P10D"})
    run.complete_task("Activity_approve")
    incident = run.incident("Event_payment_date")
    assert incident.message.startswith("timer 'Event_payment_date' (date '${paymentDate}')")
    assert "paymentDate" in incident.message


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("timer_start_cron_camunda7", datetime(2030, 1, 7, 8, 45, tzinfo=UTC), datetime(2030, 1, 7, 9, tzinfo=UTC)),
        ("timer_start_cron_camunda8", datetime(2030, 1, 7, 6, tzinfo=UTC) + timedelta(days=1), None),
    ],
)
def test_a_cron_start_event_is_armed_at_its_next_match(name: str, first: datetime, second: datetime | None) -> None:
    clock = FakeClock(MONDAY)
    app = Legato(Store.memory(), clock=clock)
    try:
        app.deploy(FILES / f"{name}.bpmn")
        assert _start_timers(app) == [first]
        if second is not None:
            with app.running():
                clock.advance((first - MONDAY).total_seconds() + 1)
                started = eventually(lambda: app.instances())
                assert len(started) == 1
                assert eventually(lambda: _start_timers(app) == [second] and [second])
    finally:
        app.close()


def _start_timers(app: Legato) -> list[datetime]:
    with app.store.database.read() as conn:
        rows = conn.execute(text("SELECT due_at FROM jobs WHERE kind = 'start_timer' ORDER BY due_at")).all()
    return [from_epoch(row.due_at) for row in rows]


@pytest.mark.parametrize(
    ("cycle", "message"),
    [
        ("*/5 * * * *", "has 5 fields; a cron cycle has 6 or 7, seconds first"),
        ("0 0 12 1 * MON", "gives both a day of the month and a day of the week; write '?' in one of them"),
        ("0 0 12 LW * ?", "'LW' in the day-of-month field is not supported"),
    ],
)
def test_a_cron_that_cannot_run_is_refused_at_deploy(cycle: str, message: str) -> None:
    source = (FILES / "timer_start_cron_camunda7.bpmn").read_text().replace("0 0/15 * * * ?", cycle)
    with pytest.raises(ModelInvalid) as refused:
        load_bpmn(source)
    assert message in str(refused.value)
    assert "StartEvent_workday" in str(refused.value)
