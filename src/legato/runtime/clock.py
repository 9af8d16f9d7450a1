"""Time, injected: the runtime never reads the wall clock except through a `Clock`.

Tests use `FakeClock` and move time forward; a worker waiting for a timer is woken by the
move (listeners), so a test of a two-day escalation runs in milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever time jumps (only fake clocks jump)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def subscribe(self, listener: Callable[[], None]) -> None:
        return None


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 1, tzinfo=UTC)
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            now = self._now
        for listener in list(self._listeners):
            listener()
        return now

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
