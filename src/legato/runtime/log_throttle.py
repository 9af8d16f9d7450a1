"""Log a repeated failure once per interval, not once per occurrence.

When the database goes away, every request and every worker turn fails the same way: an
unthrottled server wrote ~1,200 tracebacks in ten seconds, burying the one line that said
what was wrong. A `LogThrottle` lets the first record of a kind through, drops the same
kind for `interval` seconds, and then lets the next one through with the count of those it
dropped, so the log says both what failed and how often:

    throttle = LogThrottle(interval=30)
    suppressed = throttle.allow(("commit", type(exc).__name__))
    if suppressed is not None:
        log.error("committing failed%s", throttle.note(suppressed), exc_info=exc)

`RepeatFilter` does the same as a `logging.Filter` for whole handlers (what `legato server`
installs), keyed by logger, level, rendered message and exception type.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

DEFAULT_INTERVAL = 30.0
_MAX_KEYS = 10_000  # a key per distinct failure; forget the oldest past this


class LogThrottle:
    """Thread-safe: `allow(key)` is None while `key` is muted, else how many were muted before."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[Hashable, float] = {}
        self._muted: dict[Hashable, int] = {}

    def allow(self, key: Hashable) -> int | None:
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._muted[key] = self._muted.get(key, 0) + 1
                return None
            if len(self._last) >= _MAX_KEYS:
                oldest = min(self._last, key=self._last.__getitem__)
                self._last.pop(oldest)
                self._muted.pop(oldest, None)
            self._last[key] = now
            return self._muted.pop(key, 0)

    def note(self, suppressed: int) -> str:
        """The text to append to a record that was let through after others were muted."""
        if not suppressed:
            return ""
        return f" ({suppressed} more like this in the last {self.interval:g} s were not logged)"


class RepeatFilter(logging.Filter):
    """A handler filter: the same record (logger, level, template, exception type) once per interval."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.throttle = LogThrottle(interval, clock=clock)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True  # only failures repeat in floods worth muting; info lines are the access log
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        # The rendered message: lines about different jobs or paths differ, a flood of one does not.
        suppressed = self.throttle.allow((record.name, record.levelno, record.getMessage()[:300], error))
        if suppressed is None:
            return False
        if suppressed:
            record.msg = f"{record.getMessage()}{self.throttle.note(suppressed)}"
            record.args = None
        return True


__all__ = ["DEFAULT_INTERVAL", "LogThrottle", "RepeatFilter"]
