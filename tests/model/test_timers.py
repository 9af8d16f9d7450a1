from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from legato.errors import InvalidInput
from legato.model import timers
from legato.model.timers import TimerInvalid, TimerSpec, parse_timer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def schedule(spec: TimerSpec, now: datetime, limit: int = 10) -> list[datetime]:
    """Every due time, firing each one as it comes (at most `limit`)."""
    due = spec.first_due(now)
    fired: list[datetime] = []
    while due is not None and len(fired) < limit:
        fired.append(due)
        due = spec.next_due(due, len(fired))
    return fired


# durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT30S", NOW + timedelta(seconds=30)),
        ("P1DT2H", NOW + timedelta(days=1, hours=2)),
        ("P2W", NOW + timedelta(days=14)),
        ("PT0.5S", NOW + timedelta(milliseconds=500)),
        ("PT1H30M", NOW + timedelta(minutes=90)),
        ("P1M", at("2026-12-30T12:00:00Z")),
        ("P1Y", at("2027-11-30T12:00:00Z")),
        ("P100Y", at("2126-11-30T12:00:00Z")),
        ("PT0S", NOW),
    ],
)
def test_duration_is_due_that_long_after_now(text: str, expected: datetime) -> None:
    assert parse_timer("duration", text).first_due(NOW) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-01-31T09:00:00Z", "2026-02-28T09:00:00Z"),
        ("2024-01-31T09:00:00Z", "2024-02-29T09:00:00Z"),
        ("2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z"),
        ("2026-12-31T09:00:00Z", "2027-01-31T09:00:00Z"),
    ],
)
def test_a_calendar_month_ends_at_the_end_of_a_shorter_month(now: str, expected: str) -> None:
    assert parse_timer("duration", "P1M").first_due(at(now)) == at(expected)


def test_a_calendar_year_from_february_29_ends_on_february_28() -> None:
    due = parse_timer("duration", "P1Y").first_due(at("2024-02-29T00:00:00Z"))
    assert due == at("2025-02-28T00:00:00Z")


def test_now_in_any_offset_gives_a_due_time_in_utc() -> None:
    now = datetime(2026, 11, 30, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    due = parse_timer("duration", "PT30S").first_due(now)
    assert due == NOW + timedelta(seconds=30)
    assert due is not None and due.tzinfo is UTC


def test_only_cycles_have_a_next_due() -> None:
    assert parse_timer("duration", "PT30S").next_due(NOW, 1) is None
    assert parse_timer("date", "2026-12-01").next_due(NOW, 1) is None


# dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00+00:00"),
        ("2026-12-01T10:00:00+02:00", "2026-12-01T08:00:00+00:00"),
        ("2026-12-01T10:00:00-05:30", "2026-12-01T15:30:00+00:00"),
        ("2026-12-01T10:00:00", "2026-12-01T10:00:00+00:00"),
        ("2026-12-01T10:00", "2026-12-01T10:00:00+00:00"),
        ("2026-12-01T10:00:00.250Z", "2026-12-01T10:00:00.250000+00:00"),
        ("20261201T100000Z", "2026-12-01T10:00:00+00:00"),
        ("2026-12-01", "2026-12-01T00:00:00+00:00"),
        ("2026-12-01T00:30:00+01:00", "2026-11-30T23:30:00+00:00"),
    ],
)
def test_date_is_due_at_that_instant_in_utc(text: str, expected: str) -> None:
    due = parse_timer("date", text).first_due(NOW)
    assert due is not None
    assert due.isoformat() == expected
    assert due.tzinfo is UTC


def test_a_date_in_the_past_is_already_due() -> None:
    assert parse_timer("date", "2020-01-01T00:00:00Z").first_due(NOW) == at("2020-01-01T00:00Z")


def test_surrounding_whitespace_is_ignored() -> None:
    spec = parse_timer("date", "\n    2026-12-01T10:00:00Z\n  ")
    assert spec == TimerSpec(kind="date", text="2026-12-01T10:00:00Z")
    assert hash(spec) == hash(TimerSpec(kind="date", text="2026-12-01T10:00:00Z"))


# cycles


def test_bounded_cycle_fires_n_times_one_period_apart() -> None:
    fired = schedule(parse_timer("cycle", "R5/PT10M"), NOW)
    assert fired == [NOW + timedelta(minutes=10 * k) for k in range(1, 6)]


def test_unbounded_cycle_keeps_going() -> None:
    spec = parse_timer("cycle", "R/PT1H")
    assert schedule(spec, NOW, limit=3) == [NOW + timedelta(hours=k) for k in (1, 2, 3)]
    assert spec.next_due(NOW, 1_000_000) == NOW + timedelta(hours=1)


def test_zero_repetitions_never_fire() -> None:
    assert parse_timer("cycle", "R0/PT1H").first_due(NOW) is None
    assert parse_timer("cycle", "R0/2026-12-01T10:00:00Z/PT1H").first_due(NOW) is None


def test_next_due_is_none_once_the_repetitions_are_used_up() -> None:
    spec = parse_timer("cycle", "R3/PT1H")
    assert spec.next_due(NOW, 2) == NOW + timedelta(hours=1)
    assert spec.next_due(NOW, 3) is None


def test_cycle_with_a_future_start_fires_at_the_start_then_each_period() -> None:
    fired = schedule(parse_timer("cycle", "R3/2026-12-01T10:00:00Z/PT1H"), NOW)
    assert fired == [at("2026-12-01T10:00Z"), at("2026-12-01T11:00Z"), at("2026-12-01T12:00Z")]


def test_cycle_with_a_past_start_skips_the_backlog() -> None:
    spec = parse_timer("cycle", "R/2026-11-30T09:20:00Z/PT1H")
    assert schedule(spec, NOW, limit=2) == [at("2026-11-30T12:20Z"), at("2026-11-30T13:20Z")]


def test_an_occurrence_exactly_at_now_is_due_now() -> None:
    spec = parse_timer("cycle", "R/2026-11-30T10:00:00Z/PT1H")
    assert spec.first_due(NOW) == NOW
    assert spec.next_due(NOW, 1) == NOW + timedelta(hours=1)


def test_skipped_occurrences_count_towards_the_repetitions() -> None:
    # 10:00 and 11:00 are gone; only 12:00 remains of the three.
    assert schedule(parse_timer("cycle", "R3/2026-11-30T10:00:00Z/PT1H"), NOW) == [NOW]
    assert parse_timer("cycle", "R3/2026-11-30T08:00:00Z/PT1H").first_due(NOW) is None


def test_cycle_with_a_start_keeps_to_month_ends() -> None:
    fired = schedule(parse_timer("cycle", "R4/2027-01-31T09:00:00Z/P1M"), NOW)
    assert fired == [at(f"2027-{day}T09:00Z") for day in ("01-31", "02-28", "03-31", "04-30")]


def test_cycle_with_a_start_counts_months_in_the_start_offset() -> None:
    # 23:30 at -05:00 on the last of each month is 04:30 UTC on the first of the next.
    spec = parse_timer("cycle", "R3/2027-01-31T23:30:00-05:00/P1M")
    assert schedule(spec, NOW) == [
        at("2027-02-01T04:30Z"),
        at("2027-03-01T04:30Z"),
        at("2027-04-01T04:30Z"),
    ]


def test_cycle_with_a_start_long_ago_finds_the_next_occurrence_quickly() -> None:
    started = time.perf_counter()
    seconds = parse_timer("cycle", "R/2000-01-01T00:00:00Z/PT1S").first_due(NOW)
    months = parse_timer("cycle", "R/0001-01-31T00:00:00Z/P1M").first_due(NOW)
    assert seconds == NOW
    assert months == at("2026-12-31T00:00Z")
    # A hang guard, not a speed assertion: stepping second by second from 2000 would take
    # minutes, so a generous bound still tells the search from the naive loop under CI load.
    assert time.perf_counter() - started < 10


def test_cycle_without_a_start_adds_each_month_to_the_one_before() -> None:
    spec = parse_timer("cycle", "R3/P1M")
    fired = schedule(spec, at("2026-12-31T09:00:00Z"))
    assert fired == [at("2027-01-31T09:00Z"), at("2027-02-28T09:00Z"), at("2027-03-28T09:00Z")]


def test_cycle_with_an_end_stops_there() -> None:
    spec = parse_timer("cycle", "R/PT1H/2026-11-30T15:00:00Z")
    assert schedule(spec, NOW) == [NOW + timedelta(hours=k) for k in (1, 2, 3)]
    assert parse_timer("cycle", "R2/PT1H/2026-11-30T15:00:00Z").first_due(NOW) is not None
    assert schedule(parse_timer("cycle", "R2/PT1H/2026-11-30T15:00:00Z"), NOW) == [
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=2),
    ]


def test_cycle_whose_end_has_passed_never_fires() -> None:
    assert parse_timer("cycle", "R/PT1H/2026-11-30T12:30:00Z").first_due(NOW) is None


def test_a_due_time_past_year_9999_never_comes() -> None:
    late = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert parse_timer("cycle", "R/PT1H").next_due(late, 1) is None
    assert parse_timer("duration", "P1D").first_due(late) is None
    assert parse_timer("cycle", "R/9999-12-31T00:00:00Z/P1D").first_due(late) is None


# programming errors


def test_a_naive_now_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="now must be timezone-aware"):
        parse_timer("duration", "PT30S").first_due(datetime(2026, 11, 30, 12, 0))
    with pytest.raises(TypeError, match="previous_due must be timezone-aware"):
        parse_timer("cycle", "R/PT1H").next_due(datetime(2026, 11, 30, 12, 0), 1)


def test_fired_counts_the_firing_at_previous_due() -> None:
    with pytest.raises(ValueError, match="fired must be at least 1"):
        parse_timer("cycle", "R/PT1H").next_due(NOW, 0)


# rejections


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("duration", "", "the timer is empty; expected ISO 8601 text such as PT30S"),
        ("date", "   ", "the timer is empty"),
        ("duration", "garbage", "'garbage' is not an ISO 8601 duration such as PT30S"),
        ("duration", "P", "'P' is not an ISO 8601 duration"),
        ("duration", "-PT5S", "'-PT5S' is negative"),
        ("duration", "-P1M", "'-P1M' is negative"),
        ("duration", "P101Y", "'P101Y' is longer than the limit of 100 years"),
        ("duration", "P36526D", "longer than the limit of 100 years"),
        ("duration", "P99999999Y", "longer than the limit of 100 years"),
        ("duration", "PT99999999999999999999S", "longer than the limit of 100 years"),
        ("duration", "P1.5M", "has a fraction of a month or year; use days instead"),
        ("duration", "P0.5Y", "has a fraction of a month or year"),
        ("duration", "2026-12-01T10:00:00Z", "looks like a date, not a duration"),
        ("duration", "R5/PT10M", "looks like a cycle, not a duration"),
        ("date", "PT1H", "looks like a duration, not a date: write it as timer kind 'duration'"),
        ("date", "R/PT1H", "looks like a cycle, not a date"),
        ("cycle", "PT1H", "looks like a duration, not a cycle"),
        ("cycle", "2026-12-01", "looks like a date, not a cycle"),
        ("date", "tomorrow", "'tomorrow' is not an ISO 8601 date such as 2026-12-01T10:00:00Z"),
        ("date", "2026", "not an ISO 8601 date"),
        ("date", "2026-12", "not an ISO 8601 date"),
        ("date", "2026-13-01", "not a valid date: month must be in 1..12"),
        ("date", "2026-02-30T10:00:00Z", "not a valid date"),
        ("date", "2026-12-01T25:00:00Z", "not a valid date"),
        ("date", "99999-01-01T00:00:00Z", "not an ISO 8601 date"),
        ("date", "9999-12-31T23:00:00-05:00", "not a valid date"),
        ("cycle", "0 0 * * *", "has 5 fields; a cron cycle has 6 or 7, seconds first"),
        ("cycle", "0 0 12 1 * 2", "gives both a day of the month and a day of the week"),
        ("cycle", "0 0 0 30 2 ?", "matches no date within 100 years"),
        ("cycle", "0 0 12 LW * ?", "LW' in the day-of-month field is not supported"),
        ("cycle", "0 0 12 ? * 9", "day of the week 9 is not 1 (Sunday) to 7 (Saturday)"),
        ("cycle", "Rx/PT1H", "a cycle starts with R or R<n> (n repetitions), not 'Rx'"),
        ("cycle", "R-1/PT1H", "a cycle starts with R or R<n>"),
        ("cycle", "R", "a cycle has the form R<n>/<period>"),
        ("cycle", "R/PT1H/PT2H", "a cycle has the form"),
        ("cycle", "R/2026-01-01T00:00:00Z/PT1H/2026-02-01T00:00:00Z", "a cycle has the form"),
        ("cycle", "R/2026-01-01/2026-01-02", "a cycle needs a period, not start and end"),
        ("cycle", "R/PT0S", "the period 'PT0S' is shorter than the minimum, PT1S"),
        ("cycle", "R/PT0.5S", "shorter than the minimum"),
        ("cycle", "R/-PT1H", "'-PT1H' is negative"),
        ("cycle", "R/P101Y", "longer than the limit of 100 years"),
        ("cycle", "R3/2026-13-01T00:00:00Z/PT1H", "not a valid date: month must be in 1..12"),
        ("cycle", "R/PT1H/yesterday", "'yesterday' is not an ISO 8601 date"),
        ("cycle", "R/" + "PT1H" * 50, "the timer is 202 characters long; the limit is 200"),
        ("timeCycle", "R/PT1H", "unknown timer kind 'timeCycle'; expected one of duration, date"),
    ],
)
def test_invalid_timers_are_rejected_with_the_reason(kind: str, text: str, message: str) -> None:
    with pytest.raises(TimerInvalid) as raised:
        parse_timer(kind, text)
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"{kind} timer ")


def test_timer_invalid_is_a_value_error_with_a_stable_code() -> None:
    with pytest.raises(TimerInvalid) as raised:
        parse_timer("duration", "-PT5S")
    error = raised.value
    assert isinstance(error, ValueError)
    assert isinstance(error, InvalidInput)
    assert error.code == "TIMER_INVALID"
    problem = error.to_problem()
    assert problem["status"] == 400
    assert problem["kind"] == "duration"
    assert problem["timer"] == "-PT5S"
    assert problem["detail"] == "duration timer '-PT5S': '-PT5S' is negative; a timer cannot be due in the past"


def test_a_long_text_is_shortened_in_the_message() -> None:
    with pytest.raises(TimerInvalid) as raised:
        parse_timer("duration", "P" * 500)
    assert len(str(raised.value)) < 160


def test_text_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(TimerInvalid, match="must be ISO 8601 text, not int"):
        parse_timer("duration", 30)  # type: ignore[arg-type]


def test_the_constructor_validates_like_parse_timer() -> None:
    with pytest.raises(TimerInvalid, match="is negative"):
        TimerSpec(kind="duration", text="-PT1S")


# the clock


class _NoClock(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _NoClock:
        raise AssertionError("timers read the wall clock")

    @classmethod
    def utcnow(cls) -> _NoClock:
        raise AssertionError("timers read the wall clock")

    @classmethod
    def today(cls) -> _NoClock:
        raise AssertionError("timers read the wall clock")


def _no_time() -> float:
    raise AssertionError("timers read the wall clock")


def test_nothing_reads_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timers, "datetime", _NoClock)
    monkeypatch.setattr(time, "time", _no_time)
    # Instants far from today: any use of the real clock would change these answers.
    for now in (datetime(1990, 6, 1, tzinfo=UTC), datetime(2300, 6, 1, tzinfo=UTC)):
        assert parse_timer("duration", "P1D").first_due(now) == now + timedelta(days=1)
        assert parse_timer("date", "2026-12-01").first_due(now) == at("2026-12-01T00:00Z")
        unanchored = parse_timer("cycle", "R2/PT1H")
        assert schedule(unanchored, now) == [now + timedelta(hours=1), now + timedelta(hours=2)]
    anchored = parse_timer("cycle", "R/2000-01-01T00:00:00Z/P1D")
    assert anchored.first_due(datetime(1990, 6, 1, tzinfo=UTC)) == at("2000-01-01T00:00Z")
    assert anchored.first_due(datetime(2300, 6, 1, 1, tzinfo=UTC)) == at("2300-06-02T00:00Z")
