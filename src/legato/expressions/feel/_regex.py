"""FEEL's regular expressions: `matches`, `replace` and `split` (DMN 1.5, 10.3.4.3).

The spec takes the pattern language of XML Schema (part 2, appendix F) with the XPath 2.0
additions of `fn:matches` (anchors `^` and `$`, reluctant quantifiers, the flags `s`, `m`,
`i`, `x` and `q`). A pattern comes from whoever deploys a model, and a backtracking engine
(Python's `re`) can take exponential time on one such as `(a+)+$`, so patterns run on
RE2, whose time is linear in the text: no pattern can hang a worker.

The pattern is translated, not reinterpreted: XML Schema's `\\d` and `\\w` are Unicode
classes, so they become RE2's `\\p{Nd}` and letter/mark/number/symbol classes. What RE2
cannot run is refused with an evaluation error naming it: back-references (`\\1`, which no
linear-time engine can offer), character class subtraction (`[a-z-[aeiou]]`) and Unicode
block names (`\\p{IsBasicLatin}`). A pattern that is not a regular expression at all, or
invalid flags, give null, as the spec says of an invalid argument.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import re2

from legato.expressions.feel._values import _Fault, _spend

_OPTIONS: Final = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 8 << 20  # bytes RE2 may use for one compiled pattern
_FLAGS: Final = frozenset("smixq")
_WORD_CLASS: Final = r"\p{L}\p{M}\p{N}\p{S}"  # XML Schema's \w: not punctuation, separator or other
_NAME_START: Final = r"\p{L}_:"
_NAME_CHAR: Final = r"\p{L}\p{M}\p{Nd}._:\-\x{B7}"
_ESCAPES_OUTSIDE: Final = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": f"[{_WORD_CLASS}]",
    "W": f"[^{_WORD_CLASS}]",
    "i": f"[{_NAME_START}]",
    "I": f"[^{_NAME_START}]",
    "c": f"[{_NAME_CHAR}]",
    "C": f"[^{_NAME_CHAR}]",
    "s": r"[ \t\n\r]",
    "S": r"[^ \t\n\r]",
}
_ESCAPES_INSIDE: Final = {"d": r"\p{Nd}", "w": _WORD_CLASS, "i": _NAME_START, "c": _NAME_CHAR, "s": r" \t\n\r"}


class _Unsupported(_Fault):
    """A valid XML Schema pattern that a linear-time engine cannot run."""


def _translate(pattern: str, extended: bool) -> str:
    """The XML Schema / XPath pattern as RE2 syntax (`x`: whitespace outside classes dropped)."""
    out: list[str] = []
    position, depth = 0, 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            escape = pattern[position + 1]
            if escape.isdigit():
                raise _Unsupported(
                    f"back-reference \\{escape} in pattern {pattern!r} is not supported: it needs a backtracking "
                    "engine, whose time can grow exponentially"
                )
            if escape in "pP" and pattern.startswith("{Is", position + 2):
                raise _Unsupported(f"Unicode block names (\\{escape}{{Is...}}) are not supported, in {pattern!r}")
            table = _ESCAPES_INSIDE if depth else _ESCAPES_OUTSIDE
            if escape in table:
                out.append(table[escape])
            elif depth and escape in "DWICS":
                raise _Unsupported(f"\\{escape} inside a character class is not supported, in {pattern!r}")
            else:
                out.append(pattern[position : position + 2])
            position += 2
            continue
        if char == "[":
            if depth and position > 0 and pattern[position - 1] == "-":
                raise _Unsupported(f"character class subtraction ([a-z-[aeiou]]) is not supported, in {pattern!r}")
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif extended and not depth and char in " \t\n\r":
            position += 1
            continue
        out.append(char)
        position += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _compile(pattern: str, flags: str) -> Any:
    """The compiled pattern; None when the pattern or the flags are not valid (FEEL: null)."""
    if not set(flags) <= _FLAGS:
        return None
    literal = "q" in flags  # the pattern is plain text, every character itself
    body = "".join(f"\\x{{{ord(char):X}}}" for char in pattern) if literal else _translate(pattern, "x" in flags)
    inline = "".join(flag for flag in "smi" if flag in flags)
    try:
        return re2.compile(f"(?{inline}){body}" if inline else body, _OPTIONS)
    except re2.error:
        return None


def _pattern(pattern: Any, flags: Any) -> Any:
    if not isinstance(pattern, str) or not (flags is None or isinstance(flags, str)):
        return None
    return _compile(pattern, flags or "")


def matches(work: list[int], text: Any, pattern: Any, flags: Any = None) -> Any:
    """`matches(input, pattern, flags?)`: whether the pattern matches somewhere in the text."""
    compiled = _pattern(pattern, flags)
    if compiled is None or not isinstance(text, str):
        return None
    _spend(work, len(text), "matching in this text")
    return compiled.search(text) is not None


def _template(replacement: str) -> list[str | int] | None:
    """XPath's replacement string: `$1` a group, `\\$` and `\\\\` the characters; anything else invalid."""
    parts: list[str | int] = []
    position = 0
    while position < len(replacement):
        char = replacement[position]
        if char == "\\":
            following = replacement[position + 1 : position + 2]
            if following not in ("\\", "$"):
                return None
            parts.append(following)
            position += 2
        elif char == "$":
            end = position + 1
            while end < len(replacement) and replacement[end].isdigit():
                end += 1
            if end == position + 1:
                return None
            parts.append(int(replacement[position + 1 : end]))
            position = end
        else:
            parts.append(char)
            position += 1
    return parts


def replace(work: list[int], text: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    """`replace(input, pattern, replacement, flags?)`: every match replaced; a pattern matching "" is null."""
    compiled = _pattern(pattern, flags)
    if compiled is None or not isinstance(text, str) or not isinstance(replacement, str):
        return None
    if compiled.search("") is not None:
        return None  # XPath FORX0003: a pattern that matches the empty string
    parts = _template(replacement)
    if parts is None:
        return None
    groups = compiled.groups
    _spend(work, len(text), "matching in this text")
    pieces: list[str] = []
    last = 0
    for found in compiled.finditer(text):
        pieces.append(text[last : found.start()])
        for part in parts:
            piece = part if isinstance(part, str) else (found.group(part) or "") if part <= groups else ""
            _spend(work, len(piece), "replacing in this text")
            pieces.append(piece)
        last = found.end()
    pieces.append(text[last:])
    return "".join(pieces)


def split(work: list[int], text: Any, delimiter: Any, flags: Any = None) -> Any:
    """`split(string, delimiter, flags?)`: the text between matches (XPath `fn:tokenize`)."""
    compiled = _pattern(delimiter, flags)
    if compiled is None or not isinstance(text, str):
        return None
    if compiled.search("") is not None:
        return None  # XPath FORX0003
    _spend(work, len(text), "matching in this text")
    if not text:
        return []
    pieces: list[str] = []
    last = 0
    for found in compiled.finditer(text):
        pieces.append(text[last : found.start()])
        last = found.end()
    pieces.append(text[last:])
    return pieces
