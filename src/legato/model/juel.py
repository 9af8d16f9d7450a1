"""JUEL, the expression language of Camunda 7 models (Unified EL 2.2, JSR 245).

A Camunda 7 BPMN file writes a condition as `${amount > 1000 && approved}` and a mapping as
`Hello ${name}`. This module reads the part of EL those files use: `${...}` and `#{...}`
(evaluated alike: there is no deferred evaluation here), text around them (a composite,
which gives a string), literals, the operators `+ - * / div % mod == != < > <= >= eq ne lt gt
le ge && || ! and or not empty ?:`, and property access `order.total` / `order["total"]`,
which reads a key of a dict or an item of a list and nothing else. The text is parsed by
hand into closures once; nothing is ever handed to `eval`.

EL is a door to Java: in Camunda 7 a method call runs any public method of any object a
variable holds, and `${"".getClass()}` reaches reflection. Here there is no Java and no
object with methods; a call is refused at deploy unless it is one of a few pure ones that
real models use: `execution.getVariable(name)`, `execution.hasVariable(name)` and the value
methods in `METHODS` (`status.equals("ok")`, `tags.contains("vip")`, `name.isEmpty()`...).
Functions (`${fn:x()}`, `${now()}`) and beans are refused for the same reason; arbitrary code
belongs in a task handler.

EL's coercions are kept, because conditions depend on them (EL 2.2, 1.8 and 1.18): `null`
is 0 in arithmetic and false in logic, `"5" + 1` is 6, `x == "5"` compares as numbers when
`x` is a number, `&&` and `||` give booleans. Where Java would overflow a long silently or
divide by zero into Infinity, this module stops with an EvaluationError instead. A variable
that is not defined is an error, as Camunda 7's "Unknown property used in expression".
docs/expressions.md is the user reference.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, ClassVar, Final, NoReturn

from legato.errors import EvaluationError, ExpressionInvalid
from legato.model.expressions import MAX_DEPTH, MAX_NODES, MAX_SOURCE_LENGTH, Expression

__all__ = ["METHODS", "JuelExpression", "compile_juel"]

_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


class _Fault(Exception):
    """An operation EL refuses (a failed coercion, an overflow); the caller names the expression."""


class _Undefined(_Fault):
    """A variable that is not defined; Camunda 7 calls it an unknown property."""

    def __init__(self, name: str) -> None:
        super().__init__(f"variable {name!r} is not defined")
        self.name = name


# --- coercions (EL 2.2, 1.18) -------------------------------------------------------------


def _is_long(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _floating(value: object) -> bool:
    """A Double, or a String that reads as one (EL: contains '.', 'e' or 'E')."""
    return isinstance(value, float) or (isinstance(value, str) and any(c in value for c in ".eE"))


_LONG_TEXT: Final = re.compile(r"[+-]?\d{1,19}")
_DOUBLE_TEXT: Final = re.compile(r"[+-]?(\d{1,400}\.?\d{0,400}|\.\d{1,400})([eE][+-]?\d{1,4})?[fFdD]?")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"text {shown!r}"
    if isinstance(value, bool):
        return "boolean " + ("true" if value else "false")
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, Mapping):
        return "a map"
    return "a list" if isinstance(value, list | tuple) else type(value).__name__


def _to_long(value: Any) -> int:
    if value is None or value == "":
        return 0
    if _is_long(value):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Fault(f"cannot turn {value} into a whole number")
        return int(value)
    if isinstance(value, str) and _LONG_TEXT.fullmatch(value.strip()):
        return _checked(int(value))
    raise _Fault(f"cannot use {_describe(value)} as a number")


def _to_double(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _DOUBLE_TEXT.fullmatch(value.strip()):
        return float(value.strip().rstrip("fFdD"))
    raise _Fault(f"cannot use {_describe(value)} as a number")


def _to_boolean(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() == "true"
    raise _Fault(f"cannot use {_describe(value)} as true or false")


def _double_text(value: float) -> str:
    """Java's Double.toString: `100.0`, `0.001`, `1.0E7`, `1.5E-5`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "e" not in text else format(value, "f")
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    power = len(digits) + int(exponent) - 1
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{power}"


def _java_text(value: Any, *, inner: bool = False) -> str:
    """EL's coercion to String (null is empty text), and Java's toString inside collections."""
    if value is None:
        return "null" if inner else ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, Mapping):
        entries = (f"{_java_text(k, inner=True)}={_java_text(v, inner=True)}" for k, v in value.items())
        return "{" + ", ".join(entries) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java_text(item, inner=True) for item in value) + "]"
    return str(value)


def _checked(result: int) -> int:
    if not _LONG_MIN <= result <= _LONG_MAX:
        raise _Fault("the result does not fit a 64-bit integer (a Java long)")
    return result


# --- operators (EL 2.2, 1.7 to 1.10) ------------------------------------------------------


def _arithmetic(symbol: str, left: Any, right: Any) -> Any:
    """`+`, `-` and `*`: longs unless either side is a double or reads as one."""
    if left is None and right is None:
        return 0
    if _floating(left) or _floating(right):
        a, b = _to_double(left), _to_double(right)
        result = a + b if symbol == "+" else a - b if symbol == "-" else a * b
        if not math.isfinite(result):
            raise _Fault("the result is too large for a number")
        return result
    x, y = _to_long(left), _to_long(right)
    return _checked(x + y if symbol == "+" else x - y if symbol == "-" else x * y)


def _divide(left: Any, right: Any) -> Any:
    if left is None and right is None:
        return 0
    a, b = _to_double(left), _to_double(right)
    if b == 0:
        raise _Fault("division by zero")
    result = a / b
    if not math.isfinite(result):
        raise _Fault("the result is too large for a number")
    return result


def _modulo(left: Any, right: Any) -> Any:
    if left is None and right is None:
        return 0
    if _floating(left) or _floating(right):
        a, b = _to_double(left), _to_double(right)
        if b == 0:
            raise _Fault("division by zero")
        return math.fmod(a, b)
    x, y = _to_long(left), _to_long(right)
    if y == 0:
        raise _Fault("division by zero")
    remainder = abs(x) % abs(y)
    return remainder if x >= 0 else -remainder  # Java's %: the sign of the dividend


def _negate(value: Any) -> Any:
    if value is None:
        return 0
    if _floating(value):
        return -_to_double(value)
    return _checked(-_to_long(value))


def _equal(left: Any, right: Any) -> bool:
    """EL `==` (1.8.2): numbers as numbers, then booleans, then text; null equals only null."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, float) or isinstance(right, float):
        return _to_double(left) == _to_double(right)
    if _is_long(left) or _is_long(right):
        if _floating(left) or _floating(right):
            return _to_double(left) == _to_double(right)
        return _to_long(left) == _to_long(right)
    if isinstance(left, bool) or isinstance(right, bool):
        return _to_boolean(left) == _to_boolean(right)
    if isinstance(left, str) or isinstance(right, str):
        return _java_text(left) == _java_text(right)
    return bool(left == right)


def _compare(left: Any, right: Any) -> int | None:
    """EL `<` and friends (1.8.1): None when either side is null (the comparison is false)."""
    if left is None or right is None:
        return None
    if isinstance(left, float) or isinstance(right, float):
        a, b = _to_double(left), _to_double(right)
    elif _is_long(left) or _is_long(right):
        if _floating(left) or _floating(right):
            a, b = _to_double(left), _to_double(right)
        else:
            a, b = _to_long(left), _to_long(right)
    elif isinstance(left, str) or isinstance(right, str):
        if isinstance(left, bool) or isinstance(right, bool) or not isinstance(left, str) or not isinstance(right, str):
            raise _Fault(f"cannot compare {_describe(left)} with {_describe(right)}")
        a, b = left, right  # type: ignore[assignment]
    elif isinstance(left, bool) and isinstance(right, bool):
        a, b = int(left), int(right)
    else:
        raise _Fault(f"cannot compare {_describe(left)} with {_describe(right)}")
    return -1 if a < b else (1 if a > b else 0)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) == 0
    return False


def _index(base: Any, key: Any, label: str) -> Any:
    """`base.key` and `base[key]`: a key of a map or an item of a list; null on null, as in EL."""
    if base is None:
        return None
    if isinstance(base, Mapping):
        return base.get(key) if isinstance(key, str | int | float | bool) or key is None else None
    if isinstance(base, list | tuple):
        position = _to_long(key)
        return base[position] if 0 <= position < len(base) else None
    raise _Fault(f"{label} is {_describe(base)}, which has no property {_java_text(key)!r}")


# --- methods ------------------------------------------------------------------------------


def _java_equals(left: Any, right: Any) -> bool:
    """Java's Object.equals: the same kind and value (a long never equals a double)."""
    if type(left) is not type(right) and not (isinstance(left, Mapping) and isinstance(right, Mapping)):
        return False
    return bool(left == right)


def _text_argument(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Fault(f"{name}() needs text, not {_describe(value)}")
    return value


def _contains(target: Any, item: Any) -> bool:
    if isinstance(target, str):
        return _text_argument("contains", item) in target
    if isinstance(target, list | tuple):
        return any(_java_equals(element, item) for element in target)
    raise _Fault(f"contains() cannot be called on {_describe(target)}; on a map use containsKey()")


def _size(target: Any) -> int:
    if isinstance(target, list | tuple | Mapping):
        return len(target)
    raise _Fault(f"size() cannot be called on {_describe(target)}; on text use length()")


def _length(target: Any) -> int:
    if isinstance(target, str):
        return len(target)
    raise _Fault(f"length() cannot be called on {_describe(target)}; on a list use size()")


def _is_empty(target: Any) -> bool:
    if isinstance(target, str | list | tuple | Mapping):
        return len(target) == 0
    raise _Fault(f"isEmpty() cannot be called on {_describe(target)}")


def _text_method(name: str, apply: Callable[..., Any]) -> Callable[..., Any]:
    def method(target: Any, *arguments: Any) -> Any:
        if not isinstance(target, str):
            raise _Fault(f"{name}() cannot be called on {_describe(target)}")
        return apply(target, *(_text_argument(name, argument) for argument in arguments))

    return method


def _equals_ignore_case(target: Any, other: Any) -> bool:
    if not isinstance(target, str):
        raise _Fault(f"equalsIgnoreCase() cannot be called on {_describe(target)}")
    return isinstance(other, str) and target.lower() == other.lower()


def _contains_key(target: Any, key: Any) -> bool:
    if not isinstance(target, Mapping):
        raise _Fault(f"containsKey() cannot be called on {_describe(target)}")
    return key in target


_METHODS: Final[dict[str, tuple[int, Callable[..., Any]]]] = {
    "equals": (1, _java_equals),
    "equalsIgnoreCase": (1, _equals_ignore_case),
    "contains": (1, _contains),
    "containsKey": (1, _contains_key),
    "startsWith": (1, _text_method("startsWith", str.startswith)),
    "endsWith": (1, _text_method("endsWith", str.endswith)),
    "isEmpty": (0, _is_empty),
    "size": (0, _size),
    "length": (0, _length),
    "toUpperCase": (0, _text_method("toUpperCase", str.upper)),
    "toLowerCase": (0, _text_method("toLowerCase", str.lower)),
    "trim": (0, _text_method("trim", str.strip)),
    "toString": (0, lambda target: _java_text(target, inner=True)),
}
METHODS: Final = tuple(_METHODS)
"""The methods a JUEL expression may call on a value; `execution.getVariable(name)` and
`execution.hasVariable(name)` besides. Every other call is refused at deploy."""

_REFLECTION: Final = frozenset(
    {"getClass", "class", "forName", "getMethod", "getMethods", "getDeclaredMethod", "invoke", "newInstance",
     "getRuntime", "exec", "getClassLoader", "loadClass", "getConstructor"}
)  # fmt: skip
_CLOCK_FUNCTIONS: Final = frozenset({"now", "dateTime", "today", "currentTime"})


# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "string", "name", "op", "close" (the `}` that ends the expression)
    text: str
    start: int
    value: Any = None


_OPERATORS: Final = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".",
                     "[", "]", "(", ")", ",")  # fmt: skip
_EL3: Final = {
    "+=": "'+=' (EL 3.0 text joining) is not part of JUEL as Camunda 7 uses it",
    "->": "lambda expressions (EL 3.0) are not supported",
    ";": "';' (EL 3.0) is not supported: write one expression",
    "=": "assignment (EL 3.0) is not supported; compare with ==",
    "{": "set and map literals (EL 3.0) are not supported",
}
_KEYWORDS: Final = frozenset(
    {"true", "false", "null", "empty", "not", "and", "or", "div", "mod", "eq", "ne", "lt", "gt", "le", "ge",
     "instanceof"}
)  # fmt: skip
_WORD_OPERATORS: Final = {
    "and": "&&", "or": "||", "not": "!", "div": "/", "mod": "%",
    "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
}  # fmt: skip
_NUMBER: Final = re.compile(r"\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class _Source:
    original: str

    def invalid(self, message: str, offset: int | None) -> ExpressionInvalid:
        if offset is None:
            return ExpressionInvalid(message, source=self.original)
        line_start = self.original.rfind("\n", 0, offset) + 1
        if "\n" in self.original:
            message = f"line {self.original.count(chr(10), 0, offset) + 1}: {message}"
        return ExpressionInvalid(message, source=self.original, offset=offset - line_start)


def _tokens(source: _Source, position: int) -> list[_Token]:
    """The tokens of one `${...}` body from `position` up to and including its closing `}`."""
    text = source.original
    found: list[_Token] = []
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            raise source.invalid("this expression is never closed with '}'", position)
        start, char = position, text[position]
        if char == "}":
            found.append(_Token("close", "}", start))
            return found
        number = _NUMBER.match(text, position) if char.isdigit() or char == "." else None
        if number and (char != "." or number.end() > position + 1):
            literal = number.group()
            position = number.end()
            if any(c in literal for c in ".eE"):
                value: Any = float(literal)
                if not math.isfinite(value):
                    raise source.invalid("this number is too large", start)
            else:
                value = int(literal)
                if value > _LONG_MAX:
                    raise source.invalid("this whole number does not fit a 64-bit integer (a Java long)", start)
            found.append(_Token("number", literal, start, value))
        elif char in "'\"":
            position, value = _string(source, position)
            found.append(_Token("string", text[start:position], start, value))
        elif char.isalpha() or char in "_$":
            while position < len(text) and (text[position].isalnum() or text[position] in "_$"):
                position += 1
            found.append(_Token("name", text[start:position], start))
        else:
            for refused, message in _EL3.items():
                if text.startswith(refused, position) and not text.startswith("==", position):
                    raise source.invalid(message, position)
            operator_text = next((o for o in _OPERATORS if text.startswith(o, position)), None)
            if operator_text is None:
                raise source.invalid(f"unexpected character {char!r}", position)
            position += len(operator_text)
            found.append(_Token("op", operator_text, start))


def _string(source: _Source, position: int) -> tuple[int, str]:
    text, quote = source.original, source.original[position]
    start, position = position, position + 1
    parts: list[str] = []
    while position < len(text):
        char = text[position]
        if char == quote:
            return position + 1, "".join(parts)
        if char == "\\":
            escape = text[position + 1 : position + 2]
            if escape not in ("'", '"', "\\"):
                raise source.invalid(f"unknown escape \\{escape}; a string may escape only \\' \\\" and \\\\", position)
            parts.append(escape)
            position += 2
            continue
        parts.append(char)
        position += 1
    raise source.invalid("this string is never closed", start)


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
            return implementation(value, *(run(variables) for run in runs))

        return _Part(call, target.start, depth=_depth(target, *arguments))


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
        try:
            return self._run(variables)
        except Exception as error:
            details: dict[str, Any] = {"expression": self.source}
            if isinstance(error, _Undefined):
                details["variable"] = error.name
            if isinstance(error, _Fault):
                message = str(error)
            elif isinstance(error, RecursionError):
                message = "the data is nested too deeply"
            else:
                message = str(error) or type(error).__name__
            raise EvaluationError(f"expression {self.source!r}: {message}", details=details) from error

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
