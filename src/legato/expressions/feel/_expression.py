"""The compiled FEEL forms the rest of Legato uses: `FeelExpression` and DMN's `UnaryTests`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions import _deadline
from legato.expressions._budget import MAX_SOURCE_LENGTH, MAX_WORK
from legato.expressions._interface import Expression
from legato.expressions.feel._evaluator import Run, TestRun, _any_test, _compile, _compile_test, _Scope
from legato.expressions.feel._lexer import _Source
from legato.expressions.feel._parser import _check_depth, _Parser
from legato.expressions.feel._syntax import _Test
from legato.expressions.feel._values import _Fault, _kind, _to_json

# --- the public interface -----------------------------------------------------------------


def _failure(error: Exception, label: str, details: dict[str, Any]) -> EvaluationError:
    if isinstance(error, _deadline.CpuLimitExceeded):
        message = str(error)
        details = {**details, "cpu_limit_ms": error.limit_ms}
    elif isinstance(error, _Fault):
        message = str(error)
    elif isinstance(error, RecursionError):
        message = "the data is nested too deeply"
    elif isinstance(error, MemoryError):
        message = "out of memory"
    else:
        message = str(error) or type(error).__name__
    return EvaluationError(f"{label}: {message}", details=details)


@dataclass(frozen=True, kw_only=True, slots=True)
class FeelExpression(Expression):
    """A checked, compiled FEEL expression (the text after Camunda 8's `=` marker)."""

    dialect: ClassVar[str] = "feel"
    _run: Run = field(repr=False, compare=False)
    warnings: tuple[str, ...] = ()
    """What is null by FEEL's rules whatever the variables (a wrong number of arguments, a
    duplicate context key, an `@` string that is no date): the caller shows them at deploy."""

    def evaluate_feel(self, variables: Mapping[str, Any]) -> Any:
        """The FEEL value itself: dates, times, durations and ranges are kept as they are."""
        began = _deadline.begin("expression")
        try:
            return self._run(_Scope(variables, None, [MAX_WORK]))
        except Exception as error:
            raise _failure(error, f"expression {self.source!r}", {"expression": self.source}) from error
        finally:
            _deadline.end(began)

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        """The value as JSON: dates, times and durations become ISO 8601 text."""
        value = self.evaluate_feel(variables)
        try:
            return _to_json(value)
        except Exception as error:
            raise _failure(error, f"expression {self.source!r}", {"expression": self.source}) from error

    def evaluate_condition(self, variables: Mapping[str, Any]) -> bool:
        """True or false; a null result is an error, as it is an incident in Camunda 8."""
        result = self.evaluate_feel(variables)
        if isinstance(result, bool):
            return result
        if result is None:
            raise EvaluationError(
                f"expression {self.source!r}: the condition was null, not true or false (in FEEL a missing "
                "variable or a comparison of different types gives null; test for it first, as in "
                "'x != null and x > 10')",
                details={"expression": self.source},
            )
        raise EvaluationError(
            f"expression {self.source!r}: a condition must be true or false, but this one gave {_kind(result)}",
            details={"expression": self.source},
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class UnaryTests:
    """The unary tests of a DMN decision table input entry (DMN 1.3, 10.3.1.3 and 8.3.3)."""

    source: str
    names: frozenset[str]
    """The variables the tests read (not `?`, the input value)."""
    _negated: bool = field(repr=False, compare=False)
    _tests: tuple[TestRun, ...] | None = field(repr=False, compare=False)  # None: `-`, anything matches
    warnings: tuple[str, ...] = ()
    """What is null by FEEL's rules whatever the input (see `FeelExpression.warnings`)."""

    def matches(self, value: Any, variables: Mapping[str, Any]) -> bool:
        """Whether the input `value` satisfies the tests; a null outcome does not match."""
        if self._tests is None:
            return True
        began = _deadline.begin("expression")
        try:
            outcome = _any_test(self._tests, value, _Scope(variables, None, [MAX_WORK]))
        except Exception as error:
            details = {"expression": self.source}
            raise _failure(error, f"input entry {self.source!r}", details) from error
        finally:
            _deadline.end(began)
        if self._negated and outcome is not None:
            outcome = not outcome
        return outcome is True


def _source(source: str, *, strip_marker: bool) -> _Source:
    if not isinstance(source, str):
        raise TypeError(f"the expression must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionInvalid(
            f"the expression is {len(source):,} characters long; the limit is {MAX_SOURCE_LENGTH:,}",
            source=source[:200] + "...",
        )
    start, end = 0, len(source)
    while start < end and source[start].isspace():
        start += 1
    if strip_marker and source.startswith("=", start):
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    return _Source(source, start, end)


def _parsed(parser: _Parser, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except RecursionError:
        raise parser.source.invalid("the expression is nested too deeply", None) from None


def compile_feel(source: str) -> FeelExpression:
    """Check and compile a FEEL expression; a leading `=` (Camunda 8's marker) is allowed."""
    text = _source(source, strip_marker=True)
    parser = _Parser(text)
    if parser.peek().kind == "end":
        raise text.invalid("the expression is empty", None)

    def build() -> FeelExpression:
        tree = parser.expression()
        if parser.peek().kind != "end":
            parser.unexpected(parser.peek())
        _check_depth(tree, text)
        run = _compile(tree)
        return FeelExpression(source=source, names=frozenset(parser.names), _run=run, warnings=tuple(parser.warnings))

    result: FeelExpression = _parsed(parser, build)
    return result


def compile_unary_tests(source: str) -> UnaryTests:
    """Check and compile a decision table input entry: `-`, `"A","B"`, `not(< 5)`, `[1..10]`, `? > 5`."""
    text = _source(source, strip_marker=False)
    parser = _Parser(text)
    if parser.peek().kind == "end" or (parser.at("-") and parser.peek(1).kind == "end"):
        return UnaryTests(source=source, names=frozenset(), _negated=False, _tests=None)

    def tests() -> tuple[_Test, ...]:
        found = [parser.positive_test(0)]
        while parser.at(","):
            parser.advance()
            found.append(parser.positive_test(0))
        return tuple(found)

    def build() -> UnaryTests:
        negated = False
        found: tuple[_Test, ...] | None = None
        if parser.at("not") and parser.at("(", 1):
            parser.position += 2
            with parser.nested():
                inner = tests()
            if parser.at(")") and parser.peek(1).kind == "end":
                negated, found = True, inner
            else:  # `not(x) = y`: an expression that happens to start with not()
                parser.position, parser.names, parser.input_uses = 0, set(), 0
        if found is None:
            found = tests()
            if parser.peek().kind != "end":
                parser.unexpected(parser.peek())
        for test in found:
            _check_depth(test.operand, text)
        compiled = tuple(_compile_test(test) for test in found)
        return UnaryTests(
            source=source,
            names=frozenset(parser.names),
            _negated=negated,
            _tests=compiled,
            warnings=tuple(parser.warnings),
        )

    result: UnaryTests = _parsed(parser, build)
    return result
