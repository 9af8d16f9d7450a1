"""Repeated failures are logged once per interval, with the count of those left out."""

from __future__ import annotations

import logging

import pytest

from legato.runtime.log_throttle import LogThrottle, RepeatFilter


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_passes_once_per_interval_and_reports_what_it_muted() -> None:
    ticks = Ticks()
    throttle = LogThrottle(10.0, clock=ticks)
    assert throttle.allow("db") == 0
    assert [throttle.allow("db") for _ in range(5)] == [None] * 5
    assert throttle.allow("other") == 0  # keys are muted independently
    ticks.now += 9.9
    assert throttle.allow("db") is None
    ticks.now += 0.2
    assert throttle.allow("db") == 6
    assert "6 more like this in the last 10 s" in throttle.note(6)
    assert throttle.note(0) == ""


def test_repeat_filter_mutes_a_flood_of_the_same_error(caplog: pytest.LogCaptureFixture) -> None:
    ticks = Ticks()
    logger = logging.getLogger("legato.test.flood")
    repeat = RepeatFilter(30.0, clock=ticks)
    handler = caplog.handler
    handler.addFilter(repeat)
    try:
        caplog.set_level(logging.INFO, logger="legato.test.flood")
        for attempt in range(1200):
            try:
                raise ConnectionError(f"refused #{attempt}")
            except ConnectionError:
                logger.exception("claiming jobs failed")
        logger.info("an access log line")
        logger.info("an access log line")  # info lines are never muted
        logger.error("a different failure")
        ticks.now += 31
        try:
            raise ConnectionError("refused again")
        except ConnectionError:
            logger.exception("claiming jobs failed")
    finally:
        handler.removeFilter(repeat)
    messages = [r.getMessage() for r in caplog.records if r.name == "legato.test.flood"]
    assert messages == [
        "claiming jobs failed",
        "an access log line",
        "an access log line",
        "a different failure",
        "claiming jobs failed (1199 more like this in the last 30 s were not logged)",
    ]
