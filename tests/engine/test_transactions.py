"""Transaction subprocesses and cancel events, written from BPMN 2.0.2 10.3.5 (Transaction)
and 13.5.5: a cancel end event undoes what completed inside the transaction, newest first,
then leaves by the cancel boundary event. Each scenario runs straight and with reloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.errors import ModelInvalid
from legato.model.elements import (
    BoundaryEvent,
    CancelDefinition,
    EndEvent,
    ExclusiveGateway,
    ParallelGateway,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def process(*elements: Any, flows: str, conditions: dict[str, str] | None = None) -> ProcessDefinition:
    built = [
        SequenceFlow(id=f"{a}_{b}", source=a, target=b, condition=(conditions or {}).get(f"{a}_{b}"))
        for a, b in (pair.split(">") for pair in flows.split())
    ]
    definition = ProcessDefinition(id="p", elements={e.id: e for e in elements}, flows={f.id: f for f in built})
    validate(definition)
    return definition


def booking() -> ProcessDefinition:
    """Book a seat and charge the card in a transaction; a refused charge cancels it."""
    t = "booking"
    elements = [
        StartEvent(id="s"),
        SubProcess(id=t, transaction=True),
        StartEvent(id="t_s", parent=t),
        ServiceTask(id="reserve", task_type="reserve", parent=t, compensated_by="release"),
        ServiceTask(id="release", task_type="release", parent=t, for_compensation=True),
        ServiceTask(id="charge", task_type="charge", parent=t),
        ExclusiveGateway(id="ok", parent=t, default="ok_t_e"),
        EndEvent(id="t_e", parent=t),
        EndEvent(id="abort", parent=t, event=CancelDefinition()),
        BoundaryEvent(id="cancelled", attached_to=t, event=CancelDefinition()),
        ServiceTask(id="apologise", task_type="mail"),
        EndEvent(id="e"),
        EndEvent(id="e_cancelled"),
    ]
    return process(
        *elements,
        flows="s>booking booking>e cancelled>apologise apologise>e_cancelled "
        "t_s>reserve reserve>charge charge>ok ok>abort ok>t_e",
        conditions={"ok_abort": "declined"},
    )


def test_a_transaction_that_succeeds_completes_like_a_subprocess(start: Start) -> None:
    run = start(booking())
    run.complete_job("reserve")
    run.complete_job("charge", {"declined": False})
    assert run.status == "completed" and "apologise" not in [e for _, e in run.trail()]


def test_a_cancel_end_event_undoes_the_transaction_then_leaves_by_the_cancel_boundary(start: Start) -> None:
    run = start(booking())
    run.complete_job("reserve", {"seat": "12A"})
    run.complete_job("charge", {"declined": True})
    assert run.waiting_at() == ["release"]  # compensation first
    assert run.job("release").payload is not None and run.job("release").payload["seat"] == "12A"
    run.complete_job("release")
    assert run.waiting_at() == ["apologise"]
    run.complete_job("apologise")
    assert run.status == "completed"
    types = [t for t, _ in run.trail()]
    assert (
        types.index("transaction_cancelled") < types.index("compensation_completed") < types.index("boundary_triggered")
    )


def test_a_cancel_ends_the_other_paths_of_the_transaction(start: Start) -> None:
    t = "tx"
    elements = [
        StartEvent(id="s"),
        SubProcess(id=t, transaction=True),
        StartEvent(id="t_s", parent=t),
        ParallelGateway(id="fork", parent=t),
        ServiceTask(id="slow", task_type="slow", parent=t),
        EndEvent(id="t_e", parent=t),
        EndEvent(id="abort", parent=t, event=CancelDefinition()),
        BoundaryEvent(id="cancelled", attached_to=t, event=CancelDefinition()),
        EndEvent(id="e"),
        EndEvent(id="e2"),
    ]
    run = start(process(*elements, flows="s>tx tx>e cancelled>e2 t_s>fork fork>slow fork>abort slow>t_e"))
    assert run.status == "completed" and run.waits() == []  # nothing to undo: straight out
    assert ("element_terminated", "slow") in run.trail()


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        (
            [
                StartEvent(id="s"),
                SubProcess(id="sub"),
                StartEvent(id="in_s", parent="sub"),
                EndEvent(id="abort", parent="sub", event=CancelDefinition()),
                EndEvent(id="e"),
            ],
            "goes inside a transaction",
        ),
        (
            [
                StartEvent(id="s"),
                SubProcess(id="sub", transaction=True),
                StartEvent(id="in_s", parent="sub"),
                EndEvent(id="abort", parent="sub", event=CancelDefinition()),
                EndEvent(id="e"),
            ],
            "has no cancel boundary event",
        ),
    ],
)
def test_cancel_events_belong_to_transactions(elements: list[Any], message: str) -> None:
    with pytest.raises(ModelInvalid, match=message):
        process(*elements, flows="s>sub sub>e in_s>abort")
