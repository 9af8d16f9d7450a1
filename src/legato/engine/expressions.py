"""Compiled-expression cache and the evaluations the engine needs.

Expressions were checked at deploy, so compiling here cannot fail for a deployed model;
the cache makes the per-step cost one dictionary lookup plus the evaluation itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import isodate

from legato.errors import EvaluationError
from legato.expressions import Expression, Script, compile_expression, compile_script
from legato.model.elements import TimerDefinition
from legato.model.timers import TimerInvalid, TimerSpec, parse_timer


@lru_cache(maxsize=4096)
def _expression(source: str) -> Expression:
    return compile_expression(source)


@lru_cache(maxsize=1024)
def _script(source: str) -> Script:
    return compile_script(source)


@lru_cache(maxsize=1024)
def _timer(kind: str, text: str) -> TimerSpec:
    return parse_timer(kind, text)


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    return _expression(source).evaluate(variables)


def condition(source: str, variables: Mapping[str, Any]) -> bool:
    return _expression(source).evaluate_condition(variables)


def run_script(source: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    return _script(source).run(variables)


# The integers a stored JSON number keeps exactly (the store writes JSON with orjson).
_SMALLEST_INT = -(2**63)
_LARGEST_INT = 2**64 - 1


def json_value(value: Any, where: str) -> Any:
    """`value` as it will be stored: tuples become lists; what JSON cannot hold is refused.

    Expressions and scripts can build tuples, sets, dicts with number keys and huge
    integers. Variables and payloads are JSON (DESIGN.md, "Data"), and a value that only
    lives in memory would change (or fail to save) when the instance is stored and loaded,
    so everything the engine computes passes through here before it is kept or handed on.
    """
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if not _SMALLEST_INT <= value <= _LARGEST_INT:
            raise EvaluationError(
                f"{where}: an integer of {value.bit_length()} bits does not fit a stored JSON number (64-bit)"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvaluationError(f"{where}: {value} is not a JSON number")
        return value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise EvaluationError(f"{where}: the key {key!r} is not text, as JSON keys must be")
        return {key: json_value(item, where) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item, where) for item in value]
    raise EvaluationError(f"{where}: a {type(value).__name__} is not a JSON value; use a list")


def is_expression(text: str) -> bool:
    return text.startswith("=") or "${" in text or "#{" in text


def timer_due(
    timer: TimerDefinition,
    variables: Mapping[str, Any],
    now: datetime,
    fired: int,
    previous_due: datetime,
    element: str | None = None,
) -> datetime | None:
    """When a timer is next due, or None when a cycle is exhausted.

    A timer written as an expression (FEEL `=...`, JUEL `${...}`, as Camunda 8 and 7 allow)
    is evaluated now, when the timer is armed, over `variables`: its value is ISO 8601 or
    cron text of the timer's kind (`${reminder}` holding "P3D"), or a typed value FEEL and
    Legato give: a date-time or date (due then), a duration (due that long from now). A
    value that is none of these raises EvaluationError naming the timer's element and
    expression, which the engine makes an incident; a retry evaluates it again.
    """
    text = timer.value
    if is_expression(text):
        # FEEL (`=duration("PT5M")`, Camunda 8) or JUEL (`${dueDate}`, Camunda 7): the
        # dialect follows the marker, as for every other expression
        where = f"timer {element!r} ({timer.kind} {text!r})" if element else f"{timer.kind} timer {text!r}"
        try:
            value = evaluate(text, variables)
        except EvaluationError as error:
            raise EvaluationError(f"{where}: {error.message}", details={"element": element, "timer": text}) from None
        typed = _typed_due(value, now, where)
        if typed is not None:
            return typed
        if not isinstance(value, str):
            raise EvaluationError(
                f"{where} gave {_kind_of(value)}; it must give ISO 8601 text ({_EXAMPLES[timer.kind]}), "
                "a date-time or a duration",
                details={"element": element, "timer": text},
            )
        try:
            spec = _timer(timer.kind, value.strip())
        except TimerInvalid as exc:
            raise EvaluationError(f"{where} gave {value[:80]!r}: {exc.problem}", details={"element": element}) from None
    else:
        spec = _timer(timer.kind, text)
    if fired == 0:
        return spec.first_due(now)
    return spec.next_due(previous_due, fired)


_EXAMPLES = {"duration": "PT30S, P3D", "date": "2026-12-01T10:00:00Z", "cycle": "R3/PT10M, 0 0/5 * * * ?"}


def _typed_due(value: Any, now: datetime, where: str) -> datetime | None:
    """The due time a typed value gives: a date-time or date as it is, a duration from now."""
    try:
        if isinstance(value, datetime):
            return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, timedelta | isodate.Duration):
            if (now + value) < now:
                raise EvaluationError(f"{where} gave a negative duration; a timer cannot be due in the past")
            return now + value
    except (OverflowError, ValueError):
        raise EvaluationError(f"{where} gave a time past year 9999") from None
    return None


def _kind_of(value: Any) -> str:
    if value is None:
        return "null (is the variable set?)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a {type(value).__name__}"
