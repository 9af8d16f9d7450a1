"""Cron timer cycles as Camunda writes them: Quartz's syntax, seconds first (`0 0/5 * * * ?`).

Camunda 7 reads a `timeCycle` that is not ISO 8601 as a Quartz cron expression (its
CronExpression is Quartz's), and Camunda 8 as Spring's, which differs only in how
day-of-week numbers count. Legato reads Quartz's, the fields

    seconds  minutes  hours  day-of-month  month  day-of-week  [year]

with `*`, `?` (no value, in one of the two day fields), lists `1,15`, ranges `MON-FRI`,
steps `0/5` and `*/10`, `L` (the last day of the month; `6L`, the last Friday), `15W` (the
weekday nearest the 15th) and `6#3` (the third Friday). Day-of-week numbers count from
Sunday, 1 to 7, as in Quartz; names (`SUN`..`SAT`) read the same in every dialect. The
BPMN reader writes a file's day numbers as names (`day_names`): Quartz's in a Camunda 7
file, Spring's (1 is Monday, 0 and 7 Sunday) in a Camunda 8 one, so each file means what
its author meant, and an exported file means the same to either engine.

The next firing is computed by croniter, a well-kept library, from a translation of the
Quartz text into croniter's syntax; the text itself is kept as written. Times are UTC.
What croniter cannot do (`LW`, `L-3`) and what Quartz refuses itself (a day of the month
and a day of the week both given) are refused here with advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

__all__ = ["CronCycle", "CronInvalid", "day_names", "looks_like_cron"]

_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NUMBER = re.compile(r"(?<![#/\d])\d+")  # a day number: not a step (`/2`) nor an occurrence (`#3`)
_FIELDS = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")
MAX_YEARS_AHEAD = 100  # a cron that matches nothing within this many years (`0 0 0 30 2 ?`) never fires


class CronInvalid(ValueError):
    """A cron text that cannot be used; the message says what to write instead."""


def looks_like_cron(text: str) -> bool:
    """A cycle written as cron rather than ISO 8601 (`R3/PT10M`): fields split by spaces."""
    return not text.startswith("R") and len(text.split()) >= 5


def day_names(text: str, *, spring: bool) -> str:
    """A cron with its day-of-week numbers written as names (`2-6` -> `MON-FRI`).

    Quartz (Camunda 7) counts 1 (Sunday) to 7 (Saturday); Spring (Camunda 8, `spring=True`)
    0 or 7 (Sunday) and 1 (Monday) to 6. Names mean the same to both. Text that is no six-
    or seven-field cron, a field with a step (`1/2`), and numbers out of range are left as
    they are (the parser refuses the latter).
    """
    fields = text.split()
    if not looks_like_cron(text) or len(fields) not in (6, 7) or "/" in fields[5]:
        return text
    low = 0 if spring else 1

    def name(match: re.Match[str]) -> str:
        day = int(match.group())
        if not low <= day <= 7:
            return match.group()
        return _DAY_NAMES[day % 7] if spring else _DAY_NAMES[day - 1]

    fields[5] = _NUMBER.sub(name, fields[5])
    return " ".join(fields)


@dataclass(frozen=True, slots=True)
class CronCycle:
    """A parsed Quartz cron cycle; `after(instant)` is its next firing."""

    text: str
    _croniter_text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_croniter_text", _translate(self.text))
        if self.after(datetime(2000, 1, 1, tzinfo=UTC)) is None:
            raise CronInvalid(f"{self.text!r} matches no date within {MAX_YEARS_AHEAD} years (a 30 February?)")

    def after(self, instant: datetime) -> datetime | None:
        """The first firing strictly after `instant` (aware), in UTC; None if none comes."""
        try:
            found = croniter(
                self._croniter_text,
                instant.astimezone(UTC),
                second_at_beginning=True,
                max_years_between_matches=MAX_YEARS_AHEAD,
            ).get_next(datetime)
        except CroniterBadDateError:
            return None
        except (CroniterError, ValueError, OverflowError) as error:
            raise CronInvalid(f"{self.text!r} is not a cron expression croniter can run: {error}") from None
        assert isinstance(found, datetime)
        return found.astimezone(UTC)


def _translate(text: str) -> str:
    fields = text.split()
    if len(fields) not in (6, 7):
        raise CronInvalid(
            f"{text!r} has {len(fields)} fields; a cron cycle has 6 or 7, seconds first, as Camunda writes "
            "them: '0 0/5 * * * ?' (every five minutes), '0 0 9 ? * MON-FRI' (weekdays at 9)"
        )
    upper = [part.upper() for part in fields]
    day_of_month, day_of_week = upper[3], upper[5]
    if day_of_month != "?" and day_of_week != "?" and "*" not in (day_of_month, day_of_week):
        raise CronInvalid(
            f"{text!r} gives both a day of the month and a day of the week; write '?' in one of them, "
            "as Quartz (Camunda 7) requires"
        )
    for number, part in enumerate(upper):
        if "LW" in part or re.search(r"L-\d", part):
            raise CronInvalid(
                f"{text!r}: {part!r} in the {_FIELDS[number]} field is not supported; use L (the last day) "
                "or nW (the weekday nearest day n)"
            )
    upper = ["*" if part == "?" else part for part in upper]
    upper[5] = _quartz_days(upper[5])
    translated = " ".join(upper)
    try:
        croniter(translated, datetime(2000, 1, 1, tzinfo=UTC), second_at_beginning=True)
    except (CroniterBadCronError, CroniterError, ValueError) as error:
        raise CronInvalid(
            f"{text!r} is not a cron expression such as '0 0/5 * * * ?' or '0 0 9 ? * MON-FRI': {error}"
        ) from None
    return translated


def _quartz_days(part: str) -> str:
    """Quartz's day-of-week (1 = Sunday .. 7 = Saturday, `6L`, `6#3`) in croniter's syntax."""
    if part == "L":
        return "6"  # Quartz: L alone in day-of-week is the last day of the week, Saturday

    def shift(match: re.Match[str]) -> str:
        day = int(match.group())
        if not 1 <= day <= 7:
            raise CronInvalid(f"day of the week {day} is not 1 (Sunday) to 7 (Saturday), as Quartz counts")
        return str(day - 1)

    last = re.fullmatch(r"(\d|[A-Z]{3})L", part)
    if last is not None:  # the last Friday of the month: Quartz 6L (or FRIL), croniter L5
        day = last.group(1)
        return "L" + (str(_DAY_NAMES.index(day)) if day in _DAY_NAMES else _NUMBER.sub(shift, day))
    return _NUMBER.sub(shift, part)
