"""Compensating an embedded subprocess (BPMN 2.0.2, 10.3.5 and 10.5.5), as Camunda 7 does.

A trip is booked in a subprocess (flight, then hotel, each with its undo); the card is
charged after it; a declined card throws compensation naming the subprocess. With a
compensation event subprocess inside it, that event subprocess undoes the trip: it sees the
subprocess's variables as they were (`bookingRef`), tells the traveller, and its own
compensation throw undoes the hotel, then the flight. Without one, naming the subprocess
undoes the activities inside it, newest first.
"""

from __future__ import annotations

import pytest
from conformance_helpers import FILES, Start, definition, path

from legato.errors import ModelInvalid
from legato.formats.bpmn import load_bpmn
from legato.model.elements import CompensationDefinition, StartEvent, SubProcess
from legato.testing import EngineHarness


def book(run: EngineHarness) -> None:
    run.complete_job("Activity_book_flight", {"flight": "LH 400"})
    run.complete_job("Activity_book_hotel", {"hotel": "Ritz"})


def decline(run: EngineHarness) -> None:
    run.throw_error("Activity_charge", "PAYMENT_DECLINED")


def test_the_compensation_event_subprocess_is_read() -> None:
    elements = definition("compensation_event_subprocess_camunda7").elements
    undo = elements["Activity_undo_trip"]
    start = elements["StartEvent_undo"]
    assert isinstance(undo, SubProcess) and undo.triggered_by_event and undo.parent == "Activity_book_trip"
    assert isinstance(start, StartEvent) and start.event == CompensationDefinition()
    assert definition("compensation_event_subprocess_camunda7").compensation_handler("Activity_book_trip") == (
        "Activity_undo_trip"
    )


def test_a_booked_and_paid_trip_never_runs_the_undo(start: Start) -> None:
    run = start(definition("compensation_event_subprocess_camunda7"), variables={"tripId": "T-7"})
    book(run)
    run.complete_job("Activity_charge")
    assert run.status == "completed"
    assert "Activity_undo_trip" not in path(run)


def test_a_declined_card_runs_the_event_subprocess_which_undoes_the_bookings(start: Start) -> None:
    run = start(definition("compensation_event_subprocess_camunda7"), variables={"tripId": "T-7"})
    book(run)
    decline(run)
    job = run.job("Activity_notify_traveller")
    assert job.payload is not None and job.payload["bookingRef"] == "T-7-B"  # the subprocess's own variable
    run.complete_job("Activity_notify_traveller")
    assert run.waiting_at() == ["Activity_cancel_hotel"]  # the event subprocess's throw: newest first
    run.complete_job("Activity_cancel_hotel")
    run.complete_job("Activity_cancel_flight")
    assert run.status == "completed"
    assert path(run)[5:] == [
        "Activity_book_trip",
        "StartEvent_undo",
        "Activity_notify_traveller",
        "Activity_cancel_hotel",
        "Activity_cancel_flight",
        "Event_undo_bookings",
        "Event_undone",
        "Activity_undo_trip",
        "Event_undo_trip",
        "Event_cancelled",
    ]
    started = [record.element for record in run.history("compensation_started")]
    assert started == ["Activity_undo_trip", "Activity_cancel_hotel", "Activity_cancel_flight"]
    assert "bookingRef" not in run.variables  # the subprocess's variables stayed its own


def test_naming_a_subprocess_without_an_undo_undoes_what_ran_inside_it(start: Start) -> None:
    run = start(definition("compensation_subprocess_ref_camunda7"), variables={"tripId": "T-8"})
    book(run)
    decline(run)
    assert run.waiting_at() == ["Activity_cancel_hotel"]
    run.complete_job("Activity_cancel_hotel")
    assert run.waiting_at() == ["Activity_cancel_flight"]
    run.complete_job("Activity_cancel_flight")
    assert run.status == "completed" and path(run)[-1] == "Event_cancelled"
    assert [r.element for r in run.history("compensation_started")] == [
        "Activity_cancel_hotel",
        "Activity_cancel_flight",
    ]


def test_a_compensation_event_subprocess_at_process_level_is_refused() -> None:
    source = (FILES / "compensation_event_subprocess_camunda7.bpmn").read_text()
    moved = source.replace('<bpmn:subProcess id="Activity_undo_trip"', '<bpmn:subProcess id="Activity_undo_trip_x"')
    # the event subprocess lifted out of the trip into the process
    start = moved.index('      <bpmn:subProcess id="Activity_undo_trip_x"')
    end = moved.index("      </bpmn:subProcess>\n", start) + len("      </bpmn:subProcess>\n")
    block = moved[start:end]
    lifted = moved[:start] + moved[end:]
    lifted = lifted.replace("  </bpmn:process>", block + "  </bpmn:process>")
    with pytest.raises(ModelInvalid, match="a compensation event subprocess goes inside the embedded subprocess"):
        load_bpmn(lifted)
