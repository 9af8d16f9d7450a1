"""FEEL built-in functions (DMN 1.5, 10.3.4), each bounded by the evaluation's work budget.

Every built-in of DMN 1.5 is here, with the Camunda extensions `is defined`, `get or else`
and `assert`. Regular expressions run on RE2 (`_regex`), whose time is linear in the text;
rounding is decimal (`_numeric`); the range relations are in `_ranges`; `now()` and
`today()` read the time the caller gave (`_clock`), never the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Final

from legato.expressions.feel import _clock, _numeric, _regex
from legato.expressions.feel._arithmetic import _divide, _multiply
from legato.expressions.feel._ranges import RANGE_FUNCTIONS
from legato.expressions.feel._values import (
    _DATE,
    _MONTHS,
    _ORDERED,
    _WEEKDAYS,
    CONTEXT,
    _Callable,
    _equal,
    _Fault,
    _is_number,
    _kind,
    _order,
    _parse_date_time,
    _parse_duration,
    _parse_time,
    _spend,
    _text,
    _YearsMonths,
    as_decimal,
    from_decimal,
)

# --- built-in functions -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Builtin:
    implementation: Callable[..., Any]
    fewest: int
    most: int | None


def _numbers(arguments: tuple[Any, ...], work: list[int]) -> list[Any] | None:
    """The items of a list argument, or the arguments themselves (`sum([1, 2])`, `sum(1, 2)`)."""
    items = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], list | tuple) else arguments
    _spend(work, len(items), "going through this list")
    return list(items)


def _strings(work: list[int], *values: Any) -> bool:
    if not all(isinstance(value, str) for value in values):
        return False
    _spend(work, sum(len(value) for value in values), "working on this text")
    return True


def _substring(work: list[int], text: Any, start: Any, length: Any = None) -> Any:
    if not _strings(work, text) or not _is_number(start) or (length is not None and not _is_number(length)):
        return None
    first = int(start) - 1 if start > 0 else len(text) + int(start)
    if first < 0 or (length is not None and length < 0):
        return None
    return text[first:] if length is None else text[first : first + int(length)]


def _string_join(work: list[int], items: Any, delimiter: Any = "") -> Any:
    delimiter = "" if delimiter is None else delimiter  # DMN 1.5: a null delimiter is none
    if not isinstance(items, list | tuple) or not isinstance(delimiter, str):
        return None
    texts = [item for item in items if item is not None]
    if not all(isinstance(item, str) for item in texts):
        return None
    _spend(work, sum(map(len, texts)) + len(delimiter) * len(texts), "joining this text")
    return delimiter.join(texts)


def _extreme(pick: Callable[[int], bool]) -> Callable[..., Any]:
    def choose(work: list[int], *arguments: Any) -> Any:
        items = _numbers(arguments, work)
        if not items:
            return None
        best = items[0]
        for item in items[1:]:
            ordering = _order(item, best)
            if ordering is None:
                return None
            if pick(ordering):
                best = item
        return best if _kind(best) in _ORDERED else None

    return choose


def _sum(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if not items or not all(_is_number(item) for item in items):
        return None
    if all(type(item) is int for item in items):
        return sum(items)
    total = Decimal(0)
    for item in items:
        total = CONTEXT.add(total, as_decimal(item))
    return total


def _product(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if not items or not all(_is_number(item) for item in items):
        return None
    result: Any = 1
    for item in items:
        result = _multiply(work, result, item)
    return result


def _mean(work: list[int], *arguments: Any) -> Any:
    total = _sum(work, *arguments)
    return None if total is None else _divide(work, total, len(_numbers(arguments, work) or ()))


def _all(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if items is None or any(item is False for item in items):
        return False
    return True if all(item is True for item in items) else None


def _any(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if items is None or any(item is True for item in items):
        return True
    return False if all(item is False for item in items) else None


def _list_arg(work: list[int], value: Any) -> list[Any] | None:
    if not isinstance(value, list | tuple):
        return None
    _spend(work, len(value), "going through this list")
    return list(value)


def _list_contains(work: list[int], items: Any, element: Any) -> Any:
    values = _list_arg(work, items)
    return None if values is None else any(_equal(item, element, work) is True for item in values)


def _index_of(work: list[int], items: Any, element: Any) -> Any:
    values = _list_arg(work, items)
    if values is None:
        return None
    return [position for position, item in enumerate(values, 1) if _equal(item, element, work) is True]


def _sublist(work: list[int], items: Any, start: Any, length: Any = None) -> Any:
    values = _list_arg(work, items)
    if values is None or not _is_number(start) or (length is not None and not _is_number(length)):
        return None
    first = int(start) - 1 if start > 0 else len(values) + int(start)
    if first < 0 or first >= len(values) or (length is not None and length < 0):
        return None
    return values[first:] if length is None else values[first : first + int(length)]


def _position(values: list[Any], position: Any) -> int | None:
    if not _is_number(position) or position == 0 or abs(position) > len(values):
        return None
    return int(position) - 1 if position > 0 else len(values) + int(position)


def _insert_before(work: list[int], items: Any, position: Any, item: Any) -> Any:
    values = _list_arg(work, items)
    index = None if values is None else _position(values, position)
    if values is None or index is None:
        return None
    return [*values[:index], item, *values[index:]]


def _remove(work: list[int], items: Any, position: Any) -> Any:
    values = _list_arg(work, items)
    index = None if values is None else _position(values, position)
    if values is None or index is None:
        return None
    return values[:index] + values[index + 1 :]


def _concatenate(work: list[int], *lists: Any) -> Any:
    if not all(isinstance(items, list | tuple) for items in lists):
        return None
    _spend(work, sum(len(items) for items in lists), "joining these lists")
    return [item for items in lists for item in items]


def _append(work: list[int], items: Any, *extra: Any) -> Any:
    values = _list_arg(work, items)
    return None if values is None else values + list(extra)


def _reverse(work: list[int], items: Any) -> Any:
    values = _list_arg(work, items)
    return None if values is None else values[::-1]


def _distinct(work: list[int], values: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for item in values:
        _spend(work, len(kept), "comparing list items")
        if not any(_equal(item, other, work) is True for other in kept):
            kept.append(item)
    return kept


def _distinct_values(work: list[int], items: Any) -> Any:
    values = _list_arg(work, items)
    return None if values is None else _distinct(work, values)


def _union(work: list[int], *lists: Any) -> Any:
    joined = _concatenate(work, *lists)
    return None if joined is None else _distinct(work, joined)


def _flatten(work: list[int], items: Any) -> Any:
    if not isinstance(items, list | tuple):
        return None
    flat: list[Any] = []
    pending: list[Any] = [iter(items)]
    while pending:
        item = next(pending[-1], _flatten)
        if item is _flatten:
            pending.pop()
        elif isinstance(item, list | tuple):
            _spend(work, len(item), "flattening this list")
            pending.append(iter(item))
        else:
            _spend(work, 1, "flattening this list")
            flat.append(item)
    return flat


def _number(work: list[int], text: Any, grouping: Any = None, decimal_separator: Any = None) -> Any:
    if not _strings(work, text):
        return None
    if grouping is not None:
        if grouping not in (" ", ",", "."):
            return None
        text = text.replace(grouping, "")
    if decimal_separator is not None:
        if decimal_separator not in (",", ".") or decimal_separator == grouping:
            return None
        text = text.replace(decimal_separator, ".")
    if not re.fullmatch(r"-?(\d{1,300}(\.\d{1,300})?|\.\d{1,300})", text):
        return None
    return Decimal(text) if "." in text else int(text)


def _date(work: list[int], *arguments: Any) -> Any:
    if len(arguments) == 3:
        if not all(isinstance(part, int) and not isinstance(part, bool) for part in arguments):
            return None
        return date(*arguments)
    (value,) = arguments
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return _parse_date_time(value).date()  # type: ignore[union-attr]
    return None


def _time(work: list[int], *arguments: Any) -> Any:
    if len(arguments) >= 3:
        hour, minute, second, *offset = arguments
        if not all(_is_number(part) for part in (hour, minute, second)):
            return None
        zone = None
        if offset and offset[0] is not None:
            if not isinstance(offset[0], timedelta):
                return None
            zone = timezone(offset[0])
        whole = int(second)
        return time(int(hour), int(minute), whole, round((second - whole) * 1_000_000), tzinfo=zone)
    if len(arguments) != 1:
        return None
    (value,) = arguments
    if isinstance(value, datetime):
        return value.timetz()
    if isinstance(value, date):
        return time(0, 0)
    if isinstance(value, time):
        return value
    return _parse_time(value) if isinstance(value, str) else None


def _date_and_time(work: list[int], *arguments: Any) -> Any:
    if len(arguments) == 2:
        day, clock = arguments
        if not isinstance(day, date) or not isinstance(clock, time):
            return None
        return datetime.combine(day, clock)
    (value,) = arguments
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return _parse_date_time(value) if isinstance(value, str) else None


def _duration(work: list[int], text: Any) -> Any:
    return _parse_duration(text) if isinstance(text, str) else None


def _years_and_months(work: list[int], start: Any, end: Any) -> Any:
    if not isinstance(start, date) or not isinstance(end, date):
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and end.day < start.day:
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return _YearsMonths(months)


def _day_of_week(work: list[int], value: Any) -> Any:
    return _WEEKDAYS[value.weekday()] if isinstance(value, date) else None


def _month_of_year(work: list[int], value: Any) -> Any:
    return _MONTHS[value.month - 1] if isinstance(value, date) else None


def _assert(work: list[int], value: Any, condition: Any, message: Any = None) -> Any:
    if condition is not True:
        raise _Fault(message if isinstance(message, str) else "an assertion failed")
    return value


def _unary(check: Callable[[Any], bool], function: Callable[[Any], Any]) -> Callable[..., Any]:
    def apply(work: list[int], value: Any) -> Any:
        if isinstance(value, str):
            _spend(work, len(value), "working on this text")
        return function(value) if check(value) else None

    return apply


def _substring_before(work: list[int], text: Any, match: Any) -> Any:
    """`substring before(text, match)`: "" when `match` is not in the text, or is empty."""
    if not _strings(work, text, match):
        return None
    if not match:
        return ""
    before, found, _ = text.partition(match)
    return before if found else ""


def _substring_after(work: list[int], text: Any, match: Any) -> Any:
    """`substring after(text, match)`: "" when `match` is not in the text; the whole text when it is empty."""
    if not _strings(work, text, match):
        return None
    if not match:
        return text
    _, found, after = text.partition(match)
    return after if found else ""


def _abs(work: list[int], value: Any) -> Any:
    """`abs(n)`, also of a duration of either kind (DMN 1.5, 10.3.4.5)."""
    if _is_number(value) or isinstance(value, timedelta):
        return abs(value)
    if isinstance(value, _YearsMonths):
        return _YearsMonths(abs(value.months))
    return None


def _list_replace(work: list[int], items: Any, position: Any, new_item: Any) -> Any:
    """`list replace(list, position, newItem)`: the item at `position` (from 1, or -1 from the end)
    replaced; `list replace(list, match, newItem)`: every item for which `match(item, newItem)` is true."""
    if isinstance(position, _Callable):
        values = _list_arg(work, items)
        if values is None or len(position.parameters) != 2:
            return None
        return [new_item if position.call([item, new_item]) is True else item for item in values]
    values = _list_arg(work, items)
    index = None if values is None else _position(values, position)
    if values is None or index is None:
        return None
    values[index] = new_item
    return values


def _is(work: list[int], first: Any, second: Any) -> Any:
    """`is(a, b)`: the same kind and the same value, so a time with an offset is not one without."""
    if _kind(first) != _kind(second):
        return False
    if isinstance(first, time | datetime) and first.tzinfo != second.tzinfo:
        return False
    return _equal(first, second, work) is True


def _keys(key: Any) -> list[str] | None:
    keys = key if isinstance(key, list | tuple) else [key]
    return list(keys) if keys and all(isinstance(part, str) for part in keys) else None


def _get_value(work: list[int], context: Any, key: Any) -> Any:
    """`get value(m, key)`, or with a list of keys the value at that path (DMN 1.5)."""
    keys = _keys(key)
    if keys is None:
        return None
    for part in keys:
        if not isinstance(context, Mapping):
            return None
        context = context.get(part)
    return context


def _get_entries(work: list[int], context: Any) -> Any:
    if not isinstance(context, Mapping):
        return None
    _spend(work, len(context), "listing these entries")
    return [{"key": key, "value": value} for key, value in context.items()]


def _context(work: list[int], entries: Any) -> Any:
    """`context(entries)`: a context from `{key, value}` entries; a repeated or missing key is null."""
    items = entries if isinstance(entries, list | tuple) else [entries]
    _spend(work, len(items), "building this context")
    built: dict[str, Any] = {}
    for entry in items:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str) or "value" not in entry:
            return None
        if entry["key"] in built:
            return None
        built[entry["key"]] = entry["value"]
    return built


def _context_put(work: list[int], context: Any, key: Any, value: Any) -> Any:
    """`context put(context, key, value)`; with a list of keys, the value is put at that path."""
    keys = _keys(key)
    if keys is None or not isinstance(context, Mapping):
        return None
    _spend(work, len(context), "copying this context")
    copy = dict(context)
    if len(keys) == 1:
        copy[keys[0]] = value
        return copy
    inner = copy.get(keys[0])
    if not isinstance(inner, Mapping):
        return None
    nested = _context_put(work, inner, keys[1:], value)
    if nested is None:
        return None
    copy[keys[0]] = nested
    return copy


def _context_merge(work: list[int], contexts: Any) -> Any:
    """`context merge(contexts)`: one context, later entries over earlier ones."""
    items = contexts if isinstance(contexts, list | tuple) else [contexts]
    merged: dict[str, Any] = {}
    for context in items:
        if not isinstance(context, Mapping):
            return None
        _spend(work, len(context), "merging these contexts")
        merged.update(context)
    return merged


def _range_of_text(work: list[int], text: Any) -> Any:
    """`range(from)`: the range written in the text, such as "[18..21)" or "<= @\"2024-01-01\"" (DMN 1.5)."""
    if not isinstance(text, str):
        return None
    _spend(work, len(text), "reading this range")
    from legato.expressions.feel._literals import range_literal  # the parser needs these built-ins

    return range_literal(text)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _decimal_of(function: Callable[[Decimal], Decimal]) -> Callable[[Any], Any]:
    """`sqrt`, `log`, `exp` in decimal128: `sqrt(16)` is 4, `exp(10000)` overflows to null."""
    return lambda value: from_decimal(function(as_decimal(value)))


def _whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


_BUILTINS: Final[dict[str, _Builtin]] = {
    # conversion
    "date": _Builtin(_date, 1, 3),
    "time": _Builtin(_time, 1, 4),
    "date and time": _Builtin(_date_and_time, 1, 2),
    "duration": _Builtin(_duration, 1, 1),
    "years and months duration": _Builtin(_years_and_months, 2, 2),
    "number": _Builtin(_number, 1, 3),
    "string": _Builtin(lambda work, value: _text(value, work), 1, 1),
    # boolean
    "not": _Builtin(lambda work, value: (not value) if isinstance(value, bool) else None, 1, 1),
    "is": _Builtin(_is, 2, 2),
    "is defined": _Builtin(lambda work, value: True, 1, 1),  # its argument is read, not evaluated
    "get or else": _Builtin(lambda work, value, default: default if value is None else value, 2, 2),
    "assert": _Builtin(_assert, 2, 3),
    # text
    "substring": _Builtin(_substring, 2, 3),
    "string length": _Builtin(_unary(_is_text, len), 1, 1),
    "upper case": _Builtin(_unary(_is_text, str.upper), 1, 1),
    "lower case": _Builtin(_unary(_is_text, str.lower), 1, 1),
    "trim": _Builtin(_unary(_is_text, str.strip), 1, 1),
    "substring before": _Builtin(_substring_before, 2, 2),
    "substring after": _Builtin(_substring_after, 2, 2),
    "contains": _Builtin(lambda work, text, match: match in text if _strings(work, text, match) else None, 2, 2),
    "starts with": _Builtin(
        lambda work, text, match: text.startswith(match) if _strings(work, text, match) else None, 2, 2
    ),
    "ends with": _Builtin(
        lambda work, text, match: text.endswith(match) if _strings(work, text, match) else None, 2, 2
    ),
    "matches": _Builtin(_regex.matches, 2, 3),
    "replace": _Builtin(_regex.replace, 3, 4),
    "split": _Builtin(_regex.split, 2, 3),
    "string join": _Builtin(_string_join, 1, 2),
    # lists
    "list contains": _Builtin(_list_contains, 2, 2),
    "count": _Builtin(lambda work, items: len(items) if isinstance(items, list | tuple) else None, 1, 1),
    "min": _Builtin(_extreme(lambda ordering: ordering < 0), 1, None),
    "max": _Builtin(_extreme(lambda ordering: ordering > 0), 1, None),
    "sum": _Builtin(_sum, 1, None),
    "product": _Builtin(_product, 1, None),
    "mean": _Builtin(_mean, 1, None),
    "median": _Builtin(_numeric.median, 1, None),
    "stddev": _Builtin(_numeric.stddev, 1, None),
    "mode": _Builtin(_numeric.mode, 1, None),
    "sort": _Builtin(_numeric.sort, 1, 2),
    "list replace": _Builtin(_list_replace, 3, 3),
    "all": _Builtin(_all, 1, None),
    "any": _Builtin(_any, 1, None),
    "sublist": _Builtin(_sublist, 2, 3),
    "append": _Builtin(_append, 1, None),
    "concatenate": _Builtin(_concatenate, 1, None),
    "insert before": _Builtin(_insert_before, 3, 3),
    "remove": _Builtin(_remove, 2, 2),
    "reverse": _Builtin(_reverse, 1, 1),
    "index of": _Builtin(_index_of, 2, 2),
    "union": _Builtin(_union, 1, None),
    "distinct values": _Builtin(_distinct_values, 1, 1),
    "flatten": _Builtin(_flatten, 1, 1),
    # numbers
    "decimal": _Builtin(_numeric.ROUNDING["decimal"], 2, 2),
    **{name: _Builtin(_numeric.ROUNDING[name], 1, 2) for name in _numeric.ROUNDING if name != "decimal"},
    "abs": _Builtin(_abs, 1, 1),
    "modulo": _Builtin(_numeric.modulo, 2, 2),
    "sqrt": _Builtin(_unary(lambda value: _is_number(value) and value >= 0, _decimal_of(CONTEXT.sqrt)), 1, 1),
    "log": _Builtin(_unary(lambda value: _is_number(value) and value > 0, _decimal_of(CONTEXT.ln)), 1, 1),
    "exp": _Builtin(_unary(_is_number, _decimal_of(CONTEXT.exp)), 1, 1),
    "odd": _Builtin(_unary(_whole, lambda value: int(value) % 2 == 1), 1, 1),
    "even": _Builtin(_unary(_whole, lambda value: int(value) % 2 == 0), 1, 1),
    # dates
    "day of week": _Builtin(_day_of_week, 1, 1),
    "day of year": _Builtin(lambda work, value: value.timetuple().tm_yday if isinstance(value, date) else None, 1, 1),
    "week of year": _Builtin(lambda work, value: value.isocalendar()[1] if isinstance(value, date) else None, 1, 1),
    "month of year": _Builtin(_month_of_year, 1, 1),
    "now": _Builtin(_clock.now, 0, 0),
    "today": _Builtin(_clock.today, 0, 0),
    # ranges
    "range": _Builtin(_range_of_text, 1, 1),
    **{name: _Builtin(function, 2, 2) for name, function in RANGE_FUNCTIONS.items()},
    # contexts
    "get value": _Builtin(_get_value, 2, 2),
    "get entries": _Builtin(_get_entries, 1, 1),
    "context": _Builtin(_context, 1, 1),
    "context put": _Builtin(_context_put, 3, 3),
    "context merge": _Builtin(_context_merge, 1, 1),
}
FEEL_FUNCTIONS: Final = tuple(sorted(_BUILTINS))
"""The built-in functions a FEEL expression may call; nothing else is callable."""

_REFUSED_FUNCTIONS: Final[dict[str, str]] = {}
_FUNCTION_WORDS: Final[dict[str, list[tuple[str, ...]]]] = {}
for _name in _BUILTINS:
    _FUNCTION_WORDS.setdefault(_name.split(" ")[0], []).append(tuple(_name.split(" ")))
for _candidates in _FUNCTION_WORDS.values():
    _candidates.sort(key=len, reverse=True)
_TYPES: Final = frozenset(
    {"Any", "Null", "number", "string", "boolean", "date", "time", "date and time", "days and time duration",
     "years and months duration", "list", "context", "range", "function"}
)  # fmt: skip
