"""A compiled Legato-dialect expression, and the errors its evaluation reports."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from legato.errors import EvaluationError
from legato.expressions import _deadline
from legato.expressions._budget import MAX_WORK
from legato.expressions._interface import Expression
from legato.expressions.python._guards import _Fault
from legato.expressions.python._source import _check_bounds, _check_length, _parse, _unwrap
from legato.expressions.python._translate import _build, _Translator

Function = Callable[[Mapping[str, Any], list[int]], Any]


# --- evaluation errors --------------------------------------------------------------------


def _failure(
    error: Exception,
    label: str,
    names: frozenset[str],
    variables: Mapping[str, Any],
    details: dict[str, Any],
) -> EvaluationError:
    if isinstance(error, _deadline.CpuLimitExceeded):
        message = str(error)
        details = {**details, "cpu_limit_ms": error.limit_ms}
    elif isinstance(error, _Fault):
        message = str(error)
    elif isinstance(error, KeyError) and error.args and error.args[0] in names and error.args[0] not in variables:
        message = f"variable {error.args[0]!r} is not defined"
        details = {**details, "variable": error.args[0]}
    elif isinstance(error, ZeroDivisionError):
        message = "division by zero"
    elif isinstance(error, OverflowError):
        message = f"number out of range ({error.args[-1] if error.args else error})"
    elif isinstance(error, RecursionError):
        message = "the data is nested too deeply"
    elif isinstance(error, MemoryError):
        message = "out of memory"
    else:
        message = str(error) or type(error).__name__
    return EvaluationError(f"{label}: {message}", details=details)


@dataclass(frozen=True, kw_only=True, slots=True)
class _LegatoExpression(Expression):
    """An expression in the Legato dialect, compiled to a guarded Python function."""

    dialect: ClassVar[str] = "legato"
    _function: Function = field(repr=False, compare=False)
    _bounded: bool = field(default=True, repr=False, compare=False)
    """False for code without guards or calls: it cannot repeat work, its size bounds it."""

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        if not self._bounded:
            try:
                return self._function(variables, [MAX_WORK])
            except Exception as error:
                details = {"expression": self.source}
                raise _failure(error, f"expression {self.source!r}", self.names, variables, details) from error
        began = _deadline.begin("expression")
        try:
            return self._function(variables, [MAX_WORK])
        except Exception as error:
            label = f"expression {self.source!r}"
            details = {"expression": self.source}
            raise _failure(error, label, self.names, variables, details) from error
        finally:
            _deadline.end(began)


def compile_legato(source: str) -> Expression:
    """Check and compile `source` in the Legato dialect; ExpressionInvalid (with its column) if it is not allowed."""
    _check_length(source, "expression")
    text = _unwrap(source)
    if not text.body:
        raise text.invalid("the expression is empty")
    tree = _parse(text, "eval")
    _check_bounds(tree, text)
    assert isinstance(tree, ast.Expression)
    translator = _Translator(text)
    try:
        (function,) = _build([("_evaluate", "_vars, _work", translator.translate(tree.body))])
    except RecursionError:  # within MAX_DEPTH, but called from deep in the stack
        raise text.invalid("the expression is nested too deeply") from None
    return _LegatoExpression(
        source=source, names=frozenset(translator.names), _function=function, _bounded=translator.calls
    )
