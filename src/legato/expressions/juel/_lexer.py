"""JUEL tokens: the body of one `${...}` cut into names, numbers, strings and operators."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

from legato.errors import ExpressionInvalid
from legato.expressions.juel._values import _LONG_MAX

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
