"""Expressions between the attributes of Camunda models and Legato's expression fields.

Legato keeps an expression's dialect in its text, as `legato.expressions` reads it:
a leading `=` is FEEL (Camunda 8), a `${...}` wrapper is JUEL (Camunda 7), and text
without a marker is Legato's own dialect. Camunda attributes are different: an attribute
that *may* hold an expression (a Zeebe input `source`, a `correlationKey`, a Camunda 7
input parameter) holds plain text, a static value, unless it carries the marker.

So, reading (`from_camunda`):

- `=orderId`, `=order.customer.id`: a variable name or a dotted path means the same in
  FEEL and in Legato's dialect, so the marker is dropped and the plain form kept. This is
  how a Camunda 8 correlation key `=orderId` becomes the correlation key `orderId`.
- `=anything else`: kept verbatim, marker and all, so it stays FEEL.
- `${invoice.id}`: a path again, so `invoice.id`.
- `${anything else}` (and the deferred `#{...}`): kept as `${...}`, JUEL; text with JUEL
  parts (`Dear ${name}`) is kept as it is, which JUEL reads as a template.
- static text: a quoted string literal, `"gold"`, since a bare word would be a variable.

Writing (`to_camunda`) is the inverse wherever one exists, and says None where none does
(an expression in Legato's dialect that is not a plain path): the writer then puts it in a
`legato:` extension, so that export and import give back exactly the same model.

Timers need none of this: a timer's text is ISO 8601 or an expression in the dialect of
its marker, the same in Camunda and in Legato, so it is kept as written.
"""

from __future__ import annotations

import json
import keyword
import re
from typing import Final

_SEGMENT: Final = r"[A-Za-z][A-Za-z0-9_]*"
_PATH: Final = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
# Words that read as a name but are not one in Python or in FEEL.
_RESERVED: Final = frozenset(keyword.kwlist) | {
    "true",
    "false",
    "null",
    "then",
    "some",
    "every",
    "satisfies",
    "between",
    "instance",
    "of",
    "function",
}


def is_path(text: str) -> bool:
    """A variable name or a dotted path, the same in FEEL, JUEL and Legato's dialect."""
    return bool(_PATH.fullmatch(text)) and not any(part in _RESERVED for part in text.split("."))


def from_camunda(value: str) -> str:
    """The Legato expression for the value of a Camunda attribute that may hold one."""
    text = value.strip()
    if text.startswith("=") and not text.startswith("=="):
        body = text[1:].strip()
        return body if is_path(body) else text
    juel = _juel(text)
    if juel is not None:
        body = juel[2:-1].strip()
        return body if is_path(body) else juel
    if "${" in text or "#{" in text:
        return text  # JUEL text with parts, `Dear ${name}`, which JUEL reads as it is
    return json.dumps(value, ensure_ascii=False)


def to_camunda(expression: str) -> str | None:
    """The attribute value that reads back as `expression`, or None if there is none."""
    candidates = [f"={expression}", expression]
    try:
        literal = json.loads(expression)
    except ValueError:
        literal = None
    if isinstance(literal, str):
        candidates.append(literal)
    for candidate in candidates:
        if from_camunda(candidate) == expression:
            return candidate
    return None


def _juel(text: str) -> str | None:
    """`${body}` or `#{body}` with exactly one expression in it, as `${body}`."""
    if len(text) < 3 or text[0] not in "$#" or text[1] != "{" or text[-1] != "}":
        return None
    body = text[2:-1]
    if "${" in body or "#{" in body or _closes_early(body):
        return None
    return "${" + body + "}"


def _closes_early(body: str) -> bool:
    """Does a `}` outside quotes end the expression before the text does (`${a} ${b}`)?"""
    depth, quote = 0, ""
    for char in body:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return True
    return False
