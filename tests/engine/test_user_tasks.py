"""User tasks: opened for people, completed with a result that outputs map in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from legato.engine import CompleteJob, CompleteUserTask
from legato.engine import effects as fx
from legato.errors import StaleCommand
from legato.formats.builder import Process
from legato.model.process import ProcessDefinition
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def approval() -> ProcessDefinition:
    p = Process("approval")
    p.start("start").then(
        p.user(
            "approve",
            name="Approve the order",
            assignee="ann",
            candidate_groups=["managers", "finance"],
            form={"fields": [{"key": "decision", "type": "enum"}]},
            inputs={"total": "order.amount", "customer": "order.customer"},
            outputs={"approved": "decision == 'yes'", "approver": "by"},
        )
    ).then(p.service("book", "book")).then(p.end("end"))
    return p.build()


def test_user_task_opens_with_its_people_form_and_input_payload(start: Start) -> None:
    h = start(approval(), variables={"order": {"amount": 250, "customer": "c-7"}})
    task = h.task("approve")
    [opened] = [e for e in h.effects if isinstance(e, fx.OpenUserTask)]
    assert opened == fx.OpenUserTask(
        wait=task.wait,
        element="approve",
        name="Approve the order",
        assignee="ann",
        candidate_groups=("managers", "finance"),
        form={"fields": [{"key": "decision", "type": "enum"}]},
        payload={"total": 250, "customer": "c-7"},
    )


def test_user_task_completion_maps_outputs_and_records_the_actor(start: Start) -> None:
    h = start(approval(), variables={"order": {"amount": 250, "customer": "c-7"}})
    task = h.task("approve")
    h.complete_task("approve", {"decision": "yes", "by": "ann", "comment": "fine"}, actor="ann")
    assert fx.CloseUserTask(wait=task.wait, outcome="completed", actor="ann") in h.effects
    assert h.waiting_at() == ["book"]
    assert h.variables == {
        "order": {"amount": 250, "customer": "c-7"},
        "approved": True,
        "approver": "ann",
    }
    [completed] = h.history("element_completed")
    assert (completed.element, completed.actor) == ("approve", "ann")
    assert completed.data == {"variables": {"approved": True, "approver": "ann"}}


def test_user_task_without_mappings_has_no_payload_and_merges_the_result(start: Start) -> None:
    p = Process("plain_task")
    p.start("start").then(p.user("review")).then(p.end("end"))
    h = start(p.build(), variables={"a": 1})
    assert h.task("review").payload is None
    h.complete_task("review", {"a": 1, "b": 2})
    assert h.variables == {"a": 1, "b": 2}
    assert h.history("element_completed")[0].data == {"variables": {"b": 2}}
    assert h.status == "completed"


def test_a_user_task_is_completed_once(start: Start) -> None:
    p = Process("once")
    p.start("start").then(p.user("review")).then(p.user("second_look")).then(p.end("end"))
    h = start(p.build())
    wait = h.task("review").wait
    h.complete_task("review")
    before = h.state.to_dict()
    with pytest.raises(StaleCommand):
        h.send(CompleteUserTask(wait=wait, variables={"again": True}))
    with pytest.raises(StaleCommand):  # a job completion cannot answer a user task
        h.send(CompleteJob(wait=h.task("second_look").wait))
    assert h.state.to_dict() == before


def test_assignee_and_candidate_groups_may_be_expressions(start: Start) -> None:
    from legato.engine import effects as fx
    from legato.model.elements import EndEvent, SequenceFlow, StartEvent, UserTask
    from legato.model.process import ProcessDefinition

    task = UserTask(id="approve", assignee="${approver}", candidate_groups=("=teams",))
    elements = {e.id: e for e in (StartEvent(id="s"), task, EndEvent(id="e"))}
    flows = {
        "f1": SequenceFlow(id="f1", source="s", target="approve"),
        "f2": SequenceFlow(id="f2", source="approve", target="e"),
    }
    run = start(
        ProcessDefinition(id="p", elements=elements, flows=flows),
        variables={"approver": "kim", "teams": ["ops", "finance"]},
    )
    [opened] = [e for e in run.all_effects if isinstance(e, fx.OpenUserTask)]
    assert (opened.assignee, opened.candidate_groups) == ("kim", ("ops", "finance"))
