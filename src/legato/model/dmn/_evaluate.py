"""Evaluating a decision: its required decisions first, then its own logic (DMN 1.3, 6.3, 8.3).

Evaluation is pure: variables in, a `DecisionResult` out, nothing read from anywhere else.
Each decision in the requirements graph is evaluated once per call, however many
dependants it has, and each sees only the results of the decisions it requires itself,
under their names (and ids), beside the caller's variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from legato.errors import EvaluationError
from legato.expressions import CpuLimitExceeded, cpu_bound, tick
from legato.expressions.feel import feel_clock
from legato.model.dmn import _feel
from legato.model.dmn._hit_policies import Hit, apply, result_of
from legato.model.dmn._model import Decision, DecisionModel, UnsupportedLogic
from legato.model.dmn._table import DecisionTable, HitPolicy
from legato.model.dmn._types import conform

__all__ = ["DecisionResult", "evaluate"]


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionResult:
    """What a decision gave, and why: the rules that made the value, for the audit trail.

    `matched_rules` holds the ids of the rules the value was built from, in the order of
    the value (for a literal expression, none). `required` holds the results of the
    decisions this one needed, directly or not, in the order they were evaluated.

    `entries` is the same result as Camunda 7's DMN engine gives it (its DmnDecisionResult):
    one mapping of output name to value per matched rule, with only the outputs whose entry
    is not blank; for an aggregation one entry under the output's name, for a literal
    expression one entry under its variable's name. It is what Camunda 7's
    `mapDecisionResult` shapes (engine/decisions.py); `value` is DMN 1.3's own shape.
    """

    decision_id: str
    decision_name: str | None = None
    value: Any
    matched_rules: tuple[str, ...] = ()
    required: tuple[DecisionResult, ...] = ()
    entries: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    """Values that did not fit their typeRef and were taken as null (DMN 1.5, 10.3.2.9.4)."""

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for history: the value as FEEL gave it, with rule and decision ids."""
        data = {
            "decision_id": self.decision_id,
            "decision_name": self.decision_name,
            "value": self.value,
            "matched_rules": list(self.matched_rules),
            "required": [result.to_dict() for result in self.required],
        }
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


def evaluate(
    model: DecisionModel, decision_id: str, variables: Mapping[str, Any], *, now: datetime | None = None
) -> DecisionResult:
    """Evaluate decision `decision_id` (or the only decision of that name) of `model`.

    `now` is what FEEL's `now()` and `today()` give; without it they are an error, since a
    decision never reads the wall clock (the caller injects its clock, as the engine does).

    Raises EvaluationError when the decision is unknown, when an expression fails, or when
    the hit policy is broken (UNIQUE with several matches, ANY with disagreeing ones); the
    message names the decision and the rules at fault.
    """
    decision = model.find(decision_id)
    if decision is None:
        known = ", ".join(repr(key) for key in model.decisions) or "none"
        raise EvaluationError(
            f"decision model {model.id!r} has no decision {decision_id!r}; its decisions are {known}",
            details={"decision": decision_id},
        )
    requirements = model.requirements(decision.id)
    _check_runnable(model, decision, requirements)
    results: dict[str, DecisionResult] = {}
    try:
        with cpu_bound("decision"), nullcontext() if now is None else feel_clock(now):
            for required_id in requirements:
                required = model.decisions[required_id]
                results[required_id] = _evaluate_one(required, _scope(required, model, variables, results))
            own = _evaluate_one(decision, _scope(decision, model, variables, results))
    except CpuLimitExceeded as error:  # one CPU-time bound for the decision and all it requires
        raise EvaluationError(
            f"decision {decision.id!r}: {error}", details={"decision": decision.id, "cpu_limit_ms": error.limit_ms}
        ) from error
    return DecisionResult(
        decision_id=own.decision_id,
        decision_name=own.decision_name,
        value=own.value,
        matched_rules=own.matched_rules,
        required=tuple(results.values()),
        entries=own.entries,
        warnings=own.warnings,
    )


def _check_runnable(model: DecisionModel, decision: Decision, requirements: tuple[str, ...]) -> None:
    """Refuse, before anything runs, a decision that is or requires one the import could not read."""
    for candidate_id in (decision.id, *requirements):
        logic = model.decisions[candidate_id].logic
        if not isinstance(logic, UnsupportedLogic):
            continue
        line = f" (line {logic.line})" if logic.line else ""
        if candidate_id == decision.id:
            message = f"decision {decision.id!r} cannot run: {logic.reason}{line}"
        else:
            message = (
                f"decision {decision.id!r} cannot run: it requires decision {candidate_id!r}, "
                f"which cannot run: {logic.reason}{line}"
            )
        details = {"decision": decision.id, "unsupported": candidate_id, "construct": logic.construct}
        raise EvaluationError(message, details=details)


def _scope(
    decision: Decision, model: DecisionModel, variables: Mapping[str, Any], results: Mapping[str, DecisionResult]
) -> Mapping[str, Any]:
    """The caller's variables, with the results of the directly required decisions over them."""
    if not decision.required_decisions:
        return variables
    scope = dict(variables)
    for required_id in decision.required_decisions:
        required = model.decisions[required_id]
        scope[required.id] = results[required_id].value
        scope[required.variable_name] = results[required_id].value
    return scope


def _evaluate_one(decision: Decision, scope: Mapping[str, Any]) -> DecisionResult:
    where = f"decision {decision.id!r}"
    warnings: list[str] = []
    if isinstance(decision.logic, DecisionTable):
        value, rules, entries = _evaluate_table(decision.logic, scope, where, warnings)
    elif isinstance(decision.logic, UnsupportedLogic):  # _check_runnable refused it already
        raise EvaluationError(f"{where} cannot run: {decision.logic.reason}", details={"decision": decision.id})
    else:
        try:
            value, rules = decision.logic.compiled.evaluate(scope), ()
        except EvaluationError as error:
            raise _feel.failure(error, where) from error
        value = _typed(value, decision.logic.type_ref, "result", warnings)
        entries = ({decision.variable_name: value},)
    return DecisionResult(
        decision_id=decision.id,
        decision_name=decision.name,
        value=value,
        matched_rules=rules,
        entries=entries,
        warnings=tuple(warnings),
    )


def _typed(value: Any, type_ref: str | None, where: str, warnings: list[str], *, json: bool = True) -> Any:
    if type_ref is None:
        return value
    value, warning = conform(value, type_ref, json=json)
    if warning is not None:
        warnings.append(f"{where}: {warning}")
    return value


def _evaluate_table(
    table: DecisionTable, scope: Mapping[str, Any], where: str, warnings: list[str]
) -> tuple[Any, tuple[str, ...], tuple[dict[str, Any], ...]]:
    values = []
    for number, clause in enumerate(table.inputs, 1):
        try:
            value = clause.compiled.evaluate_feel(scope)
        except EvaluationError as error:
            raise _feel.failure(error, f"{where}, input {number} ({clause.title!r})") from error
        values.append(_typed(value, clause.type_ref, f"input {number} ({clause.title!r})", warnings, json=False))
    hits: list[Hit] = []
    for rule in table.rules:
        tick()
        at = f"{where}, rule {rule.id!r}" + (f" (line {rule.line})" if rule.line else "")
        try:
            if not all(bool(test.matches(value, scope)) for test, value in zip(rule.tests, values, strict=True)):
                continue
            outputs = tuple(
                None
                if output is None
                else _typed(output.evaluate(scope), clause.type_ref, f"rule {rule.id!r}", warnings)
                for output, clause in zip(rule.outputs, table.outputs, strict=True)
            )
        except EvaluationError as error:
            raise _feel.failure(error, at) from error
        hits.append(Hit(rule=rule, outputs=outputs))
        if table.hit_policy is HitPolicy.FIRST:
            break

    def default() -> Any:
        if not any(output.compiled_default for output in table.outputs):
            return None
        try:
            defaults = [
                None
                if output.compiled_default is None
                else _typed(output.compiled_default.evaluate(scope), output.type_ref, "default output", warnings)
                for output in table.outputs
            ]
        except EvaluationError as error:
            raise _feel.failure(error, f"{where}, default output") from error
        return result_of(table, defaults)

    value, chosen = apply(table, hits, where=where, default=default)
    return value, tuple(hit.rule.id for hit in chosen), _entries(table, value, chosen)


def _entries(table: DecisionTable, value: Any, chosen: tuple[Hit, ...]) -> tuple[dict[str, Any], ...]:
    """The result as Camunda 7 gives it: a mapping per matched rule (see DecisionResult)."""
    names = [output.name or output.id or "output" for output in table.outputs]
    if table.aggregation is not None:
        return ({names[0]: value},)
    if not chosen:  # nothing matched; the outputs' default entries, when there are any, are one result
        if value is None or not table.hit_policy.single_hit:
            return ()
        return (dict(value) if len(names) > 1 and isinstance(value, dict) else {names[0]: value},)
    if table.hit_policy is HitPolicy.ANY:
        chosen = chosen[:1]  # ANY's rules agree: one result, as Camunda 7 gives
    return tuple(
        {
            name: output
            for name, output, entry in zip(names, hit.outputs, hit.rule.outputs, strict=True)
            if entry is not None  # a blank output entry
        }
        for hit in chosen
    )
