"""Loops as other tools write them, run straight and with save-and-reload (item 6 of #6).

A multi-instance marker on an embedded subprocess (Camunda 7's engine test resources write
it before the subprocess's own elements, as the XSD orders it), and the standard loop
marker (BPMN 2.0.2, 10.3.8) as SpiffWorkflow's Arena writes it: `loopMaximum`,
`testBefore` and a `loopCondition` the activity loops while.
"""

from __future__ import annotations

import pytest
from conformance_helpers import Start, definition, path

from legato.engine.commands import CompleteJob, CompleteUserTask
from legato.errors import ModelInvalid
from legato.formats.bpmn import load_bpmn
from legato.model.elements import StandardLoop, SubProcess

# --- multi-instance on an embedded subprocess ----------------------------------------------


def test_the_loop_marker_of_a_subprocess_is_its_own_not_an_element_inside() -> None:
    elements = definition("multi_instance_subprocess").elements
    review = elements["reviewLines"]
    assert isinstance(review, SubProcess) and review.multi_instance is not None
    assert review.multi_instance.collection == "lines" and review.multi_instance.element_variable == "line"
    assert {e.id for e in elements.values() if e.parent == "reviewLines"} == {
        "subStart",
        "checkLine",
        "largeLine",
        "approveLine",
        "subEnd",
    }
    settle = elements["settle"]
    assert isinstance(settle, SubProcess) and settle.multi_instance is not None
    assert settle.multi_instance.sequential and settle.multi_instance.cardinality == "${payees}"


def test_a_parallel_subprocess_runs_its_inside_once_per_line(start: Start) -> None:
    lines = [{"id": "L1", "amount": 200}, {"id": "L2", "amount": 5000}, {"id": "L3", "amount": 80}]
    run = start(definition("multi_instance_subprocess"), variables={"lines": lines, "payees": 2})
    jobs = run.waits("job")
    assert [job.element for job in jobs] == ["checkLine"] * 3
    assert sorted(job.payload["lineId"] for job in jobs) == ["L1", "L2", "L3"]  # type: ignore[index]
    for job in jobs:
        run.send(CompleteJob(wait=job.wait))
    assert run.waiting_at() == ["approveLine"]  # only the large line needs an approval
    run.send(CompleteUserTask(wait=run.task("approveLine").wait))
    assert run.waiting_at() == ["pay"]  # the sequential settlement: one payee at a time
    run.complete_job("pay")
    assert run.waiting_at() == ["pay"]
    run.complete_job("pay")
    assert run.status == "completed" and path(run)[-2:] == ["settle", "theEnd"]


def test_no_lines_means_no_review(start: Start) -> None:
    run = start(definition("multi_instance_subprocess"), variables={"lines": [], "payees": 0})
    assert run.status == "completed"


# --- the standard loop marker --------------------------------------------------------------


def test_standard_loops_read_with_their_condition_maximum_and_test_before() -> None:
    elements = definition("standard_loop").elements
    assert elements["enter_code"].loop == StandardLoop(condition='code != "4711"', maximum=3)  # type: ignore[union-attr]
    assert elements["fetch_log"].loop == StandardLoop(condition="has_more", test_before=True)  # type: ignore[union-attr]


def test_the_code_is_asked_again_while_it_is_wrong(start: Start) -> None:
    run = start(definition("standard_loop"), variables={"has_more": True})
    run.complete_task("enter_code", {"code": "1111"})
    assert run.waiting_at() == ["enter_code"]  # the condition held: another iteration
    run.complete_task("enter_code", {"code": "4711"})
    assert run.waiting_at() == ["fetch_page"]
    assert ("loop_completed", "enter_code") in run.trail()
    # a while loop over a subprocess: it reads pages as long as there are more
    run.complete_task("fetch_page", {"has_more": True})
    assert run.waiting_at() == ["fetch_page"]
    run.complete_task("fetch_page", {"has_more": False})
    assert run.status == "completed" and path(run)[-1] == "opened"
    iterations = [r.data for r in run.history("loop_completed")]
    assert iterations == [{"iterations": 2}, {"iterations": 2}]


def test_the_loop_maximum_ends_the_loop_however_the_condition_stands(start: Start) -> None:
    run = start(definition("standard_loop"), variables={"has_more": True})
    for attempt in range(3):
        assert run.waiting_at() == ["enter_code"], attempt
        run.complete_task("enter_code", {"code": "0000"})
    assert run.status == "completed" and path(run)[-1] == "locked"


def test_a_while_loop_whose_condition_is_false_never_runs(start: Start) -> None:
    run = start(definition("standard_loop"), variables={"has_more": False})
    run.complete_task("enter_code", {"code": "4711"})
    assert run.status == "completed"
    assert "fetch_page" not in path(run) and path(run)[-2:] == ["fetch_log", "opened"]


def test_a_failing_loop_condition_is_an_incident_and_a_retry_checks_it_again(start: Start) -> None:
    run = start(definition("standard_loop"))  # has_more is not defined: the condition fails
    run.complete_task("enter_code", {"code": "4711"})
    assert "has_more" in run.incident("fetch_log").message
    run.retry_incident("fetch_log")  # still undefined: the same incident, nothing entered twice
    assert [i.element for i in run.incidents] == ["fetch_log"]
    assert len(run.state.scopes) == 0
    run.state.variables["has_more"] = False  # as an operator's fix of the variable would
    run.retry_incident("fetch_log")
    assert run.status == "completed" and "fetch_page" not in path(run)


_LOOP = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">
  <process id="p" isExecutable="true">
    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <userTask id="t">
      {marker}
    </userTask>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e" />
    <endEvent id="e" />
  </process>
</definitions>"""


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ("<standardLoopCharacteristics />", "a loop needs a loop condition or a loop maximum"),
        ('<standardLoopCharacteristics loopMaximum="three" />', "loopMaximum='three' is not a whole number"),
        ('<standardLoopCharacteristics loopMaximum="-1" />', "the loop maximum must be a whole number >= 0"),
        ('<standardLoopCharacteristics testBefore="yes" loopMaximum="2" />', "testBefore='yes'"),
        (
            "<standardLoopCharacteristics><loopCondition>  </loopCondition></standardLoopCharacteristics>",
            "the loopCondition is empty",
        ),
        (
            "<standardLoopCharacteristics><loopCondition>done ==</loopCondition></standardLoopCharacteristics>",
            "loop condition:",
        ),
        (
            '<standardLoopCharacteristics loopMaximum="2" /><multiInstanceLoopCharacteristics>'
            "<loopCardinality>2</loopCardinality></multiInstanceLoopCharacteristics>",
            "one loop marker",
        ),
    ],
)
def test_a_loop_that_cannot_run_is_refused_with_its_element_and_line(marker: str, reason: str) -> None:
    with pytest.raises(ModelInvalid) as caught:
        load_bpmn(_LOOP.format(marker=marker))
    problems = caught.value.problems
    assert any(p.element == "t" and p.line == 6 and reason in p.message for p in problems), problems


# --- BPMN's own multi-instance data ----------------------------------------------------------


def test_loop_data_names_the_process_data_input_and_data_objects() -> None:
    elements = definition("multi_instance_data").elements
    pack = elements["Activity_pack"].multi_instance  # type: ignore[union-attr]
    assert (pack.collection, pack.element_variable) == ("orders", "order")  # tns:DataInput_orders, by its name
    assert (pack.output_collection, pack.output_element) == ("parcels", "parcel")  # through the reference
    sign = elements["Activity_sign"].multi_instance  # type: ignore[union-attr]
    # the task's own data input, fed by a data input association from the data object
    assert (sign.collection, sign.element_variable, sign.sequential) == ("parcels", "parcel", True)
    thank = elements["Activity_thank"].multi_instance  # type: ignore[union-attr]
    assert (thank.collection, thank.element_variable) == ("helpers", "helper")  # a variable, named as such


def test_each_order_is_packed_and_the_parcels_are_collected_in_order(start: Start) -> None:
    orders = [{"id": "A-1"}, {"id": "A-2"}]
    run = start(definition("multi_instance_data"), variables={"orders": orders, "helpers": ["kim"]})
    tasks = run.waits("task")
    assert [task.element for task in tasks] == ["Activity_pack", "Activity_pack"]
    # the second instance finishes first; each writes its own `parcel`
    run.send(CompleteUserTask(wait=tasks[1].wait, variables={"parcel": "P-2"}))
    run.send(CompleteUserTask(wait=tasks[0].wait, variables={"parcel": "P-1"}))
    assert run.variables["parcels"] == ["P-1", "P-2"]
    assert "parcel" not in run.variables  # the output data item stays the instance's own
    signed = []
    for _ in range(2):
        task = run.task("Activity_sign")
        signed += [scope.variables["parcel"] for scope in run.state.scopes.values() if "parcel" in scope.variables]
        run.send(CompleteUserTask(wait=task.wait))
    assert signed == ["P-1", "P-2"]  # one after another, in the collection's order
    run.complete_task("Activity_thank")
    assert run.status == "completed"


_DATA = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="t">
  <process id="p" isExecutable="true">
    <dataObject id="DataObject_1" name="Order lines" />
    <dataObjectReference id="Ref_broken" dataObjectRef="nothing" />
    <startEvent id="s" />
    <sequenceFlow id="f1" sourceRef="s" targetRef="t" />
    <userTask id="t">
      <multiInstanceLoopCharacteristics>{loop}</multiInstanceLoopCharacteristics>
    </userTask>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e" />
    <endEvent id="e" />
  </process>
</definitions>"""


@pytest.mark.parametrize(
    ("loop", "reason"),
    [
        ("<loopDataInputRef>order lines</loopDataInputRef>", "names no data element of the document, nor a variable"),
        ("<loopDataInputRef>Ref_broken</loopDataInputRef>", "refers to no data object"),
        ("<loopDataInputRef>s</loopDataInputRef>", "a startEvent, which holds no data"),
        ("<loopDataInputRef>x:items</loopDataInputRef>", "the prefix 'x', which the document does not declare"),
        ('<inputDataItem name="item" />', "an inputDataItem needs the loopDataInputRef it is an item of"),
        (
            '<loopDataInputRef>items</loopDataInputRef><inputDataItem name="a b" />',
            "neither the name nor the id of 'a b' is a variable name",
        ),
        (
            "<loopDataInputRef>items</loopDataInputRef><loopDataOutputRef>out</loopDataOutputRef>",
            "loopDataOutputRef and outputDataItem go together",
        ),
        ("<loopDataInputRef>items</loopDataInputRef><complexBehaviorDefinition />", "complexBehaviorDefinition"),
    ],
)
def test_loop_data_that_names_nothing_usable_is_refused(loop: str, reason: str) -> None:
    with pytest.raises(ModelInvalid) as caught:
        load_bpmn(_DATA.format(loop=loop))
    problems = caught.value.problems
    assert any(p.element == "t" and p.line == 8 and reason in p.message for p in problems), problems


def test_a_data_object_named_in_words_is_the_variable_of_its_id() -> None:
    text = _DATA.format(loop="<loopDataInputRef>DataObject_1</loopDataInputRef>").replace(
        '<dataObjectReference id="Ref_broken" dataObjectRef="nothing" />', ""
    )
    loop = load_bpmn(text).definition.elements["t"].multi_instance  # type: ignore[union-attr]
    assert loop is not None and loop.collection == "DataObject_1"
