"""When a timer is due: the three ISO 8601 forms of BPMN 2.0, 10.5.5 TimerEventDefinition.

A timer event carries exactly one of timeDate, timeDuration or timeCycle; `TimerSpec`
holds one of them, parsed once (at deploy) and checked against the limits below. The
engine is pure, so nothing here reads the clock: callers pass `now` in.

- duration (`PT30S`, `P1DT2H`, `P1M`): due `now + duration`. Months and years are
  calendar months and years (Jan 31 + P1M = Feb 28). A zero duration is due at once.
- date (`2026-12-01T10:00:00+02:00`, `2026-12-01`): due at that instant. A date or time
  without an offset is UTC; a date alone is midnight UTC.
- cycle (`R5/PT10M`, `R/PT1H`, `R3/2026-12-01T10:00:00Z/PT1H`, `R/PT1H/2026-12-31`):
  `R<n>` fires at most n times, `R` without n is unbounded, `R0` never fires. Without a
  start, the first firing is one period after `now` and each next one a period after the
  one before. With a start, the occurrences are `start + k * period` for k < n, in the
  start's own offset (so month ends do not drift); occurrences already past when the
  timer is scheduled are skipped, not fired late, and they still count towards n. With an
  end, no occurrence falls after it.
- cron cycle (`0 0/5 * * * ?`, `0 0 9 ? * MON-FRI`), as Camunda 7 writes a timeCycle that is
  not ISO 8601: Quartz's fields, seconds first (model/cron.py). Each firing is the next
  match after the one before (the first, after `now`); it repeats without end.

Every datetime returned is aware and in UTC. A naive `now` is a programming error
(TypeError), not a guess. A due time past year 9999 is None: it never comes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal, cast, get_args

import isodate

from legato.errors import InvalidInput
from legato.model.cron import CronCycle, CronInvalid, looks_like_cron

TimerKind = Literal["duration", "date", "cycle"]

MAX_TEXT_LENGTH = 200
MAX_YEARS = 100
MIN_CYCLE_PERIOD = timedelta(seconds=1)

_KINDS: tuple[str, ...] = get_args(TimerKind)
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)  # durations are measured from here
_LIMIT = datetime(2000 + MAX_YEARS, 1, 1, tzinfo=UTC)
_COMPLETE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")
_REPETITIONS = re.compile(r"R(\d*)")
_EXAMPLES = {"duration": "PT30S or P1DT2H", "date": "2026-12-01T10:00:00Z", "cycle": "R5/PT10M"}


class TimerInvalid(InvalidInput, ValueError):
    """A timer whose text cannot be used; the message names what is wrong with it."""

    code = "TIMER_INVALID"

    def __init__(self, problem: str, *, kind: str, text: str) -> None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(
            f"{kind} timer {shown!r}: {problem}",
            details={"kind": kind, "timer": text[:MAX_TEXT_LENGTH]},
        )
        self.problem = problem


class _Problem(Exception):
    """Raised by the parsers below; `TimerSpec` wraps it into a `TimerInvalid`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TimerSpec:
    """One parsed timer definition; equal when kind and text are equal.

    Store `kind` and `text`; build it again with `parse_timer` (or this constructor,
    which validates the same way) when loading.
    """

    kind: TimerKind
    text: str
    # Parsed in __post_init__: the duration or cycle period, the date or cycle start
    # (in its own offset), the cycle end, and the cycle's repetitions (None: unbounded).
    _amount: timedelta | isodate.Duration | None = field(init=False, repr=False, compare=False)
    _at: datetime | None = field(init=False, repr=False, compare=False)
    _until: datetime | None = field(init=False, repr=False, compare=False)
    _repetitions: int | None = field(init=False, repr=False, compare=False)
    _cron: CronCycle | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        amount: timedelta | isodate.Duration | None = None
        at = until = None
        repetitions = None
        cron = None
        try:
            _check_text(self.kind, self.text)
            if self.kind == "duration":
                amount = _parse_duration(self.text)
            elif self.kind == "date":
                at = _parse_date(self.text)
            elif looks_like_cron(self.text):
                cron = CronCycle(self.text)
            else:
                amount, at, until, repetitions = _parse_cycle(self.text)
        except (_Problem, CronInvalid) as problem:
            raise TimerInvalid(str(problem), kind=self.kind, text=self.text) from None
        object.__setattr__(self, "_cron", cron)
        object.__setattr__(self, "_amount", amount)
        object.__setattr__(self, "_at", at)
        object.__setattr__(self, "_until", until)
        object.__setattr__(self, "_repetitions", repetitions)

    def first_due(self, now: datetime) -> datetime | None:
        """When the timer is first due, for a timer scheduled at `now`; None if never.

        A date in the past is returned as it is: it is already due.
        """
        now = _utc(now, "now")
        if self.kind == "duration":
            return _add(now, self._amount)
        if self.kind == "date":
            assert self._at is not None
            return self._at.astimezone(UTC)
        if self._cron is not None:
            return self._cron.after(now)
        if self._repetitions == 0:
            return None
        if self._at is None:
            return self._before_end(_add(now, self._amount))
        return self._occurrence(now, strictly_after=False)

    def next_due(self, previous_due: datetime, fired: int) -> datetime | None:
        """The occurrence after `previous_due`, once the timer has fired `fired` times.

        `fired` counts the firings so far, the one at `previous_due` included. None when
        the repetitions are used up, past the cycle's end, and always for non-cycles.
        """
        previous_due = _utc(previous_due, "previous_due")
        if fired < 1:
            raise ValueError(f"fired must be at least 1 (the firing at previous_due): {fired}")
        if self.kind != "cycle":
            return None
        if self._cron is not None:
            return self._cron.after(previous_due)
        if self._repetitions is not None and fired >= self._repetitions:
            return None
        if self._at is None:
            return self._before_end(_add(previous_due, self._amount))
        return self._occurrence(previous_due, strictly_after=True)

    def _before_end(self, due: datetime | None) -> datetime | None:
        if due is None or (self._until is not None and due > self._until):
            return None
        return due

    def _occurrence(self, instant: datetime, *, strictly_after: bool) -> datetime | None:
        """The first `start + k * period` at (or strictly after) `instant`, with k < n.

        Occurrences grow with k, so search: double k past `instant`, then bisect.
        """
        assert self._at is not None

        def before(k: int) -> bool:
            due = _add(self._at, self._amount, times=k)
            if due is None:  # past year 9999: later than any instant
                return False
            return due <= instant if strictly_after else due < instant

        low, high = -1, 0  # before(low) holds (k = -1 stands for "earlier than all")
        while before(high):
            low, high = high, max(1, high * 2)
        while high - low > 1:
            middle = (low + high) // 2
            if before(middle):
                low = middle
            else:
                high = middle
        if self._repetitions is not None and high >= self._repetitions:
            return None
        return _add(self._at, self._amount, times=high)


def parse_timer(kind: str, text: str) -> TimerSpec:
    """Parse a timer definition of `kind` ("duration", "date" or "cycle").

    Surrounding whitespace (common in BPMN XML) is ignored. Raises `TimerInvalid`.
    """
    if not isinstance(text, str):
        raise TimerInvalid(
            f"the timer must be ISO 8601 text, not {type(text).__name__}",
            kind=kind,
            text=repr(text),
        )
    return TimerSpec(kind=cast(TimerKind, kind), text=text.strip())


def _check_text(kind: str, text: str) -> None:
    if kind not in _KINDS:
        raise _Problem(f"unknown timer kind {kind!r}; expected one of {', '.join(_KINDS)}")
    if not text:
        raise _Problem(f"the timer is empty; expected ISO 8601 text such as {_EXAMPLES[kind]}")
    if len(text) > MAX_TEXT_LENGTH:
        raise _Problem(f"the timer is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}")
    shape = _shape(text)
    if shape is not None and shape != kind:
        raise _Problem(
            f"this looks like a {shape}, not a {kind}: write it as timer kind {shape!r}, "
            f"or give a {kind} such as {_EXAMPLES[kind]}"
        )


def _shape(text: str) -> str | None:
    """Which kind the text looks like, to tell the user when they named the wrong one."""
    if text.startswith("R") or looks_like_cron(text):
        return "cycle"
    if text.lstrip("+-").startswith("P") and "/" not in text:
        return "duration"
    if _COMPLETE_DATE.match(text) and "/" not in text:
        return "date"
    return None


def _parse_duration(text: str) -> timedelta | isodate.Duration:
    """A duration from zero to MAX_YEARS; months and years stay calendar units."""
    try:
        amount = isodate.parse_duration(text)
    except OverflowError:
        raise _Problem(f"{text!r} is longer than the limit of {MAX_YEARS} years") from None
    except ValueError:
        raise _Problem(f"{text!r} is not an ISO 8601 duration such as PT30S or P1DT2H") from None
    if isinstance(amount, isodate.Duration):
        if amount.years % 1 or amount.months % 1:
            raise _Problem(f"{text!r} has a fraction of a month or year; use days instead")
        if not amount.years and not amount.months:
            amount = amount.tdelta
    end = _add(_REFERENCE, amount)
    if end is None or end > _LIMIT:
        raise _Problem(f"{text!r} is longer than the limit of {MAX_YEARS} years")
    if end < _REFERENCE:
        raise _Problem(f"{text!r} is negative; a timer cannot be due in the past")
    return cast(timedelta | isodate.Duration, amount)


def _parse_date(text: str) -> datetime:
    """An instant; without an offset it is UTC, a date alone is midnight UTC."""
    date_part, has_time, _ = text.partition("T")
    example = "2026-12-01T10:00:00Z or 2026-12-01"
    if not _COMPLETE_DATE.fullmatch(date_part):
        raise _Problem(f"{text!r} is not an ISO 8601 date such as {example}")
    try:
        if has_time:
            value = cast(datetime, isodate.parse_datetime(text))
        else:
            day = isodate.parse_date(text)
            value = datetime(day.year, day.month, day.day)
        offset = value.utcoffset()
        value = value.replace(tzinfo=UTC if offset is None else timezone(offset))
        value.astimezone(UTC)  # a date at the edge of year 1 or 9999 may not fit in UTC
    except isodate.ISO8601Error:
        raise _Problem(f"{text!r} is not an ISO 8601 date such as {example}") from None
    except (ValueError, OverflowError) as error:
        raise _Problem(f"{text!r} is not a valid date: {error}") from None
    return value


def _parse_cycle(
    text: str,
) -> tuple[timedelta | isodate.Duration, datetime | None, datetime | None, int | None]:
    """`R<n>/<period>`, `R<n>/<start>/<period>` or `R<n>/<period>/<end>`."""
    forms = "R<n>/<period>, R<n>/<start>/<period> or R<n>/<period>/<end>"
    head, *parts = text.split("/")
    counted = _REPETITIONS.fullmatch(head)
    if counted is None:
        raise _Problem(f"a cycle starts with R or R<n> (n repetitions), not {head!r}")
    repetitions = int(counted.group(1)) if counted.group(1) else None
    is_period = [part.lstrip("+-").startswith("P") for part in parts]
    start = end = None
    if is_period == [True]:
        period_text = parts[0]
    elif is_period == [False, True]:
        start, period_text = _parse_date(parts[0]), parts[1]
    elif is_period == [True, False]:
        period_text, end = parts[0], _parse_date(parts[1])
    elif is_period == [False, False]:
        raise _Problem(f"a cycle needs a period, not start and end; use {forms}")
    else:
        raise _Problem(f"a cycle has the form {forms}")
    period = _parse_duration(period_text)
    if _REFERENCE + period - _REFERENCE < MIN_CYCLE_PERIOD:
        minimum = isodate.duration_isoformat(MIN_CYCLE_PERIOD)
        raise _Problem(f"the period {period_text!r} is shorter than the minimum, {minimum}")
    return period, start, end, repetitions


def _utc(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise TypeError(f"{name} must be timezone-aware; got the naive datetime {value!r}")
    return value.astimezone(UTC)


def _add(start: datetime | None, amount: timedelta | isodate.Duration | None, *, times: int = 1) -> datetime | None:
    """`start + amount * times` in UTC, or None when that is past year 9999."""
    assert start is not None and amount is not None
    try:
        return (start + amount * times).astimezone(UTC)
    except (OverflowError, ValueError):
        return None
