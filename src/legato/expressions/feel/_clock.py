"""The time `now()` and `today()` read: given by the caller for one evaluation, never the wall clock.

The engine is pure and replays an instance from its history, so FEEL must not read the
system clock: the caller passes the time it injects (the engine's `now` for the step, the
job executor's clock for a decision) with `feel_clock(now)`, and every `now()` inside gives
that same instant. Outside `feel_clock` there is no time, and `now()` is an evaluation error
saying so rather than a silently different answer on each replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Final

from legato.expressions.feel._values import _Fault

_NOW: Final[ContextVar[datetime | None]] = ContextVar("legato_feel_now", default=None)


@contextmanager
def feel_clock(now: datetime) -> Iterator[None]:
    """Evaluate FEEL inside this block with `now()` = `now` (a naive time is taken as UTC)."""
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, not {type(now).__name__}")
    token = _NOW.set(now if now.tzinfo is not None else now.replace(tzinfo=UTC))
    try:
        yield
    finally:
        _NOW.reset(token)


def _current(function: str) -> datetime:
    now = _NOW.get()
    if now is None:
        raise _Fault(
            f"{function}() needs the time of the evaluation, and this caller gave none "
            "(FEEL never reads the wall clock; evaluate inside feel_clock(now))"
        )
    return now


def now(work: list[int]) -> datetime:
    """`now()`: the date and time of the evaluation, with its offset."""
    return _current("now")


def today(work: list[int]) -> date:
    """`today()`: the date of the evaluation, in the clock's zone."""
    return _current("today").date()
