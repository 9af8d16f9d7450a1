"""Checks on values that arrive from outside: variables (a JSON object of bounded size) and text.

Both databases refuse some values that JSON and Python accept, and the refusal would come
late, as a driver error in the middle of a transaction: SQLite stores integers in 64 bits
(signed), orjson writes integers up to 2^64 - 1 and no string with a lone surrogate
(`"\\ud800"` is valid JSON but not valid Unicode), and PostgreSQL's text columns cannot
hold a NUL character. These checks name the value at fault before anything is written.
Variables are stored as JSON text, where a NUL is escaped, so NUL is allowed inside them.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from legato.errors import PayloadTooLarge, VariablesInvalid
from legato.store.sealing import SEALED, TEXT_PREFIX

MAX_VARIABLES_BYTES = 1_048_576
MAX_DEPTH = 64
# What orjson can write: signed 64-bit below zero, unsigned 64-bit above.
MIN_JSON_INTEGER = -(2**63)
MAX_JSON_INTEGER = 2**64 - 1
# What a database integer column holds (SQLite INTEGER, PostgreSQL BIGINT).
MAX_STORED_INTEGER = 2**63 - 1


def check_variables(value: Any, *, where: str, limit: int = MAX_VARIABLES_BYTES) -> dict[str, Any]:
    """Return `value` if it is a JSON object within `limit` bytes; otherwise say what is wrong."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VariablesInvalid(f"{where}: variables must be a JSON object, not {type(value).__name__}")
    problem = _check(value, "", 0, strings=False)
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError:  # a lone surrogate: walk again to find where
        problem = problem or _check(value, "", 0, strings=True) or ("/", "the variables are not JSON")
        size = 0
    if problem is not None:
        path, message = problem
        raise VariablesInvalid(f"{where}: {message} at {path}", details={"path": path})
    if size > limit:
        raise PayloadTooLarge(
            f"{where}: variables are {size} bytes, more than the limit of {limit}",
            details={"size": size, "limit": limit},
        )
    return value


def variables_problem(value: Any) -> tuple[str, str] | None:
    """The first value in `value` that is not storable JSON, as (JSON pointer, what is wrong)."""
    return _check(value, "", 0, strings=True)


def text_problem(value: str) -> str | None:
    """What makes `value` unstorable as database text (a NUL, a lone surrogate), or None."""
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    if not _is_unicode(value):
        return "contains a lone surrogate (not valid Unicode)"
    return None


def _check(value: Any, path: str, depth: int, *, strings: bool) -> tuple[str, str] | None:
    # `strings=False` skips encoding every string: orjson finds lone surrogates for free, and
    # only then is the walk repeated to name the path.
    if depth > MAX_DEPTH:
        return path or "/", f"variables nest deeper than {MAX_DEPTH} levels"
    if isinstance(value, dict):
        if SEALED in value:  # reading it back would take it for an encrypted value (sealing.py)
            return f"{path}/{_escape(SEALED)}", f"the key {SEALED!r} is reserved for encrypted values"
        for key, item in value.items():
            if not isinstance(key, str):
                return path or "/", f"key {key!r} is not a string"
            if strings and not _is_unicode(key):
                return f"{path}/{key!r}", "the key contains a lone surrogate (not valid Unicode)"
            child = f"{path}/{_escape(key)}"
            found = _check(item, child, depth + 1, strings=strings)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _check(item, f"{path}/{index}", depth + 1, strings=strings)
            if found is not None:
                return found
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int):
        if not MIN_JSON_INTEGER <= value <= MAX_JSON_INTEGER:
            return path or "/", f"the integer is outside the 64-bit range ({MIN_JSON_INTEGER} to {MAX_JSON_INTEGER})"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return path or "/", f"{value} is not a JSON number"
    elif isinstance(value, str):
        if strings and not _is_unicode(value):
            return path or "/", "the string contains a lone surrogate (not valid Unicode)"
        if value.startswith(TEXT_PREFIX):
            return path or "/", f"text starting {TEXT_PREFIX!r} is reserved for encrypted values"
    else:
        return path or "/", f"a {type(value).__name__} is not JSON"
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _escape(key: str) -> str:
    """A JSON pointer reference token (RFC 6901): `~` and `/` escaped."""
    return key.replace("~", "~0").replace("/", "~1")
