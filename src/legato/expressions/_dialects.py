"""Which dialect a text is written in, and compiling it in that dialect (DESIGN.md, "Expressions").

Text that starts with `=` is FEEL, as Camunda 8 models write it; text that starts with `${`
or `#{`, or holds one outside a quoted string, is JUEL, as Camunda 7 models write it; anything
else is the Legato dialect.
"""

from __future__ import annotations

from typing import Literal

from legato.expressions._interface import Expression
from legato.expressions.feel import compile_feel
from legato.expressions.juel import compile_juel
from legato.expressions.python import compile_legato
from legato.expressions.python._source import _check_length


def _juel_marker_outside_quotes(source: str) -> bool:
    """Whether `${` or `#{` appears outside a quoted string, as in `Hello ${name}`.

    In the Legato dialect `$` and `#{` can only appear inside quotes (`'cost in ${x}'` is a
    string), so one outside them means JUEL text. A quote left open (`It's ${x}`) was not
    a string either, so a marker anywhere then counts.
    """
    quote: str | None = None
    position = 0
    while position < len(source):
        char = source[position]
        if quote is not None:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "$#" and source.startswith("{", position + 1):
            return True
        position += 1
    return quote is not None and ("${" in source or "#{" in source)


def dialect_of(source: str) -> Literal["legato", "feel", "juel"]:
    """Which dialect `compile_expression` reads `source` as.

    `=...` is FEEL (Camunda 8 marks its expressions so), `${...}` and `#{...}` are JUEL
    (Camunda 7), and so is text with such a part outside quotes (`Hello ${name}`); the rest
    is the Legato dialect. `==` at the start is not a FEEL marker.
    """
    text = source.strip()
    if text.startswith("=") and not text.startswith("=="):
        return "feel"
    if text.startswith(("${", "#{")) or _juel_marker_outside_quotes(text):
        return "juel"
    return "legato"


def compile_expression(source: str) -> Expression:
    """Check and compile `source` in its dialect; ExpressionInvalid (with its column) if it is not allowed."""
    _check_length(source, "expression")
    dialect = dialect_of(source)
    if dialect == "feel":
        return compile_feel(source)
    if dialect == "juel":
        return compile_juel(source)
    return compile_legato(source)
