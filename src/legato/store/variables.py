"""Checks on variables that arrive from outside: a JSON object, of bounded size."""

from __future__ import annotations

import math
from typing import Any

import orjson

from legato.errors import PayloadTooLarge, VariablesInvalid

MAX_VARIABLES_BYTES = 1_048_576
MAX_DEPTH = 64


def check_variables(value: Any, *, where: str, limit: int = MAX_VARIABLES_BYTES) -> dict[str, Any]:
    """Return `value` if it is a JSON object within `limit` bytes; otherwise say what is wrong."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VariablesInvalid(f"{where}: variables must be a JSON object, not {type(value).__name__}")
    _check(value, where, "", 0)
    size = len(orjson.dumps(value))
    if size > limit:
        raise PayloadTooLarge(
            f"{where}: variables are {size} bytes, more than the limit of {limit}",
            details={"size": size, "limit": limit},
        )
    return value


def _check(value: Any, where: str, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise VariablesInvalid(f"{where}: variables nest deeper than {MAX_DEPTH} levels at {path or '/'}")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise VariablesInvalid(f"{where}: key {key!r} at {path or '/'} is not a string")
            _check(item, where, f"{path}/{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, where, f"{path}/{index}", depth + 1)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise VariablesInvalid(f"{where}: {value} at {path} is not a JSON number")
    elif not isinstance(value, str | int | bool) and value is not None:
        raise VariablesInvalid(f"{where}: value at {path} is a {type(value).__name__}, which is not JSON")
