"""Quartz cron cycles (model/cron.py): the next firing as Camunda 7 computes it, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from legato.model.cron import CronCycle, day_names, looks_like_cron
from legato.model.timers import parse_timer

NOW = datetime(2026, 12, 3, 13, 31, 17, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("0 0/5 * * * ?", datetime(2026, 12, 3, 13, 35, tzinfo=UTC), datetime(2026, 12, 3, 13, 40, tzinfo=UTC)),
        ("*/30 * * * * ?", datetime(2026, 12, 3, 13, 31, 30, tzinfo=UTC), datetime(2026, 12, 3, 13, 32, tzinfo=UTC)),
        ("0 0 9 ? * MON-FRI", datetime(2026, 12, 4, 9, tzinfo=UTC), datetime(2026, 12, 7, 9, tzinfo=UTC)),
        ("0 0 12 ? * 2-6", datetime(2026, 12, 4, 12, tzinfo=UTC), datetime(2026, 12, 7, 12, tzinfo=UTC)),  # Mon-Fri
        ("0 0 12 ? * 1", datetime(2026, 12, 6, 12, tzinfo=UTC), datetime(2026, 12, 13, 12, tzinfo=UTC)),  # Sunday
        ("0 0 12 ? * 6L", datetime(2026, 12, 25, 12, tzinfo=UTC), datetime(2027, 1, 29, 12, tzinfo=UTC)),
        ("0 0 12 ? * FRIL", datetime(2026, 12, 25, 12, tzinfo=UTC), datetime(2027, 1, 29, 12, tzinfo=UTC)),
        ("0 0 12 ? * 6#3", datetime(2026, 12, 18, 12, tzinfo=UTC), datetime(2027, 1, 15, 12, tzinfo=UTC)),
        ("0 0 12 L * ?", datetime(2026, 12, 31, 12, tzinfo=UTC), datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("0 0 12 19W * ?", datetime(2026, 12, 18, 12, tzinfo=UTC), datetime(2027, 1, 19, 12, tzinfo=UTC)),
        ("0 15 10 ? * * 2027", datetime(2027, 1, 1, 10, 15, tzinfo=UTC), datetime(2027, 1, 2, 10, 15, tzinfo=UTC)),
        ("0 0 6 * * MON", datetime(2026, 12, 7, 6, tzinfo=UTC), datetime(2026, 12, 14, 6, tzinfo=UTC)),
    ],
)
def test_the_next_firings_are_quartzs(text: str, first: datetime, second: datetime) -> None:
    cycle = CronCycle(text)
    assert cycle.after(NOW) == first
    assert cycle.after(first) == second
    spec = parse_timer("cycle", text)
    assert spec.first_due(NOW) == first
    assert spec.next_due(first, fired=1) == second
    assert spec.next_due(second, fired=500) is not None  # a cron cycle repeats without end


def test_a_year_that_has_passed_never_fires_again() -> None:
    assert CronCycle("0 0 12 1 1 ? 2027").after(datetime(2027, 1, 1, 12, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("text", "spring", "named"),
    [
        ("0 0 12 ? * 2-6", False, "0 0 12 ? * MON-FRI"),
        ("0 0 12 ? * 1,7", False, "0 0 12 ? * SUN,SAT"),
        ("0 0 12 ? * 6L", False, "0 0 12 ? * FRIL"),
        ("0 0 12 ? * 6#3", False, "0 0 12 ? * FRI#3"),
        ("0 0 6 * * 1-5", True, "0 0 6 * * MON-FRI"),
        ("0 0 6 * * 0,7", True, "0 0 6 * * SUN,SUN"),
        ("0 0 6 * * 5#2", True, "0 0 6 * * FRI#2"),
        ("0 0 6 ? * 1/2", False, "0 0 6 ? * 1/2"),  # a step is left as it is
        ("R/PT1H", False, "R/PT1H"),
    ],
)
def test_day_numbers_become_names_in_the_files_dialect(text: str, spring: bool, named: str) -> None:
    assert day_names(text, spring=spring) == named
    if looks_like_cron(text) and "/" not in text:
        quartz = text if not spring else named
        assert CronCycle(named).after(NOW) == CronCycle(quartz).after(NOW)
