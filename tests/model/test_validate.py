"""Deploy-time validation names the element at fault, for every kind of broken model."""

from __future__ import annotations

import math
from typing import Any

import pytest

from legato.errors import ModelInvalid
from legato.model.elements import (
    EndEvent,
    ExclusiveGateway,
    ParallelGateway,
    RetryPolicy,
    ScriptTask,
    SequenceFlow,
    ServiceTask,
    StartEvent,
    SubProcess,
    TimerDefinition,
)
from legato.model.process import ProcessDefinition
from legato.model.serialize import checksum, from_dict, to_dict
from legato.model.validate import validate


def model(*elements: Any, flows: list[tuple[str, str, str] | tuple[str, str, str, str]]) -> ProcessDefinition:
    built = [SequenceFlow(id=f[0], source=f[1], target=f[2], condition=f[3] if len(f) > 3 else None) for f in flows]
    return ProcessDefinition(id="p", elements={e.id: e for e in elements}, flows={f.id: f for f in built})


def problems(definition: ProcessDefinition) -> list[tuple[str | None, str]]:
    with pytest.raises(ModelInvalid) as caught:
        validate(definition)
    return [(p.element, p.message) for p in caught.value.problems]


START, END = StartEvent(id="start"), EndEvent(id="end")


def test_a_sound_model_passes() -> None:
    validate(model(START, ServiceTask(id="a", task_type="a"), END, flows=[("f1", "start", "a"), ("f2", "a", "end")]))


def test_unreachable_elements_are_named() -> None:
    found = problems(
        model(
            START, END, ServiceTask(id="orphan", task_type="x"), flows=[("f1", "start", "end"), ("f2", "orphan", "end")]
        )
    )
    assert ("orphan", "unreachable from any start event") in found


def test_a_gateway_or_task_without_outgoing_flows_ends_its_path() -> None:
    """BPMN 2.0.2, 10.5.3: a flow node without outgoing flows is an implicit end."""
    validate(model(START, ExclusiveGateway(id="g"), flows=[("f1", "start", "g")]))
    validate(model(START, ServiceTask(id="t", task_type="x"), flows=[("f1", "start", "t")]))


def test_a_start_event_without_outgoing_flows_is_named_once() -> None:
    found = problems(model(START, flows=[]))
    assert [element for element, _ in found] == ["start"]
    assert "outgoing" in found[0][1]


def test_a_dangling_flow_is_named() -> None:
    found = problems(model(START, END, flows=[("f1", "start", "end"), ("f2", "start", "nowhere")]))
    assert ("f2", "target 'nowhere' does not exist") in found


def test_an_expression_that_does_not_parse_is_named_with_its_flow() -> None:
    g = ExclusiveGateway(id="g", default="f3")
    found = problems(
        model(START, g, END, flows=[("f1", "start", "g"), ("f2", "g", "end", "amount >> > 3"), ("f3", "g", "end")])
    )
    assert found[0][0] == "f2" and found[0][1].startswith("condition: ")


def test_a_condition_on_the_default_flow_is_refused() -> None:
    g = ExclusiveGateway(id="g", default="f3")
    found = problems(
        model(START, g, END, flows=[("f1", "start", "g"), ("f2", "g", "end", "x > 1"), ("f3", "g", "end", "x <= 1")])
    )
    assert found == [("f3", "the default flow of a gateway cannot have a condition")]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 0])
def test_timeouts_must_be_positive_finite(bad: float) -> None:
    task = ServiceTask(id="a", task_type="a", timeout=bad)
    found = problems(model(START, task, END, flows=[("f1", "start", "a"), ("f2", "a", "end")]))
    assert found == [("a", "timeout must be a positive number of seconds")]


def test_retry_settings_must_be_finite() -> None:
    task = ServiceTask(id="a", task_type="a", retry=RetryPolicy(initial_backoff=math.nan))
    found = problems(model(START, task, END, flows=[("f1", "start", "a"), ("f2", "a", "end")]))
    assert found == [("a", "retry settings must be finite numbers")]


def test_a_script_that_does_not_parse_is_named() -> None:
    task = ScriptTask(id="calc", script="total = = 3")
    found = problems(model(START, task, END, flows=[("f1", "start", "calc"), ("f2", "calc", "end")]))
    assert found[0][0] == "calc" and found[0][1].startswith("script: ")


def test_flows_cannot_cross_a_subprocess_boundary_and_conditions_stay_off_parallel_gateways() -> None:
    sub = SubProcess(id="sub")
    inner_start, inner = StartEvent(id="inner_start", parent="sub"), EndEvent(id="inner_end", parent="sub")
    fork = ParallelGateway(id="fork")
    found = problems(
        model(
            START,
            fork,
            sub,
            inner_start,
            inner,
            END,
            flows=[
                ("f1", "start", "fork"),
                ("f2", "fork", "sub", "x"),
                ("f3", "sub", "end"),
                ("f4", "inner_start", "inner_end"),
                ("f5", "fork", "inner_end"),
            ],
        )
    )
    assert ("f2", "a parallel gateway's flows cannot have conditions") in found
    assert ("f5", "a sequence flow cannot cross a subprocess boundary") in found


def test_checksum_ignores_element_order_but_not_the_order_of_a_gateways_flows() -> None:
    g = ExclusiveGateway(id="g", default="f4")
    flows = [("f1", "start", "g"), ("f2", "g", "end", "x > 1"), ("f3", "g", "end", "x > 0"), ("f4", "g", "end")]
    one = model(START, g, END, flows=flows)
    shuffled = model(END, g, START, flows=[flows[2], flows[0], flows[1], flows[3]])
    assert checksum(one) != checksum(shuffled)  # f3 now comes before f2: a different decision
    reordered = model(END, g, START, flows=[flows[1], flows[0], flows[2], flows[3]])
    assert checksum(one) == checksum(reordered)
    assert checksum(from_dict(to_dict(one))) == checksum(one)


def test_an_event_subprocess_takes_no_mappings_an_embedded_one_does() -> None:
    def with_sub(sub: SubProcess) -> ProcessDefinition:
        inner_start, inner_end = StartEvent(id="inner_start", parent="sub"), EndEvent(id="inner_end", parent="sub")
        return model(
            START,
            sub,
            inner_start,
            inner_end,
            END,
            flows=[("f1", "start", "sub"), ("f2", "sub", "end"), ("f3", "inner_start", "inner_end")],
        )

    validate(with_sub(SubProcess(id="sub", inputs={"x": "1"}, outputs={"y": "x"})))  # its locals, mapped out
    event_sub = SubProcess(id="sub", triggered_by_event=True, inputs={"x": "1"})
    found = problems(
        model(
            START,
            END,
            event_sub,
            StartEvent(id="inner_start", parent="sub", event=TimerDefinition(kind="duration", value="PT1M")),
            EndEvent(id="inner_end", parent="sub"),
            flows=[("f1", "start", "end"), ("f3", "inner_start", "inner_end")],
        )
    )
    assert ("sub", "an event subprocess takes no input or output mappings") in found


def test_lanes_and_diagram_survive_the_stored_form() -> None:
    from dataclasses import replace

    from legato.model.diagram import Bounds, Diagram, Edge, Lane, Participant, Shape

    base = model(START, END, flows=[("f1", "start", "end")])
    drawn = replace(
        base,
        lanes=(Lane(id="sales", name="Sales", elements=("start",), lanes=(Lane(id="desk", elements=("end",)),)),),
        participant=Participant(id="pool", name="Orders"),
        diagram=Diagram(
            shapes=(Shape(element="start", bounds=Bounds(x=10, y=20, width=36, height=36)),),
            edges=(Edge(element="f1", waypoints=((46.0, 38.0), (100.0, 38.0))),),
        ),
    )
    again = from_dict(to_dict(drawn))
    assert (again.lanes, again.participant, again.diagram) == (drawn.lanes, drawn.participant, drawn.diagram)
    assert checksum(base) == checksum(from_dict(to_dict(base)))  # no presentation, no new keys
    assert checksum(drawn) != checksum(base)


def test_lanes_and_diagram_may_only_name_what_the_process_has() -> None:
    from dataclasses import replace

    from legato.model.diagram import Bounds, Diagram, Lane, Shape

    base = model(START, END, flows=[("f1", "start", "end")])
    broken = replace(
        base,
        lanes=(Lane(id="sales", elements=("ghost",)),),
        diagram=Diagram(shapes=(Shape(element="phantom", bounds=Bounds(x=0, y=0, width=1, height=1)),)),
    )
    assert problems(broken) == [
        ("sales", "lane lists 'ghost', which is not in the process"),
        ("phantom", "the diagram draws an element the process does not have"),
    ]


def test_fields_at_their_default_are_not_stored_so_new_fields_keep_old_checksums() -> None:
    stored = to_dict(
        model(START, ServiceTask(id="a", task_type="a"), END, flows=[("f1", "start", "a"), ("f2", "a", "end")])
    )
    task = next(e for e in stored["elements"] if e["id"] == "a")
    assert task == {"kind": "serviceTask", "id": "a", "task_type": "a"}
