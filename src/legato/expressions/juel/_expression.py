"""Compiled JUEL: composite text (`Hello ${name}`) and `JuelExpression`, the form the rest of Legato uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from legato.errors import EvaluationError, ExpressionInvalid
from legato.expressions import _deadline
from legato.expressions._budget import MAX_SOURCE_LENGTH
from legato.expressions._interface import Expression
from legato.expressions.juel._lexer import _Source, _tokens
from legato.expressions.juel._parser import Run, _Parser
from legato.expressions.juel._values import _describe, _Fault, _java_text, _Undefined

# --- composites and the public interface --------------------------------------------------


def _parts(source: _Source) -> tuple[list[str | Run], frozenset[str]]:
    """Literal text and compiled `${...}` bodies, in order (EL 2.2, 1.2.1.1 composite expressions)."""
    text = source.original.strip()
    offset = len(source.original) - len(source.original.lstrip())
    found: list[str | Run] = []
    literal: list[str] = []
    position, markers = 0, set()
    names: set[str] = set()
    while position < len(text):
        if text.startswith(("\\${", "\\#{"), position):
            literal.append(text[position + 1 : position + 3])
            position += 3
            continue
        if text.startswith(("${", "#{"), position):
            markers.add(text[position])
            if len(markers) > 1:
                raise source.invalid("${...} and #{...} cannot be mixed in one expression", offset + position)
            if literal:
                found.append("".join(literal))
                literal = []
            tokens = _tokens(source, offset + position + 2)
            parser = _Parser(source, tokens)
            try:
                part = parser.expression()
            except RecursionError:
                raise source.invalid("the expression is nested too deeply", offset + position) from None
            if parser.peek().kind != "close":
                parser.fail(f"unexpected {parser.peek().text!r}", parser.peek())
            names |= parser.names
            found.append(part.run)
            position = tokens[-1].start + 1 - offset
            continue
        literal.append(text[position])
        position += 1
    if literal:
        found.append("".join(literal))
    return found, frozenset(names)


@dataclass(frozen=True, kw_only=True, slots=True)
class JuelExpression(Expression):
    """A checked, compiled JUEL expression or composite text (Camunda 7's `${...}`)."""

    dialect: ClassVar[str] = "juel"
    _run: Run = field(repr=False, compare=False)

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        began = _deadline.begin("expression")
        try:
            return self._run(variables)
        except Exception as error:
            details: dict[str, Any] = {"expression": self.source}
            if isinstance(error, _Undefined):
                details["variable"] = error.name
            if isinstance(error, _deadline.CpuLimitExceeded):
                message = str(error)
                details["cpu_limit_ms"] = error.limit_ms
            elif isinstance(error, _Fault):
                message = str(error)
            elif isinstance(error, RecursionError):
                message = "the data is nested too deeply"
            else:
                message = str(error) or type(error).__name__
            raise EvaluationError(f"expression {self.source!r}: {message}", details=details) from error
        finally:
            _deadline.end(began)

    def evaluate_condition(self, variables: Mapping[str, Any]) -> bool:
        """True or false; null is an error, as in Camunda 7 ("condition expression returns null")."""
        result = self.evaluate(variables)
        if isinstance(result, bool):
            return result
        shown = "null" if result is None else _describe(result)
        raise EvaluationError(
            f"expression {self.source!r}: a condition must be true or false, but this one gave {shown}",
            details={"expression": self.source},
        )


def compile_juel(source: str) -> JuelExpression:
    """Check and compile `${...}`, `#{...}` or text containing them; ExpressionInvalid says where it is wrong."""
    if not isinstance(source, str):
        raise TypeError(f"the expression must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionInvalid(
            f"the expression is {len(source):,} characters long; the limit is {MAX_SOURCE_LENGTH:,}",
            source=source[:200] + "...",
        )
    parts, names = _parts(_Source(source))
    if len(parts) == 1 and not isinstance(parts[0], str):
        return JuelExpression(source=source, names=names, _run=parts[0])
    if not parts:
        return JuelExpression(source=source, names=names, _run=lambda variables: "")

    def composite(variables: Mapping[str, Any]) -> str:
        return "".join(part if isinstance(part, str) else _java_text(part(variables)) for part in parts)

    return JuelExpression(source=source, names=names, _run=composite)
