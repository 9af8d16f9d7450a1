"""From the rules that matched to the table's result, by hit policy (DMN 1.3, 8.2.11).

A hit is a rule whose input entries all matched, with its output entries evaluated. What
a result looks like (DMN 1.3, 8.3.3): one output gives its value, several give a dict of
output name to value; a single-hit policy gives one such result (null when nothing
matched), a multiple-hit policy gives a list of them (empty when nothing matched), and an
aggregation reduces that list to one number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from legato.errors import EvaluationError
from legato.model.dmn._table import Aggregation, DecisionTable, HitPolicy, Rule


@dataclass(frozen=True, kw_only=True, slots=True)
class Hit:
    """A matching rule and the values of its output entries, in output order."""

    rule: Rule
    outputs: tuple[Any, ...]


def result_of(table: DecisionTable, outputs: Sequence[Any]) -> Any:
    """One rule's result: the value of a single output, or a dict keyed by output name."""
    if len(table.outputs) == 1:
        return outputs[0]
    return {str(output.name): value for output, value in zip(table.outputs, outputs, strict=True)}


def apply(
    table: DecisionTable, hits: Sequence[Hit], *, where: str, default: Callable[[], Any]
) -> tuple[Any, tuple[Hit, ...]]:
    """The table's result and the hits it was made from.

    `hits` are in rule order. `default` gives the single-hit result when nothing matched
    (null, or the outputs' default entries). `where` names the decision in errors.
    """
    policy = table.hit_policy
    if policy.single_hit:
        if not hits:
            return default(), ()
        chosen = _single(table, hits, where)
        return result_of(table, chosen[0].outputs), chosen
    if policy is HitPolicy.OUTPUT_ORDER:
        hits = sorted(hits, key=lambda hit: _priority(table, hit))
    if table.aggregation is None:
        return [result_of(table, hit.outputs) for hit in hits], tuple(hits)
    return _aggregate(table.aggregation, [hit.outputs[0] for hit in hits], where), tuple(hits)


def _single(table: DecisionTable, hits: Sequence[Hit], where: str) -> tuple[Hit, ...]:
    policy = table.hit_policy
    if policy is HitPolicy.FIRST:
        return (hits[0],)
    if policy is HitPolicy.PRIORITY:
        return (min(hits, key=lambda hit: _priority(table, hit)),)  # min keeps the first of equals
    if len(hits) == 1:
        return (hits[0],)
    names = ", ".join(repr(hit.rule.id) for hit in hits)
    details = {"rules": [hit.rule.id for hit in hits], "hit_policy": str(policy)}
    if policy is HitPolicy.UNIQUE:
        raise EvaluationError(
            f"{where}: hit policy UNIQUE allows one matching rule, but {len(hits)} match: {names}", details=details
        )
    if all(_same(hit.outputs, hits[0].outputs) for hit in hits[1:]):  # ANY
        return tuple(hits)
    raise EvaluationError(
        f"{where}: hit policy ANY needs the matching rules to agree, but {names} give different outputs",
        details=details,
    )


def _priority(table: DecisionTable, hit: Hit) -> tuple[int, ...]:
    """The rule's rank: output by output, the position of its value in the output values."""
    return tuple(
        output.rank(value) for output, value in zip(table.outputs, hit.outputs, strict=True) if output.ranked_values
    )


def _aggregate(aggregation: Aggregation, values: list[Any], where: str) -> Any:
    """C+, C<, C>, C# over the outputs (null outputs count for C#, and are skipped by the rest)."""
    if aggregation is Aggregation.COUNT:
        return len(values)
    present = [value for value in values if value is not None]
    if not present:
        return None
    if aggregation is Aggregation.SUM:
        wrong = [value for value in present if isinstance(value, bool) or not isinstance(value, int | float | Decimal)]
        if wrong:
            raise EvaluationError(f"{where}: COLLECT SUM adds numbers, but an output is {_describe(wrong[0])}")
        total: Any = 0
        for value in present:
            total = _add(total, value)
        return total
    try:
        return min(present) if aggregation is Aggregation.MIN else max(present)
    except TypeError:
        kinds = ", ".join(sorted({type(value).__name__ for value in present}))
        raise EvaluationError(f"{where}: COLLECT {aggregation} cannot compare outputs of the kinds {kinds}") from None


def _add(total: Any, value: Any) -> Any:
    try:
        return total + value
    except TypeError:  # Decimal and float do not mix
        return float(total) + float(value)


def _same(left: Any, right: Any) -> bool:
    """Equal as FEEL sees it: a boolean is never equal to a number, containers compare deeply."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
