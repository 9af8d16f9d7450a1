"""Compensation, written from BPMN 2.0.2 10.5.5 (CompensateEventDefinition) and 13.5.5:
a saga books a flight and a hotel; when payment fails, the bookings are undone, newest
first. Each scenario runs straight and with reloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.errors import ModelInvalid
from legato.model.elements import (
    BoundaryEvent,
    CompensationDefinition,
    EndEvent,
    ErrorDefinition,
    IntermediateThrowEvent,
    MultiInstance,
    SequenceFlow,
    ServiceTask,
    StartEvent,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def process(*elements: Any, flows: str) -> ProcessDefinition:
    built = [SequenceFlow(id=f"{a}_{b}", source=a, target=b) for a, b in (pair.split(">") for pair in flows.split())]
    definition = ProcessDefinition(id="trip", elements={e.id: e for e in elements}, flows={f.id: f for f in built})
    validate(definition)
    return definition


def throwing(run: EngineHarness) -> list[str]:
    """Where a compensation throw waits for its handlers (a wait with no row of its own)."""
    return [w.element for w in run.state.waits.values() if w.kind == "compensating"]


def saga(throw: Any = None, **flight: Any) -> ProcessDefinition:
    elements = [
        StartEvent(id="s"),
        ServiceTask(id="book_flight", task_type="flight.book", compensated_by="cancel_flight", **flight),
        ServiceTask(id="cancel_flight", task_type="flight.cancel", for_compensation=True),
        ServiceTask(id="book_hotel", task_type="hotel.book", compensated_by="cancel_hotel"),
        ServiceTask(id="cancel_hotel", task_type="hotel.cancel", for_compensation=True),
        ServiceTask(id="pay", task_type="pay"),
        BoundaryEvent(id="payment_failed", attached_to="pay", event=ErrorDefinition(code="DECLINED")),
        throw or IntermediateThrowEvent(id="undo", event=CompensationDefinition()),
        EndEvent(id="booked"),
        EndEvent(id="cancelled"),
    ]
    return process(
        *elements,
        flows="s>book_flight book_flight>book_hotel book_hotel>pay pay>booked payment_failed>undo undo>cancelled",
    )


def test_a_failed_payment_undoes_the_bookings_newest_first(start: Start) -> None:
    run = start(saga())
    run.complete_job("book_flight", {"flight": "LH123"})
    run.complete_job("book_hotel", {"hotel": "H-9"})
    run.throw_error("pay", "DECLINED")
    assert run.waiting_at() == ["cancel_hotel"] and throwing(run) == ["undo"]  # one at a time, the hotel first
    assert run.job("cancel_hotel").payload == {"flight": "LH123", "hotel": "H-9"}
    run.complete_job("cancel_hotel")
    assert run.waiting_at() == ["cancel_flight"] and throwing(run) == ["undo"]
    run.complete_job("cancel_flight")
    assert run.status == "completed"
    assert [h.type for h in run.history() if h.type.startswith("compensation")] == [
        "compensation_thrown",
        "compensation_started",
        "compensation_started",
        "compensation_completed",
    ]
    assert run.history()[-2].element == "cancelled"


def test_only_what_completed_is_undone(start: Start) -> None:
    definition = saga()
    run = start(definition)
    run.complete_job("book_flight")
    run.complete_job("book_hotel")
    run.complete_job("pay")
    assert run.status == "completed"  # nothing thrown: nothing undone
    assert not any(h.type.startswith("compensation") for h in run.history())


def test_a_compensation_end_event_completes_after_the_undo(start: Start) -> None:
    run = start(saga_end())
    run.complete_job("book_flight")
    run.complete_job("book_hotel")
    run.throw_error("pay", "DECLINED")
    run.complete_job("cancel_hotel")
    run.complete_job("cancel_flight")
    assert run.status == "completed"


def saga_end() -> ProcessDefinition:
    elements = [
        StartEvent(id="s"),
        ServiceTask(id="book_flight", task_type="flight.book", compensated_by="cancel_flight"),
        ServiceTask(id="cancel_flight", task_type="flight.cancel", for_compensation=True),
        ServiceTask(id="book_hotel", task_type="hotel.book", compensated_by="cancel_hotel"),
        ServiceTask(id="cancel_hotel", task_type="hotel.cancel", for_compensation=True),
        ServiceTask(id="pay", task_type="pay"),
        BoundaryEvent(id="payment_failed", attached_to="pay", event=ErrorDefinition(code="DECLINED")),
        EndEvent(id="undo", event=CompensationDefinition()),
        EndEvent(id="booked"),
    ]
    return process(
        *elements, flows="s>book_flight book_flight>book_hotel book_hotel>pay pay>booked payment_failed>undo"
    )


def test_compensating_one_activity_leaves_the_others(start: Start) -> None:
    run = start(saga(throw=IntermediateThrowEvent(id="undo", event=CompensationDefinition(activity="book_flight"))))
    run.complete_job("book_flight")
    run.complete_job("book_hotel")
    run.throw_error("pay", "DECLINED")
    assert run.waiting_at() == ["cancel_flight"] and throwing(run) == ["undo"]
    run.complete_job("cancel_flight")
    assert run.status == "completed"


def test_each_multi_instance_booking_is_undone_with_its_own_item(start: Start) -> None:
    loop = MultiInstance(collection="cities", element_variable="city", sequential=True)
    run = start(saga(multi_instance=loop), variables={"cities": ["Rome", "Oslo"]})
    run.complete_job("book_flight")
    run.complete_job("book_flight")
    run.complete_job("book_hotel")
    run.throw_error("pay", "DECLINED")
    run.complete_job("cancel_hotel")
    assert run.job("cancel_flight").payload is not None and run.job("cancel_flight").payload["city"] == "Oslo"
    run.complete_job("cancel_flight")
    assert run.job("cancel_flight").payload is not None and run.job("cancel_flight").payload["city"] == "Rome"
    run.complete_job("cancel_flight")
    assert run.status == "completed"


def test_cancelling_during_compensation_closes_everything(start: Start) -> None:
    run = start(saga())
    run.complete_job("book_flight")
    run.complete_job("book_hotel")
    run.throw_error("pay", "DECLINED")
    run.cancel()
    assert run.status == "cancelled" and run.waits() == [] and run.state.compensating == {}


def test_a_handler_must_be_marked_and_have_no_flows() -> None:
    with pytest.raises(ModelInvalid, match="not a compensation handler"):
        process(
            StartEvent(id="s"),
            ServiceTask(id="a", task_type="a", compensated_by="b"),
            ServiceTask(id="b", task_type="b"),
            EndEvent(id="e"),
            flows="s>a a>e b>e",
        )
