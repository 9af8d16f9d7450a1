"""FEEL values: kinds, equality and order, dates, times and durations, and the JSON boundary.

FEEL compares values of different kinds as null, not as an error (DMN 1.3, 10.3.2.2), and
what leaves an evaluation must be JSON, so dates and durations become ISO 8601 text there.
"""

from __future__ import annotations

import calendar
import decimal
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from legato.expressions._budget import MAX_INT_BITS, MAX_WORK
from legato.expressions._deadline import tick


class _Fault(Exception):
    """An evaluation that must stop (a budget, a failed assert); the caller names the expression."""


# --- numbers ------------------------------------------------------------------------------

CONTEXT: Final = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
"""DMN's decimal128 (DMN 1.5, 10.3.2.3.1): 34 digits, half-even; an overflow or 0/0 traps (null)."""


def as_decimal(value: Any) -> Decimal:
    """A FEEL number as a Decimal; a float (a JSON input) is taken as the shortest text that gives it back,
    so the input 0.1 is the decimal 0.1 and `0.1 + 0.2 = 0.3` holds as the spec says."""
    kind = type(value)
    if kind is Decimal:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return _float_decimal(value)
    return Decimal(value)


@lru_cache(maxsize=4096)
def _float_decimal(value: float) -> Decimal:
    """repr() and Decimal() cost most of a condition's time; inputs repeat, so they are kept."""
    return Decimal(repr(value))


def from_decimal(value: Decimal) -> int | Decimal:
    """A computed number as FEEL keeps it: whole numbers as int (fast and exact), others as Decimal."""
    if value == value.to_integral_value() and value.adjusted() < 34:
        return int(value)
    return value


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class _YearsMonths:
    """A years-and-months duration (`P1Y2M`), counted in months; `timedelta` holds the other kind."""

    months: int


class _Callable:
    """A FEEL function value (`function(a, b) a + b`), which built-ins such as `sort` call too."""

    __slots__ = ()
    parameters: tuple[str, ...] = ()

    def call(self, arguments: list[Any]) -> Any:
        raise NotImplementedError


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
    Decimal: "number",
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
_NUMBERS: Final = (int, float, Decimal)


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
    if isinstance(value, _Callable):
        return "function"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


def _spend(work: list[int], amount: int, what: str) -> None:
    work[0] -= amount
    if work[0] < 0:
        raise _Fault(f"{what} goes over the limit of {MAX_WORK:,} items and characters that one evaluation may use")
    tick(1 + (amount >> 10))  # long lists read the CPU clock sooner


def _equal(left: Any, right: Any, work: list[int]) -> bool | None:
    """FEEL `=`: null equals only null; values of different kinds give null (DMN 1.3, 10.3.2.2)."""
    if type(left) is type(right) and type(left) in (str, int, Decimal, float, bool):
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
    if kind == "number":
        return as_decimal(left) == as_decimal(right)
    try:
        return bool(left == right)
    except TypeError:
        return None


def _order(left: Any, right: Any) -> int | None:
    """-1, 0 or 1 for values FEEL can order (numbers, text, dates, times, durations), else None."""
    kind = _kind(left)
    if kind not in _ORDERED or kind != _kind(right):
        return None
    if kind == "number" and (type(left) is float or type(right) is float):
        left, right = as_decimal(left), as_decimal(right)
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
_TIME: Final = re.compile(
    r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2}|@[A-Za-z0-9_/+\-]{1,60})?"
)
_DAYS_TIME: Final = re.compile(
    r"(-)?P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9})(?:\.(\d{0,9}))?S)?)?"
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
    if text in ("Z", "z"):
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
_LARGEST_JSON_INTEGER: Final = 2**64


def _to_json(value: Any) -> Any:
    """What an evaluation hands back: dates, times and durations become ISO 8601 text."""
    if type(value) in _PLAIN:
        return value
    if type(value) is Decimal:  # JSON has one kind of number: whole ones stay exact
        if value == value.to_integral_value() and abs(value) < _LARGEST_JSON_INTEGER:
            return int(value)
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, date | time | timedelta | _YearsMonths):
        return _iso(value)
    if isinstance(value, _Range):
        raise _Fault("the result is a range, which cannot be stored; use it with 'in' or in a unary test")
    if isinstance(value, _Callable):
        raise _Fault("the result is a function, which cannot be stored; call it")
    return value


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.adjusted() < 34:
            return str(int(value))
        return format(value.normalize(CONTEXT), "f")
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
    if isinstance(value, datetime) and isinstance(value.tzinfo, ZoneInfo):  # DMN 1.5, 10.3.4.1
        return value.replace(tzinfo=None).isoformat() + "@" + value.tzinfo.key
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
