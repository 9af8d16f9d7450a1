"""FEEL tokens: the text of an expression cut into names, numbers, strings and operators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from legato.errors import ExpressionInvalid

# --- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "string", "name", "op", "end"
    text: str
    start: int
    value: Any = None
    quoted: bool = False  # a `backtick` name, never a keyword


_OPERATORS: Final = ("..", "**", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "(", ")", "[", "]", "{", "}")
_SINGLE: Final = frozenset(",.:@")
_EXPONENT: Final = re.compile(r"[eE][+-]?\d{1,5}")
_ESCAPES: Final = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_KEYWORDS: Final = frozenset(
    {"and", "or", "if", "then", "else", "for", "in", "return", "some", "every", "satisfies", "between",
     "instance", "of", "function", "true", "false", "null"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Source:
    """The text as written and the part of it that holds the FEEL."""

    original: str
    start: int
    end: int

    def invalid(self, message: str, offset: int | None) -> ExpressionInvalid:
        if offset is None:
            return ExpressionInvalid(message, source=self.original)
        offset = max(0, min(offset, len(self.original)))
        line_start = self.original.rfind("\n", 0, offset) + 1
        if "\n" in self.original:
            message = f"line {self.original.count(chr(10), 0, offset) + 1}: {message}"
        return ExpressionInvalid(message, source=self.original, offset=offset - line_start)


def _tokens(source: _Source) -> list[_Token]:
    text, position, end = source.original, source.start, source.end
    found: list[_Token] = []
    while True:
        while position < end and text[position].isspace():
            position += 1
        if text.startswith("//", position, end):
            newline = text.find("\n", position, end)
            position = end if newline < 0 else newline
            continue
        if text.startswith("/*", position, end):
            closing = text.find("*/", position + 2, end)
            if closing < 0:
                raise source.invalid("a /* comment is never closed", position)
            position = closing + 2
            continue
        if position >= end:
            found.append(_Token("end", "", end))
            return found
        start, char = position, text[position]
        if char.isdigit() or (char == "." and position + 1 < end and text[position + 1].isdigit()):
            while position < end and text[position].isdigit():
                position += 1
            if position + 1 < end and text[position] == "." and text[position + 1].isdigit():
                position += 1
                while position < end and text[position].isdigit():
                    position += 1
            exponent = _EXPONENT.match(text, position, end)
            if exponent:  # DMN 1.5: 1.2e3, 5E-2
                position = exponent.end()
            literal = text[start:position]
            try:
                value: Any = Decimal(literal) if "." in literal or exponent else int(literal)
            except (ValueError, ArithmeticError):
                raise source.invalid("this number is too long", start) from None
            if isinstance(value, Decimal) and abs(value.adjusted()) > 6144:
                raise source.invalid("this number is beyond decimal128 (exponents up to 6144)", start)
            found.append(_Token("number", literal, start, value))
        elif char == '"':
            position, value = _string(source, position)
            found.append(_Token("string", text[start:position], start, value))
        elif char == "`":
            closing = text.find("`", position + 1, end)
            if closing <= position + 1:
                raise source.invalid("a `name` in backticks is never closed", position)
            position = closing + 1
            found.append(_Token("name", text[start + 1 : closing], start, quoted=True))
        elif char.isalpha() or char in "_?":
            position += 1
            if char != "?":
                while position < end and (
                    text[position].isalnum()
                    or text[position] == "_"
                    or (text[position] == "'" and text[position + 1 : position + 2].isalpha())  # `Applicant's`
                ):
                    position += 1
            found.append(_Token("name", text[start:position], start))
        else:
            operator_text = next((o for o in _OPERATORS if text.startswith(o, position, end)), None)
            if operator_text is None and char not in _SINGLE:
                hint = {"&": "; write 'and'", "|": "; write 'or'", "!": "; write not(...) or !="}.get(char, "")
                raise source.invalid(f"unexpected character {char!r}{hint}", position)
            operator_text = operator_text or char
            position += len(operator_text)
            found.append(_Token("op", operator_text, start))


def _string(source: _Source, position: int) -> tuple[int, str]:
    """A string literal (DMN 1.5, grammar rules 65-66): `\\"`, `\\\\`, `\\n`, `\\r`, `\\t`, `\\'`,
    `\\uXXXX` (a surrogate pair is one character) and `\\UXXXXXX`. A backslash before anything
    else is kept with it, so a regular expression such as `"\\d+"` reads as it is written."""
    text, end = source.original, source.end
    start, position = position, position + 1
    parts: list[str] = []
    while position < end:
        char = text[position]
        if char == '"':
            return position + 1, _pairs("".join(parts))
        if char == "\\":
            escape = text[position + 1 : position + 2]
            if escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                position += 2
                continue
            digits = {"u": 4, "U": 6}.get(escape)
            code = text[position + 2 : position + 2 + digits] if digits else ""
            if digits and re.fullmatch(r"[0-9a-fA-F]+", code) and len(code) == digits:
                value = int(code, 16)
                if value > 0x10FFFF:
                    raise source.invalid(f"\\{escape}{code} is not a Unicode code point", position)
                parts.append(chr(value))
                position += 2 + digits
                continue
            if digits:
                raise source.invalid(f"\\{escape} needs {digits} hexadecimal digits", position)
            parts.append(char)
            position += 1
            continue
        parts.append(char)
        position += 1
    raise source.invalid("this string is never closed", start)


def _pairs(text: str) -> str:
    """UTF-16 surrogate pairs written as two `\\u` escapes joined into the one character they encode."""
    if not any("\ud800" <= char <= "\udfff" for char in text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
