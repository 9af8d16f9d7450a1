"""The business rule task (BPMN 2.0, 10.3.3): a DMN decision, evaluated as a job.

The engine stays pure: it cannot read deployed decisions, so a business rule task schedules
a job of the reserved task type `legato.decision` whose payload is a `DecisionRequest` (the
decision's id, the result variable, and the variables the decision sees). Every worker runs
that task type itself (legato.runtime.decisions), evaluates the decision through the store
and completes the job with `DecisionRequest.result(value)`. Being a job, the evaluation
retries, times out and ends in an incident exactly as a service task's handler does: a
decision that is not deployed yet, or a UNIQUE table whose rules overlap for this data,
is a technical failure a person fixes (deploy, correct the table) and retries.

The variables the decision sees follow the service task's rule: the task's `inputs` when it
has any, otherwise all the variables visible at the task.

A task read from a Camunda 7 file carries its `mapDecisionResult`, and the result is shaped
as Camunda 7's result mappers shape it, from one entry per matched rule (DecisionResult.
entries): `singleEntry` the one value of the one rule, `singleResult` the one rule's outputs
as an object, `collectEntries` the one output's values as a list, `resultList` a list of
objects. A result the mapping cannot take (two rules under `singleEntry`, two outputs under
`collectEntries`) fails the job with a message naming the decision, as Camunda 7 fails the
task, and out of retries it is an incident; nothing is stored as a null.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from legato.engine import effects as fx
from legato.engine.state import JOB, Token
from legato.engine.step import Step
from legato.errors import EvaluationError
from legato.model.dmn import DecisionModel, evaluate
from legato.model.elements import DECISION_RESULT_MAPPINGS, BusinessRuleTask

__all__ = ["DecisionRequest", "business_rule_task", "decide", "map_decision_result"]


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionRequest:
    """What a `legato.decision` job carries, and how its result becomes variables."""

    decision: str
    result_variable: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    element: str | None = None  # the task, for messages
    tenant: str | None = None  # a fixed tenant to look the decision up in (BusinessRuleTask.tenant)
    mapping: str | None = None  # Camunda 7's mapDecisionResult (BusinessRuleTask.result_mapping)

    def to_payload(self) -> dict[str, Any]:
        payload = {
            "decision": self.decision,
            "result_variable": self.result_variable,
            "variables": self.variables,
            "element": self.element,
        }
        if self.tenant is not None:  # present only when fixed: jobs scheduled before keep their shape
            payload["tenant"] = self.tenant
        if self.mapping is not None:  # likewise only when the task has one
            payload["mapping"] = self.mapping
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> DecisionRequest:
        """The request a job's payload holds; ValueError when it is not one (a job made by hand)."""
        decision = payload.get("decision")
        result_variable = payload.get("result_variable")
        variables = payload.get("variables", {})
        element = payload.get("element")
        tenant = payload.get("tenant")
        mapping = payload.get("mapping")
        if tenant is not None and (not isinstance(tenant, str) or not tenant):
            raise ValueError("a decision job's tenant must be a tenant id")
        if mapping is not None and mapping not in DECISION_RESULT_MAPPINGS:
            raise ValueError(f"a decision job's mapping must be one of {', '.join(DECISION_RESULT_MAPPINGS)}")
        if not isinstance(decision, str) or not decision:
            raise ValueError(f"a decision job's payload names no decision: {dict(payload)!r:.200}")
        if result_variable is not None and not isinstance(result_variable, str):
            raise ValueError(f"a decision job's result_variable must be text, not {result_variable!r:.50}")
        if not isinstance(variables, dict):
            raise ValueError("a decision job's variables must be an object")
        if element is not None and not isinstance(element, str):
            raise ValueError("a decision job's element must be text")
        return cls(
            decision=decision,
            result_variable=result_variable,
            variables=variables,
            element=element,
            tenant=tenant,
            mapping=mapping,
        )

    def result(self, value: Any, entries: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """The job's result variables for the decision's `value` (and its `entries`).

        With a Camunda 7 mapping, `{result_variable: mapped}` from the entries (see
        `map_decision_result`), and nothing without a result variable, as Camunda 7 stores
        no result then. Otherwise, with a result variable, `{result_variable: value}`.
        Without one, an object (a single-hit table with several outputs) gives its outputs as
        variables, null (no rule matched) gives none, and any other value raises
        EvaluationError: it has no names to be stored under.
        """
        if self.mapping is not None:
            mapped = map_decision_result(self.mapping, entries, decision=self.decision, element=self.element)
            return {} if self.result_variable is None else {self.result_variable: mapped}
        if self.result_variable is not None:
            return {self.result_variable: value}
        if value is None:
            return {}
        if isinstance(value, dict):
            return dict(value)
        where = f"business rule task {self.element!r}" if self.element else "the business rule task"
        raise EvaluationError(
            f"decision {self.decision!r} gave {_describe(value)}, which has no output names to be stored under; "
            f"give {where} a result variable",
            details={"decision": self.decision, "element": self.element},
        )


def decide(payload: Mapping[str, Any], model: DecisionModel) -> dict[str, Any]:
    """The result variables of a `legato.decision` job, evaluated against `model` in memory.

    What a worker does, without a store: for tests in the engine harness,

        h.complete_job("rate", decide(h.job("rate").payload or {}, load_dmn(source)))
    """
    request = DecisionRequest.from_payload(payload)
    result = evaluate(model, request.decision, request.variables)
    return request.result(result.value, result.entries)


def map_decision_result(
    mapping: str, entries: Sequence[Mapping[str, Any]], *, decision: str, element: str | None = None
) -> Any:
    """The decision's result shaped by Camunda 7's `mapDecisionResult` (DECISION_RESULT_MAPPINGS).

    `entries` holds one mapping of output name to value per matched rule. `singleEntry`: the
    value of the one output of the one rule, null when none matched. `singleResult`: the one
    rule's outputs as an object, null when none matched. `collectEntries`: the value of the
    one output of each rule, a list (empty when none matched). `resultList`: every rule's
    outputs, a list of objects. More than one rule under `singleEntry`/`singleResult`, or
    more than one output under `singleEntry`/`collectEntries`, raises EvaluationError naming
    the decision: Camunda 7 fails the task there too, where a list with nulls would hide it.
    """
    rules = [dict(entry) for entry in entries]
    details = {"decision": decision, "element": element, "mapping": mapping, "rules": len(rules)}
    task = f" (business rule task {element!r})" if element else ""
    if mapping in ("singleEntry", "singleResult") and len(rules) > 1:
        raise EvaluationError(
            f"decision {decision!r} matched {len(rules)} rules, but mapDecisionResult={mapping}{task} takes one "
            "result: use collectEntries or resultList, or make the table's rules exclusive",
            details=details,
        )
    if mapping == "resultList":
        return rules
    if mapping == "singleResult":
        return rules[0] if rules else None
    for entry in rules:
        if len(entry) > 1:
            outputs = ", ".join(repr(name) for name in entry)
            raise EvaluationError(
                f"decision {decision!r} gave the outputs {outputs}, but mapDecisionResult={mapping}{task} takes one "
                "output: use singleResult or resultList",
                details=details,
            )
    values = [next(iter(entry.values()), None) for entry in rules]
    if mapping == "collectEntries":
        return values
    return values[0] if values else None


def decision_payload(step: Step, element: BusinessRuleTask, token: Token) -> dict[str, Any]:
    """The job's payload: the decision request with the task's inputs as they stand now."""
    request = DecisionRequest(
        decision=element.decision,
        result_variable=element.result_variable,
        variables=step.inputs(element, token),
        element=element.id,
        tenant=element.tenant,
        mapping=element.result_mapping,
    )
    return request.to_payload()


def business_rule_task(step: Step, token: Token) -> None:
    """Schedule the decision's evaluation: a `legato.decision` job, due now."""
    element = step.definition.elements[token.element]
    assert isinstance(element, BusinessRuleTask)
    payload = decision_payload(step, element, token)
    boundaries = step.boundary_triggers(element.id, token)
    wait = step.open_wait(token, JOB, element.id)
    step.effects.append(
        fx.ScheduleJob(
            wait=wait.id,
            element=element.id,
            due=step.now,
            task_type=element.task_type,
            payload=payload,
            timeout=element.timeout,
        )
    )
    step.record("element_entered", element.id, {"decision": element.decision})
    step.open_boundaries(token, boundaries)


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    return f"a {type(value).__name__}"
