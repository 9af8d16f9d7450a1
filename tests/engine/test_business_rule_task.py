"""The business rule task (BPMN 2.0, 10.3.3), one instance at a time: the job it schedules,
what the decision's result does to the variables, and failures by the service task's rules.
Each scenario runs straight and with reloads.

The harness plays the worker: `decide(payload, model)` evaluates the DMN model in memory the way
the built-in handler does through the store, and gives the job's result variables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from legato.engine import effects as fx
from legato.engine.commands import CompleteJob
from legato.engine.decisions import DecisionRequest, decide
from legato.errors import EvaluationError, ModelInvalid
from legato.formats.builder import Process, RetryPolicy
from legato.model import serialize
from legato.model.dmn import (
    Decision,
    DecisionModel,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
)
from legato.model.elements import DECISION_TASK_TYPE, BusinessRuleTask, MultiInstance
from legato.model.process import ProcessDefinition
from legato.model.validate import validate
from legato.testing import EngineHarness

Start = Callable[..., EngineHarness]

RISK = DecisionModel(
    id="credit",
    decisions={
        "risk": Decision(
            id="risk",
            name="Risk",
            logic=DecisionTable(
                inputs=(InputClause(expression="amount"),),
                outputs=(OutputClause(name="level"), OutputClause(name="reviewer")),
                rules=(
                    Rule(id="low", input_entries=("< 1000",), output_entries=('"low"', '"auto"')),
                    Rule(id="high", input_entries=(">= 1000",), output_entries=('"high"', '"officer"')),
                ),
                hit_policy=HitPolicy.UNIQUE,
            ),
        )
    },
)


def rating(**task: Any) -> ProcessDefinition:
    """start -> business rule task `rate` (decision "risk") -> end, with a boundary timer."""
    p = Process("loan")
    rate = p.start("start").then(p.decision("rate", "risk", **task))
    rate.on_timer(duration="PT1H", id="too_slow").then(p.end("timed_out"))
    rate.then(p.end("done"))
    return p.build()


def run_decision(h: EngineHarness, element: str = "rate") -> None:
    """What a worker does with the job: evaluate, then complete it with the result variables."""
    h.complete_job(element, decide(h.job(element).payload or {}, RISK))


def test_entering_schedules_a_decision_job_with_all_variables(start: Start) -> None:
    h = start(rating(result_variable="risk"), variables={"amount": 500, "customer": "c-1"})
    job = h.job("rate")
    assert job.task_type == DECISION_TASK_TYPE == "legato.decision"
    assert job.payload == {
        "decision": "risk",
        "result_variable": "risk",
        "variables": {"amount": 500, "customer": "c-1"},
        "element": "rate",
    }
    assert sorted(h.waiting_at()) == ["rate", "too_slow"]
    [entered] = h.history("element_entered")
    assert (entered.element, entered.data) == ("rate", {"decision": "risk"})


def test_the_value_goes_to_the_result_variable(start: Start) -> None:
    h = start(rating(result_variable="risk"), variables={"amount": 500})
    run_decision(h)
    assert h.status == "completed"
    assert h.variables == {"amount": 500, "risk": {"level": "low", "reviewer": "auto"}}
    assert h.history("element_passed")[-1].element == "done"


def test_without_a_result_variable_the_outputs_become_variables(start: Start) -> None:
    h = start(rating(), variables={"amount": 2000})
    run_decision(h)
    assert h.variables == {"amount": 2000, "level": "high", "reviewer": "officer"}


def test_inputs_choose_what_the_decision_sees_and_outputs_map_the_result(start: Start) -> None:
    definition = rating(
        result_variable="risk",
        inputs={"amount": "order.total"},
        outputs={"risk_level": "risk.level"},
    )
    h = start(definition, variables={"order": {"total": 1200}, "secret": "not for the decision"})
    assert (h.job("rate").payload or {})["variables"] == {"amount": 1200}
    run_decision(h)
    assert h.variables == {"order": {"total": 1200}, "secret": "not for the decision", "risk_level": "high"}


def test_a_failing_evaluation_retries_then_raises_an_incident(start: Start) -> None:
    h = start(rating(result_variable="risk", retry=RetryPolicy(max_attempts=2, initial_backoff=5, jitter=0)))
    message = "decision 'risk': hit policy UNIQUE allows one matching rule, but 2 match: 'low', 'high'"
    h.fail_job("rate", "EvaluationError", message)
    assert [r.data["retry_in"] for r in h.history("job_failed") if r.data] == [5.0]
    h.fail_job("rate", "EvaluationError", message)
    incident = h.incident("rate")
    assert (incident.error_type, incident.message) == ("EvaluationError", message)
    h.retry_incident("rate")
    run_decision(h)  # the table was fixed and deployed again
    assert h.status == "completed"


def test_the_boundary_timer_cancels_the_decision_job(start: Start) -> None:
    h = start(rating(result_variable="risk"), variables={"amount": 1})
    wait = h.job("rate").wait
    h.fire_timer("too_slow")
    assert fx.CancelJob(wait=wait) in h.effects
    assert h.status == "completed"
    assert "risk" not in h.variables


def test_a_multi_instance_business_rule_task_evaluates_once_per_item(start: Start) -> None:
    definition = rating(
        result_variable="risk",
        inputs={"amount": "loan"},
        multi_instance=MultiInstance(
            collection="loans", element_variable="loan", output_collection="risks", output_element="risk.level"
        ),
    )
    h = start(definition, variables={"loans": [10, 5000]})
    jobs = h.waits("job")
    assert [(j.payload or {})["variables"] for j in jobs] == [{"amount": 10}, {"amount": 5000}]
    for job in jobs:
        h.send(CompleteJob(wait=job.wait, variables=decide(job.payload or {}, RISK)))
    assert h.status == "completed"
    assert h.variables["risks"] == ["low", "high"]


# -- the request and its result -------------------------------------------------------------


def test_a_result_without_names_needs_a_result_variable() -> None:
    request = DecisionRequest(decision="fee", element="rate")
    assert request.result(None) == {}
    assert request.result({"fee": 2}) == {"fee": 2}
    with pytest.raises(EvaluationError, match=r"gave a list of 2.*give business rule task 'rate' a result variable"):
        request.result([1, 2])
    with pytest.raises(EvaluationError, match="gave a number"):
        request.result(2.5)
    assert DecisionRequest(decision="fee", result_variable="fee").result([1, 2]) == {"fee": [1, 2]}


@pytest.mark.parametrize(
    "payload",
    [{}, {"decision": ""}, {"decision": "d", "variables": []}, {"decision": "d", "result_variable": 3}],
)
def test_a_payload_that_is_not_a_decision_request_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="decision job"):
        DecisionRequest.from_payload(payload)


def test_a_request_survives_its_payload() -> None:
    request = DecisionRequest(decision="d", result_variable="r", variables={"a": [1]}, element="e")
    assert DecisionRequest.from_payload(request.to_payload()) == request


# -- the model ------------------------------------------------------------------------------


def test_the_stored_form_round_trips_and_names_the_decision() -> None:
    definition = rating(result_variable="risk", timeout=30)
    again = serialize.from_dict(serialize.to_dict(definition))
    task = again.elements["rate"]
    assert isinstance(task, BusinessRuleTask)
    assert (task.kind, task.decision, task.result_variable, task.timeout) == ("businessRuleTask", "risk", "risk", 30.0)
    assert serialize.checksum(again) == serialize.checksum(definition)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"decision": " "}, "needs the id of the decision it evaluates"),
        ({"decision": "risk", "result_variable": "two words"}, "result variable 'two words' is not a valid"),
        ({"decision": "risk", "task_type": "my.rules"}, "runs as task type 'legato.decision', not 'my.rules'"),
    ],
)
def test_validation_names_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    p = Process("loan")
    p.start("start").then(p.service("placeholder", "x")).then(p.end("done"))
    definition = p.build()
    elements = dict(definition.elements)
    elements["placeholder"] = BusinessRuleTask(id="placeholder", **fields)
    broken = ProcessDefinition(id="loan", elements=elements, flows=dict(definition.flows))
    with pytest.raises(ModelInvalid) as caught:
        validate(broken)
    assert any(p.element == "placeholder" and message in p.message for p in caught.value.problems)
