"""What a user task's attributes may hold, checked at deploy and read when the task opens.

A user task names its people (assignee, candidate users and groups), its schedule (due and
follow-up dates), its priority and its texts (name, description). Each may be fixed in the
model or an expression (`${...}` in Camunda 7 models, `=...` in Camunda 8 and ours),
evaluated when the task opens. A fixed value is checked here at deploy, so a due date
that does not parse is a model error with the element named, not a failed task later.

Dates follow Camunda: an ISO 8601 date-time (`2026-12-24T12:00:00Z`; one without an offset
is UTC) or, as Legato adds, an ISO 8601 duration counted from the task's creation (`P3D`,
`PT4H`), which is what most models mean by "due in three days".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

from legato.model.timers import TimerInvalid, parse_timer

DEFAULT_PRIORITY: Final = 50
"""Camunda 7's and Camunda 8's default task priority; a task without one gets it."""

MIN_PRIORITY: Final = 0
MAX_PRIORITY: Final = 1_000_000
"""Camunda 8 keeps priorities in 0..100, Camunda 7 takes any integer; we take 0..10^6."""


def is_expression(text: str) -> bool:
    """Whether a user task attribute is an expression rather than a fixed value."""
    return text.startswith("=") or "${" in text or "#{" in text


def task_date(text: str, opened: datetime) -> datetime:
    """The moment a due or follow-up date `text` names, for a task opened at `opened`.

    Raises `TimerInvalid` (a 400 with the text) for text that is neither a date-time
    nor a duration.
    """
    stripped = text.strip()
    kind = "duration" if stripped[:1] in ("P", "p") else "date"
    due = parse_timer(kind, stripped.upper() if kind == "duration" else stripped).first_due(opened)
    assert due is not None  # a duration or a date always has a first occurrence
    return due


def check_task_date(text: str) -> str | None:
    """The problem with a fixed due or follow-up date, or None when it parses."""
    from datetime import UTC

    try:
        task_date(text, datetime(2000, 1, 1, tzinfo=UTC))
    except TimerInvalid as exc:
        return f"{exc.message}; give an ISO 8601 date-time (2026-12-24T12:00:00Z) or a duration (P3D)"
    return None


def check_priority(value: object) -> str | None:
    """The problem with a fixed priority (a whole number, or its text), or None."""
    number = priority_value(value)
    if number is None:
        return f"priority {value!r} is not a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}"
    return None


def priority_value(value: object) -> int | None:
    """A priority as an int in range, from an int or its decimal text; None if it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or len(text) > 10:
            return None
        value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not MIN_PRIORITY <= value <= MAX_PRIORITY:
        return None
    return value


Add = Callable[[str, str], None]
"""Reports one problem: (the attribute, what is wrong)."""


def check_user_task(
    *,
    assignee: str | None,
    candidate_users: tuple[str, ...],
    candidate_groups: tuple[str, ...],
    due_date: str | None,
    follow_up_date: str | None,
    priority: int | str | None,
    check_expression: Callable[[str, str], None],
    add: Add,
) -> None:
    """Check the fixed values of a user task's attributes and hand its expressions on.

    `check_expression(attribute, text)` compiles an expression (the validator's own check,
    which knows the dialects); `add(attribute, problem)` reports a fixed value that is wrong.
    """
    for attribute, texts in (
        ("assignee", (assignee,) if assignee is not None else ()),
        ("candidate users", candidate_users),
        ("candidate groups", candidate_groups),
    ):
        for text in texts:
            if not isinstance(text, str):
                add(attribute, "must be text")
            elif is_expression(text):
                check_expression(attribute, text)
            elif not text.strip():
                add(attribute, "must not be empty")
    for attribute, date in (("due date", due_date), ("follow-up date", follow_up_date)):
        if date is None:
            continue
        if not isinstance(date, str):
            add(attribute, "must be ISO 8601 text or an expression")
        elif is_expression(date):
            check_expression(attribute, date)
        else:
            problem = check_task_date(date)
            if problem is not None:
                add(attribute, problem)
    if priority is not None:
        if isinstance(priority, str) and is_expression(priority):
            check_expression("priority", priority)
        else:
            problem = check_priority(priority)
            if problem is not None:
                add("priority", problem)
