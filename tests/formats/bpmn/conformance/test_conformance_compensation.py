"""A compensation saga and a transaction from Camunda 7 files, run on the pure engine.

Written from BPMN 2.0.2, 10.5.5 (Compensation Event) and 13.5.5: an activity's undo is
the handler its compensation boundary event is associated with (`isForCompensation`);
a compensation throw without `activityRef` undoes every completed activity of its scope,
newest first, one with `activityRef` only that activity; an activity that never
completed is not undone; the throw waits until the undo is done (`waitForCompletion`).
"""

from __future__ import annotations

from conformance_helpers import Start, definition, imported, path

from legato.model.elements import (
    BoundaryEvent,
    CancelDefinition,
    CompensationDefinition,
    EndEvent,
    IntermediateThrowEvent,
    ServiceTask,
    SubProcess,
)


def compensations(run: object) -> list[tuple[str, str | None]]:
    return [(kind, element) for kind, element in run.trail() if kind.startswith("compensation")]  # type: ignore[attr-defined]


def test_boundary_events_and_associations_become_compensated_by() -> None:
    elements = definition("compensation").elements
    flight, hotel, charge = elements["Activity_flight"], elements["Activity_hotel"], elements["Activity_charge"]
    assert isinstance(flight, ServiceTask) and flight.compensated_by == "Activity_cancel_flight"
    assert isinstance(hotel, ServiceTask) and hotel.compensated_by == "Activity_cancel_hotel"
    assert isinstance(charge, ServiceTask) and charge.compensated_by is None
    handler = elements["Activity_cancel_flight"]
    assert isinstance(handler, ServiceTask) and handler.for_compensation and handler.task_type == "flight.cancel"
    assert elements["Event_undo_all"] == IntermediateThrowEvent(
        id="Event_undo_all", name="Undo bookings", event=CompensationDefinition()
    )
    assert elements["Event_undo_hotel"] == IntermediateThrowEvent(
        id="Event_undo_hotel", name="Undo hotel", event=CompensationDefinition(activity="Activity_hotel")
    )
    # what BPMN draws for the connection is not an element of the model
    assert "Event_flight_undo" not in elements
    drawn = definition("compensation").diagram
    assert drawn is not None and "Event_flight_undo" not in {shape.element for shape in drawn.shapes}
    assert not any("association" in warning for warning in imported("compensation").warnings)


def test_a_declined_card_undoes_the_bookings_newest_first(start: Start) -> None:
    run = start(definition("compensation"), variables={"traveller": "Ada"})
    run.complete_job("Activity_flight", {"flight": "LH 123"})
    run.complete_job("Activity_hotel", {"hotel": "H-9"})
    run.throw_error("Activity_charge", "CARD_DECLINED")
    assert run.waiting_at() == ["Activity_cancel_hotel"]  # one undo at a time
    assert run.job("Activity_cancel_hotel").payload == {"traveller": "Ada", "flight": "LH 123", "hotel": "H-9"}
    run.complete_job("Activity_cancel_hotel")
    assert run.waiting_at() == ["Activity_cancel_flight"]
    run.complete_job("Activity_cancel_flight")
    assert run.waiting_at() == ["Activity_notify"]  # the throw waited for both
    run.complete_job("Activity_notify")
    assert run.status == "completed"
    assert compensations(run) == [
        ("compensation_thrown", "Event_undo_all"),
        ("compensation_started", "Activity_cancel_hotel"),
        ("compensation_started", "Activity_cancel_flight"),
        ("compensation_completed", "Event_undo_all"),
    ]
    assert path(run)[-5:] == [
        "Activity_cancel_hotel",
        "Activity_cancel_flight",
        "Event_undo_all",
        "Activity_notify",
        "Event_cancelled",
    ]


def test_only_the_hotel_is_undone_when_the_throw_names_it(start: Start) -> None:
    run = start(definition("compensation"))
    run.complete_job("Activity_flight")
    run.complete_job("Activity_hotel")
    run.complete_job("Activity_charge")
    run.complete_task("Activity_confirm", {"hotelAccepted": False})
    assert run.waiting_at() == ["Activity_cancel_hotel"]
    run.complete_job("Activity_cancel_hotel")
    assert run.status == "completed" and path(run)[-1] == "Event_flight_only"
    assert ("compensation_started", "Activity_cancel_flight") not in run.trail()


def test_a_trip_that_goes_through_undoes_nothing(start: Start) -> None:
    run = start(definition("compensation"))
    run.complete_job("Activity_flight")
    run.complete_job("Activity_hotel")
    run.complete_job("Activity_charge")
    run.complete_task("Activity_confirm", {"hotelAccepted": True})
    assert run.status == "completed" and compensations(run) == []
    assert path(run)[-1] == "Event_booked"


# --- a transaction: room booking (Camunda 7) ---------------------------------------------
# BPMN 2.0.2, 10.3.5 (Transaction) and 13.5.5: a cancel end event ends the transaction's
# other paths, compensates what completed inside it, newest first, then leaves through the
# cancel boundary event.


def test_a_transaction_with_its_cancel_events_is_read() -> None:
    elements = definition("transaction").elements
    booking = elements["Activity_booking"]
    assert isinstance(booking, SubProcess) and booking.transaction and not booking.triggered_by_event
    assert elements["Event_cancel"] == EndEvent(
        id="Event_cancel", name="Guest withdrew", parent="Activity_booking", event=CancelDefinition()
    )
    cancelled = elements["Event_cancelled"]
    assert isinstance(cancelled, BoundaryEvent) and cancelled.event == CancelDefinition()
    reserve = elements["Activity_reserve"]
    assert isinstance(reserve, ServiceTask) and reserve.compensated_by == "Activity_release"


def test_a_confirmed_booking_completes_like_a_subprocess(start: Start) -> None:
    run = start(definition("transaction"))
    run.complete_job("Activity_reserve")
    run.complete_job("Activity_deposit", {"confirmed": True})
    assert run.status == "completed" and compensations(run) == []
    assert path(run)[-2:] == ["Activity_booking", "Event_booked"]


def test_a_cancel_end_event_undoes_the_transaction_and_leaves_by_the_cancel_boundary(start: Start) -> None:
    run = start(definition("transaction"))
    run.complete_job("Activity_reserve", {"room": "214"})
    run.complete_job("Activity_deposit", {"confirmed": False, "deposit": 50})
    assert run.waiting_at() == ["Activity_refund"]  # newest first
    run.complete_job("Activity_refund")
    assert run.job("Activity_release").payload == {"room": "214", "confirmed": False, "deposit": 50}
    run.complete_job("Activity_release")
    assert run.waiting_at() == ["Activity_tell_guest"]
    assert ("boundary_triggered", "Event_cancelled") in run.trail()
    run.complete_job("Activity_tell_guest")
    assert run.status == "completed" and path(run)[-1] == "Event_not_booked"
    assert "Event_booked" not in path(run)
