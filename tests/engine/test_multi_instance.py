"""Multi-instance activities, written from BPMN 2.0.2 10.3.7 (MultiInstanceLoopCharacteristics)
and 13.3.7 (its operational semantics). Each scenario runs straight and with reloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.engine.commands import CompleteJob, CompleteUserTask, ThrowError
from legato.errors import ModelInvalid
from legato.model.elements import (
    BoundaryEvent,
    EndEvent,
    ErrorDefinition,
    MultiInstance,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
    TimerDefinition,
    UserTask,
)
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]


def process(*elements: Any, flows: str) -> ProcessDefinition:
    built = [SequenceFlow(id=f"{a}_{b}", source=a, target=b) for a, b in (pair.split(">") for pair in flows.split())]
    definition = ProcessDefinition(id="p", elements={e.id: e for e in elements}, flows={f.id: f for f in built})
    validate(definition)
    return definition


def each_item(sequential: bool, **extra: Any) -> ProcessDefinition:
    loop = MultiInstance(
        sequential=sequential,
        collection="items",
        element_variable="item",
        output_collection="results",
        output_element="done",
        **extra,
    )
    task = ServiceTask(id="work", task_type="work", inputs={"item": "item", "n": "loopCounter"}, multi_instance=loop)
    return process(StartEvent(id="s"), task, EndEvent(id="e"), flows="s>work work>e")


def complete(run: EngineHarness, wait: int, variables: dict[str, Any]) -> None:
    run.send(CompleteJob(wait=wait, variables=variables))


def complete_first(run: EngineHarness, variables: dict[str, Any]) -> None:
    complete(run, run.waits("job")[0].wait, variables)


def jobs(run: EngineHarness) -> list[dict[str, Any]]:
    return [w.payload or {} for w in run.waits("job")]


def test_parallel_instances_start_together_with_their_item_and_collect_outputs_in_order(start: Start) -> None:
    run = start(each_item(sequential=False), variables={"items": ["a", "b", "c"]})
    assert sorted((p["item"], p["n"]) for p in jobs(run)) == [("a", 1), ("b", 2), ("c", 3)]
    by_item = {w.payload["item"]: w for w in run.waits("job") if w.payload}
    for item in ("c", "a", "b"):  # completion order does not decide the output order
        complete(run, by_item[item].wait, {"done": item.upper()})
    assert run.status == "completed"
    assert run.variables["results"] == ["A", "B", "C"]
    assert "item" not in run.variables and "loopCounter" not in run.variables  # locals stay local


def test_sequential_instances_run_one_after_another(start: Start) -> None:
    run = start(each_item(sequential=True), variables={"items": [10, 20]})
    assert [p["item"] for p in jobs(run)] == [10]
    run.complete_job("work", {"done": 1})
    assert [p["item"] for p in jobs(run)] == [20]
    run.complete_job("work", {"done": 2})
    assert run.status == "completed" and run.variables["results"] == [1, 2]


def test_an_empty_collection_completes_at_once(start: Start) -> None:
    run = start(each_item(sequential=False), variables={"items": []})
    assert run.status == "completed" and run.variables["results"] == []


def test_the_completion_condition_ends_the_remaining_instances(start: Start) -> None:
    definition = each_item(sequential=False, completion_condition="numberOfCompletedInstances >= 2")
    run = start(definition, variables={"items": [1, 2, 3, 4]})
    assert len(run.waits("job")) == 4
    complete_first(run, {"done": True})
    complete_first(run, {"done": True})
    assert run.status == "completed" and run.waits() == []
    assert ("multi_instance_completed_early", "work") in run.trail()


def test_cardinality_runs_a_task_n_times(start: Start) -> None:
    loop = MultiInstance(cardinality="copies")
    task = UserTask(id="sign", multi_instance=loop)
    run = start(process(StartEvent(id="s"), task, EndEvent(id="e"), flows="s>sign sign>e"), variables={"copies": 2})
    assert len(run.waits("task")) == 2
    for task in run.waits("task"):
        run.send(CompleteUserTask(wait=task.wait))
    assert run.status == "completed"


def test_a_collection_that_is_not_a_list_is_an_incident(start: Start) -> None:
    run = start(each_item(sequential=False), variables={"items": "abc"})
    assert "not a list" in run.incident("work").message


def test_a_boundary_timer_interrupts_every_instance(start: Start) -> None:
    loop = MultiInstance(collection="items", element_variable="item")
    task = ServiceTask(id="work", task_type="work", multi_instance=loop)
    late = BoundaryEvent(id="late", attached_to="work", event=TimerDefinition(kind="duration", value="PT1H"))
    definition = process(
        StartEvent(id="s"), task, late, EndEvent(id="e"), EndEvent(id="timed_out"), flows="s>work work>e late>timed_out"
    )
    run = start(definition, variables={"items": [1, 2, 3]})
    assert len(run.waits("job")) == 3 and len(run.waits("timer")) == 1  # one timer, on the body
    run.fire_timer("late")
    assert run.status == "completed" and run.waits() == []
    assert run.history()[-2].element == "timed_out"


def test_a_bpmn_error_in_one_instance_is_caught_on_the_activity(start: Start) -> None:
    loop = MultiInstance(collection="items", element_variable="item")
    task = ServiceTask(id="work", task_type="work", multi_instance=loop)
    caught = BoundaryEvent(id="failed", attached_to="work", event=ErrorDefinition(code="BAD_ITEM"))
    definition = process(
        StartEvent(id="s"),
        task,
        caught,
        EndEvent(id="e"),
        EndEvent(id="rejected"),
        flows="s>work work>e failed>rejected",
    )
    run = start(definition, variables={"items": [1, 2]})
    run.send(ThrowError(wait=run.waits("job")[0].wait, code="BAD_ITEM"))
    assert run.status == "completed" and run.waits() == []
    assert run.history()[-2].element == "rejected"


def test_a_multi_instance_subprocess_runs_its_inside_once_per_item(start: Start) -> None:
    loop = MultiInstance(
        collection="orders", element_variable="order", output_collection="totals", output_element="total"
    )
    sub = SubProcess(id="each", multi_instance=loop)
    inner = [
        StartEvent(id="in_s", parent="each"),
        ServiceTask(id="price", task_type="price", parent="each", inputs={"order": "order"}),
        EndEvent(id="in_e", parent="each"),
    ]
    definition = process(StartEvent(id="s"), sub, *inner, EndEvent(id="e"), flows="s>each each>e in_s>price price>in_e")
    run = start(definition, variables={"orders": ["A", "B"]})
    for wait in run.waits("job"):
        complete(run, wait.wait, {"total": f"{wait.payload['order']}-1" if wait.payload else None})
    assert run.status == "completed" and run.variables["totals"] == ["A-1", "B-1"]


def test_cancelling_closes_every_instance(start: Start) -> None:
    run = start(each_item(sequential=False), variables={"items": [1, 2]})
    run.cancel()
    assert run.status == "cancelled" and run.waits() == []


@pytest.mark.parametrize(
    ("loop", "message"),
    [
        (MultiInstance(), "needs a collection or a cardinality"),
        (MultiInstance(collection="xs", cardinality="3"), "needs a collection or a cardinality"),
        (MultiInstance(collection="xs", output_collection="ys"), "go together"),
        (MultiInstance(collection="xs >", element_variable="x"), "collection: "),
    ],
)
def test_broken_loop_characteristics_are_refused(loop: MultiInstance, message: str) -> None:
    task = ServiceTask(id="work", task_type="work", multi_instance=loop)
    with pytest.raises(ModelInvalid, match=message):
        process(StartEvent(id="s"), task, EndEvent(id="e"), flows="s>work work>e")
