"""The JUEL parser: a Pratt parser that builds closures directly, checking calls and depth as it goes."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, NoReturn

from legato.expressions._budget import MAX_DEPTH, MAX_NODES
from legato.expressions._deadline import tick
from legato.expressions.juel._lexer import _KEYWORDS, _WORD_OPERATORS, _Source, _Token
from legato.expressions.juel._values import (
    _CLOCK_FUNCTIONS,
    _METHODS,
    _REFLECTION,
    METHODS,
    _arithmetic,
    _compare,
    _describe,
    _divide,
    _empty,
    _equal,
    _Fault,
    _index,
    _modulo,
    _negate,
    _to_boolean,
    _Undefined,
)

# --- the parser, which builds closures ----------------------------------------------------

Run = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class _Part:
    """A parsed sub-expression: how to compute it, and what it is for the checks on calls."""

    run: Run
    start: int
    identifier: str | None = None  # a bare name, such as `execution`
    label: str = ""  # how an error names it: `order.lines[0]`
    text: str | None = None  # the value of a string literal
    depth: int = 1  # how deeply its closures nest, which evaluation recurses on


def _depth(*parts: _Part) -> int:
    return 1 + max((part.depth for part in parts), default=0)


_INFIX_POWER: Final = {"?": 10, "||": 20, "&&": 30, "==": 40, "!=": 40, "<": 50, ">": 50, "<=": 50, ">=": 50,
                       "+": 60, "-": 60, "*": 70, "/": 70, "%": 70, ".": 90, "[": 90, "(": 90}  # fmt: skip
_PREFIX_POWER: Final = 80
_ORDER_TESTS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_COMPARISONS: Final[dict[str, Callable[[int], bool]]] = {
    "<": lambda o: o < 0,
    ">": lambda o: o > 0,
    "<=": lambda o: o <= 0,
    ">=": lambda o: o >= 0,
}


class _Parser:
    def __init__(self, source: _Source, tokens: list[_Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.nodes = 0
        self.names: set[str] = set()

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def symbol(self, token: _Token) -> str | None:
        if token.kind == "op":
            return token.text
        if token.kind == "name":
            return _WORD_OPERATORS.get(token.text)
        return None

    def fail(self, message: str, token: _Token) -> NoReturn:
        raise self.source.invalid(message, token.start)

    def expect(self, text: str, context: str) -> _Token:
        token = self.peek()
        if self.symbol(token) != text:
            self.fail(f"expected '{text}' {context}", token)
        return self.advance()

    def counted(self, part: _Part) -> _Part:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.source.invalid(f"the expression has too many parts (limit {MAX_NODES:,})", part.start)
        if part.depth > MAX_DEPTH:
            raise self.source.invalid(f"the expression is nested too deeply (limit {MAX_DEPTH})", part.start)
        return part

    def expression(self, power: int = 0) -> _Part:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"the expression is nested too deeply (limit {MAX_DEPTH})", self.peek())
        left = self.prefix()
        while True:
            token = self.peek()
            if token.kind == "name" and token.text == "instanceof":
                self.fail("'instanceof' is reserved in EL and not supported", token)
            symbol = self.symbol(token)
            strength = None if symbol is None or token.text in ("not",) else _INFIX_POWER.get(symbol)
            if strength is None or strength <= power:
                break
            self.advance()
            left = self.counted(self.infix(left, token, symbol or "", strength))
        self.depth -= 1
        return left

    def prefix(self) -> _Part:
        first = self.position == 0
        token = self.advance()
        if token.kind in ("number", "string"):
            value = token.value
            text = value if token.kind == "string" else None
            return self.counted(_Part(lambda variables: value, token.start, label=token.text, text=text))
        if token.kind == "close":
            self.fail("the expression is empty" if first else "the expression ends too early", token)
        if token.kind == "name":
            return self.counted(self.name(token))
        if token.text == "(":
            inner = self.expression()
            self.expect(")", "to close '('")
            return inner
        if token.text in ("-", "!"):
            return self.counted(self.unary(token.text, token))
        if token.text == "[":
            self.fail("list literals (EL 3.0) are not supported", token)
        self.fail(f"unexpected {token.text!r}", token)

    def unary(self, symbol: str, token: _Token) -> _Part:
        inner = self.expression(_PREFIX_POWER)
        operand, depth = inner.run, _depth(inner)
        if symbol == "-":
            return _Part(lambda variables: _negate(operand(variables)), token.start, depth=depth)
        if symbol == "!":

            def negation(variables: Mapping[str, Any]) -> bool:
                value = operand(variables)
                return not (value if value is True or value is False else _to_boolean(value))

            return _Part(negation, token.start, depth=depth)
        return _Part(lambda variables: _empty(operand(variables)), token.start, depth=depth)

    def name(self, token: _Token) -> _Part:
        text = token.text
        constants = {"true": True, "false": False, "null": None}
        if text in constants:
            constant = constants[text]
            return _Part(lambda variables: constant, token.start, label=text)
        if text == "not":
            return self.unary("!", token)
        if text == "empty":
            return self.unary("empty", token)
        if text == "instanceof":
            self.fail("'instanceof' is reserved in EL and not supported", token)
        if text in _KEYWORDS:
            self.fail(f"unexpected {text!r}", token)
        if self.symbol(self.peek()) == ":" and self.peek(1).kind == "name" and self.symbol(self.peek(2)) == "(":
            self.fail(f"functions such as {text}:{self.peek(1).text}() are not available; use a task handler", token)
        if self.symbol(self.peek()) == "(":
            if text in _CLOCK_FUNCTIONS:
                self.fail(f"{text}() is not available: expressions have no clock; put the time in a variable", token)
            self.fail(f"functions such as {text}() are not available; use a task handler", token)
        if text == "execution":
            if self.symbol(self.peek()) != ".":
                self.refuse_execution(token)
            return _Part(lambda variables: None, token.start, identifier=text, label=text)
        self.names.add(text)

        def read(variables: Mapping[str, Any]) -> Any:
            if text in variables:
                return variables[text]
            raise _Undefined(text)

        return _Part(read, token.start, identifier=text, label=text)

    def infix(self, left: _Part, token: _Token, symbol: str, strength: int) -> _Part:
        if symbol == "?":
            then = self.expression()
            self.expect(":", "in 'condition ? a : b'")
            otherwise = self.expression(strength - 1)
            condition, yes, no = left.run, then.run, otherwise.run
            depth = _depth(left, then, otherwise)
            return _Part(lambda v: yes(v) if _to_boolean(condition(v)) else no(v), left.start, depth=depth)
        if symbol == ".":
            key = self.advance()
            if key.kind != "name" or key.text in _KEYWORDS:
                self.fail("expected a property name after '.'", key)
            if self.symbol(self.peek()) == "(":
                return self.method(left, key)
            if left.identifier == "execution":
                self.refuse_execution(key)
            if key.text in _REFLECTION:
                self.fail(f"'{key.text}' is refused: in Camunda 7 it reaches Java reflection", key)
            base, name, base_label = left.run, key.text, left.label

            def member(variables: Mapping[str, Any]) -> Any:
                value = base(variables)
                if type(value) is dict:
                    return value.get(name)
                return _index(value, name, base_label)

            return _Part(member, left.start, label=f"{left.label}.{name}", depth=_depth(left))
        if symbol == "[":
            index = self.expression()
            self.expect("]", "to close '['")
            if self.symbol(self.peek()) == "(":
                self.fail("only a few methods can be called, by name; see the documentation", self.peek())
            return replace(self.property(left, index.run, f"{left.label}[...]"), depth=_depth(left, index))
        if symbol == "(":
            self.fail("only a few methods can be called, by name; see the documentation", token)
        right = self.expression(strength)
        return replace(self.binary(symbol, left, right), depth=_depth(left, right))

    def binary(self, symbol: str, left: _Part, right: _Part) -> _Part:
        a, b = left.run, right.run
        if symbol in ("&&", "||"):
            stop = symbol == "||"  # the value of the left side that decides without the right

            def logic(variables: Mapping[str, Any]) -> bool:
                x = a(variables)
                if (x if x is True or x is False else _to_boolean(x)) is stop:
                    return stop
                y = b(variables)
                return y if y is True or y is False else _to_boolean(y)

            return _Part(logic, left.start)
        if symbol == "==":
            return _Part(lambda v: _equal(a(v), b(v)), left.start)
        if symbol == "!=":
            return _Part(lambda v: not _equal(a(v), b(v)), left.start)
        if symbol in _COMPARISONS:
            holds = _COMPARISONS[symbol]

            test = _ORDER_TESTS[symbol]

            def compare(variables: Mapping[str, Any]) -> bool:
                x, y = a(variables), b(variables)
                if (type(x) is int or type(x) is float) and (type(y) is int or type(y) is float):
                    return test(x, y)
                if x is None and y is None:
                    return symbol in ("<=", ">=")  # EL 1.8.1: A == B first, then null is false
                ordering = _compare(x, y)
                return ordering is not None and holds(ordering)

            return _Part(compare, left.start)
        if symbol == "/":
            return _Part(lambda v: _divide(a(v), b(v)), left.start)
        if symbol == "%":
            return _Part(lambda v: _modulo(a(v), b(v)), left.start)
        return _Part(lambda v: _arithmetic(symbol, a(v), b(v)), left.start)

    def property(self, left: _Part, key: Run, label: str) -> _Part:
        base, base_label = left.run, left.label or "the value"
        return _Part(lambda v: _index(base(v), key(v), base_label), left.start, label=label)

    def refuse_execution(self, token: _Token) -> NoReturn:
        self.fail(
            "there is no execution object here; only execution.getVariable(name) and "
            "execution.hasVariable(name) are available",
            token,
        )

    def arguments(self) -> list[_Part]:
        self.expect("(", "to start the arguments")
        found: list[_Part] = []
        while self.symbol(self.peek()) != ")":
            if found:
                self.expect(",", "between arguments")
            found.append(self.expression())
        self.advance()
        return found

    def method(self, target: _Part, name: _Token) -> _Part:
        method = name.text
        if target.identifier == "execution":
            if method not in ("getVariable", "hasVariable"):
                self.refuse_execution(name)
            arguments = self.arguments()
            if len(arguments) != 1:
                self.fail(f"execution.{method}() takes the variable name", name)
            variable = arguments[0].run
            if arguments[0].text is not None:
                self.names.add(arguments[0].text)

            def lookup(variables: Mapping[str, Any]) -> Any:
                key = variable(variables)
                if not isinstance(key, str):
                    raise _Fault(f"execution.{method}() needs a variable name, not {_describe(key)}")
                return variables.get(key) if method == "getVariable" else key in variables

            return _Part(lookup, target.start, depth=_depth(target, *arguments))
        if method in _REFLECTION:
            self.fail(f"{method}() is refused: in Camunda 7 it reaches Java reflection and from there any code", name)
        if method not in _METHODS:
            known = ", ".join(f"{m}()" for m in METHODS)
            self.fail(
                f"{method}() cannot be called: a method call runs code; the methods available are {known}, "
                "and execution.getVariable(name)",
                name,
            )
        count, implementation = _METHODS[method]
        arguments = self.arguments()
        if len(arguments) != count:
            self.fail(f"{method}() takes {count} argument{'s' if count != 1 else ''} ({len(arguments)} given)", name)
        base, runs, label = target.run, [argument.run for argument in arguments], target.label or "the value"

        def call(variables: Mapping[str, Any]) -> Any:
            value = base(variables)
            if value is None:
                raise _Fault(f"{label} is null, so {method}() cannot be called on it")
            tick()
            return implementation(value, *(run(variables) for run in runs))

        return _Part(call, target.start, depth=_depth(target, *arguments))
