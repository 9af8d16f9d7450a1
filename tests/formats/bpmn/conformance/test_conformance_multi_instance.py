"""Multi-instance activities from Camunda 8 and Camunda 7 files, run on the pure engine.

Written from BPMN 2.0.2, 10.3.7 (MultiInstanceLoopCharacteristics: `isSequential`, the
loop cardinality, the completion condition evaluated as each instance completes) and
13.3.7 (parallel instances are created at once, sequential ones one after another; a
true completion condition cancels the instances still running). The output collection
is Camunda 8's, kept in the order of the input collection, not of completion.
"""

from __future__ import annotations

from conformance_helpers import Start, definition, path

from legato.engine.commands import CompleteJob, CompleteUserTask
from legato.model.elements import MultiInstance, ServiceTask, UserTask

# --- Camunda 8: supplier quotes ----------------------------------------------------------


def test_zeebe_loop_characteristics_are_read() -> None:
    elements = definition("multi_instance").elements
    request, review = elements["Activity_request"], elements["Activity_review"]
    assert isinstance(request, ServiceTask) and isinstance(review, UserTask)
    assert request.multi_instance == MultiInstance(
        sequential=False,
        collection="suppliers",
        element_variable="supplier",
        output_collection="quotes",
        output_element="={supplier: supplier, price: price}",
    )
    assert review.multi_instance == MultiInstance(
        sequential=True, collection="quotes", element_variable="quote", completion_condition="=accepted"
    )


def test_parallel_quotes_are_requested_at_once_and_collected_in_supplier_order(start: Start) -> None:
    run = start(definition("multi_instance"), variables={"suppliers": ["Acme", "Bolt", "Cogs"], "part": "P-1"})
    jobs = {w.payload["supplier"]: w for w in run.waits("job") if w.payload}
    assert sorted(jobs) == ["Acme", "Bolt", "Cogs"]
    assert jobs["Bolt"].payload == {"supplier": "Bolt", "part": "P-1"}
    for supplier, price in (("Cogs", 30), ("Acme", 10), ("Bolt", 20)):  # answers in any order
        run.send(CompleteJob(wait=jobs[supplier].wait, variables={"price": price}))
    assert run.variables["quotes"] == [
        {"supplier": "Acme", "price": 10},
        {"supplier": "Bolt", "price": 20},
        {"supplier": "Cogs", "price": 30},
    ]
    assert [w.element for w in run.waits()] == ["Activity_review"]  # sequential: one review at a time
    assert "supplier" not in run.variables and "loopCounter" not in run.variables  # instance variables


def test_sequential_reviews_stop_at_the_first_accepted_quote(start: Start) -> None:
    quotes = [{"supplier": "Acme", "price": 10}, {"supplier": "Bolt", "price": 20}, {"supplier": "Cogs", "price": 30}]
    run = start(definition("multi_instance"), variables={"suppliers": [], "quotes": quotes})
    assert run.variables["quotes"] == []  # an empty collection completes at once, collecting nothing
    run = start(definition("multi_instance"), variables={"suppliers": ["Acme"], "part": "P-2"})
    run.complete_job("Activity_request", {"price": 12})
    assert run.task("Activity_review").payload == {"supplier": "Acme", "price": 12}
    run.complete_task("Activity_review", {"accepted": True})
    assert run.status == "completed"
    assert path(run)[-2:] == ["Activity_review", "Event_chosen"]


def test_the_completion_condition_ends_the_loop_early(start: Start) -> None:
    run = start(definition("multi_instance"), variables={"suppliers": ["Acme", "Bolt", "Cogs"], "part": "P-3"})
    for wait in [w.wait for w in run.waits("job")]:
        run.send(CompleteJob(wait=wait, variables={"price": 5}))
    assert run.task("Activity_review").payload == {"supplier": "Acme", "price": 5}
    run.complete_task("Activity_review", {"accepted": False})
    assert run.task("Activity_review").payload == {"supplier": "Bolt", "price": 5}
    run.complete_task("Activity_review", {"accepted": True})
    assert run.status == "completed" and run.waits() == []  # Cogs is never reviewed
    assert ("multi_instance_completed_early", "Activity_review") in run.trail()


# --- Camunda 7: contract signing ---------------------------------------------------------


def test_camunda7_loop_characteristics_are_read() -> None:
    elements = definition("multi_instance_camunda7").elements
    assert elements["Activity_print"].multi_instance == MultiInstance(cardinality="${copies}")  # type: ignore[attr-defined]
    collect = elements["Activity_collect"]
    assert isinstance(collect, ServiceTask)
    assert collect.multi_instance == MultiInstance(
        sequential=True,
        collection="signers",  # a bare name: the variable of that name, as Camunda 7 reads it
        element_variable="signer",
        completion_condition="${numberOfCompletedInstances == quorum}",  # Camunda 7's nrOf..., renamed
    )
    assert collect.inputs == {"signer": "signer", "round": "loopCounter"}


def test_cardinality_then_a_quorum_of_signatures(start: Start) -> None:
    variables = {"copies": 2, "signers": ["ann", "bob", "cid"], "quorum": 2}
    run = start(definition("multi_instance_camunda7"), variables=variables)
    tasks = run.waits("task")
    assert [t.element for t in tasks] == ["Activity_print", "Activity_print"]
    for task in tasks:
        run.send(CompleteUserTask(wait=task.wait))
    assert run.job("Activity_collect").payload == {"signer": "ann", "round": 1}  # Legato counts from 1
    run.complete_job("Activity_collect")
    assert run.job("Activity_collect").payload == {"signer": "bob", "round": 2}
    run.complete_job("Activity_collect")
    assert run.status == "completed"  # two of three signed: the quorum ends the loop
    assert ("multi_instance_completed_early", "Activity_collect") in run.trail()
    # each instance completes, then the activity as a whole
    assert path(run) == ["StartEvent_drafted", *["Activity_print"] * 3, *["Activity_collect"] * 3, "Event_signed"]
