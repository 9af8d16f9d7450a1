"""FEEL, the expression language of DMN and of Camunda 8 models (DMN 1.3, chapter 10).

A Camunda 8 BPMN file writes a condition as `=amount > 1000 and customer.vip = true`, and a
DMN decision table fills its cells with FEEL expressions and unary tests (`< 10`, `[1..5]`,
`"gold","silver"`, `not("red")`). This module reads the subset of FEEL those files use. The
text is tokenised and parsed by hand (a Pratt parser) into a small syntax tree, checked once,
and compiled into nested Python closures; nothing the modeler wrote is ever handed to `eval`.

FEEL's rules are kept where a model's meaning depends on them: a missing variable, a
missing key, an operation on the wrong types and a comparison of different types all give
null rather than an error (Camunda 8, "FEEL error handling"); `and`/`or` are three-valued
(`null and false` is false, `null and true` is null); `=` compares, `null = null` is true.
Where Legato is stricter than Camunda it says so at deploy: an unknown function, a wrong
number of arguments and a function definition are errors, not null at run time.

Evaluation is bounded like the Legato dialect's: an evaluation may build or walk at most
`MAX_WORK` items and characters (iterations of `for`/`some`/`every`, filtered items, joined
text), integers stay under `MAX_INT_BITS`, and there are no regular expressions (a pattern
can take exponential time), so `matches`, `replace` and `split` take plain text patterns.

Values: FEEL numbers are Python `int` and `float` (not 34-digit decimals), strings, booleans,
lists, contexts (dicts), dates, times, date-times, durations and ranges. What an expression
returns must be stored as JSON, so `evaluate` turns dates, times and durations into ISO 8601
text; `evaluate_feel` keeps them (DMN uses it to feed unary tests). docs/expressions.md is
the user reference.
"""

from __future__ import annotations

import calendar
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, ClassVar, Final, NoReturn
from zoneinfo import ZoneInfo

from legato.errors import EvaluationError, ExpressionInvalid
from legato.model.expressions import MAX_DEPTH, MAX_INT_BITS, MAX_NODES, MAX_SOURCE_LENGTH, MAX_WORK, Expression

__all__ = ["FEEL_FUNCTIONS", "FeelExpression", "UnaryTests", "compile_feel", "compile_unary_tests"]


class _Fault(Exception):
    """An evaluation that must stop (a budget, a failed assert); the caller names the expression."""


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class _YearsMonths:
    """A years-and-months duration (`P1Y2M`), counted in months; `timedelta` holds the other kind."""

    months: int


@dataclass(frozen=True, slots=True)
class _Range:
    """A FEEL range such as `[1..10)`; `low`/`high` of None mean unbounded."""

    low: Any
    high: Any
    low_closed: bool
    high_closed: bool


_KINDS: Final[dict[type, str]] = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "list",
    tuple: "list",
    dict: "context",
    date: "date",
    datetime: "date and time",
    time: "time",
    timedelta: "days and time duration",
    _YearsMonths: "years and months duration",
    _Range: "range",
}
_ORDERED: Final = frozenset(
    {"number", "string", "date", "date and time", "time", "days and time duration", "years and months duration"}
)
_NUMBERS: Final = (int, float)


def _kind(value: object) -> str:
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _NUMBERS):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "context"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, datetime):
        return "date and time"
    if isinstance(value, date):
        return "date"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


def _spend(work: list[int], amount: int, what: str) -> None:
    work[0] -= amount
    if work[0] < 0:
        raise _Fault(f"{what} goes over the limit of {MAX_WORK:,} items and characters that one evaluation may use")


def _equal(left: Any, right: Any, work: list[int]) -> bool | None:
    """FEEL `=`: null equals only null; values of different kinds give null (DMN 1.3, 10.3.2.2)."""
    if type(left) is type(right) and type(left) in (str, int, float, bool):
        return bool(left == right)
    if left is None or right is None:
        return left is None and right is None
    kind = _kind(left)
    if kind != _kind(right):
        return None
    if kind == "list":
        if len(left) != len(right):
            return False
        _spend(work, len(left), "comparing these lists")
        outcome: bool | None = True
        for a, b in zip(left, right, strict=True):
            same = _equal(a, b, work)
            if same is False:
                return False
            if same is None:
                outcome = None
        return outcome
    if kind == "context":
        if set(left) != set(right):
            return False
        _spend(work, len(left), "comparing these contexts")
        outcome = True
        for key in left:
            same = _equal(left[key], right[key], work)
            if same is False:
                return False
            if same is None:
                outcome = None
        return outcome
    try:
        return bool(left == right)
    except TypeError:
        return None


def _order(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 for values FEEL can order (numbers, text, dates, times, durations), else None."""
    kind = _kind(left)
    if kind not in _ORDERED or kind != _kind(right):
        return None
    try:
        return -1 if left < right else (1 if left > right else 0)
    except TypeError:  # a date-time with a zone against one without
        return None


def _in_range(candidate: Any, span: _Range) -> bool | None:
    if span.low is not None:
        low = _order(span.low, candidate)
        if low is None:
            return None
        if low > 0 or (low == 0 and not span.low_closed):
            return False
    if span.high is not None:
        high = _order(candidate, span.high)
        if high is None:
            return None
        if high > 0 or (high == 0 and not span.high_closed):
            return False
    return True


def _size(value: object, budget: int) -> int:
    """Items and characters in `value`, stopping once past `budget`."""
    total = 0
    pending: list[object] = [value]
    while pending and total <= budget:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            total += len(item)
            pending.extend(item)
    return total


# --- dates, times and durations -----------------------------------------------------------

_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME: Final = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}|@[A-Za-z0-9_/+\-]{1,60})?")
_DAYS_TIME: Final = re.compile(
    r"(-)?P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})(?:\.(\d{1,9}))?S)?)?"
)
_YEARS_MONTHS: Final = re.compile(r"(-)?P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?")
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text == "Z":
        return UTC
    if text.startswith("@"):
        return ZoneInfo(text[1:])
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def _parse_time(text: str) -> time | None:
    found = _TIME.fullmatch(text)
    if not found:
        return None
    hour, minute, second, fraction, zone = found.groups()
    if zone is not None and zone.startswith("@"):
        return None  # a time of day in a named zone has no fixed offset
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return time(int(hour), int(minute), int(second or 0), micro, tzinfo=_zone(zone))


def _parse_date_time(text: str) -> datetime | None:
    day_part, _, time_part = text.partition("T")
    found = _DATE.fullmatch(day_part)
    if not found:
        return None
    day = date(*(int(part) for part in found.groups()))
    if not time_part:
        return datetime(day.year, day.month, day.day)
    matched = _TIME.fullmatch(time_part)
    if not matched:
        return None
    hour, minute, second, fraction, zone = matched.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime(day.year, day.month, day.day, int(hour), int(minute), int(second or 0), micro, _zone(zone))


def _parse_duration(text: str) -> timedelta | _YearsMonths | None:
    if text in ("P", "-P", "PT", "-PT") or text.endswith("T"):
        return None
    found = _YEARS_MONTHS.fullmatch(text)
    if found:
        sign, years, months = found.groups()
        total = int(years or 0) * 12 + int(months or 0)
        return _YearsMonths(-total if sign else total)
    found = _DAYS_TIME.fullmatch(text)
    if found:
        sign, days, hours, minutes, seconds, fraction = found.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        span = timedelta(
            days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
            seconds=int(seconds or 0), microseconds=micro,
        )  # fmt: skip
        return -span if sign else span
    return None


def _temporal(text: str) -> Any:
    """The value of an `@"..."` literal: a date, a date-time, a time or a duration."""
    if text.startswith(("P", "-P")):
        return _parse_duration(text)
    if "T" in text:
        return _parse_date_time(text)
    if _DATE.fullmatch(text):
        return _parse_date_time(text).date()  # type: ignore[union-attr]
    return _parse_time(text)


def _offset_text(value: datetime | time) -> str:
    offset = value.utcoffset()
    if offset is None:
        return ""
    if not offset:
        return "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _duration_text(span: timedelta) -> str:
    sign = "-" if span < timedelta(0) else ""
    span = abs(span)
    hours, rest = divmod(span.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{span.days}D" if span.days else ""
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if span.microseconds:
        clock += f"{seconds}.{span.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    if clock:
        text += "T" + clock
    return f"{sign}P{text}" if text else "PT0S"


def _iso(value: Any) -> str:
    """ISO 8601 text for a date, time, date-time or duration, as the JSON boundary needs."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat() + _offset_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(tzinfo=None).isoformat() + _offset_text(value)
    if isinstance(value, timedelta):
        return _duration_text(value)
    years, months = divmod(abs(value.months), 12)
    text = (f"{years}Y" if years else "") + (f"{months}M" if months or not years else "")
    return ("-" if value.months < 0 else "") + "P" + text


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def _property(value: Any, key: str) -> Any:
    """`value.key` on a date, time, duration or range (DMN 1.3, 10.3.2.10)."""
    if isinstance(value, date):
        properties: dict[str, Any] = {"year": value.year, "month": value.month, "day": value.day}
        properties["weekday"] = value.isoweekday()
        if isinstance(value, datetime):
            properties.update(hour=value.hour, minute=value.minute, second=value.second)
            properties["time offset"] = value.utcoffset()
            properties["timezone"] = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        return properties.get(key)
    if isinstance(value, time):
        values = {"hour": value.hour, "minute": value.minute, "second": value.second, "time offset": value.utcoffset()}
        return values.get(key)
    if isinstance(value, timedelta):
        whole = abs(value)
        sign = -1 if value < timedelta(0) else 1
        parts = {
            "days": whole.days,
            "hours": whole.seconds // 3600,
            "minutes": whole.seconds // 60 % 60,
            "seconds": whole.seconds % 60,
        }
        return sign * parts[key] if key in parts else None
    if isinstance(value, _YearsMonths):
        sign = -1 if value.months < 0 else 1
        return {"years": sign * (abs(value.months) // 12), "months": sign * (abs(value.months) % 12)}.get(key)
    if isinstance(value, _Range):
        return {"start": value.low, "end": value.high}.get(key)
    return None


# --- the JSON boundary --------------------------------------------------------------------

_PLAIN: Final = frozenset({bool, int, float, str, type(None)})


def _to_json(value: Any) -> Any:
    """What an evaluation hands back: dates, times and durations become ISO 8601 text."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, date | time | timedelta | _YearsMonths):
        return _iso(value)
    if isinstance(value, _Range):
        raise _Fault("the result is a range, which cannot be stored; use it with 'in' or in a unary test")
    return value


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _text(value: Any, work: list[int]) -> str | None:
    """FEEL `string(value)`."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            return None
        return _number_text(value)
    if isinstance(value, date | time | timedelta | _YearsMonths):
        return _iso(value)
    _spend(work, _size(value, work[0]), "turning this into text")
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {_literal_text(item, work)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal_text(item, work) for item in value) + "]"
    if isinstance(value, _Range):
        opening = "[" if value.low_closed else "("
        closing = "]" if value.high_closed else ")"
        return f"{opening}{_literal_text(value.low, work)}..{_literal_text(value.high, work)}{closing}"
    return str(value)


def _literal_text(value: Any, work: list[int]) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _text(value, work) or "null"


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
            literal = text[start:position]
            try:
                value: Any = float(literal) if "." in literal else int(literal)
            except ValueError:
                raise source.invalid("this number is too long", start) from None
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
                while position < end and (text[position].isalnum() or text[position] == "_"):
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
    text, end = source.original, source.end
    start, position = position, position + 1
    parts: list[str] = []
    while position < end:
        char = text[position]
        if char == '"':
            return position + 1, "".join(parts)
        if char == "\\":
            escape = text[position + 1 : position + 2]
            if escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                position += 2
                continue
            if escape == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[position + 2 : position + 6]):
                parts.append(chr(int(text[position + 2 : position + 6], 16)))
                position += 6
                continue
            raise source.invalid(f"unknown escape \\{escape} in a string", position)
        parts.append(char)
        position += 1
    raise source.invalid("this string is never closed", start)


# --- the syntax tree ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    offset: int


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    value: Any


@dataclass(frozen=True, slots=True)
class _Name(_Node):
    name: str


@dataclass(frozen=True, slots=True)
class _Path(_Node):
    base: _Node
    key: str


@dataclass(frozen=True, slots=True)
class _Filter(_Node):
    base: _Node
    condition: _Node


@dataclass(frozen=True, slots=True)
class _Call(_Node):
    function: str
    arguments: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Binary(_Node):
    operator: str
    left: _Node
    right: _Node


@dataclass(frozen=True, slots=True)
class _Between(_Node):
    value: _Node
    low: _Node
    high: _Node


@dataclass(frozen=True, slots=True)
class _Test:
    """One positive unary test: `< 10` (`operator` and `operand`), or an expression."""

    operator: str | None
    operand: _Node
    uses_input: bool = False


@dataclass(frozen=True, slots=True)
class _In(_Node):
    value: _Node
    tests: tuple[_Test, ...]


@dataclass(frozen=True, slots=True)
class _InstanceOf(_Node):
    value: _Node
    type_name: str


@dataclass(frozen=True, slots=True)
class _If(_Node):
    condition: _Node
    then: _Node
    otherwise: _Node


@dataclass(frozen=True, slots=True)
class _Iteration:
    name: str
    domain: _Node
    end: _Node | None  # `for i in 1..10`


@dataclass(frozen=True, slots=True)
class _For(_Node):
    iterations: tuple[_Iteration, ...]
    body: _Node
    quantifier: str | None = None  # "some" or "every": the body is the condition


@dataclass(frozen=True, slots=True)
class _List(_Node):
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Context(_Node):
    entries: tuple[tuple[str, _Node], ...]


@dataclass(frozen=True, slots=True)
class _RangeNode(_Node):
    low: _Node
    high: _Node
    low_closed: bool
    high_closed: bool


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


def _plain_pattern(pattern: Any) -> str | None:
    if not isinstance(pattern, str):
        return None
    if re.search(r"[\\.^$*+?()\[\]{}|]", pattern):
        raise _Fault(f"regular expressions are not supported (pattern {pattern!r}); use a plain text pattern")
    return pattern


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
    if not isinstance(items, list | tuple) or not isinstance(delimiter, str):
        return None
    texts = [item for item in items if item is not None]
    if not all(isinstance(item, str) for item in texts):
        return None
    _spend(work, sum(map(len, texts)) + len(delimiter) * len(texts), "joining this text")
    return delimiter.join(texts)


def _replace(work: list[int], text: Any, pattern: Any, replacement: Any, flags: Any = None) -> Any:
    plain = _plain_pattern(pattern)
    if plain is None or not plain or not _strings(work, text, replacement) or flags is not None:
        return None
    _spend(work, text.count(plain) * len(replacement), "replacing in this text")
    return text.replace(plain, replacement)


def _matches(work: list[int], text: Any, pattern: Any, flags: Any = None) -> Any:
    plain = _plain_pattern(pattern)
    if plain is None or not _strings(work, text) or flags is not None:
        return None
    return plain in text


def _split(work: list[int], text: Any, delimiter: Any) -> Any:
    plain = _plain_pattern(delimiter)
    if plain is None or not plain or not _strings(work, text):
        return None
    return text.split(plain)


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
    return sum(items)


def _product(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if not items or not all(_is_number(item) for item in items):
        return None
    result: Any = 1
    for item in items:
        result = _multiply(work, result, item)
    return result


def _mean(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if not items or not all(_is_number(item) for item in items):
        return None
    return _divide(work, sum(items), len(items))


def _median(work: list[int], *arguments: Any) -> Any:
    items = _numbers(arguments, work)
    if not items or not all(_is_number(item) for item in items):
        return None
    items.sort()
    middle = len(items) // 2
    return items[middle] if len(items) % 2 else _divide(work, items[middle - 1] + items[middle], 2)


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
    return float(text) if "." in text else int(text)


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


def _decimal(work: list[int], number: Any, scale: Any) -> Any:
    if not _is_number(number) or not isinstance(scale, int) or abs(scale) > 1000:
        return None
    result = round(number, scale)
    return int(result) if scale <= 0 else result


def _rounding(function: Callable[[float], int]) -> Callable[..., Any]:
    def rounded(work: list[int], number: Any, scale: Any = 0) -> Any:
        if not _is_number(number) or not isinstance(scale, int) or abs(scale) > 1000:
            return None
        if scale == 0:
            return function(number)
        return function(number * 10**scale) / 10**scale

    return rounded


def _modulo(work: list[int], dividend: Any, divisor: Any) -> Any:
    if not _is_number(dividend) or not _is_number(divisor) or divisor == 0:
        return None
    return dividend % divisor


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


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


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
    "is defined": _Builtin(lambda work, value: True, 1, 1),  # its argument is read, not evaluated
    "get or else": _Builtin(lambda work, value, default: default if value is None else value, 2, 2),
    "assert": _Builtin(_assert, 2, 3),
    # text
    "substring": _Builtin(_substring, 2, 3),
    "string length": _Builtin(_unary(_is_text, len), 1, 1),
    "upper case": _Builtin(_unary(_is_text, str.upper), 1, 1),
    "lower case": _Builtin(_unary(_is_text, str.lower), 1, 1),
    "trim": _Builtin(_unary(_is_text, str.strip), 1, 1),
    "substring before": _Builtin(
        lambda work, text, match: (
            text.partition(match)[0]
            if _strings(work, text, match) and match in text
            else ("" if isinstance(text, str) and isinstance(match, str) else None)
        ),
        2,
        2,
    ),
    "substring after": _Builtin(
        lambda work, text, match: (
            text.partition(match)[2]
            if _strings(work, text, match) and match in text
            else ("" if isinstance(text, str) and isinstance(match, str) else None)
        ),
        2,
        2,
    ),
    "contains": _Builtin(lambda work, text, match: match in text if _strings(work, text, match) else None, 2, 2),
    "starts with": _Builtin(
        lambda work, text, match: text.startswith(match) if _strings(work, text, match) else None, 2, 2
    ),
    "ends with": _Builtin(
        lambda work, text, match: text.endswith(match) if _strings(work, text, match) else None, 2, 2
    ),
    "matches": _Builtin(_matches, 2, 3),
    "replace": _Builtin(_replace, 3, 4),
    "split": _Builtin(_split, 2, 2),
    "string join": _Builtin(_string_join, 1, 2),
    # lists
    "list contains": _Builtin(_list_contains, 2, 2),
    "count": _Builtin(lambda work, items: len(items) if isinstance(items, list | tuple) else None, 1, 1),
    "min": _Builtin(_extreme(lambda ordering: ordering < 0), 1, None),
    "max": _Builtin(_extreme(lambda ordering: ordering > 0), 1, None),
    "sum": _Builtin(_sum, 1, None),
    "product": _Builtin(_product, 1, None),
    "mean": _Builtin(_mean, 1, None),
    "median": _Builtin(_median, 1, None),
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
    "decimal": _Builtin(_decimal, 2, 2),
    "floor": _Builtin(_rounding(math.floor), 1, 2),
    "ceiling": _Builtin(_rounding(math.ceil), 1, 2),
    "abs": _Builtin(_unary(lambda value: _is_number(value) or isinstance(value, timedelta), abs), 1, 1),
    "modulo": _Builtin(_modulo, 2, 2),
    "sqrt": _Builtin(_unary(lambda value: _is_number(value) and value >= 0, math.sqrt), 1, 1),
    "log": _Builtin(_unary(lambda value: _is_number(value) and value > 0, math.log), 1, 1),
    "exp": _Builtin(_unary(lambda value: _is_number(value) and value < 700, math.exp), 1, 1),
    "odd": _Builtin(_unary(_whole, lambda value: int(value) % 2 == 1), 1, 1),
    "even": _Builtin(_unary(_whole, lambda value: int(value) % 2 == 0), 1, 1),
    # dates
    "day of week": _Builtin(_day_of_week, 1, 1),
    "day of year": _Builtin(lambda work, value: value.timetuple().tm_yday if isinstance(value, date) else None, 1, 1),
    "week of year": _Builtin(lambda work, value: value.isocalendar()[1] if isinstance(value, date) else None, 1, 1),
    "month of year": _Builtin(_month_of_year, 1, 1),
    # contexts
    "get value": _Builtin(
        lambda work, context, key: context.get(key) if isinstance(context, Mapping) and isinstance(key, str) else None,
        2,
        2,
    ),
    "get entries": _Builtin(
        lambda work, context: (
            [{"key": k, "value": v} for k, v in context.items()] if isinstance(context, Mapping) else None
        ),
        1,
        1,
    ),
}
FEEL_FUNCTIONS: Final = tuple(sorted(_BUILTINS))
"""The built-in functions a FEEL expression may call; nothing else is callable."""

_REFUSED_FUNCTIONS: Final = {
    "now": "now() is not available: expressions have no clock, so that replaying an instance gives the same answer; "
    "put the time in a variable",
    "today": "today() is not available: expressions have no clock; put the date in a variable",
    "sort": "sort() needs a function argument, and FEEL functions are not supported",
}
_FUNCTION_WORDS: Final[dict[str, list[tuple[str, ...]]]] = {}
for _name in _BUILTINS:
    _FUNCTION_WORDS.setdefault(_name.split(" ")[0], []).append(tuple(_name.split(" ")))
for _candidates in _FUNCTION_WORDS.values():
    _candidates.sort(key=len, reverse=True)
_TYPES: Final = frozenset(
    {"Any", "Null", "number", "string", "boolean", "date", "time", "date and time", "days and time duration",
     "years and months duration", "list", "context", "range"}
)  # fmt: skip


# --- arithmetic ---------------------------------------------------------------------------


def _add(work: list[int], left: Any, right: Any) -> Any:
    if _is_number(left) and _is_number(right):
        return left + right
    if isinstance(left, str) and isinstance(right, str):
        _spend(work, len(left) + len(right), "joining this text")
        return left + right
    if isinstance(right, date | time) and not isinstance(left, date | time):
        left, right = right, left
    if isinstance(left, datetime | date) and isinstance(right, timedelta):
        return left + right
    if isinstance(left, date | datetime) and isinstance(right, _YearsMonths):
        return _add_months(left, right.months)
    if isinstance(left, time) and isinstance(right, timedelta):
        moved = datetime.combine(date(2000, 1, 1), left) + right
        return moved.timetz()
    if isinstance(left, timedelta) and isinstance(right, timedelta):
        return left + right
    if isinstance(left, _YearsMonths) and isinstance(right, _YearsMonths):
        return _YearsMonths(left.months + right.months)
    return None


def _subtract(work: list[int], left: Any, right: Any) -> Any:
    if _is_number(left) and _is_number(right):
        return left - right
    if isinstance(right, timedelta | _YearsMonths) and isinstance(left, date | time | timedelta | _YearsMonths):
        negated = -right if isinstance(right, timedelta) else _YearsMonths(-right.months)
        return _add(work, left, negated)
    if _kind(left) == _kind(right) and isinstance(left, date):
        try:
            return left - right
        except TypeError:
            return None
    if isinstance(left, time) and isinstance(right, time):
        try:
            return datetime.combine(date(2000, 1, 1), left) - datetime.combine(date(2000, 1, 1), right)
        except TypeError:
            return None
    return None


def _multiply(work: list[int], left: Any, right: Any) -> Any:
    if _is_number(left) and _is_number(right):
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _Fault(f"the product would have more than {MAX_INT_BITS:,} bits")
        return left * right
    if _is_number(left) and isinstance(right, timedelta | _YearsMonths):
        left, right = right, left
    if isinstance(left, timedelta) and _is_number(right):
        return left * right
    if isinstance(left, _YearsMonths) and _is_number(right):
        return _YearsMonths(int(left.months * right))
    return None


def _divide(work: list[int], left: Any, right: Any) -> Any:
    if _is_number(left) and _is_number(right):
        if right == 0:
            return None
        if isinstance(left, int) and isinstance(right, int) and left % right == 0:
            return left // right
        return left / right
    if isinstance(left, timedelta) and _is_number(right) and right != 0:
        return left / right
    if isinstance(left, timedelta) and isinstance(right, timedelta) and right:
        return left / right
    if isinstance(left, _YearsMonths) and isinstance(right, _YearsMonths) and right.months:
        return _divide(work, left.months, right.months)
    if isinstance(left, _YearsMonths) and _is_number(right) and right != 0:
        return _YearsMonths(int(left.months / right))
    return None


def _power(work: list[int], base: Any, exponent: Any) -> Any:
    if not _is_number(base) or not _is_number(exponent):
        return None
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and abs(base) > 1
        and exponent > MAX_INT_BITS / math.log2(abs(base))
    ):
        raise _Fault(f"the power would have more than {MAX_INT_BITS:,} bits")
    try:
        result = base**exponent
    except (ZeroDivisionError, OverflowError):
        return None
    return None if isinstance(result, complex) else result


_ARITHMETIC: Final[dict[str, Callable[[list[int], Any, Any], Any]]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "**": _power,
}
_COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# --- the parser ---------------------------------------------------------------------------

_INFIX_POWER: Final = {
    "or": 10, "and": 20, "=": 30, "!=": 30, "<": 30, "<=": 30, ">": 30, ">=": 30, "between": 30, "in": 30,
    "instance": 30, "+": 40, "-": 40, "*": 50, "/": 50, "**": 60, ".": 80, "[": 80, "(": 80,
}  # fmt: skip
_COMPARISON_POWER: Final = 30
_NEGATION_POWER: Final = 70
_TEST_OPERATORS: Final = frozenset({"<", "<=", ">", ">=", "=", "!="})


class _Parser:
    """A Pratt parser for FEEL: one loop for all binary operators, recursion only on nesting."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.position = 0
        self.depth = 0
        self.nodes = 0
        self.names: set[str] = set()
        self.locals: list[frozenset[str]] = []
        self.input_uses = 0
        self.filters_allowed = True

    # tokens

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position = min(self.position + 1, len(self.tokens) - 1)
        return token

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.text == text and not token.quoted and token.kind in ("op", "name")

    def expect(self, text: str, context: str) -> _Token:
        if not self.at(text) and self.at(".."):
            self.fail("'a..b' is only allowed after 'for x in'; elsewhere write a range such as [a..b]")
        if not self.at(text):
            self.fail(f"expected '{text}' {context}", self.peek())
        return self.advance()

    def fail(self, message: str, token: _Token | None = None) -> NoReturn:
        token = token or self.peek()
        if token.kind == "end" and not message.startswith("expected") and "ends too early" not in message:
            message = f"{message} (the expression ends too early)"
        raise self.source.invalid(message, token.start)

    def unexpected(self, token: _Token) -> NoReturn:
        if token.kind == "end":
            self.fail("the expression ends too early", token)
        if token.text == "=" and self.position > 0 and self.tokens[self.position - 1].text == "=":
            self.fail("compare with a single '='; '==' is not FEEL", token)
        if token.text == "..":
            self.fail("'a..b' is only allowed after 'for x in'; elsewhere write a range such as [a..b]", token)
        self.fail(f"unexpected {token.text!r}", token)

    def node(self, node: _Node) -> _Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.source.invalid(f"the expression has too many parts (limit {MAX_NODES:,})", node.offset)
        return node

    # expressions

    def expression(self, power: int = 0) -> _Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"the expression is nested too deeply (limit {MAX_DEPTH})")
        left = self.prefix()
        compared = False
        while True:
            token = self.peek()
            if token.kind not in ("op", "name") or token.quoted:
                break
            strength = _INFIX_POWER.get(token.text)
            if strength is None or strength <= power or (token.text == "[" and not self.filters_allowed):
                break
            if strength == _COMPARISON_POWER:
                if compared:
                    self.fail("comparisons cannot be chained; combine them with 'and'", token)
                compared = True
            left = self.infix(left, self.advance(), strength)
        self.depth -= 1
        return left

    def infix(self, left: _Node, token: _Token, strength: int) -> _Node:
        operator_text = token.text
        if operator_text in ("and", "or"):
            return self.node(_Binary(token.start, operator_text, left, self.expression(strength)))
        if operator_text == "between":
            low = self.expression(_COMPARISON_POWER)
            self.expect("and", "in 'x between low and high'")
            return self.node(_Between(token.start, left, low, self.expression(_COMPARISON_POWER)))
        if operator_text == "in":
            return self.node(_In(token.start, left, self.in_tests()))
        if operator_text == "instance":
            self.expect("of", "after 'instance'")
            return self.node(_InstanceOf(token.start, left, self.type_name()))
        if operator_text == ".":
            key = self.advance()
            if key.kind != "name" or (key.text in _KEYWORDS and not key.quoted):
                self.fail("expected a name after '.'", key)
            return self.node(_Path(token.start, left, key.text))
        if operator_text == "[":
            with self.nested():
                condition = self.expression()
            self.expect("]", "to close the filter")
            return self.node(_Filter(token.start, left, condition))
        if operator_text == "(":
            self.fail("only the built-in functions can be called", token)
        return self.node(_Binary(token.start, operator_text, left, self.expression(strength)))

    def prefix(self) -> _Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return self.node(_Literal(token.start, token.value))
        if token.kind == "string":
            self.advance()
            return self.node(_Literal(token.start, token.value))
        if token.kind == "name":
            return self.name()
        text = token.text
        if text == "-":
            self.advance()
            return self.node(_Negate(token.start, self.expression(_NEGATION_POWER)))
        if text == "@":
            self.advance()
            literal = self.advance()
            try:
                value = _temporal(literal.value) if literal.kind == "string" else None
            except (ValueError, KeyError):
                value = None
            if value is None:
                self.fail('expected a date, time or duration in quotes after @, like @"2026-01-01"', literal)
            return self.node(_Literal(token.start, value))
        if text == "(":
            return self.parenthesis()
        if text == "[":
            return self.bracket()
        if text == "]":
            self.advance()
            low = self.endpoint()
            self.expect("..", "in a range such as ]1..10]")
            return self.range_rest(token, low, closed=False)
        if text == "{":
            return self.context()
        if text in ("<", "<=", ">", ">="):
            self.fail(f"a test such as '{text} 10' is only allowed after 'in' or in a decision table cell", token)
        self.unexpected(token)

    def name(self) -> _Node:
        token = self.advance()
        if token.quoted:
            return self.variable(token)
        text = token.text
        if text in ("true", "false", "null"):
            return self.node(_Literal(token.start, {"true": True, "false": False, "null": None}[text]))
        if text == "if":
            return self.conditional(token)
        if text in ("for", "some", "every"):
            return self.iteration(token)
        if text == "function":
            self.fail("function definitions are not supported", token)
        function = self.function_name(token)
        if function is not None:
            return self.call(token, function)
        if text in _KEYWORDS:
            self.fail(f"unexpected {text!r}", token)
        words, look = [text], 0
        while self.peek(look).kind == "name" and not self.peek(look).quoted and self.peek(look).text not in _KEYWORDS:
            words.append(self.peek(look).text)
            look += 1
        if self.at("(", look):
            name = " ".join(words)
            self.fail(_REFUSED_FUNCTIONS.get(name, f"{name}() is not a FEEL function here"), token)
        return self.variable(token)

    def variable(self, token: _Token) -> _Node:
        if token.text == "?":
            self.input_uses += 1
        elif not any(token.text in bound for bound in self.locals):
            self.names.add(token.text)
        return self.node(_Name(token.start, token.text))

    def function_name(self, token: _Token) -> str | None:
        for words in _FUNCTION_WORDS.get(token.text, ()):
            following = [self.peek(index) for index in range(len(words) - 1)]
            pairs = zip(following, words[1:], strict=True)
            same = all(token.kind == "name" and not token.quoted and token.text == word for token, word in pairs)
            if same and self.at("(", len(words) - 1):
                self.position += len(words) - 1
                return " ".join(words)
        return None

    def call(self, token: _Token, function: str) -> _Node:
        self.expect("(", "after the function name")
        arguments: list[_Node] = []
        with self.nested():
            while not self.at(")"):
                if arguments:
                    self.expect(",", "between arguments")
                look = 0
                while self.peek(look).kind == "name":
                    look += 1
                if look and self.at(":", look):
                    self.fail("named arguments are not supported; pass the arguments in order")
                arguments.append(self.expression())
        self.expect(")", "to close the arguments")
        builtin = _BUILTINS[function]
        count = len(arguments)
        if count < builtin.fewest or (builtin.most is not None and count > builtin.most):
            if builtin.most == builtin.fewest:
                wanted = f"{builtin.fewest}"
            elif builtin.most is None:
                wanted = f"at least {builtin.fewest}"
            else:
                wanted = f"{builtin.fewest} to {builtin.most}"
            self.fail(f"{function}() takes {wanted} argument{'s' if wanted != '1' else ''} ({count} given)", token)
        if function == "is defined" and not _is_path(arguments[0]):
            self.fail("is defined() takes a variable name or a path such as order.total", token)
        return self.node(_Call(token.start, function, tuple(arguments)))

    def conditional(self, token: _Token) -> _Node:
        condition = self.expression()
        self.expect("then", "after the condition of 'if'")
        then = self.expression()
        self.expect("else", "in 'if ... then ... else ...'")
        return self.node(_If(token.start, condition, then, self.expression()))

    def iteration(self, token: _Token) -> _Node:
        iterations: list[_Iteration] = []
        bound: set[str] = set()
        while True:
            name = self.advance()
            if name.kind != "name" or (name.text in _KEYWORDS and not name.quoted):
                self.fail(f"expected a name after '{token.text}'", name)
            self.expect("in", f"after '{token.text} {name.text}'")
            self.locals.append(frozenset(bound))
            domain = self.expression()
            end = None
            if self.at(".."):
                self.advance()
                end = self.expression()
            self.locals.pop()
            iterations.append(_Iteration(name.text, domain, end))
            bound.add(name.text)
            if not self.at(","):
                break
            self.advance()
        keyword = "return" if token.text == "for" else "satisfies"
        self.expect(keyword, f"in '{token.text} ... in ... {keyword} ...'")
        self.locals.append(frozenset(bound))
        body = self.expression()
        self.locals.pop()
        quantifier = None if token.text == "for" else token.text
        return self.node(_For(token.start, tuple(iterations), body, quantifier))

    def parenthesis(self) -> _Node:
        opening = self.advance()
        with self.nested():
            first = self.expression()
        if self.at(".."):
            self.advance()
            return self.range_rest(opening, first, closed=False)
        self.expect(")", "to close '('")
        return first

    def bracket(self) -> _Node:
        opening = self.advance()
        items: list[_Node] = []
        with self.nested():
            while not self.at("]"):
                if self.peek().kind == "end":
                    self.fail("expected ']' to close the list")
                if items:
                    self.expect(",", "between list items")
                items.append(self.expression())
                if len(items) == 1 and self.at(".."):
                    self.advance()
                    return self.range_rest(opening, items[0], closed=True)
        self.advance()
        return self.node(_List(opening.start, tuple(items)))

    def endpoint(self) -> _Node:
        saved, self.filters_allowed = self.filters_allowed, False
        try:
            return self.expression(_COMPARISON_POWER)
        finally:
            self.filters_allowed = saved

    def range_rest(self, opening: _Token, low: _Node, *, closed: bool) -> _Node:
        """The rest of a range after its `..`: the high endpoint and the closing bracket."""
        high = self.endpoint()
        closing = self.advance()
        if closing.text not in ("]", ")", "[") or closing.kind != "op":
            self.fail("expected ']', ')' or '[' to close the range", closing)
        return self.node(_RangeNode(opening.start, low, high, closed, closing.text == "]"))

    def context(self) -> _Node:
        opening = self.advance()
        entries: list[tuple[str, _Node]] = []
        keys: set[str] = set()
        while not self.at("}"):
            if self.peek().kind == "end":
                self.fail("expected '}' to close the context")
            if entries:
                self.expect(",", "between context entries")
            key_token = self.peek()
            if key_token.kind == "string":
                key = self.advance().value
            else:
                words = []
                while self.peek().kind == "name":
                    words.append(self.advance().text)
                if not words:
                    self.fail("expected a key (a name or a string) in the context", key_token)
                key = " ".join(words)
            if key in keys:
                self.fail(f"the key {key!r} appears twice in this context", key_token)
            self.expect(":", "after the context key")
            self.locals.append(frozenset(keys))
            with self.nested():
                entries.append((key, self.expression()))
            self.locals.pop()
            keys.add(key)
        self.advance()
        return self.node(_Context(opening.start, tuple(entries)))

    def type_name(self) -> str:
        """The longest type name here: `date and time` and not `date`, but `date` in `date and x`."""
        words: list[str] = []
        start, best = self.peek(), None
        while self.peek(len(words)).kind == "name" and " ".join([*words, self.peek(len(words)).text]) in _TYPE_PREFIXES:
            words.append(self.peek(len(words)).text)
            if " ".join(words) in _TYPES:
                best = len(words)
        if best is None:
            self.fail("expected a type such as number, string, boolean, date, list or context", start)
        self.position += best
        return " ".join(words[:best])

    # unary tests

    def positive_test(self, power: int) -> _Test:
        if self.peek().kind == "op" and self.peek().text in _TEST_OPERATORS:
            operator_text = self.advance().text
            return _Test(operator_text, self.expression(_COMPARISON_POWER))
        before = self.input_uses
        expression = self.expression(power)
        return _Test(None, expression, self.input_uses > before)

    def in_tests(self) -> tuple[_Test, ...]:
        if not self.at("("):
            return (self.positive_test(_COMPARISON_POWER),)
        opening = self.advance()
        tests: list[_Test] = []
        with self.nested():
            while True:
                test = self.positive_test(0)
                if not tests and test.operator is None and self.at(".."):
                    self.advance()
                    test = _Test(None, self.range_rest(opening, test.operand, closed=False))
                    return (test,)
                tests.append(test)
                if not self.at(","):
                    break
                self.advance()
        self.expect(")", "to close the list of tests")
        return tuple(tests)

    def nested(self) -> _Nested:
        return _Nested(self)


class _Nested:
    """Inside brackets a `[` is a filter again, even within a range endpoint."""

    def __init__(self, parser: _Parser) -> None:
        self.parser = parser
        self.saved = parser.filters_allowed

    def __enter__(self) -> None:
        self.parser.filters_allowed = True

    def __exit__(self, *exc: object) -> None:
        self.parser.filters_allowed = self.saved


_TYPE_PREFIXES: Final = frozenset(
    " ".join(name.split(" ")[:count]) for name in _TYPES for count in range(1, len(name.split(" ")) + 1)
)


def _children(node: object) -> list[object]:
    found: list[object] = []
    for name in getattr(node, "__dataclass_fields__", ()):
        value = getattr(node, name)
        if isinstance(value, _Node | _Test | _Iteration):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(item[1] if isinstance(item, tuple) else item for item in value)
    return found


def _check_depth(tree: _Node, source: _Source) -> None:
    """Refuse a tree deeper than MAX_DEPTH, without recursing: `1+1+1+...` is deep but not nested."""
    pending: list[tuple[object, int]] = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            offset = node.offset if isinstance(node, _Node) else None
            raise source.invalid(f"the expression is nested too deeply (limit {MAX_DEPTH})", offset)
        pending.extend((child, depth + 1) for child in _children(node))


def _is_path(node: _Node) -> bool:
    while isinstance(node, _Path):
        node = node.base
    return isinstance(node, _Name) and node.name != "?"


# --- compiling the tree into closures -----------------------------------------------------


class _Scope:
    """Names visible to an evaluation: local bindings, then the variables; and the work budget."""

    __slots__ = ("parent", "values", "work")

    def __init__(self, values: Mapping[str, Any], parent: _Scope | None, work: list[int]) -> None:
        self.values = values
        self.parent = parent
        self.work = work

    def find(self, name: str) -> tuple[bool, Any]:
        scope: _Scope | None = self
        while scope is not None:
            values = scope.values
            if name in values:
                return True, values[name]
            scope = scope.parent
        return False, None


Run = Callable[[_Scope], Any]


def _compile(node: _Node) -> Run:
    compiler = _COMPILERS[type(node)]
    return compiler(node)


def _compile_literal(node: _Node) -> Run:
    assert isinstance(node, _Literal)
    value = node.value
    return lambda scope: value


def _compile_name(node: _Node) -> Run:
    assert isinstance(node, _Name)
    name = node.name

    def run(scope: _Scope) -> Any:
        current: _Scope | None = scope
        while current is not None:
            values = current.values
            if name in values:
                return values[name]
            current = current.parent
        return None

    return run


def _path_value(value: Any, key: str, work: list[int]) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list | tuple):
        _spend(work, len(value), "reading a key of every item")
        return [_path_value(item, key, work) for item in value]
    return _property(value, key)


def _compile_path(node: _Node) -> Run:
    assert isinstance(node, _Path)
    base, key = _compile(node.base), node.key

    def run(scope: _Scope) -> Any:
        value = base(scope)
        if type(value) is dict:
            return value.get(key)
        return _path_value(value, key, scope.work)

    return run


def _compile_filter(node: _Node) -> Run:
    assert isinstance(node, _Filter)
    base, condition = _compile(node.base), _compile(node.condition)

    def run(scope: _Scope) -> Any:
        value = base(scope)
        if value is None:
            return None
        items = list(value) if isinstance(value, list | tuple) else [value]
        _spend(scope.work, len(items), "filtering this list")
        kept = []
        for position, item in enumerate(items):
            inner = _Scope({"item": item}, scope, scope.work)
            if isinstance(item, Mapping):
                inner = _Scope(item, inner, scope.work)
            outcome = condition(inner)
            if position == 0 and _is_number(outcome):
                index = int(outcome)
                if index == 0 or abs(index) > len(items):
                    return None
                return items[index - 1 if index > 0 else index]
            if outcome is True:
                kept.append(item)
        return kept

    return run


def _compile_call(node: _Node) -> Run:
    assert isinstance(node, _Call)
    if node.function == "is defined":
        keys: list[str] = []
        target = node.arguments[0]
        while isinstance(target, _Path):
            keys.append(target.key)
            target = target.base
        assert isinstance(target, _Name)
        root, keys = target.name, keys[::-1]

        def defined(scope: _Scope) -> Any:
            found, value = scope.find(root)
            for key in keys:
                if not found or not isinstance(value, Mapping) or key not in value:
                    return False
                value = value[key]
            return found

        return defined
    implementation = _BUILTINS[node.function].implementation
    arguments = tuple(_compile(argument) for argument in node.arguments)

    def run(scope: _Scope) -> Any:
        values = [argument(scope) for argument in arguments]
        try:
            return implementation(scope.work, *values)
        except (ValueError, TypeError, OverflowError, ArithmeticError, KeyError):
            return None  # FEEL: a function that cannot be applied gives null

    return run


def _compile_negate(node: _Node) -> Run:
    assert isinstance(node, _Negate)
    operand = _compile(node.operand)

    def run(scope: _Scope) -> Any:
        value = operand(scope)
        if _is_number(value) or isinstance(value, timedelta):
            return -value
        if isinstance(value, _YearsMonths):
            return _YearsMonths(-value.months)
        return None

    return run


def _compile_binary(node: _Node) -> Run:
    assert isinstance(node, _Binary)
    left, right, operator_text = _compile(node.left), _compile(node.right), node.operator
    if operator_text == "and":

        def conjunction(scope: _Scope) -> Any:
            a = left(scope)
            if a is False:
                return False
            b = right(scope)
            if b is False:
                return False
            return True if a is True and b is True else None

        return conjunction
    if operator_text == "or":

        def disjunction(scope: _Scope) -> Any:
            a = left(scope)
            if a is True:
                return True
            b = right(scope)
            if b is True:
                return True
            return False if a is False and b is False else None

        return disjunction
    if operator_text in ("=", "!="):
        negate = operator_text == "!="

        def equality(scope: _Scope) -> Any:
            a, b = left(scope), right(scope)
            if type(a) is type(b) and (type(a) is str or type(a) is int or type(a) is bool):
                return (a != b) if negate else (a == b)
            same = _equal(a, b, scope.work)
            return same if same is None or not negate else not same

        return equality
    if operator_text in _COMPARISONS:
        compare = _COMPARISONS[operator_text]

        def comparison(scope: _Scope) -> Any:
            a, b = left(scope), right(scope)
            kind_a, kind_b = type(a), type(b)
            if (kind_a is int or kind_a is float) and (kind_b is int or kind_b is float):
                return compare(a, b)
            ordering = _order(a, b)
            return None if ordering is None else compare(ordering, 0)

        return comparison
    arithmetic = _ARITHMETIC[operator_text]

    def calculation(scope: _Scope) -> Any:
        return arithmetic(scope.work, left(scope), right(scope))

    return calculation


def _compile_between(node: _Node) -> Run:
    assert isinstance(node, _Between)
    value, low, high = _compile(node.value), _compile(node.low), _compile(node.high)

    def run(scope: _Scope) -> Any:
        candidate, bottom, top = value(scope), low(scope), high(scope)
        if candidate is None or bottom is None or top is None:
            return None
        return _in_range(candidate, _Range(bottom, top, True, True))

    return run


TestRun = Callable[[Any, _Scope], "bool | None"]


def _compile_test(test: _Test) -> TestRun:
    operand = _compile(test.operand)
    if test.operator is not None:
        operator_text = test.operator

        def compare(candidate: Any, scope: _Scope) -> bool | None:
            value = operand(scope)
            if operator_text in ("=", "!="):
                same = _equal(candidate, value, scope.work)
                return same if same is None or operator_text == "=" else not same
            ordering = _order(candidate, value)
            return None if ordering is None else _COMPARISONS[operator_text](ordering, 0)

        return compare
    uses_input = test.uses_input

    def expression(candidate: Any, scope: _Scope) -> bool | None:
        value = operand(_Scope({"?": candidate}, scope, scope.work) if uses_input else scope)
        if uses_input:
            return value if isinstance(value, bool) else None
        if isinstance(value, _Range):
            return _in_range(candidate, value)
        if isinstance(value, list | tuple) and not isinstance(candidate, list | tuple):
            _spend(scope.work, len(value), "looking through this list")
            outcomes = [_equal(candidate, item, scope.work) for item in value]
            return True if True in outcomes else (False if all(o is False for o in outcomes) else None)
        if isinstance(value, bool) and candidate is not None and not isinstance(candidate, bool):
            return value  # a test of other variables, such as `amount > 10` (Camunda reads it so)
        return _equal(candidate, value, scope.work)

    return expression


def _any_test(tests: tuple[TestRun, ...], candidate: Any, scope: _Scope) -> bool | None:
    """Unary tests separated by commas: true if one is true, null if none is but one is null."""
    outcome: bool | None = False
    for test in tests:
        result = test(candidate, scope)
        if result is True:
            return True
        if result is None:
            outcome = None
    return outcome


def _compile_in(node: _Node) -> Run:
    assert isinstance(node, _In)
    value = _compile(node.value)
    tests = tuple(_compile_test(test) for test in node.tests)
    return lambda scope: _any_test(tests, value(scope), scope)


def _instance_of(value: Any, type_name: str) -> bool:
    if type_name == "Any":
        return value is not None
    if type_name == "Null":
        return value is None
    return _kind(value) == type_name


def _compile_instance_of(node: _Node) -> Run:
    assert isinstance(node, _InstanceOf)
    value, type_name = _compile(node.value), node.type_name
    return lambda scope: _instance_of(value(scope), type_name)


def _compile_if(node: _Node) -> Run:
    assert isinstance(node, _If)
    condition, then, otherwise = _compile(node.condition), _compile(node.then), _compile(node.otherwise)
    return lambda scope: then(scope) if condition(scope) is True else otherwise(scope)


def _domain(value: Any, end: Any, work: list[int]) -> Iterable[Any] | None:
    """What `for x in ...` goes through: a list, a range of whole numbers, or `a..b`."""
    low_closed = high_closed = True
    if isinstance(value, _Range):
        value, end, low_closed, high_closed = value.low, value.high, value.low_closed, value.high_closed
    elif end is None:
        if isinstance(value, list | tuple):
            _spend(work, len(value), "going through this list")
            return value
        return None
    if not (_whole(value) and _whole(end)):
        return None
    first, last = int(value), int(end)
    step = 1 if last >= first else -1
    first += 0 if low_closed else step
    last -= 0 if high_closed else step
    if (last - first) * step < 0:
        return ()
    _spend(work, abs(last - first) + 1, f"going from {first} to {last}")
    return range(first, last + step, step)


class _NullDomain(Exception):
    """A `for` ranged over something that is not a list: the whole result is null."""


def _compile_for(node: _Node) -> Run:
    assert isinstance(node, _For)
    iterations = [
        (iteration.name, _compile(iteration.domain), None if iteration.end is None else _compile(iteration.end))
        for iteration in node.iterations
    ]
    body, quantifier, last = _compile(node.body), node.quantifier, len(iterations) - 1

    def run(scope: _Scope) -> Any:
        def walk(index: int, bound: dict[str, Any]) -> Iterable[_Scope]:
            name, domain, end = iterations[index]
            inner = _Scope(bound, scope, scope.work)
            items = _domain(domain(inner), None if end is None else end(inner), scope.work)
            if items is None:
                raise _NullDomain
            for item in items:
                chosen = {**bound, name: item}
                if index == last:
                    yield _Scope(chosen, scope, scope.work)
                else:
                    yield from walk(index + 1, chosen)

        try:
            if quantifier == "some":
                return any(body(inner) is True for inner in walk(0, {}))
            if quantifier == "every":
                return all(body(inner) is True for inner in walk(0, {}))
            return [body(inner) for inner in walk(0, {})]
        except _NullDomain:
            return None

    return run


def _compile_list(node: _Node) -> Run:
    assert isinstance(node, _List)
    items = tuple(_compile(item) for item in node.items)
    return lambda scope: [item(scope) for item in items]


def _compile_context(node: _Node) -> Run:
    assert isinstance(node, _Context)
    entries = tuple((key, _compile(value)) for key, value in node.entries)

    def run(scope: _Scope) -> Any:
        built: dict[str, Any] = {}
        inner = _Scope(built, scope, scope.work)
        for key, value in entries:
            built[key] = value(inner)
        return built

    return run


def _compile_range(node: _Node) -> Run:
    assert isinstance(node, _RangeNode)
    low, high, low_closed, high_closed = _compile(node.low), _compile(node.high), node.low_closed, node.high_closed
    return lambda scope: _Range(low(scope), high(scope), low_closed, high_closed)


_COMPILERS: Final[dict[type[_Node], Callable[[_Node], Run]]] = {
    _Literal: _compile_literal,
    _Name: _compile_name,
    _Path: _compile_path,
    _Filter: _compile_filter,
    _Call: _compile_call,
    _Negate: _compile_negate,
    _Binary: _compile_binary,
    _Between: _compile_between,
    _In: _compile_in,
    _InstanceOf: _compile_instance_of,
    _If: _compile_if,
    _For: _compile_for,
    _List: _compile_list,
    _Context: _compile_context,
    _RangeNode: _compile_range,
}


# --- the public interface -----------------------------------------------------------------


def _failure(error: Exception, label: str, details: dict[str, Any]) -> EvaluationError:
    if isinstance(error, _Fault):
        message = str(error)
    elif isinstance(error, RecursionError):
        message = "the data is nested too deeply"
    elif isinstance(error, MemoryError):
        message = "out of memory"
    else:
        message = str(error) or type(error).__name__
    return EvaluationError(f"{label}: {message}", details=details)


@dataclass(frozen=True, kw_only=True, slots=True)
class FeelExpression(Expression):
    """A checked, compiled FEEL expression (the text after Camunda 8's `=` marker)."""

    dialect: ClassVar[str] = "feel"
    _run: Run = field(repr=False, compare=False)

    def evaluate_feel(self, variables: Mapping[str, Any]) -> Any:
        """The FEEL value itself: dates, times, durations and ranges are kept as they are."""
        try:
            return self._run(_Scope(variables, None, [MAX_WORK]))
        except Exception as error:
            raise _failure(error, f"expression {self.source!r}", {"expression": self.source}) from error

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        """The value as JSON: dates, times and durations become ISO 8601 text."""
        value = self.evaluate_feel(variables)
        try:
            return _to_json(value)
        except Exception as error:
            raise _failure(error, f"expression {self.source!r}", {"expression": self.source}) from error

    def evaluate_condition(self, variables: Mapping[str, Any]) -> bool:
        """True or false; a null result is an error, as it is an incident in Camunda 8."""
        result = self.evaluate_feel(variables)
        if isinstance(result, bool):
            return result
        if result is None:
            raise EvaluationError(
                f"expression {self.source!r}: the condition was null, not true or false (in FEEL a missing "
                "variable or a comparison of different types gives null; test for it first, as in "
                "'x != null and x > 10')",
                details={"expression": self.source},
            )
        raise EvaluationError(
            f"expression {self.source!r}: a condition must be true or false, but this one gave {_kind(result)}",
            details={"expression": self.source},
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class UnaryTests:
    """The unary tests of a DMN decision table input entry (DMN 1.3, 10.3.1.3 and 8.3.3)."""

    source: str
    names: frozenset[str]
    """The variables the tests read (not `?`, the input value)."""
    _negated: bool = field(repr=False, compare=False)
    _tests: tuple[TestRun, ...] | None = field(repr=False, compare=False)  # None: `-`, anything matches

    def matches(self, value: Any, variables: Mapping[str, Any]) -> bool:
        """Whether the input `value` satisfies the tests; a null outcome does not match."""
        if self._tests is None:
            return True
        try:
            outcome = _any_test(self._tests, value, _Scope(variables, None, [MAX_WORK]))
        except Exception as error:
            details = {"expression": self.source}
            raise _failure(error, f"input entry {self.source!r}", details) from error
        if self._negated and outcome is not None:
            outcome = not outcome
        return outcome is True


def _source(source: str, *, strip_marker: bool) -> _Source:
    if not isinstance(source, str):
        raise TypeError(f"the expression must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionInvalid(
            f"the expression is {len(source):,} characters long; the limit is {MAX_SOURCE_LENGTH:,}",
            source=source[:200] + "...",
        )
    start, end = 0, len(source)
    while start < end and source[start].isspace():
        start += 1
    if strip_marker and source.startswith("=", start):
        start += 1
    while end > start and source[end - 1].isspace():
        end -= 1
    return _Source(source, start, end)


def _parsed(parser: _Parser, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except RecursionError:
        raise parser.source.invalid("the expression is nested too deeply", None) from None


def compile_feel(source: str) -> FeelExpression:
    """Check and compile a FEEL expression; a leading `=` (Camunda 8's marker) is allowed."""
    text = _source(source, strip_marker=True)
    parser = _Parser(text)
    if parser.peek().kind == "end":
        raise text.invalid("the expression is empty", None)

    def build() -> FeelExpression:
        tree = parser.expression()
        if parser.peek().kind != "end":
            parser.unexpected(parser.peek())
        _check_depth(tree, text)
        return FeelExpression(source=source, names=frozenset(parser.names), _run=_compile(tree))

    result: FeelExpression = _parsed(parser, build)
    return result


def compile_unary_tests(source: str) -> UnaryTests:
    """Check and compile a decision table input entry: `-`, `"A","B"`, `not(< 5)`, `[1..10]`, `? > 5`."""
    text = _source(source, strip_marker=False)
    parser = _Parser(text)
    if parser.peek().kind == "end" or (parser.at("-") and parser.peek(1).kind == "end"):
        return UnaryTests(source=source, names=frozenset(), _negated=False, _tests=None)

    def tests() -> tuple[_Test, ...]:
        found = [parser.positive_test(0)]
        while parser.at(","):
            parser.advance()
            found.append(parser.positive_test(0))
        return tuple(found)

    def build() -> UnaryTests:
        negated = False
        found: tuple[_Test, ...] | None = None
        if parser.at("not") and parser.at("(", 1):
            parser.position += 2
            with parser.nested():
                inner = tests()
            if parser.at(")") and parser.peek(1).kind == "end":
                negated, found = True, inner
            else:  # `not(x) = y`: an expression that happens to start with not()
                parser.position, parser.names, parser.input_uses = 0, set(), 0
        if found is None:
            found = tests()
            if parser.peek().kind != "end":
                parser.unexpected(parser.peek())
        for test in found:
            _check_depth(test.operand, text)
        compiled = tuple(_compile_test(test) for test in found)
        return UnaryTests(source=source, names=frozenset(parser.names), _negated=negated, _tests=compiled)

    result: UnaryTests = _parsed(parser, build)
    return result
