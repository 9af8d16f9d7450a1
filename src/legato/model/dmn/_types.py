"""A decision's `typeRef` applied to values (DMN 1.5, 7.3.4 and 10.3.2.9.4).

An input expression, an output and a decision's variable may name a type. Values that come
from JSON are converted to it where the spec's conversions say so: an ISO 8601 string for
a `date`, `time`, `dateTime` or duration input is that date, time or duration, and a list of
one item where the type is not a list is the item ("singleton list" conversion). A value of
another type is then null, with a warning naming where and why, as the spec's conformance
rule says. Type names are FEEL's and DMN 1.1's (`feel:number`, `dateTime`,
`dayTimeDuration`), plus Camunda 7's Java names (`integer`, `long`, `double`); a type this
module does not know (an item definition) is not checked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from legato.expressions.feel import compile_feel

_TYPES: Final = {
    "number": "number",
    "integer": "number",
    "long": "number",
    "double": "number",
    "decimal": "number",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "datetime": "date and time",
    "date and time": "date and time",
    "daytimeduration": "days and time duration",
    "days and time duration": "days and time duration",
    "yearmonthduration": "years and months duration",
    "years and months duration": "years and months duration",
    "context": "context",
    "list": "list",
}
_FROM_TEXT: Final = {
    "date": "date(x)",
    "time": "time(x)",
    "date and time": "date and time(x)",
    "days and time duration": "duration(x)",
    "years and months duration": "duration(x)",
}


def feel_type(type_ref: str | None) -> str | None:
    """The FEEL type a typeRef names, or None for none, `Any`, or a type not known here."""
    if not type_ref:
        return None
    name = type_ref.strip()
    if ":" in name:  # `feel:number`, `xsd:string` (DMN 1.1)
        name = name.rsplit(":", 1)[1]
    return _TYPES.get(name.lower())


@lru_cache(maxsize=32)
def _check(kind: str) -> Any:
    return compile_feel(f"x instance of {kind}")


@lru_cache(maxsize=8)
def _convert(source: str) -> Any:
    return compile_feel(source)


def conform(value: Any, type_ref: str | None, *, json: bool) -> tuple[Any, str | None]:
    """`value` as `type_ref` has it, and a warning when it does not fit and becomes null.

    `json`: the value is the JSON form of a result (dates as ISO text), not a FEEL value.
    """
    kind = feel_type(type_ref)
    if kind is None or value is None:
        return value, None
    if kind == "list":
        return (value, None) if isinstance(value, list | tuple) else ([value], None)
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]  # DMN 1.5, 10.3.2.9.4: a singleton list is its item
        if value is None:
            return None, None
    if isinstance(value, str) and kind in _FROM_TEXT:
        converted = _convert(_FROM_TEXT[kind]).evaluate_feel({"x": value})
        if converted is not None and _check(kind).evaluate_feel({"x": converted}) is True:
            return (value if json else converted), None
        return None, f"{value!r} is not a {kind} ({type_ref!r}), so it is null"
    if _check(kind).evaluate_feel({"x": value}) is True:
        return value, None
    shown = repr(value) if isinstance(value, str | int | float | bool) else type(value).__name__
    return None, f"{shown} is not a {kind} ({type_ref!r}), so it is null"
