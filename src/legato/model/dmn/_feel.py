"""The two FEEL forms a decision uses, compiled once, with errors that name the element.

A decision table holds FEEL in two shapes (DMN 1.3, 8.3): expressions (input expressions,
output entries, literal expressions) and unary tests (input entries, output values). Both
are compiled when the model is built; a mistake becomes a ModelInvalid whose problem names
the element (a rule, an input, a decision) and its line in the DMN file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from legato.errors import EvaluationError, ExpressionInvalid, ModelInvalid, Problem
from legato.expressions.feel import compile_feel, compile_unary_tests


class CompiledExpression(Protocol):
    """What `compile_feel` returns: evaluate it against variables (missing ones are null).

    `evaluate` gives a JSON value (dates become ISO 8601 text), which is what a decision's
    result must be; `evaluate_feel` keeps FEEL's own values, which is what an input value
    must be for unary tests such as `< date("2025-01-01")` to compare it.
    """

    def evaluate(self, variables: Mapping[str, Any]) -> Any: ...

    def evaluate_feel(self, variables: Mapping[str, Any]) -> Any: ...


class CompiledTests(Protocol):
    """What `compile_unary_tests` returns: does a value pass the tests?"""

    def matches(self, value: Any, variables: Mapping[str, Any]) -> bool: ...


def expression(source: str, *, element: str | None, what: str, line: int | None) -> CompiledExpression:
    """`source` compiled as a FEEL expression, or ModelInvalid naming `element` and `line`."""
    if not source.strip():
        raise ModelInvalid([Problem(element=element, message=f"{what}: the expression is empty", line=line)])
    try:
        compiled: CompiledExpression = compile_feel(source)
    except ExpressionInvalid as error:
        raise ModelInvalid([Problem(element=element, message=f"{what}: {error.message}", line=line)]) from None
    return compiled


def unary_tests(source: str, *, element: str | None, what: str, line: int | None) -> CompiledTests:
    """`source` compiled as FEEL unary tests (blank means `-`, any value)."""
    try:
        compiled: CompiledTests = compile_unary_tests(source if source.strip() else "-")
    except ExpressionInvalid as error:
        raise ModelInvalid([Problem(element=element, message=f"{what}: {error.message}", line=line)]) from None
    return compiled


def split_tests(source: str) -> list[str]:
    """The comma-separated items of an output values list, each a unary test of its own.

    `"high","medium","low"` gives three items, whose order is the priority order that the
    PRIORITY and OUTPUT ORDER hit policies use (DMN 1.3, 8.2.11). Commas inside quotes and
    brackets do not split.
    """
    items: list[str] = []
    depth = 0
    quoted = False
    start = 0
    index = 0
    while index < len(source):
        char = source[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append(source[start:index].strip())
            start = index + 1
        index += 1
    items.append(source[start:].strip())
    return [item for item in items if item]


def failure(error: EvaluationError, where: str) -> EvaluationError:
    """The same failure, with the decision (and rule or input) that hit it in front."""
    return EvaluationError(f"{where}: {error.message}", details={**error.details, "where": where})
