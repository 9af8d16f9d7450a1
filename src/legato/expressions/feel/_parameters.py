"""The parameter names of FEEL's built-ins, for named arguments: `substring(string: "a", start position: 1)`.

Names and overloads are those of the DMN 1.5 tables (10.3.4). A call with named arguments
takes the first overload that has every name given; a name it leaves out is null in its
place, or dropped at the end (where the parameter is optional).
"""

from __future__ import annotations

from typing import Final

_WRITTEN: Final = {
    "date": ("from", "year, month, day"),
    "time": ("from", "hour, minute, second, offset"),
    "date and time": ("from", "date, time"),
    "duration": ("from",),
    "years and months duration": ("from, to",),
    "number": ("from, grouping separator, decimal separator",),
    "string": ("from",),
    "range": ("from",),
    "not": ("negand",),
    "is": ("value1, value2",),
    "is defined": ("value",),
    "get or else": ("value, default",),
    "assert": ("value, condition, cause",),
    "substring": ("string, start position, length",),
    "string length": ("string",),
    "upper case": ("string",),
    "lower case": ("string",),
    "trim": ("string",),
    "substring before": ("string, match",),
    "substring after": ("string, match",),
    "contains": ("string, match",),
    "starts with": ("string, match",),
    "ends with": ("string, match",),
    "matches": ("input, pattern, flags",),
    "replace": ("input, pattern, replacement, flags",),
    "split": ("string, delimiter, flags",),
    "string join": ("list, delimiter",),
    "list contains": ("list, element",),
    "count": ("list",),
    "sublist": ("list, start position, length",),
    "append": ("list, item",),
    "insert before": ("list, position, newItem",),
    "remove": ("list, position",),
    "reverse": ("list",),
    "index of": ("list, match",),
    "distinct values": ("list",),
    "flatten": ("list",),
    "sort": ("list, precedes",),
    "list replace": ("list, position, newItem", "list, match, newItem"),
    "decimal": ("n, scale",),
    "floor": ("n, scale",),
    "ceiling": ("n, scale",),
    "round up": ("n, scale",),
    "round down": ("n, scale",),
    "round half up": ("n, scale",),
    "round half down": ("n, scale",),
    "abs": ("n",),
    "modulo": ("dividend, divisor",),
    "sqrt": ("number",),
    "log": ("number",),
    "exp": ("number",),
    "odd": ("number",),
    "even": ("number",),
    "day of week": ("date",),
    "day of year": ("date",),
    "week of year": ("date",),
    "month of year": ("date",),
    "get value": ("m, key",),
    "get entries": ("m",),
    "context": ("entries",),
    "context put": ("context, key, value", "context, keys, value"),
    "context merge": ("contexts",),
    **{name: ("list",) for name in ("min", "max", "sum", "product", "mean", "median", "stddev", "mode", "all", "any")},
    **{name: ("lists",) for name in ("concatenate", "union")},
    **{
        name: ("point1, point2", "point, range", "range, point", "range1, range2")
        for name in ("before", "after", "finishes", "finished by", "includes", "during", "starts", "started by")
    },
    **{name: ("range1, range2",) for name in ("meets", "met by", "overlaps", "overlaps before", "overlaps after")},
    "coincides": ("point1, point2", "range1, range2"),
}
PARAMETERS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    name: tuple(tuple(part.strip() for part in overload.split(",")) for overload in overloads)
    for name, overloads in _WRITTEN.items()
}


def positions(function: str, names: list[str]) -> list[int] | None:
    """Where each named argument goes among the parameters, or None if no overload has these names."""
    for overload in PARAMETERS.get(function, ()):
        if set(names) <= set(overload) and len(set(names)) == len(names):
            return [overload.index(name) for name in names]
    return None
